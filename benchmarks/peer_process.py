"""What every peer script measures about its own process, standard library only (each
peer runs in its own environment): CPU seconds, peak memory, and the timing of a warm
loop. Peer scripts run as files from this folder, so `import peer_process` finds it."""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable
from typing import Any


def cpu_s() -> float:
    """CPU seconds (user + system, all threads) of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_mb() -> float:
    """This process's peak resident memory (MiB). Linux's ru_maxrss survives fork and
    exec, so a child would report its parent's peak; VmHWM is the process's own."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def time_warm(
    call: Callable[[], Any], repeats: int, prepare: Callable[[], Any] | None = None
) -> dict:
    """`call()` once (compiling), then `repeats` times: `compile_s` (first minus the
    median warm call), `run_s` and `cpu_s` (medians), `runs`, and the last `result`.
    `call` blocks until its result is ready; `prepare()`, untimed, runs before each call
    (e.g. resetting the network to its initial state)."""

    def timed():
        if prepare is not None:
            prepare()
        t0, c0 = time.perf_counter(), cpu_s()
        result = call()
        return time.perf_counter() - t0, cpu_s() - c0, result

    first, _, result = timed()
    runs, cpus = [], []
    for _ in range(max(repeats, 1)):
        wall, cpu, result = timed()
        runs.append(wall)
        cpus.append(cpu)
    run_s = statistics.median(runs)
    return {
        "compile_s": first - run_s,
        "run_s": run_s,
        "cpu_s": statistics.median(cpus),
        "runs": runs,
        "result": result,
    }


def step_timing(times: list[float], rates: list[float], repeats: int) -> dict:
    """A training run's timing fields (T1): `times` and `rates` per training step, the
    first two steps being compilation and warm-up; medians over the next `repeats`."""
    timed = times[2 : 2 + repeats]
    return {
        "run_s": statistics.median(timed),
        "first_s": times[0],
        "warm_s": times[1],
        "repeats": len(timed),
        "rate_hz": sum(rates[2 : 2 + repeats]) / len(timed),
        "peak_mem_mb": peak_mb(),
    }

"""Progress bars and run reports for long work, without breaking `jit`.

A simulation is one compiled `lax.scan`, so Python cannot look at it while it runs.
`simulate(progress=True)` splits its scan into about a hundred chunks and calls back to
the host between them (`jax.debug.callback`, which works under `jit` and `vmap`); the
callback moves a tqdm bar: steps done, simulated ms, speed as a multiple of real time,
time left. `simulate(report=True)` prints (or hands to a function) a `RunReport`: compile
time, run time and real-time factor, measured apart through JAX's compile events.

Progress is off by default in the library and on in the command line.
"""

from __future__ import annotations

import dataclasses
import itertools
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import jax
import numpy as np

_COMPILE_EVENTS = (
    "/jax/core/compile/jaxpr_trace_duration",
    "/jax/core/compile/jaxpr_to_mlir_module_duration",
    "/jax/core/compile/backend_compile_duration",
)


@dataclasses.dataclass(frozen=True)
class RunReport:
    """How long a run took, compile and run apart.

    Attributes:
        compile_s: seconds spent tracing, lowering and compiling (0 when cached).
        run_s: seconds spent running the compiled program (wall time minus compile time).
        simulated_ms: simulated time per trial (ms).
        n_steps: simulation steps per trial.
        n_trials: trials run side by side (a vmapped batch).
    """

    compile_s: float
    run_s: float
    simulated_ms: float
    n_steps: int
    n_trials: int = 1

    @property
    def real_time_factor(self) -> float:
        """Simulated time of all trials over run time: > 1 is faster than real time."""
        return self.n_trials * self.simulated_ms * 1e-3 / max(self.run_s, 1e-12)

    def __str__(self) -> str:
        trials = f" x {self.n_trials} trials" if self.n_trials > 1 else ""
        return (
            f"compiled in {self.compile_s:.2f} s; simulated {self.simulated_ms:g} ms"
            f"{trials} ({self.n_steps} steps) in {self.run_s:.3f} s: "
            f"{self.real_time_factor:.3g}x real time"
        )


@contextmanager
def compile_timer() -> Iterator[list[float]]:
    """Measure JAX compile time inside the block: yields a one-element list holding the
    seconds spent tracing, lowering and compiling so far (it grows as compiles happen)."""
    total = [0.0]

    def listen(event: str, duration: float, **_: Any) -> None:
        if event in _COMPILE_EVENTS:
            total[0] += duration

    jax.monitoring.register_event_duration_secs_listener(listen)
    try:
        yield total
    finally:
        jax.monitoring.unregister_event_duration_listener(listen)


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """Call `fn()` and wait for its arrays: returns (result, compile_s, run_s)."""
    with compile_timer() as compile_s:
        start = time.perf_counter()
        out = jax.block_until_ready(fn())
        wall = time.perf_counter() - start
    return out, compile_s[0], max(wall - compile_s[0], 0.0)


def show_report(report: RunReport, to: bool | Callable[[RunReport], Any]) -> None:
    """Print `report` on stderr (`to=True`) or hand it to the function `to`."""
    if callable(to):
        to(report)
    elif to:
        print(f"jaxsnn: {report}", file=sys.stderr)


def bar(total: float, *, desc: str, unit: str, **kwargs: Any):
    """A tqdm progress bar on stderr (text, also in notebooks: tqdm's widgets would need
    ipywidgets)."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, dynamic_ncols=True, **kwargs)


# Host side of the simulation callbacks. Each compiled simulation gets a token at trace
# time; its bar opens on the first callback of a run and closes on the last, so a program
# compiled once (even inside a user's jit) shows a fresh bar on every call.
_bars: dict[int, Any] = {}
_lock = threading.Lock()
_tokens = itertools.count()


def new_token() -> int:
    return next(_tokens)


def tick(token: int, done: Any, probe: np.ndarray, n_steps: int, dt_ms: float) -> np.ndarray:
    """Callback from a running simulation: `done` of `n_steps` steps are finished in each
    of the trials counted by the leading axes of `probe` (shape (*batch, 1))."""
    done = int(np.max(done))
    trials = int(np.prod(np.shape(probe)[:-1]))
    with _lock:
        progress = _bars.get(token)
        if progress is None and done >= n_steps:
            # the end of a run whose last chunk already closed its bar (or a run too
            # short for a bar): nothing to show
            return np.zeros(np.shape(probe)[:-1], np.int32)
        if progress is None:
            progress = _bars[token] = _SimulationBar(n_steps, dt_ms, trials)
        progress.update(done)
        if done >= n_steps:
            progress.close()
            del _bars[token]
    return np.zeros(np.shape(probe)[:-1], np.int32)


class _SimulationBar:
    """Steps done and simulated ms, with speed shown as a multiple of real time."""

    def __init__(self, n_steps: int, dt_ms: float, trials: int = 1):
        self.dt_ms = dt_ms
        self.trials = trials
        self.start = time.perf_counter()
        self.first = None
        self.bar = bar(
            n_steps * dt_ms,
            desc="simulating" if trials == 1 else f"simulating {trials} trials",
            unit="ms",
            leave=False,
            bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f} ms "
            "[{elapsed}<{remaining}{postfix}]",
        )

    def update(self, done: int) -> None:
        now = time.perf_counter()
        if self.first is None:  # the first chunk's time includes warm-up; rate from here
            self.first = (done, now)
        steps0, t0 = self.first
        if now > t0 and done > steps0:
            speed = self.trials * (done - steps0) * self.dt_ms * 1e-3 / (now - t0)
            self.bar.set_postfix_str(f"{speed:.3g}x real time", refresh=False)
        self.bar.update(done * self.dt_ms - self.bar.n)

    def close(self) -> None:
        self.bar.close()

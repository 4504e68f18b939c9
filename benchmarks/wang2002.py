"""Wang (2002) decision network: trials per second and real-time factor, against Brian2.

    python benchmarks/wang2002.py            # the full measurement (~10-20 min on 2 cores)
    python benchmarks/wang2002.py --quick    # a check that everything runs (~5 min)
    python benchmarks/wang2002.py --no-brian2

Measured in one run, on this machine, each number a median of warm repeats with the
compile time reported apart (`jax.block_until_ready` before the clock stops):

1. jaxsnn, the full network (1600 E + 400 I, `jaxsnn.models.build_wang2002`), one trial
   of `--trial-ms` (500 ms spontaneous + stimulus at c = 25.6 %), and a vmapped batch of
   `--batch` trials in one call: trials per second and real-time factor (simulated time
   of all trials over wall time);
2. the same network with every pooled projection replaced by its dense all-to-all
   equivalent (`Dense()` on (n_pre, n_post) weight matrices, 7.2 M weights): the
   speed gain of the O(N) pool sum (`jaxsnn.pooled`) over the O(N²) product, per step,
   one trial of `--dense-ms`;
3. Brian2 2.9 running its own example `examples/frompapers/Wang_2002.py` (adapted to N
   trials: benchmarks/brian2_wang2002.py) in C++ standalone mode with one thread, with
   the Brian2 environment's Python (`--brian2-python`, default
   benchmarks/.venvs/brian2/bin/python; skipped if missing): build time apart, the
   median wall time of re-running the built binary per trial (which includes starting
   the process, so it slightly overstates Brian2's simulation time).

Prints a table and writes benchmarks/results/wang2002.md (atomically) with the commit,
device, JAX and Brian2 versions. For the final numbers run it on a quiet machine: the
jaxsnn step is dominated by drawing one Poisson count per neuron and step (2000 uniform
numbers per trial-step), so it is sensitive to other load on the cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import jax.random as jr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jaxsnn as snn  # noqa: E402
from jaxsnn.io import atomic_write  # noqa: E402
from jaxsnn.layout import DenseLayout  # noqa: E402
from jaxsnn.models.wang2002 import (  # noqa: E402
    Wang2002Protocol,
    build_wang2002,
    wang2002_inputs,
    wang2002_state,
)
from jaxsnn.projection import Projection  # noqa: E402
from jaxsnn.propagation import Dense  # noqa: E402

COHERENCE = 25.6


def dense_equivalent(net: snn.Network) -> snn.Network:
    """Every pooled projection as its dense all-to-all equivalent."""
    projections = [
        Projection(
            p.pre,
            p.post,
            p.synapse,
            jnp.broadcast_to(p.weights.reshape(()), (p.n_pre, p.n_post)),
            DenseLayout(p.n_pre, p.n_post),
            Dense(),
            p.sign,
            p.delay_ms,
        )
        for p in net.projections
    ]
    return snn.Network(net.populations, projections, net.inputs)


def trial_fn(net: snn.Network, protocol: Wang2002Protocol):
    record = snn.Record(rates=("A", "B"), every=protocol.record_every)

    def trial(key):
        k_state, k_sim, k_stim = jr.split(key, 3)
        state = wang2002_state(net, k_state, dt_ms=protocol.dt_ms)
        _, rec = snn.simulate(
            net, state, protocol.n_steps, dt_ms=protocol.dt_ms, key=k_sim,
            inputs=wang2002_inputs(k_stim, COHERENCE, protocol), record=record,
        )  # fmt: skip
        return jnp.stack([rec.rates_hz["A"], rec.rates_hz["B"]], -1)

    return trial


def timed(fn, args_list, repeats: int) -> tuple[float, float]:
    """(compile_s, median run_s): the first call compiles, the next `repeats` are timed."""
    t0 = time.perf_counter()
    jax.block_until_ready(fn(args_list[0]))
    first = time.perf_counter() - t0
    runs = []
    for i in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(args_list[(i + 1) % len(args_list)]))
        runs.append(time.perf_counter() - t0)
    run = statistics.median(runs)
    return max(first - run, 0.0), run


def measure_jaxsnn(trial_ms: float, batch: int, repeats: int) -> dict:
    net = build_wang2002()
    onset = min(500.0, trial_ms / 2)
    protocol = Wang2002Protocol(onset_ms=onset, stimulus_ms=trial_ms - onset)
    trial = trial_fn(net, protocol)
    one = jax.jit(trial)
    keys = [jr.key(i) for i in range(repeats + 1)]
    c1, r1 = timed(one, keys, repeats)
    many = jax.jit(jax.vmap(trial))
    batches = [jr.split(jr.key(100 + i), batch) for i in range(repeats + 1)]
    cb, rb = timed(many, batches, repeats)
    s = trial_ms * 1e-3
    return {
        "trial_ms": trial_ms,
        "single": {"compile_s": c1, "run_s": r1, "trials_per_s": 1 / r1, "rtf": s / r1},
        "batch": {
            "size": batch,
            "compile_s": cb,
            "run_s": rb,
            "trials_per_s": batch / rb,
            "rtf": batch * s / rb,
        },
    }


def measure_dense(dense_ms: float, repeats: int) -> dict:
    net = build_wang2002()
    protocol = Wang2002Protocol(onset_ms=dense_ms / 2, stimulus_ms=dense_ms / 2)
    out = {}
    for name, network in (("pooled", net), ("dense", dense_equivalent(net))):
        fn = jax.jit(trial_fn(network, protocol))
        keys = [jr.key(i) for i in range(repeats + 1)]
        compile_s, run_s = timed(fn, keys, repeats)
        out[name] = {"compile_s": compile_s, "us_per_step": run_s / protocol.n_steps * 1e6}
    out["speedup"] = out["dense"]["us_per_step"] / out["pooled"]["us_per_step"]
    out["ms"] = dense_ms
    return out


def measure_brian2(python: str, trials: int, trial_ms: float) -> dict | None:
    if not Path(python).exists():
        return None
    onset = min(500.0, trial_ms / 2)
    cmd = [
        python, str(ROOT / "benchmarks" / "brian2_wang2002.py"), str(trials), str(trial_ms),
        "--onset-ms", str(onset), "--coherence", str(COHERENCE),
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr else "failed"}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    s = trial_ms * 1e-3
    result["trials_per_s"] = 1 / result["run_s"]
    result["rtf"] = s / result["run_s"]
    return result


def commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def report(res: dict, args) -> str:
    j, d, b = res["jaxsnn"], res["dense"], res["brian2"]
    lines = [
        "# Wang (2002) decision network: speed",
        "",
        f"Command: `python benchmarks/wang2002.py{' --quick' if args.quick else ''}`; "
        f"commit {res['commit']}, {res['device']}, JAX {jax.__version__}, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {res['date']}.",
        "",
        f"Full network (1600 E + 400 I, all-to-all, pooled projections), dt = 0.1 ms, trials "
        f"of {j['trial_ms']:g} ms at c = {COHERENCE} %.",
        "",
        "| tool | trials in one call | compile / build (s) | s per trial | trials/s | "
        "real-time factor |",
        "|---|---|---|---|---|---|",
    ]
    for label, m in (("jaxsnn, one trial", j["single"]), ("jaxsnn, vmapped batch", j["batch"])):
        n = m.get("size", 1)
        lines.append(
            f"| {label} | {n} | {m['compile_s']:.1f} | {m['run_s'] / n:.3f} | "
            f"{m['trials_per_s']:.3g} | {m['rtf']:.3g} |"
        )
    if b is None:
        lines.append("| Brian2 2.9 C++ standalone | skipped (no Brian2 environment) | | | | |")
    elif "error" in b:
        lines.append(f"| Brian2 | failed: {b['error']} | | | | |")
    else:
        lines.append(
            f"| Brian2 {b['brian2']} C++ standalone, 1 thread | 1 (x{b['trials']}) | "
            f"{b['build_s']:.1f} | {b['run_s']:.3f} | {b['trials_per_s']:.3g} | "
            f"{b['rtf']:.3g} |"
        )
        lines.append("")
        lines.append(
            f"jaxsnn batch vs Brian2: {j['batch']['trials_per_s'] / b['trials_per_s']:.2f}x the "
            f"trials per second; one jaxsnn trial vs Brian2: "
            f"{j['single']['trials_per_s'] / b['trials_per_s']:.2f}x."
        )
    lines += [
        "",
        f"Pooled (O(N)) vs dense (O(N²), 7.2 M weights) propagation, one trial of {d['ms']:g} ms: "
        f"{d['pooled']['us_per_step']:.0f} µs vs {d['dense']['us_per_step']:.0f} µs per step, "
        f"**{d['speedup']:.1f}x** faster pooled.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short trials, small batch")
    parser.add_argument("--trial-ms", type=float, default=None, help="trial length (2500 ms)")
    parser.add_argument("--batch", type=int, default=None, help="vmapped trials (32)")
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats (3)")
    parser.add_argument("--dense-ms", type=float, default=None, help="dense run length (100)")
    parser.add_argument("--brian2-trials", type=int, default=None, help="Brian2 trials (4)")
    parser.add_argument(
        "--brian2-python",
        default=os.environ.get(
            "JAXSNN_BRIAN2_PYTHON",
            str(ROOT / "benchmarks" / ".venvs" / "brian2" / "bin" / "python"),
        ),
    )
    parser.add_argument("--no-brian2", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "wang2002.md")
    args = parser.parse_args()
    q = args.quick
    trial_ms = args.trial_ms or (300.0 if q else 2500.0)
    batch = args.batch or (4 if q else 32)
    repeats = args.repeats or (1 if q else 3)
    dense_ms = args.dense_ms or (10.0 if q else 100.0)
    b2_trials = args.brian2_trials or (2 if q else 4)
    res = {
        "commit": commit(),
        "device": jax.devices()[0].device_kind,
        "date": time.strftime("%Y-%m-%d"),
    }
    print(f"jaxsnn: {trial_ms:g} ms trials, one and {batch} vmapped ...", flush=True)
    res["jaxsnn"] = measure_jaxsnn(trial_ms, batch, repeats)
    print(f"pooled vs dense, {dense_ms:g} ms ...", flush=True)
    res["dense"] = measure_dense(dense_ms, repeats)
    res["brian2"] = None
    if not args.no_brian2:
        print(f"Brian2: {b2_trials} trials of {trial_ms:g} ms (C++ build first) ...", flush=True)
        res["brian2"] = measure_brian2(args.brian2_python, b2_trials, trial_ms)
    text = report(res, args)
    print(text)
    atomic_write(args.out, lambda f: f.write(text.encode()))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

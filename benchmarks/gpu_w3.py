"""W3 at GPU scale: the COBA network of W2 (fixed in-degree 80) at 1, 2 and 4 million
neurons, one second of biological time (10 000 steps of 0.1 ms), on one GPU.

Run by `bash benchmarks/gpu.sh`, which installs JAX's CUDA build into a git-ignored
environment first. Writes `benchmarks/results/gpu_w3.json` and `gpu_w3.md` every time:
with a GPU, one record per size (build, compile and run seconds, rate, peak GPU memory);
without one, a record that says "not measured" and why, so the results folder always
states what is known.

Per size: `build_s` is the network's construction (connectivity drawn on the device),
`compile_s` the first call minus a warm one, `run_s` the median of the warm calls,
`peak_gpu_mb` the device's peak bytes in use (`Device.memory_stats`), and
`run_s_per_bio_s` the wall seconds per simulated second.

Usage: `python benchmarks/gpu_w3.py [--sizes 1000000,2000000,4000000] [--steps 10000]
[--allow-cpu] [--not-measured REASON]`; `--allow-cpu` runs on whatever JAX has (a
smoke test of the script with small sizes on a machine without a GPU).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
DEFAULT_SIZES = (1_000_000, 2_000_000, 4_000_000)
DT_MS = 0.1


def _machine() -> dict:
    out = {"platform": platform.platform(), "python": platform.python_version()}
    try:
        import jax

        out["jax"] = jax.__version__
        out["device"] = jax.devices()[0].device_kind
        out["backend"] = jax.default_backend()
    except Exception as err:  # noqa: BLE001 - recorded, never fatal: the record says why
        out["jax_error"] = f"{type(err).__name__}: {err}"
    out["date"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    return out


def _peak_mb(device) -> float | None:
    stats = device.memory_stats() or {}
    peak = stats.get("peak_bytes_in_use")
    return None if peak is None else round(peak / 2**20, 1)


def measure(n: int, steps: int, repeats: int = 3) -> dict:
    """One size: build, compile and run W3's network of `n` neurons for `steps` steps."""
    import statistics

    import jax
    import jax.random as jr

    from jaxsnn import Record, simulate
    from jaxsnn.models import build_ei_coba, ei_coba_state

    t0 = time.perf_counter()
    network = build_ei_coba(jr.key(0), n, layout="sparse")
    state = jax.block_until_ready(ei_coba_state(network, jr.key(1)))
    build_s = time.perf_counter() - t0
    record = Record(counts=True)
    run = jax.jit(lambda st: simulate(network, st, steps, dt_ms=DT_MS, record=record)[1].counts)
    t0 = time.perf_counter()
    counts = jax.block_until_ready(run(state))
    first = time.perf_counter() - t0
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        counts = jax.block_until_ready(run(state))
        runs.append(time.perf_counter() - t0)
    run_s = statistics.median(runs)
    bio_s = steps * DT_MS * 1e-3
    total = sum(float(c.sum()) for c in counts.values())
    return {
        "workload": "W3",
        "tool": "jaxsnn",
        "mode": f"N={n}",
        "n_neurons": n,
        "n_synapses": sum(p.n_synapses for p in network.projections),
        "n_steps": steps,
        "build_s": round(build_s, 3),
        "compile_s": round(max(first - run_s, 0.0), 3),
        "run_s": round(run_s, 4),
        "run_s_per_bio_s": round(run_s / bio_s, 4),
        "rate_hz": round(total / (n * bio_s), 3),
        "peak_gpu_mb": _peak_mb(jax.devices()[0]),
        "repeats": repeats,
    }


def _table(result: dict) -> str:
    lines = ["# W3 on a GPU", "", f"Machine: `{json.dumps(result['machine'])}`", ""]
    if result.get("not_measured"):
        lines.append(f"**Not measured:** {result['not_measured']}")
        return "\n".join(lines) + "\n"
    lines += [
        "| N | synapses | build s | compile s | run s (1 s bio) | rate Hz | peak GPU MB |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in result["records"]:
        if "error" in r:
            lines.append(f"| {r['n_neurons']} | failed: {r['error']} | | | | | |")
            continue
        lines.append(
            f"| {r['n_neurons']} | {r['n_synapses']} | {r['build_s']} | {r['compile_s']} | "
            f"{r['run_s_per_bio_s']} | {r['rate_hz']} | {r['peak_gpu_mb']} |"
        )
    return "\n".join(lines) + "\n"


def _write_atomic(path: str, text: str) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(n) for n in DEFAULT_SIZES))
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--allow-cpu", action="store_true")
    parser.add_argument("--not-measured", metavar="REASON")
    parser.add_argument("--out", default=RESULTS, help="results folder")
    args = parser.parse_args(argv)
    result: dict = {"machine": _machine(), "records": []}
    reason = args.not_measured
    if reason is None and not args.allow_cpu and result["machine"].get("backend") != "gpu":
        reason = f"JAX found no GPU (backend {result['machine'].get('backend')!r})"
    if reason is not None:
        result["not_measured"] = reason
    else:
        for n in (int(x) for x in args.sizes.split(",")):
            try:
                rec = measure(n, args.steps)
            except Exception as err:  # noqa: BLE001 - e.g. out of GPU memory: recorded
                rec = {"workload": "W3", "n_neurons": n, "error": f"{type(err).__name__}: {err}"}
            print(json.dumps(rec), flush=True)
            result["records"].append(rec)
    os.makedirs(args.out, exist_ok=True)
    _write_atomic(os.path.join(args.out, "gpu_w3.json"), json.dumps(result, indent=1) + "\n")
    _write_atomic(os.path.join(args.out, "gpu_w3.md"), _table(result))
    print(_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What progress bars cost: the same runs with `progress=False` and `progress=True`.

    python benchmarks/progress_overhead.py [--repeats 7] [--out benchmarks/results/progress.md]

`simulate(progress=True)` cuts the scan into about 100 chunks and makes a host callback
between them; `evaluate(progress=True)` runs its trials in 10 vmapped calls instead of
one. Cases, each timed off and on in the same process, alternating (off, on, on, off,
...) so that slow phases of a shared machine hit both; median of the warm runs, compile
apart:

- W2: COBA, 4000 neurons, 10 000 steps of 0.1 ms (1 s), nothing recorded;
- W2 every=1: the same with per-step population rates recorded (one window per step,
  so a callback test on each step);
- W1 vmap64: the 1000-neuron decision network, 64 trials of 100 ms vmapped;
- evaluate: `jaxsnn.decision.evaluate` on 1000 trials (the CLI's Monte-Carlo step).

The bar writes to stderr; run with `2>/dev/null` to keep the terminal clean (drawing is
part of what is measured).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import jax
import jax.random as jr
import numpy as np
from run import machine_info

import jaxsnn as snn

DT_MS = 0.1


def _w2_case(every_step: bool):
    from jaxsnn.models import build_ei_coba, ei_coba_state

    network = build_ei_coba(jr.key(0), 4000)
    state = ei_coba_state(network, jr.key(1))
    record = snn.Record(rates=True) if every_step else snn.Record(counts=True)

    def make(progress):
        return jax.jit(
            lambda st: snn.simulate(
                network, st, 10_000, dt_ms=DT_MS, record=record, progress=progress
            )[1]
        )

    return {p: (lambda f=make(p): f(state)) for p in (False, True)}, 1.0


def _w1_case():
    from jaxsnn.models.decision_1k import build_decision_1k, pattern_rates_hz

    network = build_decision_1k(jr.key(0))
    state = snn.init_state(network)
    rates = pattern_rates_hz(np.arange(64) % 2)
    keys = jr.split(jr.key(1), 64)

    def make(progress):
        def trial(rate, key):
            return snn.simulate(
                network, state, 1000, dt_ms=DT_MS, key=key, inputs={"in": rate},
                record=snn.Record(counts=True), progress=progress,
            )[1].counts  # fmt: skip

        return jax.jit(jax.vmap(trial))

    return {p: (lambda f=make(p): f(rates, keys)) for p in (False, True)}, 64 * 0.1


def _evaluate_case():
    from jaxsnn.decision import build_decision_model, evaluate
    from jaxsnn.decision.tasks import get_task

    model = build_decision_model(jr.key(0))
    task = get_task("rate")
    return {
        p: (lambda p=p: evaluate(model, task, jr.key(1), n_trials=1000, progress=p)["accuracy"])
        for p in (False, True)
    }, 1000 * 0.1


CASES = {
    "W2": lambda: _w2_case(False),
    "W2 every=1": lambda: _w2_case(True),
    "W1 vmap64": _w1_case,
    "evaluate 1000": _evaluate_case,
}


def _timed(fn) -> float:
    t0 = time.perf_counter()
    jax.block_until_ready(fn())
    return time.perf_counter() - t0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--out", default=None, help="also write the table to this file")
    args = parser.parse_args(argv)
    rows = []
    for name in args.cases.split(","):
        fns, bio_s = CASES[name]()
        first = {p: _timed(fns[p]) for p in (False, True)}  # compile + one run
        runs = {False: [], True: []}
        order = [False, True, True, False]
        for r in range(args.repeats):
            for p in order if r % 2 == 0 else order[::-1]:
                runs[p].append(_timed(fns[p]))
        off, on = statistics.median(runs[False]), statistics.median(runs[True])
        rows.append((name, first[False] - off, first[True] - on, off, on, on / off, bio_s))
        print(f"{name}: off {off:.4f} s, on {on:.4f} s, ratio {on / off:.3f}", file=sys.stderr)
    cpu = machine_info()["cpu"]
    lines = [
        f"machine: {cpu}, {os.cpu_count()} cores; jax {jax.__version__}; "
        f"median of {2 * args.repeats} warm runs per cell",
        "",
        "| case | compile off (s) | compile on (s) | run off (s) | run on (s) | on / off |",
        "|---|---|---|---|---|---|",
    ]
    for name, c_off, c_on, off, on, ratio, _ in rows:
        lines.append(f"| {name} | {c_off:.2f} | {c_on:.2f} | {off:.4f} | {on:.4f} | {ratio:.3f} |")
    table = "\n".join(lines)
    print(table)
    if args.out:
        from jaxsnn.io import atomic_write

        atomic_write(args.out, lambda f: f.write((table + "\n").encode()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

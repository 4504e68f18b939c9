"""The `jaxsnn` command line."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import jax
import jax.numpy as jnp
import jax.random as jr


def _demo(args: argparse.Namespace) -> int:
    from .decision._runner import show_progress
    from .models.decision_1k import DT_MS, build_decision_1k, pattern_rates_hz
    from .network import init_state
    from .record import Record
    from .simulation import simulate

    key_net, key_trials = jr.split(jr.key(args.seed))
    network = build_decision_1k(key_net)
    state = init_state(network)
    labels = jnp.arange(args.trials) % 2
    keys = jr.split(key_trials, args.trials)
    record = Record(counts=("E",))

    bars = show_progress(args)

    def trial(rate, key):
        _, rec = simulate(
            network, state, args.steps, dt_ms=DT_MS, key=key, inputs={"in": rate}, record=record,
            progress=bars,
        )  # fmt: skip
        return rec.counts["E"].mean() * 1000.0 / (args.steps * DT_MS)

    run = jax.jit(jax.vmap(trial))
    rates = pattern_rates_hz(labels)
    t0 = time.perf_counter()
    jax.block_until_ready(run(rates, keys))
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    e_rate = jax.block_until_ready(run(rates, jr.split(jr.fold_in(key_trials, 1), args.trials)))
    run_s = time.perf_counter() - t0
    mean0 = float(e_rate[labels == 0].mean())
    mean1 = float(e_rate[labels == 1].mean())
    threshold = (mean0 + mean1) / 2
    accuracy = float(((e_rate > threshold) == (labels == 1)).mean())
    bio_s = args.trials * args.steps * DT_MS / 1000
    summary = {
        "network": "W1 decision-1k: 800 E + 200 I LIF, p=0.1, delta synapses, 100 Poisson inputs",
        "trials": args.trials,
        "steps": args.steps,
        "dt_ms": DT_MS,
        "compile_s": round(compile_s, 3),
        "run_s": round(run_s, 3),
        "faster_than_real_time": round(bio_s / run_s, 1),
        "mean_exc_rate_hz": {"pattern_0": round(mean0, 2), "pattern_1": round(mean1, 2)},
        "rate_threshold_hz": round(threshold, 2),
        "accuracy": accuracy,
        "device": jax.devices()[0].device_kind,
        "jax": jax.__version__,
        "python": platform.python_version(),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"jaxsnn demo: {summary['network']}")
    print(f"  {args.trials} trials x {args.steps} steps of {DT_MS} ms, vmapped in one jit call")
    print(f"  compile {compile_s:.2f} s, run {run_s:.3f} s = {bio_s:.1f} s of biological time")
    print(f"  -> {summary['faster_than_real_time']}x faster than real time on {summary['device']}")
    print(
        f"  mean E rate: pattern '0' (20 Hz input) {mean0:.2f} Hz, pattern '1' (100 Hz) {mean1:.2f} Hz"
    )
    print(f"  rate-threshold decision at {threshold:.2f} Hz: accuracy {accuracy:.3f}")
    return 0


def _stream(args: argparse.Namespace) -> int:
    import numpy as np

    from .models.decision_1k import DT_MS, build_decision_1k, pattern_rates_hz
    from .network import init_state
    from .streaming import run_stream

    # before the network is built: the window must be a whole number of steps
    n_steps = round(args.window_ms / DT_MS)
    if n_steps < 1 or abs(n_steps * DT_MS - args.window_ms) > 1e-9 * args.window_ms:
        print(
            f"jaxsnn stream: error: --window-ms must be a whole number of {DT_MS} ms steps, "
            f"got {args.window_ms:g}",
            file=sys.stderr,
        )
        return 2
    key_net, key_labels, key_run = jr.split(jr.key(args.seed), 3)
    network = build_decision_1k(key_net)
    labels = np.asarray(jr.bernoulli(key_labels, 0.5, (args.windows,))).astype(int)
    rates = pattern_rates_hz(jnp.asarray(labels))

    def readout(state, recording):  # mean E rate over the window (Hz)
        return jnp.mean(recording.counts["E"]) * (1000.0 / (n_steps * DT_MS))

    _, report = run_stream(
        network,
        init_state(network),
        ({"in": rates[i]} for i in range(args.windows)),
        readout=readout,
        dt_ms=DT_MS,
        window_ms=args.window_ms,
        key=key_run,
    )
    rate = np.array([float(w.output) for w in report.windows])
    answers = (rate > args.threshold_hz).astype(int)
    accuracy = float(np.mean(answers == labels))
    summary = {
        "network": "W1 decision-1k: 800 E + 200 I LIF, p=0.1, delta synapses, 100 Poisson inputs",
        "windows": args.windows,
        "window_ms": args.window_ms,
        "threshold_hz": args.threshold_hz,
        "labels": labels.tolist(),
        "answers": answers.tolist(),
        "rate_hz": [round(float(r), 3) for r in rate],
        "latency_ms": [round(w.latency_s * 1e3, 3) for w in report.windows],
        "met_budget": [w.met_budget for w in report.windows],
        "fraction_met": report.fraction_met,
        "accuracy": accuracy,
        "compile_s": round(report.compile_s, 3),
        "device": jax.devices()[0].device_kind,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"jaxsnn stream: {summary['network']}, windows of {args.window_ms:g} ms")
    for w, label, answer, r in zip(report.windows, labels, answers, rate, strict=True):
        flag = "ok" if w.met_budget else "LATE"
        print(
            f"  window {w.index:>3d}: pattern {label} -> answer {answer} ({r:6.2f} Hz)  "
            f"{w.latency_s * 1e3:7.2f} ms of {w.budget_s * 1e3:g} ms  {flag}"
        )
    print(f"  accuracy {accuracy:.3f}; {report}")
    return 0


def _wang2002(args: argparse.Namespace) -> int:
    from .models._wang2002_cli import run_wang2002

    return run_wang2002(args)


def _decide(args: argparse.Namespace) -> int:
    from .decision._runner import run_decide

    return run_decide(args)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .compile_cache import add_cache_argument

    parser = argparse.ArgumentParser(prog="jaxsnn", description="Spiking neural networks in JAX.")
    parser.add_argument("--version", action="version", version=f"jaxsnn {__version__}")
    from .decision._runner import (
        add_decide_arguments,
        add_progress_argument,
        positive_float,
        positive_int,
        seed_int,
    )

    parser.add_argument(
        "--threads",
        type=positive_int,
        help="XLA:CPU threads (default: one per core; 1 is fastest for one small network)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="simulate the 1000-neuron E/I network on two input patterns")
    demo.add_argument("--trials", type=positive_int, default=64, help="Monte-Carlo trials (64)")
    demo.add_argument(
        "--sim-steps",
        "--steps",
        dest="steps",
        type=positive_int,
        default=1000,
        help="simulation steps of 0.1 ms per trial (1000)",
    )
    demo.add_argument("--seed", type=seed_int, default=0, help="random seed (0)")
    demo.add_argument("--json", action="store_true", help="print the summary as JSON")
    add_progress_argument(demo)
    demo.set_defaults(func=_demo)
    stream = sub.add_parser(
        "stream",
        help="serve the 1000-neuron network in real-time windows: a decision per window",
        description="Feed the W1 network one window of Poisson input at a time (a random "
        "pattern '0' or '1' per window), carry its state from window to window, decide "
        "from the E rate, and report each window's compute latency against its real-time "
        "budget (the compile happens before the first window).",
    )
    stream.add_argument("--windows", type=positive_int, default=20, help="windows (20)")
    stream.add_argument(
        "--window-ms", type=positive_float, default=100.0, help="window length in ms (100)"
    )
    stream.add_argument(
        "--threshold-hz", type=positive_float, default=10.0, help="E-rate threshold (10 Hz)"
    )
    stream.add_argument("--seed", type=seed_int, default=0, help="random seed (0)")
    stream.add_argument("--json", action="store_true", help="print the summary as JSON")
    stream.set_defaults(func=_stream)
    from .models._wang2002_cli import add_wang2002_arguments

    wang = sub.add_parser(
        "wang2002",
        help="Wang (2002) decision network: psychometric and chronometric curves",
        description="Simulate the Wang (2002) decision-making network (or, with --reduced, "
        "the Wong & Wang 2006 model) on many trials per coherence, print the psychometric "
        "table (accuracy with Wilson interval, mean reaction time, undecided fraction) and "
        "the Weibull fit, and write psychometric.png, chronometric.png and summary.json "
        "into --out.",
    )
    add_wang2002_arguments(wang)
    wang.set_defaults(func=_wang2002)
    decide = sub.add_parser(
        "decide",
        help="train the 1000-neuron decision network and evaluate it on held-out trials",
        description="Build the 1000-neuron E/I decision network, measure its accuracy, train "
        "it (optax Adam, BPTT through the whole simulation), measure again on held-out "
        "Monte-Carlo trials, and write a raster plot, a loss curve and summary.json "
        "into --out.",
    )
    add_decide_arguments(decide)
    decide.set_defaults(func=_decide)
    for command in (demo, stream, wang, decide):
        add_cache_argument(command)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .cli_outputs import interrupt_exits
    from .compile_cache import enable_compile_cache

    args = build_parser().parse_args(argv)
    if args.threads is not None:
        from .threads import set_cpu_threads

        try:
            set_cpu_threads(args.threads)
        except RuntimeError as err:  # main() called from a program that already ran JAX
            print(f"jaxsnn: error: --threads: {err}", file=sys.stderr)
            return 2
    if enable_compile_cache(args.compile_cache) is not None:
        # programs with Equinox's run-time checks (host callbacks) are never cached; the
        # command line builds its networks itself and checks trained weights on the host
        os.environ.setdefault("JAXSNN_RUNTIME_CHECKS", "off")
    if args.command in ("decide", "wang2002"):  # they guard their own output folder
        return args.func(args)
    with interrupt_exits(args.command):
        return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

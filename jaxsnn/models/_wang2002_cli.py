"""`jaxsnn wang2002`: the psychometric and chronometric curves of Wang (2002), or of the
reduced model of Wong & Wang (2006) with `--reduced`.

The command line registers `add_wang2002_arguments(parser)` and calls
`run_wang2002(args)`. It runs `--trials` trials at each of `--coherences` (one vmapped
call per chunk of `--batch-size` trials), reads each decision as the first selective
pool whose smoothed rate crosses `--threshold-hz` after the stimulus onset, and prints
the psychometric table (accuracy with its 95 % Wilson interval, mean reaction time,
undecided fraction), the maximum-likelihood Weibull fit (α, β with 95 % profile-
likelihood intervals, against the paper's), trials per second and the real-time factor.
It writes `psychometric.png`, `chronometric.png` and `summary.json` into `--out`, each
atomically; `--json` prints the summary as one JSON object on stdout.

Examples:

    jaxsnn wang2002 --trials 200                  # the spiking network (slow: minutes)
    jaxsnn wang2002 --reduced --trials 2000       # the two-variable model (seconds)
    jaxsnn wang2002 --n-e 400 --n-i 100 --trials 8 --stimulus-ms 1000   # a quick look
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
from pathlib import Path


def _coherences(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated coherences in %, got {text!r}"
        ) from None
    if not values or any(not (0.0 <= v <= 100.0) for v in values):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated coherences in [0, 100] %, got {text!r}"
        )
    return values


def add_wang2002_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the flags of `jaxsnn wang2002` to `parser`."""
    from ..decision._runner import (
        add_progress_argument,
        positive_float,
        positive_int,
        seed_int,
    )

    parser.add_argument(
        "--coherences",
        type=_coherences,
        default=(0.0, 3.2, 6.4, 12.8, 25.6, 51.2),
        help="comma-separated coherences in %% (default 0,3.2,6.4,12.8,25.6,51.2)",
    )
    parser.add_argument(
        "--trials", type=positive_int, default=100, help="trials per coherence (100)"
    )
    parser.add_argument("--seed", type=seed_int, default=0, help="random seed (0)")
    parser.add_argument(
        "--reduced",
        action="store_true",
        help="the two-variable model of Wong & Wang (2006) instead of the spiking network",
    )
    parser.add_argument(
        "--threshold-hz", type=positive_float, default=15.0, help="decision threshold (15 Hz)"
    )
    parser.add_argument(
        "--onset-ms",
        type=positive_float,
        default=500.0,
        help="spontaneous period before the stimulus (500 ms)",
    )
    parser.add_argument(
        "--stimulus-ms",
        type=positive_float,
        default=2000.0,
        help="stimulus duration; the trial ends with it (2000 ms)",
    )
    parser.add_argument(
        "--n-e", type=positive_int, default=1600, help="pyramidal cells (network, 1600)"
    )
    parser.add_argument("--n-i", type=positive_int, default=400, help="interneurons (400)")
    parser.add_argument(
        "--batch-size", type=positive_int, default=32, help="trials per vmapped call (32)"
    )
    parser.add_argument(
        "--out", type=Path, default=Path("jaxsnn-out"), help="output folder (./jaxsnn-out)"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    add_progress_argument(parser)


def run_wang2002(args: argparse.Namespace) -> int:
    """Run `jaxsnn wang2002` for parsed `args`; returns the exit status."""
    from ..cli_outputs import OutputError, RunOutputs, interrupt_exits

    try:  # before any work
        outputs = RunOutputs(args.out, "wang2002")
    except OutputError as err:
        print(f"jaxsnn wang2002: error: {err}", file=sys.stderr)
        return 2
    with interrupt_exits("wang2002", outputs):
        return _run(args, outputs)


def _run(args: argparse.Namespace, outputs) -> int:
    import jax
    import jax.random as jr

    from .. import plot
    from ..decision._runner import show_progress
    from ..io import write_json
    from .wang2002 import Wang2002Protocol, build_wang2002
    from .wang2002_analysis import (
        PAPER_WEIBULL,
        format_table,
        run_psychometric,
        weibull_reference,
    )
    from .wong_wang2006 import WongWangProtocol

    try:
        if args.reduced:
            protocol = WongWangProtocol(onset_ms=args.onset_ms, stimulus_ms=args.stimulus_ms)
            network = None
        else:
            protocol = Wang2002Protocol(onset_ms=args.onset_ms, stimulus_ms=args.stimulus_ms)
            network = build_wang2002(n_e=args.n_e, n_i=args.n_i)
    except ValueError as err:
        print(f"jaxsnn wang2002: error: {err}", file=sys.stderr)
        return 2
    model = "reduced" if args.reduced else "network"
    result = run_psychometric(
        jr.key(args.seed),
        coherences=args.coherences,
        n_trials=args.trials,
        model=model,
        network=network,
        protocol=protocol,
        threshold_hz=args.threshold_hz,
        batch_size=args.batch_size,
        progress=show_progress(args),
    )
    summary = result.summary() | {
        "seed": args.seed,
        "n_e": None if args.reduced else args.n_e,
        "n_i": None if args.reduced else args.n_i,
        "onset_ms": args.onset_ms,
        "stimulus_ms": args.stimulus_ms,
        "dt_ms": protocol.dt_ms,
        "device": jax.devices()[0].device_kind,
        "jax": jax.__version__,
        "python": platform.python_version(),
    }
    out = outputs.out
    fit = result.fit
    c = [r["coherence_pct"] for r in result.rows]
    acc = [r["accuracy"] for r in result.rows]
    ci = [r["accuracy_ci95"] for r in result.rows]
    ax = plot.psychometric(
        c,
        acc,
        ci=ci,
        fit=None if fit is None else fit.accuracy,
        fit_label=None if fit is None else f"Weibull α={fit.alpha:.1f} %, β={fit.beta:.2f}",
        reference=None if args.reduced else weibull_reference,
        reference_label=f"Wang 2002: α={PAPER_WEIBULL['alpha_pct']} %, β={PAPER_WEIBULL['beta']}",
        label="Wong & Wang 2006 model" if args.reduced else "Wang 2002 network",
    )
    plot.save(ax, outputs.path("psychometric.png"), close=True)
    ax = plot.chronometric(
        c,
        [r["mean_rt_ms"] for r in result.rows],
        error_ms=[r["sd_rt_ms"] if math.isfinite(r["sd_rt_ms"]) else 0.0 for r in result.rows],
        label="mean ± s.d.",
    )
    plot.save(ax, outputs.path("chronometric.png"), close=True)
    write_json(outputs.path("summary.json"), summary)
    outputs.commit()
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    name = (
        "Wong & Wang (2006) two-variable model"
        if args.reduced
        else f"Wang (2002) network, {args.n_e} E + {args.n_i} I"
    )
    lines = [
        f"jaxsnn wang2002: {name}; {args.trials} trials per coherence, threshold "
        f"{args.threshold_hz:g} Hz, stimulus {args.stimulus_ms:g} ms after {args.onset_ms:g} ms",
        format_table(result.rows),
    ]
    if fit is not None:
        lines.append(
            f"Weibull fit: alpha = {fit.alpha:.2f} % [{fit.alpha_ci[0]:.2f}, "
            f"{fit.alpha_ci[1]:.2f}], beta = {fit.beta:.2f} [{fit.beta_ci[0]:.2f}, "
            f"{fit.beta_ci[1]:.2f}] (95 % profile likelihood)"
        )
    if not args.reduced:
        lines.append(
            f"  paper (Wang 2002): alpha = {PAPER_WEIBULL['alpha_pct']} %, beta = "
            f"{PAPER_WEIBULL['beta']}"
        )
    t = result.timing
    lines.append(
        f"{t.n_trials} trials of {t.simulated_ms:g} ms in {t.run_s:.1f} s (+{t.compile_s:.1f} s "
        f"compile): {t.trials_per_second:.3g} trials/s, {t.real_time_factor:.3g}x real time"
    )
    lines.append(f"wrote psychometric.png, chronometric.png, summary.json into {out}")
    print("\n".join(lines))
    return 0

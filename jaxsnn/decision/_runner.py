"""`jaxsnn decide`: build, evaluate, train, evaluate again, and write the results.

The command line of `jaxsnn.cli` delegates here. The learning mode is a clean switch:
`--learning gradient` (default) trains with `jaxsnn.decision.train.train` (optax, BPTT);
`--learning hebbian` calls `jaxsnn.decision.hebbian.train_hebbian(model, task, key,
steps=..., batch_size=..., callback=...)`. Both return a `TrainResult`.

Output folder (`--out`, default ./jaxsnn-out): `raster.png` (one held-out trial of each
class after training), `loss.png` (training curve) and `summary.json`, each written
atomically.

Times are reported as compile and run apart, compile measured by JAX's compile events
(`jaxsnn.progress.compile_timer`), run as wall time less compile. With the persistent
compile cache a hit still traces and lowers each program and loads it from disk, so a
second run reports a small compile time rather than none. In `summary.json`,
`train_seconds = train_compile_seconds + train_run_seconds` (the whole training) and
`eval_seconds = eval_compile_seconds + eval_run_seconds` (both evaluations, before and
after training); `eval_trials_per_second` is the trials of both over their run time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

# Defaults of the built-in run, chosen so that `jaxsnn decide` trains and evaluates in
# about a minute on a 2-core CPU while reaching the accuracy targets (rate >= 95 %,
# XOR >= 90 %, a clear gain on the hard task; tests/test_decision_accuracy.py). Only the
# input and readout weights train by default: the 1000 × 1000 recurrent weight gradients
# would cost about 3x per step, yet the gradient still flows back through the recurrent
# dynamics of every one of the 1000 steps. Batch 16 with Adam at 1e-2 converges in a few
# dozen steps; two 1000-trial evaluations (before and after) take most of the time.
DEFAULT_STEPS = {"rate": 15, "xor": 60, "hard": 30}
DEFAULT_BATCH = 16
DEFAULT_LR = 1e-2
DEFAULT_TRAINABLE = ("input", "readout")
LEARNING = ("gradient", "hebbian")


SEED_MIN, SEED_MAX = -(2**63), 2**63 - 1


def seed_int(text: str) -> int:
    """argparse type: a random seed, an integer that `jax.random.key` takes (int64)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed, got {text!r}") from None
    if not SEED_MIN <= value <= SEED_MAX:
        raise argparse.ArgumentTypeError(
            f"expected an integer seed in [-2**63, 2**63 - 1], got {text!r}"
        )
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite float > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive finite number, got {text!r}")
    return value


def _groups(text: str) -> tuple[str, ...]:
    from .train import GROUPS

    groups = tuple(g.strip() for g in text.split(",") if g.strip())
    bad = [g for g in groups if g not in GROUPS]
    if bad or not groups:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated subset of {','.join(GROUPS)}, got {text!r}"
        )
    return groups


def add_decide_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the flags of `jaxsnn decide` to `parser`."""
    parser.add_argument(
        "--task",
        choices=("rate", "xor", "hard"),
        default="rate",
        help="rate: 100 Hz vs 20 Hz input; xor: two input groups on/off, label A xor B; "
        "hard: overlapping noisy rates (default rate)",
    )
    parser.add_argument(
        "--learning",
        choices=LEARNING,
        default="gradient",
        help="gradient: optax + surrogate-gradient BPTT (default); hebbian: contrastive "
        "Hebbian learning (jaxsnn.decision.hebbian)",
    )
    parser.add_argument(
        "--train-steps",
        "--steps",
        dest="steps",
        type=positive_int,
        default=None,
        help="optimiser (training) steps (default: rate 15, xor 60, hard 30)",
    )
    parser.add_argument(
        "--batch-size", type=positive_int, default=DEFAULT_BATCH, help="trials per step (16)"
    )
    parser.add_argument(
        "--trials", type=positive_int, default=1000, help="held-out evaluation trials (1000)"
    )
    parser.add_argument("--seed", type=seed_int, default=0, help="random seed (0)")
    parser.add_argument("--lr", type=positive_float, default=DEFAULT_LR, help="Adam rate (1e-2)")
    parser.add_argument(
        "--trainable",
        type=_groups,
        default=DEFAULT_TRAINABLE,
        help="comma-separated weight groups to train: input,recurrent,readout "
        "(default input,readout)",
    )
    parser.add_argument(
        "--checkpoint", action="store_true", help="jax.checkpoint the step (less memory)"
    )
    parser.add_argument(
        "--train-checkpoint",
        type=Path,
        default=None,
        metavar="FILE",
        help="save the training (weights, optimiser state, step, key) to FILE every "
        "--train-checkpoint-every steps; if FILE exists, continue from it (same arguments "
        "give the same weights as an uninterrupted run)",
    )
    parser.add_argument(
        "--train-checkpoint-every",
        type=positive_int,
        default=10,
        metavar="K",
        help="steps between training checkpoints (10)",
    )
    parser.add_argument(
        "--n-exc", type=positive_int, default=800, help="excitatory neurons incl. output (800)"
    )
    parser.add_argument("--n-inh", type=positive_int, default=200, help="inhibitory neurons (200)")
    parser.add_argument("--n-out", type=positive_int, default=100, help="output neurons (100)")
    parser.add_argument("--n-in", type=positive_int, default=100, help="input channels (100)")
    parser.add_argument(
        "--window-ms", type=positive_float, default=100.0, help="decision window in ms (100)"
    )
    parser.add_argument(
        "--threshold-hz", type=positive_float, default=50.0, help="decision threshold (50 Hz)"
    )
    parser.add_argument(
        "--out", type=Path, default=Path("jaxsnn-out"), help="output folder (./jaxsnn-out)"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    add_progress_argument(parser)


def add_progress_argument(parser: argparse.ArgumentParser) -> None:
    """`--progress` / `--no-progress`: bars on stderr (default: when it is a terminal)."""
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bars on stderr (default: on when stderr is a terminal)",
    )


def show_progress(args: argparse.Namespace) -> bool:
    """Whether to show progress bars for these arguments."""
    if getattr(args, "quiet", False):
        return False
    return sys.stderr.isatty() if args.progress is None else args.progress


def _trainer(learning: str):
    if learning == "gradient":
        from .train import train

        return train
    from .hebbian import train_hebbian

    return train_hebbian


def _fmt_cm(cm: list[list[int]]) -> list[str]:
    return [
        "                 answer 0   answer 1",
        f"    true 0     {cm[0][0]:>9d}  {cm[0][1]:>9d}",
        f"    true 1     {cm[1][0]:>9d}  {cm[1][1]:>9d}",
    ]


def _fmt_times(result: dict) -> str:
    return (
        f"compile {result['compile_seconds']:.2f} s, run {result['seconds']:.2f} s, "
        f"{result['trials_per_second']:.0f} trials/s"
    )


def _checkpoint_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with --train-checkpoint, found before any work (None if nothing)."""
    path = args.train_checkpoint
    if path is None:
        return None
    if args.learning != "gradient":
        return "--train-checkpoint needs --learning gradient"
    if path.exists() and not path.is_file():
        return f"--train-checkpoint {path} exists and is not a file"
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        return f"--train-checkpoint: folder {folder} does not exist"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"--train-checkpoint: folder {folder} is not writable"
    return None


def run_decide(args: argparse.Namespace) -> int:
    """Run `jaxsnn decide` with parsed arguments; returns the exit status."""
    wall0 = time.perf_counter()
    trainer = _trainer(args.learning)
    if args.n_out >= args.n_exc:
        print(
            f"jaxsnn decide: error: --n-out ({args.n_out}) must be smaller than --n-exc "
            f"({args.n_exc})",
            file=sys.stderr,
        )
        return 2

    from ..cli_outputs import OutputError, RunOutputs, interrupt_exits

    problem = _checkpoint_problem(args)
    if problem:
        print(f"jaxsnn decide: error: {problem}", file=sys.stderr)
        return 2
    try:  # before any work: a bad --out must not cost a minute of computing
        outputs = RunOutputs(args.out, "decide")
    except OutputError as err:
        print(f"jaxsnn decide: error: {err}", file=sys.stderr)
        return 2
    with interrupt_exits("decide", outputs):
        return _run_decide(args, trainer, outputs, wall0)


def _run_decide(args: argparse.Namespace, trainer, outputs, wall0: float) -> int:
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import jax.random as jr
    import numpy as np

    from .evaluate import evaluate
    from .model import build_decision_model
    from .plots import plot_loss, plot_raster, write_summary
    from .tasks import get_task

    def log(msg: str) -> None:
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    steps = args.steps if args.steps is not None else DEFAULT_STEPS[args.task]
    task = get_task(args.task)
    key_model, key_data = jr.split(jr.key(args.seed))
    try:
        model = build_decision_model(
            key_model,
            n_exc=args.n_exc,
            n_inh=args.n_inh,
            n_out=args.n_out,
            n_in=args.n_in,
            window_ms=args.window_ms,
            threshold_hz=args.threshold_hz,
            checkpoint=args.checkpoint,
        )
    except ValueError as err:
        print(f"jaxsnn decide: error: {err}", file=sys.stderr)
        return 2
    n_neurons = model.network.n_neurons
    if args.learning == "gradient":
        from .memory import check_training_fits

        try:
            check_training_fits(n_neurons, model.n_steps, args.batch_size, args.checkpoint)
        except ValueError as err:
            print(f"jaxsnn decide: error: {err}", file=sys.stderr)
            return 2
    log(
        f"jaxsnn decide: task {args.task}, {n_neurons} LIF neurons "
        f"({args.n_exc} E incl. {args.n_out} output, {args.n_inh} I), "
        f"{model.n_steps} steps of {model.dt_ms} ms per trial"
    )
    if args.train_checkpoint is not None:  # a checkpoint of another run fails here, not later
        from .train import check_resumable

        try:
            done = check_resumable(
                model, task, key_data, checkpoint=args.train_checkpoint, steps=steps,
                batch_size=args.batch_size, learning_rate=args.lr, trainable=args.trainable,
            )  # fmt: skip
        except ValueError as err:
            print(f"jaxsnn decide: error: {err}", file=sys.stderr)
            return 2
        if done:
            log(f"continuing from {args.train_checkpoint}: {done} of {steps} steps done")
    log(f"evaluating the untrained network on {args.trials} held-out trials ...")
    bars = show_progress(args)
    before = evaluate(model, task, key_data, n_trials=args.trials, progress=bars)
    log(f"  accuracy before training: {before['accuracy']:.3f}  [{_fmt_times(before)}]")

    log_every = max(1, steps // 10)

    def progress(i: int, loss: float, acc: float) -> None:
        if i == 0 or (i + 1) % log_every == 0 or i + 1 == steps:
            elapsed = time.perf_counter() - t_train
            log(
                f"  step {i + 1:>4d}/{steps}  loss {loss:.4f}  batch accuracy {acc:.3f}"
                f"  [{elapsed:.1f} s]"
            )

    log(
        f"training ({args.learning}): {steps} steps of {args.batch_size} trials"
        + (
            f", trainable {','.join(args.trainable)}, Adam lr {args.lr}"
            if args.learning == "gradient"
            else ""
        )
    )
    t_train = time.perf_counter()
    options = dict(steps=steps, batch_size=args.batch_size, callback=progress, progress=bars)
    if args.learning == "gradient":
        options |= dict(
            learning_rate=args.lr,
            trainable=args.trainable,
            checkpoint=args.train_checkpoint,
            checkpoint_every=args.train_checkpoint_every,
        )
    try:
        result = trainer(model, task, key_data, **options)
    except ValueError as err:  # the checkpoint changed since the check above
        print(f"jaxsnn decide: error: {err}", file=sys.stderr)
        return 2
    log(f"  training done  [compile {result.compile_seconds:.2f} s, run {result.seconds:.2f} s]")
    trained = result.model
    leaves = [np.asarray(x) for x in jax.tree.leaves(eqx.filter(trained, eqx.is_inexact_array))]
    if not all(np.all(np.isfinite(x)) for x in leaves):
        print(
            "jaxsnn decide: error: training diverged (NaN or inf weights); lower --lr",
            file=sys.stderr,
        )
        return 1
    log(f"evaluating the trained network on {args.trials} held-out trials ...")
    after = evaluate(trained, task, key_data, n_trials=args.trials, progress=bars)
    log(f"  accuracy after training: {after['accuracy']:.3f}  [{_fmt_times(after)}]")
    eval_compile = before["compile_seconds"] + after["compile_seconds"]
    eval_run = before["seconds"] + after["seconds"]
    eval_rate = 2 * args.trials / eval_run

    rates, labels = task.split(key_data, "test", 64, model.n_in, model.dtype)
    labels_np = np.asarray(labels)
    picks = [int(np.argmax(labels_np == c)) for c in (0, 1) if np.any(labels_np == c)]
    raster_fn = eqx.filter_jit(lambda m, r, k: jax.vmap(m.raster)(r, k))
    raster_keys = jr.split(jr.fold_in(key_data, 3), len(picks))
    spikes = raster_fn(trained, rates[jnp.asarray(picks)], raster_keys)
    panels = []
    for j, idx in enumerate(picks):
        trial = {name: np.asarray(s[j]) for name, s in spikes.items()}
        rate = float(trial[model.output].mean() * 1000.0 / model.dt_ms)
        answer = int(rate > model.threshold_hz)
        panels.append(
            (f"label {int(labels_np[idx])}: output {rate:.1f} Hz -> answer {answer}", trial)
        )
    plot_raster(outputs.path("raster.png"), panels, dt_ms=model.dt_ms, window_ms=model.window_ms)
    plot_loss(
        outputs.path("loss.png"),
        np.asarray(result.losses),
        np.asarray(result.accuracies),
        title=f"jaxsnn decide: {args.task}, {args.learning}",
    )
    summary_path = outputs.path("summary.json")
    files = {
        name: str(outputs.final(f"{name}.{ext}"))
        for name, ext in (("raster", "png"), ("loss", "png"), ("summary", "json"))
    }
    wall = time.perf_counter() - wall0
    summary = {
        "task": args.task,
        "learning": args.learning,
        "accuracy_before": before["accuracy"],
        "accuracy_after": after["accuracy"],
        "ci95_before": before["ci95"],
        "ci95_after": after["ci95"],
        "ci_method": "Wilson score, 95 %",
        "confusion_matrix": after["confusion_matrix"],
        "confusion_matrix_before": before["confusion_matrix"],
        "confusion_matrix_layout": "rows: true label 0, 1; columns: answer 0, 1",
        "mean_rate_hz_before": before["mean_rate_hz"],
        "mean_rate_hz_after": after["mean_rate_hz"],
        "threshold_hz": model.threshold_hz,
        "n_trials": args.trials,
        "train_steps": steps,
        "batch_size": args.batch_size,
        "trainable": list(args.trainable) if args.learning == "gradient" else None,
        "learning_rate": args.lr if args.learning == "gradient" else None,
        "final_loss": float(np.asarray(result.losses)[-1]),
        "train_seconds": result.compile_seconds + result.seconds,
        "train_compile_seconds": result.compile_seconds,
        "train_run_seconds": result.seconds,
        "eval_seconds": eval_compile + eval_run,
        "eval_compile_seconds": eval_compile,
        "eval_run_seconds": eval_run,
        "eval_trials_per_second": eval_rate,
        "wall_seconds": wall,
        "model": {
            "n_neurons": n_neurons,
            "n_exc": args.n_exc,
            "n_inh": args.n_inh,
            "n_out": args.n_out,
            "n_in": args.n_in,
            "p": 0.1,
            "dt_ms": model.dt_ms,
            "window_ms": model.window_ms,
            "checkpoint": args.checkpoint,
        },
        "seed": args.seed,
        "files": files,
        "device": jax.devices()[0].device_kind,
        "jax": jax.__version__,
        "python": platform.python_version(),
    }
    write_summary(summary_path, summary)
    outputs.commit()
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    lo_b, hi_b = before["ci95"]
    lo_a, hi_a = after["ci95"]
    lines = [
        f"jaxsnn decide: task '{args.task}', {n_neurons} LIF neurons, {args.learning} learning",
        f"  accuracy before training  {before['accuracy']:.3f}  (95 % Wilson CI {lo_b:.3f}-{hi_b:.3f})",
        f"  accuracy after training   {after['accuracy']:.3f}  (95 % Wilson CI {lo_a:.3f}-{hi_a:.3f})"
        f"  on {args.trials} held-out trials",
        "  confusion matrix after training:",
        *_fmt_cm(after["confusion_matrix"]),
        f"  mean output rate (Hz)     class 0: {after['mean_rate_hz']['0']:.1f}   "
        f"class 1: {after['mean_rate_hz']['1']:.1f}   (threshold {model.threshold_hz:g} Hz)",
        f"  training                  {steps} steps x {args.batch_size} trials: "
        f"compile {result.compile_seconds:.2f} s, run {result.seconds:.2f} s "
        f"({result.seconds / steps:.3g} s/step)",
        f"  evaluation                2 x {args.trials} trials of {model.window_ms:g} ms: "
        f"compile {eval_compile:.2f} s, run {eval_run:.2f} s, {eval_rate:.0f} trials/s",
        f"  wall time                 {wall:.1f} s",
        f"  wrote {files['raster']}, {files['loss']}, {files['summary']}",
    ]
    print("\n".join(lines))
    return 0

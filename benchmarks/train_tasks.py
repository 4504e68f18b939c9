"""Test accuracy of spiking classifiers trained with `jaxsnn.training`, over seeds, next to
published figures.

    python benchmarks/train_tasks.py            # 6 cases x 5 seeds (~10 min on one core)
    python benchmarks/train_tasks.py --quick    # 1 epoch, 2 seeds: a check that it runs
    python benchmarks/train_tasks.py --only yin_yang --seeds 10

Cases (task x network), each trained from `--seeds` initialisations (weights from key
`seed`, shuffling from key 1000 + seed) on one fixed data set (key 0), with Adam, the
builder's defaults otherwise (`jaxsnn.training.feedforward`: mean-over-time readout,
input scale 10, 10-ms synapses, 20-ms membranes):

- Yin-Yang (standard split, 5000 / 1000 / 1000; four values and a bias channel, latency
  coded over 15 ms at 0.5-ms steps), 120 hidden neurons: feed-forward LIF, recurrent
  LIF, recurrent adaptive LIF; 40 epochs, batch 50, learning rate 1e-2 with a cosine
  decay to 5e-4.
- Randman (10 classes, 20 units, 2-dimensional manifolds, 100 1-ms steps, 200 samples
  per class, 20 % held out), 128 hidden neurons: the same three networks; 20 epochs,
  batch 50, learning rate 5e-3.

The figure is the accuracy on the test split after the last epoch (no model selection
on it). Reported: mean, sample standard deviation and the 95 % Student-t interval of
the mean over seeds (`jaxsnn.training.seeds_summary`), the median wall time of one
seed's training (the first seed also compiles the step), and the published figures
with their source and whether they were checked against it.

Prints the table and writes benchmarks/results/train_tasks.md (atomically) with the
commit, device, JAX version and the per-seed accuracies.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import equinox as eqx
import jax
import jax.random as jr
import optax

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jaxsnn as snn  # noqa: E402
from jaxsnn.datasets import randman_task, yin_yang_task  # noqa: E402
from jaxsnn.io import atomic_write  # noqa: E402
from jaxsnn.training import (  # noqa: E402
    accuracy,
    feedforward,
    fit,
    seeds_summary,
)

YIN_YANG = {"n_steps": 60, "dt_ms": 0.5, "t_max_ms": 15.0}
RANDMAN = {
    "n_classes": 10, "n_units": 20, "n_steps": 100, "n_samples_per_class": 200,
    "dim_manifold": 2,
}  # fmt: skip
LIF = snn.LIF(tau_mem_ms=20.0, v_th_mv=1.0, v_reset_mv=0.0)
ALIF = snn.AdaptiveLIF(tau_mem_ms=20.0, v_th_mv=1.0, v_reset_mv=0.0, tau_adapt_ms=100.0,
                       beta_mv=0.2)  # fmt: skip
NETWORKS = {
    "feed-forward LIF": (LIF, False),
    "recurrent LIF": (LIF, True),
    "recurrent adaptive LIF": (ALIF, True),
}
PUBLISHED = {
    "yin_yang": [
        "ANN 4-30-3: 97.6 ± 1.5 % (mean ± std, 20 runs; lkriener/yin_yang_data_set README, "
        "'Reference results'; checked there)",
        "shallow network, no hidden layer: 63.8 ± 1.0 % (same source; checked there)",
        "SNN 5-120-3 LIF, first-spike times, software: 95.9 ± 0.7 % (Göltz et al. 2021, "
        "Nat. Mach. Intell. 3, 823; NOT checked: the paper's text was not available here)",
    ],
    "randman": [
        "chance: 10 %. Zenke & Vogels (2021, Neural Comput. 33, 899) train on Randman but "
        "report curves over task settings, not a figure for this setting (none checked)",
    ],
}


@dataclass(frozen=True)
class Task:
    name: str
    load: Callable[[], dict]
    n_in: int
    n_out: int
    dt_ms: float
    n_hidden: int
    input_scale: float
    epochs: int
    batch_size: int
    learning_rate: float
    cosine: bool


TASKS = {
    "yin_yang": Task(
        "Yin-Yang", lambda: yin_yang_task(jr.key(0), **YIN_YANG), 5, 3, YIN_YANG["dt_ms"],
        120, 10.0, 40, 50, 1e-2, True,
    ),
    "randman": Task(
        "Randman 10-class 2-D", lambda: randman_task(jr.key(0), **RANDMAN), 20, 10, 1.0,
        128, 10.0, 20, 50, 5e-3, False,
    ),
}  # fmt: skip


def run_case(task: Task, data: dict, network: str, seeds: int, epochs: int) -> dict:
    neuron, recurrent = NETWORKS[network]
    steps = epochs * (data["train"][1].shape[0] // task.batch_size)
    lr = (
        optax.cosine_decay_schedule(task.learning_rate, steps, alpha=0.05)
        if task.cosine
        else task.learning_rate
    )
    optimizer = optax.adam(lr)  # one object for all seeds: the step compiles once
    evaluate = eqx.filter_jit(accuracy)
    accs, seconds = [], []
    for seed in range(seeds):
        clf = feedforward(
            jr.key(seed), task.n_in, task.n_hidden, task.n_out, neuron=neuron,
            recurrent=recurrent, input_scale=task.input_scale, dt_ms=task.dt_ms,
        )  # fmt: skip
        t0 = time.perf_counter()
        result = fit(
            clf, data["train"], key=jr.key(1000 + seed), optimizer=optimizer,
            batch_size=task.batch_size, epochs=epochs,
        )  # fmt: skip
        jax.block_until_ready(result.classifier)
        seconds.append(time.perf_counter() - t0)
        accs.append(float(evaluate(result.classifier, *data["test"])))
        print(f"  seed {seed}: test accuracy {accs[-1]:.4f} ({seconds[-1]:.1f} s)", flush=True)
    return {
        "network": network,
        "epochs": epochs,
        "accuracies": accs,
        "summary": seeds_summary(accs) if len(accs) > 1 else None,
        "seconds": statistics.median(seconds),
    }


def commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def report(results: dict[str, list[dict]], command: str) -> str:
    lines = [
        "# Training spiking classifiers: test accuracy over seeds",
        "",
        f"Command: `{command}`; commit {commit()}, {jax.devices()[0].device_kind}, "
        f"JAX {jax.__version__}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{time.strftime('%Y-%m-%d')}. Setup: benchmarks/train_tasks.py docstring.",
        "",
        "| task | network | epochs | seeds | test accuracy (%), mean ± 95 % CI | std (%) | "
        "s per seed |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, cases in results.items():
        for c in cases:
            s = c["summary"]
            acc = (
                f"{100 * s.mean:.1f} ± {100 * s.half_width:.1f}"
                if s
                else f"{100 * c['accuracies'][0]:.1f} (one seed)"
            )
            std = f"{100 * s.std:.1f}" if s else "-"
            lines.append(
                f"| {TASKS[key].name} | {c['network']} | {c['epochs']} | "
                f"{len(c['accuracies'])} | {acc} | {std} | {c['seconds']:.0f} |"
            )
    lines += ["", "Per-seed test accuracies:", ""]
    for key, cases in results.items():
        for c in cases:
            values = ", ".join(f"{a:.3f}" for a in c["accuracies"])
            lines.append(f"- {TASKS[key].name}, {c['network']}: {values}")
    lines += ["", "Published figures (test accuracy):", ""]
    for key in results:
        lines += [f"- {TASKS[key].name}: {p}" for p in PUBLISHED[key]]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 epoch and 2 seeds per case")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per case (5)")
    parser.add_argument("--only", choices=sorted(TASKS), action="append", help="a task")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results" / "train_tasks.md"
    )
    args = parser.parse_args()
    seeds = args.seeds or (2 if args.quick else 5)
    if seeds < 2:
        parser.error("--seeds must be >= 2 for a confidence interval")
    results = {}
    for key in args.only or list(TASKS):
        task = TASKS[key]
        data = task.load()
        epochs = 1 if args.quick else task.epochs
        results[key] = []
        for network in NETWORKS:
            print(f"{task.name}, {network}, {epochs} epochs, {seeds} seeds", flush=True)
            results[key].append(run_case(task, data, network, seeds, epochs))
    command = "python benchmarks/train_tasks.py " + " ".join(sys.argv[1:])
    text = report(results, command.strip())
    print("\n" + text)
    atomic_write(args.out, lambda f: f.write(text.encode()))
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()

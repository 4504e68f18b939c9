"""Monte-Carlo evaluation of a `DecisionModel`: many held-out trials in one vmapped call.

`evaluate(model, task, key, n_trials=1000)` draws `n_trials` trials from the task's "test"
split of `key` (disjoint from the training batches), simulates them all with one
`jax.vmap` over one `lax.scan` each, and reports

- accuracy with a 95 % **Wilson score** interval (`wilson_interval`), which stays inside
  [0, 1] and is accurate near 0 % and 100 %, unlike the normal (Wald) interval;
- the 2x2 confusion matrix, rows = true label (0, 1), columns = answer (0, 1);
- the mean output rate (Hz) per true class;
- compile time and run time apart, and the throughput in trials per second from the
  run time alone. Compile time is what JAX's compile events report (tracing, lowering,
  XLA compilation; with the persistent compile cache, a hit costs tracing, lowering and
  loading the executable, and that is reported as compile time); run time is the wall
  time of the simulating call less the compile time inside it.
"""

from __future__ import annotations

import math
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import check_int
from ..progress import bar, compile_timer
from .model import DecisionModel
from .tasks import AbstractTask


def wilson_interval(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion.

    `(p̂ + z²/2n ± z·sqrt(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n)` with `p̂ = successes/n`;
    the default z gives a 95 % interval.

    Args:
        successes: number of successes (0 <= successes <= n).
        n: number of trials (>= 1).
        z: standard-normal quantile of the interval.

    Returns:
        `(low, high)` in [0, 1].
    """
    check_int("n", n, minimum=1)
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be in [0, n={n}], got {successes}")
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


@eqx.filter_jit
def output_rates_hz(
    model: DecisionModel, rates_hz: Float[Array, "batch n_in"], keys: PRNGKeyArray
) -> Float[Array, " batch"]:
    """Output-population rate (Hz) of a batch of trials: one jitted, vmapped call.

    Args:
        model: the model.
        rates_hz: (batch, n_in) input rates (Hz).
        keys: (batch,) trial keys.
    """
    return jax.vmap(model.output_rate_hz)(rates_hz, keys)


def confusion_matrix(labels: np.ndarray, answers: np.ndarray) -> list[list[int]]:
    """2x2 counts, rows = true label (0, 1), columns = answer (0, 1)."""
    labels = np.asarray(labels).astype(bool)
    answers = np.asarray(answers).astype(bool)
    return [
        [int(np.sum(~labels & ~answers)), int(np.sum(~labels & answers))],
        [int(np.sum(labels & ~answers)), int(np.sum(labels & answers))],
    ]


def evaluate(
    model: DecisionModel,
    task: AbstractTask,
    key: PRNGKeyArray,
    *,
    n_trials: int = 1000,
    warmup: bool = False,
    progress: bool = False,
) -> dict:
    """Accuracy of `model` on `n_trials` held-out trials of `task` (one vmapped call).

    Args:
        model: the model.
        task: the task; trials come from its "test" split of `key`.
        key: PRNG key (the same key as for `train` gives disjoint train/test trials).
        n_trials: number of Monte-Carlo trials, all simulated in one call.
        warmup: compile with an untimed first call, so `seconds` also leaves out the
            one-off costs of a first call that are not compile events (allocating
            buffers, loading the executable). Without it the compile is still measured
            and left out of `seconds`.
        progress: show a progress bar (trials done, trials per second, time left); the
            trials then run in 10 vmapped calls of equal size instead of one.

    Returns:
        A dict with `accuracy`, `ci95` (Wilson score `[low, high]`), `confusion_matrix`
        (rows true 0/1, columns answer 0/1), `mean_rate_hz` (`{"0": ..., "1": ...}`, NaN
        for a class without trials), `threshold_hz`, `n_trials`, `seconds` (run time,
        compile excluded), `compile_seconds` (all compile time of this call: drawing the
        trials, the warm-up and the simulation) and `trials_per_second` (`n_trials / seconds`).
    """
    check_int("n_trials", n_trials, minimum=1)
    run = output_rates_hz
    with compile_timer() as compiled:
        rates, labels = task.split(key, "test", n_trials, model.n_in, model.dtype)
        keys = jr.split(jr.fold_in(key, 2), n_trials)
        if warmup:
            # the same shapes as the timed call, so it compiles the program that runs
            size = _chunk_size(n_trials) if progress else n_trials
            jax.block_until_ready(run(model, rates[:size], keys[:size]))
        compile_before = compiled[0]
        t0 = time.perf_counter()
        if progress:
            out = _in_chunks(run, model, rates, keys)
        else:
            out = np.asarray(jax.block_until_ready(run(model, rates, keys)))
        wall = time.perf_counter() - t0
    compile_s = compiled[0]
    seconds = max(wall - (compile_s - compile_before), 1e-9)
    labels = np.asarray(labels) > 0
    answers = out > model.threshold_hz
    correct = int(np.sum(answers == labels))
    low, high = wilson_interval(correct, n_trials)

    def class_mean(mask):
        return float(out[mask].mean()) if mask.any() else float("nan")

    return {
        "accuracy": correct / n_trials,
        "ci95": [low, high],
        "confusion_matrix": confusion_matrix(labels, answers),
        "mean_rate_hz": {"0": class_mean(~labels), "1": class_mean(labels)},
        "threshold_hz": float(model.threshold_hz),
        "n_trials": n_trials,
        "seconds": seconds,
        "compile_seconds": compile_s,
        "trials_per_second": n_trials / seconds,
    }


def _chunk_size(n: int, n_chunks: int = 10) -> int:
    return -(-n // n_chunks)


def _in_chunks(run, model, rates, keys, n_chunks: int = 10) -> np.ndarray:
    """`run` on 10 equal chunks of the trials (the last padded with repeats, so one
    compiled program serves all), with a progress bar."""
    n = rates.shape[0]
    size = _chunk_size(n, n_chunks)
    pad = np.arange(size * n_chunks) % n
    out = []
    with bar(n, desc="evaluating", unit="trial", leave=False) as shown:
        for c in range(n_chunks):
            idx = jnp.asarray(pad[c * size : (c + 1) * size])
            out.append(np.asarray(run(model, rates[idx], keys[idx])))
            shown.update(min(size, n - c * size) if c * size < n else 0)
    return np.concatenate(out)[:n]


def accuracy_of(
    model: DecisionModel,
    rates_hz: Float[Array, "batch n_in"],
    labels: Float[Array, " batch"],
    keys: PRNGKeyArray,
) -> Float[Array, ""]:
    """Fraction of trials whose decision equals the label (for quick checks)."""
    out = output_rates_hz(model, rates_hz, keys)
    return jnp.mean(((out > model.threshold_hz) == (labels > 0)).astype(out.dtype))

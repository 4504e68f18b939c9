"""`fit`: minibatch training of a `Classifier` with optax, checkpointed and exactly
resumable.

The schedule is a pure function of the key and the step number: step i belongs to epoch
e = i // steps_per_epoch (steps_per_epoch = n_samples // batch_size; the samples left
over by the division sit out that epoch) and takes the batch at position
i % steps_per_epoch of the permutation `jr.permutation(jr.fold_in(key, e), n_samples)`.
One step (batch gather, forward simulation of the batch under `jax.vmap`, BPTT through
the scan with the spikes' surrogate derivative, optimiser update) is one jitted program,
and the loss and batch accuracy of every step are written into arrays inside it, so the
host does not wait on the device between steps.

Every inexact array of the classifier trains (the weights; time constants and
thresholds are Python floats and stay fixed unless given as arrays).

Checkpoints (`checkpoint_path`, every `checkpoint_every` steps and at the end) are
`jaxsnn.checkpoints.Checkpoint`s, written atomically: the classifier, the optimiser
state, the step, the key, the loss and accuracy history, and the run's configuration
(step count, batch size, number of samples and a SHA-256 of the training data). A run that finds its checkpoint resumes from it, and since every step is a
function of (weights, optimiser state, key, step) only, it ends with the same bits as a
run that was never interrupted. A checkpoint that is truncated or corrupt, that belongs
to another run (other data, batch size, step count or key) or to another classifier or
optimiser is refused with a ValueError that says which; it is never used in part.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
from jaxtyping import Array, Float, Int, PRNGKeyArray

from .._checks import check_int
from ..checkpoints import Checkpoint, resume_checkpoint, save_checkpoint
from .classifier import Classifier, _check_batch, cross_entropy

Data = tuple[Float[Array, "n n_steps n_in"], Int[Array, " n"]]


class FitResult(eqx.Module):
    """What `fit` returns.

    Attributes:
        classifier: the trained classifier.
        opt_state: the final optimiser state.
        losses: (steps,) batch loss of every step, before its update (nats).
        accuracies: (steps,) batch accuracy of every step, before its update.
        resumed_from: the step the run resumed from (0 when it started afresh).
        seconds: wall time of this call's training loop (s), compilation included.
    """

    classifier: Classifier
    opt_state: Any
    losses: Float[Array, " steps"]
    accuracies: Float[Array, " steps"]
    resumed_from: int
    seconds: float


class _Carry(eqx.Module):
    params: Classifier
    opt_state: Any
    step: Int[Array, ""]
    losses: Float[Array, " steps"]
    accuracies: Float[Array, " steps"]


@eqx.filter_jit
def _train_step(
    carry: _Carry,
    spikes: Array,
    labels: Array,
    key: PRNGKeyArray,
    static: Classifier,
    optimizer: optax.GradientTransformation,
    batch_size: int,
    steps_per_epoch: int,
) -> _Carry:
    epoch, position = jnp.divmod(carry.step, steps_per_epoch)
    order = jr.permutation(jr.fold_in(key, epoch), labels.shape[0])
    batch = jax.lax.dynamic_slice_in_dim(order, position * batch_size, batch_size)
    x, y = spikes[batch], labels[batch]

    def loss_fn(params):
        return cross_entropy(eqx.combine(params, static), x, y)

    (loss, z), grads = eqx.filter_value_and_grad(loss_fn, has_aux=True)(carry.params)
    # optax's Adam adds its int32 step count to float moments, which strict dtype
    # promotion rejects: standard promotion for the optimiser alone
    with jax.numpy_dtype_promotion("standard"):
        updates, opt_state = optimizer.update(grads, carry.opt_state, carry.params)
    params = eqx.apply_updates(carry.params, updates)
    hit = jnp.mean((jnp.argmax(z, axis=1) == y).astype(loss.dtype))
    return _Carry(
        params,
        opt_state,
        carry.step + 1,
        carry.losses.at[carry.step].set(loss),
        carry.accuracies.at[carry.step].set(hit),
    )


def _check_key(key: Any) -> None:
    dtype = getattr(key, "dtype", None)
    typed = dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key)
    raw = dtype == np.uint32 and np.shape(key) == (2,)
    if not (typed and np.shape(key) == ()) and not raw:
        raise ValueError(f"key must be one PRNG key (jax.random.key(seed)), got {key!r}")


def _fingerprint(spikes: Array, labels: Array) -> str:
    digest = hashlib.sha256()
    for a in (np.asarray(spikes), np.asarray(labels)):
        digest.update(f"{a.shape}{a.dtype}".encode())
        digest.update(np.ascontiguousarray(a).tobytes())
    return digest.hexdigest()


def _check_data(classifier: Classifier, train_data: Any) -> Data:
    if not isinstance(train_data, tuple | list) or len(train_data) != 2:
        raise ValueError(
            f"train_data must be a pair (spikes, labels), got {type(train_data).__name__}"
        )
    spikes, labels = (jnp.asarray(a) for a in train_data)
    _check_batch(classifier, spikes, labels)
    if labels.shape[0] == 0:
        raise ValueError("train_data must hold at least one sample, got 0")
    if not jnp.issubdtype(spikes.dtype, jnp.floating):
        raise ValueError(f"train_data spikes must be a float raster, got {spikes.dtype}")
    lo, hi = int(jnp.min(labels)), int(jnp.max(labels))
    if lo < 0 or hi >= classifier.n_out:
        raise ValueError(f"train_data labels must lie in [0, {classifier.n_out}), got {lo} .. {hi}")
    return spikes, labels


def _total_steps(epochs: int | None, steps: int | None, steps_per_epoch: int) -> int:
    if (epochs is None) == (steps is None):
        raise ValueError(f"give exactly one of epochs and steps, got epochs={epochs}, "
                         f"steps={steps}")  # fmt: skip
    if steps is not None:
        check_int("steps", steps, minimum=1)
        return steps
    check_int("epochs", epochs, minimum=1)
    return epochs * steps_per_epoch


def _like(tree, leaves_from):
    """`leaves_from`'s arrays in `tree`'s structure (same shapes, checked on loading), so
    the jitted step sees the objects it was traced with."""
    return jax.tree.unflatten(jax.tree.structure(tree), jax.tree.leaves(leaves_from))


def fit(
    classifier: Classifier,
    train_data: Data,
    *,
    key: PRNGKeyArray,
    optimizer: optax.GradientTransformation,
    batch_size: int,
    epochs: int | None = None,
    steps: int | None = None,
    checkpoint_path: str | Path | None = None,
    checkpoint_every: int | None = None,
    resume: bool = True,
    callback: Callable[[int, float, float], None] | None = None,
) -> FitResult:
    """Train `classifier` on `train_data` by minibatch gradient descent (module docstring).

    Args:
        classifier: the classifier to train.
        train_data: `(spikes, labels)`: (n, n_steps, n_in) float rasters and (n,) integer
            classes in [0, n_out).
        key: PRNG key of the shuffling (epoch e's order comes from `fold_in(key, e)`).
        optimizer: any optax GradientTransformation; reuse one object across calls to
            reuse the compiled step.
        batch_size: samples per step, in [1, n].
        epochs: passes over the data (n // batch_size steps each); or give `steps`.
        steps: optimiser steps; or give `epochs`.
        checkpoint_path: file for checkpoints (None: none are written).
        checkpoint_every: steps between checkpoints (default: one epoch); one is also
            written after the last step.
        resume: continue from the checkpoint at `checkpoint_path` if there is one; False
            starts afresh and overwrites it.
        callback: called as `callback(step, loss, accuracy)` after each step, with the
            number of steps done and that step's batch loss and accuracy (it waits for
            the step to finish). An exception it raises stops the run; the last
            checkpoint stays.

    Returns:
        A `FitResult`.

    Raises:
        ValueError: naming the argument that is invalid, or the reason a checkpoint is
            refused.
    """
    if not isinstance(classifier, Classifier):
        raise ValueError(f"classifier must be a Classifier, got {type(classifier).__name__}")
    spikes, labels = _check_data(classifier, train_data)
    _check_key(key)
    if not isinstance(optimizer, optax.GradientTransformation):
        raise ValueError(
            f"optimizer must be an optax GradientTransformation, got {type(optimizer).__name__}"
        )
    n = labels.shape[0]
    check_int("batch_size", batch_size, minimum=1)
    if batch_size > n:
        raise ValueError(f"batch_size must be <= the {n} training samples, got {batch_size}")
    steps_per_epoch = n // batch_size
    total = _total_steps(epochs, steps, steps_per_epoch)
    if checkpoint_every is not None:
        check_int("checkpoint_every", checkpoint_every, minimum=1)
        if checkpoint_path is None:
            raise ValueError("checkpoint_every needs a checkpoint_path to write to")
    every = checkpoint_every or steps_per_epoch
    if not isinstance(resume, bool):
        raise ValueError(f"resume must be True or False, got {resume!r}")
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be callable, got {callback!r}")

    params, static = eqx.partition(classifier, eqx.is_inexact_array)
    with jax.numpy_dtype_promotion("standard"):
        opt_state = optimizer.init(params)
    dtype = spikes.dtype
    carry = _Carry(
        params,
        opt_state,
        jnp.zeros((), jnp.int32),
        jnp.zeros(total, dtype),
        jnp.zeros(total, dtype),
    )
    path = None if checkpoint_path is None else Path(checkpoint_path)
    config = {
        "steps": total,
        "batch_size": batch_size,
        "n_samples": n,
        "training data": _fingerprint(spikes, labels),
    }

    def checkpoint(carry: _Carry, model: Classifier) -> Checkpoint:
        k = int(carry.step)
        return Checkpoint(
            model, carry.opt_state, carry.step, key, carry.losses[:k], carry.accuracies[:k],
            config,
        )  # fmt: skip

    if path is not None and resume and path.exists():
        saved = resume_checkpoint(path, checkpoint(carry, classifier), name="checkpoint_path")
        k = int(saved.step)
        if k > total:
            raise ValueError(f"checkpoint_path {path} has step {k}, more than the run's {total}")
        carry = _Carry(
            _like(params, eqx.filter(saved.model, eqx.is_inexact_array)),
            _like(opt_state, saved.opt_state),
            jnp.asarray(saved.step, jnp.int32),
            carry.losses.at[:k].set(saved.losses),
            carry.accuracies.at[:k].set(saved.accuracies),
        )
    start = done = int(carry.step)

    t0 = time.perf_counter()
    while done < total:
        carry = _train_step(
            carry, spikes, labels, key, static, optimizer, batch_size, steps_per_epoch
        )
        done += 1
        if path is not None and (done % every == 0 or done == total):
            save_checkpoint(path, checkpoint(carry, eqx.combine(carry.params, static)))
        if callback is not None:
            i = done - 1
            callback(done, float(carry.losses[i]), float(carry.accuracies[i]))
    jax.block_until_ready(carry)
    return FitResult(
        eqx.combine(carry.params, static),
        carry.opt_state,
        carry.losses,
        carry.accuracies,
        start,
        time.perf_counter() - t0,
    )

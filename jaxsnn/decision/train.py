"""Gradient training of a `DecisionModel` with optax, by BPTT through the whole scan.

One training step (`train_step`) is a single `eqx.filter_jit` region: it draws the batch
from the task (`fold_in(key, step)`), runs the batch of trials with `jax.vmap` over one
`lax.scan` each, takes the gradient of the mean binary cross-entropy of the decision logit
(`DecisionModel.logit`) through every time step (the spike's surrogate derivative stands
in for the Heaviside's), applies the optimiser update and re-imposes the constraints.

Which weights train is chosen by groups of projections (`trainable_filter`):

- "input": projections from the Poisson input;
- "recurrent": projections between the non-output populations ("E", "I");
- "readout": projections onto the output population (E->out, out->out, I->out).

All other leaves of the model (time constants, thresholds, masks, sparse indices) are
constants. The filter is an `eqx.filter` spec (a pytree of bools like the model), so any
other selection can be passed too.

Sparsity and Dale's law during training (projected gradient descent): the gradient of a
weight where no synapse exists is zeroed before the optimiser sees it (so optimiser
moments of absent synapses stay zero), and after every update `DecisionModel.constrained()`
(i.e. `Network.constrained()`) sets absent synapses to 0 and clips excitatory rows to
>= 0 and inhibitory rows to <= 0. Input weights have no sign constraint.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import optax
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import check_int
from ..checkpoints import Checkpoint, resume_checkpoint, save_checkpoint
from ..progress import bar, compile_timer
from .model import DecisionModel
from .tasks import SPLITS, AbstractTask

GROUPS = ("input", "recurrent", "readout")


def projection_group(model: DecisionModel, pre: str, post: str) -> str:
    """The trainable group ("input", "recurrent" or "readout") of projection pre->post."""
    if pre == model.input:
        return "input"
    if post == model.output:
        return "readout"
    return "recurrent"


def trainable_filter(
    model: DecisionModel, groups: Sequence[str] = ("input", "recurrent", "readout")
) -> DecisionModel:
    """An `eqx.filter` spec marking the weights of the projections in `groups` trainable.

    Args:
        model: the model.
        groups: any of "input", "recurrent", "readout" (see the module docstring).

    Returns:
        A pytree shaped like `model` with True at the selected weight arrays, False elsewhere.

    Raises:
        ValueError: on an unknown group or an empty selection.
    """
    groups = tuple(groups)
    bad = [g for g in groups if g not in GROUPS]
    if bad or not groups:
        raise ValueError(f"trainable groups must be a non-empty subset of {GROUPS}, got {groups}")
    spec = jax.tree.map(lambda _: False, model)
    projections = model.network.projections
    chosen = [
        i for i, p in enumerate(projections) if projection_group(model, p.pre, p.post) in groups
    ]
    if not chosen:
        raise ValueError(f"the model has no projection in the groups {groups}")
    return eqx.tree_at(
        lambda s: [s.network.projections[i].weights for i in chosen],
        spec,
        [True] * len(chosen),
    )


def bce_loss(
    model: DecisionModel,
    rates_hz: Float[Array, "batch n_in"],
    labels: Float[Array, " batch"],
    keys: PRNGKeyArray,
) -> Float[Array, ""]:
    """Mean binary cross-entropy of the decision logits of a batch of trials.

    Args:
        model: the model.
        rates_hz: (batch, n_in) input rates (Hz).
        labels: (batch,) targets 0.0/1.0.
        keys: (batch,) trial keys.
    """
    logits = jax.vmap(model.logit)(rates_hz, keys)
    return jnp.mean(optax.sigmoid_binary_cross_entropy(logits, labels))


def _mask_absent(grads: DecisionModel, model: DecisionModel) -> DecisionModel:
    """Zero the gradient of every weight slot that holds no synapse."""
    chosen, masked = [], []
    for i, (g, p) in enumerate(
        zip(grads.network.projections, model.network.projections, strict=True)
    ):
        if g.weights is None:
            continue
        keep = p.layout.exists()
        chosen.append(i)
        masked.append(jnp.where(keep, g.weights, jnp.zeros_like(g.weights)))
    if not chosen:
        return grads
    return eqx.tree_at(lambda t: [t.network.projections[i].weights for i in chosen], grads, masked)


def train_step_impl(
    model: DecisionModel,
    opt_state: optax.OptState,
    key: PRNGKeyArray,
    *,
    task: AbstractTask,
    optimizer: optax.GradientTransformation,
    filter_spec: DecisionModel,
    batch_size: int,
) -> tuple[DecisionModel, optax.OptState, Float[Array, ""], Float[Array, ""]]:
    """One optimiser step on a fresh batch (one JIT region; see the module docstring).

    Args:
        model: the model.
        opt_state: `optimizer.init(eqx.filter(model, filter_spec))`.
        key: this step's key: the batch's rates, labels and trial keys derive from it.
        task: the task.
        optimizer: any optax GradientTransformation.
        filter_spec: from `trainable_filter`.
        batch_size: trials per step.

    Returns:
        `(model, opt_state, loss, accuracy)`: the updated, constrained model, the new
        optimiser state, and the batch's loss and accuracy before the update.
    """
    k_data, k_trials = jr.split(key)
    rates, labels = task.sample(k_data, batch_size, model.n_in, model.dtype)
    keys = jr.split(k_trials, batch_size)
    params, static = eqx.partition(model, filter_spec)

    def loss_fn(params):
        m = eqx.combine(params, static)
        logits = jax.vmap(m.logit)(rates, keys)
        loss = jnp.mean(optax.sigmoid_binary_cross_entropy(logits, labels))
        return loss, logits

    (loss, logits), grads = eqx.filter_value_and_grad(loss_fn, has_aux=True)(params)
    grads = _mask_absent(grads, model)
    # optax's Adam adds its int32 step count to float moments, which JAX rejects under
    # strict dtype promotion; scope standard promotion to the optimiser alone.
    with jax.numpy_dtype_promotion("standard"):
        updates, opt_state = optimizer.update(grads, opt_state, params)
    params = eqx.apply_updates(params, updates)
    model = eqx.combine(params, static).constrained()
    accuracy = jnp.mean(((logits > 0) == (labels > 0)).astype(logits.dtype))
    return model, opt_state, loss, accuracy


train_step = eqx.filter_jit(train_step_impl)


@functools.cache
def _default_optimizer(learning_rate: float) -> optax.GradientTransformation:
    # `train_step` takes the optimiser as a static argument and optax builds new closures
    # on every `optax.adam(...)`, so without reusing one object every `train` call would
    # trace and compile its step again
    return optax.adam(learning_rate)


class TrainResult(eqx.Module):
    """What `train` (and `jaxsnn.decision.hebbian.train_hebbian`) return.

    Attributes:
        model: the trained model.
        losses: (steps,) batch loss at each step (before that step's update; for Hebbian
            training the cross-entropy of the free-phase logits, for monitoring only).
        accuracies: (steps,) batch accuracy at each step.
        seconds: run time of the training, compile excluded (s): the wall time of the
            training (optimiser set-up and all steps) less `compile_seconds`.
        compile_seconds: time spent tracing, lowering and compiling during training (s),
            from JAX's compile events: mostly the first step's compile, plus any later
            recompile; 0 when every program was already compiled in this process. A hit
            in the persistent compile cache still traces and lowers the step (the cache
            key is the lowered program) and loads the executable from disk; that time
            counts here, so a cached run shows a small compile time.
    """

    model: DecisionModel
    losses: Float[Array, " steps"]
    accuracies: Float[Array, " steps"]
    seconds: float
    compile_seconds: float


def train(
    model: DecisionModel,
    task: AbstractTask,
    key: PRNGKeyArray,
    *,
    steps: int = 60,
    batch_size: int = 16,
    optimizer: optax.GradientTransformation | None = None,
    learning_rate: float = 2e-3,
    trainable: Sequence[str] | DecisionModel = ("input", "recurrent", "readout"),
    callback: Callable[[int, float, float], None] | None = None,
    progress: bool = False,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 10,
) -> TrainResult:
    """Train `model` on `task` with optax by BPTT (one jitted step per batch).

    Args:
        model: the model (`build_decision_model`); `model.checkpoint` switches
            `jax.checkpoint` on the scan step.
        task: the task; batches come from its "train" split of `key`.
        key: PRNG key; step i uses `fold_in(fold_in(key, 0), i)`.
        steps: optimiser steps.
        batch_size: trials per step.
        optimizer: any optax GradientTransformation (default `optax.adam(learning_rate)`).
        learning_rate: Adam's learning rate when `optimizer` is None.
        trainable: groups of projections to train (see `trainable_filter`), or a filter
            spec pytree.
        callback: called as `callback(step, loss, accuracy)` after every step.
        progress: show a progress bar (steps done, loss, batch accuracy, time left).
        checkpoint: a file to save the training to (model, optimiser state, step, key,
            history; `jaxsnn.checkpoints`) every `checkpoint_every` steps and at the end.
            If the file exists, training continues from it: a run interrupted and
            started again with the same arguments ends with the same weights, bit for
            bit, as one that was never interrupted. A file from another run (other
            sizes, batch size, learning rate, trainable groups or key) is refused.
        checkpoint_every: steps between checkpoints.

    Returns:
        A `TrainResult` (its history covers every step, those before a resume too; its
        times only this call).
    """
    check_int("steps", steps, minimum=1)
    check_int("batch_size", batch_size, minimum=1)
    check_int("checkpoint_every", checkpoint_every, minimum=1)
    train_key = jr.fold_in(key, SPLITS["train"])
    # timed from before the optimiser's init, not only over the steps: building the
    # filter and the optimiser state compiles small programs too
    with compile_timer() as compiled:
        t0 = time.perf_counter()
        done, spec, optimizer = _start(
            model, task, key, steps, batch_size, optimizer, learning_rate, trainable, checkpoint
        )
        model, opt_state, start = done.model, done.opt_state, int(done.step)
        history = ([float(x) for x in done.losses], [float(x) for x in done.accuracies])

        def one_step(i):
            nonlocal model, opt_state
            model, opt_state, loss, acc = train_step(
                model,
                opt_state,
                jr.fold_in(train_key, i),
                task=task,
                optimizer=optimizer,
                filter_spec=spec,
                batch_size=batch_size,
            )
            return loss, acc

        def after(i, loss, acc):
            history[0].append(loss)
            history[1].append(acc)
            if checkpoint is not None and ((i + 1) % checkpoint_every == 0 or i + 1 == steps):
                losses, accuracies = (jnp.asarray(h, jnp.float32) for h in history)
                save_checkpoint(checkpoint, eqx.tree_at(
                    lambda c: (c.model, c.opt_state, c.step, c.losses, c.accuracies), done,
                    (model, opt_state, jnp.asarray(i + 1), losses, accuracies),
                ))  # fmt: skip
            if callback is not None:
                callback(i, loss, acc)

        run_steps(one_step, steps, after, progress, start=start)
        wall = time.perf_counter() - t0
    compile_s = compiled[0]
    losses, accuracies = (jnp.asarray(h, jnp.float32) for h in history)
    return TrainResult(model, losses, accuracies, max(wall - compile_s, 0.0), compile_s)


def check_resumable(
    model: DecisionModel,
    task: AbstractTask,
    key: PRNGKeyArray,
    *,
    checkpoint: str | os.PathLike,
    steps: int = 60,
    batch_size: int = 16,
    optimizer: optax.GradientTransformation | None = None,
    learning_rate: float = 2e-3,
    trainable: Sequence[str] | DecisionModel = ("input", "recurrent", "readout"),
) -> int:
    """Check, before any work, that `train` with these arguments can use `checkpoint`:
    returns the steps it has done (0 without a file); raises the ValueError `train`
    would."""
    done, _, _ = _start(
        model, task, key, steps, batch_size, optimizer, learning_rate, trainable, checkpoint
    )
    return int(done.step)


def _start(model, task, key, steps, batch_size, optimizer, learning_rate, trainable, checkpoint):
    """The checkpoint training starts from (a fresh one, or the file's), the filter spec
    and the optimiser."""
    if optimizer is None:
        hashable = isinstance(learning_rate, int | float)
        optimizer = _default_optimizer(learning_rate) if hashable else optax.adam(learning_rate)
    if not isinstance(optimizer, optax.GradientTransformation):
        raise ValueError(
            f"optimizer must be an optax GradientTransformation, got {type(optimizer).__name__}"
        )
    spec = trainable if isinstance(trainable, DecisionModel) else trainable_filter(model, trainable)
    with jax.numpy_dtype_promotion("standard"):  # as in train_step
        opt_state = optimizer.init(eqx.filter(model, spec))
    done = Checkpoint(
        model, opt_state, jnp.asarray(0), key, jnp.zeros((0,)), jnp.zeros((0,)),
        _run_config(task, batch_size, learning_rate, optimizer, trainable, spec),
    )  # fmt: skip
    if checkpoint is not None:
        done = resume_checkpoint(checkpoint, done)
    if int(done.step) > steps:
        raise ValueError(
            f"the checkpoint {checkpoint} has done {int(done.step)} steps, more than steps={steps}"
        )
    return done, spec, optimizer


def _run_config(task, batch_size, learning_rate, optimizer, trainable, spec) -> dict:
    """What a checkpoint must agree on with the run resuming it (plain values)."""
    groups = "custom filter" if not isinstance(trainable, str | tuple | list) else list(trainable)
    return {
        "task": repr(task),
        "batch_size": batch_size,
        # a given optimiser cannot be compared; its state's structure still is (on load)
        "learning_rate": learning_rate if optimizer is _default_optimizer(learning_rate) else None,
        "optimizer": type(optimizer).__name__,
        "trainable": groups,
        "n_trainable": sum(int(x) for x in jax.tree.leaves(spec) if isinstance(x, bool)),
    }


def run_steps(
    step: Callable[[int], tuple[Array, Array]],
    steps: int,
    callback: Callable[[int, float, float], None] | None = None,
    progress: bool = False,
    start: int = 0,
) -> tuple[Float[Array, " steps"], Float[Array, " steps"], float, float]:
    """Call `step(i)` for start <= i < steps, timing it and reporting progress.

    Args:
        step: does update i and returns its (loss, accuracy).
        steps: number of updates.
        callback: called as `callback(i, loss, accuracy)` after every update.
        progress: show a progress bar with the loss and batch accuracy.
        start: the first update (those before were done by an earlier, resumed run).

    Returns:
        `(losses, accuracies, seconds, compile_seconds)` of the updates done here: `compile_seconds` sums JAX's
        compile events during the steps (see `TrainResult`) and `seconds` is the wall
        time of all steps less that.
    """
    losses, accuracies = [], []
    shown = bar(
        steps, desc="training", unit="step", disable=not progress, leave=False, initial=start
    )
    with compile_timer() as compiled, shown:
        t0 = time.perf_counter()
        for i in range(start, steps):
            loss, acc = step(i)
            loss, acc = float(loss), float(acc)  # blocks, so the timing and progress are real
            losses.append(loss)
            accuracies.append(acc)
            shown.set_postfix(loss=f"{loss:.4f}", accuracy=f"{acc:.3f}", refresh=False)
            shown.update(1)
            if callback is not None:
                callback(i, loss, acc)
        wall = time.perf_counter() - t0
    compile_s = compiled[0]
    return jnp.asarray(losses), jnp.asarray(accuracies), max(wall - compile_s, 0.0), compile_s

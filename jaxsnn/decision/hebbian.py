"""Hebbian training of the decision model (`jaxsnn.decision`) without gradients.

Rule: contrastive Hebbian learning (Movellan 1991; O'Reilly 1996) on spike traces.
Each training trial is run twice with the same input spikes (same trial key):

- free phase: the network as it is; its output rate gives the decision;
- clamped phase: a teacher current of `+teacher_mv` (label '1') or `-teacher_mv`
  (label '0') is injected into every output neuron, pushing the output population to
  fire fast or to stay silent.

In both phases the projections from the other populations onto the output population
(E→out, I→out; out→out stays fixed) accumulate the Hebbian correlation of their traces
(`Hebbian(on="traces")`: `Σ_t x_pre,i(t)·x_post,j(t)`, traces with τ = `tau_ms`), and the
weight update is

    Δw_ij = η · ( ⟨x_pre,i · x_post,j⟩_clamped − ⟨x_pre,i · x_post,j⟩_free )

averaged over the batch (a trial whose free output is already right by more than
`margin_hz` contributes nothing: learning stops when it is not needed), followed by
`DecisionModel.constrained()` (sparsity, Dale's law). With identical input spikes the
presynaptic traces are nearly the same in both phases, so
Δw ≈ η·x_pre·(x_post,clamped − x_post,free): weights from neurons active in '1' trials
grow until the free output fires like the taught one, those active when the output
should be silent shrink. Every quantity is local to the synapse (its own pre and
post traces and the teacher's effect on its post neuron); no gradient is computed.

Both phases are one `simulate` with `Plasticity(mode="accumulate")` inside one jitted
step, batched with `jax.vmap`; the teacher is a `CurrentInput` whose per-trial amplitude
is data (0 in the free phase).
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import optax
from jaxtyping import PRNGKeyArray

from .._checks import check_int, check_nonnegative, check_positive
from ..inputs import CurrentInput
from ..network import init_state
from ..plasticity import Hebbian, Plasticity
from ..record import Record
from ..simulation import simulate
from .tasks import SPLITS
from .train import TrainResult, run_steps

TEACHER = "teacher"


def readout_indices(model) -> tuple[int, ...]:
    """Indices of the projections from the other populations onto the output population
    (E→out, I→out). The output's own recurrent projection stays fixed: learning it makes
    the output rate so sensitive to the weights that the updates overshoot."""
    return tuple(
        i
        for i, p in enumerate(model.network.projections)
        if p.post == model.output and p.pre != model.output
    )


def _teacher_network(model):
    """The model's network with the teacher current (amplitude given per phase as data);
    appended last, so the other inputs keep their random streams."""
    teacher = CurrentInput(TEACHER, model.output, model.n_out, 0.0)
    return eqx.tree_at(lambda n: n.inputs, model.network, model.network.inputs + (teacher,))


@eqx.filter_jit
def hebbian_step(
    model,
    key: PRNGKeyArray,
    *,
    task,
    rule: Hebbian,
    batch_size: int,
    teacher_mv: float,
    margin_hz: float = float("inf"),
):
    """One contrastive-Hebbian update on a fresh batch (one JIT region).

    Args:
        model: a `jaxsnn.decision` `DecisionModel`.
        key: this step's key (batch rates, labels and trial keys derive from it).
        task: the task (`jaxsnn.decision.tasks`).
        rule: the Hebbian rule whose updates are contrasted (its `eta` is the learning rate).
        batch_size: trials per step.
        teacher_mv: teacher current (mV) of the clamped phase.
        margin_hz: a trial contributes only if its free output rate is on the wrong side
            of the threshold or within this margin of it (inf: every trial).

    Returns:
        `(model, loss, accuracy)`: the updated, constrained model and the free phase's
        batch BCE and accuracy before the update.
    """
    k_data, k_trials = jr.split(key)
    rates, labels = task.sample(k_data, batch_size, model.n_in, model.dtype)
    keys = jr.split(k_trials, batch_size)
    indices = readout_indices(model)
    plasticity = Plasticity({i: rule for i in indices}, mode="accumulate")
    network = _teacher_network(model)

    def phase(rates_hz, trial_key, teacher):
        inputs = model.trial_inputs(rates_hz) | {TEACHER: teacher}
        _, rec = simulate(
            network, init_state(network, dtype=model.dtype), model.n_steps, dt_ms=model.dt_ms,
            key=trial_key, inputs=inputs, record=Record(counts=(model.output,)),
            plasticity=plasticity,
        )  # fmt: skip
        rate = jnp.sum(rec.counts[model.output]) * (1000.0 / (model.n_out * model.window_ms))
        return plasticity.updates_of(network, rec.updates), rate

    def trial(rates_hz, label, trial_key):
        sign = (2 * label - 1).astype(model.dtype)
        teacher = jnp.stack([jnp.zeros((), model.dtype), sign * teacher_mv])
        # both phases in one vmap (one compiled scan): index 0 free, 1 clamped
        dw, rate = jax.vmap(phase, in_axes=(None, None, 0))(rates_hz, trial_key, teacher)
        # learn only when the free answer is wrong or within `margin_hz` of the threshold
        wrong_side = sign * (rate[0] - model.threshold_hz) < margin_hz
        gate = wrong_side.astype(model.dtype)
        return tuple(gate * (d[1] - d[0]) for d in dw), rate[0]

    dws, out_rates = jax.vmap(trial)(rates, labels, keys)
    projections = list(model.network.projections)
    for i, dw in zip(indices, dws, strict=True):
        w = projections[i].weights
        projections[i] = projections[i].with_weights((w + jnp.mean(dw, axis=0)).astype(w.dtype))
    network = eqx.tree_at(lambda n: n.projections, model.network, tuple(projections))
    new_model = model.with_network(network).constrained()
    logits = (out_rates - model.threshold_hz) / model.logit_scale_hz
    loss = jnp.mean(optax.sigmoid_binary_cross_entropy(logits, labels))
    accuracy = jnp.mean(((logits > 0) == (labels > 0)).astype(logits.dtype))
    return new_model, loss, accuracy


def train_hebbian(
    model,
    task,
    key: PRNGKeyArray,
    *,
    steps: int = 60,
    batch_size: int = 16,
    eta: float = 3e-6,
    teacher_mv: float = 3.0,
    margin_hz: float = 10.0,
    tau_ms: float = 20.0,
    callback: Callable[[int, float, float], None] | None = None,
    progress: bool = False,
) -> TrainResult:
    """Train the readout of a decision model with contrastive Hebbian learning (no
    gradients; rule in the module docstring).

    Args:
        model: a `DecisionModel` (`jaxsnn.decision.model.build_decision_model`).
        task: the task; batches come from its "train" split of `key`
            (step i uses `fold_in(fold_in(key, 0), i)`, as gradient training does).
        key: PRNG key.
        steps: number of updates.
        batch_size: trials per update (the update is the batch mean).
        eta: learning rate η (mV per unit of summed trace product; the sum runs over the
            trial's steps, so η scales with dt).
        teacher_mv: teacher current (mV) injected into the output neurons in the clamped
            phase, + for label '1', − for '0'.
        margin_hz: learning is gated per trial: only trials whose free output rate is on
            the wrong side of the threshold or within `margin_hz` of it contribute (the
            "learn only when necessary" stop-learning condition of Senn & Fusi 2005);
            `float("inf")` learns from every trial.
        tau_ms: time constant of the pre/post traces (ms).
        callback: called as `callback(step, loss, accuracy)` after every step.
        progress: show a progress bar (steps done, loss, batch accuracy, time left).

    Returns:
        A `TrainResult`.

    Raises:
        ValueError: bad arguments.
    """
    check_int("steps", steps, minimum=1)
    check_int("batch_size", batch_size, minimum=1)
    check_nonnegative("eta", eta)
    check_positive("teacher_mv", teacher_mv)
    check_nonnegative("margin_hz", margin_hz)
    check_positive("tau_ms", tau_ms)
    if not readout_indices(model):
        raise ValueError(f"the model has no projection onto its output '{model.output}'")
    rule = Hebbian(eta=eta, on="traces", tau_pre_ms=tau_ms, tau_post_ms=tau_ms)
    train_key = jr.fold_in(key, SPLITS["train"])

    def one_step(i):
        nonlocal model
        model, loss, acc = hebbian_step(
            model, jr.fold_in(train_key, i), task=task, rule=rule, batch_size=batch_size,
            teacher_mv=float(teacher_mv), margin_hz=float(margin_hz),
        )  # fmt: skip
        return loss, acc

    losses, accuracies, seconds, compile_s = run_steps(one_step, steps, callback, progress)
    return TrainResult(model, losses, accuracies, seconds, compile_s)

"""Hybrid learning: recurrent weights follow a local rule (STDP) while optax trains a
readout, in one jitted `lax.scan` per trial.

Model: a `Network` whose population `hidden` is read out by a leaky, non-spiking layer

    y_k(t) = y_k(t−1)·exp(−dt/τ_out) + Σ_j s_j(t)·W_jk        (W: `readout`, (n_hidden, n_out))

with logits `max_t y_k(t)` and a softmax cross-entropy loss (as in SpyTorch/T1). During
every trial the projections in `rules` change online (`plastic_step`). `hybrid_train_step`
does, in one `eqx.filter_jit`:

1. a batch of trials (`jax.vmap`), each starting from the shared network weights;
2. the gradient of the loss with respect to the parameters selected by `filter_spec`
   (default: the readout only) and the optax update of those;
3. the batch-mean plasticity update of the plastic projections (`apply_updates`).

Gradients and plasticity: with `differentiable=False` (default) the STDP updates and
traces are under `stop_gradient`, so gradients treat the plastic weights of each step as
given; with `differentiable=True` gradients also flow through the traces and updates
(through the surrogate derivatives of the spikes that drive them), e.g. into trainable
input weights upstream of a plastic projection; a tuple of projection keys selects the
plastic projections through which gradients flow.
"""

from __future__ import annotations

from collections.abc import Mapping

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float, PRNGKeyArray

from ..network import Network, init_state
from ..synapse import exp_decay
from .plastic_simulate import RuleMap, apply_updates, init_plastic_state, plastic_step


class HybridModel(eqx.Module):
    """A spiking network read out by a trainable leaky linear layer.

    Attributes:
        network: the network (plastic projections are chosen by the `rules` argument).
        readout: (n_hidden, n_out) readout weights (trained by optax).
        hidden: name of the population that is read out.
        readout_tau_ms: time constant of the readout leak (ms).
    """

    network: Network
    readout: Float[Array, "n_hidden n_out"]
    hidden: str = eqx.field(static=True)
    readout_tau_ms: float = 20.0

    def __check_init__(self):
        n = self.network.population(self.hidden).n
        if self.readout.ndim != 2 or self.readout.shape[0] != n:
            raise ValueError(
                f"readout must have shape ({n}, n_out) for population '{self.hidden}', "
                f"got {self.readout.shape}"
            )


def hybrid_logits(
    model: HybridModel,
    rules: RuleMap,
    inputs: Mapping[str, Array],
    key: PRNGKeyArray,
    *,
    n_steps: int,
    dt_ms: float,
    differentiable: bool | tuple = False,
    learning: bool = True,
) -> tuple[Float[Array, " n_out"], tuple[Array, ...]]:
    """One trial: logits `max_t y(t)` and the trial's total plasticity update.

    Args:
        model: the hybrid model.
        rules: plastic projections and their rules (as in `plastic_simulate`).
        inputs: time-first input data, name -> (n_steps, n).
        key: trial key.
        n_steps: number of steps.
        dt_ms: step length (ms).
        differentiable: gradients through the plasticity (module docstring): True, False
            or a tuple of projection keys (as in `rules`) whose updates carry gradients.
        learning: False freezes the plastic weights.

    Returns:
        `(logits, dw)`: (n_out,) logits and, per plastic projection, the trial's update.
    """
    network = model.network
    state = init_state(network, dtype=model.readout.dtype)
    ps = init_plastic_state(network, rules, model.readout.dtype)
    sl = network.slice(model.hidden)
    decay = exp_decay(dt_ms / model.readout_tau_ms)
    y0 = jnp.zeros((model.readout.shape[1],), model.readout.dtype)

    def step(carry, data_t):
        state, ps, y, y_max = carry
        state, ps, _ = plastic_step(
            network, rules, state, ps, data_t, dt_ms=dt_ms, key=key, learning=learning,
            differentiable=differentiable,
        )  # fmt: skip
        y = y * decay + state.spikes[sl] @ model.readout
        return (state, ps, y, jnp.maximum(y_max, y)), None

    carry = (state, ps, y0, jnp.full_like(y0, -jnp.inf))
    (_, ps, _, y_max), _ = jax.lax.scan(step, carry, dict(inputs), length=n_steps)
    return y_max, ps.dw


def readout_filter(model: HybridModel) -> HybridModel:
    """Filter spec selecting only the readout weights as trainable."""
    spec = jax.tree.map(lambda _: False, model)
    return eqx.tree_at(lambda m: m.readout, spec, True)


@eqx.filter_jit
def hybrid_train_step(
    model: HybridModel,
    opt_state: optax.OptState,
    inputs: Mapping[str, Array],
    labels: Float[Array, " B"],
    keys: PRNGKeyArray,
    *,
    optimizer: optax.GradientTransformation,
    rules: RuleMap,
    n_steps: int,
    dt_ms: float,
    filter_spec: HybridModel | None = None,
    differentiable: bool | tuple = False,
) -> tuple[HybridModel, optax.OptState, Float[Array, ""], Float[Array, ""]]:
    """One hybrid step on a batch (one JIT region; see the module docstring).

    Args:
        model: the model.
        opt_state: `optimizer.init(eqx.filter(model, filter_spec))`.
        inputs: name -> (B, n_steps, n) time-first input data per trial.
        labels: (B,) integer class labels in [0, n_out).
        keys: (B,) trial keys.
        optimizer: an optax GradientTransformation.
        rules: plastic projections and rules.
        n_steps: steps per trial.
        dt_ms: step length (ms).
        filter_spec: what optax trains (default `readout_filter(model)`).
        differentiable: gradients through the plasticity traces and updates: True, False
            or a tuple of projection keys (hashable: it is a static argument).

    Returns:
        `(model, opt_state, loss, accuracy)`: updated model (optax on the trainable
        parameters, batch-mean plasticity on the plastic projections), new optimiser state,
        batch loss and accuracy before the update.
    """
    spec = readout_filter(model) if filter_spec is None else filter_spec
    params, static = eqx.partition(model, spec)

    def loss_fn(params):
        m = eqx.combine(params, static)

        def trial(inp, key):
            return hybrid_logits(
                m, rules, inp, key, n_steps=n_steps, dt_ms=dt_ms, differentiable=differentiable
            )

        logits, dws = jax.vmap(trial)(dict(inputs), keys)
        loss = jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, labels))
        return loss, (logits, dws)

    (loss, (logits, dws)), grads = eqx.filter_value_and_grad(loss_fn, has_aux=True)(params)
    # optax mixes its int32 step count with floats (Adam's bias correction), which strict
    # dtype promotion rejects; our own arithmetic stays strict
    with jax.numpy_dtype_promotion("standard"):
        updates, opt_state = optimizer.update(grads, opt_state, params)
    params = eqx.apply_updates(params, updates)
    model = eqx.combine(params, static)
    network = apply_updates(model.network, rules, jax.lax.stop_gradient(dws), average=True)
    model = eqx.tree_at(lambda m: m.network, model, network)
    accuracy = jnp.mean((jnp.argmax(logits, axis=-1) == labels).astype(logits.dtype))
    return model, opt_state, loss, accuracy

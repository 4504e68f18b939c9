"""Hybrid learning: recurrent weights follow a local rule (STDP) while optax trains a
readout, in one jitted `simulate` per trial.

Model: a `Network` whose population `hidden` is read out by a population of leaky,
non-spiking neurons (`LeakyIntegrator`) through a dense delta projection W
(`readout_weights`, (n_hidden, n_out)):

    y_k(t) = y_k(t−1)·exp(−dt/τ_out) + Σ_j s_j(t−1)·W_jk

(the readout sees the hidden spikes of the previous step, as every recurrent
projection does), with logits `max_t y_k(t)` and a softmax cross-entropy loss (as in
SpyTorch/T1). During every trial the plastic projections change online
(`jaxsnn.plasticity.Plasticity`). `hybrid_train_step` does, in one `eqx.filter_jit`:

1. a batch of trials (`jax.vmap`), each starting from the shared network weights;
2. the gradient of the loss with respect to the parameters selected by `filter_spec`
   (default: the readout only) and the optax update of those;
3. the batch-mean plasticity update of the plastic projections, bounded by their rules.

Gradients and plasticity: with `Plasticity(..., differentiable=False)` (default) the
updates and traces are under `stop_gradient`, so gradients treat the plastic weights of
each step as given; with `differentiable=True` gradients also flow through the traces and
updates (through the surrogate derivatives of the spikes that drive them), e.g. into
trainable input weights upstream of a plastic projection.
"""

from __future__ import annotations

from collections.abc import Mapping

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float, PRNGKeyArray

from .layout import DenseLayout
from .network import Network, init_state
from .neurons import LeakyIntegrator
from .plasticity import Plasticity
from .population import Population
from .projection import Projection
from .propagation import Dense
from .record import Record
from .simulation import simulate
from .synapses import Delta


class HybridModel(eqx.Module):
    """A spiking network read out by a trainable leaky linear layer.

    Attributes:
        network: the network, readout population and projection included.
        hidden: name of the population that is read out.
        readout: name of the readout population (`LeakyIntegrator` neurons).
    """

    network: Network
    hidden: str = eqx.field(static=True)
    readout: str = eqx.field(default="readout", static=True)

    @classmethod
    def build(
        cls,
        network: Network,
        readout_weights: Float[Array, "n_hidden n_out"],
        hidden: str,
        *,
        readout_tau_ms: float = 20.0,
        readout: str = "readout",
    ) -> HybridModel:
        """`network` with a readout population of `n_out` leaky integrators
        (time constant `readout_tau_ms`) fed by `hidden` through `readout_weights`."""
        n = network.population(hidden).n
        w = jnp.asarray(readout_weights)
        if w.ndim != 2 or w.shape[0] != n:
            raise ValueError(
                f"readout_weights must have shape ({n}, n_out) for population '{hidden}', "
                f"got {w.shape}"
            )
        out = Population(readout, w.shape[1], LeakyIntegrator(tau_mem_ms=readout_tau_ms))
        proj = Projection(hidden, readout, Delta(), w, DenseLayout(n, w.shape[1]), Dense())
        full = Network((*network.populations, out), (*network.projections, proj), network.inputs)
        return cls(full, hidden, readout)

    @property
    def readout_weights(self) -> Float[Array, "n_hidden n_out"]:
        """The readout weights W."""
        return self.network.projection(self.hidden, self.readout).weights


def readout_index(model: HybridModel) -> int:
    """Index of the hidden → readout projection in `model.network.projections`."""
    for i, p in enumerate(model.network.projections):
        if (p.pre, p.post) == (model.hidden, model.readout):
            return i
    raise KeyError(f"no projection {model.hidden}->{model.readout}")


def hybrid_logits(
    model: HybridModel,
    plasticity: Plasticity | None,
    inputs: Mapping[str, Array],
    key: PRNGKeyArray,
    *,
    n_steps: int,
    dt_ms: float,
) -> tuple[Float[Array, " n_out"], Network | None]:
    """One trial: logits `max_t y(t)` and the trial's plasticity update.

    Args:
        model: the hybrid model.
        plasticity: the plastic projections and their rules, or None (no learning).
        inputs: per-trial input data (as in `simulate`).
        key: trial key.
        n_steps: number of steps.
        dt_ms: step length (ms).

    Returns:
        `(logits, updates)`: (n_out,) logits and the trial's network-shaped update (None
        without plasticity).
    """
    network = model.network
    dtype = model.readout_weights.dtype
    _, rec = simulate(
        network,
        init_state(network, dtype=dtype),
        n_steps,
        dt_ms=dt_ms,
        key=key,
        inputs=inputs,
        record=Record(voltages=model.readout),
        plasticity=plasticity,
    )
    return jnp.max(rec.v[model.readout], axis=0), rec.updates


def readout_filter(model: HybridModel) -> HybridModel:
    """Filter spec selecting only the readout weights as trainable."""
    spec = jax.tree.map(lambda _: False, model)
    i = readout_index(model)
    return eqx.tree_at(lambda m: m.network.projections[i].weights, spec, True)


@eqx.filter_jit
def hybrid_train_step(
    model: HybridModel,
    opt_state: optax.OptState,
    inputs: Mapping[str, Array],
    labels: Float[Array, " B"],
    keys: PRNGKeyArray,
    *,
    optimizer: optax.GradientTransformation,
    plasticity: Plasticity,
    n_steps: int,
    dt_ms: float,
    filter_spec: HybridModel | None = None,
) -> tuple[HybridModel, optax.OptState, Float[Array, ""], Float[Array, ""]]:
    """One hybrid step on a batch (one JIT region; see the module docstring).

    Args:
        model: the model.
        opt_state: `optimizer.init(eqx.filter(model, filter_spec))`.
        inputs: per-trial input data with a leading batch axis (B, ...).
        labels: (B,) integer class labels in [0, n_out).
        keys: (B,) trial keys.
        optimizer: an optax GradientTransformation.
        plasticity: the plastic projections and rules (online within each trial).
        n_steps: steps per trial.
        dt_ms: step length (ms).
        filter_spec: what optax trains (default `readout_filter(model)`).

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
            return hybrid_logits(m, plasticity, inp, key, n_steps=n_steps, dt_ms=dt_ms)

        logits, updates = jax.vmap(trial)(dict(inputs), keys)
        loss = jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, labels))
        return loss, (logits, updates)

    (loss, (logits, updates)), grads = eqx.filter_value_and_grad(loss_fn, has_aux=True)(params)
    # optax mixes its int32 step count with floats (Adam's bias correction), which strict
    # dtype promotion rejects; our own arithmetic stays strict
    with jax.numpy_dtype_promotion("standard"):
        step, opt_state = optimizer.update(grads, opt_state, params)
    params = eqx.apply_updates(params, step)
    model = eqx.combine(params, static)
    mean = plasticity.batch_mean(model.network, jax.lax.stop_gradient(updates))
    model = eqx.tree_at(lambda m: m.network, model, eqx.apply_updates(model.network, mean))
    accuracy = jnp.mean((jnp.argmax(logits, axis=-1) == labels).astype(logits.dtype))
    return model, opt_state, loss, accuracy

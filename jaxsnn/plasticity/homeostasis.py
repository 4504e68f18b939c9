"""Homeostasis and structure: the mean-field threshold, weight rescaling, pruning and
re-sampling. All functions are pure and jit-able (shapes are static; counts may be traced).

Mean-field threshold (Freddi et al., bioRxiv 10.1101/2025.02.05.636716, the source paper
of snn-reservoir-py): for a reservoir of discrete-time LIF neurons the mean membrane
potential sits at the threshold, the network being at its critical point, when

    θ = w̄ · k̄_in + 2 · Ī · T_ref

- w̄: mean weight of the existing synapses (mV per spike);
- k̄_in: mean in-degree, number of existing synapses / number of postsynaptic neurons;
- T_ref: refractory period in **steps**;
- Ī: mean external input current per neuron per step (mV per step), averaged over **all**
  N neurons and all steps. This is the paper's definition: a current I_ext injected into
  `n_stimulated` random neurons every P steps gives Ī = n_stimulated·I_ext/(P·N)
  (`mean_input_current`). It is *not* snn-reservoir-py's `input_mean_current`, which is
  the spike density of the input matrix (spikes per input neuron per step, without the
  current amplitude); the two agree only with unit amplitude and every neuron an input.

Solved for the weight, `critical_weight`: w_crit = (θ − 2·Ī·T_ref) / k̄_in.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float, PRNGKeyArray

from .._checks import check_positive, check_probability
from ..initializers import AbstractInitializer


def mean_input_current(
    i_ext_mv: float | Array, period_steps: float, n_neurons: int, n_stimulated: int = 1
) -> float | Array:
    """The paper's Ī = n_stimulated·I_ext / (P·N): mean input per neuron per step (mV).

    Args:
        i_ext_mv: current (mV) injected into each stimulated neuron once per period.
        period_steps: P, the period of the stimulation in steps, > 0.
        n_neurons: N, number of neurons in the reservoir.
        n_stimulated: neurons stimulated per period (1 in the paper's formula).
    """
    check_positive("period_steps", period_steps)
    check_positive("n_neurons", n_neurons)
    return n_stimulated * i_ext_mv / (period_steps * n_neurons)


def _exists(weights: Array, exists: Bool[Array, "..."] | None) -> Array:
    # snn-reservoir-py counts the non-zero entries as synapses; an explicit mask wins.
    return weights != 0 if exists is None else exists


def mean_weight_and_in_degree(
    weights: Float[Array, "n_pre n_post"],
    exists: Bool[Array, "n_pre n_post"] | None = None,
    *,
    n_post: int | None = None,
    use_abs: bool = False,
) -> tuple[Float[Array, ""], Float[Array, ""]]:
    """`(w̄, k̄_in)`: mean weight over the existing synapses and mean in-degree.

    Args:
        weights: dense (n_pre, n_post) weights, or ELL (n_pre, k) with `n_post` given.
        exists: where synapses exist (default: non-zero weights).
        n_post: number of postsynaptic neurons (default `weights.shape[1]`).
        use_abs: average |w| instead of w.
    """
    ex = _exists(weights, exists)
    n_post = weights.shape[1] if n_post is None else n_post
    count = jnp.sum(ex, dtype=weights.dtype)
    w = jnp.abs(weights) if use_abs else weights
    w_bar = jnp.sum(jnp.where(ex, w, 0)) / jnp.maximum(count, 1)
    return w_bar, count / n_post


def critical_threshold(
    weights: Float[Array, "n_pre n_post"],
    mean_input: float | ArrayLike,
    t_ref_steps: float,
    *,
    exists: Bool[Array, "n_pre n_post"] | None = None,
    n_post: int | None = None,
    use_abs: bool = False,
) -> Float[Array, ""]:
    """Mean-field threshold θ = w̄·k̄_in + 2·Ī·T_ref (definitions in the module docstring).

    Args:
        weights: recurrent weights (mV), dense (n_pre, n_post) or ELL with `n_post`.
        mean_input: Ī (mV per neuron per step), or an array of the external input current
            of every neuron at every step, e.g. (T, N), whose mean is Ī.
        t_ref_steps: refractory period in steps (t_ref_ms / dt_ms).
        exists: where synapses exist (default: non-zero weights).
        n_post: number of postsynaptic neurons for ELL weights.
        use_abs: use the mean of |w|.

    Returns:
        θ (mV), a scalar.
    """
    w_bar, k_in = mean_weight_and_in_degree(weights, exists, n_post=n_post, use_abs=use_abs)
    i_bar = jnp.mean(jnp.asarray(mean_input, w_bar.dtype))
    return w_bar * k_in + 2 * i_bar * t_ref_steps


def critical_weight(
    theta: float | Array,
    mean_in_degree: float | Array,
    mean_input: float | Array,
    t_ref_steps: float,
) -> float | Array:
    """The mean weight at which the network is critical: w_crit = (θ − 2·Ī·T_ref) / k̄_in.

    Inverts `critical_threshold` for a given threshold θ (mV), mean in-degree k̄_in,
    mean input Ī (mV per neuron per step) and refractory period T_ref (steps).
    """
    check_positive("mean_in_degree", mean_in_degree)
    return (theta - 2 * mean_input * t_ref_steps) / mean_in_degree


def rescale_to_mean(
    weights: Float[Array, "n_pre k"],
    target_mean: float | Array,
    exists: Bool[Array, "n_pre k"] | None = None,
) -> Float[Array, "n_pre k"]:
    """Weights multiplied by one factor so that their mean over the existing synapses is
    `target_mean` (signs and relative sizes kept; absent synapses stay 0).

    Returns the new weights (a structural operation, not a plasticity update).
    """
    ex = _exists(weights, exists)
    current = jnp.sum(jnp.where(ex, weights, 0)) / jnp.maximum(jnp.sum(ex, dtype=weights.dtype), 1)
    factor = jnp.where(current != 0, target_mean / jnp.where(current != 0, current, 1), 1)
    return jnp.where(ex, weights * factor, 0).astype(weights.dtype)


def prune_weakest(
    weights: Float[Array, "n_pre k"],
    fraction: float | Array,
    exists: Bool[Array, "n_pre k"] | None = None,
) -> tuple[Float[Array, "n_pre k"], Bool[Array, "n_pre k"]]:
    """Remove the ⌊fraction·n⌋ existing synapses with the smallest |w| (n = number of
    existing synapses; ties broken by position).

    Returns:
        `(weights, exists)` with the pruned synapses set to 0 and marked absent.
    """
    check_probability("fraction", fraction)
    ex = _exists(weights, exists)
    return prune_count(weights, jnp.floor(fraction * jnp.sum(ex, dtype=weights.dtype)), ex)


def prune_count(
    weights: Float[Array, "n_pre k"],
    count: int | Array,
    exists: Bool[Array, "n_pre k"] | None = None,
) -> tuple[Float[Array, "n_pre k"], Bool[Array, "n_pre k"]]:
    """Remove the `count` existing synapses with the smallest |w| (ties broken by
    position); `prune_weakest` with the count given instead of a fraction.

    Returns:
        `(weights, exists)` with the pruned synapses set to 0 and marked absent.
    """
    ex = _exists(weights, exists)
    flat_ex = ex.ravel()
    score = jnp.where(flat_ex, jnp.abs(weights).ravel(), jnp.inf)
    rank = jnp.argsort(jnp.argsort(score, stable=True), stable=True)
    pruned = (rank < jnp.asarray(count).astype(rank.dtype)) & flat_ex
    keep = (flat_ex & ~pruned).reshape(ex.shape)
    return jnp.where(keep, weights, 0).astype(weights.dtype), keep


def resample_weights(
    key: PRNGKeyArray,
    weights: Float[Array, "n_pre k"],
    init: AbstractInitializer,
    exists: Bool[Array, "n_pre k"] | None = None,
    *,
    where: Bool[Array, "n_pre k"] | None = None,
    scale: float | Array = 1.0,
) -> Float[Array, "n_pre k"]:
    """Fresh weights `scale·init(...)` at the existing synapses (only where `where` is
    True, if given); other entries are kept, absent synapses stay 0.

    Use `scale=-g` for inhibitory delta/current projections (weights <= 0).
    """
    ex = _exists(weights, exists)
    fresh = scale * init(key, weights.size, weights.dtype).reshape(weights.shape)
    change = ex if where is None else ex & where
    return jnp.where(change, fresh, jnp.where(ex, weights, 0)).astype(weights.dtype)


# Projection-level helpers: the same operations on a `jaxsnn.Projection`.


def projection_critical_threshold(projection, mean_input, t_ref_steps, *, use_abs=False):
    """`critical_threshold` of a projection's weights (its own mask/targets)."""
    return critical_threshold(
        projection.weights,
        mean_input,
        t_ref_steps,
        exists=projection.layout.exists(),
        n_post=projection.n_post,
        use_abs=use_abs,
    )


def rescale_projection(projection, target_mean):
    """The projection with its weights rescaled to mean `target_mean`."""
    ex = projection.layout.exists()
    return projection.with_weights(rescale_to_mean(projection.weights, target_mean, ex))


def prune_projection(projection, fraction):
    """The projection with its weakest `fraction` of synapses removed (dense: mask
    cleared; sparse: slots turned into padding, target `n_post`)."""
    ex = projection.layout.exists()
    w, keep = prune_weakest(projection.weights, fraction, ex)
    projection = projection.with_weights(w)
    return eqx.tree_at(lambda p: p.layout, projection, projection.layout.keep(keep))


def resample_projection(key, projection, init, *, where=None, scale=None):
    """The projection with fresh weights from `init` at its synapses (sign from Dale's
    law unless `scale` is given)."""
    ex = projection.layout.exists()
    scale = (projection.sign or 1) if scale is None else scale
    w = resample_weights(key, projection.weights, init, ex, where=where, scale=scale)
    return projection.with_weights(w)

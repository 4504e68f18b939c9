"""snnpy's homeostasis and structural operations on a `Reservoir`: the mean-field
threshold, weight rescaling, pruning and re-sampling. Each returns a new reservoir.

The threshold is snnpy's `compute_global_scalar_threshold`,

    θ = w̄ · k̄_in + 2 · I · T_ref

with w̄ the mean weight of the existing synapses (stored zeros included), k̄_in the mean
in-degree (synapses / n), T_ref the refractory period in steps and I snnpy's
`input_mean_current`: the fraction of 1s in the input matrix (spikes per input neuron
per step; neither the current amplitude nor the number of input neurons enters). The
paper's own Ī (mean current per neuron per step) is
`jaxsnn.plasticity.homeostasis.critical_threshold`; the two agree only with unit
amplitude and every neuron an input.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, PRNGKeyArray

from .._checks import check_finite
from ..initializers import Normal
from ..plasticity.homeostasis import critical_threshold, prune_count, rescale_to_mean
from ..plasticity.homeostasis import resample_weights as resample
from .model import Reservoir


def input_spike_density(inputs: ArrayLike) -> Array:
    """snnpy's `input_mean_current`: the fraction of non-zero entries of the input matrix
    (n_in, T), or of every matrix of a batch (B, n_in, T) together; 0 for an empty one."""
    x = jnp.asarray(inputs)
    if x.size == 0:
        return jnp.zeros((), jnp.float32)
    return jnp.count_nonzero(x).astype(jnp.float32) / x.size


def mean_field_threshold(
    reservoir: Reservoir, inputs: ArrayLike, *, use_abs_weights: bool = False
) -> Array:
    """θ = w̄·k̄_in + 2·I·T_ref for these inputs (module docstring); snnpy's
    `compute_global_scalar_threshold(use_abs_weights)` after `set_input_spike_times`."""
    return critical_threshold(
        reservoir.weights,
        input_spike_density(inputs),
        reservoir.refractory_steps,
        exists=reservoir.exists(),
        n_post=reservoir.n_neurons,
        use_abs=use_abs_weights,
    )


def apply_mean_field_threshold(
    reservoir: Reservoir, inputs: ArrayLike, *, use_abs_weights: bool = False
) -> Reservoir:
    """The reservoir with its threshold set to `mean_field_threshold` (snnpy's
    `apply_global_scalar_threshold`); the threshold is stored as float32, the precision
    in which snnpy compares it with the potentials."""
    theta = mean_field_threshold(reservoir, inputs, use_abs_weights=use_abs_weights)
    return eqx.tree_at(lambda r: r.threshold, reservoir, theta.astype(jnp.float32))


def rescale_weights(reservoir: Reservoir, target_mean: float) -> Reservoir:
    """All weights times one factor so that the mean over the existing synapses is
    `target_mean` (snnpy's `rescale_synaptic_weights_to_mean`).

    Raises:
        ValueError: if the current mean is 0 and the target is not.
    """
    check_finite("target_mean", target_mean)
    ex = reservoir.exists()
    current = float(jnp.sum(jnp.where(ex, reservoir.weights, 0)) / max(int(jnp.sum(ex)), 1))
    if current == 0.0 and target_mean != 0.0:
        raise ValueError("cannot rescale weights whose mean is 0 to a non-zero mean")
    return reservoir.with_weights(rescale_to_mean(reservoir.weights, target_mean, ex))


def prune(reservoir: Reservoir, fraction: float) -> Reservoir:
    """Remove the weakest ⌊fraction·n⌋ synapses by |w| (at least 1, at most n − 1;
    n = existing synapses), then every synapse of weight exactly 0: snnpy's
    `prune(fraction)`, whose `eliminate_zeros` also drops synapses that STDP clipped to 0.
    Ties in |w| are broken by storage position (snnpy leaves them to `argpartition`).

    Raises:
        ValueError: unless 0 < fraction < 1.
    """
    if not isinstance(fraction, int | float) or not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must lie strictly between 0 and 1, got {fraction!r}")
    ex = reservoir.exists()
    n = int(jnp.sum(ex))
    if n == 0:
        return reservoir
    k = max(1, min(n - 1, int(np.floor(fraction * n))))
    new_w, keep = prune_count(reservoir.weights, k, ex)
    keep = keep & (new_w != 0)
    return eqx.tree_at(
        lambda r: (r.weights, r.layout), reservoir, (new_w, reservoir.layout.keep(keep))
    )


def resample_weights(
    reservoir: Reservoir, key: PRNGKeyArray, mean: float, std: float = 0.1
) -> Reservoir:
    """Fresh weights ~ Normal(mean, std·mean) on the synapses of non-zero weight
    (snnpy's `reset_synaptic_weights(mean, std)`: `std` is relative to the mean, and
    synapses whose weight is 0 are dropped, as snnpy rebuilds from `nonzero()`)."""
    check_finite("mean", mean)
    check_finite("std", std)
    keep = reservoir.exists() & (reservoir.weights != 0)
    # N(mean, (std·mean)²) is N(mean, |std·mean|²): Normal wants a non-negative std
    new_w = resample(key, reservoir.weights, Normal(mean, abs(std * mean)), keep)
    return eqx.tree_at(
        lambda r: (r.weights, r.layout), reservoir, (new_w, reservoir.layout.keep(keep))
    )

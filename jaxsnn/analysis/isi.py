"""Inter-spike intervals (ISIs): their coefficient of variation and their histogram.

Every ISI statistic here comes from one pass over time, `isi_terms`, that needs no list of
spike times (whose length depends on the data, which `jit` cannot have). It runs two
linear recurrences, per neuron, in one `lax.scan`:

    τ_t = s_t·t + (1 − s_t)·τ_{t−1}     time of the last spike (steps), τ_{−1} = 0
    h_t = s_t   + (1 − s_t)·h_{t−1}     "has spiked", h_{−1} = 0

and gives, at each step t, the weight `w_t = s_t·h_{t−1}` and the interval
`isi_t = t − τ_{t−1}` (steps). On 0/1 spikes w_t is 1 exactly at the spikes that have a
predecessor and isi_t is the interval to it, so weighted sums over t are exact sums over
the ISIs; on real-valued spikes in [0, 1] (surrogate-gradient spikes) they are smooth
(polynomial) in the spikes, which makes `cv_isi(..., differentiable=True)` differentiable.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int

from .._checks import check_probability, is_concrete
from ._dense import Spikes, as_dense, check_dt_ms, safe_divide
from ._recurrence import linear_recurrence


# jitted, here and below, so that an eager call compiles once, not operation by operation
@jax.jit
def isi_terms(s: Float[Array, "t n"]) -> tuple[Float[Array, "t n"], Float[Array, "t n"]]:
    """Per step, the ISI weight `w_t = s_t·h_{t−1}` and interval `t − τ_{t−1}` (steps).

    See the module docstring. `s` holds spikes in [0, 1]; the result is in `s`'s dtype.
    """
    t = jnp.arange(s.shape[0], dtype=s.dtype)[:, None]
    keep = 1 - s
    # τ and h share their multiplier, so one scan carries both side by side
    both = linear_recurrence(
        jnp.concatenate([keep, keep], axis=1), jnp.concatenate([s * t, s], axis=1)
    )
    tau, has = jnp.split(both, 2, axis=1)
    zero = jnp.zeros_like(s[:1])
    tau_prev = jnp.concatenate([zero, tau[:-1]], axis=0)
    has_prev = jnp.concatenate([zero, has[:-1]], axis=0)
    return s * has_prev, t - tau_prev


@jax.jit
def isi_moments(
    s: Float[Array, "t n"],
) -> tuple[Float[Array, " n"], Float[Array, " n"], Float[Array, " n"]]:
    """Per neuron: the (weighted) number of ISIs, their mean and their variance (ddof 0),
    in steps. Mean and variance are garbage where the count is 0; callers mask them."""
    weight, isi = isi_terms(s)
    count = jnp.sum(weight, axis=0)
    den = jnp.where(count > 0, count, jnp.ones_like(count))
    mean = jnp.sum(weight * isi, axis=0) / den
    # two passes (deviations from the mean) rather than E[x²] − E[x]², which cancels
    # catastrophically in float32 for long, regular trains
    var = jnp.sum(weight * (isi - mean) ** 2, axis=0) / den
    return count, mean, var


def cv_isi(spikes: Spikes, *, dt_ms: float, differentiable: bool = False) -> Float[Array, " n"]:
    """Coefficient of variation of each neuron's inter-spike intervals, std/mean.

    The standard deviation is the population one (ddof 0, as `np.std`): for ISIs
    x_1..x_k, `CV = sqrt(mean((x − x̄)²)) / x̄`. A homogeneous Poisson train has CV → 1,
    a perfectly regular one CV = 0. CV is dimensionless, so `dt_ms` does not change it.

    Args:
        spikes: (time, neuron) spikes, or a `SpikeEvents`. By default every entry > 0 is
            one spike. With `differentiable=True` the entries are used as they are and must
            lie in [0, 1] (surrogate-gradient spikes: 0/1 forward, with a gradient).
        dt_ms: the time step in ms (checked, like every analysis's).
        differentiable: compute from the values through the recurrences of the module
            docstring. On 0/1 spikes the value is the exact CV; on values in (0, 1) it is
            a smooth function of them, so `jax.grad` flows into the spikes.

    Returns:
        (neuron,) CV. NaN where a neuron has fewer than 2 ISIs, i.e. fewer than 3 spikes
        (entries > 0), in both modes. At a perfectly regular train (CV = 0) the value is
        exact and the gradient of the square root (infinite there) is taken as 0, so one
        regular neuron does not turn a summed loss's gradient into NaN.

    Raises:
        ValueError: on a bad `spikes` shape, `dt_ms`, or (differentiable, concrete input)
            values outside [0, 1].
    """
    s = as_dense(spikes)
    check_dt_ms(dt_ms)
    if differentiable and is_concrete(s):
        check_probability("spikes (with differentiable=True)", s)
    return _cv_isi(s, differentiable)


@functools.partial(jax.jit, static_argnums=1)
def _cv_isi(s: Float[Array, "t n"], differentiable: bool) -> Float[Array, " n"]:
    n_spikes = jnp.sum(s > 0, axis=0)
    if not differentiable:
        s = (s > 0).astype(s.dtype)
    _, mean, var = isi_moments(s)
    valid = n_spikes >= 3
    # where the ISIs are all equal (var = 0) the square root has no derivative: the
    # gradient there is taken as 0 instead of letting an infinity turn the whole into NaN
    positive = valid & (var > 0)
    std = jnp.where(positive, jnp.sqrt(jnp.where(positive, var, jnp.ones_like(var))), 0.0)
    return safe_divide(std.astype(var.dtype), mean, valid)


def isi_histogram(spikes: Spikes, *, bins_ms: ArrayLike, dt_ms: float) -> Int[Array, " bins"]:
    """The number of ISIs, pooled over all neurons, in each bin of `bins_ms`.

    Bins are as in `np.histogram`: edges e_0 < e_1 < ... < e_k give k bins
    [e_i, e_{i+1}), the last one closed, [e_{k−1}, e_k]; ISIs outside [e_0, e_k] are not
    counted. An ISI is a whole number of steps times `dt_ms`; it is compared with the edges
    in steps, with edges within 1e-9 step of a multiple of `dt_ms` taken as that multiple
    (so 0.3 ms at dt 0.1 ms is 3 steps, whatever the float rounding). Every entry > 0 is
    one spike. Not differentiable (counts).

    Args:
        spikes: (time, neuron) spikes, or a `SpikeEvents`.
        bins_ms: (k + 1,) increasing bin edges in ms (a concrete array: fixed bins, so the
            result has a fixed shape under `jit`).
        dt_ms: the time step in ms.

    Returns:
        (k,) int32 counts.

    Raises:
        ValueError: on a bad `spikes` shape or `dt_ms`, or edges that are not a 1-D
            increasing concrete array of at least 2 values.
    """
    s = as_dense(spikes)
    dt_ms = check_dt_ms(dt_ms)
    if not is_concrete(bins_ms):
        raise ValueError("bins_ms must be a concrete array (fixed bins), not a traced value")
    edges = np.asarray(bins_ms, dtype=np.float64)
    if edges.ndim != 1 or edges.size < 2 or not np.all(np.isfinite(edges)):
        raise ValueError(f"bins_ms must be a 1-D array of >= 2 finite edges, got {edges!r}")
    if not np.all(np.diff(edges) > 0):
        raise ValueError(f"bins_ms must be strictly increasing, got {edges!r}")
    # ISIs are 1 .. T − 1 steps, so clipping the edges to [0, T] changes no count and
    # keeps them in int32
    in_steps = np.clip(edges / dt_ms, -1.0, s.shape[0] + 1.0)
    # integer thresholds: bin i holds ISIs of lower[i] .. lower[i+1] − 1 steps
    lower = np.ceil(in_steps[:-1] - 1e-9).astype(np.int32)
    top = np.floor(in_steps[-1] + 1e-9).astype(np.int32)
    return _isi_histogram(s, jnp.asarray(lower), jnp.asarray(top))


@jax.jit
def _isi_histogram(s: Float[Array, "t n"], lower: Array, top: Array) -> Int[Array, " k"]:
    weight, isi = isi_terms((s > 0).astype(s.dtype))
    isi = isi.astype(jnp.int32)
    index = jnp.searchsorted(lower, isi, side="right") - 1
    counted = (weight > 0) & (index >= 0) & (isi <= top)
    index = jnp.where(counted, index, len(lower))  # out of range: dropped
    return jnp.zeros(len(lower), jnp.int32).at[index.reshape(-1)].add(1, mode="drop")

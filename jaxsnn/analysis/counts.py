"""Spike counts in windows: the Fano factor and spike-count (noise) correlations.

The record is cut into non-overlapping windows of `window_ms`, starting at step 0; a
trailing partial window (the last T mod w steps, w the window in steps) is dropped, so
that every count covers the same time. Counts are sums of the entries, so these
measures are polynomial or rational in the spikes and differentiable in real-valued
surrogate spikes.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._dense import Spikes, as_dense, check_dt_ms, safe_divide, steps_of


def window_counts(spikes: Spikes, *, window_ms: float, dt_ms: float) -> Float[Array, "windows n"]:
    """Each neuron's spike count in consecutive non-overlapping windows.

    Args:
        spikes: (time, neuron) spikes (entries are summed as counts), or a `SpikeEvents`.
        window_ms: the window length in ms, a whole number of steps (>= dt_ms).
        dt_ms: the time step in ms.

    Returns:
        (T // w, neuron) counts, w = window_ms / dt_ms steps; the last T mod w steps are
        dropped.

    Raises:
        ValueError: on a bad shape, `dt_ms` or `window_ms`, or a window longer than the
            record.
    """
    s = as_dense(spikes)
    dt_ms = check_dt_ms(dt_ms)
    w = steps_of("window_ms", window_ms, dt_ms)
    n_windows = s.shape[0] // w
    if n_windows < 1:
        raise ValueError(
            f"window_ms={window_ms} ({w} steps) is longer than the record ({s.shape[0]} steps)"
        )
    return s[: n_windows * w].reshape(n_windows, w, s.shape[1]).sum(axis=1)


def _counts_for_variance(spikes, window_ms, dt_ms):
    counts = window_counts(spikes, window_ms=window_ms, dt_ms=dt_ms)
    if counts.shape[0] < 2:
        raise ValueError(
            f"window_ms={window_ms} leaves {counts.shape[0]} full window in the record; a "
            "variance needs at least 2"
        )
    return counts


def fano_factor(spikes: Spikes, *, window_ms: float, dt_ms: float) -> Float[Array, " n"]:
    """Each neuron's Fano factor: variance / mean of its counts in windows of `window_ms`.

    The variance is the unbiased one (ddof 1), which for Poisson counts estimates the
    mean count without bias, so a homogeneous Poisson train has a Fano factor near 1; a
    perfectly regular train whose period divides the window has Fano factor 0. Windows
    as in `window_counts` (a trailing partial window is dropped).

    Args:
        spikes: (time, neuron) spikes (entries are counts), or a `SpikeEvents`.
        window_ms: the window length in ms, a whole number of steps.
        dt_ms: the time step in ms.

    Returns:
        (neuron,) Fano factors; NaN where the mean count is 0 (a silent neuron).

    Raises:
        ValueError: on bad arguments, or fewer than 2 full windows.
    """
    return _fano(_counts_for_variance(spikes, window_ms, dt_ms))


@jax.jit
def _fano(counts: Float[Array, "windows n"]) -> Float[Array, " n"]:
    mean = jnp.mean(counts, axis=0)
    var = jnp.var(counts, axis=0, ddof=1)
    return safe_divide(var, mean, mean > 0)


def spike_count_correlation(
    spikes: Spikes, *, window_ms: float, dt_ms: float
) -> Float[Array, "n n"]:
    """Pairwise Pearson correlation of the neurons' counts in windows of `window_ms`.

    `r_ij = cov(c_i, c_j) / (std(c_i)·std(c_j))` over the windows of `window_counts`.

    Args:
        spikes: (time, neuron) spikes (entries are counts), or a `SpikeEvents`.
        window_ms: the window length in ms, a whole number of steps.
        dt_ms: the time step in ms.

    Returns:
        (neuron, neuron) symmetric correlations with 1 on the diagonal. NaN in the row and
        column of a neuron whose counts do not vary (a silent neuron, or one with the same
        count in every window), its diagonal entry included.

    Raises:
        ValueError: on bad arguments, or fewer than 2 full windows.
    """
    return _correlation(_counts_for_variance(spikes, window_ms, dt_ms))


@jax.jit
def _correlation(counts: Float[Array, "windows n"]) -> Float[Array, "n n"]:
    centred = counts - jnp.mean(counts, axis=0)
    # "highest": GPUs would otherwise multiply float32 in TF32, which rounds counts > 1024
    cov = jnp.matmul(centred.T, centred, precision="highest")
    var = jnp.diagonal(cov)
    varies = var > 0
    std = jnp.sqrt(jnp.where(varies, var, jnp.ones_like(var)))
    valid = varies[:, None] & varies[None, :]
    corr = safe_divide(cov, std[:, None] * std[None, :], valid)
    eye = jnp.eye(corr.shape[0], dtype=bool)
    return jnp.where(eye & valid, jnp.ones_like(corr), corr)


def mean_spike_count_correlation(
    spikes: Spikes, *, window_ms: float, dt_ms: float
) -> Float[Array, ""]:
    """The mean of `spike_count_correlation` over distinct pairs i < j, leaving out the
    pairs with a NaN (a neuron whose counts do not vary).

    Args:
        spikes, window_ms, dt_ms: as in `spike_count_correlation`.

    Returns:
        () mean correlation; NaN when no pair has two varying neurons.
    """
    return _mean_off_diagonal(spike_count_correlation(spikes, window_ms=window_ms, dt_ms=dt_ms))


@jax.jit
def _mean_off_diagonal(corr: Float[Array, "n n"]) -> Float[Array, ""]:
    n = corr.shape[0]
    pair = jnp.triu(jnp.ones((n, n), dtype=bool), k=1) & ~jnp.isnan(corr)
    total = jnp.sum(jnp.where(pair, corr, jnp.zeros_like(corr)))
    count = jnp.sum(pair).astype(corr.dtype)
    return safe_divide(total, count, count > 0)

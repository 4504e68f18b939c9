"""The six features that snnpy's README describes but its code does not implement.

snnpy's README (snn-reservoir-py 2.0.0) lists, besides the eight features of
`reservoir`, `get_spike_entropy_per_neuron`, `get_spike_rates`,
`get_autocorrelation_first_lag`, `get_burstiness`, `get_spike_symmetry` and
`get_spike_histogram_moments`, each with one line of description and no code. Users of
snnpy expect them, so here each is the standard measure its line names, with its
definition, source and undefined cases stated. They are jaxsnn's definitions, not a
reproduction: snnpy has none to reproduce.

- "Entropy of the temporal distribution of spikes": `spike_entropy`, the Shannon
  entropy (bits) of the spike-time histogram over `n_bins` equal bins;
- "Average spike rate (spikes per time unit)": `spike_rates`, spikes per step;
- "Autocorrelation at lag 1 (indicator of regularity)": `autocorrelation_first_lag`,
  the sample autocorrelation r_1 of the spike train;
- "Burstiness index (ISI variability)": `burstiness`, Goh and Barabási's
  B = (σ − μ)/(σ + μ) of the ISIs;
- "Spike symmetry between the first and second half of the timeline":
  `spike_symmetry`, (n_first − n_second)/(n_first + n_second);
- "Mean, skewness, and kurtosis of the spike time histogram":
  `spike_histogram_moments`, the mean, skewness and excess kurtosis of the spike times.

Conventions, as in `reservoir`: time is in steps (0-based step indices; snnpy's "time
unit" is its step), so nothing takes `dt_ms`. Every feature except `burstiness` uses the
entries as spike counts (weights), so an entry of 2 is two spikes at that step and
real-valued surrogate-gradient spikes pass their gradient; `burstiness` is a statistic of
intervals between spikes and counts every entry > 0 as one spike. On 0/1 spikes the two
readings agree. Undefined values are NaN (there is no snnpy sentinel to keep); a readout
that needs finite inputs can use `jnp.nan_to_num`.
"""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._checks import check_int
from ._dense import Spikes, as_dense, safe_divide
from ._feature import feature
from .isi import isi_moments

DEFAULT_N_BINS = 10
"""`spike_entropy`'s default number of bins: `np.histogram`'s default."""


def spike_entropy(
    spikes: Spikes, *, n_bins: int = DEFAULT_N_BINS, normalized: bool = False
) -> Float[Array, " n"]:
    """The Shannon entropy of each neuron's spike-time histogram, in bits.

    The record's T steps are split into `n_bins` bins of equal length T / n_bins; step t
    falls in bin `b = floor(t·n_bins / T)` (the bin whose interval [b·T/n_bins,
    (b+1)·T/n_bins) holds t, as `np.histogram(times, bins=n_bins, range=(0, T))`). With
    c_b the spikes in bin b and p_b = c_b / Σ_b c_b,

        H = −Σ_b p_b·log2(p_b)      (0·log2 0 = 0; Shannon 1948, Bell Syst. Tech. J. 27,
                                     379-423)

    0 when all spikes fall in one bin, log2(n_bins) when every bin holds as many. With
    `normalized=True` the result is H / log2(n_bins), in [0, 1] (Pielou's evenness J,
    J. Theor. Biol. 13, 131-144, 1966).
    When T is not a multiple of `n_bins` the bins hold floor or ceil(T / n_bins) steps,
    so even a neuron firing at every step stays just below log2(n_bins).

    Args:
        spikes: (time, neuron) spikes (entries are counts), or a `SpikeEvents`.
        n_bins: the number of bins, 1 <= n_bins <= T (static).
        normalized: divide by log2(n_bins) (needs n_bins >= 2).

    Returns:
        (neuron,) entropies in bits (or in [0, 1] when normalized); NaN for a silent
        neuron (no distribution).

    Raises:
        ValueError: on a bad `spikes` shape, `n_bins` that is not an integer in [1, T], or
            `normalized=True` with `n_bins=1`.
    """
    s = as_dense(spikes)
    _check_n_bins(n_bins, s.shape[0])
    if normalized and n_bins < 2:
        raise ValueError("n_bins must be >= 2 with normalized=True (log2(1) = 0)")
    return _spike_entropy(s, int(n_bins), bool(normalized))


def _check_n_bins(n_bins: int, n_steps: int) -> None:
    """ValueError unless `n_bins` is a Python integer in [1, n_steps]."""
    check_int("n_bins", n_bins, minimum=1)
    if n_bins > n_steps:
        raise ValueError(
            f"n_bins={n_bins} exceeds the record's {n_steps} steps: some bins would hold no step"
        )


@functools.partial(jax.jit, static_argnums=(1, 2))
def _spike_entropy(s: Float[Array, "t n"], n_bins: int, normalized: bool) -> Float[Array, " n"]:
    # integer arithmetic, so the bin of a step is exact (no float edge rounding)
    bins = jnp.asarray((np.arange(s.shape[0]) * n_bins) // s.shape[0], jnp.int32)
    counts = jax.ops.segment_sum(s, bins, num_segments=n_bins, indices_are_sorted=True)
    total = jnp.sum(counts, axis=0)
    p = counts / jnp.where(total > 0, total, jnp.ones_like(total))
    occupied = p > 0
    # double where: log2 of an empty bin is never taken, so its gradient is 0, not NaN
    terms = jnp.where(occupied, -p * jnp.log2(jnp.where(occupied, p, jnp.ones_like(p))), 0)
    entropy = jnp.sum(terms, axis=0)
    if normalized:
        entropy = entropy / np.log2(n_bins).astype(s.dtype)
    return jnp.where(total > 0, entropy, jnp.full_like(entropy, jnp.nan))


@feature
def spike_rates(spikes: Spikes) -> Float[Array, " n"]:
    """Each neuron's average spike rate in spikes per step: its spike count / T.

    snnpy's time unit is the step; for Hz use `firing_rates(spikes, dt_ms=...)`, which is
    this times 1000 / dt_ms.

    Returns:
        (neuron,) rates in spikes per step (0 for a silent neuron).
    """
    return jnp.sum(spikes, axis=0) / spikes.shape[0]


@feature
def autocorrelation_first_lag(spikes: Spikes) -> Float[Array, " n"]:
    """The sample autocorrelation at lag 1 of each neuron's spike train x_0..x_{T−1}:

        r_1 = Σ_{t=0}^{T−2} (x_t − x̄)(x_{t+1} − x̄) / Σ_{t=0}^{T−1} (x_t − x̄)²

    with x̄ the mean over all T steps: the standard estimator of the autocorrelation
    function (Box and Jenkins, Time Series Analysis, 1976, eq. 2.1.12; `acf` of
    statsmodels). |r_1| <= 1. It is about 0 for a Bernoulli (discrete Poisson) train,
    negative for a regular one (a spike makes one in the next step less likely; for
    period P it tends to −1/(P − 1)), positive for runs of spikes in consecutive steps.
    The Pearson correlation of x[:-1] with x[1:] (`pandas.Series.autocorr`) differs by
    O(1/T) and is also undefined when either part is constant (e.g. one spike at the
    last step), which is why it is not used.

    Returns:
        (neuron,) r_1, dimensionless; NaN for a constant train (silent, or the same
        entry at every step), whose variance is 0.
    """
    x = spikes
    d = x - jnp.mean(x, axis=0)
    c0 = jnp.sum(d * d, axis=0)
    c1 = jnp.sum(d[:-1] * d[1:], axis=0)
    # tested on the entries, not on c0 > 0: a constant non-0/1 train has a mean with
    # rounding error and so a tiny, nonzero c0
    varies = jnp.any(x != x[:1], axis=0)
    return safe_divide(c1, c0, varies)


@feature
def burstiness(spikes: Spikes) -> Float[Array, " n"]:
    """Goh and Barabási's burstiness of each neuron's inter-spike intervals:

        B = (σ − μ) / (σ + μ)       (K.-I. Goh and A.-L. Barabási, EPL 81, 48002, 2008)

    with μ the mean and σ the population standard deviation (ddof 0, as snnpy's
    `isi_variances` and `cv_isi`) of the neuron's ISIs in steps; equivalently
    B = (CV − 1)/(CV + 1). B = −1 for a perfectly regular train, 0 for σ = μ (a
    continuous-time Poisson train), → 1 for bursty trains. A discrete-time Bernoulli
    train with probability p per step has geometric ISIs, CV = sqrt(1 − p), so B is
    slightly negative, (sqrt(1 − p) − 1)/(sqrt(1 − p) + 1) ≈ −p/4. No finite-size
    correction (Kim and Jo 2016) is applied. Every entry > 0 is one spike.

    Returns:
        (neuron,) B in [−1, 1), dimensionless; NaN for a neuron with fewer than 2 ISIs
        (fewer than 3 spikes), as `cv_isi`.
    """
    binary = (spikes > 0).astype(spikes.dtype)
    count, mean, var = isi_moments(binary)
    valid = count >= 2
    std = jnp.sqrt(jnp.where(valid, var, jnp.ones_like(var)))
    return safe_divide(std - mean, std + mean, valid)


@feature
def spike_symmetry(spikes: Spikes) -> Float[Array, " n"]:
    """The balance of each neuron's spikes between the two halves of the record:

        S = (n_first − n_second) / (n_first + n_second)

    a normalised difference (the form of an asymmetry index). The first half is the
    steps t < (T − 1)/2, the second t > (T − 1)/2; for odd T the middle step
    t = (T − 1)/2 counts half in each, so S = Σ_t sign(T − 1 − 2t)·x_t / Σ_t x_t.
    S = 1 when all spikes are in the first half, −1 when all are in the second, 0 for a
    train symmetric in time; reversing time negates S.

    Returns:
        (neuron,) S in [−1, 1], dimensionless; NaN for a silent neuron.
    """
    n_steps = spikes.shape[0]
    sign = jnp.asarray(np.sign(n_steps - 1 - 2 * np.arange(n_steps)), spikes.dtype)[:, None]
    count = jnp.sum(spikes, axis=0)
    return safe_divide(jnp.sum(sign * spikes, axis=0), count, count > 0)


class SpikeTimeMoments(eqx.Module):
    """Moments of each neuron's spike times (see `spike_histogram_moments`).

    Attributes:
        mean: (neuron,) mean spike time in steps.
        skewness: (neuron,) Fisher-Pearson skewness g_1, dimensionless.
        kurtosis: (neuron,) excess kurtosis g_2 (0 for a Gaussian), dimensionless.
    """

    mean: Float[Array, " n"]
    skewness: Float[Array, " n"]
    kurtosis: Float[Array, " n"]


@feature
def spike_histogram_moments(spikes: Spikes) -> SpikeTimeMoments:
    """The mean, skewness and kurtosis of each neuron's spike-time histogram.

    The histogram is taken at the resolution of the record (one bin per step, a bin
    holding x_t spikes), so its moments are those of the spike times. With m_k the
    central moments, weights x_t and ddof 0,

        mean = Σ_t t·x_t / Σ_t x_t,   m_k = Σ_t (t − mean)^k·x_t / Σ_t x_t,
        skewness g_1 = m_3 / m_2^{3/2},   kurtosis g_2 = m_4 / m_2² − 3,

    the moment estimators of `scipy.stats.skew` and `scipy.stats.kurtosis` with their
    defaults (bias=True; fisher=True: excess kurtosis, 0 for a Gaussian, −1.2 for a
    uniform distribution). The mean equals `mean_spike_times` except for a silent neuron.

    Returns:
        A `SpikeTimeMoments` of (neuron,) arrays: mean in steps, skewness and kurtosis
        dimensionless. The mean is NaN for a silent neuron (not snnpy's −1); skewness and
        kurtosis are NaN where fewer than 2 steps hold spikes (variance 0).
    """
    x = spikes
    t = jnp.arange(x.shape[0], dtype=x.dtype)[:, None]
    count = jnp.sum(x, axis=0)
    fired = count > 0
    mean = safe_divide(jnp.sum(t * x, axis=0), count, fired)
    # central moments in two passes: E[t^k] − ... cancels catastrophically in float32
    d = t - jnp.where(fired, mean, jnp.zeros_like(mean))
    den = jnp.where(fired, count, jnp.ones_like(count))
    m2, m3, m4 = (jnp.sum(d**k * x, axis=0) / den for k in (2, 3, 4))
    spread = jnp.sum(x > 0, axis=0) >= 2
    m2_safe = jnp.where(spread, m2, jnp.ones_like(m2))
    skewness = safe_divide(m3, m2_safe**1.5, spread)
    kurtosis = safe_divide(m4, m2_safe**2, spread) - 3
    return SpikeTimeMoments(mean=mean, skewness=skewness, kurtosis=kurtosis)


DESCRIBED_FEATURES: tuple[str, ...] = (
    "spike_entropy",
    "spike_rates",
    "autocorrelation_first_lag",
    "burstiness",
    "spike_symmetry",
    "spike_histogram_moments",
)
"""The keys of `described_features`: snnpy's README names without `get_` and
`_per_neuron` (as snnpy keys `get_mean_isi_per_neuron` as "mean_isi"), in its order."""


def described_features(spikes: Spikes, *, n_bins: int = DEFAULT_N_BINS) -> dict[str, Array]:
    """All six described features, under `DESCRIBED_FEATURES`' keys and in that order.

    Each value is a (neuron,) array, except "spike_histogram_moments", a (neuron, 3)
    array of the columns mean, skewness, kurtosis, so that
    `jnp.column_stack(list(features.values()))` gives one row of features per neuron.

    Args:
        spikes: (time, neuron) spikes, or a `SpikeEvents`.
        n_bins: `spike_entropy`'s number of bins (not normalized).

    Returns:
        A dict of arrays; see each feature's function for its units and undefined values.

    Raises:
        ValueError: on a bad `spikes` shape or `n_bins` (see `spike_entropy`).
    """
    s = as_dense(spikes)
    _check_n_bins(n_bins, s.shape[0])
    return dict(zip(DESCRIBED_FEATURES, _described(s, int(n_bins)), strict=True))


# one program for all six; a tuple, since jit would hand back a dict with its keys sorted
@functools.partial(jax.jit, static_argnums=1)
def _described(s: Float[Array, "t n"], n_bins: int) -> tuple[Array, ...]:
    moments = spike_histogram_moments(s)
    return (
        _spike_entropy(s, n_bins, False),
        spike_rates(s),
        autocorrelation_first_lag(s),
        burstiness(s),
        spike_symmetry(s),
        jnp.stack([moments.mean, moments.skewness, moments.kurtosis], axis=-1),
    )

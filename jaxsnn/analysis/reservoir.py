"""The reservoir-computing features of snnpy (snn-reservoir-py 2.0.0), reproduced exactly.

snnpy's `SNN.extract_features_from_spikes()` turns a reservoir's output spikes into one
feature vector per neuron for a readout classifier; `reservoir_features` returns the same
dict (same keys, same values) from a jaxsnn spike record, and each feature has its own
function here. snnpy works in steps: times are 0-based step indices and ISIs are in
steps, not ms, so none of these take `dt_ms`. The definitions follow snnpy's code
(`snnpy/snn.py`, `get_*` methods), quirks included, each stated in its docstring:

- snnpy marks an undefined value with -1, not NaN (a silent neuron's first spike time,
  a one-spike neuron's mean ISI). A readout sees -1 as an ordinary feature value.
- snnpy's "bursts" (`get_burst_counts`, via `scipy.ndimage.label`) are runs of spikes in
  consecutive steps: an isolated spike is a burst of one, and with snnpy's own refractory
  period (>= 1 step) no two spikes are consecutive, so the burst count equals the spike
  count. Reproduced as `spike_run_counts`; ISI-based bursts are `detect_bursts`.
- `spike_variances` is the variance over time of the 0/1 sequence, p·(1 − p) with
  p = count / T: a function of the spike count, not of the timing.
- `calculate_mean_isi` pools the ISIs of all neurons (a neuron with more spikes weighs
  more) and returns the record length T (steps), not NaN, when no neuron has 2 spikes.
- snnpy tests spikes with `== 1` in some getters and uses the raw entries in others;
  on its int8 0/1 record these agree. Here the counting features (counts, variances, mean
  spike times) use the entries as they are (so they are differentiable), the others
  count every entry > 0 as a spike; both agree with snnpy on 0/1 input.

snnpy's README also lists `get_spike_entropy_per_neuron`, `get_spike_rates`,
`get_autocorrelation_first_lag`, `get_burstiness`, `get_spike_symmetry` and
`get_spike_histogram_moments`, but no release (0.1.0, 1.0.0, 2.0.0) and no commit of
its repository up to 2.0.1 implements them, and `extract_features_from_spikes` does not
return them. With no code to reproduce, `jaxsnn.analysis.described` gives each the
standard definition its README line names (stated and cited there, NaN where undefined);
`reservoir_features(spikes, described=True)` adds them to the eight.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from ._dense import Spikes, as_dense
from ._feature import feature
from .described import described_features
from .isi import isi_moments, isi_terms


@feature
def spike_counts(spikes: Spikes) -> Float[Array, " n"]:
    """Each neuron's number of spikes: the sum of its entries (snnpy `get_spike_counts`).

    Returns:
        (neuron,) counts, in the spikes' float dtype (snnpy returns integers).
    """
    return jnp.sum(spikes, axis=0)


@feature
def spike_variances(spikes: Spikes) -> Float[Array, " n"]:
    """The variance over time of each neuron's spike sequence, ddof 0 (snnpy
    `get_spike_variances`, `np.var(spikes, axis=0)`). On 0/1 spikes this is p·(1 − p),
    p = count / T.

    Returns:
        (neuron,) variances (per step², dimensionless).
    """
    return jnp.var(spikes, axis=0)


@feature
def mean_spike_times(spikes: Spikes) -> Float[Array, " n"]:
    """Each neuron's mean spike time in steps, `Σ_t t·s_t / Σ_t s_t` with t the 0-based
    step index (snnpy `get_mean_spike_times`).

    Returns:
        (neuron,) mean times in steps; -1.0 where the count is 0 (silent neuron).
    """
    s = spikes
    t = jnp.arange(s.shape[0], dtype=s.dtype)[:, None]
    count = jnp.sum(s, axis=0)
    fired = count > 0
    mean = jnp.sum(s * t, axis=0) / jnp.where(fired, count, jnp.ones_like(count))
    return jnp.where(fired, mean, -jnp.ones_like(mean))


@feature
def first_spike_times(spikes: Spikes) -> Int[Array, " n"]:
    """Each neuron's first spike step, 0-based (snnpy `get_first_spike_times`).

    Returns:
        (neuron,) int32 steps; -1 for a silent neuron.
    """
    fired = spikes > 0
    first = jnp.argmax(fired, axis=0).astype(jnp.int32)
    return jnp.where(jnp.any(fired, axis=0), first, -1)


@feature
def last_spike_times(spikes: Spikes) -> Int[Array, " n"]:
    """Each neuron's last spike step, 0-based (snnpy `get_last_spike_times`).

    Returns:
        (neuron,) int32 steps; -1 for a silent neuron.
    """
    fired = spikes > 0
    last = fired.shape[0] - 1 - jnp.argmax(fired[::-1], axis=0).astype(jnp.int32)
    return jnp.where(jnp.any(fired, axis=0), last, -1)


def _isi_stats(s: Array):
    binary = (s > 0).astype(s.dtype)
    count, mean, var = isi_moments(binary)
    return count >= 1, mean, var


@feature
def mean_isi(spikes: Spikes) -> Float[Array, " n"]:
    """Each neuron's mean ISI in steps (snnpy `get_mean_isi_per_neuron`).

    Returns:
        (neuron,) mean ISIs in steps; -1.0 for a neuron with fewer than 2 spikes.
    """
    has_isi, mean, _ = _isi_stats(spikes)
    return jnp.where(has_isi, mean, -jnp.ones_like(mean))


@feature
def isi_variances(spikes: Spikes) -> Float[Array, " n"]:
    """The variance (ddof 0, `np.var`) of each neuron's ISIs in steps² (snnpy
    `get_isi_variance_per_neuron`). A neuron with exactly 2 spikes has one ISI and
    variance 0.

    Returns:
        (neuron,) variances in steps²; -1.0 for a neuron with fewer than 2 spikes.
    """
    has_isi, _, var = _isi_stats(spikes)
    return jnp.where(has_isi, var, -jnp.ones_like(var))


@feature
def spike_run_counts(spikes: Spikes) -> Int[Array, " n"]:
    """The number of runs of spikes in consecutive steps, per neuron: snnpy's
    `get_burst_counts` (`scipy.ndimage.label` on each neuron's train). An isolated spike
    is a run of one, so on trains without consecutive spikes this is the spike count.

    Returns:
        (neuron,) int32 numbers of runs (0 for a silent neuron).
    """
    fired = spikes > 0
    before = jnp.concatenate([jnp.zeros_like(fired[:1]), fired[:-1]], axis=0)
    return jnp.sum(fired & ~before, axis=0, dtype=jnp.int32)


@feature
def pooled_mean_isi(spikes: Spikes) -> Float[Array, ""]:
    """The mean of all ISIs of all neurons pooled, in steps (snnpy `calculate_mean_isi`).

    Every ISI weighs the same, so neurons with more spikes weigh more than in the mean of
    `mean_isi`. Every entry > 0 is one spike.

    Returns:
        () mean ISI in steps; the record length T (steps) when no neuron has 2 spikes,
        as snnpy returns its simulation duration.
    """
    s = spikes
    binary = (s > 0).astype(s.dtype)
    weight, isi = isi_terms(binary)
    total = jnp.sum(weight)
    pooled = jnp.sum(weight * isi) / jnp.where(total > 0, total, jnp.ones_like(total))
    return jnp.where(total > 0, pooled, jnp.full_like(pooled, s.shape[0]))


FEATURES: tuple[str, ...] = (
    "spike_counts",
    "spike_variances",
    "mean_spike_times",
    "first_spike_times",
    "last_spike_times",
    "mean_isi",
    "isi_variances",
    "burst_counts",
)
"""The keys of `reservoir_features`, in snnpy's order."""


def reservoir_features(spikes: Spikes, *, described: bool = False) -> dict[str, Array]:
    """All features of snnpy's `extract_features_from_spikes`, under its keys and in its
    order (`FEATURES`): spike_counts, spike_variances, mean_spike_times,
    first_spike_times, last_spike_times, mean_isi, isi_variances, burst_counts
    (= `spike_run_counts`).

    Args:
        spikes: (time, neuron) spikes, or a `SpikeEvents`.
        described: also return, after the eight, the six features snnpy's README
            describes but its code lacks (`described_features`, keys
            `DESCRIBED_FEATURES`, with `spike_entropy`'s default 10 bins). These are
            jaxsnn's definitions, not snnpy's, and are NaN where undefined.

    Returns:
        A dict of (neuron,) arrays (and a (neuron, 3) array of spike-time moments when
        `described`); see each feature's function for its units and values.
    """
    s = as_dense(spikes)
    # the jitted part returns a tuple: jit would hand back a dict with its keys sorted
    features = dict(zip(FEATURES, _all_features(s), strict=True))
    if described:
        features.update(described_features(s))
    return features


@jax.jit
def _all_features(s: Float[Array, "t n"]) -> tuple[Array, ...]:
    return (
        spike_counts(s),
        spike_variances(s),
        mean_spike_times(s),
        first_spike_times(s),
        last_spike_times(s),
        mean_isi(s),
        isi_variances(s),
        spike_run_counts(s),
    )

"""Which of Brunel's (2000) dynamical states a recorded network is in, from its spikes.

Brunel (2000, J Comput Neurosci 8:183-208) names the states of his sparse E-I network by
two properties: whether the global (population) activity is stationary or oscillates
(asynchronous or synchronous) and whether single neurons fire regularly or irregularly.
Fig. 8 shows one network in each of four of them (the figure's panel descriptions; Brian2's
reproduction of the figure, `examples/frompapers/Brunel_2000.py`, uses the same (g, eta),
and ModelDB entry 42020 summarises the states the same way):

- SR, synchronous regular (g = 3, eta = 2): "almost fully synchronized network, neurons
  firing regularly at high rates";
- SI-fast (g = 6, eta = 4): "fast oscillation of the global activity, neurons firing
  irregularly at a rate that is lower than the global frequency";
- AI, asynchronous irregular (g = 5, eta = 2): "stationary global activity, irregularly
  firing neurons";
- SI-slow (g = 4.5, eta = 0.9): "slow oscillation of the global activity, neurons firing
  irregularly at very low rates".

The fourth combination, regular firing with stationary global activity, is asynchronous
regular (AR) in the same naming.

Measured quantities (`RegimeReport`), from one trial's spikes of the whole network:

- `rate_hz`: mean rate of all neurons;
- `cv`: mean over neurons (with >= 3 spikes) of the CV of their ISIs (`cv_isi`);
- `chi`: Golomb's synchrony chi of the spike trains smoothed by a Gaussian of
  `chi_kernel_ms` (`spike_synchrony_chi`), on at most `max_neurons` evenly spaced
  neurons; about 1/sqrt(n) for independent neurons, 1 for identical ones;
- `peak_hz`, `prominence`: the population rate's Welch spectrum (`power_spectrum`,
  segments of `segment_ms`, i.e. 5 Hz resolution by default), its largest value in
  (`min_hz`, `max_hz`] and that value over the median of the spectrum in the same band.
  Independent Poisson neurons give a flat spectrum and a prominence of about 2 (the
  largest of ~200 noisy bins); a population oscillation a sharp peak.

Rules, in order:

1. no spike: "silent";
2. `cv < cv_regular` (0.2): regular firing; "SR" if `prominence >= min_prominence`,
   else "AR";
3. `prominence >= min_prominence` (80): a synchronous irregular state, "SI-fast" if
   `peak_hz >= split_hz` (60 Hz), else "SI-slow";
4. otherwise "AI".

Why these thresholds. Brunel's model A simulated with jaxsnn (`build_brunel2000`,
dt = 0.1 ms, 1 s recorded after 200 ms, E and I pooled; ranges over the runs made: three
network and noise seeds at scale 0.5 (tests/test_brunel2000.py's slow test, the notebook
notebooks/brunel_regimes.ipynb and one more), one at full size, two for its AI state):

    scale  preset    rate (Hz)  CV         chi        peak (Hz)  prominence
    1.0    SR        312        0.00       0.17       625        5e8 (500 ms)
    1.0    SI-fast   60.8       0.91       0.30       175        434
    1.0    AI        37.8       0.40       0.16       110-130    40-47
    1.0    SI-slow   5.6        0.54       0.24       20         221
    0.5    SR        312        0.00       0.08-0.12  625        9e7-1e8
    0.5    SI-fast   59.7-60.8  0.99-1.02  0.22-0.23  165-170    156-163
    0.5    AI        40.2-40.6  0.64-0.65  0.19-0.20  90-105     33-42
    0.5    SI-slow   10.1-10.5  0.59-0.61  0.25-0.34  25         133-145

- Regularity: SR neurons fire at ~310 Hz, every other cycle of a 1.6 ms population
  rhythm (the network splits into two alternating clusters, hence the 625 Hz peak), with
  CV 0.00 (0.04 and 0.08 at scales 0.2 and 0.1); every irregular state has CV >= 0.4
  (the AI state's CV is 0.40 at full size, below the Poisson-input theory's 0.675, see
  `build_brunel2000`; the SI-slow neurons skip cycles of the slow oscillation at random,
  CV 0.5-0.6). 0.2 leaves a factor of two to both sides.
- Synchrony: the finite AI network is not perfectly asynchronous. Its population rate
  fluctuates by ~20 Hz in 1 ms bins (independent neurons would give 1.7 Hz) with a broad
  resonance near 100 Hz, prominence 33-47; the oscillating states have sharp peaks of
  133-434 (a limit cycle of the global activity). 80 is about the geometric middle of
  the closest pair (47 and 133). chi does not separate the states as cleanly (0.16-0.34
  for every irregular state at these sizes), so it is reported, not used.
- Frequency: the fast oscillation (165-175 Hz, a period of about four delays D = 1.5 ms)
  is set by the delay, the slow one (20-25 Hz) by the membrane time constant; 60 Hz lies
  a factor of ~3 from both.

Limits. The thresholds hold for networks of a few thousand neurons or more observed for
~1 s (the prominence of a sharp peak grows with the resolution, that of a broad
resonance does not; with fewer segments the median is noisier). Scaled-down networks are
noisier (sigma grows as 1/sqrt(scale)) and the noise damps the fast oscillation: at
scale 0.2 (N = 2500) and 0.1 the SI-fast preset has prominence 28 and 15 and is
classified AI, which is what that network does (and at 0.1 the SI-slow one, prominence
60); scale 0.5 is enough to reproduce all four panels. The rules say nothing about
states outside Brunel's phase diagram (bursting, up-down states, chaos with large rate
fluctuations).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import equinox as eqx
import numpy as np

from .._checks import check_finite, check_int, check_positive
from ..analysis import GaussianKernel, cv_isi, power_spectrum, spike_synchrony_chi
from ..events import SpikeEvents

BRUNEL_REGIME_LABELS = ("SR", "AR", "SI-fast", "SI-slow", "AI", "silent")
"""Every label `classify_brunel_regime` returns."""


class RegimeReport(eqx.Module):
    """What `classify_brunel_regime` measured and concluded (module docstring).

    Attributes:
        regime: one of `BRUNEL_REGIME_LABELS`.
        rate_hz: mean firing rate of all neurons (Hz).
        cv: mean CV of the ISIs of the analysed neurons with >= 3 spikes; NaN if none.
        chi: Golomb's chi of the analysed neurons' smoothed spike trains; NaN if silent.
        peak_hz: frequency of the population-rate spectrum's maximum in the band (Hz).
        prominence: that maximum over the spectrum's median in the band.
        n_neurons: number of neurons recorded (all count in rate and spectrum).
        n_analysed: number of neurons in cv and chi (at most `max_neurons`).
        duration_ms: length of the record (ms).
        reason: the rule that decided, in words.
    """

    regime: str
    rate_hz: float
    cv: float
    chi: float
    peak_hz: float
    prominence: float
    n_neurons: int
    n_analysed: int
    duration_ms: float
    reason: str

    def __str__(self) -> str:
        return (
            f"{self.regime}: rate {self.rate_hz:.1f} Hz, CV {self.cv:.2f}, chi {self.chi:.2f}, "
            f"spectral peak {self.peak_hz:.0f} Hz (prominence {self.prominence:.0f}); "
            f"{self.reason} [{self.n_neurons} neurons, {self.duration_ms:.0f} ms]"
        )


def _parts(spikes) -> list:
    if isinstance(spikes, Mapping):
        if not spikes:
            raise ValueError("spikes is an empty mapping: give at least one population")
        return list(spikes.values())
    return [spikes]


def _n_steps_and_neurons(part) -> tuple[int, int]:
    if isinstance(part, SpikeEvents):
        if part.steps.ndim != 1:
            raise ValueError(
                f"spikes must be one trial's SpikeEvents, got a batch of shape "
                f"{part.steps.shape[:-1]}: classify each trial"
            )
        if int(part.overflow):
            raise ValueError(
                f"spikes (SpikeEvents) overflowed: {int(part.overflow)} events were lost "
                f"(capacity {part.capacity}); record with a larger event_capacity"
            )
        return part.n_steps, part.n_neurons
    shape = np.shape(part)
    if len(shape) != 2:
        raise ValueError(
            f"spikes must have shape (time, neuron), got {shape}: time is the first axis; "
            "classify each trial separately"
        )
    return int(shape[0]), int(shape[1])


def _counts_and_subset(part, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-step spike count of the whole part, and the 0/1 (time, k) spikes of every
    `stride`-th neuron."""
    if isinstance(part, SpikeEvents):
        count = int(part.count)
        steps = np.asarray(part.steps)[:count]
        neurons = np.asarray(part.neurons)[:count]
        total = np.bincount(steps, minlength=part.n_steps).astype(np.float64)
        chosen = neurons % stride == 0
        sub = np.zeros((part.n_steps, -(-part.n_neurons // stride)), np.float32)
        sub[steps[chosen], neurons[chosen] // stride] = 1.0
        return total, sub
    s = np.asarray(part)
    total = s.astype(np.float64).sum(axis=1)  # counts as they are (windows of several steps)
    return total, (s[:, ::stride] > 0).astype(np.float32)


def classify_brunel_regime(
    spikes,
    *,
    dt_ms: float,
    cv_regular: float = 0.2,
    min_prominence: float = 80.0,
    split_hz: float = 60.0,
    segment_ms: float = 200.0,
    min_hz: float = 5.0,
    max_hz: float = 1000.0,
    chi_kernel_ms: float = 1.0,
    max_neurons: int = 500,
) -> RegimeReport:
    """Classify one trial of a Brunel-type network into SR, AR, SI-fast, SI-slow, AI (or
    silent) by the rules of the module docstring.

    Args:
        spikes: the spikes of every neuron of the network: a (time, neuron) array
            (entries > 0 are spikes), a `SpikeEvents`, or a mapping of population name to
            either (e.g. `recording.events` or `recording.spikes` of a run of
            `build_brunel2000`; the populations are pooled). Record at least
            `segment_ms`, better 1 s, after the initial transient.
        dt_ms: the time step of the record (ms).
        cv_regular: CV below which firing counts as regular.
        min_prominence: spectral prominence from which the population activity counts as
            oscillating (synchronous).
        split_hz: peak frequency separating fast from slow oscillations (Hz).
        segment_ms: Welch segment length (ms), a whole number of steps; sets the
            resolution 1000/segment_ms Hz.
        min_hz, max_hz: the band searched for the peak, (min_hz, max_hz] (Hz).
        chi_kernel_ms: standard deviation of the Gaussian kernel of chi (ms).
        max_neurons: at most this many neurons (every k-th) enter cv and chi.

    Returns:
        A `RegimeReport` (Python floats, host-side; not jit-able).

    Raises:
        ValueError: on a bad shape, an overflowed or batched event list, populations with
            different record lengths, a record shorter than `segment_ms`, or a bad
            threshold or band.
    """
    check_positive("dt_ms", dt_ms)
    for name, value in (
        ("cv_regular", cv_regular),
        ("min_prominence", min_prominence),
        ("split_hz", split_hz),
        ("segment_ms", segment_ms),
        ("chi_kernel_ms", chi_kernel_ms),
        ("max_hz", max_hz),
    ):
        check_positive(name, value)
    check_finite("min_hz", min_hz)
    if not 0 <= min_hz < max_hz:
        raise ValueError(f"need 0 <= min_hz < max_hz, got min_hz={min_hz}, max_hz={max_hz}")
    check_int("max_neurons", max_neurons, minimum=2)
    parts = _parts(spikes)
    shapes = [_n_steps_and_neurons(p) for p in parts]
    n_steps = shapes[0][0]
    if any(t != n_steps for t, _ in shapes):
        raise ValueError(f"the populations' records differ in length: {[t for t, _ in shapes]}")
    n_neurons = sum(n for _, n in shapes)
    duration_ms = n_steps * float(dt_ms)
    if duration_ms < segment_ms * (1 - 1e-9):
        raise ValueError(
            f"the record ({duration_ms:g} ms) is shorter than segment_ms={segment_ms}: "
            "record longer (1 s or more) or shorten the segments"
        )
    stride = max(1, math.ceil(n_neurons / max_neurons))
    counts, subsets = zip(*(_counts_and_subset(p, stride) for p in parts), strict=True)
    total = np.sum(counts, axis=0)
    sub = np.concatenate(subsets, axis=1)
    rate_hz = float(total.sum() / (n_neurons * duration_ms * 1e-3))
    nan = float("nan")
    if total.sum() == 0:
        return RegimeReport(
            "silent", 0.0, nan, nan, nan, nan, n_neurons, sub.shape[1], duration_ms, "no spike"
        )
    cvs = np.asarray(cv_isi(sub, dt_ms=dt_ms))
    cv = float(np.nanmean(cvs)) if np.any(np.isfinite(cvs)) else nan
    chi = float(spike_synchrony_chi(sub, dt_ms=dt_ms, kernel=GaussianKernel(chi_kernel_ms)))
    pop_rate = (total / (n_neurons * dt_ms * 1e-3)).astype(np.float32)
    freqs, power = (
        np.asarray(x) for x in power_spectrum(pop_rate, dt_ms=dt_ms, segment_ms=segment_ms)
    )
    band = (freqs > min_hz) & (freqs <= max_hz)
    if not np.any(band):
        raise ValueError(
            f"no frequency of the spectrum (resolution {freqs[1]:g} Hz, up to {freqs[-1]:g} "
            f"Hz) lies in ({min_hz}, {max_hz}] Hz"
        )
    in_band = power[band]
    best = int(np.argmax(in_band))
    peak_hz = float(freqs[band][best])
    median = float(np.median(in_band))
    prominence = float(in_band[best] / median) if median > 0 else math.inf
    regular = cv < cv_regular  # False for NaN: no ISI statistics, no claim of regularity
    synchronous = prominence >= min_prominence
    if regular:
        regime = "SR" if synchronous else "AR"
        why = f"CV {cv:.2f} < {cv_regular} (regular), prominence {prominence:.0f} " + (
            f">= {min_prominence} (oscillating)" if synchronous else f"< {min_prominence}"
        )
    elif synchronous:
        fast = peak_hz >= split_hz
        regime = "SI-fast" if fast else "SI-slow"
        why = (
            f"CV {cv:.2f} >= {cv_regular} (irregular), prominence {prominence:.0f} >= "
            f"{min_prominence} (oscillating) at {peak_hz:.0f} Hz "
            f"{'>=' if fast else '<'} {split_hz} Hz"
        )
    else:
        regime = "AI"
        why = (
            f"CV {cv:.2f} >= {cv_regular} (irregular), prominence {prominence:.0f} < "
            f"{min_prominence} (no population oscillation)"
        )
    return RegimeReport(
        regime,
        rate_hz,
        cv,
        chi,
        peak_hz,
        prominence,
        n_neurons,
        sub.shape[1],
        duration_ms,
        why,
    )


__all__ = ["BRUNEL_REGIME_LABELS", "RegimeReport", "classify_brunel_regime"]

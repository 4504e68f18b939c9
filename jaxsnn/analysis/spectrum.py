"""Power spectra (Welch's method) of a signal and of a population's rate, and their peak.

`power_spectrum` is Welch's estimate as `scipy.signal.welch` computes it with its
defaults (a periodic Hann window, each segment's mean removed, one-sided density
scaling), written with `jnp.fft` so it runs under `jit`, `vmap` and `grad`: segments of
`segment_ms` overlapping by the fraction `overlap` are windowed, Fourier transformed and
their |FFT|² averaged. With `segment_ms=None` the whole record is one segment (a
Hann-windowed periodogram). Oscillations of the population rate (gamma, the fast
oscillations of Brunel's networks) show up as a peak; `peak_frequency` finds it.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._checks import check_finite
from ._dense import Spikes, as_signal, check_dt_ms, steps_of
from .rates import population_rate


def power_spectrum(
    signal: Float[ArrayLike, " t"],
    *,
    dt_ms: float,
    segment_ms: float | None = None,
    overlap: float = 0.5,
) -> tuple[Float[Array, " f"], Float[Array, " f"]]:
    """Welch's power spectral density of a signal sampled every `dt_ms`.

    With L = segment_ms / dt_ms steps per segment, segments start every
    L − floor(overlap·L) steps (samples after the last full segment are not used). For
    each segment x (its mean removed) and Hann window w_k = sin²(πk/L),
    `P(f) = 2·|Σ_k w_k·x_k·e^{−2πifk·dt}|² / (fs·Σ_k w_k²)` with fs = 1000/dt_ms Hz (the
    factor 2, for the negative frequencies, is left out at 0 Hz and at the Nyquist
    frequency when L is even), averaged over the segments. Then Σ_f P(f)·Δf is about the
    signal's variance.

    Args:
        signal: (time,) samples, e.g. a rate in Hz.
        dt_ms: the sampling step in ms.
        segment_ms: the segment length in ms, a whole number of steps, at most the record;
            None for a single segment of the whole record.
        overlap: the overlap of consecutive segments, a fraction in [0, 1).

    Returns:
        `(freqs_hz, power)`: (L // 2 + 1,) frequencies k·fs/L in Hz, and the density in
        (signal units)² / Hz at each.

    Raises:
        ValueError: on a signal that is not 1-D with >= 2 samples, or a bad `dt_ms`,
            `segment_ms` or `overlap`.
    """
    x = as_signal("signal", signal, 1)
    dt_ms = check_dt_ms(dt_ms)
    n = x.shape[0]
    length = n if segment_ms is None else steps_of("segment_ms", segment_ms, dt_ms)
    if length > n:
        raise ValueError(
            f"segment_ms={segment_ms} ({length} steps) is longer than the signal ({n})"
        )
    if length < 2:
        raise ValueError(f"segment_ms={segment_ms} must span at least 2 steps")
    check_finite("overlap", overlap)
    if not 0.0 <= overlap < 1.0:
        raise ValueError(f"overlap must be a fraction in [0, 1), got {overlap}")
    return _welch(x, length, length - int(overlap * length), dt_ms)


@functools.partial(jax.jit, static_argnums=(1, 2, 3))
def _welch(x: Float[Array, " t"], length: int, hop: int, dt_ms: float):
    n = x.shape[0]
    starts = np.arange(0, n - length + 1, hop)
    segments = x[starts[:, None] + np.arange(length)[None, :]]
    segments = segments - jnp.mean(segments, axis=1, keepdims=True)
    window = np.sin(np.pi * np.arange(length) / length) ** 2
    fs_hz = 1000.0 / dt_ms
    spectra = jnp.abs(jnp.fft.rfft(segments * jnp.asarray(window, x.dtype), axis=1)) ** 2
    one_sided = np.full(length // 2 + 1, 2.0)
    one_sided[0] = 1.0
    if length % 2 == 0:
        one_sided[-1] = 1.0
    scale = one_sided / (fs_hz * np.sum(window**2))
    power = jnp.mean(spectra, axis=0) * jnp.asarray(scale, x.dtype)
    freqs = jnp.asarray(np.fft.rfftfreq(length, d=dt_ms / 1000.0), x.dtype)
    return freqs, power


def rate_power_spectrum(
    spikes: Spikes,
    *,
    dt_ms: float,
    segment_ms: float | None = None,
    overlap: float = 0.5,
) -> tuple[Float[Array, " f"], Float[Array, " f"]]:
    """`power_spectrum` of the population's per-step rate in Hz (`population_rate`,
    unsmoothed; smoothing would only damp the high frequencies).

    Args:
        spikes: (time, neuron) spikes (entries are counts), or a `SpikeEvents`.
        dt_ms, segment_ms, overlap: as in `power_spectrum`.

    Returns:
        `(freqs_hz, power)` with power in Hz²/Hz.
    """
    rate = population_rate(spikes, dt_ms=dt_ms)
    return power_spectrum(rate, dt_ms=dt_ms, segment_ms=segment_ms, overlap=overlap)


def peak_frequency(
    freqs_hz: Float[ArrayLike, " f"], power: Float[ArrayLike, " f"], *, min_hz: float = 0.0
) -> Float[Array, ""]:
    """The frequency of the largest power above `min_hz` (strictly; the default leaves
    out 0 Hz, the mean's bin).

    Args:
        freqs_hz: (f,) frequencies in Hz, as `power_spectrum` returns them.
        power: (f,) the power at each.
        min_hz: consider only frequencies > min_hz.

    Returns:
        () the frequency in Hz; NaN when no frequency is above `min_hz`.
    """
    freqs = jnp.asarray(freqs_hz)
    power = jnp.asarray(power)
    if freqs.ndim != 1 or freqs.shape != power.shape:
        raise ValueError(
            f"freqs_hz and power must be 1-D of the same length, got {freqs.shape} and "
            f"{power.shape}"
        )
    check_finite("min_hz", min_hz)
    above = freqs > min_hz
    best = jnp.argmax(jnp.where(above, power, jnp.full_like(power, -jnp.inf)))
    return jnp.where(jnp.any(above), freqs[best], jnp.full_like(freqs[best], jnp.nan))

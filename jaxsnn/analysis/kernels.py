"""Smoothing kernels that turn spike trains into rates: Gaussian, boxcar, exponential.

A kernel is a small module with its width in ms (a Python number: it sets the discrete
weights at trace time); `kernel.apply(x, dt_ms=...)` filters a (time, ...) array along
time. Every kernel's discrete weights sum to 1, so filtering keeps the mean: a train of
rate r (Hz, entries spikes / dt) filters to r away from the ends. Beyond the record the
signal is taken as 0, so within about a kernel width of either end the filtered rate is
underestimated. A new kernel is a subclass with its own `apply`.
"""

from __future__ import annotations

import abc
import math

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ._dense import check_dt_ms, check_ms, steps_of
from ._recurrence import linear_recurrence


class AbstractKernel(eqx.Module):
    """A linear filter along time, with weights that sum to 1."""

    @abc.abstractmethod
    def apply(self, x: Float[Array, "t ..."], *, dt_ms: float) -> Float[Array, "t ..."]:
        """`x` filtered along axis 0 (same shape and dtype)."""


def _convolve(x: Array, weights: np.ndarray, lag0: int) -> Array:
    """y[t] = Σ_j weights[j]·x[t + lag0 − j] along axis 0, x = 0 outside the record."""
    # Through the FFT along time: one transform of the whole (time, neuron) record. A
    # vmapped jnp.convolve per neuron made XLA:CPU abort (std::bad_alloc) on a 1 s,
    # 4000-neuron record at 0.1 ms; the FFT needs O(T·N) memory and O(T·N·log T) time.
    n_t = x.shape[0]
    length = n_t + len(weights) - 1
    size = 1 << (length - 1).bit_length()
    flat = x.reshape(n_t, -1)
    spectrum = jnp.fft.rfft(flat, n=size, axis=0)
    kernel = jnp.fft.rfft(jnp.asarray(weights, flat.dtype), n=size)
    full = jnp.fft.irfft(spectrum * kernel[:, None], n=size, axis=0).astype(x.dtype)
    return full[lag0 : lag0 + n_t].reshape(x.shape)


class GaussianKernel(AbstractKernel):
    """A centred (non-causal) Gaussian, `w_k ∝ exp(−(k·dt)² / (2σ²))` for lags
    |k·dt| <= 4σ, normalised to sum 1.

    Attributes:
        sigma_ms: the standard deviation σ in ms (> 0).
    """

    sigma_ms: float

    def __check_init__(self):
        check_ms("GaussianKernel.sigma_ms", self.sigma_ms)

    def apply(self, x, *, dt_ms):
        dt_ms = check_dt_ms(dt_ms)
        reach = math.ceil(4.0 * self.sigma_ms / dt_ms)
        lags = np.arange(-reach, reach + 1) * dt_ms
        weights = np.exp(-(lags**2) / (2.0 * self.sigma_ms**2))
        return _convolve(x, weights / weights.sum(), reach)


class BoxcarKernel(AbstractKernel):
    """A centred moving average over `m = round(width_ms / dt_ms)` steps, weights 1/m.

    For odd m the window is symmetric, t − (m−1)/2 .. t + (m−1)/2; for even m it is
    t − m/2 .. t + m/2 − 1.

    Attributes:
        width_ms: the window length in ms (>= dt_ms, checked when applied).
    """

    width_ms: float

    def __check_init__(self):
        check_ms("BoxcarKernel.width_ms", self.width_ms)

    def apply(self, x, *, dt_ms):
        dt_ms = check_dt_ms(dt_ms)
        m = steps_of("BoxcarKernel.width_ms", self.width_ms, dt_ms, whole=False)
        return _convolve(x, np.full(m, 1.0 / m), (m - 1) // 2)


class ExponentialKernel(AbstractKernel):
    """A causal exponential, `y_t = a·y_{t−1} + (1 − a)·x_t` with `a = exp(−dt/τ)`.

    That is the untruncated kernel `w_k = (1 − a)·a^k`, k >= 0, which sums to 1 (the
    discrete form of `exp(−t/τ)/τ`). It only looks back, so a rate step shows up late by
    about τ.

    Attributes:
        tau_ms: the time constant τ in ms (> 0).
    """

    tau_ms: float

    def __check_init__(self):
        check_ms("ExponentialKernel.tau_ms", self.tau_ms)

    def apply(self, x, *, dt_ms):
        dt_ms = check_dt_ms(dt_ms)
        decay = math.exp(-dt_ms / self.tau_ms)
        a = jnp.full_like(x, decay)
        return linear_recurrence(a, (1.0 - decay) * x)

"""Firing rates in Hz: per neuron over the record, per neuron over time, and of the
population over time.

All three are linear in the spikes, so they count multiple spikes per step (entries > 1)
as they are and pass the gradient of real-valued surrogate spikes straight through.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._dense import Spikes, as_dense, check_dt_ms
from .kernels import AbstractKernel


def firing_rates(spikes: Spikes, *, dt_ms: float) -> Float[Array, " n"]:
    """Each neuron's mean firing rate over the record, in Hz.

    `rate_i = Σ_t s_ti / (T·dt)`, with T·dt the record's length in seconds.

    Args:
        spikes: (time, neuron) spikes (entries are summed as counts), or a `SpikeEvents`.
        dt_ms: the time step in ms.

    Returns:
        (neuron,) rates in Hz (0 for a silent neuron).
    """
    s = as_dense(spikes)
    dt_ms = check_dt_ms(dt_ms)
    return jnp.sum(s, axis=0) * (1000.0 / (s.shape[0] * dt_ms))


def smoothed_rates(spikes: Spikes, *, dt_ms: float, kernel: AbstractKernel) -> Float[Array, "t n"]:
    """Each neuron's instantaneous rate in Hz: its spikes per step / dt, filtered by
    `kernel` (see `jaxsnn.analysis.kernels` for the kernels and the edge effects).

    Args:
        spikes: (time, neuron) spikes (entries are counts), or a `SpikeEvents`.
        dt_ms: the time step in ms.
        kernel: a `GaussianKernel`, `BoxcarKernel`, `ExponentialKernel` or subclass of
            `AbstractKernel`.

    Returns:
        (time, neuron) rates in Hz.
    """
    s = as_dense(spikes)
    dt_ms = check_dt_ms(dt_ms)
    _check_kernel(kernel)
    return _filter(s * (1000.0 / dt_ms), kernel, dt_ms)


def population_rate(
    spikes: Spikes, *, dt_ms: float, kernel: AbstractKernel | None = None
) -> Float[Array, " t"]:
    """The population's rate over time in Hz: per step, the spikes per neuron / dt,
    optionally filtered by `kernel` (filtering is linear, so this is the mean over
    neurons of `smoothed_rates`).

    Args:
        spikes: (time, neuron) spikes (entries are counts), or a `SpikeEvents`.
        dt_ms: the time step in ms.
        kernel: a smoothing kernel, or None for the raw per-step rate.

    Returns:
        (time,) rate in Hz.
    """
    s = as_dense(spikes)
    dt_ms = check_dt_ms(dt_ms)
    rate = jnp.mean(s, axis=1) * (1000.0 / dt_ms)
    if kernel is None:
        return rate
    _check_kernel(kernel)
    return _filter(rate, kernel, dt_ms)


# jitted (the kernel's widths and dt_ms are static) so that an eager call compiles once
@eqx.filter_jit
def _filter(x: Array, kernel: AbstractKernel, dt_ms: float) -> Array:
    return kernel.apply(x, dt_ms=dt_ms)


def _check_kernel(kernel) -> None:
    if not isinstance(kernel, AbstractKernel):
        raise ValueError(
            f"kernel must be an AbstractKernel (e.g. GaussianKernel(sigma_ms=5.0)), got "
            f"{type(kernel).__name__}"
        )

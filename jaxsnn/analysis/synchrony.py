"""Golomb's synchrony measure χ, on any signals (voltages) or on smoothed spike trains.

Golomb (2007, Scholarpedia "Neuronal synchrony measures"): for N signals V_i(t) and
their population average V̄(t) = (1/N)·Σ_i V_i(t),

    χ² = Var_t(V̄) / ((1/N)·Σ_i Var_t(V_i)),

variances over time (ddof 0). χ = 1 when all signals are identical (up to a constant
offset each), and for N independent signals χ² ≈ 1/N (χ ≈ 1/√N) plus a bias of order
1/√T from the finite record. χ is rational in the signals, so it is differentiable.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ._dense import Spikes, as_signal
from .kernels import AbstractKernel
from .rates import smoothed_rates


def synchrony_chi(traces: Float[ArrayLike, "t n"]) -> Float[Array, ""]:
    """Golomb's χ of a set of signals, e.g. membrane potentials (see the module docstring).

    Args:
        traces: (time, neuron) signals, any units (χ is dimensionless).

    Returns:
        () χ in [0, 1]; NaN when every signal is constant (the denominator is 0). Where
        χ = 0 (the population average is constant) its gradient is infinite, as that of
        the square root.

    Raises:
        ValueError: if `traces` is not 2-D with at least 2 time steps.
    """
    return _chi(as_signal("traces", traces, 2))


@jax.jit
def _chi(v: Float[Array, "t n"]) -> Float[Array, ""]:
    var_mean = jnp.var(jnp.mean(v, axis=1))
    mean_var = jnp.mean(jnp.var(v, axis=0))
    valid = mean_var > 0
    chi2 = var_mean / jnp.where(valid, mean_var, jnp.ones_like(mean_var))
    return jnp.where(valid, jnp.sqrt(chi2), jnp.full_like(chi2, jnp.nan))


def spike_synchrony_chi(
    spikes: Spikes, *, dt_ms: float, kernel: AbstractKernel
) -> Float[Array, ""]:
    """Golomb's χ of spike trains, each smoothed into a rate by `kernel`
    (`smoothed_rates`). The kernel's width sets the time scale of the synchrony measured:
    spikes closer than about a width count as synchronous.

    Silent neurons take part with a constant 0 rate: they add to N without adding to
    the variance, which lowers χ (as they would in Golomb's voltage form).

    Args:
        spikes: (time, neuron) spikes (entries are counts), or a `SpikeEvents`.
        dt_ms: the time step in ms.
        kernel: the smoothing kernel, e.g. `GaussianKernel(sigma_ms=2.0)`.

    Returns:
        () χ; NaN when every neuron is silent.
    """
    return synchrony_chi(smoothed_rates(spikes, dt_ms=dt_ms, kernel=kernel))

"""Leaky integrate-and-fire neurons.

Model (time in ms, voltages in mV, currents in mV, i.e. already multiplied by the
membrane resistance, conductances in units of the leak conductance):

    tau_mem · dV/dt = (v_rest - V) + I_syn + I_ext + Σ_x g_x·(E_x - V)

A presynaptic spike through a delta synapse makes V jump by w. V spikes when it
exceeds `v_th` (strictly: `V - v_th > 0`), is reset (to `v_reset`, or by subtracting
`v_th - v_reset`), and is then held for `t_ref_ms` (absolute refractory period).

Discrete update actually computed at each step of length dt (see `lif_update`):
with currents and conductances held constant over the step, the linear ODE is integrated
exactly,

    g      = Σ_x g_x                      (0 without conductance synapses)
    V_inf  = (v_rest + I_syn + I_ext + Σ_x g_x·E_x) / (1 + g)
    V'     = V_inf + (V - V_inf) · exp(-(dt/tau_mem)·(1 + g)) + Σ delta-synapse jumps
    refractory neurons keep V (their post-reset value) and ignore all input
    spike  = H(V' - v_th)  for non-refractory neurons
    V_new  = v_reset where spike                (ResetToValue)
           = V' - spike·(v_th - v_reset)      (ResetBySubtraction)
    a neuron that spikes is refractory for the next n_ref = round(t_ref_ms/dt) steps.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from ._checks import check_finite, check_nonnegative, check_positive
from .surrogate import AbstractSurrogate, FastSigmoid, spike
from .synapse import exp_decay


class AbstractReset(eqx.Module):
    """How V is reset after a spike; subclasses are `ResetToValue` and `ResetBySubtraction`."""


class ResetToValue(AbstractReset):
    """After a spike, V is set to `v_reset` (Brian2's `v = v_reset`)."""


class ResetBySubtraction(AbstractReset):
    """After a spike, `v_th - v_reset` is subtracted from V (keeps the overshoot)."""


class LIF(eqx.Module):
    """Parameters of a leaky integrate-and-fire neuron (see the module docstring).

    Attributes:
        tau_mem_ms: membrane time constant (ms), > 0.
        v_rest_mv: resting potential (mV).
        v_th_mv: threshold (mV); a neuron spikes when V - v_th > 0.
        v_reset_mv: reset potential (mV), < v_th.
        t_ref_ms: absolute refractory period (ms), >= 0; rounded to whole steps.
        reset: `ResetToValue()` (default) or `ResetBySubtraction()`.
        surrogate: surrogate derivative of the spike (default `FastSigmoid()`).
        detach_reset: if True (default) the reset does not carry gradient, as in SpyTorch
            and snnTorch's default; the spike itself still does.

    Each numeric field is a Python float (a constant) or an array broadcastable to the
    population size (traced: vmappable or trainable).
    """

    tau_mem_ms: float | Array = 20.0
    v_rest_mv: float | Array = 0.0
    v_th_mv: float | Array = 1.0
    v_reset_mv: float | Array = 0.0
    t_ref_ms: float | Array = 0.0
    reset: AbstractReset = ResetToValue()
    surrogate: AbstractSurrogate = FastSigmoid()
    detach_reset: bool = eqx.field(default=True, static=True)

    def __check_init__(self):
        check_positive("tau_mem_ms", self.tau_mem_ms)
        check_finite("v_rest_mv", self.v_rest_mv)
        check_finite("v_th_mv", self.v_th_mv)
        check_finite("v_reset_mv", self.v_reset_mv)
        check_nonnegative("t_ref_ms", self.t_ref_ms)
        if not isinstance(self.reset, AbstractReset):
            raise ValueError(
                f"reset must be ResetToValue() or ResetBySubtraction(), got {self.reset!r}"
            )
        if not isinstance(self.surrogate, AbstractSurrogate):
            raise ValueError(f"surrogate must be an AbstractSurrogate, got {self.surrogate!r}")
        try:
            below = bool(jnp.all(jnp.asarray(self.v_reset_mv) < jnp.asarray(self.v_th_mv)))
        except jax.errors.ConcretizationTypeError:
            below = True
        if not below:
            raise ValueError(
                f"v_reset_mv must be below v_th_mv, got v_reset_mv={self.v_reset_mv}, "
                f"v_th_mv={self.v_th_mv}"
            )

    def refractory_steps(self, dt_ms: float) -> int | Int[Array, ""]:
        """Number of whole steps the neuron is held after a spike: round(t_ref_ms / dt_ms)."""
        if isinstance(self.t_ref_ms, int | float):
            return int(round(self.t_ref_ms / dt_ms))
        return jnp.round(jnp.asarray(self.t_ref_ms) / dt_ms).astype(jnp.int32)


def lif_update(
    neuron: LIF,
    v: Float[Array, " n"],
    refractory: Int[Array, " n"],
    *,
    dt_ms: float,
    i_mv: Float[Array, " n"] | float = 0.0,
    g: Float[Array, " n"] | None = None,
    g_e_mv: Float[Array, " n"] | None = None,
    jump_mv: Float[Array, " n"] | float = 0.0,
) -> tuple[Float[Array, " n"], Int[Array, " n"], Float[Array, " n"]]:
    """One exact-integration step of a LIF population (formula in the module docstring).

    Args:
        neuron: the neuron parameters.
        v: membrane potentials (mV).
        refractory: steps of refractoriness left (int32).
        dt_ms: step length (ms).
        i_mv: total current input (synaptic + external), in mV, constant over the step.
        g: total conductance (units of leak conductance), or None for none.
        g_e_mv: Σ_x g_x·E_x (mV), required with `g`.
        jump_mv: total delta-synapse jump (mV) applied after the integration.

    Returns:
        `(v_new, refractory_new, spikes)`; spikes in the dtype of `v`.
    """
    ratio = dt_ms / neuron.tau_mem_ms  # computed first so scaling dt and tau together is exact
    drive = neuron.v_rest_mv + i_mv
    if g is None:
        v_inf = drive
        decay = exp_decay(ratio)
    else:
        v_inf = (drive + g_e_mv) / (1.0 + g)
        decay = jnp.exp(-ratio * (1.0 + g))
    v_int = v_inf + (v - v_inf) * decay + jump_mv
    is_refractory = refractory > 0
    v_new = jnp.where(is_refractory, v, v_int).astype(v.dtype)
    s = spike(v_new - neuron.v_th_mv, neuron.surrogate)
    s = jnp.where(is_refractory, jnp.zeros_like(s), s)
    s_reset = jax.lax.stop_gradient(s) if neuron.detach_reset else s
    if isinstance(neuron.reset, ResetBySubtraction):
        v_out = v_new - s_reset * (neuron.v_th_mv - neuron.v_reset_mv)
    else:
        # `where` makes the reset value exact; the second term is zero in the forward pass
        # and carries d(spike) when the reset is not detached.
        v_out = jnp.where(s > 0, jnp.asarray(neuron.v_reset_mv, v.dtype), v_new)
        v_out = v_out - (s_reset - jax.lax.stop_gradient(s_reset)) * (v_new - neuron.v_reset_mv)
    n_ref = neuron.refractory_steps(dt_ms)
    refractory_out = jnp.where(
        s > 0, jnp.asarray(n_ref, refractory.dtype), jnp.maximum(refractory - 1, 0)
    )
    return v_out.astype(v.dtype), refractory_out, s

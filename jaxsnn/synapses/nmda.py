"""The NMDA synapse of Wang (2002): saturating gating with rise and decay, Mg²⁺ block."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._checks import check_positive
from .._numerics import exp_decay
from .abstract import AbstractSynapse
from .output import AbstractOutput, MgBlock


class NMDAGating(eqx.Module):
    """The gating variables of each presynaptic neuron.

    Attributes:
        x: (n_pre,) rise variable (jumps by 1 per spike).
        s: (n_pre,) gating variable in [0, 1).
    """

    x: Float[Array, " n_pre"]
    s: Float[Array, " n_pre"]


class NMDA(AbstractSynapse):
    """NMDA receptor synapse (Wang 2002, Neuron 36:955, Eqs. of the Methods):

        dx_i/dt = -x_i/tau_rise + Σ_k δ(t - t_i^k)
        ds_i/dt = -s_i/tau_decay + alpha·x_i·(1 - s_i)
        I_j     = Σ_i w_ij·s_i · B(V_j)·(E - V_j)

    The gating s_i saturates, so it is a property of the presynaptic neuron i, computed
    once per neuron (the presynaptic stage) and then carried by the weights to every
    target: the drive is `d_j = Σ_i w_ij·s_i` (a conductance, units of the leak
    conductance), acting through `output` (default `MgBlock()`: reversal 0 mV, 1 mM Mg²⁺).

    Discrete update per step (spikes arriving at this step first):
    `x ← x·exp(-dt/tau_rise) + spikes`; then s is integrated exactly with x held over the
    step, `k = 1/tau_decay + alpha·x`, `s_inf = alpha·x/k`,
    `s ← s_inf + (s - s_inf)·exp(-k·dt)`. As s is continuous, event-driven propagation
    falls back to full products: prefer dense storage, or few, large presynaptic pools.

    Attributes:
        tau_rise_ms: rise time constant of x (ms), 2 in Wang (2002).
        tau_decay_ms: decay time constant of s (ms), 100 in Wang (2002).
        alpha_per_ms: saturation rate (1/ms), 0.5 in Wang (2002).
        output: how s acts (default `MgBlock()`).
    """

    tau_rise_ms: float | Array = 2.0
    tau_decay_ms: float | Array = 100.0
    alpha_per_ms: float | Array = 0.5
    output: AbstractOutput = MgBlock()

    def __check_init__(self):
        check_positive("NMDA.tau_rise_ms", self.tau_rise_ms)
        check_positive("NMDA.tau_decay_ms", self.tau_decay_ms)
        check_positive("NMDA.alpha_per_ms", self.alpha_per_ms)
        if not isinstance(self.output, AbstractOutput):
            raise ValueError(f"NMDA.output must be an output, got {self.output!r}")

    def init_presynaptic(self, n_pre, dtype):
        zeros = jnp.zeros((n_pre,), dtype)
        return NMDAGating(zeros, zeros)

    def presynaptic(self, state, spikes, *, dt_ms):
        x = (state.x * exp_decay(dt_ms / self.tau_rise_ms) + spikes).astype(state.x.dtype)
        ax = self.alpha_per_ms * x
        rate = 1.0 / self.tau_decay_ms + ax
        s_inf = ax / rate
        s = (s_inf + (state.s - s_inf) * jnp.exp(-rate * dt_ms)).astype(state.s.dtype)
        return NMDAGating(x, s), s

    def init(self, n_post, dtype):
        return None

    def step(self, state, drive, v_post, *, dt_ms):
        return None, self.output(drive, v_post)

    def weight_sign(self, presynaptic_sign):
        return self.output.weight_sign(presynaptic_sign)

    def time_constants_ms(self):
        return (self.tau_rise_ms, self.tau_decay_ms)

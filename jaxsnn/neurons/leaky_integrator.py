"""A non-spiking leaky integrator: the readout layer of most SNN training setups."""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, Float

from .._checks import check_finite, check_positive
from .abstract import AbstractNeuron, AbstractNeuronState
from .lif import integrate_exact


class LeakyIntegratorState(AbstractNeuronState):
    """State of leaky integrators.

    Attributes:
        v: (n,) potentials (mV).
    """

    v: Float[Array, " n"]


class LeakyIntegrator(AbstractNeuron):
    """A membrane without threshold: it integrates its input and never spikes.

    `tau_mem · dV/dt = (v_rest - V) + I + Σ_x g_x·(E_x - V) + σ·sqrt(tau_mem)·ξ(t)`,
    integrated exactly per step as the LIF membrane (`jaxsnn.neurons.lif`); delta-synapse
    jumps are added at the end of the step. With delta synapses of weight w from a spiking
    layer, `V(t) = V(t-1)·exp(-dt/tau_mem) + Σ_j w_j·s_j`: the usual leaky readout, whose
    maximum or mean over time are the logits of SpyTorch, snnTorch and Norse. Its spikes are
    always 0 (a projection from it carries nothing).

    Attributes:
        tau_mem_ms: time constant (ms), > 0.
        v_rest_mv: resting potential (mV).
    """

    tau_mem_ms: float | Array = 20.0
    v_rest_mv: float | Array = 0.0

    def __check_init__(self):
        check_positive("tau_mem_ms", self.tau_mem_ms)
        check_finite("v_rest_mv", self.v_rest_mv)

    def time_constants_ms(self):
        return (self.tau_mem_ms,)

    def init(self, n, dtype):
        return LeakyIntegratorState(jnp.broadcast_to(jnp.asarray(self.v_rest_mv, dtype), (n,)))

    def step(self, state, inp, *, dt_ms):
        v = integrate_exact(
            state.v, inp, tau_mem_ms=self.tau_mem_ms, v_rest_mv=self.v_rest_mv, dt_ms=dt_ms
        )
        return LeakyIntegratorState(v), jnp.zeros_like(v)

    def step_before_reset(self, state, inp, *, dt_ms):
        new, s = self.step(state, inp, dt_ms=dt_ms)
        return new, s, new.v  # no reset: V before it is V

"""Exponentially decaying synapses: a current (CUBA) or a conductance (COBA).

The synaptic variable x of each postsynaptic neuron follows `tau · dx/dt = -x` and jumps
by the drive `d_j = Σ_i w_ij s_i`; discrete, per step: `x ← x·exp(-dt/tau) + d`, and
the neuron integrates its step with this x held constant.

- `ExpCurrent(tau_ms)`: x is a current (mV); weights in mV carry the sign of the effect.
- `ExpConductance(tau_ms, e_rev_mv)`: x is a conductance (units of the leak conductance)
  driving V towards `e_rev_mv`; weights are conductance increments >= 0, the sign of the
  effect coming from the reversal potential.
"""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array

from .._checks import check_finite, check_positive
from .._numerics import exp_decay
from .abstract import AbstractSynapse
from .output import Conductance, Current


def _decay_and_add(x, drive, tau_ms, dt_ms):
    return (x * exp_decay(dt_ms / tau_ms) + drive).astype(x.dtype)


class ExpCurrent(AbstractSynapse):
    """Exponentially decaying current synapse.

    Attributes:
        tau_ms: decay time constant of the synaptic current (ms), > 0.
    """

    tau_ms: float | Array = 5.0

    def __check_init__(self):
        check_positive("ExpCurrent.tau_ms", self.tau_ms)

    def init(self, n_post, dtype):
        return jnp.zeros((n_post,), dtype)

    def step(self, state, drive, v_post, *, dt_ms):
        x = _decay_and_add(state, drive, self.tau_ms, dt_ms)
        return x, Current()(x, v_post)

    def time_constants_ms(self):
        return (self.tau_ms,)


class ExpConductance(AbstractSynapse):
    """Exponentially decaying conductance synapse with a reversal potential (COBA).

    Attributes:
        tau_ms: decay time constant of the conductance (ms), > 0.
        e_rev_mv: reversal potential (mV): 0 for excitation, -80 for inhibition in the
            usual COBA benchmark.
    """

    tau_ms: float | Array = 5.0
    e_rev_mv: float | Array = 0.0

    def __check_init__(self):
        check_positive("ExpConductance.tau_ms", self.tau_ms)
        check_finite("ExpConductance.e_rev_mv", self.e_rev_mv)

    def init(self, n_post, dtype):
        return jnp.zeros((n_post,), dtype)

    def step(self, state, drive, v_post, *, dt_ms):
        g = _decay_and_add(state, drive, self.tau_ms, dt_ms)
        return g, Conductance(self.e_rev_mv)(g, v_post)

    def weight_sign(self, presynaptic_sign):
        return 1

    def time_constants_ms(self):
        return (self.tau_ms,)

"""Synapse models: how a projection's summed presynaptic input acts on the postsynaptic V.

For every projection the step first computes the drive `d_j = Σ_i w_ij · s_i` onto each
postsynaptic neuron j (s = presynaptic spikes of the previous step, or input spikes of
this step). The synapse model then says what `d` does:

- `Delta`: V_j jumps by `d_j` mV at this step (no synaptic state).
- `ExpCurrent(tau_ms)`: a current `I_j` (mV) with `tau_ms · dI/dt = -I` that jumps by `d_j`;
  discrete: `I ← I · exp(-dt/tau_ms) + d`, then V integrates with this `I` for the step.
- `ExpConductance(tau_ms, e_rev_mv)`: a conductance `g_j` (units of the leak conductance)
  with `tau_ms · dg/dt = -g` that jumps by `d_j`; it drives V towards `e_rev_mv` through
  `g·(e_rev_mv - V)`; discrete: `g ← g · exp(-dt/tau_ms) + d`.

Weights of `Delta` and `ExpCurrent` are in mV (their sign is the sign of the effect);
weights of `ExpConductance` are conductance increments, >= 0, the sign of the effect
coming from the reversal potential.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._checks import check_finite, check_positive


def exp_decay(ratio: float | Array) -> float | Array:
    """`exp(-ratio)`: a Python float for a Python float (weakly typed, so it takes the
    state's dtype), an array otherwise."""
    if isinstance(ratio, int | float):
        return math.exp(-ratio)
    return jnp.exp(-ratio)


class AbstractSynapse(eqx.Module):
    """A synapse model; see the module docstring for the three kinds."""

    def decay(self, dt_ms: float) -> Float[Array, ""] | float:
        """Per-step decay factor of the synaptic variable, `exp(-dt/tau)` (1 for none)."""
        return 1.0


class Delta(AbstractSynapse):
    """A presynaptic spike makes the postsynaptic V jump by the weight (mV)."""


class ExpCurrent(AbstractSynapse):
    """Exponentially decaying current synapse.

    Attributes:
        tau_ms: decay time constant of the synaptic current (ms), > 0.
    """

    tau_ms: float | Array = 5.0

    def __check_init__(self):
        check_positive("ExpCurrent.tau_ms", self.tau_ms)

    def decay(self, dt_ms):
        return exp_decay(dt_ms / self.tau_ms)


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

    def decay(self, dt_ms):
        return exp_decay(dt_ms / self.tau_ms)


def time_constants_ms(synapse: AbstractSynapse) -> tuple:
    """The time constants of a synapse (for the dt check)."""
    tau = getattr(synapse, "tau_ms", None)
    return () if tau is None else (tau,)

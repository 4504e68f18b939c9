"""How a synaptic variable x acts on the postsynaptic neuron: as a current, as a
conductance with a reversal potential, or as a voltage-dependent (Mg²⁺-blocked)
conductance."""

from __future__ import annotations

import abc

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._checks import check_finite, check_nonnegative
from ..neuron_input import NeuronInput


class AbstractOutput(eqx.Module):
    """Turns the synaptic variable x (n_post,) into a `NeuronInput`."""

    @abc.abstractmethod
    def __call__(self, x: Float[Array, " n_post"], v_post: Float[Array, " n_post"]) -> NeuronInput:
        """The effect of `x` on neurons at potential `v_post` (mV)."""

    def weight_sign(self, presynaptic_sign: int) -> int:
        """Dale's sign of the weights (see `AbstractSynapse.weight_sign`)."""
        return 1


class Current(AbstractOutput):
    """x is a current (mV, i.e. R·I): `I += x`. Weights carry the sign of the effect."""

    def __call__(self, x, v_post):
        return NeuronInput(current_mv=x)

    def weight_sign(self, presynaptic_sign):
        return presynaptic_sign


class Conductance(AbstractOutput):
    """x is a conductance (units of the leak conductance) driving V towards `e_rev_mv`:
    `I += x·(e_rev_mv - V)`. Weights are >= 0.

    Attributes:
        e_rev_mv: reversal potential (mV).
    """

    e_rev_mv: float | Array = 0.0

    def __check_init__(self):
        check_finite("Conductance.e_rev_mv", self.e_rev_mv)

    def __call__(self, x, v_post):
        return NeuronInput(conductance=x, conductance_reversal_mv=x * self.e_rev_mv)


class MgBlock(AbstractOutput):
    """A conductance with the voltage-dependent Mg²⁺ block of NMDA receptors (Jahr &
    Stevens 1990, as in Wang 2002):

        I = x·B(V)·(e_rev - V),   B(V) = 1 / (1 + [Mg²⁺]/3.57·exp(-0.062·V))

    V in mV, [Mg²⁺] in mM. B is evaluated at the V of the start of the step, so within a
    step the synapse acts as a conductance x·B(V).

    Attributes:
        e_rev_mv: reversal potential (mV), 0 for NMDA.
        mg_mm: extracellular magnesium concentration (mM), >= 0.
    """

    e_rev_mv: float | Array = 0.0
    mg_mm: float | Array = 1.0

    def __check_init__(self):
        check_finite("MgBlock.e_rev_mv", self.e_rev_mv)
        check_nonnegative("MgBlock.mg_mm", self.mg_mm)

    def block(self, v: Float[Array, " n"]) -> Float[Array, " n"]:
        """B(V), the unblocked fraction at potential `v` (mV)."""
        return 1.0 / (1.0 + (self.mg_mm / 3.57) * jnp.exp(-0.062 * v))

    def __call__(self, x, v_post):
        g = x * self.block(v_post).astype(x.dtype)
        return NeuronInput(conductance=g, conductance_reversal_mv=g * self.e_rev_mv)

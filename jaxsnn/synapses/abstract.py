"""The synapse interface: how a projection's presynaptic spikes act on the postsynaptic V.

For every projection a step computes, in this order:

1. presynaptic stage (`presynaptic`): the spikes arriving at the synapses (after the
   projection's delay) become the signal that the weights carry: the spikes themselves
   for every linear synapse; the saturating gating variable s_i of each presynaptic
   neuron for `NMDA` (a nonlinearity of the presynaptic spike train, shared by all the
   neuron's synapses, so it is computed once per presynaptic neuron);
2. propagation: the drive `d_j = Σ_i w_ij · signal_i` onto each postsynaptic neuron j
   (`jaxsnn.propagation`);
3. postsynaptic stage (`step`): the synaptic variables of the postsynaptic neurons evolve
   with the drive (decay over the step, then the jump by `d`), and their effect on V is
   returned as a `NeuronInput`: a delta jump, a current, or a conductance with a reversal
   potential, possibly voltage-dependent (`jaxsnn.synapses.output`).

A model implements `init` and `step` (and, if it has one, the presynaptic stage); the
engine never looks inside it.
"""

from __future__ import annotations

import abc
from typing import Any

import equinox as eqx
from jaxtyping import Array, Float

from ..neuron_input import NeuronInput


class AbstractSynapse(eqx.Module):
    """A synapse model (see the module docstring)."""

    @abc.abstractmethod
    def init(self, n_post: int, dtype) -> Any:
        """The postsynaptic state of a projection onto `n_post` neurons (a pytree of
        arrays, or None for a stateless synapse)."""

    @abc.abstractmethod
    def step(
        self,
        state: Any,
        drive: Float[Array, " n_post"],
        v_post: Float[Array, " n_post"],
        *,
        dt_ms: float,
    ) -> tuple[Any, NeuronInput]:
        """One step of the postsynaptic stage.

        Args:
            state: the postsynaptic state (from `init` or the previous step).
            drive: `Σ_i w_ij · signal_i` of this step (weight units).
            v_post: the postsynaptic potentials (mV) at the start of the step.
            dt_ms: step length (ms).

        Returns:
            `(state, effect)`: the new state and what the neurons receive in this step.
        """

    def init_presynaptic(self, n_pre: int, dtype) -> Any:
        """The presynaptic state (None: the signal is the spikes themselves)."""
        return None

    def presynaptic(
        self, state: Any, spikes: Float[Array, " n_pre"], *, dt_ms: float
    ) -> tuple[Any, Float[Array, " n_pre"]]:
        """One step of the presynaptic stage: `(state, signal)`; by default the signal is
        the arriving spikes."""
        return state, spikes

    def weight_sign(self, presynaptic_sign: int) -> int:
        """The sign the weights must have (Dale's law) when the presynaptic population
        has `presynaptic_sign` (+1 excitatory, -1 inhibitory, 0 free): the population's
        own sign for synapses whose weight sign is the sign of the effect (delta, current);
        +1 for conductances, which inhibit through their reversal potential."""
        return presynaptic_sign

    def time_constants_ms(self) -> tuple:
        """The synapse's time constants in ms (for the dt check of `simulate`)."""
        return ()

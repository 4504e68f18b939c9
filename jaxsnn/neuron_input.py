"""What a population's neurons receive during one step: `NeuronInput`.

Synapses and population inputs each return a `NeuronInput`; the network sums those that
target a population and hands the sum to the population's neuron model (its `step`). The
membrane equation of every model in jaxsnn sees the input as

    tau_mem · dV/dt = ... + current_mv + conductance_reversal_mv − conductance·V
                      + noise (white, see `noise_mv`)

and, after the step's integration, `V += jump_mv`. A voltage-dependent synapse (e.g.
NMDA with its Mg²⁺ block) contributes the conductance it has at the V of the start of the
step, so the step stays linear in V (first-order operator splitting).

Fields are (n,) arrays or None. None means "nothing of this kind arrives", which lets a
neuron take its cheaper path (a current-based LIF never computes a per-neuron decay).
"""

from __future__ import annotations

import equinox as eqx
from jaxtyping import Array, Float


def _add(a: Array | None, b: Array | None) -> Array | None:
    if a is None:
        return b
    if b is None:
        return a
    return a + b


class NeuronInput(eqx.Module):
    """The summed input of one step to a group of n neurons.

    Attributes:
        current_mv: current in mV (R·I), held constant over the step.
        conductance: total conductance Σ_x g_x in units of the leak conductance.
        conductance_reversal_mv: Σ_x g_x·E_x (mV), the conductances times their reversal
            potentials (given together with `conductance`).
        jump_mv: instantaneous jump of V (mV) at the end of the step (delta synapses).
        noise_mv: σ·z per neuron, z ~ N(0, 1) drawn for this step: the neuron adds
            Gaussian white noise of intensity σ in the convention of Brunel (2000),
            `tau_mem · dV/dt = ... + σ·sqrt(tau_mem)·ξ(t)`, integrated exactly over the
            step, so a free membrane has variance σ²/2 whatever dt (see each neuron).
            Independent noises add as σ_1·z_1 + σ_2·z_2, which is σ·z in distribution.
    """

    current_mv: Float[Array, " n"] | None = None
    conductance: Float[Array, " n"] | None = None
    conductance_reversal_mv: Float[Array, " n"] | None = None
    jump_mv: Float[Array, " n"] | None = None
    noise_mv: Float[Array, " n"] | None = None

    def __add__(self, other: NeuronInput) -> NeuronInput:
        return NeuronInput(
            _add(self.current_mv, other.current_mv),
            _add(self.conductance, other.conductance),
            _add(self.conductance_reversal_mv, other.conductance_reversal_mv),
            _add(self.jump_mv, other.jump_mv),
            _add(self.noise_mv, other.noise_mv),
        )

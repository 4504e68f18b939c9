"""The delta synapse: a presynaptic spike makes the postsynaptic V jump by the weight."""

from __future__ import annotations

from ..neuron_input import NeuronInput
from .abstract import AbstractSynapse


class Delta(AbstractSynapse):
    """V_j jumps by the drive `d_j = Σ_i w_ij s_i` (mV) at the end of the step; no
    synaptic state. Weights are in mV and carry the sign of the effect."""

    def init(self, n_post, dtype):
        return None

    def step(self, state, drive, v_post, *, dt_ms):
        return None, NeuronInput(jump_mv=drive)

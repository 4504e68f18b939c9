"""Neuron models: the abstract interface and the models jaxsnn ships."""

from .abstract import AbstractNeuron, AbstractNeuronState
from .adex import AdEx, AdExState
from .leaky_integrator import LeakyIntegrator, LeakyIntegratorState
from .lif import LIF, AbstractLIF, AdaptiveLIF, AdaptiveLIFState, LIFState, integrate_exact
from .reset import AbstractReset, ResetBySubtraction, ResetToValue

__all__ = [
    "AbstractLIF",
    "AbstractNeuron",
    "AbstractNeuronState",
    "AbstractReset",
    "AdEx",
    "AdExState",
    "AdaptiveLIF",
    "AdaptiveLIFState",
    "LIF",
    "LIFState",
    "LeakyIntegrator",
    "LeakyIntegratorState",
    "ResetBySubtraction",
    "ResetToValue",
    "integrate_exact",
]

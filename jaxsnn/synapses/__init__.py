"""Synapse models: the abstract interface, the models jaxsnn ships and their outputs."""

from .abstract import AbstractSynapse
from .delta import Delta
from .dual_exponential import DualExponential, DualExponentialState
from .exponential import ExpConductance, ExpCurrent
from .nmda import NMDA, NMDAGating
from .output import AbstractOutput, Conductance, Current, MgBlock

__all__ = [
    "NMDA",
    "AbstractOutput",
    "AbstractSynapse",
    "Conductance",
    "Current",
    "Delta",
    "DualExponential",
    "DualExponentialState",
    "ExpConductance",
    "ExpCurrent",
    "MgBlock",
    "NMDAGating",
]

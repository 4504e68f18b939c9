"""jaxsnn: differentiable spiking neural networks of LIF neurons in JAX.

Units: time in ms, voltages and currents (R·I) in mV, rates in Hz, conductances in
units of the leak conductance.
"""

from . import decision, plasticity
from .connectivity import (
    AbstractConnectivity,
    AllToAll,
    FixedInDegree,
    FixedProbability,
    FromMatrix,
    FromPairs,
    OneToOne,
    SmallWorld,
)
from .decision import DecisionModel, build_decision_model
from .initializers import AbsNormal, AbstractInitializer, Constant, LogNormal, Normal, Uniform
from .inputs import AbstractInput, CurrentInput, PoissonInput, SpikeInput
from .io import load, save
from .network import Network, NetworkState, init_state, network_step
from .neuron import LIF, AbstractReset, ResetBySubtraction, ResetToValue, lif_update
from .plasticity import STDP, Hebbian, apply_updates, plastic_simulate, plastic_simulate_batch
from .population import Population
from .projection import Projection, connect
from .propagation import AbstractPropagation, Dense, Event, Scatter, event_drive
from .simulate import Record, concat_recordings, run_in_windows, simulate
from .surrogate import AbstractSurrogate, ArcTan, Boxcar, FastSigmoid, Sigmoid, Triangle, spike
from .synapse import AbstractSynapse, Delta, ExpConductance, ExpCurrent

__version__ = "0.1.0"

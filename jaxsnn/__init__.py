"""jaxsnn: differentiable spiking neural networks in JAX.

Units: time in ms, voltages and currents (R·I) in mV, rates in Hz, conductances in
units of the leak conductance.

The names below are the public API. The applications built on the core load on first
use: `jaxsnn.decision` (the binary-decision model, its training and evaluation),
`jaxsnn.models` (ready-made networks), `jaxsnn.hybrid` (STDP beside an optax-trained
readout), `jaxsnn.training` (optax training of spiking classifiers on Yin-Yang and
Randman, exactly resumable). So do the tools around it: `jaxsnn.analysis` (spike-train
features), `jaxsnn.datasets` (generated tasks and encoders), `jaxsnn.nir_graph` (NIR
export and import), `jaxsnn.plot` (matplotlib figures), `jaxsnn.theory` (mean-field
formulas).
"""

import importlib
from typing import Any

from . import plasticity
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
from .events import SpikeEvents
from .initializers import AbsNormal, AbstractInitializer, Constant, LogNormal, Normal, Uniform
from .inputs import (
    AbstractCounts,
    AbstractInput,
    AbstractPopulationInput,
    AbstractSpikeInput,
    BinomialCounts,
    CurrentInput,
    OrnsteinUhlenbeck,
    PoissonCounts,
    PoissonDrive,
    PoissonInput,
    SpikeInput,
    TruncatedPoissonCounts,
    WhiteNoise,
)
from .layout import AbstractLayout, DenseLayout, SparseLayout
from .network import Network, NetworkState, StepOutput, init_state, network_step
from .neuron_input import NeuronInput
from .neurons import (
    LIF,
    AbstractLIF,
    AbstractNeuron,
    AbstractNeuronState,
    AbstractReset,
    AdaptiveLIF,
    AdEx,
    LeakyIntegrator,
    ResetBySubtraction,
    ResetToValue,
)
from .plasticity import STDP, Hebbian, Plasticity
from .pooled import Pooled, PooledLayout, connect_pooled
from .population import Population
from .progress import RunReport
from .projection import Projection, connect
from .propagation import AbstractPropagation, Dense, Event, Scatter
from .record import Probe, Record, Recording
from .saves import load, save
from .simulation import concat_recordings, run_in_windows, simulate
from .streaming import StreamReport, WindowResult, run_stream, stream
from .surrogate import (
    AbstractSurrogate,
    ArcTan,
    Boxcar,
    FastSigmoid,
    Sigmoid,
    Triangle,
    TrueGradient,
    spike,
)
from .synapses import (
    NMDA,
    AbstractOutput,
    AbstractSynapse,
    Conductance,
    Current,
    Delta,
    DualExponential,
    ExpConductance,
    ExpCurrent,
    MgBlock,
)

__version__ = "0.1.0"

_APPLICATIONS = ("decision", "models", "hybrid", "training")
# Tools around the core that not every run needs (plot loads matplotlib on first use).
_TOOLS = ("analysis", "datasets", "nir_graph", "plot", "psychophysics", "theory")


def __getattr__(name: str) -> Any:
    # Applications import the core, never the other way round: load them on first use.
    if name in _APPLICATIONS or name in _TOOLS:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "LIF",
    "NMDA",
    "STDP",
    "AbsNormal",
    "AbstractConnectivity",
    "AbstractCounts",
    "AbstractInitializer",
    "AbstractInput",
    "AbstractLIF",
    "AbstractLayout",
    "AbstractNeuron",
    "AbstractNeuronState",
    "AbstractOutput",
    "AbstractPopulationInput",
    "AbstractPropagation",
    "AbstractReset",
    "AbstractSpikeInput",
    "AbstractSurrogate",
    "AbstractSynapse",
    "AdEx",
    "AdaptiveLIF",
    "AllToAll",
    "ArcTan",
    "BinomialCounts",
    "Boxcar",
    "Conductance",
    "Constant",
    "Current",
    "CurrentInput",
    "Delta",
    "Dense",
    "DenseLayout",
    "DualExponential",
    "Event",
    "ExpConductance",
    "ExpCurrent",
    "FastSigmoid",
    "FixedInDegree",
    "FixedProbability",
    "FromMatrix",
    "FromPairs",
    "Hebbian",
    "LeakyIntegrator",
    "LogNormal",
    "MgBlock",
    "Network",
    "NetworkState",
    "NeuronInput",
    "Normal",
    "OneToOne",
    "OrnsteinUhlenbeck",
    "Plasticity",
    "PoissonCounts",
    "PoissonDrive",
    "PoissonInput",
    "Pooled",
    "PooledLayout",
    "Population",
    "Probe",
    "Projection",
    "Record",
    "Recording",
    "ResetBySubtraction",
    "ResetToValue",
    "RunReport",
    "Scatter",
    "Sigmoid",
    "SmallWorld",
    "SparseLayout",
    "SpikeEvents",
    "SpikeInput",
    "StepOutput",
    "StreamReport",
    "Triangle",
    "TrueGradient",
    "TruncatedPoissonCounts",
    "Uniform",
    "WhiteNoise",
    "WindowResult",
    "concat_recordings",
    "connect",
    "connect_pooled",
    "init_state",
    "load",
    "network_step",
    "plasticity",
    "run_in_windows",
    "run_stream",
    "save",
    "simulate",
    "spike",
    "stream",
]

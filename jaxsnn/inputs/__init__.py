"""External inputs: spike sources for projections and inputs acting on a population."""

from .abstract import AbstractInput, AbstractPopulationInput, AbstractSpikeInput
from .counts import AbstractCounts, BinomialCounts, PoissonCounts
from .currents import CurrentInput, OrnsteinUhlenbeck, WhiteNoise
from .poisson_drive import PoissonDrive
from .spike_sources import PoissonInput, SpikeInput
from .truncated_counts import TruncatedPoissonCounts

__all__ = [
    "AbstractCounts",
    "AbstractInput",
    "AbstractPopulationInput",
    "AbstractSpikeInput",
    "BinomialCounts",
    "CurrentInput",
    "OrnsteinUhlenbeck",
    "PoissonCounts",
    "PoissonDrive",
    "PoissonInput",
    "SpikeInput",
    "TruncatedPoissonCounts",
    "WhiteNoise",
]

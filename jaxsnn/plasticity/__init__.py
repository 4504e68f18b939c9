"""Local learning: Hebbian and STDP rules, run inside `simulate` (`Plasticity`), replayed
on given spike trains (`run_rule`), homeostasis and structural changes.

Rules return weight updates shaped like the weights; `simulate(..., plasticity=...)` runs
them in the same `lax.scan` as the dynamics and returns a network-shaped update.
"""

from .learning import Plasticity
from .replay import run_rule
from .rules import (
    STDP,
    AbstractPlasticityRule,
    AbstractWeightDependence,
    Additive,
    Hebbian,
    Multiplicative,
)
from .traces import AbstractPairing, AllPairs, NearestSpike, Traces, decay_trace

__all__ = [
    "STDP",
    "AbstractPairing",
    "AbstractPlasticityRule",
    "AbstractWeightDependence",
    "Additive",
    "AllPairs",
    "Hebbian",
    "Multiplicative",
    "NearestSpike",
    "Plasticity",
    "Traces",
    "decay_trace",
    "run_rule",
]

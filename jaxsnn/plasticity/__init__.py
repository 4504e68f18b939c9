"""Local learning: Hebbian and STDP rules, plasticity inside the simulation scan,
homeostasis and structural changes, and hybrid STDP + optax training.

Rules return weight updates shaped like the weights; `plastic_simulate` runs them in the
same `lax.scan` as the dynamics.
"""

from .plastic_simulate import (
    PlasticState,
    apply_updates,
    init_plastic_state,
    plastic_simulate,
    plastic_simulate_batch,
    plastic_step,
    resolve_rules,
    with_plastic_weights,
)
from .rules import (
    STDP,
    AbstractPlasticityRule,
    AbstractWeightDependence,
    Additive,
    Hebbian,
    Multiplicative,
)
from .run_rule import run_rule
from .traces import AbstractPairing, AllPairs, NearestSpike, SynapseLayout, Traces, decay_trace

__all__ = [
    "AbstractPairing",
    "AbstractPlasticityRule",
    "AbstractWeightDependence",
    "Additive",
    "AllPairs",
    "Hebbian",
    "Multiplicative",
    "NearestSpike",
    "PlasticState",
    "STDP",
    "SynapseLayout",
    "Traces",
    "apply_updates",
    "decay_trace",
    "init_plastic_state",
    "plastic_simulate",
    "plastic_simulate_batch",
    "plastic_step",
    "resolve_rules",
    "run_rule",
    "with_plastic_weights",
]

"""Reservoir computing the way snn-reservoir-py (`snnpy`) users work: build a reservoir
from snnpy's parameters or a user's adjacency matrix, run it on a batch of binary input
matrices in one call, learn with snnpy's STDP, tune the threshold by the mean-field rule,
prune and rescale, read out with ridge or logistic regression, and exchange files with
snnpy.

Modules: `model` (the reservoir and its builders), `run` (simulation, STDP in snnpy's
order), `homeostasis` (threshold, pruning, rescaling), `features` (readout inputs),
`readout` (ridge, logistic, cross-validation), `files` (snnpy's file formats), `tasks`
(procedurally generated temporal tasks).
"""

from .features import binned_counts, feature_vectors
from .files import load_reservoir, save_reservoir
from .homeostasis import (
    apply_mean_field_threshold,
    input_spike_density,
    mean_field_threshold,
    prune,
    resample_weights,
    rescale_weights,
)
from .model import (
    Reservoir,
    ReservoirState,
    build_reservoir,
    from_adjacency,
    leak_of,
    stdp_from_snnpy,
)
from .readout import (
    CrossValidation,
    LogisticReadout,
    RidgeReadout,
    accuracy,
    cross_validate,
    fit_logistic,
    fit_ridge,
)
from .run import ReservoirRun, run, run_sequence, spike_time_lists
from .tasks import temporal_order

__all__ = [
    "CrossValidation",
    "LogisticReadout",
    "Reservoir",
    "ReservoirRun",
    "ReservoirState",
    "RidgeReadout",
    "accuracy",
    "apply_mean_field_threshold",
    "binned_counts",
    "build_reservoir",
    "cross_validate",
    "feature_vectors",
    "fit_logistic",
    "fit_ridge",
    "from_adjacency",
    "input_spike_density",
    "leak_of",
    "load_reservoir",
    "mean_field_threshold",
    "prune",
    "resample_weights",
    "rescale_weights",
    "run",
    "run_sequence",
    "save_reservoir",
    "spike_time_lists",
    "stdp_from_snnpy",
    "temporal_order",
]

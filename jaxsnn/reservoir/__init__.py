"""Reservoir computing the way snn-reservoir-py (`snnpy`) users work: build a reservoir
from snnpy's parameters or a user's adjacency matrix, run it on a batch of binary input
matrices in one call, learn with snnpy's STDP, tune the threshold by the mean-field rule,
prune and rescale, read out with ridge or logistic regression, and exchange files with
snnpy."""

from .model import (
    Reservoir,
    ReservoirState,
    build_reservoir,
    from_adjacency,
    leak_of,
    stdp_from_snnpy,
)
from .run import ReservoirRun, run, run_sequence, spike_time_lists

__all__ = [
    "Reservoir",
    "ReservoirRun",
    "ReservoirState",
    "build_reservoir",
    "from_adjacency",
    "leak_of",
    "run",
    "run_sequence",
    "spike_time_lists",
    "stdp_from_snnpy",
]

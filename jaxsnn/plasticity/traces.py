"""Exponentially decaying spike traces, the memory of pair-based plasticity rules.

A trace is a low-pass filtered spike train, `tau · dx/dt = -x`, with a jump at every spike.
Discrete update per step of length dt (exact decay), in this order:

    x ← x · exp(-dt/tau)          decay over the step
    x ← pairing(x, s)             s = this step's spikes (0/1)

with two pairings:

- `AllPairs()`: `x ← x + s`. The trace sums `exp(-(t - t_k)/tau)` over *all* past spikes
  t_k, so every pre/post pair contributes (all-to-all STDP).
- `NearestSpike()`: `x ← x·(1 - s) + s`, i.e. reset to 1 at a spike. The trace is
  `exp(-(t - t_last)/tau)` of the *most recent* spike only, so a postsynaptic spike pairs
  with the nearest preceding presynaptic spike and a presynaptic spike with the nearest
  preceding postsynaptic spike (the "symmetric nearest-spike" interaction of Morrison,
  Diesmann & Gerstner 2008, Fig. 7A; a spike can take part in several pairs).

Traces are dimensionless (spike counts weighted by the decay).
"""

from __future__ import annotations

import abc

import equinox as eqx
from jaxtyping import Array, Float

from .._checks import check_positive
from .._numerics import exp_decay


class AbstractPairing(eqx.Module):
    """How a spike enters a trace (which spike pairs a trace-based rule counts)."""

    @abc.abstractmethod
    def __call__(self, x: Float[Array, " n"], s: Float[Array, " n"]) -> Float[Array, " n"]:
        """The trace after this step's spikes `s` (0/1) have been added to the decayed `x`."""


class AllPairs(AbstractPairing):
    """All-to-all pairing: `x ← x + s`."""

    def __call__(self, x, s):
        return x + s


class NearestSpike(AbstractPairing):
    """Nearest-spike pairing: the trace is reset to 1 at a spike, `x ← x·(1 - s) + s`
    (written without `where` so gradients through spikes survive)."""

    def __call__(self, x, s):
        return x * (1 - s) + s


class Traces(eqx.Module):
    """Presynaptic and postsynaptic traces of one projection (state carried by the scan).

    Attributes:
        pre: (n_pre,) presynaptic traces (dimensionless).
        post: (n_post,) postsynaptic traces (dimensionless).
    """

    pre: Float[Array, " n_pre"]
    post: Float[Array, " n_post"]


def decay_trace(x: Float[Array, " n"], tau_ms: float | Array, dt_ms: float) -> Float[Array, " n"]:
    """`x · exp(-dt/tau)`, keeping the dtype of `x` (a Python-float decay is weakly typed)."""
    check_positive("trace tau_ms", tau_ms)
    return (x * exp_decay(dt_ms / tau_ms)).astype(x.dtype)

"""Exponentially decaying spike traces and the synapse layout that plasticity rules see.

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
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int

from .._checks import check_positive
from ..synapse import exp_decay


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


class SynapseLayout(eqx.Module):
    """Where the synapses of a projection are, so a rule can build per-synapse quantities
    shaped like the weights and only touch existing synapses.

    Three storages (as in `jaxsnn.Projection`):
    - full dense: `mask` and `targets` None, weights (n_pre, n_post), every pair exists;
    - masked dense: `mask` (n_pre, n_post) bool;
    - sparse ELL: `targets` (n_pre, k) int32, padding slots hold `n_post`.

    Attributes:
        n_post: number of postsynaptic neurons.
        mask: dense mask of existing synapses, or None.
        targets: ELL target indices, or None.
    """

    n_post: int = eqx.field(static=True)
    mask: Bool[Array, "n_pre n_post"] | None = None
    targets: Int[Array, "n_pre k"] | None = None

    @classmethod
    def of(cls, projection) -> SynapseLayout:
        """The layout of a `jaxsnn.Projection`."""
        return cls(projection.n_post, projection.mask, projection.targets)

    def exists(self, like: Float[Array, "n_pre k"]) -> Bool[Array, "n_pre k"]:
        """Boolean array shaped like the weights: True where a synapse exists."""
        if self.targets is not None:
            return self.targets < self.n_post
        if self.mask is not None:
            return self.mask
        return jnp.ones(like.shape, bool)

    def post(self, b: Float[Array, " n_post"]) -> Float[Array, "1_or_n_pre k"]:
        """A postsynaptic quantity seen at each synapse: `b[None, :]` dense, `b[targets]`
        sparse (0 on padding slots)."""
        if self.targets is None:
            return b[None, :]
        padded = jnp.concatenate([b, jnp.zeros((1,), b.dtype)])
        return padded[self.targets]

    def outer(
        self, a: Float[Array, " n_pre"], b: Float[Array, " n_post"]
    ) -> Float[Array, "n_pre k"]:
        """`a_i · b_j` at every existing synapse (i, j), 0 elsewhere, shaped like the weights."""
        out = a[:, None] * self.post(b)
        if self.mask is not None:
            out = jnp.where(self.mask, out, jnp.zeros((), out.dtype))
        return out

    def post_sum(self, x: Float[Array, "n_pre k"]) -> Float[Array, " n_post"]:
        """`Σ_i x_ij` over the synapses onto each postsynaptic neuron j."""
        if self.targets is None:
            return jnp.sum(x, axis=0)
        return jnp.zeros((self.n_post,), x.dtype).at[self.targets].add(x, mode="drop")

"""How presynaptic spikes become postsynaptic drive: `drive_j = Σ_i w_ij · s_i`.

A propagation strategy is a small module chosen per projection:

- `Dense()`: a matrix-vector product with the (n_pre, n_post) weight matrix. Best for
  small or densely connected layers and for gradient training of small networks.
- `Scatter()`: for sparse (ELL) storage, every stored synapse adds `w · s_pre` to its
  target with a scatter-add; work is proportional to the number of synapses.

All strategies compute the same sum (up to float summation order) and are
differentiable in both the spikes and the weights.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

if TYPE_CHECKING:
    from .projection import Projection


class AbstractPropagation(eqx.Module):
    """Computes a projection's drive from presynaptic spikes."""

    @abc.abstractmethod
    def __call__(
        self, projection: Projection, s_pre: Float[Array, " n_pre"]
    ) -> Float[Array, " n_post"]:
        """Drive onto each postsynaptic neuron (weight units: mV or conductance)."""

    def check_layout(self, projection: Projection) -> None:
        """Raise ValueError if this strategy cannot run on the projection's storage."""


class Dense(AbstractPropagation):
    """`s_pre @ W` with dense weights of shape (n_pre, n_post)."""

    def __call__(self, projection, s_pre):
        return s_pre @ projection.weights

    def check_layout(self, projection):
        if projection.targets is not None:
            raise ValueError(
                f"Dense() propagation needs dense weights; projection {projection.pre}->"
                f"{projection.post} is sparse (use layout='dense' in connect)"
            )


class Scatter(AbstractPropagation):
    """Scatter-add of every stored synapse (sparse ELL storage, padding dropped)."""

    def __call__(self, projection, s_pre):
        contrib = s_pre[:, None] * projection.weights
        out = jnp.zeros((projection.n_post,), contrib.dtype)
        return out.at[projection.targets].add(contrib, mode="drop")

    def check_layout(self, projection):
        if projection.targets is None:
            raise ValueError(
                f"Scatter() propagation needs sparse weights; projection {projection.pre}->"
                f"{projection.post} is dense (use layout='sparse' in connect)"
            )

"""Absolute refractoriness counted in whole steps (shared by the spiking models)."""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, Float, Int


def refractory_steps(t_ref_ms: float | Array, dt_ms: float) -> int | Int[Array, "..."]:
    """Steps a neuron is held after a spike: round(t_ref_ms / dt_ms) (a Python int for a
    Python float, so XLA sees a constant)."""
    if isinstance(t_ref_ms, int | float):
        return int(round(t_ref_ms / dt_ms))
    return jnp.round(jnp.asarray(t_ref_ms) / dt_ms).astype(jnp.int32)


def count_down(
    refractory: Int[Array, " n"], spikes: Float[Array, " n"], n_ref: int | Int[Array, "..."]
) -> Int[Array, " n"]:
    """The counter after a step: `n_ref` where the neuron spiked, else one step less."""
    return jnp.where(
        spikes > 0, jnp.asarray(n_ref, refractory.dtype), jnp.maximum(refractory - 1, 0)
    )

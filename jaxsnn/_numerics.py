"""Small numerical helpers shared by the models."""

from __future__ import annotations

import math

import jax.numpy as jnp
from jaxtyping import Array


def exp_decay(ratio: float | Array) -> float | Array:
    """`exp(-ratio)`: a Python float for a Python float (weakly typed, so it takes the
    state's dtype and XLA sees a constant), an array otherwise."""
    if isinstance(ratio, int | float):
        return math.exp(-ratio)
    return jnp.exp(-ratio)


def sqrt(x: float | Array) -> float | Array:
    """`sqrt(x)`, a Python float for a Python float (as `exp_decay`)."""
    if isinstance(x, int | float):
        return math.sqrt(x)
    return jnp.sqrt(x)

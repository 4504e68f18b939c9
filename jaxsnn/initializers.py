"""Weight initialisers: draw one weight magnitude per existing synapse.

An initialiser is called as `init(key, n, dtype)` and returns an array of `n` weights.
`connect` multiplies them by the projection's `scale` and, for populations that obey
Dale's law, by the population's sign.
"""

from __future__ import annotations

import abc
import math

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float, PRNGKeyArray

from ._checks import check_finite, check_nonnegative, check_positive


def _draw_size(n: int) -> int:
    """Random draws are made for the next power of two >= n and cut to n.

    With JAX's default (partitionable) threefry the first n values of a longer draw equal
    a draw of exactly n, so the weights are unchanged, but building a network compiles one
    random kernel per power of two instead of one per synapse count (~0.5 s each on CPU).
    """
    return 1 << max(n - 1, 0).bit_length()


class AbstractInitializer(eqx.Module):
    """Draws `n` synaptic weights."""

    @abc.abstractmethod
    def __call__(self, key: PRNGKeyArray, n: int, dtype) -> Float[Array, " n"]:
        """`n` weights of the given dtype."""


class Constant(AbstractInitializer):
    """Every weight equals `value`."""

    value: float = 1.0

    def __check_init__(self):
        check_finite("Constant.value", self.value)

    def __call__(self, key, n, dtype):
        return jnp.full((n,), self.value, dtype)


class Normal(AbstractInitializer):
    """Weights ~ N(mean, std²)."""

    mean: float = 0.0
    std: float = 1.0

    def __check_init__(self):
        check_finite("Normal.mean", self.mean)
        check_nonnegative("Normal.std", self.std)

    def __call__(self, key, n, dtype):
        return (self.mean + self.std * jr.normal(key, (_draw_size(n),), dtype))[:n]


class AbsNormal(AbstractInitializer):
    """Weights ~ |N(mean, std²)| (the folded normal used by the W1 benchmark)."""

    mean: float = 0.0
    std: float = 1.0

    def __check_init__(self):
        check_finite("AbsNormal.mean", self.mean)
        check_nonnegative("AbsNormal.std", self.std)

    def __call__(self, key, n, dtype):
        return jnp.abs(self.mean + self.std * jr.normal(key, (_draw_size(n),), dtype))[:n]


class LogNormal(AbstractInitializer):
    """Log-normal weights with the given mean and standard deviation of the weights
    themselves (not of their logarithm): σ² = ln(1 + std²/mean²), μ = ln(mean) − σ²/2."""

    mean: float = 1.0
    std: float = 1.0

    def __check_init__(self):
        check_positive("LogNormal.mean", self.mean)
        check_nonnegative("LogNormal.std", self.std)

    def __call__(self, key, n, dtype):
        sigma2 = math.log1p((self.std / self.mean) ** 2)
        mu = math.log(self.mean) - sigma2 / 2
        z = jr.normal(key, (_draw_size(n),), dtype)
        return jnp.exp(mu + math.sqrt(sigma2) * z)[:n]


class Uniform(AbstractInitializer):
    """Weights ~ U(low, high)."""

    low: float = 0.0
    high: float = 1.0

    def __check_init__(self):
        check_finite("Uniform.low", self.low)
        check_finite("Uniform.high", self.high)
        if not self.high >= self.low:
            raise ValueError(f"Uniform.high must be >= low, got low={self.low}, high={self.high}")

    def __call__(self, key, n, dtype):
        return jr.uniform(key, (_draw_size(n),), dtype, self.low, self.high)[:n]

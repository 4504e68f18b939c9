"""Random spike counts per step: Poisson and binomial, from one uniform draw per value.

`jax.random.poisson` and `jax.random.binomial` cost about 170 ns per value on a CPU
(rejection samplers); a population drive needs one count per neuron and step, for means
of a few spikes. Here each count is the inverse of its CDF at one uniform u,
`X = #{k : F(k) < u}`, with the pmf built by its recurrence in a loop that stops as soon
as every u is covered (a handful of iterations for small means). Means above
`NORMAL_ABOVE` use the normal approximation `round(mean + sd·Φ⁻¹(u))`, clipped to the
support (as Brian2's `PoissonInput` does for large means).

The counts are not differentiable (their rate enters under `stop_gradient`).
"""

from __future__ import annotations

import abc
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.scipy.special import ndtri
from jaxtyping import Array, Float, PRNGKeyArray

from .. import _threefry as threefry

NORMAL_ABOVE = 25.0


def _inverse_cdf(
    u: Array, pmf0: Array, ratio: Callable[[Array], Array], limit: float
) -> Float[Array, "..."]:
    """#{k >= 0 : F(k) < u} where pmf(k + 1) = pmf(k)·ratio(k), F the running sum."""

    def cond(carry):
        k, pmf, cdf, _ = carry
        return jnp.any((u > cdf) & (pmf > 0)) & (k < limit)

    def body(carry):
        k, pmf, cdf, count = carry
        count = count + (u > cdf).astype(count.dtype)
        pmf = pmf * ratio(k)
        return k + 1, pmf, cdf + pmf, count

    k0 = jnp.zeros((), u.dtype)
    _, _, _, count = jax.lax.while_loop(cond, body, (k0, pmf0, pmf0, jnp.zeros_like(u)))
    return count


def poisson_counts(
    key: PRNGKeyArray, mean: Float[Array, "..."], shape: tuple[int, ...], dtype
) -> Float[Array, "..."]:
    """Poisson(mean) counts of the given shape (`mean` broadcasts), as floats."""
    u = threefry.uniform(key, shape, dtype)
    mean = jnp.broadcast_to(jax.lax.stop_gradient(jnp.asarray(mean, dtype)), shape)
    large = mean > NORMAL_ABOVE
    small = jnp.where(large, 0.0, mean).astype(dtype)
    exact = _inverse_cdf(u, jnp.exp(-small), lambda k: small / (k + 1), float("inf"))
    approx = jnp.maximum(jnp.round(mean + jnp.sqrt(mean) * ndtri(u)), 0.0)
    return jnp.where(large, approx, exact).astype(dtype)


def binomial_counts(
    key: PRNGKeyArray, n: int, p: Float[Array, "..."], shape: tuple[int, ...], dtype
) -> Float[Array, "..."]:
    """Binomial(n, p) counts of the given shape (`p` broadcasts), as floats."""
    u = threefry.uniform(key, shape, dtype)
    p = jnp.broadcast_to(jax.lax.stop_gradient(jnp.asarray(p, dtype)), shape)
    mean = n * p
    large = mean * (1 - p) > NORMAL_ABOVE
    q = jnp.where(large | (p >= 1), 0.0, p).astype(dtype)
    exact = _inverse_cdf(u, (1.0 - q) ** n, lambda k: (n - k) / (k + 1) * q / (1.0 - q), float(n))
    exact = jnp.where(p >= 1, float(n), exact)
    approx = jnp.round(mean + jnp.sqrt(mean * (1 - p)) * ndtri(u))
    return jnp.where(large, jnp.clip(approx, 0.0, float(n)), exact).astype(dtype)


class AbstractCounts(eqx.Module):
    """How many of `n_sources` sources of per-step probability p spike in one step."""

    @abc.abstractmethod
    def sample(
        self, key: PRNGKeyArray, n_sources: int, p: Float[Array, "..."], shape, dtype
    ) -> Float[Array, "..."]:
        """Counts of the given shape (`p` broadcasts), as floats."""

    def max_probability(self) -> float:
        """The largest per-step probability p of one source this model admits."""
        return float("inf")


class PoissonCounts(AbstractCounts):
    """k ~ Poisson(n_sources · p): the sources are Poisson processes (a source may spike
    more than once per step)."""

    def sample(self, key, n_sources, p, shape, dtype):
        return poisson_counts(key, n_sources * jnp.asarray(p, dtype), shape, dtype)


class BinomialCounts(AbstractCounts):
    """k ~ Binomial(n_sources, p): each source spikes at most once per step (Bernoulli
    channels, as `PoissonInput`)."""

    def sample(self, key, n_sources, p, shape, dtype):
        return binomial_counts(key, n_sources, p, shape, dtype)

    def max_probability(self):
        return 1.0

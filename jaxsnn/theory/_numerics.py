"""Quadrature and dtype helpers of `jaxsnn.theory`: fixed-order Gauss-Legendre rules
(so every integral is jit/vmap/grad-able), the sinh map for integrands with a power-law
tail, and the cut of exponentially decaying ranges."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

CUT = 40.0  # integration ranges end where the integrand has fallen by e^{-CUT}
SINH_SPLIT = 3.0  # panel boundary of the sinh-mapped integrals (their bend is below it)
NODES, WEIGHTS = np.polynomial.legendre.leggauss(64)  # rate and outer CV integral
NODES_IN, WEIGHTS_IN = np.polynomial.legendre.leggauss(48)  # inner CV integral


def float_dtype(*xs):
    """The dtype of the inputs, or the default float if that is not a float."""
    dtype = jnp.result_type(*xs)
    return dtype if jnp.issubdtype(dtype, jnp.floating) else jnp.result_type(float)


def rule(a, b, nodes=NODES, weights=WEIGHTS):
    """Nodes and weights of the Gauss-Legendre rule on [a, b] (a, b broadcast), on a new
    last axis: ∫_a^b f ≈ sum(f(x)·w, -1). Integrals are written as one sum over
    concatenated rules so that each integrand is evaluated (and compiled) once."""
    a, b = jnp.broadcast_arrays(a, b)
    nodes = jnp.asarray(nodes, a.dtype)
    half = ((b - a) / 2)[..., None]
    return ((a + b) / 2)[..., None] + half * nodes, half * jnp.asarray(weights, a.dtype)


def sinh_rule(w_lo, w_hi, nodes=NODES, weights=WEIGHTS):
    """Nodes and weights for ∫_{w_lo}^{w_hi} f(w) dw, 0 <= w_lo <= w_hi, in w = sinh(t):
    integrands that bend near w = 0 and decay like a power of w are smooth in t. Two
    panels split at t = SINH_SPLIT resolve the bend even when w_hi is huge (sigma -> 0)."""
    t_lo, t_hi = jnp.arcsinh(w_lo), jnp.arcsinh(w_hi)
    t_mid = jnp.clip(jnp.asarray(SINH_SPLIT, t_lo.dtype), t_lo, t_hi)
    t1, v1 = rule(t_lo, t_mid, nodes, weights)
    t2, v2 = rule(t_mid, t_hi, nodes, weights)
    t, v = jnp.concatenate([t1, t2], -1), jnp.concatenate([v1, v2], -1)
    return jnp.sinh(t), v * jnp.cosh(t)


def decay_length(b, cut):
    """The t where t·(2b - t) = cut (t <= b): the range beyond which e^{-t(2b - t)} <
    e^{-cut}; b + 1 where that is never reached (an integration range [0, b - c], c >= 0,
    is then not cut; b + 1 rather than b so that `minimum(b - c, ...)` has no tie at c = 0,
    where the derivative of a tie would be halved)."""
    disc = b * b - cut
    safe = jnp.where(disc > 0, disc, 1.0)
    return jnp.where(disc > 0, cut / (b + jnp.sqrt(safe)), b + 1.0)

"""Naive dense JAX baselines for W1 and W2: a hand-written `lax.scan` under `jit` with a
dense `s @ W` per step (what one writes without jaxsnn), same models and order of
operations as `numpy_reference.py`."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import jax.random as jr


def w1_dense_fn(n_steps: int, *, dt_ms: float = 0.1, n_in: int = 100, w_in_mv: float = 0.5):
    """`f(weights (N, N), rates_hz (B,), keys (B,)) -> (B, N) spike counts`, jitted, vmapped."""
    decay = math.exp(-dt_ms / 20.0)
    n_ref = round(2.0 / dt_ms)

    def trial(weights, rate, key):
        n = weights.shape[0]
        p = rate * (dt_ms * 1e-3)

        def step(carry, t):
            v, ref, s, counts = carry
            inp = (jr.uniform(jr.fold_in(key, t), (n_in,)) < p).astype(v.dtype)
            jump = (s @ weights).at[:n_in].add(w_in_mv * inp)
            refractory = ref > 0
            v = jnp.where(refractory, v, v * decay + jump)
            spiked = (v > 1.0) & ~refractory
            v = jnp.where(spiked, 0.0, v)
            ref = jnp.where(spiked, n_ref, jnp.maximum(ref - 1, 0))
            s = spiked.astype(v.dtype)
            return (v, ref, s, counts + s), None

        zeros = jnp.zeros((n,), weights.dtype)
        init = (zeros, jnp.zeros((n,), jnp.int32), zeros, zeros)
        (_, _, _, counts), _ = jax.lax.scan(step, init, jnp.arange(n_steps))
        return counts

    return jax.jit(jax.vmap(trial, in_axes=(None, 0, 0)))


def w2_dense_fn(n_steps: int, n_exc: int, *, dt_ms: float = 0.1):
    """`f(weights (N, N), v0 (N,)) -> (N,) spike counts`, jitted; rows < n_exc excitatory."""
    de, di = math.exp(-dt_ms / 5.0), math.exp(-dt_ms / 10.0)
    ratio = dt_ms / 20.0
    n_ref = round(5.0 / dt_ms)

    def run(weights, v0):
        n = weights.shape[0]
        w_exc, w_inh = weights[:n_exc], weights[n_exc:]

        def step(carry, _):
            v, ge, gi, ref, s, counts = carry
            ge = ge * de + s[:n_exc] @ w_exc
            gi = gi * di + s[n_exc:] @ w_inh
            g = ge + gi
            v_inf = (-60.0 + 20.0 + gi * -80.0) / (1.0 + g)
            v_int = v_inf + (v - v_inf) * jnp.exp(-ratio * (1.0 + g))
            refractory = ref > 0
            v = jnp.where(refractory, v, v_int)
            spiked = (v > -50.0) & ~refractory
            v = jnp.where(spiked, -60.0, v)
            ref = jnp.where(spiked, n_ref, jnp.maximum(ref - 1, 0))
            s = spiked.astype(v.dtype)
            return (v, ge, gi, ref, s, counts + s), None

        zeros = jnp.zeros((n,), weights.dtype)
        init = (v0, zeros, zeros, jnp.zeros((n,), jnp.int32), zeros, zeros)
        (*_, counts), _ = jax.lax.scan(step, init, None, length=n_steps)
        return counts

    return jax.jit(run)

"""`jax.random`'s threefry draws, bit for bit, with the hash written out unrolled.

Why: on CPU, JAX lowers the threefry2x32 hash as a `fori_loop` of 5 iterations (to keep
compile times short), and XLA:CPU runs each iteration as a dozen separate operations.
A step of a network with noise or Poisson inputs hashes a few times, so a one-trial
step spent most of its time there (~60 % of decision-1k's 5 µs per step, measured). The
same 20 rounds written out are one elementwise expression that XLA fuses into a single
loop, and the numbers are identical: the functions here equal `jax.random.fold_in`,
`uniform` and `normal` exactly (tests/test_threefry.py), and fall back to them for other
PRNG implementations or `jax_threefry_partitionable=False`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jaxtyping import Array, PRNGKeyArray

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))


def _rotl(x, r: int):
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def _hash(k1, k2, x1, x2):
    """Threefry-2x32 with 20 rounds (Salmon et al. 2011), as JAX computes it."""
    ks = (k1, k2, k1 ^ k2 ^ np.uint32(0x1BD11BDA))
    x = [x1 + ks[0], x2 + ks[1]]
    for i in range(5):
        for r in _ROTATIONS[i % 2]:
            x[0] = x[0] + x[1]
            x[1] = _rotl(x[1], r) ^ x[0]
        x[0] = x[0] + ks[(i + 1) % 3]
        x[1] = x[1] + ks[(i + 2) % 3] + np.uint32(i + 1)
    return x[0], x[1]


def _is_threefry(key) -> bool:
    if not jax.config.jax_threefry_partitionable:
        return False
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        return str(jax.random.key_impl(key)) == "threefry2x32" and key.shape == ()
    return (
        key.shape == (2,)
        and key.dtype == jnp.uint32
        and jax.config.jax_default_prng_impl == "threefry2x32"
    )


def _data(key):
    return jax.random.key_data(key) if jnp.issubdtype(key.dtype, jax.dtypes.prng_key) else key


def _like(key, data):
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        return jax.random.wrap_key_data(data, impl=jax.random.key_impl(key))
    return data


def fold_in(key: PRNGKeyArray, data) -> PRNGKeyArray:
    """`jax.random.fold_in(key, data)` for a scalar integer `data`."""
    if not _is_threefry(key):
        return jax.random.fold_in(key, data)
    k = _data(key)
    if isinstance(data, int):
        d = jnp.asarray(data, jnp.uint32)  # as JAX: Python ints up to 2**32 - 1
    else:
        d = jnp.asarray(data).astype(jnp.uint32)  # arrays: their low 32 bits
    a, b = _hash(k[0], k[1], jnp.zeros((1,), jnp.uint32), d.reshape(1))
    return _like(key, jnp.concatenate([a, b]))


def _bits(key, shape: tuple[int, ...], width: int):
    k = _data(key)
    n = int(np.prod(shape))
    if n >= 2**32:  # the counter's high word would be nonzero
        raise ValueError(f"too many random numbers at once ({n})")
    lo = lax.iota(jnp.uint32, n).reshape(shape)
    b1, b2 = _hash(k[0], k[1], jnp.zeros(shape, jnp.uint32), lo)
    if width == 32:
        return b1 ^ b2
    return (b1.astype(jnp.uint64) << np.uint64(32)) | b2.astype(jnp.uint64)


def uniform(key: PRNGKeyArray, shape: tuple[int, ...], dtype=jnp.float32) -> Array:
    """`jax.random.uniform(key, shape, dtype)` on [0, 1)."""
    dtype = jnp.dtype(dtype)
    if not _is_threefry(key) or dtype not in (jnp.float32, jnp.float64):
        return jax.random.uniform(key, shape, dtype)
    return _uniform(key, tuple(shape), dtype, 0.0, 1.0)


def _uniform(key, shape, dtype, lo, hi):
    finfo = jnp.finfo(dtype)
    width = finfo.bits
    uint = jnp.uint32 if width == 32 else jnp.uint64
    bits = _bits(key, shape, width)
    one = np.array(1.0, dtype).view(uint)
    floats = lax.bitcast_convert_type((bits >> uint(width - finfo.nmant)) | one, dtype)
    floats = floats - jnp.asarray(1.0, dtype)
    lo, hi = jnp.asarray(lo, dtype), jnp.asarray(hi, dtype)
    return lax.max(lo, floats * (hi - lo) + lo)


def normal(key: PRNGKeyArray, shape: tuple[int, ...], dtype=jnp.float32) -> Array:
    """`jax.random.normal(key, shape, dtype)` (real dtypes)."""
    dtype = jnp.dtype(dtype)
    if not _is_threefry(key) or dtype not in (jnp.float32, jnp.float64):
        return jax.random.normal(key, shape, dtype)
    lo = np.nextafter(np.array(-1.0, dtype), np.array(0.0, dtype), dtype=dtype)
    u = _uniform(key, tuple(shape), dtype, lo, 1.0)
    return lax.mul(np.array(np.sqrt(2), dtype), lax.erf_inv(u))

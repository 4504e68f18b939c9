"""jaxsnn._threefry equals jax.random bit for bit: fold_in, uniform and normal, for typed
and raw keys, many shapes and data values, float32 and float64, under jit and vmap; other
PRNG implementations go to jax.random unchanged."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from jaxsnn import _threefry as tf

SHAPES = [(), (1,), (2,), (3,), (7, 5), (1000,)]


def _keys():
    yield jr.key(0)
    yield jr.key(2**31 - 1)
    yield jr.fold_in(jr.key(123), 456)
    yield jr.PRNGKey(42)  # raw uint32 (2,)


@pytest.mark.parametrize("shape", SHAPES)
def test_uniform_and_normal_equal_jax_random(shape):
    for key in _keys():
        np.testing.assert_array_equal(tf.uniform(key, shape), jr.uniform(key, shape))
        np.testing.assert_array_equal(tf.normal(key, shape), jr.normal(key, shape))
        got = jax.jit(lambda k, s=shape: tf.normal(k, s))(key)
        np.testing.assert_array_equal(got, jr.normal(key, shape))


def test_fold_in_equals_jax_random():
    for key in _keys():
        for data in (0, 1, 7, 2**31 - 1, 2**32 - 1, np.int32(-5)):
            want = jr.fold_in(key, data)
            got = tf.fold_in(key, data)
            if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
                want, got = jr.key_data(want), jr.key_data(got)
            np.testing.assert_array_equal(got, want)
        # traced data (the step counter inside a scan)
        t = jnp.arange(5, dtype=jnp.int32)
        got = jax.jit(jax.vmap(lambda x, k=key: _raw(tf.fold_in(k, x))))(t)
        np.testing.assert_array_equal(got, jax.vmap(lambda x, k=key: _raw(jr.fold_in(k, x)))(t))


def _raw(key):
    return jr.key_data(key) if jnp.issubdtype(key.dtype, jax.dtypes.prng_key) else key


def test_vmapped_keys():
    keys = jr.split(jr.key(9), 6)
    np.testing.assert_array_equal(
        jax.vmap(lambda k: tf.uniform(k, (4,)))(keys), jax.vmap(lambda k: jr.uniform(k, (4,)))(keys)
    )


def test_float64():
    with jax.enable_x64(True):
        for key in _keys():
            for shape in [(3,), (33,)]:
                for fn, ref in ((tf.uniform, jr.uniform), (tf.normal, jr.normal)):
                    got = fn(key, shape, jnp.float64)
                    assert got.dtype == jnp.float64
                    np.testing.assert_array_equal(got, ref(key, shape, jnp.float64))


def test_other_implementations_go_to_jax_random():
    key = jr.key(3, impl="rbg")
    np.testing.assert_array_equal(tf.uniform(key, (5,)), jr.uniform(key, (5,)))
    np.testing.assert_array_equal(jr.key_data(tf.fold_in(key, 2)), jr.key_data(jr.fold_in(key, 2)))


def test_the_hash_is_unrolled():
    """No loop left in the compiled draw: the reason this module exists."""
    hlo = jax.jit(lambda k: tf.normal(k, (100,))).lower(jr.key(0)).as_text()
    assert "while" not in hlo

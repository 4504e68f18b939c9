"""Weight initialisers: moments as documented, dtypes, scaling by connect."""

import math

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from scipy.stats import norm

import jaxsnn as snn

N = 200_000
Z = 5.0  # |z| bound on sample moments (fixed key)


def _draw(init, dtype=jnp.float32):
    w = init(jr.key(42), N, dtype)
    assert w.shape == (N,) and w.dtype == dtype
    return np.asarray(w, np.float64)


def _check_moments(w, mean, std, kurtosis=3.0):
    """Sample mean and std within Z standard errors; the SE of the std is
    std·sqrt((kurtosis - 1)/(4N))."""
    assert abs(w.mean() - mean) < Z * std / math.sqrt(N)
    assert abs(w.std() - std) < Z * std * math.sqrt((kurtosis - 1) / (4 * N))


def test_constant():
    np.testing.assert_array_equal(snn.Constant(0.3)(jr.key(0), 5, jnp.float32), np.float32(0.3))


def test_normal():
    _check_moments(_draw(snn.Normal(0.5, 2.0)), 0.5, 2.0)


def test_abs_normal_is_folded_normal():
    mu, sigma = 0.1, 0.05
    w = _draw(snn.AbsNormal(mu, sigma))
    assert np.all(w >= 0)
    mean = sigma * math.sqrt(2 / math.pi) * math.exp(-(mu**2) / (2 * sigma**2)) + mu * (
        1 - 2 * norm.cdf(-mu / sigma)
    )
    std = math.sqrt(mu**2 + sigma**2 - mean**2)
    _check_moments(w, mean, std, kurtosis=3.5)  # close to normal here; bound kept loose


@pytest.mark.parametrize("mean, std", [(1.5, 0.6), (0.1, 0.05)])
def test_lognormal_has_the_documented_mean_and_std(mean, std):
    w = _draw(snn.LogNormal(mean, std))
    assert np.all(w > 0)
    s2 = math.log1p((std / mean) ** 2)  # kurtosis of a log-normal with log-variance s2
    kurt = math.exp(4 * s2) + 2 * math.exp(3 * s2) + 3 * math.exp(2 * s2) - 3
    _check_moments(w, mean, std, kurtosis=kurt)
    # The log of the weights is normal with the documented parameters.
    _check_moments(np.log(w), math.log(mean) - s2 / 2, math.sqrt(s2))


def test_uniform():
    w = _draw(snn.Uniform(-1.0, 3.0))
    assert w.min() >= -1.0 and w.max() < 3.0
    _check_moments(w, 1.0, 4.0 / math.sqrt(12), kurtosis=1.8)


@pytest.mark.parametrize(
    "init", [snn.Constant(1.0), snn.Normal(), snn.AbsNormal(), snn.LogNormal(), snn.Uniform()]
)
def test_dtype_follows_request(init):
    assert init(jr.key(0), 3, jnp.bfloat16).dtype == jnp.bfloat16
    with jax.enable_x64(True):
        assert init(jr.key(0), 3, jnp.float64).dtype == jnp.float64


def test_connect_scales_the_draw():
    a, b = snn.Population("a", 30), snn.Population("b", 30)
    rule = snn.FixedProbability(0.5)
    one = snn.connect(a, b, rule, snn.LogNormal(1.0, 0.5), key=jr.key(1))
    three = snn.connect(a, b, rule, snn.LogNormal(1.0, 0.5), key=jr.key(1), scale=3.0)
    # The draw is scaled in float64 then cast to float32: one rounding apart.
    np.testing.assert_allclose(three.weights, 3.0 * np.asarray(one.weights), rtol=1e-6)


def test_draws_do_not_depend_on_the_padding_to_a_power_of_two():
    """Initialisers draw 2^k >= n values and keep the first n; with JAX's partitionable
    threefry those are exactly the values of a draw of size n."""
    key = jr.key(8)
    # Few sizes: every unpadded reference draw compiles its own random kernel.
    np.testing.assert_array_equal(
        snn.Normal(0.5, 2.0)(key, 1000, jnp.float32), 0.5 + 2.0 * jr.normal(key, (1000,))
    )
    np.testing.assert_array_equal(
        snn.Uniform(-1.0, 3.0)(key, 5, jnp.float32), jr.uniform(key, (5,), minval=-1.0, maxval=3.0)
    )
    assert snn.LogNormal()(key, 0, jnp.float32).shape == (0,)

"""Golomb's χ: 1 for identical signals, about 1/sqrt(N) for independent ones."""

import jax.numpy as jnp
import numpy as np
import pytest

import jaxsnn.analysis as A


def test_identical_traces_give_one():
    rng = np.random.default_rng(0)
    v = rng.normal(size=(500, 1)) + np.zeros((1, 8))
    v = v + np.arange(8)  # constant offsets do not change the variances
    assert float(A.synchrony_chi(jnp.asarray(v, jnp.float32))) == pytest.approx(1.0, abs=1e-6)


def test_independent_traces_give_one_over_sqrt_n():
    """For N independent signals χ² = 1/N up to sampling noise: with T = 4000 white-noise
    samples, Var(mean) and the mean variance each fluctuate by ~sqrt(2/T) = 2 %."""
    rng = np.random.default_rng(1)
    n = 16
    v = rng.normal(size=(4000, n)).astype(np.float32)
    chi = float(A.synchrony_chi(v))
    assert chi * np.sqrt(n) == pytest.approx(1.0, abs=0.1)


def test_synchrony_chi_closed_form():
    rng = np.random.default_rng(2)
    v = rng.normal(size=(300, 5))
    want = np.sqrt(np.var(v.mean(1)) / np.mean(np.var(v, 0)))
    assert float(A.synchrony_chi(v.astype(np.float32))) == pytest.approx(want, rel=1e-5)


def test_constant_traces_give_nan():
    assert np.isnan(float(A.synchrony_chi(np.ones((50, 4), np.float32))))
    silent = np.zeros((50, 4), np.float32)
    assert np.isnan(float(A.spike_synchrony_chi(silent, dt_ms=0.1, kernel=A.BoxcarKernel(1.0))))


def test_spike_synchrony():
    rng = np.random.default_rng(3)
    kernel = A.GaussianKernel(sigma_ms=2.0)
    train = (rng.random((20_000, 1)) < 0.01).astype(np.float32)
    same = np.repeat(train, 10, axis=1)
    assert float(A.spike_synchrony_chi(same, dt_ms=0.1, kernel=kernel)) == pytest.approx(
        1.0, abs=1e-5
    )
    n = 10
    independent = (rng.random((20_000, n)) < 0.01).astype(np.float32)
    chi = float(A.spike_synchrony_chi(independent, dt_ms=0.1, kernel=kernel))
    # smoothed over ~50 steps, 20 000 steps hold ~400 independent samples: the variances
    # fluctuate by ~sqrt(2/400) = 7 %, so allow 30 % on χ·sqrt(N)
    assert chi * np.sqrt(n) == pytest.approx(1.0, abs=0.3)

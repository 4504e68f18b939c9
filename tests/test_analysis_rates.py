"""Firing rates and smoothing kernels against closed forms and np.convolve."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

import jaxsnn.analysis as A

DT = 0.1


def test_rate_of_a_known_train_is_exact():
    s = np.zeros((1000, 3), np.float32)  # 100 ms
    s[::10, 0] = 1  # every 1 ms: 1000 Hz
    s[5::100, 1] = 1  # every 10 ms: 100 Hz
    np.testing.assert_array_equal(np.asarray(A.firing_rates(s, dt_ms=DT)), [1000.0, 100.0, 0.0])


def test_rates_count_multiple_spikes_per_step():
    s = np.zeros((100, 1), np.float32)
    s[3, 0] = 2.0  # two spikes in one step
    assert float(A.firing_rates(s, dt_ms=1.0)[0]) == pytest.approx(20.0)  # 2 / 0.1 s


def test_population_rate_without_kernel():
    rng = np.random.default_rng(0)
    s = (rng.random((200, 8)) < 0.1).astype(np.float32)
    want = s.mean(axis=1) * 1000.0 / DT
    np.testing.assert_allclose(np.asarray(A.population_rate(s, dt_ms=DT)), want, rtol=1e-6)


KERNELS = [A.GaussianKernel(sigma_ms=0.7), A.BoxcarKernel(width_ms=0.5), A.ExponentialKernel(1.0)]


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: type(k).__name__)
def test_population_rate_is_the_mean_of_smoothed_rates(kernel):
    rng = np.random.default_rng(1)
    s = (rng.random((200, 8)) < 0.1).astype(np.float32)
    per_neuron = A.smoothed_rates(s, dt_ms=DT, kernel=kernel)
    assert per_neuron.shape == s.shape
    pop = A.population_rate(s, dt_ms=DT, kernel=kernel)
    # filtering is linear; float32 sums in another order
    np.testing.assert_allclose(
        np.asarray(pop), np.asarray(per_neuron).mean(1), rtol=1e-5, atol=1e-2
    )


def test_gaussian_impulse_response():
    s = np.zeros((101, 1), np.float32)
    s[50, 0] = 1
    sigma = 0.7
    got = np.asarray(A.smoothed_rates(s, dt_ms=DT, kernel=A.GaussianKernel(sigma)))[:, 0]
    reach = math.ceil(4 * sigma / DT)
    lags = (np.arange(101) - 50) * DT
    w = np.where(np.abs(np.arange(101) - 50) <= reach, np.exp(-(lags**2) / (2 * sigma**2)), 0)
    want = w / w.sum() * 1000.0 / DT
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-3)
    assert got.sum() * DT / 1000.0 == pytest.approx(1.0, rel=1e-5)  # one spike's worth


@pytest.mark.parametrize("width_steps", [1, 4, 5])
def test_boxcar_is_a_centred_moving_average(width_steps):
    rng = np.random.default_rng(2)
    x = rng.random(60).astype(np.float32)
    got = np.asarray(A.BoxcarKernel(width_steps * DT).apply(jnp.asarray(x), dt_ms=DT))
    m = width_steps
    # documented window: t - m//2 .. t + (m - 1)//2 (symmetric for odd m), 0 outside
    want = np.array([x[max(0, t - m // 2) : t + (m - 1) // 2 + 1].sum() / m for t in range(60)])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


def test_exponential_kernel_closed_forms():
    tau = 2.0
    a = math.exp(-DT / tau)
    impulse = np.zeros(80, np.float32)
    impulse[10] = 1
    got = np.asarray(A.ExponentialKernel(tau).apply(jnp.asarray(impulse), dt_ms=DT))
    k = np.arange(80) - 10
    want = np.where(k >= 0, (1 - a) * a ** np.maximum(k, 0), 0.0)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-8)
    # a constant from the start of the record rises as c·(1 - a^(t+1))
    got = np.asarray(A.ExponentialKernel(tau).apply(jnp.full(80, 3.0), dt_ms=DT))
    np.testing.assert_allclose(got, 3.0 * (1 - a ** (np.arange(80) + 1)), rtol=1e-5)


@pytest.mark.parametrize("kernel", KERNELS[:2], ids=lambda k: type(k).__name__)
def test_smoothing_keeps_a_constant_rate_away_from_the_ends(kernel):
    s = np.zeros((400, 1), np.float32)
    s[::4, 0] = 1  # 2500 Hz at dt 0.1 ms
    rate = np.asarray(A.smoothed_rates(s, dt_ms=DT, kernel=kernel))[:, 0]
    # the kernels' weights sum to 1; a period-4 train through a width of 5-7 steps
    # ripples, so compare the mean over whole periods in the interior
    assert rate[40:360].mean() == pytest.approx(2500.0, rel=1e-3)

"""Welch spectra: equal to scipy.signal.welch; an oscillating population rate peaks at f0."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import signal as sps

import jaxsnn.analysis as A


@pytest.mark.parametrize("segment_ms, overlap", [(None, 0.5), (12.8, 0.5), (10.0, 0.0), (5.1, 0.3)])
def test_power_spectrum_equals_scipy_welch(segment_ms, overlap):
    rng = np.random.default_rng(0)
    x = rng.normal(size=1000)
    dt = 0.1
    nperseg = 1000 if segment_ms is None else round(segment_ms / dt)
    want_f, want_p = sps.welch(x, fs=1000.0 / dt, nperseg=nperseg, noverlap=int(overlap * nperseg))
    with jax.enable_x64(True):
        f, p = A.power_spectrum(jnp.asarray(x), dt_ms=dt, segment_ms=segment_ms, overlap=overlap)
    # float64, the same sums in another order
    np.testing.assert_allclose(np.asarray(f), want_f, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(p), want_p, rtol=1e-9, atol=1e-15)


def test_power_integrates_to_the_variance():
    rng = np.random.default_rng(1)
    x = rng.normal(size=4096).astype(np.float32)
    f, p = A.power_spectrum(x, dt_ms=1.0, segment_ms=256.0)
    # Parseval, up to the Hann window's leakage and the segments' sampling noise
    assert float(jnp.sum(p) * (f[1] - f[0])) == pytest.approx(float(np.var(x)), rel=0.05)


def test_oscillating_population_rate_peaks_at_f0():
    rng = np.random.default_rng(2)
    dt, f0 = 0.1, 40.0
    t_s = np.arange(10_000) * dt / 1000.0  # 1 s
    p = 0.002 * (1 + 0.8 * np.sin(2 * np.pi * f0 * t_s))  # 20 Hz mean, modulated at 40 Hz
    s = (rng.random((10_000, 200)) < p[:, None]).astype(np.float32)
    f, power = A.rate_power_spectrum(s, dt_ms=dt, segment_ms=250.0)  # 4 Hz resolution
    assert float(A.peak_frequency(f, power)) == f0
    assert float(A.peak_frequency(f, power, min_hz=60.0)) > 60.0


def test_peak_frequency_of_nothing_above_min_is_nan():
    f = jnp.asarray([0.0, 10.0, 20.0])
    assert np.isnan(float(A.peak_frequency(f, jnp.ones(3), min_hz=20.0)))

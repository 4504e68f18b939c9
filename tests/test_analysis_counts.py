"""Window counts, Fano factor and spike-count correlations against NumPy and closed forms."""

import numpy as np
import pytest

import jaxsnn.analysis as A

DT = 0.1


def _spikes(seed, n_steps=1000, n=6, p=0.05):
    rng = np.random.default_rng(seed)
    return (rng.random((n_steps, n)) < p).astype(np.float32)


def test_window_counts_drop_the_trailing_partial_window():
    s = _spikes(0, n_steps=1005)
    got = np.asarray(A.window_counts(s, window_ms=5.0, dt_ms=DT))  # 50 steps
    want = s[:1000].reshape(20, 50, -1).sum(1)
    np.testing.assert_array_equal(got, want)


def test_fano_factor_equals_numpy():
    s = _spikes(1)
    s[:, 0] = 0  # silent: NaN
    counts = s.reshape(50, 20, -1).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        want = counts.var(0, ddof=1) / counts.mean(0)
    got = np.asarray(A.fano_factor(s, window_ms=2.0, dt_ms=DT))
    assert np.isnan(got[0])
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_fano_factor_of_a_regular_train_is_zero():
    s = np.zeros((1000, 1), np.float32)
    s[::10, 0] = 1
    assert float(A.fano_factor(s, window_ms=5.0, dt_ms=DT)[0]) == 0.0


def test_fano_factor_of_poisson_trains():
    """Bernoulli spikes of probability p per step give Binomial(w, p) window counts:
    Fano factor 1 - p (-> 1 as p -> 0)."""
    rng = np.random.default_rng(2)
    p, w, n_windows, n = 0.02, 100, 200, 20
    s = (rng.random((w * n_windows, n)) < p).astype(np.float32)
    fano = np.asarray(A.fano_factor(s, window_ms=w * DT, dt_ms=DT))
    # for Poisson counts of mean m the sample Fano factor has variance ~ (2 + 1/m)/n_windows
    # (m = 2 here: sd 0.11 per neuron, 0.025 for the mean of 20): allow 5 sd
    m = p * w
    sd = np.sqrt((2 + 1 / m) / n_windows / n)
    assert abs(fano.mean() - (1 - p)) < 5 * sd


def test_spike_count_correlation_equals_numpy():
    s = _spikes(3, n=5, p=0.1)
    s[:, 1] = s[:, 0]  # identical: r = 1
    s[:, 4] = 0  # silent: NaN row and column
    counts = s.reshape(50, 20, -1).sum(1)
    got = np.asarray(A.spike_count_correlation(s, window_ms=2.0, dt_ms=DT))
    assert np.isnan(got[4]).all() and np.isnan(got[:, 4]).all()
    np.testing.assert_allclose(got[:4, :4], np.corrcoef(counts[:, :4].T), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(np.diag(got)[:4], 1.0)
    assert got[0, 1] == pytest.approx(1.0, abs=1e-6)
    mean = float(A.mean_spike_count_correlation(s, window_ms=2.0, dt_ms=DT))
    want = np.corrcoef(counts[:, :4].T)[np.triu_indices(4, k=1)].mean()
    assert mean == pytest.approx(want, rel=1e-5)


def test_mean_correlation_without_pairs_is_nan():
    s = _spikes(4, n=3)
    s[:, 1:] = 0
    assert np.isnan(float(A.mean_spike_count_correlation(s, window_ms=2.0, dt_ms=DT)))

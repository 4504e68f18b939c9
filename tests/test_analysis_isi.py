"""ISI statistics: CV against closed forms and np.diff, the ISI histogram against
np.histogram (the gradients of the differentiable CV: test_analysis_transforms)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsnn.analysis as A


def _isis(train: np.ndarray) -> np.ndarray:
    return np.diff(np.flatnonzero(train > 0))


def _cv_reference(s: np.ndarray) -> np.ndarray:
    out = np.full(s.shape[1], np.nan)
    for i in range(s.shape[1]):
        isi = _isis(s[:, i])
        if len(isi) >= 2:
            out[i] = np.std(isi) / np.mean(isi)
    return out


def test_cv_of_a_known_train():
    s = np.zeros((20, 1), np.float32)
    s[[1, 3, 7, 13], 0] = 1  # ISIs 2, 4, 6: mean 4, std sqrt(8/3)
    assert float(A.cv_isi(s, dt_ms=0.1)[0]) == pytest.approx(np.sqrt(8 / 3) / 4, rel=1e-6)


def test_cv_equals_numpy_on_random_trains():
    rng = np.random.default_rng(0)
    # (97, 21), the shape of the other files' trials: compiled once for all of them
    s = (rng.random((97, 21)) < rng.uniform(0.0, 0.3, 21)).astype(np.float32)
    s[:, :3] = 0  # 0: silent, NaN
    s[[4, 90], 1] = 1  # two spikes, one ISI: NaN
    s[[4, 90, 91], 2] = 1  # three spikes, two ISIs: defined
    s[:, 3] = 1  # every step: CV 0
    want = _cv_reference(s)
    got = np.asarray(A.cv_isi(s, dt_ms=1.0))
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    assert np.isnan(got[[0, 1]]).all() and got[3] == 0.0
    # float32 two-pass variance of < 100 integer ISIs: a few ulp
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_cv_of_a_regular_train_is_zero():
    s = np.zeros((10_000, 2), np.float32)
    s[::10, 0] = 1
    s[3::37, 1] = 1
    # exact: every deviation from the mean ISI is 0 in floating point too
    np.testing.assert_array_equal(np.asarray(A.cv_isi(s, dt_ms=0.1)), 0.0)


def test_cv_of_poisson_trains():
    """Bernoulli spikes of probability p per step (a Poisson process sampled on a grid)
    have geometric ISIs, CV = sqrt(1 - p) (-> 1 as p -> 0)."""
    rng = np.random.default_rng(1)
    p, n_steps, n = 0.02, 20_000, 20
    s = (rng.random((n_steps, n)) < p).astype(np.float32)
    cv = np.asarray(A.cv_isi(s, dt_ms=0.1))
    # about k = 400 ISIs per neuron; the sample CV of exponential-like ISIs has standard
    # deviation ~ 1/sqrt(k) = 0.05, so the mean of 20 neurons ~ 0.011: allow 5 sigma
    k = p * n_steps
    assert abs(cv.mean() - np.sqrt(1 - p)) < 5 / np.sqrt(k * n)


def test_differentiable_cv_equals_exact_on_binary_spikes():
    rng = np.random.default_rng(2)
    s = (rng.random((97, 21)) < 0.15).astype(np.float32)
    s[:, 0] = 0
    exact = np.asarray(A.cv_isi(s, dt_ms=0.5))
    soft = np.asarray(A.cv_isi(s, dt_ms=0.5, differentiable=True))
    np.testing.assert_array_equal(np.isnan(soft), np.isnan(exact))
    np.testing.assert_allclose(soft, exact, rtol=1e-6)


def test_isi_histogram_equals_numpy():
    rng = np.random.default_rng(5)
    s = (rng.random((400, 10)) < 0.1).astype(np.float32)
    dt = 0.5
    edges = np.array([0.25, 1.25, 2.75, 5.25, 10.25, 30.0])  # between multiples of dt
    isis_ms = np.concatenate([_isis(s[:, i]) for i in range(10)]) * dt
    want, _ = np.histogram(isis_ms, edges)
    got = A.isi_histogram(s, bins_ms=edges, dt_ms=dt)
    assert got.dtype == jnp.int32
    np.testing.assert_array_equal(np.asarray(got), want)


def test_isi_histogram_edges_on_multiples_of_dt():
    """Edges at multiples of dt compare in whole steps: [0.1·k, 0.1·(k+1)) holds k steps,
    whatever the float rounding of 0.1·k; the last bin is closed."""
    rng = np.random.default_rng(6)
    s = (rng.random((300, 5)) < 0.2).astype(np.float32)
    isis = np.concatenate([_isis(s[:, i]) for i in range(5)])
    edges_steps = np.arange(1, 12)
    want, _ = np.histogram(isis, edges_steps)
    got = A.isi_histogram(s, bins_ms=0.1 * edges_steps, dt_ms=0.1)
    np.testing.assert_array_equal(np.asarray(got), want)


def test_isi_histogram_of_no_isis_is_zero():
    s = np.zeros((30, 3), np.float32)
    s[5, 0] = 1
    got = A.isi_histogram(s, bins_ms=[0.0, 1.0, 2.0], dt_ms=0.1)
    np.testing.assert_array_equal(np.asarray(got), [0, 0])


def test_differentiable_cv_gradient_is_finite_with_a_regular_neuron():
    # a neuron with equal ISIs has CV = 0, where sqrt has no derivative; its gradient is
    # taken as 0 so that a summed loss over all neurons stays finite
    s = np.zeros((100, 2), np.float32)
    s[::10, 0] = 1.0
    s[[3, 20, 31, 77], 1] = 1.0
    x = jnp.asarray(s)  # 0/1 like surrogate spikes in the forward pass
    cv = A.cv_isi(x, dt_ms=0.1, differentiable=True)
    assert float(cv[0]) == 0.0 and float(cv[1]) > 0
    grad = jax.grad(lambda x: jnp.sum(A.cv_isi(x, dt_ms=0.1, differentiable=True)))(x)
    assert np.isfinite(np.asarray(grad)).all() and np.abs(np.asarray(grad[:, 1])).sum() > 0

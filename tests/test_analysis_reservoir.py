"""snnpy's reservoir features: equal to a NumPy transcription of snnpy 2.0.0's code."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import snnpy_reference as ref

import jaxsnn.analysis as A
from jaxsnn.events import from_dense

KEYS = [
    "spike_counts",
    "spike_variances",
    "mean_spike_times",
    "first_spike_times",
    "last_spike_times",
    "mean_isi",
    "isi_variances",
    "burst_counts",
]
INTEGER_KEYS = {"first_spike_times", "last_spike_times", "burst_counts"}


def spike_matrix(seed: int, n_steps: int = 97) -> np.ndarray:
    """Random (time, neuron) int8 spikes with every edge case in its own column."""
    rng = np.random.default_rng(seed)
    p = rng.choice([0.02, 0.1, 0.3, 0.7], size=12)
    s = (rng.random((n_steps, 12)) < p).astype(np.int8)
    edge = np.zeros((n_steps, 9), np.int8)
    # 0: silent; 1: one spike; 2: one spike at t = 0; 3: one spike at the last step;
    # 4: two spikes (one ISI, variance 0); 5: every step; 6: bursts of consecutive spikes;
    # 7: spikes at the first and last steps; 8: regular, period 7
    edge[rng.integers(n_steps), 1] = 1
    edge[0, 2] = 1
    edge[-1, 3] = 1
    edge[[5, 40], 4] = 1
    edge[:, 5] = 1
    for start, length in [(3, 4), (20, 1), (30, 6), (60, 2)]:
        edge[start : start + length, 6] = 1
    edge[[0, -1], 7] = 1
    edge[::7, 8] = 1
    return np.concatenate([s, edge], axis=1)


def _compare(got: dict, want: dict, rtol: float) -> None:
    assert list(got) == list(want) == KEYS
    for key in KEYS:
        g, w = np.asarray(got[key]), np.asarray(want[key])
        assert g.shape == w.shape, key
        if key in INTEGER_KEYS:
            assert g.dtype == np.int32, key
            np.testing.assert_array_equal(g, w, err_msg=key)
        else:
            # float32: each feature is one division of sums of < 2^24 integers (exact),
            # or a two-pass variance of at most 97 terms: a few ulp, so rtol 1e-5 with an
            # absolute floor of 1e-5 of the largest value for the variances near 0
            np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol * np.max(np.abs(w)), err_msg=key)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_features_equal_snnpy_float32(seed):
    s = spike_matrix(seed)
    got = A.reservoir_features(jnp.asarray(s, jnp.float32))
    _compare(got, ref.extract_features_from_spikes(s), rtol=1e-5)


def test_features_equal_snnpy_float64():
    s = spike_matrix(3)
    with jax.enable_x64(True):
        got = A.reservoir_features(jnp.asarray(s, jnp.float64))
        assert got["mean_isi"].dtype == jnp.float64
    # float64: the same operations, a few ulp
    _compare(got, ref.extract_features_from_spikes(s), rtol=1e-12)


def test_each_function_is_its_feature():
    s = spike_matrix(4)
    want = ref.extract_features_from_spikes(s)
    functions = {
        "spike_counts": A.spike_counts,
        "spike_variances": A.spike_variances,
        "mean_spike_times": A.mean_spike_times,
        "first_spike_times": A.first_spike_times,
        "last_spike_times": A.last_spike_times,
        "mean_isi": A.mean_isi,
        "isi_variances": A.isi_variances,
        "burst_counts": A.spike_run_counts,
    }
    got = {key: functions[key](s) for key in KEYS}  # int8 input, converted to float
    _compare(got, want, rtol=1e-5)


@pytest.mark.parametrize("seed", [0, 5])
def test_pooled_mean_isi_equals_snnpy(seed):
    s = spike_matrix(seed)
    assert float(A.pooled_mean_isi(s)) == pytest.approx(ref.calculate_mean_isi(s), rel=1e-6)


def test_pooled_mean_isi_without_isis_is_the_record_length():
    s = np.zeros((50, 4), np.int8)
    s[10, 1] = 1  # one spike: still no ISI
    assert ref.calculate_mean_isi(s) == 50.0
    assert float(A.pooled_mean_isi(s)) == 50.0


def test_documented_sentinels_and_quirks():
    s = spike_matrix(6)
    f = {k: np.asarray(v) for k, v in A.reservoir_features(s).items()}
    silent, single, two, every = 12, 13, 16, 17
    assert f["first_spike_times"][silent] == f["last_spike_times"][silent] == -1
    assert f["mean_spike_times"][silent] == -1.0
    for column in (silent, single):
        assert f["mean_isi"][column] == f["isi_variances"][column] == -1.0
    assert f["isi_variances"][two] == 0.0 and f["mean_isi"][two] == 35.0
    # a neuron firing every step is one "burst" in snnpy's sense
    assert f["burst_counts"][every] == 1
    # spike_variances is p(1 - p), p = count / T
    p = f["spike_counts"] / s.shape[0]
    np.testing.assert_allclose(f["spike_variances"], p * (1 - p), rtol=1e-5, atol=1e-7)
    # without consecutive spikes, runs are spikes
    regular = s[:, -1:]
    assert int(A.spike_run_counts(regular)[0]) == int(regular.sum())


def test_events_equal_dense():
    s = spike_matrix(7)
    dense = A.reservoir_features(jnp.asarray(s, jnp.float32))
    events = A.reservoir_features(jax.jit(from_dense, static_argnums=1)(s, 2000))
    for key in KEYS:
        np.testing.assert_array_equal(np.asarray(events[key]), np.asarray(dense[key]))

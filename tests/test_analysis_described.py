"""The six features snnpy's README describes: against NumPy/SciPy implementations written
from the stated definitions (per-neuron loops over spike times), closed forms, and the
transforms (events, vmap, jit, gradients), and bad input."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats
from jax.test_util import check_grads

import jaxsnn.analysis as A
from jaxsnn.analysis.described import DESCRIBED_FEATURES
from jaxsnn.events import from_dense

T = 97  # odd, so the middle-step rule of spike_symmetry is exercised
MIDDLE = (T - 1) // 2
SILENT, ONE, AT_MIDDLE, TWO, EVERY, RUNS, REGULAR, ENDS, SYMMETRIC, BURSTY = range(12, 22)


def spike_matrix(seed: int) -> np.ndarray:
    """(97, 22) 0/1 float32 spikes: 12 random columns, then one edge case per column."""
    rng = np.random.default_rng(seed)
    p = rng.choice([0.02, 0.1, 0.3, 0.7], size=12)
    s = (rng.random((T, 12)) < p).astype(np.float32)
    edge = np.zeros((T, 10), np.float32)
    edge[rng.integers(T), ONE - 12] = 1
    edge[MIDDLE, AT_MIDDLE - 12] = 1
    edge[[5, 40], TWO - 12] = 1  # one ISI
    edge[:, EVERY - 12] = 1  # constant train
    for start, length in [(3, 4), (20, 1), (30, 6), (60, 2)]:
        edge[start : start + length, RUNS - 12] = 1
    edge[::7, REGULAR - 12] = 1
    edge[[0, -1], ENDS - 12] = 1
    times = rng.choice(MIDDLE, size=6, replace=False)
    edge[times, SYMMETRIC - 12] = edge[T - 1 - times, SYMMETRIC - 12] = 1
    for start in (2, 70):  # two bursts of 5 spikes with ISI 2
        edge[start : start + 10 : 2, BURSTY - 12] = 1
    return np.concatenate([s, edge], axis=1)


# ---- the definitions, written independently in NumPy/SciPy on lists of spike times ----


def _times(column: np.ndarray) -> np.ndarray:
    """Spike times in steps, an entry of k being k spikes at that step."""
    return np.repeat(np.arange(len(column)), column.astype(np.int64))


def ref_entropy(s: np.ndarray, n_bins: int, normalized: bool = False) -> np.ndarray:
    out = []
    for column in s.T:
        counts, _ = np.histogram(_times(column), bins=n_bins, range=(0, len(column)))
        if counts.sum() == 0:
            out.append(np.nan)
            continue
        h = scipy.stats.entropy(counts, base=2)
        out.append(h / np.log2(n_bins) if normalized else h)
    return np.array(out)


def ref_rates(s: np.ndarray) -> np.ndarray:
    return np.array([len(_times(column)) / len(column) for column in s.T])


def ref_autocorrelation(s: np.ndarray) -> np.ndarray:
    out = []
    for x in s.T.astype(np.float64):
        if np.all(x == x[0]):
            out.append(np.nan)
            continue
        m = x.mean()
        c0 = sum((x[t] - m) ** 2 for t in range(len(x)))
        c1 = sum((x[t] - m) * (x[t + 1] - m) for t in range(len(x) - 1))
        out.append(c1 / c0)
    return np.array(out)


def ref_burstiness(s: np.ndarray) -> np.ndarray:
    out = []
    for column in s.T:
        isi = np.diff(np.nonzero(column > 0)[0])
        if len(isi) < 2:
            out.append(np.nan)
            continue
        mu, sigma = isi.mean(), isi.std()  # ddof 0
        out.append((sigma - mu) / (sigma + mu))
    return np.array(out)


def ref_symmetry(s: np.ndarray) -> np.ndarray:
    out = []
    for column in s.T:
        n_steps, times = len(column), _times(column)
        if len(times) == 0:
            out.append(np.nan)
            continue
        first = sum(
            1.0 if 2 * t < n_steps - 1 else 0.5 if 2 * t == n_steps - 1 else 0.0 for t in times
        )
        out.append((2 * first - len(times)) / len(times))  # (first − second) / total
    return np.array(out)


def ref_moments(s: np.ndarray) -> np.ndarray:
    """(neuron, 3): mean, scipy skewness, scipy (excess) kurtosis of the spike times."""
    out = []
    for column in s.T:
        times = _times(column).astype(np.float64)
        if len(times) == 0:
            out.append([np.nan] * 3)
        elif len(np.unique(times)) < 2:
            out.append([times.mean(), np.nan, np.nan])
        else:
            out.append([times.mean(), scipy.stats.skew(times), scipy.stats.kurtosis(times)])
    return np.array(out)


def reference(s: np.ndarray, n_bins: int = 10) -> dict:
    return {
        "spike_entropy": ref_entropy(s, n_bins),
        "spike_rates": ref_rates(s),
        "autocorrelation_first_lag": ref_autocorrelation(s),
        "burstiness": ref_burstiness(s),
        "spike_symmetry": ref_symmetry(s),
        "spike_histogram_moments": ref_moments(s),
    }


def _compare(got: dict, want: dict, rtol: float, atol: float) -> None:
    assert list(got) == list(want) == list(DESCRIBED_FEATURES)
    for key in want:
        g, w = np.asarray(got[key]), want[key]
        assert g.shape == w.shape, key
        np.testing.assert_array_equal(np.isnan(g), np.isnan(w), err_msg=key)
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=key)


# ---- reference and closed forms ----


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_features_equal_numpy_scipy_float32(seed):
    s = spike_matrix(seed)
    # float32: sums of < 100 integers are exact; the divisions, logs and the moments of
    # times up to 96 (m_4 ~ 1e7) lose a few ulp, so 1e-5 relative with 1e-5 absolute
    # for the dimensionless features near 0
    _compare(A.described_features(s), reference(s), rtol=1e-5, atol=1e-5)


def test_features_equal_numpy_scipy_float64():
    s = spike_matrix(3)
    with jax.enable_x64(True):
        got = A.described_features(jnp.asarray(s, jnp.float64))
        assert got["burstiness"].dtype == jnp.float64
    # the same sums in another order: a few ulp
    _compare(got, reference(s), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n_bins", [1, 3, 10, T])
@pytest.mark.parametrize("normalized", [False, True])
def test_entropy_bins(n_bins, normalized):
    if normalized and n_bins == 1:
        return  # refused: see test_bad_arguments
    s = spike_matrix(4)
    got = A.spike_entropy(s, n_bins=n_bins, normalized=normalized)
    np.testing.assert_allclose(got, ref_entropy(s, n_bins, normalized), rtol=1e-5, atol=1e-6)


def test_each_function_is_its_feature():
    s = spike_matrix(5)
    features = A.described_features(s)
    moments = A.spike_histogram_moments(s)
    assert isinstance(moments, A.SpikeTimeMoments)
    np.testing.assert_array_equal(features["spike_entropy"], A.spike_entropy(s))
    for name in ["spike_rates", "autocorrelation_first_lag", "burstiness", "spike_symmetry"]:
        np.testing.assert_array_equal(features[name], getattr(A, name)(s), err_msg=name)
    stacked = np.stack([moments.mean, moments.skewness, moments.kurtosis], axis=-1)
    np.testing.assert_array_equal(features["spike_histogram_moments"], stacked)
    # the moments' mean is mean_spike_times, with NaN instead of snnpy's -1
    want = np.array(A.mean_spike_times(s))
    want[SILENT] = np.nan
    np.testing.assert_allclose(moments.mean, want, rtol=1e-6)


def test_entries_are_counts_except_for_burstiness():
    rng = np.random.default_rng(6)
    s = (rng.integers(0, 4, (T, 22)) * (rng.random((T, 22)) < 0.2)).astype(np.float32)
    s[:, SILENT] = 0
    want = reference(s)
    want["burstiness"] = ref_burstiness(s > 0)
    _compare(A.described_features(s), want, rtol=1e-5, atol=1e-5)


def test_documented_undefined_values():
    f = {k: np.asarray(v) for k, v in A.described_features(spike_matrix(7)).items()}
    assert np.all(np.isnan(f["spike_histogram_moments"][SILENT]))
    for key in ["spike_entropy", "autocorrelation_first_lag", "burstiness", "spike_symmetry"]:
        assert np.isnan(f[key][SILENT]), key
    assert f["spike_rates"][SILENT] == 0
    # one spike: entropy 0, mean defined, no spread, no ISI
    for column in (ONE, AT_MIDDLE):
        assert f["spike_entropy"][column] == 0
        assert np.isnan(f["burstiness"][column])
        assert np.all(np.isnan(f["spike_histogram_moments"][column, 1:]))
    assert f["spike_histogram_moments"][AT_MIDDLE, 0] == MIDDLE
    # two spikes: one ISI, still no burstiness (as cv_isi)
    assert np.isnan(f["burstiness"][TWO])
    assert np.isnan(f["autocorrelation_first_lag"][EVERY])  # constant train


def test_closed_forms():
    # in a (97, 22) record, the shape of the other tests, so the programs are reused
    period, k = 7, 14
    s = np.zeros((T, 22), np.float32)
    s[: k * period : period, 0] = 1  # k spikes at 0, 7, ..., 91
    s[:, 1] = 1  # every step: a discrete uniform distribution of times
    s[:MIDDLE, 2] = 1  # all in the first half
    f = {key: np.asarray(v) for key, v in A.described_features(s).items()}
    assert f["burstiness"][0] == -1.0  # σ = 0 exactly
    # r_1 of k spikes at 0, P, ..., (k−1)P <= T − 2, from the docstring's sums with
    # m = k/T: c_1 = (T − 1)m² − (2k − 1)m, c_0 = k(1 − m) (→ −1/(P − 1) for long trains)
    m = k / T
    want = ((T - 1) * m**2 - (2 * k - 1) * m) / (k * (1 - m))
    assert f["autocorrelation_first_lag"][0] == pytest.approx(want, rel=1e-5)
    # 14 bins of 97/14 steps: spike 7j is in bin floor(98j/97) = j, one per bin
    assert float(A.spike_entropy(s, n_bins=k)[0]) == pytest.approx(np.log2(k), rel=1e-6)
    # 10 bins of 9 or 10 steps: firing at every step is just below uniform
    assert np.log2(10) - 0.01 < f["spike_entropy"][1] < np.log2(10)
    # one step per bin: the train firing at every step is uniform over the bins
    assert float(A.spike_entropy(s, n_bins=T, normalized=True)[1]) == pytest.approx(1.0)
    mean, skew, kurt = f["spike_histogram_moments"][1]
    assert mean == (T - 1) / 2
    assert abs(skew) < 1e-6
    # excess kurtosis of the discrete uniform distribution on n = T points
    assert kurt == pytest.approx(-6 * (T**2 + 1) / (5 * (T**2 - 1)), rel=1e-5)
    assert f["spike_symmetry"][1] == 0.0 and f["spike_symmetry"][2] == 1.0
    # XLA may divide by the constant T as a product with 1/T: an ulp off
    np.testing.assert_allclose(f["spike_rates"][:2], [k / T, 1.0], rtol=1e-6)


def test_symmetry_and_time_reversal():
    s = spike_matrix(8)
    f = A.described_features(s)
    assert float(f["spike_symmetry"][SYMMETRIC]) == 0.0
    assert float(f["spike_symmetry"][AT_MIDDLE]) == 0.0  # the middle step counts half each
    assert abs(float(f["spike_histogram_moments"][SYMMETRIC, 1])) < 1e-6
    reversed_ = A.described_features(s[::-1])
    np.testing.assert_allclose(reversed_["spike_symmetry"], -f["spike_symmetry"], atol=1e-7)
    np.testing.assert_allclose(
        reversed_["spike_histogram_moments"][:, 1],
        -f["spike_histogram_moments"][:, 1],
        atol=1e-4,  # float32 skewness of times up to 96: a few ulp of m_3 / m_2^1.5
    )
    # r_1 and B do not depend on the direction of time
    for key in ["autocorrelation_first_lag", "burstiness"]:
        np.testing.assert_allclose(reversed_[key], f[key], rtol=1e-5, atol=1e-6, err_msg=key)


def test_bernoulli_trains():
    p, n_steps, n = 0.02, 20_000, 30
    s = (np.random.default_rng(9).random((n_steps, n)) < p).astype(np.float32)
    b = np.asarray(A.burstiness(s))
    # geometric ISIs: CV = sqrt(1 − p), B = (CV − 1)/(CV + 1) = −0.005, close to the
    # continuous-time Poisson value 0. With ~400 ISIs a neuron's B has a standard
    # deviation of ~0.025, so the mean over 30 neurons ~0.005: 0.02 is 4 of them
    cv = np.sqrt(1 - p)
    assert abs(b.mean() - (cv - 1) / (cv + 1)) < 0.02
    assert abs(b.mean()) < 0.025
    # independent steps: r_1 ~ N(0, 1/T); 4.5 standard deviations for 30 neurons
    r1 = np.asarray(A.autocorrelation_first_lag(s))
    assert np.all(np.abs(r1) < 4.5 / np.sqrt(n_steps))
    # and the Pearson correlation of x[:-1] with x[1:] differs by O(1/T)
    pearson = [np.corrcoef(x[:-1], x[1:])[0, 1] for x in s.T]
    np.testing.assert_allclose(r1, pearson, atol=5 / n_steps)


def test_bursty_and_regular_signs():
    s = spike_matrix(10)
    b = np.asarray(A.burstiness(s))
    assert b[BURSTY] > 0.3  # ISIs 2, 2, 2, 2, 60, 2, 2, 2, 2: σ > μ
    assert b[REGULAR] == -1.0
    # runs of consecutive spikes correlate neighbouring steps, a regular train anticorrelates
    r1 = np.asarray(A.autocorrelation_first_lag(s))
    assert r1[RUNS] > 0.5 and r1[REGULAR] < 0


# ---- transforms ----

to_events = jax.jit(from_dense, static_argnums=1)


def _assert_tree_equal(got, want, rtol=0.0, atol=0.0):
    for g, w in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want), strict=True):
        assert np.asarray(g).dtype == np.asarray(w).dtype
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=rtol, atol=atol)


ANALYSES = {
    "described_features": A.described_features,
    "spike_entropy_normalized": lambda x: A.spike_entropy(x, n_bins=5, normalized=True),
    "spike_histogram_moments": A.spike_histogram_moments,
}


@pytest.mark.parametrize("name", list(ANALYSES))
def test_events_equal_dense(name):
    s = spike_matrix(11)
    _assert_tree_equal(ANALYSES[name](to_events(s, 2000)), ANALYSES[name](jnp.asarray(s)))


def test_jit_vmap_equals_a_loop_without_retracing():
    trials = jnp.asarray(np.stack([spike_matrix(seed) for seed in (12, 13, 14)]))

    @jax.jit
    @jax.vmap
    @eqx.debug.assert_max_traces(max_traces=1)
    def everything(x):
        return {name: f(x) for name, f in ANALYSES.items()}

    batched = everything(trials)
    everything(trials + 0)  # a second call does not retrace
    for name, f in ANALYSES.items():
        looped = [f(trial) for trial in trials]
        stacked = jax.tree_util.tree_map(lambda *x: jnp.stack(x), *looped)
        # the same operations, batched: equal up to a few ulp of reduction order, which
        # near 0 (r_1 is a difference of sums of order 1) is absolute, not relative
        _assert_tree_equal(batched[name], stacked, rtol=1e-6, atol=1e-6)


def test_reservoir_features_with_described():
    s = spike_matrix(15)
    plain = A.reservoir_features(s)
    assert len(plain) == 8 and "burstiness" not in plain
    both = A.reservoir_features(s, described=True)
    assert list(both) == [*plain, *DESCRIBED_FEATURES]
    _assert_tree_equal({k: both[k] for k in plain}, plain)
    _assert_tree_equal({k: both[k] for k in DESCRIBED_FEATURES}, A.described_features(s))
    rows = np.column_stack(list(both.values()))  # one feature row per neuron
    assert rows.shape == (s.shape[1], 8 + 5 + 3)


SMOOTH = {
    "spike_entropy": lambda x: A.spike_entropy(x, n_bins=4),
    "spike_rates": A.spike_rates,
    "autocorrelation_first_lag": A.autocorrelation_first_lag,
    "spike_symmetry": A.spike_symmetry,
    "spike_histogram_moments": lambda x: jnp.stack(
        jax.tree_util.tree_leaves(A.spike_histogram_moments(x))
    ),
}


def test_gradients():
    everything = jax.jit(lambda y: {name: f(y) for name, f in SMOOTH.items()})
    with jax.enable_x64(True):
        # surrogate-like spikes in (0.05, 1): every bin and step occupied, all features
        # smooth; float64 central differences, so 1e-6 is far above their error
        x = np.random.default_rng(16).uniform(0.05, 1.0, (24, 4))
        check_grads(everything, (jnp.asarray(x),), order=1, modes=["rev"], atol=1e-6, rtol=1e-6)
        # where a feature is NaN (silent, one-spike, constant trains) its gradient is 0,
        # not NaN (the double where): the gradient of nansum has a finite pullback
        x = np.zeros((24, 4))
        x[5, 1] = x[:, 2] = 1
        x[[3, 9, 10], 3] = 1
        features, pullback = jax.vjp(everything, jnp.asarray(x))
        assert np.isnan(features["spike_symmetry"][0])
        (grad,) = pullback(
            jax.tree_util.tree_map(lambda f: (~jnp.isnan(f)).astype(f.dtype), features)
        )
        assert np.all(np.isfinite(grad))


# ---- bad input ----


@pytest.mark.parametrize(
    "f",
    [
        A.described_features,
        A.spike_entropy,
        A.spike_rates,
        A.autocorrelation_first_lag,
        A.burstiness,
        A.spike_symmetry,
        A.spike_histogram_moments,
        lambda s: A.reservoir_features(s, described=True),
    ],
)
def test_spikes_must_be_time_by_neuron(f):
    with pytest.raises(ValueError, match=r"spikes must have shape \(time, neuron\)"):
        f(np.zeros((40,), np.float32))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda s: A.spike_entropy(s, n_bins=0), "n_bins must be >= 1, got 0"),
        (lambda s: A.spike_entropy(s, n_bins=2.0), "n_bins must be an integer"),
        (lambda s: A.spike_entropy(s, n_bins=True), "n_bins must be an integer"),
        (lambda s: A.spike_entropy(s, n_bins=41), "n_bins=41 exceeds the record's 40 steps"),
        (lambda s: A.spike_entropy(s, n_bins=1, normalized=True), "n_bins must be >= 2 with"),
        (lambda s: A.described_features(s, n_bins=-3), "n_bins must be >= 1, got -3"),
    ],
)
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call(np.zeros((40, 3), np.float32))

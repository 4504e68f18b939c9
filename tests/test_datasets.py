"""Data sets and encoders: Yin-Yang and Randman against NumPy ports of their reference
implementations, encoder formulas, sampling statistics, determinism, bad input."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from scipy import stats

from jaxsnn.datasets import (
    RandomManifold,
    latency,
    latency_times,
    n_frequencies,
    poisson,
    randman,
    randman_times,
    random_manifold,
    yin_yang,
    yin_yang_class,
    yin_yang_class_probabilities,
    yin_yang_split,
)

# ---------------------------------------------------------------------------------------
# NumPy ports of the references, written from their source, scalar by scalar as there.


class ReferenceYinYang:
    """lkriener/yin_yang_data_set `dataset.py`, `YinYangDataset` without torch."""

    def __init__(self, r_small=0.1, r_big=0.5, size=1000, seed=42):
        self.rng = np.random.RandomState(seed)
        self.r_small, self.r_big = r_small, r_big
        self.vals, self.cs = [], []
        for _ in range(size):
            goal_class = self.rng.randint(3)
            x, y, c = self.get_sample(goal=goal_class)
            self.vals.append(np.array([x, y, 1.0 - x, 1.0 - y]))
            self.cs.append(c)

    def get_sample(self, goal=None):
        while True:
            x, y = self.rng.rand(2) * 2.0 * self.r_big
            if np.sqrt((x - self.r_big) ** 2 + (y - self.r_big) ** 2) > self.r_big:
                continue
            c = self.which_class(x, y)
            if goal is None or c == goal:
                return x, y, c

    def which_class(self, x, y):
        d_right = np.sqrt((x - 1.5 * self.r_big) ** 2 + (y - self.r_big) ** 2)
        d_left = np.sqrt((x - 0.5 * self.r_big) ** 2 + (y - self.r_big) ** 2)
        criterion1 = d_right <= self.r_small
        criterion2 = d_left > self.r_small and d_left <= 0.5 * self.r_big
        criterion3 = y > self.r_big and d_right > 0.5 * self.r_big
        is_yin = criterion1 or criterion2 or criterion3
        is_circles = d_right < self.r_small or d_left < self.r_small
        if is_circles:
            return 2
        return int(is_yin)


def reference_f_cutoff(alpha, prec=1e-3, max_f_cutoff=1000):
    """fzenke/randman `TorchRandman.__init__`."""
    return int(np.min((np.ceil(np.power(prec, -1 / alpha)), max_f_cutoff)))


def reference_spectrum(f_cutoff, alpha, beta=0.0):
    """`TorchRandman.init_spect`."""
    r = np.arange(f_cutoff) + 1.0
    return 1.0 / (np.abs(r - beta) ** alpha + 1.0)


def reference_eval_manifold(params, spect, x):
    """`TorchRandman.eval_manifold` with its loops, in float64."""
    dim_embedding, dim_manifold, _, f_cutoff = params.shape
    out = np.zeros((x.shape[0], dim_embedding))
    for i in range(dim_embedding):
        tmp = np.ones(x.shape[0])
        for d in range(dim_manifold):
            theta, xd = params[i, d], x[:, d]
            f1d = np.zeros(x.shape[0])
            for k in range(f_cutoff):
                f1d += (
                    theta[0, k]
                    * spect[k]
                    * np.sin(2 * np.pi * (k * xd * theta[1, k] + theta[2, k]))
                )
            tmp *= f1d
        out[:, i] = tmp
    return out


def reference_standardize(x, eps=1e-7):
    """The notebook's `standardize` (min/max over samples, per unit)."""
    return (x - x.min(0)) / (x.max(0) - x.min(0) + eps)


# ---------------------------------------------------------------------------------------
# Yin-Yang

R_SMALL, R_BIG = 0.1, 0.5


@pytest.fixture(scope="module")
def yy_sample():
    # module fixtures run outside the autouse strict-promotion fixture: enter it here too
    # (it is part of jit's cache key, so the tests reuse this compilation)
    with jax.numpy_dtype_promotion("strict"):
        inputs, labels = yin_yang(jr.key(3), 3000)
    return np.asarray(inputs, np.float64), np.asarray(labels)


@pytest.fixture(scope="module")
def yy_reference():
    ref = ReferenceYinYang(size=3000, seed=42)
    return np.array(ref.vals), np.array(ref.cs)


def test_yin_yang_labels_and_geometry_match_reference(yy_sample):
    inputs, labels = yy_sample
    ref = ReferenceYinYang(size=0)
    x, y = inputs[:, 0], inputs[:, 1]
    # every label is the reference's class function at the sample's point (evaluated in
    # float64 on the float32 points; a disagreement could only come from a point within
    # float32 rounding, ~1e-7, of a class boundary: none at this key)
    assert [ref.which_class(a, b) for a, b in zip(x, y, strict=True)] == labels.tolist()
    assert labels.dtype == np.int32
    # the square [0, 2 r_big) and the big circle (float32 rounding of the distance: 1e-6)
    assert np.all((x >= 0) & (x < 2 * R_BIG) & (y >= 0) & (y < 2 * R_BIG))
    assert np.all(np.hypot(x - R_BIG, y - R_BIG) <= R_BIG + 1e-6)
    # inputs are (x, y, 1 - x, 1 - y), computed in float32 as 1 - x
    x32, y32 = inputs[:, 0].astype(np.float32), inputs[:, 1].astype(np.float32)
    np.testing.assert_array_equal(inputs[:, 2], 1 - x32)
    np.testing.assert_array_equal(inputs[:, 3], 1 - y32)


def test_yin_yang_class_function_other_radii():
    r_small, r_big = 0.15, 0.8
    ref = ReferenceYinYang(r_small=r_small, r_big=r_big, size=0)
    xy = np.random.default_rng(0).random((4000, 2)) * 2 * r_big
    ours = yin_yang_class(
        jnp.asarray(xy[:, 0]), jnp.asarray(xy[:, 1]), r_small=r_small, r_big=r_big
    )
    xy32 = np.asarray(jnp.asarray(xy), np.float64)
    assert np.asarray(ours).tolist() == [ref.which_class(a, b) for a, b in xy32]
    inputs, labels = yin_yang(jr.key(1), 300, r_small=r_small, r_big=r_big)
    inputs = np.asarray(inputs, np.float64)
    assert [ref.which_class(a, b) for a, b in inputs[:, :2]] == np.asarray(labels).tolist()
    assert np.all(np.hypot(inputs[:, 0] - r_big, inputs[:, 1] - r_big) <= r_big + 1e-6)


def test_yin_yang_class_areas():
    # the proposal acceptance per class, used to size the proposal batches
    m = 200_000
    xy = np.random.default_rng(1).random((m, 2)) * 2 * R_BIG
    cls = np.array(yin_yang_class(jnp.asarray(xy[:, 0]), jnp.asarray(xy[:, 1])))
    cls[np.hypot(xy[:, 0] - R_BIG, xy[:, 1] - R_BIG) > R_BIG] = -1
    for c, p in enumerate(yin_yang_class_probabilities(R_SMALL, R_BIG)):
        assert abs(np.mean(cls == c) - p) < 4.5 * math.sqrt(p * (1 - p) / m), c


def test_yin_yang_class_balance_as_reference(yy_sample, yy_reference):
    _, labels = yy_sample
    n = labels.size
    counts = np.bincount(labels, minlength=3)
    # The reference picks each sample's class uniformly, then rejection-samples a point of
    # that class: counts are Multinomial(n, 1/3 each), not proportional to the areas
    # (labelling uniform points would give the dots only 8%). Chi-square, 2 dof:
    # 13.8 is its 0.1% quantile.
    chi2 = (((counts - n / 3) ** 2) / (n / 3)).sum()
    assert chi2 < 13.8, counts
    ref = np.bincount(yy_reference[1], minlength=3)
    assert (((ref - n / 3) ** 2) / (n / 3)).sum() < 13.8, ref


def test_yin_yang_points_distributed_as_reference(yy_sample, yy_reference):
    inputs, labels = yy_sample
    ref_inputs, ref_labels = yy_reference
    # Within each class the points are uniform over its region, in both; two-sample
    # Kolmogorov-Smirnov on each coordinate (fixed seeds; the smallest of the six
    # p-values is compared with a 1e-3 floor, far below what equal laws give).
    p_values = [
        stats.ks_2samp(inputs[labels == c, k], ref_inputs[ref_labels == c, k]).pvalue
        for c in range(3)
        for k in range(2)
    ]
    assert min(p_values) > 1e-3, p_values


def test_yin_yang_determinism_vmap_and_jit(yy_sample):
    again = yin_yang(jr.key(3), 3000)
    np.testing.assert_array_equal(again[0], yy_sample[0].astype(np.float32))
    np.testing.assert_array_equal(again[1], yy_sample[1])
    other = np.asarray(yin_yang(jr.key(4), 3000)[0])
    assert not np.any(other[:, 0] == yy_sample[0][:, 0].astype(np.float32))
    # vmap over keys equals single draws, and new keys do not retrace
    keys = jr.split(jr.key(7), 3)
    batched = jax.vmap(lambda k: yin_yang(k, 50))(keys)
    drawn = jax.jit(eqx.debug.assert_max_traces(lambda k: yin_yang(k, 50), max_traces=1))
    for i, k in enumerate(keys):
        one = drawn(k)
        np.testing.assert_array_equal(batched[0][i], one[0])
        np.testing.assert_array_equal(batched[1][i], one[1])


def test_yin_yang_split_sizes():
    # shapes only (nothing compiled): the sizes are the reference's 5000 / 1000 / 1000
    split = jax.eval_shape(yin_yang_split, jr.key(0))
    assert {k: (v[0].shape, v[1].shape) for k, v in split.items()} == {
        "train": ((5000, 4), (5000,)),
        "validation": ((1000, 4), (1000,)),
        "test": ((1000, 4), (1000,)),
    }


def test_yin_yang_bad_input():
    with pytest.raises(ValueError, match="n must be an integer"):
        yin_yang(jr.key(0), 10.0)
    with pytest.raises(ValueError, match="n must be >= 0"):
        yin_yang(jr.key(0), -1)
    with pytest.raises(ValueError, match="r_small must be < r_big / 2"):
        yin_yang(jr.key(0), 10, r_small=0.3)
    with pytest.raises(ValueError, match="r_small must be > 0"):
        yin_yang(jr.key(0), 10, r_small=0.0)
    with pytest.raises(ValueError, match="r_big must be a Python number"):
        yin_yang(jr.key(0), 10, r_big=jnp.array([0.5, 0.5]))


# ---------------------------------------------------------------------------------------
# Randman


def test_frequency_count_and_spectrum_match_reference():
    for alpha in (0.5, 1.0, 2.0, 3.0, 7.5):
        for prec in (1e-2, 1e-3, 1e-4):
            assert n_frequencies(alpha, prec) == reference_f_cutoff(alpha, prec)
    assert n_frequencies(0.5, 1e-3, max_f_cutoff=50) == reference_f_cutoff(0.5, 1e-3, 50) == 50
    m = random_manifold(jr.key(0), 4, 2, alpha=2.0)
    assert m.params.shape == (4, 2, 3, 32)
    np.testing.assert_allclose(m.spectrum, reference_spectrum(32, 2.0), rtol=1e-6)
    # without bias the i = 0 amplitude is zero; every parameter is uniform on [0, 1)
    assert np.all(np.asarray(m.params[:, :, 0, 0]) == 0)
    assert np.all((np.asarray(m.params) >= 0) & (np.asarray(m.params) < 1))
    m = random_manifold(jr.key(0), 3, 1, alpha=1.5, beta=4.0, use_bias=True)
    np.testing.assert_allclose(m.spectrum, reference_spectrum(100, 1.5, 4.0), rtol=1e-6)
    assert np.all(np.asarray(m.params[:, :, 0, 0]) > 0)


@pytest.mark.parametrize("dim_manifold", [1, 3])
def test_manifold_matches_reference_formula(dim_manifold):
    rng = np.random.default_rng(dim_manifold)
    n_units, f_cutoff, alpha = 5, 12, 1.7
    params = rng.random((n_units, dim_manifold, 3, f_cutoff))
    spect = reference_spectrum(f_cutoff, alpha)
    x = rng.random((40, dim_manifold))
    expected = reference_eval_manifold(params, spect, x)
    ours = RandomManifold(jnp.asarray(params), jnp.asarray(spect))(jnp.asarray(x))
    # float32: the phase 2π(i·x·f + φ) reaches 2π·12, its rounding (~1e-6 relative) times
    # sum of the weights (~1) and the product over dims bounds the error well below 1e-5
    np.testing.assert_allclose(np.asarray(ours, np.float64), expected, rtol=0, atol=1e-5)


def test_randman_times_match_reference_dataset_construction():
    """`make_spiking_dataset`'s steps in NumPy, fed the manifolds, points and order that the
    documented key layout gives."""
    kw = dict(n_classes=3, n_units=6, n_steps=50, dim_manifold=2, n_spikes=2)
    kw |= dict(n_samples_per_class=40, alpha=2.5, step_frac=0.8)
    key = jr.key(11)
    times, labels = randman_times(key, **kw)
    k_manifold, k_points, k_order = jr.split(key, 3)
    data, targets = [], []
    for c in range(kw["n_classes"]):
        x = jr.uniform(jr.fold_in(k_points, c), (40, 2))
        per_spike = []
        for k in range(kw["n_spikes"]):
            m = random_manifold(jr.fold_in(k_manifold, c * 2 + k), 6, 2, alpha=2.5)
            y = reference_eval_manifold(
                np.asarray(m.params, np.float64),
                np.asarray(m.spectrum, np.float64),
                np.asarray(x, np.float64),
            )
            per_spike.append(reference_standardize(y))
        data.append(np.stack(per_spike, axis=1))  # (sample, spike, unit)
        targets.append(np.full(40, c))
    data, targets = np.concatenate(data), np.concatenate(targets)
    order = np.asarray(jr.permutation(k_order, data.shape[0]))
    expected = data[order] * 50 * 0.8
    # times in steps: the manifold's float32 error (< 1e-5, see above) over a value range
    # of order 0.1 at worst, times 40 steps, stays below 1e-2 steps
    np.testing.assert_allclose(np.asarray(times, np.float64), expected, rtol=0, atol=1e-2)
    np.testing.assert_array_equal(labels, targets[order])
    # each unit spikes n_spikes times
    spikes, _ = randman(key, **kw)
    np.testing.assert_array_equal(np.asarray(spikes).sum(1), 2.0)


RM = dict(n_classes=3, n_units=20, n_steps=50, n_samples_per_class=100, dim_manifold=2)


@pytest.fixture(scope="module")
def rm_data():
    with jax.numpy_dtype_promotion("strict"):
        times, labels = randman_times(jr.key(0), **RM)
        spikes, labels2 = randman(jr.key(0), **RM)
    np.testing.assert_array_equal(labels, labels2)
    return np.asarray(times), np.asarray(spikes), np.asarray(labels)


def test_randman_raster_one_spike_per_unit_at_its_latency(rm_data):
    times, spikes, labels = rm_data
    assert spikes.shape == (300, 50, 20) and times.shape == (300, 1, 20)
    assert set(np.unique(spikes).tolist()) == {0.0, 1.0}
    np.testing.assert_array_equal(spikes.sum(1), 1.0)
    np.testing.assert_array_equal(spikes.argmax(1), np.floor(times[:, 0, :]))
    # labels exactly balanced
    np.testing.assert_array_equal(np.bincount(labels), [100, 100, 100])
    # standardised per class and unit: each spans [0, n_steps · step_frac)
    for c in range(3):
        t = times[labels == c, 0, :]
        np.testing.assert_allclose(t.min(0), 0.0, atol=1e-6)
        np.testing.assert_allclose(t.max(0), 50.0, atol=1e-3)
        assert np.all(t < 50.0 + 1e-4)


def test_randman_classes_separable(rm_data):
    _, spikes, labels = rm_data
    latencies = spikes.argmax(1).astype(np.float64)  # (n, units)
    train, test = slice(0, 150), slice(150, None)
    centroids = np.stack([latencies[train][labels[train] == c].mean(0) for c in range(3)])
    distances = ((latencies[test, None, :] - centroids[None]) ** 2).sum(-1)
    accuracy = np.mean(distances.argmin(1) == labels[test])
    # chance is 1/3; with 150 test samples its 99.9% quantile is below 0.47
    assert accuracy > 0.6, accuracy


def test_randman_determinism(rm_data):
    times, _, labels = rm_data
    again = randman_times(jr.key(0), **RM)
    np.testing.assert_array_equal(again[0], times)
    np.testing.assert_array_equal(again[1], labels)
    other = randman_times(jr.key(1), **RM)
    # standardisation puts exact zeros in both; anything else coinciding would be chance
    assert np.mean(np.asarray(other[0]) == times) < 0.02


def test_randman_bad_input():
    with pytest.raises(ValueError, match="n_units must be >= 1"):
        randman(jr.key(0), n_units=0)
    with pytest.raises(ValueError, match="n_steps must be an integer"):
        randman(jr.key(0), n_steps=10.0)
    with pytest.raises(ValueError, match="step_frac must be in"):
        randman(jr.key(0), step_frac=1.5)
    with pytest.raises(ValueError, match="n_samples_per_class must be >= 2"):
        randman(jr.key(0), n_samples_per_class=1)
    with pytest.raises(ValueError, match="alpha must be > 0"):
        randman(jr.key(0), alpha=0.0)
    with pytest.raises(ValueError, match="x must have shape"):
        random_manifold(jr.key(0), 3, 2)(jnp.zeros((4, 3)))
    with pytest.raises(ValueError, match="RandomManifold.spectrum must have shape"):
        RandomManifold(jnp.zeros((2, 1, 3, 5)), jnp.zeros(4))


# ---------------------------------------------------------------------------------------
# Encoders


def test_latency_linear_formula_exact():
    x = jnp.array([0.0, 0.25, 0.5, 1.0])
    np.testing.assert_array_equal(latency_times(x, t_max_ms=8.0), [8.0, 6.0, 4.0, 0.0])
    # t = t_min + (1 - x)(t_max - t_min)
    np.testing.assert_array_equal(latency_times(x, t_max_ms=10.0, t_min_ms=2.0), [10, 8, 6, 2])
    r = np.asarray(latency(x, n_steps=9, dt_ms=1.0))  # t_max defaults to the last step, 8 ms
    assert r.shape == (9, 4)
    np.testing.assert_array_equal(r.sum(0), 1.0)
    np.testing.assert_array_equal(r.argmax(0), [8, 6, 4, 0])
    r = np.asarray(latency(x, n_steps=41, dt_ms=0.25, t_max_ms=8.0))  # 8 ms = step 32
    np.testing.assert_array_equal(r.argmax(0), [32, 24, 16, 0])
    # any shape, time first
    assert latency(jnp.full((2, 3), 0.5), n_steps=5, dt_ms=1.0).shape == (5, 2, 3)


def test_latency_charging_time_formula():
    tau, theta = 20.0, 0.2
    x = jnp.array([1.0, 0.6, 0.25, 0.2, 0.1])
    t = np.asarray(latency_times(x, tau_ms=tau, threshold=theta), np.float64)
    np.testing.assert_allclose(
        t[:3], [tau * math.log(v / (v - theta)) for v in (1.0, 0.6, 0.25)], rtol=1e-6
    )
    assert np.all(np.isinf(t[3:]))
    # the closed form solves the integrator: x(1 - exp(-t/τ)) reaches the threshold at t
    np.testing.assert_allclose(np.asarray(x[:3]) * (1 - np.exp(-t[:3] / tau)), theta, rtol=1e-5)
    r = np.asarray(latency(x, n_steps=40, dt_ms=1.0, tau_ms=tau, threshold=theta))
    # steps round(4.46)=4, round(8.11)=8, round(32.19)=32; at or below threshold: no spike
    np.testing.assert_array_equal(r.sum(0), [1, 1, 1, 0, 0])
    np.testing.assert_array_equal(r.argmax(0)[:3], [4, 8, 32])
    # past the window: no spike either
    assert np.asarray(latency(x, n_steps=20, dt_ms=1.0, tau_ms=tau, threshold=theta)).sum() == 2


def test_latency_gradient():
    # dt/dx of the charging time is -τθ / (x (x - θ)); of the linear code -(t_max - t_min)
    x = jnp.array([1.0, 0.5, 0.1])
    g = jax.grad(lambda v: jnp.sum(jnp.where(v > 0.2, latency_times(v, tau_ms=20.0), 0.0)))(x)
    expected = [-20.0 * 0.2 / (v * (v - 0.2)) for v in (1.0, 0.5)] + [0.0]
    np.testing.assert_allclose(g, expected, rtol=1e-5)
    g = jax.grad(lambda v: jnp.sum(latency_times(v, t_max_ms=8.0, t_min_ms=2.0)))(x)
    np.testing.assert_array_equal(g, -6.0)


def test_poisson_counts_mean_and_variance():
    n_steps, n_channels = 1000, 400
    rates = jnp.repeat(jnp.array([0.0, 20.0, 100.0, 400.0])[:, None], n_channels, axis=1)
    s = np.asarray(poisson(jr.key(12), rates, n_steps=n_steps, dt_ms=1.0))
    assert s.shape == (n_steps, 4, n_channels)
    assert set(np.unique(s).tolist()) <= {0.0, 1.0}
    counts = s.sum(0)
    assert counts[0].sum() == 0
    for row, p in zip(counts[1:], (0.02, 0.1, 0.4), strict=True):
        mean, var = n_steps * p, n_steps * p * (1 - p)
        # Binomial(n_steps, p) counts: the mean of 400 within 4.5 standard errors; the
        # sample variance within 4.5 of its standard error sqrt(2/(m-1))·var (near-normal
        # counts: the excess kurtosis (1 - 6p(1-p))/var is below 0.1 here)
        assert abs(row.mean() - mean) < 4.5 * math.sqrt(var / n_channels)
        assert abs(row.var(ddof=1) - var) < 4.5 * math.sqrt(2 / (n_channels - 1)) * var
    again = np.asarray(poisson(jr.key(12), rates, n_steps=n_steps, dt_ms=1.0))
    np.testing.assert_array_equal(s, again)


def test_encoder_bad_input():
    ok = jnp.array([0.2, 0.8])
    for bad, match in (([0.5, 1.5], "x must be a probability"), ([jnp.nan], "x must be finite")):
        with pytest.raises(ValueError, match=match):
            latency(jnp.array(bad), n_steps=10, dt_ms=1.0)
    with pytest.raises(ValueError, match="n_steps must be >= 1"):
        latency(ok, n_steps=0, dt_ms=1.0)
    with pytest.raises(ValueError, match="dt_ms must be > 0"):
        latency(ok, n_steps=10, dt_ms=0.0)
    with pytest.raises(ValueError, match="t_max_ms must be <="):
        latency(ok, n_steps=10, dt_ms=1.0, t_max_ms=12.0)
    with pytest.raises(ValueError, match="exactly one of t_max_ms"):
        latency_times(ok)
    with pytest.raises(ValueError, match="t_max_ms is for the linear code"):
        latency(ok, n_steps=10, dt_ms=1.0, t_max_ms=5.0, tau_ms=5.0)
    with pytest.raises(ValueError, match="tau_ms must be > 0"):
        latency_times(ok, tau_ms=-1.0)
    with pytest.raises(ValueError, match="threshold must be in"):
        latency_times(ok, tau_ms=1.0, threshold=1.0)
    with pytest.raises(ValueError, match="rates_hz must be >= 0"):
        poisson(jr.key(0), jnp.array([-1.0]), n_steps=10, dt_ms=1.0)
    with pytest.raises(ValueError, match="rates_hz must be finite"):
        poisson(jr.key(0), jnp.array([jnp.nan]), n_steps=10, dt_ms=1.0)
    with pytest.raises(ValueError, match=r"rates_hz · dt_ms / 1000 must be <= 1"):
        poisson(jr.key(0), jnp.array([2000.0]), n_steps=10, dt_ms=1.0)
    with pytest.raises(ValueError, match="n_steps must be >= 1"):
        poisson(jr.key(0), ok, n_steps=0, dt_ms=1.0)
    with pytest.raises(ValueError, match="dt_ms must be > 0"):
        poisson(jr.key(0), ok, n_steps=10, dt_ms=-0.1)
    # under jit the values are checked at run time
    with pytest.raises(eqx.EquinoxRuntimeError, match="x must lie in"):
        eqx.filter_jit(lambda v: latency(v, n_steps=4, dt_ms=1.0))(jnp.array([jnp.nan]))
    with pytest.raises(eqx.EquinoxRuntimeError, match="rates_hz must be >= 0"):
        eqx.filter_jit(lambda r: poisson(jr.key(0), r, n_steps=4, dt_ms=1.0))(jnp.array([-5.0]))

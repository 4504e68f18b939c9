"""Mean-field threshold, rescaling, pruning and re-sampling (jaxsnn.plasticity.homeostasis)."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import jaxsnn as snn
from jaxsnn.plasticity.homeostasis import (
    critical_threshold,
    critical_weight,
    mean_input_current,
    mean_weight_and_in_degree,
    projection_critical_threshold,
    prune_projection,
    prune_weakest,
    resample_projection,
    resample_weights,
    rescale_projection,
    rescale_to_mean,
)

# hand-made 3×3 matrix: 4 synapses, w̄ = (0.2 + 0.4 + 0.1 + 0.3)/4 = 0.25, k̄_in = 4/3
W = jnp.asarray([[0.0, 0.2, 0.0], [0.4, 0.0, 0.1], [0.0, 0.3, 0.0]], jnp.float32)


def test_critical_threshold_exact_on_hand_made_matrix():
    # paper setting of REFERENCES §6.3: I_ext = 1.5 into 10 neurons per step of N = 1000
    i_bar = mean_input_current(1.5, 1.0, 1000, n_stimulated=10)
    assert i_bar == pytest.approx(0.015)
    theta = critical_threshold(W, i_bar, 10)
    np.testing.assert_allclose(float(theta), 0.25 * 4 / 3 + 2 * 0.015 * 10, rtol=1e-6)
    # an input-current matrix whose mean is Ī gives the same θ
    currents = jnp.zeros((100, 3), jnp.float32).at[::10, 0].set(1.5 * 0.3)
    np.testing.assert_allclose(float(critical_threshold(W, currents, 10)), float(theta), rtol=1e-6)
    # and critical_weight inverts it
    w_bar, k_in = mean_weight_and_in_degree(W)
    np.testing.assert_allclose(float(k_in), 4 / 3, rtol=1e-6)
    np.testing.assert_allclose(float(critical_weight(theta, k_in, i_bar, 10)), 0.25, rtol=1e-6)


def test_reference_critical_weight():
    # REFERENCES §6.3: θ = 14, k̄_in = 50, Ī = 0.015, T_ref = 10 -> w_crit = 0.274
    assert critical_weight(14.0, 50.0, 0.015, 10) == pytest.approx((14 - 0.3) / 50)


def test_threshold_of_sparse_and_dense_projection_agree_and_jit():
    pop = snn.Population("E", 40, snn.LIF())
    thetas, projs = [], {}
    for layout in ("dense", "sparse"):
        projs[layout] = snn.connect(
            pop, pop, snn.FixedProbability(0.2), snn.Uniform(0.1, 0.3), key=jr.key(0), layout=layout
        )
        thetas.append(
            jax.jit(projection_critical_threshold, static_argnums=2)(projs[layout], 0.01, 20)
        )
    dense = np.asarray(projs["dense"].mask)
    w = np.asarray(projs["dense"].weights)
    expected = w[dense].mean() * dense.sum() / 40 + 2 * 0.01 * 20
    np.testing.assert_allclose([float(t) for t in thetas], [expected, expected], rtol=1e-5)


def test_rescale_to_mean_invariants():
    w = rescale_to_mean(W, 1.0)
    assert jnp.all((w == 0) == (W == 0))  # structure kept
    np.testing.assert_allclose(float(w[W != 0].mean()), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(w[W != 0] / W[W != 0]), 4.0, rtol=1e-6)  # ratios kept


def test_prune_weakest_invariants():
    rng = np.random.default_rng(0)
    mask = jnp.asarray(rng.random((20, 30)) < 0.3)
    w = jnp.where(mask, jnp.asarray(rng.random((20, 30)), jnp.float32), 0)
    n = int(mask.sum())
    new_w, keep = jax.jit(prune_weakest)(w, 0.25, mask)
    assert int(keep.sum()) == n - int(np.floor(0.25 * n))  # exactly ⌊f·n⌋ removed
    assert not bool(jnp.any(keep & ~mask))  # no synapse created
    assert float(new_w[keep].min()) >= float(w[mask & ~keep].max())  # the weakest went
    assert jnp.array_equal(new_w[keep], w[keep]) and bool(jnp.all(new_w[~keep] == 0))
    _, keep0 = prune_weakest(w, 0.0, mask)
    assert jnp.array_equal(keep0, mask)


def test_prune_and_rescale_projection_dense_and_sparse():
    pop = snn.Population("E", 30, snn.LIF())
    counts = []
    for layout in ("dense", "sparse"):
        proj = snn.connect(
            pop, pop, snn.FixedProbability(0.3), snn.Uniform(0.0, 1.0), key=jr.key(1), layout=layout
        )
        pruned = prune_projection(proj, 0.5)
        counts.append((proj.n_synapses, pruned.n_synapses))
        dense = np.asarray(pruned.dense_weights())
        assert np.count_nonzero(dense) == pruned.n_synapses
        scaled = rescale_projection(pruned, 0.2)
        w = np.asarray(scaled.dense_weights())
        np.testing.assert_allclose(w[w != 0].mean(), 0.2, rtol=1e-5)
    assert counts[0] == counts[1] and counts[0][1] == counts[0][0] - counts[0][0] // 2


def test_resample_keeps_structure_and_sign():
    inh = snn.Population("I", 20, snn.LIF(), dale="inhibitory")
    exc = snn.Population("E", 20, snn.LIF())
    proj = snn.connect(
        inh, exc, snn.FixedProbability(0.3), snn.Constant(1.0), key=jr.key(2), scale=2.0
    )
    new = resample_projection(jr.key(3), proj, snn.Uniform(0.5, 1.0))
    ex = proj.mask
    assert bool(jnp.all(new.weights[~ex] == 0))
    assert float(new.weights[ex].max()) <= -0.5 and float(new.weights[ex].min()) >= -1.0
    # only where asked
    where = jnp.zeros_like(ex).at[0].set(True)
    part = resample_weights(
        jr.key(4), proj.weights, snn.Uniform(0.5, 1.0), ex, where=where, scale=-1.0
    )
    assert jnp.array_equal(part[1:], proj.weights[1:])


def test_bad_arguments():
    with pytest.raises(ValueError, match="fraction must be a probability"):
        prune_weakest(W, 1.5)
    with pytest.raises(ValueError, match="mean_in_degree must be > 0"):
        critical_weight(1.0, 0.0, 0.0, 1)
    with pytest.raises(ValueError, match="period_steps must be > 0"):
        mean_input_current(1.0, 0.0, 10)

"""Connectivity rules: statistics, exact structure, user matrices, Dale's law."""

import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
import scipy.sparse

import jaxsnn as snn

Z = 4.5  # |z| bound for statistical checks with fixed keys (two-sided p ~ 7e-6)


def _assert_valid(pre, post, n_pre, n_post):
    assert pre.dtype == post.dtype == np.int64
    assert np.all((pre >= 0) & (pre < n_pre) & (post >= 0) & (post < n_post))
    flat = pre * n_post + post
    assert np.all(np.diff(flat) > 0), "pairs must be sorted by (pre, post) and distinct"


@pytest.mark.parametrize("p", [0.02, 0.1, 0.5])
def test_fixed_probability_matches_binomial_statistics(p):
    n = 400
    pre, post = snn.FixedProbability(p).pairs(jr.key(11), n, n, same=True)
    _assert_valid(pre, post, n, n)
    assert not np.any(pre == post)
    m = n - 1  # candidates per row without self-connections
    mean, var = n * m * p, n * m * p * (1 - p)
    assert abs(pre.size - mean) < Z * np.sqrt(var)
    for degrees in (np.bincount(pre, minlength=n), np.bincount(post, minlength=n)):
        # Row (out) and column (in) degrees ~ Binomial(n - 1, p): their sample variance
        # has standard error ~ sigma²·sqrt(2/(n - 1)).
        sigma2 = m * p * (1 - p)
        assert abs(degrees.var(ddof=1) - sigma2) < Z * sigma2 * np.sqrt(2 / (n - 1))


def test_fixed_probability_self_connections_only_when_asked_and_edge_cases():
    n = 300
    pre, post = snn.FixedProbability(0.2, allow_self=True).pairs(jr.key(1), n, n, same=True)
    n_self = int(np.sum(pre == post))
    assert abs(n_self - 0.2 * n) < Z * np.sqrt(n * 0.2 * 0.8)
    # Two different populations of equal size: i -> i is an ordinary pair.
    pre, post = snn.FixedProbability(0.2).pairs(jr.key(1), n, n, same=False)
    assert np.sum(pre == post) > 0
    pre, post = snn.FixedProbability(1.0).pairs(jr.key(2), 5, 5, same=True)
    assert pre.size == 20 and not np.any(pre == post)
    pre, post = snn.FixedProbability(0.0).pairs(jr.key(2), 5, 7, same=False)
    assert pre.size == 0
    pre, post = snn.FixedProbability(0.3).pairs(jr.key(3), 30, 70, same=False)
    _assert_valid(pre, post, 30, 70)


def test_fixed_probability_same_key_same_pairs():
    a = snn.FixedProbability(0.1).pairs(jr.key(5), 100, 100, same=True)
    b = snn.FixedProbability(0.1).pairs(jr.key(5), 100, 100, same=True)
    c = snn.FixedProbability(0.1).pairs(jr.key(6), 100, 100, same=True)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert a[0].size != c[0].size or not np.array_equal(a[1], c[1])


@pytest.mark.parametrize(
    "k, n_pre, n_post, same",
    [
        (20, 100, 100, True),
        (60, 100, 100, True),
        (99, 100, 100, True),
        (30, 30, 50, False),
        (500, 5000, 100, False),  # hung before: whole rows were redrawn on any repeat
        (1000, 10_000, 2000, False),  # Brunel (2000): C_E = 1000 of N_E = 10 000
        (80, 400_000, 500, True),  # W3's in-degree at its largest size
    ],
)
def test_fixed_in_degree_is_exact_with_distinct_presynaptic_neurons(k, n_pre, n_post, same):
    pre, post = snn.FixedInDegree(k).pairs(jr.key(3), n_pre, n_post, same=same)
    _assert_valid(pre, post, n_pre, n_post)  # sorted and distinct: no repeated pre per post
    np.testing.assert_array_equal(np.bincount(post, minlength=n_post), np.full(n_post, k))
    if same:
        assert not np.any(pre == post)
    # Presynaptic neurons are chosen uniformly: out-degrees average k·n_post/n_pre.
    assert np.bincount(pre, minlength=n_pre).mean() == pytest.approx(k * n_post / n_pre)


@pytest.mark.parametrize(
    "k, pool", [(3, 7), (6, 13), (5, 6)], ids=["redraw", "floyd", "complement"]
)
def test_fixed_in_degree_draws_every_subset_equally_often(k, pool):
    """Each of the three drawing paths gives a uniform k-subset of the presynaptic pool:
    over 40 000 postsynaptic neurons, the counts of the C(pool, k) subsets pass a
    chi-square test (p > 1e-4, fixed key)."""
    from math import comb

    from scipy.stats import chi2

    n_post = 40_000
    pre, post = snn.FixedInDegree(k).pairs(jr.key(5), pool, n_post, same=False)
    rows = np.zeros((n_post, pool), bool)
    rows[post, pre] = True
    code = rows @ (1 << np.arange(pool))
    counts = np.unique(code, return_counts=True)[1]
    n_subsets = comb(pool, k)
    assert counts.size == n_subsets
    expected = n_post / n_subsets
    stat = ((counts - expected) ** 2 / expected).sum()
    assert chi2.sf(stat, n_subsets - 1) > 1e-4, stat


def _ring(n, k):
    return {(i, (i + s * m) % n) for i in range(n) for m in range(1, k // 2 + 1) for s in (1, -1)}


def test_small_world_without_rewiring_is_the_exact_ring():
    n, k = 50, 6
    pre, post = snn.SmallWorld(k, 0.0).pairs(jr.key(0), n, n, same=True)
    _assert_valid(pre, post, n, n)
    assert set(zip(pre.tolist(), post.tolist(), strict=True)) == _ring(n, k)
    np.testing.assert_array_equal(np.bincount(post, minlength=n), np.full(n, k))


def test_small_world_rewiring_preserves_edge_count_and_direction_random_halves_it():
    n, k, p = 200, 10, 0.3
    pre, post = snn.SmallWorld(k, p).pairs(jr.key(4), n, n, same=True)
    _assert_valid(pre, post, n, n)
    assert pre.size == n * k and not np.any(pre == post)
    pairs = set(zip(pre.tolist(), post.tolist(), strict=True))
    assert pairs == {(b, a) for a, b in pairs}  # "both": every edge in both directions
    # About a fraction p of the n·k/2 lattice edges are replaced (a rewired edge lands on
    # another lattice position with probability ~k/n, hence the loose bound).
    moved = len(pairs - _ring(n, k)) / 2 / (n * k / 2)
    assert abs(moved - p * (1 - k / n)) < 0.05
    r_pre, r_post = snn.SmallWorld(k, p, direction="random").pairs(jr.key(4), n, n, same=True)
    _assert_valid(r_pre, r_post, n, n)
    assert r_pre.size == n * k // 2
    one_way = set(zip(r_pre.tolist(), r_post.tolist(), strict=True))
    assert not one_way & {(b, a) for a, b in one_way}
    # Same key: the same undirected graph, one random direction per edge.
    assert one_way | {(b, a) for a, b in one_way} == pairs


def test_all_to_all_and_one_to_one():
    pre, post = snn.AllToAll().pairs(jr.key(0), 4, 6, same=False)
    _assert_valid(pre, post, 4, 6)
    assert pre.size == 24
    pre, post = snn.AllToAll().pairs(jr.key(0), 5, 5, same=True)
    assert pre.size == 20 and not np.any(pre == post)
    pre, _ = snn.AllToAll(allow_self=True).pairs(jr.key(0), 5, 5, same=True)
    assert pre.size == 25
    pre, post = snn.OneToOne().pairs(jr.key(0), 7, 7, same=False)
    np.testing.assert_array_equal(pre, np.arange(7))
    np.testing.assert_array_equal(post, np.arange(7))


def _pops(n_pre=6, n_post=5, dale_pre=None):
    return snn.Population("a", n_pre, dale=dale_pre), snn.Population("b", n_post)


@pytest.mark.parametrize("layout", ["dense", "sparse"])
def test_from_matrix_and_from_pairs_round_trip(layout):
    rng = np.random.default_rng(0)
    m = np.where(rng.random((6, 5)) < 0.4, rng.normal(size=(6, 5)), 0.0)
    a, b = _pops()
    proj = snn.connect(a, b, snn.FromMatrix(m), key=jr.key(0), layout=layout)
    assert proj.is_sparse == (layout == "sparse")
    assert proj.n_synapses == np.count_nonzero(m)
    np.testing.assert_array_equal(proj.dense_weights(), m.astype(np.float32))
    pre, post = np.nonzero(m)
    order = rng.permutation(pre.size)  # pairs in any order
    rule = snn.FromPairs(pre[order], post[order], m[pre, post][order])
    proj = snn.connect(a, b, rule, key=jr.key(0), layout=layout)
    np.testing.assert_array_equal(proj.dense_weights(), m.astype(np.float32))
    proj = snn.connect(
        a, b, snn.FromPairs.from_sparse(scipy.sparse.csr_matrix(m)), key=jr.key(0), layout=layout
    )
    np.testing.assert_array_equal(proj.dense_weights(), m.astype(np.float32))
    # Without values the initialiser draws the weights of the given pairs.
    proj = snn.connect(
        a, b, snn.FromPairs(pre, post), snn.Constant(0.25), key=jr.key(0), layout=layout, scale=2.0
    )
    np.testing.assert_array_equal(proj.dense_weights(), np.where(m != 0, 0.5, 0.0))


def test_dale_signs():
    exc = snn.Population("E", 20, dale="excitatory")
    inh = snn.Population("I", 20, dale="inhibitory")
    rule, init = snn.FixedProbability(0.5), snn.AbsNormal(0.5, 0.2)
    ee = snn.connect(exc, exc, rule, init, key=jr.key(0))
    ie = snn.connect(inh, exc, rule, init, key=jr.key(1), scale=4.0)
    ie_cond = snn.connect(inh, exc, rule, init, snn.ExpConductance(5.0, -80.0), key=jr.key(1))
    w_ee, w_ie = np.asarray(ee.weights)[np.asarray(ee.mask)], np.asarray(ie.weights)[ie.mask]
    assert np.all(w_ee > 0) and np.all(w_ie < 0)
    assert np.all(np.asarray(ie_cond.weights)[ie_cond.mask] > 0)  # sign from reversal potential
    # Magnitudes: scale × the initialiser's draw (same key, same draw).
    # float32 products: one rounding each.
    np.testing.assert_allclose(-w_ie, 4.0 * np.asarray(ie_cond.weights)[ie_cond.mask], rtol=1e-6)
    with pytest.raises(ValueError, match="Dale"):
        snn.connect(exc, exc, rule, snn.Normal(0.0, 1.0), key=jr.key(0))
    with pytest.raises(ValueError, match="Dale"):
        snn.connect(inh, exc, snn.FromMatrix(np.ones((20, 20))), key=jr.key(0))


@pytest.mark.parametrize("layout", ["dense", "sparse"])
def test_constrained_reimposes_sparsity_and_dale(layout):
    exc = snn.Population("E", 30, dale="excitatory")
    inh = snn.Population("I", 30, dale="inhibitory")
    for pre, bad_sign in ((exc, -1.0), (inh, 1.0)):
        proj = snn.connect(
            pre, exc, snn.FixedProbability(0.3), snn.Constant(0.1), key=jr.key(0), layout=layout
        )
        noisy = proj.with_weights(proj.weights + bad_sign * jnp.ones_like(proj.weights))
        fixed = noisy.constrained()
        w = np.asarray(fixed.dense_weights())
        np.testing.assert_array_equal(w, 0.0)  # every weight pushed across zero: clipped
        exists = np.asarray(proj.dense_weights()) != 0
        back = proj.with_weights(proj.weights - bad_sign * 0.05).constrained()
        wb = np.asarray(back.dense_weights())
        # float32 sums 0.1 ± 0.05: one rounding.
        np.testing.assert_allclose(
            wb[exists], 0.15 * np.sign(np.asarray(proj.dense_weights())[exists]), rtol=1e-6
        )
        assert np.all(wb[~exists] == 0)


def test_small_world_close_to_complete_graph_terminates_with_all_edges():
    """n = 5, k = 4 is the complete graph: rewiring every edge must keep all 10 edges
    (it used to loop forever looking for a free partner of a saturated neuron)."""
    for seed in range(5):
        pre, post = snn.SmallWorld(4, 1.0).pairs(jr.key(seed), 5, 5, same=True)
        assert set(zip(pre.tolist(), post.tolist(), strict=True)) == _ring(5, 4)
    pre, _ = snn.SmallWorld(8, 1.0).pairs(jr.key(0), 10, 10, same=True)
    assert pre.size == 80

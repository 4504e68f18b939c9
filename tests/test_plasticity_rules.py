"""STDP and Hebbian rules against closed forms and brute-force pair sums.

Convention under test (jaxsnn.plasticity.rules): a pair of spikes in the same step does not
interact; pre at step a, post at step b > a potentiates by A₊·exp(−(b−a)·dt/τ₊), post at b
before pre at a > b depresses by A₋·exp(−(a−b)·dt/τ₋).
"""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsnn.layout import DenseLayout, SparseLayout
from jaxsnn.plasticity import (
    STDP,
    Hebbian,
    Multiplicative,
    NearestSpike,
    run_rule,
)

A_PLUS, A_MINUS = 0.01, 0.012
TAU_PLUS, TAU_MINUS = 16.8, 33.7  # Bi & Poo fit, as in NEST's test_stdp_synapse.py


def _trains(pre_steps, post_steps, n_steps):
    pre = np.zeros((n_steps, 1), np.float32)
    post = np.zeros((n_steps, 1), np.float32)
    pre[np.asarray(pre_steps, int), 0] = 1
    post[np.asarray(post_steps, int), 0] = 1
    return jnp.asarray(pre), jnp.asarray(post)


def _rule(**kw):
    base = dict(
        a_plus=A_PLUS, a_minus=A_MINUS, tau_plus_ms=TAU_PLUS, tau_minus_ms=TAU_MINUS, clip=False
    )
    return STDP(**(base | kw))


@pytest.mark.parametrize("delta_ms", [1, 5, 20, 50, -1, -5, -20, -50])
def test_pair_window_matches_closed_form(delta_ms):
    # dt = 1 ms puts every Δt on the grid; float32 traces decay by repeated multiplication,
    # so after 50 steps the relative error is at most ~50 ulp(1) = 3e-6 < rtol 1e-5.
    t_pre = 60
    pre, post = _trains([t_pre], [t_pre + delta_ms], 130)
    w, _ = run_rule(_rule(), jnp.zeros((1, 1), jnp.float32), pre, post, dt_ms=1.0)
    if delta_ms > 0:
        expected = A_PLUS * np.exp(-delta_ms / TAU_PLUS)
    else:
        expected = -A_MINUS * np.exp(delta_ms / TAU_MINUS)
    assert w.dtype == jnp.float32
    np.testing.assert_allclose(float(w[0, 0]), expected, rtol=1e-5)


def test_coincident_pair_does_nothing():
    pre, post = _trains([10], [10], 30)
    w, _ = run_rule(_rule(), jnp.zeros((1, 1)), pre, post, dt_ms=1.0)
    assert float(w[0, 0]) == 0.0


def test_no_spikes_no_change():
    w0 = jnp.full((3, 4), 0.3)
    zeros_pre, zeros_post = jnp.zeros((200, 3)), jnp.zeros((200, 4))
    for rule in [_rule(), _rule(pairing=NearestSpike()), Hebbian(on="traces"), Hebbian()]:
        w, _ = run_rule(rule, w0, zeros_pre, zeros_post, dt_ms=0.5)
        assert jnp.array_equal(w, w0)


def _all_pairs_reference(pre_t, post_t, until=np.inf):
    """Brute force: every pair whose later spike is at or before `until` (times in ms)."""
    dw = 0.0
    for tp, tq in itertools.product(pre_t, post_t):
        if max(tp, tq) > until:
            continue
        if tq > tp:
            dw += A_PLUS * np.exp(-(tq - tp) / TAU_PLUS)
        elif tp > tq:
            dw -= A_MINUS * np.exp(-(tp - tq) / TAU_MINUS)
    return dw


def _nearest_reference(pre_t, post_t, until=np.inf):
    """Brute force of the nearest-spike definition: each post spike pairs with the latest
    strictly earlier pre spike (potentiation), each pre spike with the latest strictly
    earlier post spike (depression)."""
    dw = 0.0
    for tq in post_t:
        earlier = [tp for tp in pre_t if tp < tq]
        if earlier and tq <= until:
            dw += A_PLUS * np.exp(-(tq - max(earlier)) / TAU_PLUS)
    for tp in pre_t:
        earlier = [tq for tq in post_t if tq < tp]
        if earlier and tp <= until:
            dw -= A_MINUS * np.exp(-(tp - max(earlier)) / TAU_MINUS)
    return dw


DT = 0.1
# NEST testsuite/pytests/synapses/test_stdp_synapse.py hand-picked edge cases (REFERENCES
# §5.4): coincidences at 9 and 12 ms, bursts, off-grid-looking times on the 0.1 ms grid.
NEST_PRE = [1, 5, 6, 7, 9, 11, 12, 13, 14.5, 16.1]
NEST_POST = [2, 3, 4, 8, 9, 10, 12, 12.2, 14.1, 15.4]


def _random_trains(seed, rate_hz=100.0, seconds=1.0):
    rng = np.random.default_rng(seed)
    n = int(round(seconds * 1000 / DT))
    pre = np.flatnonzero(rng.random(n) < rate_hz * DT * 1e-3)
    post = np.flatnonzero(rng.random(n) < rate_hz * DT * 1e-3)
    return pre, post, n


def _cases():
    yield (
        "nest",
        np.round(np.array(NEST_PRE) / DT).astype(int),
        np.round(np.array(NEST_POST) / DT).astype(int),
        200,
    )
    for seed in (0, 1):
        pre, post, n = _random_trains(seed)
        yield f"poisson{seed}", pre, post, n


@pytest.mark.parametrize("pairing", ["all", "nearest"])
@pytest.mark.parametrize("case", list(_cases()), ids=lambda c: c[0])
def test_traces_equal_brute_force_at_every_pre_spike(case, pairing):
    _, pre_steps, post_steps, n = case
    rule = _rule() if pairing == "all" else _rule(pairing=NearestSpike())
    ref = _all_pairs_reference if pairing == "all" else _nearest_reference
    pre, post = _trains(pre_steps, post_steps, n)
    w, traj = run_rule(rule, jnp.zeros((1, 1), jnp.float32), pre, post, dt_ms=DT)
    traj = np.asarray(traj[:, 0, 0], np.float64)
    pre_t, post_t = pre_steps * DT, post_steps * DT
    for step in pre_steps:
        # float32: the decay factor exp(-dt/τ) is rounded to ~3e-8 relative and raised to
        # the k-th power over a τ/dt ≈ 340-step window (≤ 1e-5 relative), and a few
        # hundred updates are summed: rtol 2e-5 on top of REFERENCES' atol 1e-6.
        np.testing.assert_allclose(
            traj[step], ref(pre_t, post_t, until=step * DT), atol=1e-6, rtol=2e-5
        )
    np.testing.assert_allclose(float(w[0, 0]), ref(pre_t, post_t), atol=1e-6, rtol=2e-5)


def test_nearest_differs_from_all_pairs_exactly_by_the_non_nearest_pairs():
    # pre at 0 and 5 ms, post at 10 ms: all-pairs counts both pre spikes, nearest only 5 ms.
    pre, post = _trains([0, 50], [100], 200)
    w_all, _ = run_rule(_rule(), jnp.zeros((1, 1)), pre, post, dt_ms=DT)
    w_nn, _ = run_rule(_rule(pairing=NearestSpike()), jnp.zeros((1, 1)), pre, post, dt_ms=DT)
    np.testing.assert_allclose(
        float(w_all[0, 0] - w_nn[0, 0]), A_PLUS * np.exp(-10 / TAU_PLUS), rtol=1e-5
    )


def test_many_synapses_at_once_equal_one_by_one():
    # A dense (n_pre, n_post) rule is the same as every synapse run on its own.
    rng = np.random.default_rng(3)
    pre = jnp.asarray(rng.random((400, 3)) < 0.05, jnp.float32)
    post = jnp.asarray(rng.random((400, 2)) < 0.05, jnp.float32)
    w, _ = run_rule(_rule(), jnp.zeros((3, 2)), pre, post, dt_ms=DT)

    def one(i, j):
        wij, _ = run_rule(_rule(), jnp.zeros((1, 1)), pre[:, i, None], post[:, j, None], dt_ms=DT)
        return wij[0, 0]

    i, j = jnp.meshgrid(jnp.arange(3), jnp.arange(2), indexing="ij")
    single = jax.vmap(jax.vmap(one))(i, j)
    np.testing.assert_allclose(np.asarray(w), np.asarray(single), atol=1e-7)


def test_sparse_layout_equals_dense_and_keeps_absent_synapses():
    rng = np.random.default_rng(4)
    n_pre, n_post = 5, 4
    mask = rng.random((n_pre, n_post)) < 0.5
    targets = np.full((n_pre, 3), n_post, np.int32)
    for i in range(n_pre):
        cols = np.flatnonzero(mask[i])[:3]
        mask[i] = False
        mask[i, cols] = True
        targets[i, : cols.size] = cols
    pre = jnp.asarray(rng.random((300, n_pre)) < 0.05, jnp.float32)
    post = jnp.asarray(rng.random((300, n_post)) < 0.05, jnp.float32)
    dense_layout = DenseLayout(n_pre, n_post, jnp.asarray(mask))
    sparse_layout = SparseLayout(n_pre, n_post, jnp.asarray(targets))
    w_dense, _ = run_rule(
        _rule(), jnp.zeros((n_pre, n_post)), pre, post, dt_ms=DT, layout=dense_layout
    )
    w_sparse, _ = run_rule(
        _rule(), jnp.zeros((n_pre, 3)), pre, post, dt_ms=DT, layout=sparse_layout
    )
    assert jnp.all(w_dense[~mask] == 0)
    assert jnp.all(w_sparse[targets == n_post] == 0)
    rows = np.repeat(np.arange(n_pre)[:, None], 3, 1)
    back = np.zeros((n_pre, n_post + 1), np.float32)
    back[rows, targets] = np.asarray(w_sparse)
    np.testing.assert_allclose(back[:, :n_post], np.asarray(w_dense), atol=1e-7)


@pytest.mark.parametrize("multiplicative", [False, True])
def test_weights_never_leave_bounds_with_clipping(multiplicative):
    rng = np.random.default_rng(5)
    pre = jnp.asarray(rng.random((2000, 6)) < 0.05, jnp.float32)
    post = jnp.asarray(rng.random((2000, 5)) < 0.05, jnp.float32)
    kw = dict(a_plus=0.4, a_minus=0.5, w_max=1.5, clip=True)
    if multiplicative:
        kw["weight_dependence"] = Multiplicative()
    w0 = jnp.asarray(rng.random((6, 5)) * 1.5, jnp.float32)
    _, traj = run_rule(_rule(**kw), w0, pre, post, dt_ms=DT)
    assert float(traj.min()) >= 0.0 and float(traj.max()) <= 1.5
    # and the bounds are reached: big amplitudes drive weights onto them
    if not multiplicative:
        assert float(traj.min()) == 0.0 and float(traj.max()) == 1.5


def test_multiplicative_factors():
    # one pre-post pair at Δt = 5 ms from w = 0.25·w_max: Δw = A₊(1 − w/w_max)e^{−Δt/τ₊};
    # post-pre: Δw = −A₋(w/w_max)e^{−Δt/τ₋}
    rule = _rule(weight_dependence=Multiplicative(), w_max=2.0)
    w0 = jnp.full((1, 1), 0.5, jnp.float32)
    pre, post = _trains([10], [15], 40)
    w, _ = run_rule(rule, w0, pre, post, dt_ms=1.0)
    np.testing.assert_allclose(
        float(w[0, 0]) - 0.5, A_PLUS * 0.75 * np.exp(-5 / TAU_PLUS), rtol=1e-5
    )
    w, _ = run_rule(rule, w0, post, pre, dt_ms=1.0)
    np.testing.assert_allclose(
        float(w[0, 0]) - 0.5, -A_MINUS * 0.25 * np.exp(-5 / TAU_MINUS), rtol=1e-5
    )


def test_balanced_window_and_learning_rate():
    rule = STDP(a_plus=0.02, a_minus=None, tau_plus_ms=10.0, tau_minus_ms=40.0, balanced=True)
    assert rule.a_minus_value == pytest.approx(0.005)
    scaled = STDP(
        a_plus=0.02,
        a_minus=None,
        tau_plus_ms=10.0,
        tau_minus_ms=40.0,
        balanced=True,
        eta=0.5,
        clip=False,
    )
    pre, post = _trains([10], [13], 40)
    w1, _ = run_rule(
        rule.__class__(**{**rule.__dict__, "clip": False}), jnp.zeros((1, 1)), pre, post, dt_ms=1.0
    )
    w2, _ = run_rule(scaled, jnp.zeros((1, 1)), pre, post, dt_ms=1.0)
    np.testing.assert_allclose(float(w2[0, 0]), 0.5 * float(w1[0, 0]), rtol=1e-6)


def test_gradient_wrt_amplitude_is_the_potentiation_sum():
    # dw is linear in A₊ (additive, no clipping), so d(w_final)/dA₊ is the sum of the
    # potentiating window terms: an exact check of the gradient through the scan.
    pre_steps, post_steps, n = _random_trains(7, seconds=0.3)
    pre, post = _trains(pre_steps, post_steps, n)

    def final(a_plus):
        w, _ = run_rule(_rule(a_plus=a_plus), jnp.zeros((1, 1)), pre, post, dt_ms=DT)
        return w[0, 0]

    g = jax.grad(final)(jnp.asarray(A_PLUS, jnp.float32))
    pre_t, post_t = pre_steps * DT, post_steps * DT
    ltp = sum(np.exp(-(q - p) / TAU_PLUS) for p in pre_t for q in post_t if q > p)
    np.testing.assert_allclose(float(g), ltp, rtol=1e-4)  # float32 sum of ~1000 terms


def test_hebbian_on_spikes_and_decay_closed_form():
    # coincidences counted per step; decay γ·dt·w per step: w_T = w0(1−γdt)^T + η·Σ…
    pre = jnp.asarray([[1.0], [0.0], [1.0], [1.0]])
    post = jnp.asarray([[1.0], [1.0], [0.0], [1.0]])
    w, _ = run_rule(Hebbian(eta=0.1), jnp.zeros((1, 1)), pre, post, dt_ms=1.0)
    np.testing.assert_allclose(float(w[0, 0]), 0.2, rtol=1e-6)
    rule = Hebbian(eta=0.0, decay_per_ms=0.01)
    w, _ = run_rule(rule, jnp.ones((1, 1)), jnp.zeros((50, 1)), jnp.zeros((50, 1)), dt_ms=0.5)
    np.testing.assert_allclose(float(w[0, 0]), (1 - 0.005) ** 50, rtol=1e-5)


def test_hebbian_on_traces_closed_form():
    # pre spike at step 0, post spike at step 3 (dt 1 ms, τ 10 ms): the trace product is
    # x_pre·x_post = e^{−t/10}·(t ≥ 3)·e^{−(t−3)/10}, summed over the steps.
    pre, post = _trains([0], [3], 30)
    w, _ = run_rule(
        Hebbian(eta=1.0, on="traces", tau_pre_ms=10.0, tau_post_ms=10.0),
        jnp.zeros((1, 1)),
        pre,
        post,
        dt_ms=1.0,
    )
    expected = sum(np.exp(-t / 10) * np.exp(-(t - 3) / 10) for t in range(3, 30))
    np.testing.assert_allclose(float(w[0, 0]), expected, rtol=1e-5)


def test_hebbian_normalisation_conserves_input_weight_per_neuron():
    rng = np.random.default_rng(8)
    pre = jnp.asarray(rng.random((500, 6)) < 0.1, jnp.float32)
    post = jnp.asarray(rng.random((500, 3)) < 0.1, jnp.float32)
    w0 = jnp.asarray(rng.random((6, 3)), jnp.float32)
    w, _ = run_rule(Hebbian(eta=0.05, normalise=True), w0, pre, post, dt_ms=1.0)
    np.testing.assert_allclose(np.asarray(w.sum(0)), np.asarray(w0.sum(0)), rtol=1e-4)
    assert not jnp.allclose(w, w0)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="tau_plus_ms must be > 0"):
        STDP(tau_plus_ms=-1.0)
    with pytest.raises(ValueError, match="a_minus must be None with balanced"):
        STDP(balanced=True)
    with pytest.raises(ValueError, match="a_minus is None"):
        STDP(a_minus=None)
    with pytest.raises(ValueError, match="w_max must be > 0"):
        STDP(w_max=0.0)
    with pytest.raises(ValueError, match="Hebbian.on must be"):
        Hebbian(on="spike")
    with pytest.raises(ValueError, match="same T"):
        run_rule(STDP(), jnp.zeros((1, 1)), jnp.zeros((5, 1)), jnp.zeros((6, 1)), dt_ms=1.0)


def test_scaling_dt_and_time_constants_by_1024_is_bit_identical():
    # a hidden unit (a dt or tau used without the other) would break this
    pre_steps, post_steps, n = _random_trains(9, seconds=0.2)
    pre, post = _trains(pre_steps, post_steps, n)
    w1, _ = run_rule(_rule(), jnp.zeros((1, 1)), pre, post, dt_ms=DT)
    scaled = _rule(tau_plus_ms=TAU_PLUS * 1024, tau_minus_ms=TAU_MINUS * 1024)
    w2, _ = run_rule(scaled, jnp.zeros((1, 1)), pre, post, dt_ms=DT * 1024)
    assert jnp.array_equal(w1, w2)

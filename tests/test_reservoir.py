"""jaxsnn.reservoir on its own: the model against a NumPy transcription of its step
(snnpy's loop, written independently here), the topology's statistics, invariants
(same key → same spikes, batch = loop, sequence learning = manual loop), and errors.
Equivalence with snnpy itself: tests/test_reservoir_snnpy.py."""

from __future__ import annotations

import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import jaxsnn.reservoir as rs
from jaxsnn.analysis import reservoir_features
from jaxsnn.propagation import Scatter
from jaxsnn.reservoir import homeostasis

PARAMS = {"threshold": 1.0, "refractory_steps": 2, "leak_coefficient": 0.05}


def _small(key=0, **kw):
    args = dict(
        n_neurons=120,
        small_world_k=12,
        small_world_p=0.2,
        mean_weight=0.25,
        n_inputs=10,
        n_outputs=15,
        propagation=Scatter(),
        **PARAMS,
    )
    args.update(kw)
    return rs.build_reservoir(jr.key(key), **args)


def _inputs(key=1, n_in=10, steps=300, p=0.1, batch=None):
    shape = (n_in, steps) if batch is None else (batch, n_in, steps)
    return np.asarray(jr.bernoulli(jr.key(key), p, shape), np.uint8)


def _numpy_run(w, v0, inputs, thr, leak, refr, amp, n_steps):
    """The model of `jaxsnn.reservoir.model`'s docstring, step by step in NumPy float64."""
    n = w.shape[0]
    v, r = v0.astype(np.float64).copy(), np.zeros(n, int)
    out = np.zeros((n_steps, n), bool)
    for t in range(n_steps):
        r = np.maximum(r - 1, 0)
        if t < inputs.shape[1]:
            v[: inputs.shape[0]] += amp * inputs[:, t]
        s = (v >= thr) & (r == 0)
        out[t] = s
        v[s] = 0.0
        r[s] = refr + 1
        v *= 1 - leak
        v += s.astype(float) @ w
    return out, v


def test_matches_an_independent_numpy_loop():
    """Float64 NumPy against float32 JAX: identical spikes on this run (no potential
    lands within float32 rounding of the threshold; checked by the margin below), and
    final potentials to 1e-4."""
    res = _small()
    x = _inputs()
    out = rs.run(res, x, n_steps=400, record_all=True)  # 100 steps past the input
    ref, v = _numpy_run(
        np.asarray(res.dense_weights(), np.float64),
        np.asarray(res.v_init),
        x,
        1.0,
        0.05,
        2,
        1.0,
        400,
    )
    assert ref.sum() > 500
    np.testing.assert_array_equal(np.asarray(out.spikes).astype(bool), ref)
    np.testing.assert_allclose(np.asarray(out.state.v), v, atol=1e-4)


def test_refractory_steps_and_reset():
    """One input neuron, driven every step: it fires every refractory_steps + 1 steps."""
    m = np.zeros((3, 3), np.float32)
    m[0, 1] = 0.5
    res = rs.from_adjacency(
        m, output_neurons=[0, 1], initial_potentials=np.zeros(3, np.float32), **PARAMS
    )
    x = np.ones((1, 12), np.uint8)
    out = np.asarray(rs.run(res, x).outputs)
    assert out[:, 0].tolist() == [1, 0, 0] * 4
    # neuron 1 gets 0.5 per input spike, leaks 5 % per step: fires on the 2nd volley
    assert out[:, 1].sum() >= 1 and out[0, 1] == 0


def test_small_world_topology_statistics():
    """snnpy's small world: one synapse of random direction per undirected edge, so the
    mean in-degree is k/2 exactly, and weights ~ N(mean, |mean|·weight_variance)."""
    res = _small(n_neurons=2000, small_world_k=20, mean_weight=0.3, weight_variance=0.2, n_inputs=0)
    ex = np.asarray(res.exists())
    assert ex.sum() / 2000 == pytest.approx(10.0)  # edges are kept, only rewired
    w = np.asarray(res.weights)[ex]
    se = 0.06 / np.sqrt(w.size)
    assert abs(w.mean() - 0.3) < 5 * se  # 5 standard errors
    assert w.std() == pytest.approx(0.06, rel=0.05)
    dense = np.asarray(res.dense_weights())
    assert np.all(np.diag(dense) == 0)
    assert not np.any((dense != 0) & (dense.T != 0))  # never both directions of an edge


def test_erdos_renyi_topology_and_outputs():
    res = _small(
        n_neurons=800,
        small_world_k=None,
        small_world_p=None,
        connection_prob=0.05,
        n_inputs=100,
        n_outputs=40,
    )
    k_in = np.asarray(res.exists()).sum() / 800
    assert k_in == pytest.approx(0.05 * 799, rel=0.05)  # about 5 s.e. of a binomial mean
    out = np.asarray(res.output_neurons)
    assert len(set(out.tolist())) == 40 and out.min() >= 100  # hidden neurons only


def test_same_key_same_reservoir_and_spikes():
    a, b = _small(3), _small(3)
    x = _inputs()
    np.testing.assert_array_equal(np.asarray(a.weights), np.asarray(b.weights))
    np.testing.assert_array_equal(
        np.asarray(rs.run(a, x).outputs), np.asarray(rs.run(b, x).outputs)
    )
    assert not np.array_equal(np.asarray(_small(4).weights), np.asarray(a.weights))


def test_run_sequence_equals_the_manual_loop_with_stdp():
    """snnpy's data-set loop (simulate, reset, next input; STDP weights carried)."""
    stdp = rs.stdp_from_snnpy(tau_plus=3.0, tau_minus=6.0, A_plus=0.01, A_minus=0.012, W_max=0.5)
    res = _small(stdp=stdp)
    xs = _inputs(batch=3)
    seq = rs.run_sequence(res, xs)
    r, state = res, res.initial_state()
    for i in range(3):
        state = r.reset(state)
        one = rs.run(r, xs[i], state=state)
        np.testing.assert_array_equal(np.asarray(seq.outputs[i]), np.asarray(one.outputs))
        r, state = one.reservoir, one.state
    np.testing.assert_allclose(np.asarray(seq.reservoir.weights), np.asarray(r.weights), atol=1e-7)
    assert not np.allclose(np.asarray(r.weights), np.asarray(res.weights))


def test_features_and_spike_time_lists_of_a_run():
    res = _small()
    out = rs.run(res, _inputs())
    lists = rs.spike_time_lists(out.outputs)
    feats = reservoir_features(out.outputs)
    assert [len(t) for t in lists] == np.asarray(feats["spike_counts"]).astype(int).tolist()
    first = [t[0] if t else -1 for t in lists]
    assert first == np.asarray(feats["first_spike_times"]).tolist()


def test_mean_field_threshold_formula():
    """θ = w̄·k̄_in + 2·I·T_ref with I the input density (snnpy's definition)."""
    res = _small()
    x = _inputs(p=0.2)
    ex = np.asarray(res.exists())
    w_bar = np.asarray(res.weights)[ex].mean()
    want = w_bar * ex.sum() / 120 + 2 * x.mean() * 2
    assert float(homeostasis.mean_field_threshold(res, x)) == pytest.approx(want, rel=1e-5)
    assert float(homeostasis.apply_mean_field_threshold(res, x).threshold) == pytest.approx(
        want, rel=1e-5
    )


def test_prune_rescale_resample():
    res = _small()
    n0 = int(np.asarray(res.exists()).sum())
    pruned = homeostasis.prune(res, 0.25)
    assert int(np.asarray(pruned.exists()).sum()) == n0 - int(np.floor(0.25 * n0))
    kept = np.abs(np.asarray(pruned.weights)[np.asarray(pruned.exists())])
    removed = np.abs(
        np.asarray(res.weights)[np.asarray(res.exists()) & ~np.asarray(pruned.exists())]
    )
    assert kept.min() >= removed.max()
    rescaled = homeostasis.rescale_weights(pruned, 0.5)
    assert float(
        np.asarray(rescaled.weights)[np.asarray(rescaled.exists())].mean()
    ) == pytest.approx(0.5, rel=1e-5)
    fresh = homeostasis.resample_weights(rescaled, jr.key(9), 1.0, 0.1)
    w = np.asarray(fresh.weights)[np.asarray(fresh.exists())]
    assert w.mean() == pytest.approx(1.0, abs=5 * 0.1 / np.sqrt(w.size))


def test_leak_from_a_time_constant():
    assert rs.leak_of(None, 20.0) == pytest.approx(1 - np.exp(-1 / 20))
    with pytest.raises(ValueError, match="exactly one"):
        rs.leak_of(0.1, 20.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"leak_coefficient": 1.0}, r"\[0, 1\)"),
        ({"small_world_k": 7}, "even"),
        ({"small_world_p": 1.5}, "p_rewire"),
        ({"connection_prob": 0.1}, "not both"),
        ({"n_outputs": 200}, "not inputs"),
        ({"output_neurons": [1, 2], "n_outputs": None}, None),
        ({"initial_potentials": np.full(120, 2.0, np.float32)}, r"\[0.0, 1.0\]"),
        ({"initial_potentials": np.full(120, np.nan, np.float32)}, "NaN"),
        ({"refractory_steps": -1}, "refractory"),
    ],
)
def test_bad_parameters_are_refused(kwargs, match):
    if match is None:  # a valid variant: explicit outputs
        _small(**kwargs)
        return
    with pytest.raises(ValueError, match=match):
        _small(**kwargs)


def test_bad_inputs_are_refused():
    res = _small()
    with pytest.raises(ValueError, match="rows"):
        rs.run(res, np.ones((121, 10), np.uint8))
    with pytest.raises(ValueError, match="shape"):
        rs.run(res, np.ones(10, np.uint8))
    with pytest.raises(ValueError, match="NaN"):
        rs.run(res, np.full((3, 10), np.nan, np.float32))
    with pytest.raises(ValueError, match="n_steps"):
        rs.run(res, np.ones((3, 10), np.uint8), n_steps=0)
    with pytest.raises(ValueError, match="square"):
        rs.from_adjacency(
            np.ones((3, 4), np.float32),
            output_neurons=[0],
            initial_potentials=np.zeros(3, np.float32),
            **PARAMS,
        )
    with pytest.raises(ValueError, match="weights must be floats|float weights"):
        rs.from_adjacency(
            np.ones((3, 3), np.int32),
            output_neurons=[0],
            initial_potentials=np.zeros(3, np.float32),
            **PARAMS,
        )
    with pytest.raises(ValueError, match="lie in"):
        rs.from_adjacency(
            np.ones((3, 3), np.float32),
            output_neurons=[5],
            initial_potentials=np.zeros(3, np.float32),
            **PARAMS,
        )
    with pytest.raises(ValueError, match="fraction"):
        homeostasis.prune(res, 1.0)
    with pytest.raises(ValueError, match="multiplicative"):
        rs.stdp_from_snnpy(weight_update_rule="hebb")


def test_potentials_saved_after_a_run_load_back():
    """A run leaves potentials outside [0, threshold]; from_adjacency accepts them."""
    res = _small()
    out = rs.run(res, _inputs())
    v = np.asarray(out.state.v)
    again = rs.from_adjacency(
        res.adjacency(), output_neurons=res.output_neurons, initial_potentials=v, **PARAMS
    )
    assert jnp.allclose(again.v_init, out.state.v)


def test_temporal_order_task():
    """Balanced, deterministic from the key, and the class is in the timing only: the
    inputs' spike counts per neuron have the same mean in both classes (within 4
    standard errors), so a readout of counts is at chance."""
    x, y = rs.temporal_order(jr.key(0), 400)
    x2, y2 = rs.temporal_order(jr.key(0), 400)
    np.testing.assert_array_equal(np.asarray(x), np.asarray(x2))
    assert int(y.sum()) == 200 and x.shape == (400, 40, 300) and x.dtype == jnp.uint8
    counts = np.asarray(x, np.float64).sum(-1)  # (samples, neurons)
    a, b = counts[np.asarray(y) == 0], counts[np.asarray(y) == 1]
    se = np.sqrt(a.var(0) / len(a) + b.var(0) / len(b))
    assert np.all(np.abs(a.mean(0) - b.mean(0)) < 4 * se)
    # label 0: group A (rows 0-19) fires first
    i = int(np.flatnonzero(np.asarray(y) == 0)[0])
    first_a = np.argmax(np.asarray(x[i, :20]).sum(0) > 2)
    first_b = np.argmax(np.asarray(x[i, 20:]).sum(0) > 2)
    assert first_a < first_b
    with pytest.raises(ValueError, match="even"):
        rs.temporal_order(jr.key(0), 10, n_inputs=5)
    with pytest.raises(ValueError, match="n_steps"):
        rs.temporal_order(jr.key(0), 10, n_steps=50)


def test_readout_accuracy_on_the_notebooks_noisy_task():
    """The notebook's task and reservoir (200 samples here): cross-validated ridge on
    snnpy's features is far above chance, input counts are not (measured 0.84
    [0.78, 0.88] and 0.445 [0.38, 0.51]); bounds: the reservoir's 95 % interval lies
    above 0.7, the counts' interval contains 0.5."""
    x, y = rs.temporal_order(jr.key(0), 200, burst_p=0.12, noise_p=0.04, burst_steps=20)
    res = rs.build_reservoir(
        jr.key(1),
        n_neurons=300,
        small_world_k=20,
        small_world_p=0.2,
        mean_weight=0.15,
        weight_variance=0.5,
        threshold=1.0,
        leak_coefficient=0.05,
        refractory_steps=2,
        n_inputs=40,
        n_outputs=60,
        propagation=Scatter(),
    )

    def fit(a, b):
        return rs.fit_ridge(a, b, alpha=10.0)

    cv = rs.cross_validate(fit, rs.feature_vectors(rs.run(res, x).outputs), y, key=jr.key(3))
    base = rs.cross_validate(fit, np.asarray(x, np.float32).sum(-1), y, key=jr.key(3))
    assert cv.ci95[0] > 0.7, cv
    assert base.ci95[0] < 0.5 < base.ci95[1], base

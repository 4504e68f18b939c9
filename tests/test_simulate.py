"""simulate: scan vs loop, determinism, streaming, unit scaling, sparse vs dense, recording."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import jaxsnn as snn

DT = 0.1
T = 400


def build(seed=0, *, s=1.0, layout="auto", rate_hz=150.0, propagation=None):
    """A small E/I network with every synapse kind, both resets and a Poisson input.
    `s` multiplies every time constant (and divides the input rate)."""
    opts = {"layout": layout, "propagation": propagation}
    exc = snn.Population(
        "E", 40, snn.LIF(tau_mem_ms=20.0 * s, v_th_mv=1.0, t_ref_ms=2.0 * s), dale="excitatory"
    )
    inh = snn.Population(
        "I",
        10,
        snn.LIF(tau_mem_ms=10.0 * s, t_ref_ms=1.0 * s, reset=snn.ResetBySubtraction()),
        dale="inhibitory",
    )
    inp = snn.PoissonInput("in", 20, rate_hz=rate_hz / s)
    k = jr.split(jr.key(seed), 6)
    fp = snn.FixedProbability
    projs = [
        snn.connect(inp, exc, fp(0.3), snn.Constant(0.5), key=k[0], **opts),
        snn.connect(
            inp, inh, fp(0.3), snn.Constant(0.2), snn.ExpCurrent(5.0 * s), key=k[1], **opts
        ),
        snn.connect(
            exc, exc, fp(0.2), snn.Constant(0.1), snn.ExpCurrent(3.0 * s), key=k[2], **opts
        ),
        snn.connect(exc, inh, fp(0.3), snn.Constant(0.3), key=k[3], **opts),
        snn.connect(
            inh,
            exc,
            fp(0.5),
            snn.Constant(0.2),
            snn.ExpConductance(4.0 * s, -2.0),
            key=k[4],
            **opts,
        ),
        snn.connect(inh, inh, fp(0.5), snn.Constant(0.2), key=k[5], **opts),
    ]
    return snn.Network([exc, inh], projs, [inp])


def run(net, key, n_steps=T, dt=DT, state=None, record=snn.Record(spikes=True, voltages=True)):
    state = snn.init_state(net) if state is None else state
    return snn.simulate(net, state, n_steps, dt_ms=dt, key=key, record=record)


def spikes(rec):
    return np.concatenate([np.asarray(rec.spikes[p]) for p in ("E", "I")], axis=1)


@pytest.fixture(scope="module")
def reference_run():
    net = build()
    final, rec = run(net, jr.key(1))
    return net, final, rec


def test_network_is_active(reference_run):
    _, _, rec = reference_run
    s = spikes(rec)
    # Meaningful comparisons need spikes in both populations, not saturation.
    assert 20 < s[:, :40].sum() < 0.3 * s[:, :40].size and s[:, 40:].sum() > 20


def test_scan_equals_python_loop_of_network_step(reference_run):
    net, final, rec = reference_run
    step = eqx.filter_jit(snn.network_step)
    state, out_s, out_v = snn.init_state(net), [], []
    for _ in range(T):
        state, out = step(net, state, {}, dt_ms=DT, key=jr.key(1))
        out_s.append(np.concatenate([out.spikes["E"], out.spikes["I"]]))
        out_v.append(np.asarray(state.v))
    np.testing.assert_array_equal(np.stack(out_s), spikes(rec))
    # Same operations, compiled once inside and once outside a scan: XLA may fuse them
    # differently, so V agrees to float32 rounding (spikes are compared exactly above).
    v = np.concatenate([rec.v["E"], rec.v["I"]], axis=1)
    np.testing.assert_allclose(np.stack(out_v), v, rtol=1e-5, atol=1e-5)
    assert int(state.t) == int(final.t) == T


def test_same_key_same_spikes_different_key_different_spikes(reference_run):
    net, _, rec = reference_run
    _, again = run(net, jr.key(1))
    _, other = run(net, jr.key(2))
    np.testing.assert_array_equal(spikes(again), spikes(rec))
    assert not np.array_equal(spikes(other), spikes(rec))


def test_streaming_windows_equal_one_long_run():
    net = build()
    record = snn.Record(spikes=True)
    _, whole = run(net, jr.key(3), n_steps=1000, record=record)
    state, parts = snn.init_state(net), []
    for _ in range(10):
        state, rec = run(net, jr.key(3), n_steps=100, state=state, record=record)
        parts.append(spikes(rec))
    np.testing.assert_array_equal(np.concatenate(parts), spikes(whole))
    # The public helper does the same.
    state2, recs = snn.run_in_windows(
        net, snn.init_state(net), 10, 100, dt_ms=DT, key=jr.key(3), record=record
    )
    np.testing.assert_array_equal(spikes(snn.concat_recordings(recs)), spikes(whole))
    np.testing.assert_array_equal(state2.v, state.v)
    assert int(state2.t) == 1000


def test_scaling_dt_and_time_constants_by_1024_is_bit_identical(reference_run):
    """dt and every time constant ×1024, rates ÷1024: every ratio the model uses is the
    same float (a power of two scales exactly), so spikes and V are bit-identical."""
    _, _, rec = reference_run
    net = build(s=1024.0)
    _, scaled = run(net, jr.key(1), dt=DT * 1024)
    np.testing.assert_array_equal(spikes(scaled), spikes(rec))
    for p in ("E", "I"):
        np.testing.assert_array_equal(scaled.v[p], rec.v[p])


@pytest.mark.parametrize(
    "propagation",
    [pytest.param(None, marks=pytest.mark.slow), snn.Scatter()],
    ids=["default", "Scatter"],
)  # 8 s each
def test_sparse_equals_dense_in_float64(propagation):
    with jax.enable_x64(True):
        dense = build(layout="dense")
        sparse = build(layout="sparse", propagation=propagation)
        assert all(p.is_sparse for p in sparse.projections)
        assert not any(p.is_sparse for p in dense.projections)
        _, a = run(dense, jr.key(4))
        _, b = run(sparse, jr.key(4))
        np.testing.assert_array_equal(spikes(a), spikes(b))
        # Only the order of summation in the drive differs.
        for p in ("E", "I"):
            np.testing.assert_allclose(a.v[p], b.v[p], rtol=0, atol=1e-12)


def test_sparse_drive_equals_dense_drive_in_float32():
    dense, sparse = build(layout="dense"), build(layout="sparse")
    s = (jr.uniform(jr.key(5), (40,)) < 0.5).astype(jnp.float32)

    @eqx.filter_jit
    def drives_and_weights(net):
        return [(p.drive(s[: p.n_pre]), p.dense_weights()) for p in net.projections]

    for (da, wa), (db, wb) in zip(
        drives_and_weights(dense), drives_and_weights(sparse), strict=True
    ):
        np.testing.assert_array_equal(wa, wb)
        # float32 sums of <= 40 terms of size <= 0.5 in a different order: error ~1e-6.
        np.testing.assert_allclose(da, db, rtol=1e-6, atol=1e-6)


def _drives_for_every_spike_count():
    a, b = snn.Population("a", 200), snn.Population("b", 30)
    rule, init = snn.FixedProbability(0.2), snn.Normal(0.0, 1.0)
    dense = snn.connect(a, b, rule, init, key=jr.key(0), layout="dense")
    sparse = snn.connect(a, b, rule, init, key=jr.key(0), layout="sparse")
    counts = [0, 1, 7, 8, 9, 31, 32, 33, 50, 51, 63, 64, 65, 120, 200]
    rows = np.zeros((len(counts), 200))
    rng = np.random.default_rng(1)
    for r, c in enumerate(counts):
        rows[r, rng.choice(200, c, replace=False)] = 1.0
    rows = jnp.asarray(rows, dense.weights.dtype)
    want = np.asarray(rows, np.float64) @ np.asarray(dense.weights, np.float64)
    one_by_one = eqx.filter_jit(lambda p, x: jax.lax.map(p.drive, x))
    batched = eqx.filter_jit(lambda p, x: jax.vmap(p.drive)(x))
    return want, [f(p, rows) for p in (dense, sparse) for f in (one_by_one, batched)]


def test_sparse_drive_equals_dense_for_every_number_of_presynaptic_spikes():
    """Spike counts per step from 0 to all 200 neurons, across every event-list size of the
    default sparse propagation and its full-product fallback, one trial at a time
    (lax.map) and batched (vmap): drives equal the product with the dense matrix."""
    want, got = _drives_for_every_spike_count()
    for g in got:
        # float32 sums of <= 200 terms ~N(0, 1) in another order: error ~1e-5.
        np.testing.assert_allclose(g, want, rtol=0, atol=1e-4)


@pytest.mark.slow  # 11 s; the float32 variant runs by default
def test_sparse_drive_equals_dense_for_every_number_of_presynaptic_spikes_float64():
    with jax.enable_x64(True):
        want, got = _drives_for_every_spike_count()
    for g in got:
        np.testing.assert_allclose(g, want, rtol=0, atol=1e-12)  # summation order only


def test_record_every_rates_counts_and_voltage_indices(reference_run):
    net, final, rec = reference_run
    every = 20
    record = snn.Record(spikes="E", voltages={"I": [0, 3]}, rates=True, counts=True, every=every)
    final2, agg = run(net, jr.key(1), record=record)
    s = np.asarray(rec.spikes["E"])
    np.testing.assert_array_equal(agg.spikes["E"], s.reshape(T // every, every, -1).sum(1))
    np.testing.assert_array_equal(agg.v["I"], np.asarray(rec.v["I"])[every - 1 :: every][:, [0, 3]])
    window_s = every * DT / 1000
    np.testing.assert_allclose(
        agg.rates_hz["E"],
        s.reshape(T // every, every, -1).sum(1).mean(1) / window_s,
        rtol=1e-5,  # float32 mean and scaling
    )
    np.testing.assert_array_equal(agg.counts["I"], np.asarray(rec.spikes["I"]).sum(0))
    assert agg.updates is None and agg.weights_mean == {}
    np.testing.assert_array_equal(final2.v, final.v)


def test_recurrent_spikes_arrive_one_step_later_input_spikes_the_same_step():
    """in -> A (delta, suprathreshold) -> B (delta, suprathreshold): an input spike at
    step t makes A fire at step t and B at step t + 1."""
    lif = snn.LIF(tau_mem_ms=10.0, v_th_mv=1.0)
    a, b = snn.Population("A", 1, lif), snn.Population("B", 1, lif)
    inp = snn.SpikeInput("in", 1)
    one = (snn.OneToOne(), snn.Constant(2.0))
    net = snn.Network(
        [a, b],
        [snn.connect(inp, a, *one, key=jr.key(0)), snn.connect(a, b, *one, key=jr.key(1))],
        [inp],
    )
    data = jnp.zeros((10, 1)).at[4, 0].set(1.0)
    _, rec = snn.simulate(
        net,
        snn.init_state(net),
        10,
        dt_ms=DT,
        inputs={"in": data},
        record=snn.Record(spikes=True),
    )
    assert np.nonzero(np.asarray(rec.spikes["A"][:, 0]))[0].tolist() == [4]
    assert np.nonzero(np.asarray(rec.spikes["B"][:, 0]))[0].tolist() == [5]


def test_populations_of_one_model_update_together_constant_or_per_neuron():
    """Consecutive populations of one model form one block of state, updated by one call:
    with equal constant parameters the model is shared as is; with parameters that differ
    (or are arrays) they become per-neuron arrays. Both paths give the same spikes, and
    potentials within a few float32 ulps (the two compiled kernels may evaluate exp in
    vector lanes or in the scalar tail: 1-ulp differences measured)."""

    def net_with(tau_i):
        base = build(3)
        lif = snn.LIF(tau_mem_ms=20.0, v_th_mv=1.0, t_ref_ms=2.0)
        pops = [
            eqx.tree_at(lambda p: p.neuron, base.populations[0], lif),
            eqx.tree_at(
                lambda p: p.neuron,
                base.populations[1],
                eqx.tree_at(lambda n: n.tau_mem_ms, lif, tau_i),
            ),
        ]
        return snn.Network(pops, base.projections, base.inputs)

    shared, per_neuron = net_with(20.0), net_with(jnp.full((10,), 20.0))
    assert shared.groups == per_neuron.groups == [[0, 1]]
    assert len(snn.init_state(shared).neurons) == 1
    _, rec_m = run(shared, jr.key(4))
    _, rec_a = run(per_neuron, jr.key(4))
    assert spikes(rec_m).sum() > 0
    for name in ("E", "I"):
        np.testing.assert_array_equal(rec_m.spikes[name], rec_a.spikes[name])
        np.testing.assert_allclose(rec_m.v[name], rec_a.v[name], rtol=1e-6, atol=1e-6)
    # a different model starts a new block, and a population's state is found by name
    alif = snn.Population("I", 10, snn.AdaptiveLIF(beta_mv=0.0), dale="inhibitory")
    mixed = snn.Network([shared.populations[0], alif], shared.projections, shared.inputs)
    assert mixed.groups == [[0], [1]]
    state = snn.init_state(mixed)
    assert mixed.neuron_state(state, "I").a.shape == (10,)
    np.testing.assert_array_equal(mixed.neuron_state(state, "E").v, state.v[:40])


@pytest.mark.slow  # 21 s; tests/test_numpy_reference.py checks the same semantics by default
def test_same_spikes_as_the_engine_before_it_opened():
    """The W1 and W2 reference networks give the spikes the closed LIF engine gave (commit
    4178ad7, tests/data/make_references_4178ad7.py); potentials agree to float32 rounding
    (XLA may fuse the same arithmetic differently: 2 ulps measured)."""
    import pathlib

    from jaxsnn.models import build_decision_1k, build_ei_coba, ei_coba_state

    ref = np.load(pathlib.Path(__file__).parent / "data" / "reference_networks_4178ad7.npz")
    net = build_decision_1k(jr.key(0))
    _, rec = snn.simulate(
        net, snn.init_state(net), 1000, dt_ms=0.1, key=jr.key(1), inputs={"in": 100.0},
        record=snn.Record(spikes=True, every=10),
    )  # fmt: skip
    np.testing.assert_array_equal(rec.spikes["E"], ref["w1_E"])
    np.testing.assert_array_equal(rec.spikes["I"], ref["w1_I"])
    net = build_ei_coba(jr.key(0), 4000)
    record = snn.Record(spikes=True, every=10, voltages={"E": [0, 1, 2]})
    _, rec = snn.simulate(net, ei_coba_state(net, jr.key(1)), 1000, dt_ms=0.1, record=record)
    np.testing.assert_array_equal(rec.spikes["E"], ref["w2_E"][:100])  # the first 100 ms
    np.testing.assert_array_equal(rec.spikes["I"], ref["w2_I"][:100])
    np.testing.assert_allclose(rec.v["E"], ref["w2_v"][:100], rtol=0, atol=5e-5)

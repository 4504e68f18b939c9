"""Plasticity inside `simulate`: against the results of the former `plastic_simulate`, the
plain simulation, an accumulated-vs-online check, a loop over trials, and dense vs sparse
storage."""

import pathlib

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import jaxsnn as snn
from jaxsnn.plasticity import STDP, Hebbian, Multiplicative, NearestSpike, Plasticity

DT = 0.1
STEPS = 200


def small_network(layout="dense", rate_hz=80.0):
    """20 Poisson inputs -> 30 excitatory LIF with recurrent connections."""
    keys = jr.split(jr.key(0), 2)
    neuron = snn.LIF(tau_mem_ms=10.0, v_th_mv=1.0, t_ref_ms=1.0)
    pop = snn.Population("E", 30, neuron, dale="excitatory")
    inp = snn.PoissonInput("in", 20, rate_hz=rate_hz)
    proj_in = snn.connect(
        inp, pop, snn.FixedProbability(0.3), snn.Uniform(0.2, 0.6), key=keys[0], layout=layout
    )
    proj_rec = snn.connect(
        pop, pop, snn.FixedProbability(0.2), snn.Uniform(0.0, 0.2), key=keys[1], layout=layout
    )
    return snn.Network([pop], [proj_in, proj_rec], [inp])


def make_rules(eta=1.0, a_plus=(0.01, 0.005), a_minus=(0.012, 0.006), w_max=(1.0, 0.5), clip=True):
    """STDP on both projections; numbers are arrays so that every variant shares one
    compiled scan (Python floats would be static and recompile)."""

    def f(x):
        return jnp.asarray(x, jnp.float32)

    return {
        ("in", "E"): STDP(
            a_plus=f(a_plus[0]), a_minus=f(a_minus[0]), w_max=f(w_max[0]), eta=f(eta), clip=clip
        ),
        ("E", "E"): STDP(
            a_plus=f(a_plus[1]), a_minus=f(a_minus[1]), w_max=f(w_max[1]), eta=f(eta), clip=clip
        ),
    }


RULES = make_rules()
REC = snn.Record(spikes=True)


def run(net, plasticity, key, steps=STEPS, record=REC, state=None):
    """simulate with plasticity; returns (final state, the updates by rule, recording)."""
    state = snn.init_state(net) if state is None else state
    final, rec = snn.simulate(
        net, state, steps, dt_ms=DT, key=key, record=record, plasticity=plasticity
    )
    return final, plasticity.updates_of(net, rec.updates), rec


# ----- the results of the former plastic_simulate ----------------------------------------

REFERENCE = np.load(pathlib.Path(__file__).parent / "data" / "plastic_simulate_4178ad7.npz")


def reference_rules(kind):
    """The rules of tests/data/make_references_4178ad7.py (Python floats, as there)."""
    if kind == "stdp":
        return {
            ("in", "E"): STDP(a_plus=0.01, a_minus=0.012, w_max=1.0),
            ("E", "E"): STDP(a_plus=0.005, a_minus=0.006, w_max=0.5),
        }
    if kind == "nearest":
        rule = STDP(
            a_plus=0.01,
            a_minus=0.012,
            w_max=1.0,
            pairing=NearestSpike(),
            weight_dependence=Multiplicative(),
        )
        return {("in", "E"): rule}
    return {("E", "E"): Hebbian(eta=1e-3, on="traces", normalise=True, decay_per_ms=1e-3)}


@pytest.mark.parametrize("layout", ["dense", "sparse"])
@pytest.mark.parametrize("kind", ["stdp", "nearest", "hebbian"])
@pytest.mark.parametrize("mode", ["online", "accumulate"])
def test_equals_the_former_plastic_simulate(layout, kind, mode):
    """Same spikes, same updates (float32 tolerance: summation order) as the separate
    plastic simulator the one `simulate` replaced, at commit 4178ad7."""
    net = small_network(layout)
    tag = f"{layout}_{kind}_{mode}"
    _, dws, rec = run(net, Plasticity(reference_rules(kind), mode=mode), jr.key(3), steps=300)
    np.testing.assert_array_equal(np.asarray(rec.spikes["E"]), REFERENCE[f"{tag}_spikes"])
    for i, d in enumerate(dws):
        np.testing.assert_allclose(np.asarray(d), REFERENCE[f"{tag}_dw{i}"], atol=1e-6)


@pytest.mark.parametrize("layout", ["dense", "sparse"])
@pytest.mark.parametrize("mode", ["online", "accumulate"])
def test_shared_batch_weights_equal_the_former_plastic_simulate_batch(layout, mode):
    """`batch_axis` + a named vmap equals plastic_simulate_batch(average=True)."""
    net = small_network(layout)
    plasticity = Plasticity(reference_rules("stdp"), mode=mode, batch_axis="trials")

    def trial(key):
        _, rec = snn.simulate(
            net, snn.init_state(net), 300, dt_ms=DT, key=key, record=REC, plasticity=plasticity
        )
        return rec.spikes["E"], plasticity.updates_of(net, rec.updates)

    spikes, dws = jax.vmap(trial, axis_name="trials")(jr.split(jr.key(5), 3))
    tag = f"{layout}_batch_{mode}"
    np.testing.assert_array_equal(np.asarray(spikes), REFERENCE[f"{tag}_spikes"])
    for i, d in enumerate(dws):
        assert np.allclose(d, d[0])  # one update, shared by the trials
        np.testing.assert_allclose(np.asarray(d[0]), REFERENCE[f"{tag}_dw{i}"], atol=1e-6)


# ----- invariants --------------------------------------------------------------------------


def test_eta_zero_reproduces_simulate_exactly():
    net = small_network()
    state = snn.init_state(net)
    _, ref = snn.simulate(net, state, STEPS, dt_ms=DT, key=jr.key(1), record=REC)
    assert ref.spikes["E"].sum() > 20  # the comparison is not vacuous
    for mode in ("online", "accumulate"):
        _, dws, rec = run(net, Plasticity(make_rules(eta=0.0), mode=mode), jr.key(1))
        assert jnp.array_equal(rec.spikes["E"], ref.spikes["E"])
        assert all(float(jnp.abs(d).max()) == 0.0 for d in dws)
    # and with learning the dynamics do change
    _, _, rec = run(net, Plasticity(make_rules(eta=20.0)), jr.key(1))
    assert not jnp.array_equal(rec.spikes["E"], ref.spikes["E"])


def test_online_and_accumulated_agree_for_tiny_learning_rate():
    net = small_network()
    rules = make_rules(eta=1e-3)
    _, on, rec_on = run(net, Plasticity(rules), jr.key(2))
    _, acc, rec_acc = run(net, Plasticity(rules, mode="accumulate"), jr.key(2))
    # weight changes of ~1e-5 flip no spike, and additive STDP does not depend on w, so the
    # two modes differ only by rounding: online updates pass through w + dw in float32,
    # which rounds each step's update to ulp(w) = 3e-8 (weights < 0.6), a few ulp in all
    # (atol 3e-7, against updates of 1e-5)
    assert jnp.array_equal(rec_on.spikes["E"], rec_acc.spikes["E"])
    for d_on, d_acc in zip(on, acc, strict=True):
        assert float(jnp.abs(d_on).max()) > 0
        np.testing.assert_allclose(np.asarray(d_on), np.asarray(d_acc), rtol=1e-4, atol=3e-7)


def test_updates_are_shaped_like_the_network_and_apply_with_equinox():
    net = small_network()
    _, rec = snn.simulate(
        net, snn.init_state(net), STEPS, dt_ms=DT, key=jr.key(2),
        plasticity=Plasticity({("E", "E"): RULES[("E", "E")]}),
    )  # fmt: skip
    assert rec.updates.projections[0].weights is None  # not plastic
    assert rec.updates.projections[1].weights.shape == net.projections[1].weights.shape
    assert jax.tree.leaves(rec.updates) == [rec.updates.projections[1].weights]
    learned = eqx.apply_updates(net, rec.updates)
    np.testing.assert_array_equal(
        learned.projections[1].weights,
        net.projections[1].weights + rec.updates.projections[1].weights,
    )
    assert learned.projections[0].weights is net.projections[0].weights


def test_a_run_in_two_windows_continues_the_traces():
    """Online: window 2 starts from the network with window 1's updates applied and the
    returned state (traces included), and ends where one long run ends (up to the one
    rounding of w + (sum of the first window's updates))."""
    net = small_network()
    plasticity = Plasticity(make_rules(eta=0.2))
    _, long_dw, long_rec = run(net, plasticity, jr.key(11), steps=2 * STEPS)
    state, rec1 = snn.simulate(
        net, snn.init_state(net), STEPS, dt_ms=DT, key=jr.key(11), record=REC,
        plasticity=plasticity,
    )  # fmt: skip
    assert state.plasticity is not None and int(state.t) == STEPS
    net1 = eqx.apply_updates(net, rec1.updates)
    _, rec2 = snn.simulate(
        net1, state, STEPS, dt_ms=DT, key=jr.key(11), record=REC, plasticity=plasticity
    )
    spikes = jnp.concatenate([rec1.spikes["E"], rec2.spikes["E"]])
    assert jnp.array_equal(spikes, long_rec.spikes["E"])
    both = [
        a + b
        for a, b in zip(
            plasticity.updates_of(net, rec1.updates),
            plasticity.updates_of(net, rec2.updates),
            strict=True,
        )
    ]
    for a, b in zip(both, long_dw, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-6)


def test_only_existing_synapses_change_dense_and_sparse():
    for layout in ("dense", "sparse"):
        net = small_network(layout)
        _, dws, _ = run(net, Plasticity(make_rules(eta=5.0)), jr.key(3))
        for proj, dw in zip(net.projections, dws, strict=True):
            assert float(jnp.abs(dw).max()) > 0
            assert float(jnp.abs(jnp.where(proj.layout.exists(), 0, dw)).max()) == 0.0


def test_sparse_equals_dense():
    results = {}
    for layout in ("dense", "sparse"):
        net = small_network(layout)
        _, rec = snn.simulate(
            net, snn.init_state(net), STEPS, dt_ms=DT, key=jr.key(4), record=REC,
            plasticity=Plasticity(RULES),
        )  # fmt: skip
        learned = eqx.apply_updates(net, rec.updates)
        results[layout] = (rec.spikes["E"], [p.dense_weights() for p in learned.projections])
    assert jnp.array_equal(results["dense"][0], results["sparse"][0])
    for a, b in zip(results["dense"][1], results["sparse"][1], strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-6)  # summation order


def test_weights_stay_in_bounds_online():
    net = small_network()
    rules = make_rules(a_plus=(0.3, 0.3), a_minus=(0.3, 0.3), w_max=(0.7, 0.7))
    _, rec = snn.simulate(
        net, snn.init_state(net), STEPS, dt_ms=DT, key=jr.key(5), record=REC,
        plasticity=Plasticity(rules),
    )  # fmt: skip
    w = eqx.apply_updates(net, rec.updates).projections[0].weights
    assert float(w.min()) >= -1e-7 and float(w.max()) <= 0.7 + 1e-7  # one rounding of w + dw
    assert float(w.max()) == pytest.approx(0.7)  # big amplitudes do reach the bound
    assert rec.weights_mean[("in", "E")].shape == (STEPS,)


def test_vmap_per_trial_equals_a_loop():
    net = small_network()
    keys = jr.split(jr.key(6), 3)
    plasticity = Plasticity(RULES)

    def trial(key):
        _, dws, rec = run(net, plasticity, key)
        return dws, rec.spikes["E"]

    dws_b, spikes_b = jax.vmap(trial)(keys)
    for i in range(3):
        dws, spikes = trial(keys[i])
        assert jnp.array_equal(spikes, spikes_b[i])
        for d_b, d in zip(dws_b, dws, strict=True):
            np.testing.assert_allclose(np.asarray(d_b[i]), np.asarray(d), atol=1e-6)


def test_batch_average_accumulated_is_the_mean_of_trials():
    # without clipping the batch-mean update is exactly the mean of the trials' updates
    # (with clipping it is the clipped mean, not the mean of clipped updates)
    rules = make_rules(clip=False)
    net = small_network()
    keys = jr.split(jr.key(7), 3)
    shared = Plasticity(rules, mode="accumulate", batch_axis="trials")
    each = Plasticity(rules, mode="accumulate")

    def trial(plasticity, key):
        return run(net, plasticity, key)[1]

    avg = jax.vmap(lambda k: trial(shared, k), axis_name="trials")(keys)
    per_trial = jax.vmap(lambda k: trial(each, k))(keys)
    for d_avg, d_each in zip(avg, per_trial, strict=True):
        np.testing.assert_allclose(np.asarray(d_avg[0]), np.asarray(d_each.mean(0)), atol=1e-6)
    # Plasticity.batch_mean of the per-trial updates is that same update
    mean = each.batch_mean(net, each.updates(net, per_trial))
    for a, b in zip(each.updates_of(net, mean), avg, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b[0]), atol=1e-6)


def test_batch_average_online_with_one_trial_equals_single():
    net = small_network()
    key = jr.key(8)
    shared = Plasticity(RULES, batch_axis="trials")
    batched = jax.vmap(lambda k: run(net, shared, k)[1], axis_name="trials")(key[None])
    single = run(net, Plasticity(RULES), key)[1]
    for a, b in zip(batched, single, strict=True):
        np.testing.assert_allclose(np.asarray(a[0]), np.asarray(b), atol=1e-6)


def test_gradients_through_plasticity_only_when_asked():
    # d(sum of final weights)/d(initial input weights): with stop_gradient on the updates
    # the weights pass straight through (gradient exactly 1 on existing synapses); with
    # differentiable=True the updates depend on the weights through the surrogate spikes.
    net = small_network()
    rules = {("in", "E"): Hebbian(eta=0.05, on="traces")}
    mask = net.projections[0].mask

    def total(w0, differentiable):
        n = eqx.tree_at(lambda n: n.projections[0].weights, net, w0)
        plasticity = Plasticity(rules, differentiable=differentiable)
        _, rec = snn.simulate(
            n, snn.init_state(n), 100, dt_ms=DT, key=jr.key(9), plasticity=plasticity
        )
        w = eqx.apply_updates(n, rec.updates).projections[0].weights
        return jnp.sum(jnp.where(mask, w, 0))

    w0 = net.projections[0].weights
    g_stop = jax.grad(total)(w0, False)
    g_flow = jax.grad(total)(w0, True)
    g_named = jax.grad(total)(w0, [("in", "E")])  # the one plastic projection, by name
    assert jnp.array_equal(g_stop, mask.astype(g_stop.dtype))
    assert jnp.array_equal(g_named, g_flow)
    assert bool(jnp.all(jnp.isfinite(g_flow)))
    assert float(jnp.abs(g_flow - g_stop).max()) > 1e-3


def test_bad_arguments():
    net = small_network()
    state = snn.init_state(net)

    def sim(plasticity, **kwargs):
        kwargs.setdefault("key", jr.key(0))
        return snn.simulate(net, state, 10, dt_ms=DT, plasticity=plasticity, **kwargs)

    with pytest.raises(ValueError, match="no projection"):
        sim(Plasticity({("E", "in"): STDP()}))
    with pytest.raises(ValueError, match="mode must be"):
        Plasticity(RULES, mode="batch")
    with pytest.raises(ValueError, match="must be a plasticity rule"):
        Plasticity({0: "stdp"})
    with pytest.raises(ValueError, match="non-empty mapping"):
        Plasticity({})
    with pytest.raises(ValueError, match="given twice"):
        sim(Plasticity({0: STDP(), ("in", "E"): STDP()}))
    with pytest.raises(ValueError, match="random inputs"):
        sim(Plasticity(RULES), key=None)
    with pytest.raises(ValueError, match="must be a Plasticity"):
        sim(RULES)


def test_new_learning_rates_and_keys_do_not_retrace():
    net = small_network()
    state = snn.init_state(net)

    @jax.jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def run_once(eta, key):
        _, rec = snn.simulate(
            net, state, 50, dt_ms=DT, key=key, plasticity=Plasticity(make_rules(eta=eta))
        )
        return rec.updates

    run_once(jnp.float32(1.0), jr.key(0))
    run_once(jnp.float32(0.5), jr.key(1))  # a second trace would raise

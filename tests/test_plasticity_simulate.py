"""plastic_simulate: plasticity inside the dynamics' scan, against the core simulate, an
accumulated-vs-online check, a loop over trials, and dense vs sparse storage."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import jaxsnn as snn
from jaxsnn.plasticity import (
    STDP,
    Hebbian,
    apply_updates,
    plastic_simulate,
    plastic_simulate_batch,
)

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


def test_eta_zero_and_learning_off_reproduce_simulate_exactly():
    net = small_network()
    state = snn.init_state(net)
    record = REC
    _, ref = snn.simulate(net, state, STEPS, dt_ms=DT, key=jr.key(1), record=record)
    assert ref["spikes"]["E"].sum() > 20  # the comparison is not vacuous
    cases = [
        (dict(rules=make_rules(eta=0.0)), "online"),
        (dict(rules=RULES, learning=False), "accumulate"),
    ]
    for kwargs, mode in cases:
        if True:
            _, ps, rec = plastic_simulate(
                net, state, STEPS, dt_ms=DT, key=jr.key(1), record=record, mode=mode, **kwargs
            )
            assert jnp.array_equal(rec["spikes"]["E"], ref["spikes"]["E"])
            assert all(float(jnp.abs(d).max()) == 0.0 for d in ps.dw)
    # and with learning the dynamics do change
    _, ps, rec = plastic_simulate(
        net, state, STEPS, rules=make_rules(eta=20.0), dt_ms=DT, key=jr.key(1), record=record
    )
    assert not jnp.array_equal(rec["spikes"]["E"], ref["spikes"]["E"])


def test_online_and_accumulated_agree_for_tiny_learning_rate():
    net = small_network()
    state = snn.init_state(net)
    rules = make_rules(eta=1e-3)
    _, on, rec_on = plastic_simulate(
        net, state, STEPS, rules=rules, dt_ms=DT, key=jr.key(2), record=REC
    )
    _, acc, rec_acc = plastic_simulate(
        net, state, STEPS, rules=rules, dt_ms=DT, key=jr.key(2), record=REC,
        mode="accumulate",
    )  # fmt: skip
    # weight changes of ~1e-5 flip no spike, and additive STDP does not depend on w, so the
    # two modes differ only by rounding: online updates pass through w + dw in float32,
    # which rounds each step's update to ulp(w) = 3e-8 (weights < 0.6), a few ulp in all
    # (atol 3e-7, against updates of 1e-5)
    assert jnp.array_equal(rec_on["spikes"]["E"], rec_acc["spikes"]["E"])
    for d_on, d_acc in zip(on.dw, acc.dw, strict=True):
        assert float(jnp.abs(d_on).max()) > 0
        np.testing.assert_allclose(np.asarray(d_on), np.asarray(d_acc), rtol=1e-4, atol=3e-7)
    # accumulated mode keeps the weights fixed during the trial; online moves them
    assert jnp.array_equal(acc.weights[0], net.projections[0].weights)
    np.testing.assert_allclose(
        np.asarray(on.weights[0]), np.asarray(net.projections[0].weights + on.dw[0]), atol=1e-7
    )


def test_only_existing_synapses_change_dense_and_sparse():
    for layout in ("dense", "sparse"):
        net = small_network(layout)
        _, ps, _ = plastic_simulate(
            net, snn.init_state(net), STEPS, rules=make_rules(eta=5.0), dt_ms=DT, key=jr.key(3)
        )
        for proj, dw in zip(net.projections, ps.dw, strict=True):
            absent = ~proj.mask if layout == "dense" else proj.targets == proj.n_post
            assert float(jnp.abs(dw).max()) > 0
            assert float(jnp.abs(jnp.where(absent, dw, 0)).max()) == 0.0


def test_sparse_equals_dense():
    results = {}
    for layout in ("dense", "sparse"):
        net = small_network(layout)
        _, ps, rec = plastic_simulate(
            net, snn.init_state(net), STEPS, rules=RULES, dt_ms=DT, key=jr.key(4),
            record=REC,
        )  # fmt: skip
        learned = apply_updates(net, RULES, ps.dw)
        results[layout] = (rec["spikes"]["E"], [p.dense_weights() for p in learned.projections])
    assert jnp.array_equal(results["dense"][0], results["sparse"][0])
    for a, b in zip(results["dense"][1], results["sparse"][1], strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-6)  # summation order


def test_weights_stay_in_bounds_online():
    net = small_network()
    rules = make_rules(a_plus=(0.3, 0.3), a_minus=(0.3, 0.3), w_max=(0.7, 0.7))
    _, ps, rec = plastic_simulate(
        net, snn.init_state(net), STEPS, rules=rules, dt_ms=DT, key=jr.key(5), record=REC
    )
    w = ps.weights[0]
    assert float(w.min()) >= 0 and float(w.max()) <= 0.7
    assert float(w.max()) == pytest.approx(0.7)  # big amplitudes do reach the bound
    assert rec["w_mean"][0].shape == (STEPS,)


def _batch(net, b):
    return jax.vmap(lambda _: snn.init_state(net))(jnp.arange(b))


def test_vmap_per_trial_equals_a_loop():
    net = small_network()
    keys = jr.split(jr.key(6), 3)
    rec = REC
    _, ps_b, rec_b = plastic_simulate_batch(
        net, _batch(net, 3), STEPS, rules=RULES, dt_ms=DT, keys=keys, average=False, record=rec
    )
    for i in range(3):
        _, ps, r = plastic_simulate(
            net, snn.init_state(net), STEPS, rules=RULES, dt_ms=DT, key=keys[i], record=rec
        )
        assert jnp.array_equal(r["spikes"]["E"], rec_b["spikes"]["E"][i])
        for d_b, d in zip(ps_b.dw, ps.dw, strict=True):
            np.testing.assert_allclose(np.asarray(d_b[i]), np.asarray(d), atol=1e-6)


def test_batch_average_accumulated_is_the_mean_of_trials():
    # without clipping the batch-mean update is exactly the mean of the trials' updates
    # (with clipping it is the clipped mean, not the mean of clipped updates)
    rules = make_rules(clip=False)
    net = small_network()
    keys = jr.split(jr.key(7), 3)
    _, ps_avg, _ = plastic_simulate_batch(
        net, _batch(net, 3), STEPS, rules=rules, dt_ms=DT, keys=keys, mode="accumulate"
    )
    _, ps_each, _ = plastic_simulate_batch(
        net, _batch(net, 3), STEPS, rules=rules, dt_ms=DT, keys=keys, mode="accumulate",
        average=False,
    )  # fmt: skip
    for d_avg, d_each in zip(ps_avg.dw, ps_each.dw, strict=True):
        np.testing.assert_allclose(np.asarray(d_avg), np.asarray(d_each.mean(0)), atol=1e-6)
    # the averaged update applied to the network equals apply_updates(average=True)
    a = apply_updates(net, rules, ps_each.dw, average=True)
    b = apply_updates(net, rules, ps_avg.dw)
    for pa, pb in zip(a.projections, b.projections, strict=True):
        np.testing.assert_allclose(np.asarray(pa.weights), np.asarray(pb.weights), atol=1e-6)


def test_batch_average_online_with_one_trial_equals_single():
    net = small_network()
    key = jr.key(8)
    _, ps_b, _ = plastic_simulate_batch(
        net, _batch(net, 1), STEPS, rules=RULES, dt_ms=DT, keys=key[None], average=True
    )
    _, ps, _ = plastic_simulate(net, snn.init_state(net), STEPS, rules=RULES, dt_ms=DT, key=key)
    for a, b in zip(ps_b.weights, ps.weights, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-6)


def test_gradients_through_plasticity_only_when_asked():
    # d(sum of final weights)/d(initial input weights): with stop_gradient on the updates
    # the weights pass straight through (gradient exactly 1 on existing synapses); with
    # differentiable=True the updates depend on the weights through the surrogate spikes.
    net = small_network()
    rules = {("in", "E"): Hebbian(eta=0.05, on="traces")}
    mask = net.projections[0].mask

    def total(w0, differentiable):
        n = apply_updates(net, rules, (w0 - net.projections[0].weights,))
        _, ps, _ = plastic_simulate(
            n, snn.init_state(n), 100, rules=rules, dt_ms=DT, key=jr.key(9),
            differentiable=differentiable,
        )  # fmt: skip
        return jnp.sum(jnp.where(mask, ps.weights[0], 0))

    w0 = net.projections[0].weights
    g_stop = jax.grad(total)(w0, False)
    g_flow = jax.grad(total)(w0, True)
    g_named = jax.grad(total)(w0, (("in", "E"),))  # the one plastic projection, by name
    assert jnp.array_equal(g_stop, mask.astype(g_stop.dtype))
    assert jnp.array_equal(g_named, g_flow)
    assert bool(jnp.all(jnp.isfinite(g_flow)))
    assert float(jnp.abs(g_flow - g_stop).max()) > 1e-3


def test_bad_arguments():
    net = small_network()
    state = snn.init_state(net)
    with pytest.raises(ValueError, match="no projection"):
        plastic_simulate(net, state, 10, rules={("E", "in"): STDP()}, dt_ms=DT, key=jr.key(0))
    with pytest.raises(ValueError, match="mode must be"):
        plastic_simulate(net, state, 10, rules=RULES, dt_ms=DT, key=jr.key(0), mode="batch")
    with pytest.raises(ValueError, match="must be a plasticity rule"):
        plastic_simulate(net, state, 10, rules={0: "stdp"}, dt_ms=DT, key=jr.key(0))
    with pytest.raises(ValueError, match="non-empty mapping"):
        plastic_simulate(net, state, 10, rules={}, dt_ms=DT, key=jr.key(0))
    with pytest.raises(ValueError, match="Poisson inputs"):
        plastic_simulate(net, state, 10, rules=RULES, dt_ms=DT)


def test_plastic_step_in_a_user_scan_equals_plastic_simulate():
    from jaxsnn.plasticity import init_plastic_state, plastic_step

    net = small_network()
    state = snn.init_state(net)
    key = jr.key(10)

    @jax.jit
    def user_scan(state):
        def body(carry, _):
            st, ps = carry
            st, ps, _ = plastic_step(net, RULES, st, ps, {}, dt_ms=DT, key=key)
            return (st, ps), st.spikes

        (_, ps), spikes = jax.lax.scan(
            body, (state, init_plastic_state(net, RULES)), None, length=STEPS
        )
        return ps, spikes

    ps_user, spikes = user_scan(state)
    _, ps, rec = plastic_simulate(net, state, STEPS, rules=RULES, dt_ms=DT, key=key, record=REC)
    assert jnp.array_equal(spikes, rec["spikes"]["E"])
    for a, b in zip(ps_user.weights, ps.weights, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-7)


def test_new_learning_rates_and_keys_do_not_retrace():
    import equinox as eqx

    net = small_network()
    state = snn.init_state(net)

    @jax.jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def run(eta, key):
        _, ps, _ = plastic_simulate(net, state, 50, rules=make_rules(eta=eta), dt_ms=DT, key=key)
        return ps.dw

    run(jnp.float32(1.0), jr.key(0))
    run(jnp.float32(0.5), jr.key(1))  # a second trace would raise

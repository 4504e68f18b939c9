"""Hybrid learning: STDP on recurrent weights and optax on a readout in one jitted step."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
import pytest

import jaxsnn as snn
from jaxsnn.hybrid import HybridModel, hybrid_logits, hybrid_train_step, readout_filter
from jaxsnn.plasticity import STDP, Plasticity

B, T, DT = 8, 150, 0.1
RULES = {("H", "H"): STDP(a_plus=0.005, a_minus=0.006, w_max=0.5)}
PLASTICITY = Plasticity(RULES)


def make_model():
    k = jr.split(jr.key(0), 3)
    hid = snn.Population("H", 40, snn.LIF(tau_mem_ms=10.0, t_ref_ms=1.0), dale="excitatory")
    inp = snn.PoissonInput("in", 20, rate_hz=0.0)
    net = snn.Network(
        [hid],
        [
            snn.connect(inp, hid, snn.FixedProbability(0.5), snn.Uniform(0.2, 0.6), key=k[0]),
            snn.connect(hid, hid, snn.FixedProbability(0.2), snn.Uniform(0.0, 0.2), key=k[1]),
        ],
        [inp],
    )
    return HybridModel.build(net, 0.1 * jr.normal(k[2], (40, 2)), "H")


def batch(step):
    """Two classes: channels 0-9 fast and 10-19 slow, or the reverse."""
    key = jr.fold_in(jr.key(1), step)
    labels = jr.bernoulli(key, 0.5, (B,)).astype(jnp.int32)
    first = jnp.arange(20) < 10
    rates = jnp.where((labels[:, None] == 1) == first[None, :], 80.0, 10.0)
    return {"in": rates}, labels, jr.split(key, B)  # per-trial constant rates


def test_stdp_and_optax_in_one_step_learn():
    model = make_model()
    opt = optax.adam(1e-2)
    opt_state = opt.init(eqx.filter(model, readout_filter(model)))
    w_rec0 = model.network.projections[1].weights
    readout0 = model.readout_weights
    losses = []
    for step in range(20):
        inputs, labels, keys = batch(step)
        model, opt_state, loss, _ = hybrid_train_step(
            model,
            opt_state,
            inputs,
            labels,
            keys,
            optimizer=opt,
            plasticity=PLASTICITY,
            n_steps=T,
            dt_ms=DT,
        )
        losses.append(float(loss))
    # the readout trained by optax, the recurrent weights moved by STDP (only existing
    # synapses), the input weights untouched
    assert float(jnp.abs(model.readout_weights - readout0).max()) > 1e-2
    w_rec = model.network.projections[1].weights
    mask = model.network.projections[1].mask
    assert float(jnp.abs(w_rec - w_rec0).max()) > 1e-3
    assert bool(jnp.all(w_rec[~mask] == 0))
    assert float(w_rec.min()) >= 0 and float(w_rec.max()) <= 0.5
    assert jnp.array_equal(
        model.network.projections[0].weights, make_model().network.projections[0].weights
    )
    # learning: on a fixed held-out batch of 32 trials (one batch's training loss is too
    # noisy at B = 8 to compare), cross-entropy falls below the untrained network's.
    before, after = held_out_loss(make_model()), held_out_loss(model)
    assert after < 0.95 * before, (before, after)  # measured 0.748 -> 0.662 (key 99)


def held_out_loss(model):
    key = jr.key(99)
    labels = jnp.arange(32) % 2
    first = jnp.arange(20) < 10
    rates = jnp.where((labels[:, None] == 1) == first[None, :], 80.0, 10.0)
    inputs = {"in": rates}

    def one(inp, k):
        logits, _ = hybrid_logits(model, None, inp, k, n_steps=T, dt_ms=DT)
        return logits

    logits = jax.vmap(one)({"in": inputs["in"]}, jr.split(key, 32))
    return float(optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean())


def test_gradient_flows_through_plasticity_only_when_asked():
    model = make_model()
    inputs, labels, keys = batch(0)
    inp = {"in": inputs["in"][0]}

    def loss(w_in, differentiable):
        net = model.network
        net = eqx.tree_at(lambda n: n.projections[0].weights, net, w_in)
        m = eqx.tree_at(lambda m: m.network, model, net)
        rules = {("H", "H"): STDP(a_plus=0.05, a_minus=0.05, w_max=0.5)}
        plasticity = Plasticity(rules, differentiable=differentiable)
        logits, _ = hybrid_logits(m, plasticity, inp, keys[0], n_steps=T, dt_ms=DT)
        return jnp.sum(logits)

    w_in = model.network.projections[0].weights
    g_stop = jax.grad(loss)(w_in, False)
    g_flow = jax.grad(loss)(w_in, True)
    assert bool(jnp.all(jnp.isfinite(g_flow))) and bool(jnp.all(jnp.isfinite(g_stop)))
    assert float(jnp.abs(g_stop).max()) > 0
    # the extra path through the STDP traces changes the gradient
    assert float(jnp.abs(g_flow - g_stop).max()) > 1e-4 * float(jnp.abs(g_stop).max())


def test_learning_off_leaves_weights_and_bad_readout_shape():
    model = make_model()
    inputs, _, keys = batch(0)
    _, updates = hybrid_logits(model, None, {"in": inputs["in"][0]}, keys[0], n_steps=T, dt_ms=DT)
    assert updates is None
    _, updates = hybrid_logits(
        model, PLASTICITY, {"in": inputs["in"][0]}, keys[0], n_steps=T, dt_ms=DT
    )
    assert float(jnp.abs(updates.projections[1].weights).max()) > 0
    with pytest.raises(ValueError, match="readout_weights must have shape"):
        HybridModel.build(make_model().network, jnp.zeros((3, 2)), "H")


def test_readout_is_a_leaky_integrator_of_the_hidden_spikes():
    """The readout population follows y(t) = y(t−1)·exp(−dt/τ) + s(t−1)·W exactly (NumPy
    recursion on the recorded hidden spikes, float64)."""
    with jax.enable_x64(True):
        k = jr.split(jr.key(0), 3)
        hid = snn.Population("H", 12, snn.LIF(tau_mem_ms=10.0, t_ref_ms=1.0))
        inp = snn.PoissonInput("in", 5, rate_hz=300.0)
        net = snn.Network(
            [hid], [snn.connect(inp, hid, snn.AllToAll(), snn.Uniform(0.2, 0.6), key=k[0])], [inp]
        )
        w = jr.normal(k[1], (12, 3), jnp.float64)
        model = HybridModel.build(net, w, "H", readout_tau_ms=15.0)
        _, rec = snn.simulate(
            model.network, snn.init_state(model.network), 200, dt_ms=DT, key=k[2],
            record=snn.Record(spikes="H", voltages="readout"),
        )  # fmt: skip
    s, y = np.asarray(rec.spikes["H"]), np.asarray(rec.v["readout"])
    assert s.sum() > 20
    want, prev = np.zeros(3), np.zeros(12)
    decay = np.exp(-DT / 15.0)
    for t in range(200):
        want = want * decay + prev @ np.asarray(w)
        prev = s[t]
        np.testing.assert_allclose(y[t], want, rtol=1e-12, atol=1e-12)

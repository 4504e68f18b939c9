"""The decision model: structure (sizes, Dale's law, sparsity), the decision rule, the
scan against `simulate`, vmap against single trials, and bad input."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from jaxsnn.decision import build_decision_model

SMALL = dict(n_exc=40, n_inh=10, n_out=8, n_in=6, window_ms=3.0)


def test_default_structure_is_the_1000_neuron_ei_network():
    model = build_decision_model(jr.key(0))
    net = model.network
    assert net.n_neurons == 1000 and model.n_out == 100 and model.n_in == 100
    assert [p.n for p in net.populations] == [700, 100, 200]
    assert [p.dale for p in net.populations] == ["excitatory", "excitatory", "inhibitory"]
    assert model.n_steps == 1000 and model.dt_ms == 0.1 and model.threshold_hz == 50.0
    recurrent = [p for p in net.projections if p.pre != "in"]
    assert len(recurrent) == 9
    n_syn = sum(p.n_synapses for p in recurrent)
    # Binomial(999 000, 0.1) synapses: mean 99 900, sd 300; 5 sd bounds.
    assert abs(n_syn - 99_900) < 1500
    for p in recurrent:
        w = np.asarray(p.weights)
        assert np.all(w[~np.asarray(p.mask)] == 0)
        if p.pre == "I":
            assert p.sign == -1 and np.all(w <= 0)
        else:
            assert p.sign == 1 and np.all(w >= 0)
        if p.pre == p.post:
            assert not np.any(np.diag(np.asarray(p.mask)))  # no self-connections
    # inputs reach E and I only, never the output population directly
    assert sorted(p.post for p in net.projections if p.pre == "in") == ["E", "I"]


def test_logit_rate_and_decision_agree_with_a_simulate_raster():
    model = build_decision_model(jr.key(1), **SMALL, w_in=1.5, w_mean=0.8, g_inh=1.0)
    rates = jnp.linspace(50.0, 400.0, model.n_in)
    key = jr.key(2)
    raster = model.raster(rates, key)
    count = float(np.asarray(raster["out"]).sum())
    assert count > 0  # the check below is not vacuous
    # the counting run and the recording run of simulate give the same spikes (same key)
    assert float(model.output_count(rates, key)) == count
    rate = count * 1000.0 / (model.n_out * model.window_ms)
    np.testing.assert_allclose(model.output_rate_hz(rates, key), rate, rtol=1e-6)
    logit = float(model.logit(rates, key))
    np.testing.assert_allclose(logit, (rate - 50.0) / 10.0, rtol=1e-5, atol=1e-5)
    assert bool(model.decide(rates, key)) == (logit > 0) == (rate > 50.0)


def test_silent_input_gives_no_output_and_answer_zero():
    model = build_decision_model(jr.key(3), **SMALL)
    zeros = jnp.zeros((model.n_in,))
    assert float(model.output_count(zeros, jr.key(0))) == 0.0
    assert not bool(model.decide(zeros, jr.key(0)))


def test_vmap_equals_stack_of_single_trials():
    model = build_decision_model(jr.key(4), **SMALL, w_in=1.5)
    rates = jnp.stack([jnp.full((model.n_in,), r) for r in (0.0, 100.0, 300.0)])
    keys = jr.split(jr.key(5), 3)
    batched = eqx.filter_jit(lambda m, r, k: jax.vmap(m.output_count)(r, k))(model, rates, keys)
    single = eqx.filter_jit(lambda m, r, k: m.output_count(r, k))
    for i in range(3):
        # spike counts are integers: exact equality
        assert float(batched[i]) == float(single(model, rates[i], keys[i]))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_out=40), "n_out"),
        (dict(window_ms=0.25), "window_ms"),
        (dict(n_in=0), "n_in"),
        (dict(logit_scale_hz=0.0), "logit_scale_hz"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_decision_model(jr.key(0), **(SMALL | kwargs))


def test_rates_of_the_wrong_shape_are_rejected():
    model = build_decision_model(jr.key(0), **SMALL)
    with pytest.raises(ValueError, match=r"rates_hz must have shape \(6,\)"):
        model.logit(jnp.zeros((2, 6)), jr.key(0))

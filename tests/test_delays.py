"""Synaptic delays under JAX transforms and across windows (exactness against the NumPy
reference is in test_numpy_reference.py)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import jaxsnn as snn

DT = 0.1


def delayed_network(layout="sparse", per_synapse=True):
    """Poisson input -> E -> E/I -> E with a uniform delay (1.5 ms, Brunel's D) on the
    recurrent projections and per-synapse delays (0.1-2 ms) on the input projection."""
    k = jr.split(jr.key(0), 5)
    lif = snn.LIF(tau_mem_ms=20.0, v_th_mv=1.0, t_ref_ms=2.0)
    exc = snn.Population("E", 80, lif, dale="excitatory")
    inh = snn.Population("I", 20, lif, dale="inhibitory")
    inp = snn.PoissonInput("in", 40, rate_hz=200.0)
    fp = snn.FixedProbability
    in_delay = snn.Uniform(0.1, 2.0) if per_synapse else 0.7
    projs = [
        snn.connect(inp, exc, fp(0.3), snn.Constant(0.4), key=k[0], layout=layout, delay_ms=in_delay),
        snn.connect(exc, exc, fp(0.2), snn.AbsNormal(0.1, 0.05), key=k[1], layout=layout, delay_ms=1.5),
        snn.connect(exc, inh, fp(0.3), snn.AbsNormal(0.2, 0.05), key=k[2], layout=layout, delay_ms=1.5),
        snn.connect(inh, exc, fp(0.3), snn.AbsNormal(0.2, 0.05), key=k[3], layout=layout, scale=3.0),
    ]  # fmt: skip
    return snn.Network([exc, inh], projs, [inp])


def run(net, key, steps=500, state=None, record=snn.Record(spikes=True)):
    state = snn.init_state(net, dt_ms=DT) if state is None else state
    return snn.simulate(net, state, steps, dt_ms=DT, key=key, record=record)


def spikes(rec):
    return np.concatenate([np.asarray(rec.spikes["E"]), np.asarray(rec.spikes["I"])], axis=1)


def test_delays_are_rounded_to_whole_steps_and_shared_per_source():
    net = delayed_network()
    state = snn.init_state(net, dt_ms=DT)
    # one ring per (source, delay): E->E and E->I share "E+15"; the input's per-synapse
    # delays have a buffer of future drive sized from the largest delay (2 ms = 20 steps)
    assert set(state.delays) == {"E+15", "in->E per-synapse"}
    assert state.delays["E+15"].shape == (15, 80)
    steps = net.projections[0].delay_steps(DT)
    assert state.delays["in->E per-synapse"].shape == (int(steps.max()) + 1, 80)
    assert 1 <= int(steps[net.projections[0].layout.exists()].min())
    assert net.projections[1].delay_steps(DT) == 15 and net.projections[3].delay_steps(DT) == 0


@pytest.mark.parametrize(
    "per_synapse", [pytest.param(True, marks=pytest.mark.slow), False]
)  # 10 s each
def test_windows_continue_the_spikes_in_flight(per_synapse):
    net = delayed_network(per_synapse=per_synapse)
    _, whole = run(net, jr.key(1), 600)
    state, parts = snn.init_state(net, dt_ms=DT), []
    for _ in range(6):  # windows of 10 ms, shorter than nothing in flight: buffers carry it
        state, rec = run(net, jr.key(1), 100, state=state)
        parts.append(spikes(rec))
    assert spikes(whole).sum() > 50
    np.testing.assert_array_equal(np.concatenate(parts), spikes(whole))


@pytest.mark.parametrize(
    "layout", [pytest.param("sparse", marks=pytest.mark.slow), "dense"]
)  # 11 s
def test_vmap_over_trials_equals_a_loop(layout):
    net = delayed_network(layout)
    keys = jr.split(jr.key(2), 3)
    batched = jax.jit(jax.vmap(lambda k: spikes_of(net, k)))(keys)
    for b in range(3):
        np.testing.assert_array_equal(batched[b], spikes_of(net, keys[b]))


def spikes_of(net, key):
    _, rec = run(net, key, 300)
    return jnp.concatenate([rec.spikes["E"], rec.spikes["I"]], axis=1)


@pytest.mark.slow  # 12 s; gradients through spikes: test_transforms, test_decision_train
def test_gradients_flow_through_delayed_spikes():
    """d(mean V before the first recurrent spike arrives)/d(input weights) against central
    differences in float64: a smooth quantity, so the check is exact up to rounding; and a
    spike-count loss has finite surrogate gradients through the delay buffers."""
    with jax.enable_x64(True):
        net = delayed_network("dense")
        data_key = jr.key(3)

        def mean_v(w, steps=40):
            n = eqx.tree_at(lambda n: n.projections[0].weights, net, w)
            _, rec = run(n, data_key, steps, record=snn.Record(voltages="E"))
            return jnp.mean(rec.v["E"])

        w = net.projections[0].weights
        i, j = np.argwhere(np.asarray(net.projections[0].layout.exists()))[0]
        g = jax.grad(mean_v)(w)
        e = jnp.zeros_like(w).at[i, j].set(1e-6)
        fd = (mean_v(w + e) - mean_v(w - e)) / 2e-6
        assert float(g[i, j]) == pytest.approx(float(fd), rel=1e-6)

        def count(w):
            n = eqx.tree_at(lambda n: n.projections[1].weights, net, w)
            _, rec = run(n, data_key, 300, record=snn.Record(counts=True))
            return jnp.sum(rec.counts["E"])

        g = jax.grad(count)(net.projections[1].weights)
        assert bool(jnp.all(jnp.isfinite(g))) and float(jnp.abs(g).max()) > 0

"""JAX transforms through a whole simulation: vmap, grad, jvp, jacfwd, jit without retracing."""

import contextlib
from functools import partial

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from jax import monitoring
from test_simulate import DT, T, build, run, spikes

import jaxsnn as snn


def _trial(key, v0, rate_hz, s, layout="auto"):
    """One trial of the test_simulate network; every argument but layout may be traced."""
    net = build(s=s, rate_hz=rate_hz, layout=layout)
    return run(net, key, state=snn.init_state(net, v0_mv=v0))


@pytest.mark.parametrize(
    "layout", ["auto", pytest.param("sparse", marks=pytest.mark.slow)]
)  # 8 s each
def test_vmap_over_keys_states_and_parameters_equals_stack_of_single_trials(layout):
    """Batch axes: key, initial V (N,), input rate (an array field of PoissonInput) and a
    factor on every time constant (array fields of LIF and the synapses). "sparse" runs
    the default sparse propagation, which has its own batching rule."""
    keys = jr.split(jr.key(7), 3)
    v0 = jnp.stack([jnp.zeros(50), jnp.full(50, 0.5), jnp.linspace(0.0, 0.9, 50)])
    rates = jnp.asarray([100.0, 150.0, 200.0])
    scales = jnp.asarray([1.0, 0.75, 1.5])
    batched_final, batched = jax.vmap(partial(_trial, layout=layout))(keys, v0, rates, scales)
    for b in range(3):
        final, single = _trial(keys[b], v0[b], rates[b], scales[b], layout)
        got = jax.tree.map(lambda x, b=b: x[b], batched)
        np.testing.assert_array_equal(spikes(got), spikes(single))
        # Batched matrix products may sum in another order: V to float32 rounding.
        for p in ("E", "I"):
            np.testing.assert_allclose(got.v[p], single.v[p], rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(
            batched_final.neurons[0].refractory[b], final.neurons[0].refractory
        )
    assert len({spikes(jax.tree.map(lambda x, b=b: x[b], batched)).sum() for b in range(3)}) == 3


def _input_net():
    pop = snn.Population("A", 6, snn.LIF(tau_mem_ms=10.0, v_th_mv=1.0, t_ref_ms=1.0))
    inp = snn.SpikeInput("in", 4)
    proj = snn.connect(
        inp, pop, snn.AllToAll(), snn.Uniform(0.1, 0.6), snn.ExpCurrent(2.0), key=jr.key(0)
    )
    return snn.Network([pop], [proj], [inp, snn.CurrentInput("c", "A", 6)])


def test_vmap_over_input_data_equals_stack_of_single_trials():
    net = _input_net()
    data = (jr.uniform(jr.key(1), (3, 300, 4)) < 0.1).astype(jnp.float32)
    current = jr.uniform(jr.key(2), (3, 300, 1), minval=0.0, maxval=2.0)

    def trial(d, c):
        return snn.simulate(
            net,
            snn.init_state(net),
            300,
            dt_ms=DT,
            inputs={"in": d, "c": c},
            record=snn.Record(spikes="A"),
        )[1].spikes["A"]

    batched = jax.vmap(trial)(data, current)
    for b in range(3):
        np.testing.assert_array_equal(batched[b], trial(data[b], current[b]))
    assert batched.sum() > 0


# ----- gradients -----------------------------------------------------------------------


def _grad_net(w, amplitude, tau, *, v_th=1.0, layout="auto"):
    """Input -> A with COBA and current synapses, recurrent delta; arguments traced."""
    lif = snn.LIF(tau_mem_ms=tau, v_th_mv=v_th, t_ref_ms=0.5, surrogate=snn.FastSigmoid(5.0))
    pop = snn.Population("A", 3, lif)
    inp = snn.SpikeInput("in", 4)
    dtype = jnp.result_type(float)
    cond = snn.connect(
        inp,
        pop,
        snn.AllToAll(),
        snn.Constant(1.0),
        snn.ExpConductance(2.0, 5.0),
        key=jr.key(0),
        dtype=dtype,
    ).with_weights(w)
    cur = snn.connect(
        inp,
        pop,
        snn.AllToAll(),
        snn.Constant(0.3),
        snn.ExpCurrent(3.0),
        key=jr.key(1),
        dtype=dtype,
    )
    rec = snn.connect(
        pop, pop, snn.AllToAll(), snn.Constant(0.2), key=jr.key(2), dtype=dtype, layout=layout
    )
    return snn.Network([pop], [cond, cur, rec], [inp, snn.CurrentInput("c", "A", 3, amplitude)])


def _data(dtype):
    return (jr.uniform(jr.key(3), (200, 4)) < 0.15).astype(dtype)


def _final_v(w, amplitude, tau, data, layout="auto"):
    net = _grad_net(w, amplitude, tau, v_th=1e9, layout=layout)
    final, _ = snn.simulate(net, snn.init_state(net), 200, dt_ms=DT, inputs={"in": data})
    return final.v.sum()


def _loss(w, amplitude, tau, data, layout="auto"):
    """Final V plus spike count (a surrogate-gradient quantity); the count as aux."""
    net = _grad_net(w, amplitude, tau, layout=layout)
    final, rec = snn.simulate(
        net,
        snn.init_state(net),
        200,
        dt_ms=DT,
        inputs={"in": data},
        record=snn.Record(counts=True),
    )
    count = rec.counts["A"].sum()
    return final.v.sum() + count, count


def test_grad_of_smooth_subthreshold_quantity_matches_central_differences():
    """float64, threshold unreachable: V(T) is a smooth function of the COBA weights, the
    injected current and tau_mem. Central differences with h = 1e-5 have truncation error
    ~h²·f''' and rounding error ~1e-16/h, both < 1e-9 relative here. Sparse storage (its
    own propagation and derivative rule) gives the same gradient."""
    with jax.enable_x64(True):
        data = _data(jnp.float64)
        w = jr.uniform(jr.key(4), (4, 3), jnp.float64, 0.05, 0.3)
        amp, tau = jnp.asarray([0.5, 1.0, 2.0]), jnp.asarray([8.0, 10.0, 12.0])
        grads = jax.grad(_final_v, argnums=(0, 1, 2))(w, amp, tau, data)
        sparse = jax.grad(_final_v, argnums=(0, 1, 2))(w, amp, tau, data, "sparse")
        h = 1e-5
        for i, x in enumerate((w, amp, tau)):
            fd = np.zeros(x.shape)
            for idx in np.ndindex(x.shape):
                args = [w, amp, tau]
                args[i] = x.at[idx].add(h)
                up = _final_v(*args, data)
                args[i] = x.at[idx].add(-h)
                fd[idx] = (up - _final_v(*args, data)) / (2 * h)
            assert np.all(np.abs(fd) > 1e-6)
            np.testing.assert_allclose(grads[i], fd, rtol=1e-6, atol=1e-10)
            np.testing.assert_allclose(sparse[i], grads[i], rtol=1e-10, atol=1e-13)


def test_grad_jvp_jacfwd_through_spiking_simulation_agree():
    """With spikes (threshold 1): reverse and forward mode give the same surrogate
    derivative of final V plus spike counts, and so do dense and sparse storage."""
    data = _data(jnp.float32)
    w = jr.uniform(jr.key(5), (4, 3), jnp.float32, 0.05, 0.3)
    amp, tau = jnp.asarray([1.2, 1.5, 2.0]), jnp.asarray([8.0, 10.0, 12.0])
    (_, count), (gw, ga) = jax.value_and_grad(_loss, argnums=(0, 1), has_aux=True)(
        w, amp, tau, data
    )
    assert float(count) > 5  # spikes happen, so the surrogate path is exercised
    assert np.all(np.isfinite(gw)) and np.any(gw != 0) and np.any(ga != 0)
    tw, ta = jr.normal(jr.key(6), w.shape), jnp.asarray([1.0, -1.0, 0.5])
    _, tangent = jax.jvp(lambda w_, a_: _loss(w_, a_, tau, data)[0], (w, amp), (tw, ta))
    expected = float(jnp.sum(gw * tw) + jnp.sum(ga * ta))
    # float32 over 200 steps; forward and reverse accumulate in different orders.
    assert float(tangent) == pytest.approx(expected, rel=1e-4, abs=1e-4)
    jac, _ = jax.jacfwd(_loss, argnums=1, has_aux=True)(w, amp, tau, data)
    np.testing.assert_allclose(jac, ga, rtol=1e-4, atol=1e-5)
    (_, count_s), (gw_s, ga_s) = jax.value_and_grad(_loss, argnums=(0, 1), has_aux=True)(
        w, amp, tau, data, "sparse"
    )
    assert count_s == count
    np.testing.assert_allclose(gw_s, gw, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ga_s, ga, rtol=1e-4, atol=1e-5)


def test_vmap_of_grad_equals_stacked_grads():
    data = _data(jnp.float32)
    w = jr.uniform(jr.key(5), (4, 3), jnp.float32, 0.05, 0.3)
    tau = jnp.asarray([8.0, 10.0, 12.0])
    amps = jnp.asarray([[1.0, 1.2, 1.4], [1.5, 1.5, 1.5], [2.0, 0.5, 1.0]])
    grad_w = jax.grad(lambda *a: _loss(*a)[0])
    batched = jax.vmap(grad_w, in_axes=(None, 0, None, None))(w, amps, tau, data)
    for b in range(3):
        np.testing.assert_allclose(batched[b], grad_w(w, amps[b], tau, data), rtol=1e-5, atol=1e-6)


# ----- no retracing -------------------------------------------------------------------


@contextlib.contextmanager
def _count_traces():
    events = []

    def listener(name, _duration, **_):
        if name == "/jax/core/compile/jaxpr_trace_duration":
            events.append(name)

    monitoring.register_event_duration_secs_listener(listener)
    try:
        yield events
    finally:
        monitoring.unregister_event_duration_listener(listener)


def test_repeated_simulate_with_new_arrays_does_not_retrace():
    rates = [jnp.asarray(r) for r in (100.0, 150.0, 200.0)]
    keys = [jr.key(i) for i in range(3)]
    nets = [build(rate_hz=r) for r in rates]
    states = [snn.init_state(nets[0], v0_mv=jnp.full(50, x)) for x in (0.0, 0.2, 0.4)]
    jax.block_until_ready(run(nets[0], keys[0], state=states[0]))  # compiled at most here
    with _count_traces() as traces:
        for net, key, state in zip(nets, keys, states, strict=True):
            jax.block_until_ready(run(net, key, state=state))
    assert traces == []
    # Control: a new static configuration (another n_steps) does trace.
    with _count_traces() as traces:
        run(nets[0], keys[0], n_steps=T // 2, record=snn.Record(counts=True))
    assert traces

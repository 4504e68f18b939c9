"""Monitors: state probes, spike event lists (capacity, overflow), progress and run reports.

The references are independent records of the same run: the dense (time, neuron) spike
record, the `voltages` record, and a hand-written loop of `network_step`.
"""

import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import jaxsnn as snn
import jaxsnn.progress as progress_lib
from jaxsnn.events import SpikeEvents, concat_events, from_dense

DT = 0.1


def network():
    k = jr.split(jr.key(0), 4)
    alif = snn.AdaptiveLIF(tau_mem_ms=10.0, v_th_mv=1.0, tau_adapt_ms=50.0, beta_mv=0.2)
    exc = snn.Population("E", 40, alif, dale="excitatory")
    inh = snn.Population("I", 10, snn.LIF(tau_mem_ms=10.0, v_th_mv=1.0), dale="inhibitory")
    stim = snn.PoissonInput("in", 20, rate_hz=80.0)
    projections = [
        snn.connect(stim, exc, snn.FixedProbability(0.5), snn.Constant(0.3), key=k[0]),
        snn.connect(stim, inh, snn.FixedProbability(0.5), snn.Constant(0.15), key=k[1]),
        snn.connect(
            exc, inh, snn.FixedProbability(0.3), snn.Constant(0.1), key=k[2],
            synapse=snn.ExpCurrent(tau_ms=5.0),
        ),
        snn.connect(inh, exc, snn.FixedProbability(0.3), snn.Constant(0.3), key=k[3]),
    ]  # fmt: skip
    return snn.Network([exc, inh], projections, [stim])


NET = network()


def run(record, n_steps=600, state=None, key=jr.key(1), **kwargs):
    state = snn.init_state(NET) if state is None else state
    return snn.simulate(NET, state, n_steps, dt_ms=DT, key=key, record=record, **kwargs)


def test_events_equal_the_dense_record_at_step_resolution():
    # events are per step even when the dense record is per window of 10 steps
    _, dense = run(snn.Record(spikes=True))
    _, rec = run(snn.Record(spikes=True, every=10, events=True))
    for name in ("E", "I"):
        events = rec.events[name]
        assert int(events.overflow) == 0
        assert int(events.count) == int(dense.spikes[name].sum()) > 0
        np.testing.assert_array_equal(events.to_dense(), dense.spikes[name])
        assert np.all(np.diff(np.asarray(events.steps[: int(events.count)])) >= 0)


def test_overflow_is_counted_and_warned_never_silent():
    _, dense = run(snn.Record(spikes="E"))
    total = int(dense.spikes["E"].sum())
    with pytest.warns(RuntimeWarning, match="did not fit"):
        _, rec = run(snn.Record(events="E", event_capacity=7))
    events = rec.events["E"]
    assert (int(events.count), int(events.overflow)) == (7, total - 7)
    # the stored events are the first 7 spikes
    first = from_dense(dense.spikes["E"])
    np.testing.assert_array_equal(events.steps, first.steps[:7])
    np.testing.assert_array_equal(events.neurons, first.neurons[:7])
    with pytest.raises(ValueError, match="overflowed"):
        events.to_dense(strict=True)


def test_default_capacity_holds_the_run():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, rec = run(snn.Record(events=True))
    assert rec.events["E"].capacity == snn.Record().capacity(40, 600, DT)


def test_events_under_vmap_equal_a_loop():
    keys = jr.split(jr.key(3), 3)
    record = snn.Record(events="E", spikes="E")
    batched = jax.vmap(lambda k: run(record, key=k)[1])(keys)
    for i, k in enumerate(keys):
        _, single = run(record, key=k)
        np.testing.assert_array_equal(batched.events["E"].steps[i], single.events["E"].steps)
        np.testing.assert_array_equal(batched.events["E"].to_dense()[i], single.spikes["E"])


def test_windows_of_events_concatenate_to_one_run():
    record = snn.Record(events=True)
    _, whole = run(record, n_steps=600)
    state, first = run(record, n_steps=300)
    _, second = run(record, n_steps=300, state=state)
    joined = snn.concat_recordings([first, second])
    np.testing.assert_array_equal(joined.events["E"].to_dense(), whole.events["E"].to_dense())
    assert joined.events["E"].to_lists() == whole.events["E"].to_lists()


def test_from_dense_round_trip_lists_and_times():
    x = (np.random.default_rng(0).random((30, 5)) < 0.2).astype(np.float32)
    events = from_dense(x)
    np.testing.assert_array_equal(events.to_dense(), x)
    assert events.to_lists() == [list(np.flatnonzero(x[:, j])) for j in range(5)]
    times = np.asarray(events.times_ms(0.5))
    assert np.isnan(times[int(events.count) :]).all()
    np.testing.assert_allclose(
        times[: int(events.count)], (np.asarray(events.steps[: int(events.count)]) + 1) * 0.5
    )
    halves = concat_events([from_dense(x[:10], 40), from_dense(x[10:], 40)])
    np.testing.assert_array_equal(halves.to_dense(), x)
    with pytest.raises(ValueError, match="capacity"):
        SpikeEvents.empty(0, 10, 3)


def test_probes_equal_voltages_and_a_step_loop():
    record = snn.Record(
        voltages={"E": [0, 5]},
        states=["E.v", snn.Probe("E", "a"), "E->I", snn.Probe("I", "v", [2])],
        every=5,
    )
    state0 = snn.init_state(NET)
    _, rec = run(record, n_steps=100, state=state0)
    np.testing.assert_array_equal(rec.states["E.v"][:, [0, 5]], rec.v["E"])
    assert rec.states["E.a"].shape == (20, 40) and rec.states["E->I"].shape == (20, 10)
    # the same run by hand: network_step for 100 steps, sampled every 5
    state, a, g = state0, [], []
    step = jax.jit(lambda s: snn.network_step(NET, s, {}, dt_ms=DT, key=jr.key(1))[0])
    for t in range(100):
        state = step(state)
        if t % 5 == 4:
            a.append(NET.neuron_state(state, "E").a)
            g.append(state.synapses[2])
    np.testing.assert_allclose(rec.states["E.a"], np.stack(a), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(rec.states["E->I"], np.stack(g), rtol=1e-6, atol=1e-7)
    assert float(jnp.max(rec.states["E.a"])) > 0  # adaptation did something


@pytest.mark.parametrize(
    "states, match",
    [
        (["X.v"], "neither a population"),
        (["E.w"], "no state variable 'w'"),
        ([snn.Probe("I", "v", [10])], r"\[0, 10\)"),
        (["E.v", snn.Probe("E", "v")], "twice"),
    ],
)
def test_bad_probes_are_named(states, match):
    with pytest.raises(ValueError, match=match):
        run(snn.Record(states=states), n_steps=10)


class _Bar:
    made: list = []

    def __init__(self, n_steps, dt_ms, trials=1):
        self.trials = trials
        self.updates, self.closed = [], 0
        _Bar.made.append(self)

    def update(self, done):
        self.updates.append(done)

    def close(self):
        self.closed += 1


def test_progress_reports_chunks_and_changes_nothing(monkeypatch):
    monkeypatch.setattr(progress_lib, "_SimulationBar", _Bar)
    _Bar.made.clear()
    n_steps = 1013  # prime: chunks of 10 steps and a tail of 3
    _, quiet = run(snn.Record(counts=True), n_steps=n_steps)
    _, shown = run(snn.Record(counts=True), n_steps=n_steps, progress=True)
    np.testing.assert_array_equal(quiet.counts["E"], shown.counts["E"])
    (bar,) = _Bar.made
    assert bar.updates == sorted(bar.updates) and bar.updates[-1] == n_steps
    assert 90 <= len(bar.updates) <= 110 and bar.closed == 1
    # under vmap: one bar per call, not one per trial
    _Bar.made.clear()
    jax.vmap(lambda k: run(snn.Record(counts=True), n_steps=n_steps, key=k, progress=True))(
        jr.split(jr.key(2), 4)
    )
    assert len(_Bar.made) == 1 and _Bar.made[0].updates[-1] == n_steps
    assert _Bar.made[0].trials == 4


def test_report_separates_compile_and_run():
    reports = []
    run(snn.Record(), n_steps=777, report=reports.append)
    run(snn.Record(), n_steps=777, report=reports.append)
    first, second = reports
    assert first.n_steps == 777 and first.simulated_ms == pytest.approx(77.7)
    assert first.compile_s > 0 and second.compile_s < 0.1 * first.compile_s
    assert second.real_time_factor == pytest.approx(77.7e-3 / second.run_s)
    assert "real time" in str(second)
    with pytest.raises(ValueError, match="outside jit"):
        jax.jit(lambda s: run(snn.Record(), n_steps=10, state=s, report=True))(snn.init_state(NET))


def test_progress_keeps_gradients():
    def loss(w, progress):
        net = eqx.tree_at(lambda n: n.projections[0].weights, NET, w)
        state = snn.init_state(net)
        _, rec = snn.simulate(
            net, state, 300, dt_ms=DT, key=jr.key(1), record=snn.Record(counts=True),
            progress=progress,
        )  # fmt: skip
        return rec.counts["E"].sum()

    w = NET.projections[0].weights
    np.testing.assert_array_equal(jax.grad(loss)(w, True), jax.grad(loss)(w, False))


def test_python_numbers_as_input_data_do_not_recompile():
    net = snn.Network(
        [snn.Population("P", 5, snn.LIF(tau_mem_ms=10.0, v_th_mv=10.0))],
        [],
        [snn.CurrentInput("drive", "P", 5)],
    )
    state = snn.init_state(net)
    record = snn.Record(voltages=True)
    snn.simulate(net, state, 50, dt_ms=DT, inputs={"drive": 1.5}, record=record)
    with progress_lib.compile_timer() as seconds:
        _, rec = snn.simulate(net, state, 50, dt_ms=DT, inputs={"drive": 2.5}, record=record)
    assert seconds[0] == 0.0
    assert float(rec.v["P"][-1, 0]) > 2.5 * (1 - np.exp(-0.5)) - 1e-3  # the new value is used


def _lif_trace_numpy(v0, current_mv, n_steps, *, tau_ms, v_th, v_reset, dt_ms):
    """Membrane of one LIF under a constant current, in float64: V before and after the
    reset of each step (the exact update of `jaxsnn.neurons.lif`, no refractoriness)."""
    decay = np.exp(-dt_ms / tau_ms)
    v, before, after = v0, [], []
    for _ in range(n_steps):
        v = current_mv + (v - current_mv) * decay
        before.append(v)
        v = v_reset if v > v_th else v
        after.append(v)
    return np.array(before), np.array(after)


@pytest.mark.parametrize("neuron", ["LIF", "AdaptiveLIF"])
def test_voltages_before_reset_show_the_threshold_crossing(neuron):
    # beta_mv=0 makes the adaptive neuron a LIF, so both have the same closed-form trace
    kwargs = dict(tau_mem_ms=10.0, v_th_mv=1.0, v_reset_mv=0.0)
    model = snn.LIF(**kwargs) if neuron == "LIF" else snn.AdaptiveLIF(beta_mv=0.0, **kwargs)
    net = snn.Network([snn.Population("E", 3, model)], [], [snn.CurrentInput("I", "E", 3)])
    current = jnp.asarray([1.5, 2.0, 0.5])  # mV: two neurons fire, one stays below threshold
    runs = {
        flag: snn.simulate(
            net, snn.init_state(net), 400, dt_ms=DT, inputs={"I": current},
            record=snn.Record(voltages="E", spikes="E", voltages_before_reset=flag),
        )[1]
        for flag in (False, True)
    }  # fmt: skip
    spikes = np.asarray(runs[True].spikes["E"])
    np.testing.assert_array_equal(spikes, runs[False].spikes["E"])
    assert spikes[:, 0].sum() >= 3 and spikes[:, 1].sum() >= 3 and spikes[:, 2].sum() == 0
    for i, c in enumerate(np.asarray(current)):
        before, after = _lif_trace_numpy(0.0, float(c), 400, dt_ms=DT, tau_ms=10.0, v_th=1.0,
                                         v_reset=0.0)  # fmt: skip
        # float32 against float64 over 400 steps: differences of a few ulp of 1 mV
        np.testing.assert_allclose(runs[True].v["E"][:, i], before, atol=1e-5)
        np.testing.assert_allclose(runs[False].v["E"][:, i], after, atol=1e-5)
    fired = spikes > 0
    assert np.all(np.asarray(runs[True].v["E"])[fired] > 1.0)  # above threshold when spiking
    assert np.all(np.asarray(runs[False].v["E"])[fired] == 0.0)  # at v_reset otherwise


def test_voltages_before_reset_at_the_end_of_windows_and_in_a_network():
    # every=10 samples the last step of each window; E and I (two models) together
    record = snn.Record(voltages=True, voltages_before_reset=True)
    _, fine = run(record)
    _, coarse = run(snn.Record(voltages=True, voltages_before_reset=True, every=10))
    for name in ("E", "I"):
        np.testing.assert_array_equal(coarse.v[name], fine.v[name][9::10])
    _, spikes = run(snn.Record(spikes=True))
    fired = np.asarray(spikes.spikes["E"]) > 0
    assert fired.sum() > 0
    assert np.all(np.asarray(fine.v["E"])[fired] > 1.0)


def test_voltages_before_reset_need_the_models_step_before_reset():
    class Silent(snn.LIF):
        def step_before_reset(self, state, inp, *, dt_ms):  # a model that does not say
            return snn.neurons.AbstractNeuron.step_before_reset(self, state, inp, dt_ms=dt_ms)

    net = snn.Network([snn.Population("E", 2, Silent())], [], [])
    with pytest.raises(NotImplementedError, match="step_before_reset"):
        snn.simulate(net, snn.init_state(net), 5, dt_ms=DT,
                     record=snn.Record(voltages="E", voltages_before_reset=True))  # fmt: skip
    with pytest.raises(ValueError, match="needs Record.voltages"):
        snn.Record(voltages_before_reset=True)


def test_chunks_give_the_spikes_of_one_run_and_reuse_their_programs(monkeypatch):
    import jaxsnn.simulation as simulation

    traced = []
    checked = simulation._checked_values
    # `_checked_values` runs once per trace of the simulation program: a count of compiles
    monkeypatch.setattr(
        simulation, "_checked_values", lambda *a: (traced.append(1), checked(*a))[1]
    )
    record = snn.Record(spikes=True, voltages={"E": [0, 1]}, counts=True, events=True, every=10)
    for n_steps in (600, 1000, 1240):  # 400 + 200 of 400, 2·400 + 200, 3·400 + 40
        before = len(traced)
        state, chunked = run(record, n_steps=n_steps, chunk_steps=400)
        assert n_steps == 600 or len(traced) == before  # no new program after the first
        whole_state, whole = run(record, n_steps=n_steps)
        for name in ("E", "I"):
            np.testing.assert_array_equal(chunked.spikes[name], whole.spikes[name])
            np.testing.assert_array_equal(chunked.counts[name], whole.counts[name])
            np.testing.assert_array_equal(
                chunked.events[name].to_dense(), whole.events[name].to_dense()
            )
        # the same operations in the same order: equal to the last bit on one machine
        np.testing.assert_array_equal(chunked.v["E"], whole.v["E"])
        np.testing.assert_array_equal(state.v, whole_state.v)
    assert len(traced) == 2 + 3  # whole and shortened chunks; and the three whole runs


def test_chunks_under_vmap_and_with_time_series_inputs():
    net = snn.Network(
        [snn.Population("P", 4, snn.LIF(tau_mem_ms=10.0, v_th_mv=1.0))],
        [],
        [snn.CurrentInput("drive", "P", 4)],
    )
    currents = jr.uniform(jr.key(2), (3, 250, 4), maxval=3.0)  # trials, time, neurons
    record = snn.Record(voltages=True, spikes=True)

    def one(current, chunk_steps):
        return snn.simulate(net, snn.init_state(net), 250, dt_ms=DT, inputs={"drive": current},
                            record=record, chunk_steps=chunk_steps)[1]  # fmt: skip

    chunked = jax.vmap(lambda c: one(c, 100))(currents)
    whole = jax.vmap(lambda c: one(c, None))(currents)
    np.testing.assert_array_equal(chunked.spikes["P"], whole.spikes["P"])
    np.testing.assert_allclose(chunked.v["P"], whole.v["P"], atol=1e-6)
    assert float(whole.spikes["P"].sum()) > 0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(chunk_steps=0), "chunk_steps"),
        (dict(chunk_steps=15), "multiple of Record.every"),
        (dict(chunk_steps=2.5), "chunk_steps"),
    ],
)
def test_bad_chunks_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        run(snn.Record(spikes=True, every=10), n_steps=100, **kwargs)


def test_chunks_refuse_plasticity():
    from jaxsnn.plasticity import STDP, Plasticity

    plasticity = Plasticity({("in", "E"): STDP(a_plus=0.01, a_minus=0.012, w_max=1.0)})
    with pytest.raises(ValueError, match="chunk_steps does not combine with plasticity"):
        run(snn.Record(), n_steps=100, chunk_steps=50, plasticity=plasticity)

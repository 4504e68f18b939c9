"""Real-time streaming: windows continue one run exactly; latencies and budgets reported."""

import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import jaxsnn as snn
from jaxsnn.progress import compile_timer
from jaxsnn.streaming import StreamReport, WindowResult, run_stream, stream

DT = 0.1


def network():
    k = jr.split(jr.key(0), 2)
    exc = snn.Population("E", 30, snn.LIF(tau_mem_ms=10.0, v_th_mv=1.0), dale="excitatory")
    stim = snn.PoissonInput("in", 20, rate_hz=50.0)
    projections = [
        snn.connect(stim, exc, snn.FixedProbability(0.5), snn.Constant(0.3), key=k[0]),
        snn.connect(exc, exc, snn.FixedProbability(0.2), snn.Constant(0.05), key=k[1]),
    ]
    return snn.Network([exc], projections, [stim])


NET = network()
RATES = [20.0, 80.0, 20.0, 80.0, 50.0]


def readout(state, recording):
    return jnp.sum(recording.counts["E"])


def test_windows_continue_one_run_with_the_same_spikes():
    state0 = snn.init_state(NET)
    key = jr.key(3)
    windows = [{"in": jnp.full((20,), r)} for r in RATES]
    state, report = run_stream(
        NET, state0, windows, readout=readout, dt_ms=DT, window_ms=10.0, key=key
    )
    # the same input as one run: rates as a time series, 100 steps per window
    series = jnp.repeat(jnp.asarray(RATES), 100)[:, None]
    whole, rec = snn.simulate(
        NET, state0, 500, dt_ms=DT, key=key, inputs={"in": series},
        record=snn.Record(spikes="E", every=100),
    )  # fmt: skip
    counts = [float(w.output) for w in report.windows]
    np.testing.assert_array_equal(counts, np.asarray(rec.spikes["E"].sum(-1)))
    np.testing.assert_array_equal(state.spikes, whole.spikes)
    assert int(state.t) == 500 and counts[1] > counts[0]


def test_latencies_budgets_and_one_compile():
    windows = [{"in": jnp.full((20,), r)} for r in RATES]

    def readout(state, recording):  # a new function: compiled anew, whatever ran before
        return jnp.max(recording.counts["E"])

    _, report = run_stream(
        NET, snn.init_state(NET), windows, readout=readout, dt_ms=DT, window_ms=10.0, key=jr.key(1)
    )
    assert len(report.windows) == len(RATES) and report.compile_s > 0
    for i, w in enumerate(report.windows):
        assert w.index == i and w.latency_s > 0 and w.budget_s == pytest.approx(0.01)
        assert w.met_budget == (w.latency_s <= 0.01)
    assert report.fraction_met == np.mean([w.met_budget for w in report.windows])
    assert "windows of 10 ms" in str(report)
    # after the warm-up nothing compiles again, whatever the window's data
    with compile_timer() as seconds:
        for _ in stream(NET, snn.init_state(NET), windows, readout=readout, dt_ms=DT,
                        window_ms=10.0, key=jr.key(2)):  # fmt: skip
            pass
    assert seconds[0] == 0.0


def test_report_of_a_late_window():
    late = WindowResult(0, None, latency_s=0.2, budget_s=0.1)
    report = StreamReport((late, WindowResult(1, None, 0.05, 0.1)), compile_s=1.0)
    assert not late.met_budget and report.fraction_met == 0.5
    assert "50 % within budget" in str(report)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"window_ms": 10.05}, "whole number"),
        ({"window_ms": -1.0}, "window_ms"),
        ({"readout": 3}, "readout"),
    ],
)
def test_bad_arguments(kwargs, match):
    args = {"readout": readout, "dt_ms": DT, "window_ms": 10.0, "key": jr.key(0)} | kwargs
    with pytest.raises(ValueError, match=match):
        next(stream(NET, snn.init_state(NET), [{"in": 10.0}], **args))


def test_bad_window_data_is_named():
    with pytest.raises(ValueError, match="in"):
        next(stream(NET, snn.init_state(NET), [{"in": jnp.ones((7, 20))}], readout=readout,
                    dt_ms=DT, window_ms=10.0, key=jr.key(0)))  # fmt: skip

"""jaxsnn against an independent NumPy float64 implementation of the documented model."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from numpy_reference import RefPopulation, RefProjection, simulate_reference

import jaxsnn as snn

N_STEPS = 1000
DT_MS = 0.1
N_E, N_I, N_IN = 40, 12, 20


def _case(seed: int = 7):
    """Populations, dense weight matrices and inputs of a small E/I network (NumPy)."""
    rng = np.random.default_rng(seed)
    pops = [
        RefPopulation("E", N_E, 20.0, -65.0, -50.0, -65.0, 2.0, "value"),
        RefPopulation("I", N_I, 10.0, -65.0, -52.0, -60.0, 1.0, "subtract"),
    ]

    def sparse(shape, p, low, high):
        return np.where(rng.random(shape) < p, rng.uniform(low, high, shape), 0.0)

    projections = [
        RefProjection("in", "E", sparse((N_IN, N_E), 0.3, 0.5, 3.0), "delta"),
        RefProjection("in", "I", sparse((N_IN, N_I), 0.3, 0.5, 2.0), "current", tau_ms=5.0),
        RefProjection("E", "E", sparse((N_E, N_E), 0.2, 0.0, 0.1), "conductance", 5.0, 0.0),
        RefProjection("E", "I", sparse((N_E, N_I), 0.3, 0.5, 2.0), "delta"),
        RefProjection("I", "E", sparse((N_I, N_E), 0.3, 0.0, 0.3), "conductance", 10.0, -80.0),
        RefProjection("I", "I", -sparse((N_I, N_I), 0.3, 0.5, 2.0), "current", tau_ms=3.0),
    ]
    spikes_in = (rng.random((N_STEPS, N_IN)) < 0.05).astype(np.float64)
    t = np.arange(N_STEPS) * DT_MS
    current_e = 12.0 + 6.0 * np.sin(2 * np.pi * t / 25.0)  # (T,), shared by population E
    current_i = rng.uniform(5.0, 12.0, N_I)  # constant per neuron
    return pops, projections, spikes_in, current_e, current_i


def _reference(pops, projections, spikes_in, current_e, current_i):
    currents = {
        "E": np.broadcast_to(current_e[:, None], (N_STEPS, N_E)),
        "I": np.broadcast_to(current_i, (N_STEPS, N_I)),
    }
    return simulate_reference(
        pops,
        projections,
        n_steps=N_STEPS,
        dt_ms=DT_MS,
        spike_inputs={"in": spikes_in},
        currents=currents,
    )


def _jaxsnn_network(pops, projections, current_i, layouts):
    lif = {
        p.name: snn.Population(
            p.name,
            p.n,
            snn.LIF(
                tau_mem_ms=p.tau_mem_ms,
                v_rest_mv=p.v_rest_mv,
                v_th_mv=p.v_th_mv,
                v_reset_mv=p.v_reset_mv,
                t_ref_ms=p.t_ref_ms,
                reset=snn.ResetToValue() if p.reset == "value" else snn.ResetBySubtraction(),
            ),
        )
        for p in pops
    }
    spike_in = snn.SpikeInput("in", N_IN)
    synapse = {
        "delta": lambda pr: snn.Delta(),
        "current": lambda pr: snn.ExpCurrent(pr.tau_ms),
        "conductance": lambda pr: snn.ExpConductance(pr.tau_ms, pr.e_rev_mv),
    }
    projs = [
        snn.connect(
            spike_in if pr.pre == "in" else lif[pr.pre],
            lif[pr.post],
            snn.FromMatrix(pr.weights),
            synapse=synapse[pr.kind](pr),
            key=jr.key(m),
            layout=layout,
        )
        for m, (pr, layout) in enumerate(zip(projections, layouts, strict=True))
    ]
    inputs = [
        spike_in,
        snn.CurrentInput(name="cE", target="E", n=N_E),
        snn.CurrentInput(name="cI", target="I", n=N_I, amplitude_mv=jnp.asarray(current_i)),
    ]
    return snn.Network(list(lif.values()), projs, inputs)


@pytest.mark.parametrize("layout", ["dense", "mixed"])
def test_spikes_identical_to_numpy_reference_for_1000_steps(layout):
    pops, projections, spikes_in, current_e, current_i = _case()
    ref_s, ref_v = _reference(pops, projections, spikes_in, current_e, current_i)
    layouts = ["dense"] * 6 if layout == "dense" else ["sparse", "dense"] * 3
    with jax.enable_x64(True):
        net = _jaxsnn_network(pops, projections, current_i, layouts)
        state = snn.init_state(net)
        _, rec = snn.simulate(
            net,
            state,
            N_STEPS,
            dt_ms=DT_MS,
            inputs={"in": jnp.asarray(spikes_in), "cE": jnp.asarray(current_e)},
            record=snn.Record(spikes=True, voltages=True),
        )
        got_s = np.concatenate([np.asarray(rec["spikes"][p]) for p in ("E", "I")], axis=1)
        got_v = np.concatenate([np.asarray(rec["v"][p]) for p in ("E", "I")], axis=1)
    assert got_s.dtype == np.float64
    # The test only means something if every mechanism is active: both populations fire
    # repeatedly (so refractoriness, both resets and all recurrent synapses act).
    assert ref_s[:, :N_E].sum() > 100 and ref_s[:, N_E:].sum() > 100
    np.testing.assert_array_equal(got_s, ref_s)
    # Same float64 arithmetic up to summation order in the drive: agreement to ~1e-12 mV.
    np.testing.assert_allclose(got_v, ref_v, rtol=0, atol=1e-9)


def test_reference_exercises_refractoriness():
    """Inter-spike intervals of the reference hit the refractory floor: E (2 ms = 20 steps)
    never fires faster than every 21 steps, and some intervals are that short."""
    pops, projections, spikes_in, current_e, current_i = _case()
    ref_s, _ = _reference(pops, projections, spikes_in, current_e, current_i)
    isis_e = np.concatenate([np.diff(np.nonzero(ref_s[:, j])[0]) for j in range(N_E)])
    isis_i = np.concatenate([np.diff(np.nonzero(ref_s[:, N_E + j])[0]) for j in range(N_I)])
    assert isis_e.min() >= 21 and isis_i.min() >= 11
    assert (isis_e <= 25).any() or (isis_i <= 13).any()

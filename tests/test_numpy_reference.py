"""jaxsnn against an independent NumPy float64 implementation of the documented model."""

import equinox as eqx
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


def _neuron(p):
    reset = snn.ResetToValue() if p.reset == "value" else snn.ResetBySubtraction()
    common = dict(
        tau_mem_ms=p.tau_mem_ms,
        v_rest_mv=p.v_rest_mv,
        v_reset_mv=p.v_reset_mv,
        t_ref_ms=p.t_ref_ms,
    )
    if p.kind == "adex":
        return snn.AdEx(
            **common,
            v_t_mv=p.v_t_mv,
            delta_t_mv=p.delta_t_mv,
            v_peak_mv=p.v_peak_mv,
            tau_w_ms=p.tau_w_ms,
            a=p.a,
            b_mv=p.b_mv,
        )
    if p.kind == "alif":
        return snn.AdaptiveLIF(
            **common,
            v_th_mv=p.v_th_mv,
            reset=reset,
            tau_adapt_ms=p.tau_adapt_ms,
            beta_mv=p.beta_mv,
        )
    return snn.LIF(**common, v_th_mv=p.v_th_mv, reset=reset)


SYNAPSE = {
    "delta": lambda pr: snn.Delta(),
    "current": lambda pr: snn.ExpCurrent(pr.tau_ms),
    "conductance": lambda pr: snn.ExpConductance(pr.tau_ms, pr.e_rev_mv),
    "dual": lambda pr: snn.DualExponential(pr.tau_rise_ms, pr.tau_ms),
    "nmda": lambda pr: snn.NMDA(
        pr.tau_rise_ms, pr.tau_ms, pr.alpha_per_ms, snn.MgBlock(pr.e_rev_mv, pr.mg_mm)
    ),
}


def _projection(pr, pre, post, layout, key, propagation=None):
    """jaxsnn's projection of a reference projection, its delays converted to ms (and to
    the ELL slots of sparse storage)."""
    proj = snn.connect(
        pre,
        post,
        snn.FromMatrix(pr.weights),
        synapse=SYNAPSE[pr.kind](pr),
        key=key,
        layout=layout,
        propagation=propagation,
    )
    if pr.delay_steps is None:
        return proj
    if np.ndim(pr.delay_steps) == 0:
        return proj.with_delays(pr.delay_steps * DT_MS)
    d = np.asarray(pr.delay_steps, np.float64) * DT_MS
    if proj.is_sparse:
        targets = np.asarray(proj.targets)
        rows = np.arange(targets.shape[0])[:, None]
        d = np.where(targets < pr.weights.shape[1], d[rows, np.minimum(targets, d.shape[1] - 1)], 0)
    return proj.with_delays(jnp.asarray(d))


def _jaxsnn_network(pops, projections, current_i, layouts, propagation=None, n_in=None):
    lif = {p.name: snn.Population(p.name, p.n, _neuron(p)) for p in pops}
    spike_in = snn.SpikeInput("in", N_IN if n_in is None else n_in)
    projs = [
        _projection(
            pr,
            spike_in if pr.pre == "in" else lif[pr.pre],
            lif[pr.post],
            layout,
            jr.key(m),
            propagation,
        )
        for m, (pr, layout) in enumerate(zip(projections, layouts, strict=True))
    ]
    inputs = [spike_in, snn.CurrentInput(name="cE", target="E", n=lif["E"].n)]
    if current_i is not None:
        inputs.append(
            snn.CurrentInput(name="cI", target="I", n=N_I, amplitude_mv=jnp.asarray(current_i))
        )
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
            inputs={"in": jnp.asarray(spikes_in), "cE": jnp.asarray(current_e)[:, None]},
            record=snn.Record(spikes=True, voltages=True),
        )
        got_s = np.concatenate([np.asarray(rec.spikes[p]) for p in ("E", "I")], axis=1)
        got_v = np.concatenate([np.asarray(rec.v[p]) for p in ("E", "I")], axis=1)
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


# ----- delays, the other neuron and synapse models -------------------------------------


def _zoo(per_synapse_layout):
    """E (LIF), I (adaptive LIF, reset by subtraction), A (AdEx); every synapse model;
    uniform delays on two projections and mixed per-synapse delays (0-7 steps) on two."""
    rng = np.random.default_rng(11)
    pops = [
        RefPopulation("E", N_E, 20.0, -65.0, -50.0, -65.0, 2.0, "value"),
        RefPopulation("I", N_I, 10.0, -65.0, -52.0, -60.0, 1.0, "subtract", "alif", 50.0, 2.0),
        RefPopulation(
            "A",
            8,
            9.37,
            -70.6,
            0.0,
            -70.6,
            0.5,
            kind="adex",
            v_t_mv=-50.4,
            delta_t_mv=2.0,
            v_peak_mv=-40.4,
            tau_w_ms=144.0,
            a=0.133,
            b_mv=2.68,
        ),  # fmt: skip
    ]

    def sparse(shape, p, low, high):
        return np.where(rng.random(shape) < p, rng.uniform(low, high, shape), 0.0)

    mixed = rng.integers(0, 8, (N_IN, N_E))
    mixed_ea = rng.integers(1, 6, (N_E, 8))
    projections = [
        RefProjection("in", "E", sparse((N_IN, N_E), 0.3, 0.5, 3.0), "delta", delay_steps=mixed),
        RefProjection("in", "I", sparse((N_IN, N_I), 0.3, 0.5, 2.0), "dual", 5.0, tau_rise_ms=1.0),
        RefProjection("in", "A", sparse((N_IN, 8), 0.5, 5.0, 15.0), "delta", delay_steps=3),
        RefProjection(
            "E", "E", sparse((N_E, N_E), 0.2, 0.0, 0.1), "nmda", 100.0, 0.0, 2.0, delay_steps=4
        ),
        RefProjection("E", "I", sparse((N_E, N_I), 0.3, 0.5, 2.0), "delta", delay_steps=4),
        RefProjection(
            "E", "A", sparse((N_E, 8), 0.3, 0.5, 3.0), "current", 3.0, delay_steps=mixed_ea
        ),
        RefProjection("I", "E", sparse((N_I, N_E), 0.3, 0.0, 0.3), "conductance", 10.0, -80.0),
        RefProjection("I", "I", -sparse((N_I, N_I), 0.3, 0.5, 2.0), "current", 3.0),
    ]
    layouts = ["dense"] * len(projections)
    layouts[0] = layouts[5] = per_synapse_layout
    spikes_in = (rng.random((N_STEPS, N_IN)) < 0.05).astype(np.float64)
    t = np.arange(N_STEPS) * DT_MS
    current_e = 12.0 + 6.0 * np.sin(2 * np.pi * t / 25.0)
    current_a = np.full(N_STEPS, 12.0)
    return pops, projections, layouts, spikes_in, current_e, current_a


@pytest.mark.parametrize(
    "per_synapse_layout, propagation",
    [
        pytest.param("dense", None, marks=pytest.mark.slow),  # 11 s; both sparse paths by default
        ("sparse", None),
        pytest.param("sparse", snn.Scatter(), marks=pytest.mark.slow),  # 7 s
    ],
    ids=["dense", "sparse-event", "sparse-scatter"],
)
def test_delays_and_every_model_identical_to_numpy_reference(per_synapse_layout, propagation):
    """1000 steps in float64 with delays of 0-7 steps (per synapse, through dense and
    sparse storage, event-driven or scatter), NMDA, dual-exponential, adaptive LIF and
    AdEx: identical spikes, V to summation order."""
    pops, projections, layouts, spikes_in, current_e, current_a = _zoo(per_synapse_layout)
    ref_s, ref_v = simulate_reference(
        pops, projections, n_steps=N_STEPS, dt_ms=DT_MS, spike_inputs={"in": spikes_in},
        currents={"E": np.broadcast_to(current_e[:, None], (N_STEPS, N_E)),
                  "A": np.broadcast_to(current_a[:, None], (N_STEPS, 8))},
    )  # fmt: skip
    with jax.enable_x64(True):
        net = _jaxsnn_network(pops, projections, None, layouts)
        if propagation is not None:
            net = eqx.tree_at(lambda n: n.projections[0].propagation, net, propagation)
        net = eqx.tree_at(
            lambda n: n.inputs, net, (*net.inputs, snn.CurrentInput("cA", "A", 8, 12.0))
        )
        _, rec = snn.simulate(
            net, snn.init_state(net, dt_ms=DT_MS), N_STEPS, dt_ms=DT_MS,
            inputs={"in": jnp.asarray(spikes_in), "cE": jnp.asarray(current_e)[:, None]},
            record=snn.Record(spikes=True, voltages=True),
        )  # fmt: skip
        got_s = np.concatenate([np.asarray(rec.spikes[p.name]) for p in pops], axis=1)
        got_v = np.concatenate([np.asarray(rec.v[p.name]) for p in pops], axis=1)
    counts = [ref_s[:, net.slice(p.name)].sum() for p in pops]
    assert min(counts) > 30, counts  # every population fires repeatedly
    np.testing.assert_array_equal(got_s, ref_s)
    np.testing.assert_allclose(got_v, ref_v, rtol=0, atol=1e-9)


@pytest.mark.parametrize("layout", ["dense", "sparse"])
@pytest.mark.parametrize("delay_steps", [1, 7, 15])
def test_a_single_spike_arrives_exactly_d_steps_later(layout, delay_steps):
    """in -> A (suprathreshold) -> B with delay D: an input spike at step 4 makes A fire at
    step 4 and B at step 4 + 1 + D (the recurrent step plus D); the same through an input
    projection with delay D: A fires at 4 + D."""
    lif = snn.LIF(tau_mem_ms=10.0, v_th_mv=1.0)
    a, b = snn.Population("A", 3, lif), snn.Population("B", 3, lif)
    inp = snn.SpikeInput("in", 3)
    one = (snn.OneToOne(), snn.Constant(2.0))
    d_ms = delay_steps * DT_MS
    data = jnp.zeros((40, 3)).at[4, 1].set(1.0)
    for through_input in (False, True):
        projs = [
            snn.connect(
                inp, a, *one, key=jr.key(0), layout=layout, delay_ms=d_ms if through_input else None
            ),
            snn.connect(
                a, b, *one, key=jr.key(1), layout=layout, delay_ms=None if through_input else d_ms
            ),
        ]
        net = snn.Network([a, b], projs, [inp])
        _, rec = snn.simulate(
            net, snn.init_state(net, dt_ms=DT_MS), 40, dt_ms=DT_MS, inputs={"in": data},
            record=snn.Record(spikes=True),
        )  # fmt: skip
        fire_a = np.argwhere(np.asarray(rec.spikes["A"])).tolist()
        fire_b = np.argwhere(np.asarray(rec.spikes["B"])).tolist()
        t_a = 4 + (delay_steps if through_input else 0)
        assert fire_a == [[t_a, 1]]
        assert fire_b == [[t_a + 1 + (0 if through_input else delay_steps), 1]]

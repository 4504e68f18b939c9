"""Bad input gets a ValueError that names the argument and the value."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import jaxsnn as snn
from jaxsnn.models import build_decision_1k

NAN = float("nan")
RUNTIME_ERRORS = (eqx.EquinoxRuntimeError, jax.errors.JaxRuntimeError)


# ----- construction: time constants, NaN, probabilities -------------------------------


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: snn.LIF(tau_mem_ms=0.0), r"tau_mem_ms must be > 0, got 0\.0"),
        (lambda: snn.LIF(tau_mem_ms=-5.0), r"tau_mem_ms must be > 0, got -5\.0"),
        (lambda: snn.LIF(tau_mem_ms=jnp.array([10.0, -1.0])), r"tau_mem_ms must be > 0.*-1\.0"),
        (lambda: snn.LIF(t_ref_ms=-1.0), r"t_ref_ms must be >= 0, got -1\.0"),
        (lambda: snn.LIF(tau_mem_ms=NAN), r"tau_mem_ms must be finite, got nan"),
        (lambda: snn.LIF(v_th_mv=NAN), r"v_th_mv must be finite, got nan"),
        (lambda: snn.LIF(v_rest_mv=jnp.array([0.0, NAN])), r"v_rest_mv must be finite"),
        (lambda: snn.LIF(v_reset_mv=NAN), r"v_reset_mv must be finite"),
        (lambda: snn.LIF(v_th_mv=1.0, v_reset_mv=1.0), r"v_reset_mv must be below v_th_mv"),
        (lambda: snn.LIF(reset="soft"), r"reset must be .*'soft'"),
        (lambda: snn.ExpCurrent(tau_ms=0.0), r"ExpCurrent\.tau_ms must be > 0, got 0\.0"),
        (lambda: snn.ExpConductance(tau_ms=-2.0), r"ExpConductance\.tau_ms must be > 0, got -2"),
        (lambda: snn.ExpConductance(e_rev_mv=NAN), r"e_rev_mv must be finite"),
        (lambda: snn.FixedProbability(1.5), r"FixedProbability\.p must be a probability .*1\.5"),
        (lambda: snn.FixedProbability(-0.1), r"FixedProbability\.p must be .*-0\.1"),
        (lambda: snn.FixedProbability(NAN), r"FixedProbability\.p must be finite"),
        (lambda: snn.SmallWorld(4, 1.2), r"SmallWorld\.p_rewire must be a probability.*1\.2"),
        (lambda: snn.SmallWorld(3, 0.1), r"SmallWorld\.k must be even, got 3"),
        (lambda: snn.SmallWorld(4, 0.1, direction="up"), r"direction .*'up'"),
        (lambda: snn.FixedInDegree(-1), r"FixedInDegree\.k must be >= 0, got -1"),
        (lambda: snn.FixedInDegree(2.5), r"FixedInDegree\.k must be an integer, got 2\.5"),
        (lambda: snn.PoissonInput("in", 3, rate_hz=-1.0), r"rate_hz must be >= 0, got -1\.0"),
        (lambda: snn.PoissonInput("in", 3, rate_hz=NAN), r"rate_hz must be finite, got nan"),
        (lambda: snn.PoissonInput("in", 3, rate_hz=jnp.ones(4)), r"rate_hz .*\(3,\).*\(4,\)"),
        (lambda: snn.PoissonInput("in", 0), r"n must be >= 1, got 0"),
        (lambda: snn.CurrentInput("c", "A", 3, NAN), r"amplitude_mv must be finite"),
        (lambda: snn.Constant(NAN), r"Constant\.value must be finite, got nan"),
        (lambda: snn.Normal(0.0, -1.0), r"Normal\.std must be >= 0, got -1\.0"),
        (lambda: snn.LogNormal(0.0, 1.0), r"LogNormal\.mean must be > 0, got 0\.0"),
        (lambda: snn.Uniform(1.0, 0.0), r"Uniform\.high must be >= low"),
        (lambda: snn.Population("A", 0), r"n must be >= 1, got 0"),
        (lambda: snn.Population("A", 3, dale="exc"), r"dale must be .*'exc'"),
        (lambda: snn.Record(every=0), r"Record\.every must be >= 1, got 0"),
        (lambda: snn.FromMatrix(np.ones(3)), r"FromMatrix\.matrix must be 2-D.*\(3,\)"),
        (lambda: snn.FromMatrix([[1.0, NAN]]), r"FromMatrix\.matrix must be finite"),
        (lambda: snn.FromPairs([0, 0], [1, 1]), r"duplicate"),
        (lambda: snn.FromPairs([0, 1], [1]), r"FromPairs\.pre and \.post must be 1-D"),
    ],
)
def test_construction_rejects_bad_values(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# ----- connect: shapes, sizes, weights -------------------------------------------------

A, B = snn.Population("A", 4), snn.Population("B", 3)


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        (
            (A, B, snn.FromMatrix(np.ones((3, 4)))),
            {},
            r"must have shape \(n_pre, n_post\) = \(4, 3\), got \(3, 4\)",
        ),
        ((A, B, snn.FromPairs([0, 5], [0, 1])), {}, r"FromPairs\.pre indices must lie in \[0, 4\)"),
        ((A, B, snn.OneToOne()), {}, r"OneToOne needs n_pre == n_post, got 4 and 3"),
        ((A, A, snn.FixedInDegree(4)), {}, r"FixedInDegree\.k must be <= 3 here, got 4"),
        ((A, A, snn.SmallWorld(4, 0.0)), {}, r"SmallWorld\.k must be < n = 4, got 4"),
        ((A, B, snn.AllToAll()), {"scale": NAN}, r"scale must be finite"),
        ((A, B, snn.AllToAll()), {"layout": "csr"}, r"layout must be .*'csr'"),
        ((A, "B", snn.AllToAll()), {}, r"post must be a Population, got str"),
    ],
)
def test_connect_rejects_bad_shapes_and_values(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        snn.connect(*args, key=jr.key(0), **kwargs)


def test_network_rejects_projection_built_for_other_sizes_and_bad_names():
    proj = snn.connect(A, B, snn.AllToAll(), key=jr.key(0))
    bigger = snn.Population("B", 5)
    with pytest.raises(ValueError, match=r"built for sizes \(4, 3\) but the network has \(4, 5\)"):
        snn.Network([A, bigger], [proj])
    with pytest.raises(ValueError, match=r"target 'B' is not a population"):
        snn.Network([A], [proj])
    with pytest.raises(ValueError, match=r"repeated: \['A'\]"):
        snn.Network([A, snn.Population("A", 2)])
    with pytest.raises(ValueError, match=r"CurrentInput 'c' has n=2 but population 'A' has 4"):
        snn.Network([A], [], [snn.CurrentInput("c", "A", 2)])
    with pytest.raises(ValueError, match=r"targets unknown population 'Z'"):
        snn.Network([A], [], [snn.CurrentInput("c", "Z", 4)])


def test_projection_rejects_nan_and_mis_shaped_weights():
    proj = snn.connect(A, B, snn.AllToAll(), key=jr.key(0))
    layout = snn.DenseLayout(4, 3, proj.mask)
    with pytest.raises(ValueError, match=r"weights must be finite"):
        snn.Projection("A", "B", snn.Delta(), jnp.full((4, 3), jnp.nan), layout, snn.Dense())
    with pytest.raises(ValueError, match=r"weights must have shape \(4, 3\), got \(3, 4\)"):
        snn.Projection("A", "B", snn.Delta(), jnp.ones((3, 4)), layout, snn.Dense())
    with pytest.raises(ValueError, match=r"Scatter\(\) propagation needs sparse weights"):
        snn.Projection("A", "B", snn.Delta(), jnp.ones((4, 3)), layout, snn.Scatter())
    with pytest.raises(ValueError, match=r"A->B delay_ms must be >= 0, got -1\.0"):
        snn.Projection("A", "B", snn.Delta(), jnp.ones((4, 3)), layout, snn.Dense(), 0, -1.0)
    with pytest.raises(ValueError, match=r"per-synapse delay_ms must be shaped like the weights"):
        proj.with_delays(jnp.ones((3, 4)))


# ----- simulate: dt, inputs, state -----------------------------------------------------

LIF = snn.LIF(tau_mem_ms=10.0)
POP = snn.Population("P", 4, LIF)
SPK = snn.SpikeInput("s", 2)
POI = snn.PoissonInput("p", 2, rate_hz=100.0)
NET = snn.Network(
    [POP],
    [
        snn.connect(SPK, POP, snn.AllToAll(), key=jr.key(0)),
        snn.connect(
            POI, POP, snn.AllToAll(), snn.Constant(0.1), snn.ExpCurrent(2.0), key=jr.key(1)
        ),
    ],
    [SPK, POI, snn.CurrentInput("c", "P", 4)],
)
STATE = snn.init_state(NET)
GOOD = {"s": jnp.zeros((10, 2))}


def _sim(n_steps=10, dt_ms=0.1, inputs=GOOD, **kwargs):
    kwargs.setdefault("key", jr.key(0))
    return snn.simulate(
        NET, kwargs.pop("state", STATE), n_steps, dt_ms=dt_ms, inputs=inputs, **kwargs
    )


def test_dt_larger_than_a_tenth_of_the_smallest_time_constant():
    # Smallest time constant: the ExpCurrent's 2 ms -> dt <= 0.2 ms.
    with pytest.raises(
        ValueError, match=r"dt_ms=0\.5 is larger than a tenth .*\(2\.0 ms\).*allow_large_dt=True"
    ):
        _sim(dt_ms=0.5)
    _sim(dt_ms=0.2)  # exactly a tenth is allowed
    final, _ = _sim(dt_ms=0.5, allow_large_dt=True)
    assert int(final.t) == 10
    with pytest.raises(ValueError, match=r"dt_ms must be > 0, got 0\.0"):
        _sim(dt_ms=0.0)
    with pytest.raises(ValueError, match=r"dt_ms must be > 0, got -0\.1"):
        _sim(dt_ms=-0.1, allow_large_dt=True)
    with pytest.raises(ValueError, match=r"dt_ms must be a Python float, got ArrayImpl"):
        _sim(dt_ms=jnp.asarray(0.1))


@pytest.mark.parametrize(
    "inputs, match",
    [
        (
            {"s": jnp.zeros((2, 10))},
            r"inputs\['s'\] must have shape \(10, 2\) \(time first\); got \(2, 10\): is time the first axis\?",
        ),
        ({"s": jnp.zeros(2)}, r"got \(2,\): is time the first axis\?"),
        ({"s": jnp.zeros((10, 3))}, r"inputs\['s'\] must have shape \(10, 2\).*got \(10, 3\)$"),
        ({"s": jnp.full((10, 2), 0.5)}, r"inputs\['s'\] must be a binary spike matrix"),
        ({"s": jnp.full((10, 2), 2)}, r"binary spike matrix"),
        ({"s": jnp.zeros((10, 2)).at[3, 1].set(jnp.nan)}, r"inputs\['s'\] must be finite"),
        (
            {"s": jnp.zeros((10, 2)), "c": jnp.zeros((4, 10))},
            r"inputs\['c'\] must have shape \(10, 4\) or \(10, 1\) \(time first\), or \(\) "
            r"or \(4,\) \(constant\); got \(4, 10\): is time the first axis\?",
        ),
        (
            {"s": jnp.zeros((10, 2)), "c": jnp.zeros(10)},
            r"got \(10,\): a time series shared by all channels has shape \(n_steps, 1\)",
        ),
        (
            {"s": jnp.zeros((10, 2)), "c": jnp.full((10, 1), jnp.nan)},
            r"inputs\['c'\] must be finite",
        ),
        ({"s": jnp.zeros((10, 2)), "c": jnp.full((), jnp.nan)}, r"inputs\['c'\] must be finite"),
        (
            {"s": jnp.zeros((10, 2)), "p": jnp.full((10, 2), 20_000.0)},
            r"PoissonInput 'p': rate_hz · dt_ms / 1000 must be a probability.*20000\.0",
        ),
        ({"s": jnp.zeros((10, 2)), "p": jnp.full((10, 1), -1.0)}, r"PoissonInput 'p'.*-1\.0"),
        ({"s": jnp.zeros((10, 2)), "p": jnp.asarray(-1.0)}, r"PoissonInput 'p'.*-1\.0"),
        (
            {"s": jnp.zeros((10, 2)), "c": jnp.zeros(4, jnp.complex64)},
            r"inputs\[.c.\] must be a real number",
        ),
        ({}, r"SpikeInput 's' needs data: inputs=\{'s': spikes\} of shape \(10, 2\)"),
        ({"s": jnp.zeros((10, 2)), "x": jnp.zeros(10)}, r"inputs has unknown name 'x'"),
    ],
)
def test_simulate_rejects_bad_inputs(inputs, match):
    with pytest.raises(ValueError, match=match):
        _sim(inputs=inputs)


def test_poisson_rate_times_dt_above_one():
    net = snn.Network([POP], [], [snn.PoissonInput("p", 2, rate_hz=20_000.0)])
    with pytest.raises(
        ValueError, match=r"PoissonInput 'p'.*\[20000\.0, 20000\.0\] Hz with dt_ms=0\.1"
    ):
        snn.simulate(net, snn.init_state(net), 10, dt_ms=0.1, key=jr.key(0))


def test_simulate_rejects_bad_state_steps_record_and_missing_key():
    other = snn.init_state(snn.Network([snn.Population("Q", 5)]))
    with pytest.raises(ValueError, match=r"state must be a NetworkState for 4 neurons, got \(5,\)"):
        _sim(state=other)
    with pytest.raises(ValueError, match=r"n_steps must be >= 1, got 0"):
        _sim(n_steps=0)
    with pytest.raises(ValueError, match=r"n_steps must be an integer, got 10\.0"):
        _sim(n_steps=10.0)
    with pytest.raises(ValueError, match=r"n_steps=10 must be a multiple of Record\.every=3"):
        _sim(record=snn.Record(spikes=True, every=3))
    with pytest.raises(ValueError, match=r"Record\.voltages indices for 'P' must lie in \[0, 4\)"):
        _sim(record=snn.Record(voltages={"P": [0, 4]}))
    with pytest.raises(ValueError, match=r"Record\.spikes.*'Z'"):
        _sim(record=snn.Record(spikes="Z"))
    with pytest.raises(ValueError, match=r"random inputs \(PoissonInput 'p'\): pass key="):
        _sim(key=None)
    with pytest.raises(
        ValueError, match=r"v0_mv must be a scalar or have shape \(4,\), got \(3,\)"
    ):
        snn.init_state(NET, v0_mv=jnp.zeros(3))
    with pytest.raises(ValueError, match=r"v0_mv must be finite"):
        snn.init_state(NET, v0_mv=jnp.full(4, jnp.nan))


def test_nan_weights_and_potentials_are_rejected_at_run_time_also_under_jit():
    """Weights set after construction (tree_at, optax) and states are checked inside the
    compiled run (`eqx.error_if`), without copying them to the host on every call."""
    net = build_decision_1k(jr.key(0), n_exc=8, n_inh=2, n_in=2)
    w = net.projections[0].weights
    bad = eqx.tree_at(lambda n: n.projections[0].weights, net, w.at[0, 0].set(jnp.nan))
    state = snn.init_state(net)

    def run(n, st):
        return snn.simulate(n, st, 10, dt_ms=0.1, key=jr.key(0), inputs={"in": 10.0})[0].v

    with pytest.raises(eqx.EquinoxRuntimeError, match="E->E weights must be finite"):
        run(bad, state)
    # under jax.jit the message arrives inside XLA's runtime error (eqx.filter_jit keeps
    # Equinox's own)
    with pytest.raises(RUNTIME_ERRORS, match="E->E weights must be finite"):
        jax.jit(run)(bad, state)
    bad_state = eqx.tree_at(lambda s: s.neurons[0].v, state, state.neurons[0].v.at[3].set(jnp.inf))
    with pytest.raises(RUNTIME_ERRORS, match=r"state\.v must be finite"):
        eqx.filter_jit(run)(net, bad_state)
    assert jnp.all(jnp.isfinite(jax.jit(run)(net, state)))


def test_delays_need_dt_and_a_matching_state():
    a, b = snn.Population("A", 4), snn.Population("B", 3)
    proj = snn.connect(a, b, snn.AllToAll(), key=jr.key(0), delay_ms=1.0)
    net = snn.Network([a, b], [proj])
    with pytest.raises(ValueError, match=r"synaptic delays: pass dt_ms to init_state"):
        snn.init_state(net)
    state = snn.init_state(net, dt_ms=0.1)
    with pytest.raises(ValueError, match=r"delay buffers \['A\+10'\] do not match .*\['A\+5'\]"):
        snn.simulate(net, state, 10, dt_ms=0.2)
    per_synapse = snn.connect(a, b, snn.AllToAll(), key=jr.key(0), delay_ms=snn.Uniform(0, 1))
    net = snn.Network([a, b], [per_synapse])
    state = snn.init_state(net, dt_ms=0.1)
    longer = snn.Network([a, b], [per_synapse.with_delays(per_synapse.delay_ms + 1.0)])
    with pytest.raises(ValueError, match=r"does not fit the state's buffer"):
        snn.simulate(longer, state, 10, dt_ms=0.1)
    with pytest.raises(ValueError, match=r"per-synapse delays; plasticity needs one arrival"):
        snn.simulate(net, state, 10, dt_ms=0.1, plasticity=snn.Plasticity({("A", "B"): snn.STDP()}))


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: snn.Population("A", 3, neuron="LIF"), r"neuron model \(an AbstractNeuron\)"),
        (lambda: snn.AdaptiveLIF(beta_mv=-1.0), r"beta_mv must be >= 0, got -1\.0"),
        (lambda: snn.AdaptiveLIF(tau_adapt_ms=0.0), r"tau_adapt_ms must be > 0"),
        (lambda: snn.AdEx(v_peak_mv=-60.0), r"AdEx\.v_peak_mv must be above v_t_mv"),
        (lambda: snn.AdEx(delta_t_mv=0.0), r"AdEx\.delta_t_mv must be > 0"),
        (lambda: snn.LeakyIntegrator(tau_mem_ms=-1.0), r"tau_mem_ms must be > 0"),
        (lambda: snn.DualExponential(5.0, 1.0), r"tau_rise_ms must be < tau_decay_ms"),
        (lambda: snn.DualExponential(1.0, 5.0, output="x"), r"output must be an output"),
        (lambda: snn.NMDA(alpha_per_ms=0.0), r"NMDA\.alpha_per_ms must be > 0"),
        (lambda: snn.MgBlock(mg_mm=-1.0), r"MgBlock\.mg_mm must be >= 0"),
        (lambda: snn.WhiteNoise("n", "A", 3, sigma_mv=-1.0), r"sigma_mv must be >= 0"),
        (lambda: snn.WhiteNoise("n", "A", 3, mean_mv=jnp.ones(2)), r"mean_mv must be a scalar"),
        (lambda: snn.OrnsteinUhlenbeck("o", "A", 3, tau_ms=0.0), r"tau_ms must be > 0"),
        (lambda: snn.PoissonDrive("d", "A", 3, 0), r"n_sources must be >= 1, got 0"),
        (lambda: snn.PoissonDrive("d", "A", 3, 10, rate_hz=-1.0), r"rate_hz must be >= 0"),
        (lambda: snn.PoissonDrive("d", "A", 3, 10, counts="poisson"), r"PoissonCounts\(\)"),
        (lambda: snn.STDP(coincident_weight=2.0), r"coincident_weight must be a probability"),
    ],
)
def test_new_models_reject_bad_values(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_noise_takes_no_data_and_drives_check_their_rates():
    pop = snn.Population("A", 3)
    net = snn.Network(
        [pop],
        [],
        [
            snn.WhiteNoise("n", "A", 3, 1.0),
            snn.PoissonDrive("d", "A", 3, 10, counts=snn.BinomialCounts()),
        ],
    )
    state = snn.init_state(net)
    with pytest.raises(ValueError, match=r"WhiteNoise takes no data"):
        snn.simulate(net, state, 10, dt_ms=0.1, key=jr.key(0), inputs={"n": jnp.ones(3)})
    with pytest.raises(ValueError, match=r"PoissonDrive 'd': rates must be >= 0 .* <= 1\.0"):
        snn.simulate(net, state, 10, dt_ms=0.1, key=jr.key(0), inputs={"d": 20_000.0})
    with pytest.raises(ValueError, match=r"random inputs \(WhiteNoise 'n'\)"):
        snn.simulate(net, state, 10, dt_ms=0.1)


def test_poisson_stream_depends_on_input_name_not_position():

    pop = snn.Population("P", 20, snn.LIF(v_th_mv=1e9))
    a = snn.PoissonInput("a", 20, rate_hz=200.0)
    extra = snn.CurrentInput("c", "P", 20, 0.0)
    proj = snn.connect(a, pop, snn.OneToOne(), snn.Constant(1.0), key=jr.key(0))
    rec = snn.Record(spikes="P", voltages="P")
    runs = [
        snn.simulate(
            snn.Network([pop], [proj], inputs),
            snn.init_state(snn.Network([pop], [proj], inputs)),
            100,
            dt_ms=0.1,
            key=jr.key(3),
            record=rec,
        )[1].v["P"]
        for inputs in ([a], [extra, a])
    ]
    np.testing.assert_array_equal(runs[0], runs[1])


def test_with_weights_rejects_a_different_shape():
    proj = build_decision_1k(jr.key(0), n_exc=8, n_inh=2, n_in=2).projections[0]
    with pytest.raises(ValueError, match=r"E->E: new weights must have shape"):
        proj.with_weights(jnp.zeros((3, 3)))

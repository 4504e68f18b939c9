"""Neuron models beyond LIF: a model written in this file runs in the engine untouched;
adaptive LIF, AdEx and the leaky integrator against closed forms (the NumPy reference of
test_numpy_reference.py checks them in a network)."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from jaxtyping import Array, Float

import jaxsnn as snn

DT = 0.1


# ----- a user's own model: the quadratic integrate-and-fire neuron ----------------------


class QIFState(snn.AbstractNeuronState):
    v: Float[Array, " n"]


class QIF(snn.AbstractNeuron):
    """Quadratic integrate-and-fire, Euler: tau·dV/dt = (V - v_rest)(V - v_crit)/delta + I,
    spike when V > v_peak, then V = v_reset (defined here, not in jaxsnn)."""

    tau_mem_ms: float | Array = 10.0
    v_rest_mv: float | Array = -65.0
    v_crit_mv: float | Array = -50.0
    delta_mv: float | Array = 15.0
    v_peak_mv: float | Array = 0.0
    v_reset_mv: float | Array = -70.0

    def init(self, n, dtype):
        return QIFState(jnp.full((n,), self.v_rest_mv, dtype))

    def step(self, state, inp, *, dt_ms):
        v = state.v
        dv = (v - self.v_rest_mv) * (v - self.v_crit_mv) / self.delta_mv
        if inp.current_mv is not None:
            dv = dv + inp.current_mv
        v = v + dt_ms / self.tau_mem_ms * dv
        if inp.jump_mv is not None:
            v = v + inp.jump_mv
        s = snn.spike(v - self.v_peak_mv, snn.FastSigmoid(1.0))
        v = jnp.where(s > 0, jnp.asarray(self.v_reset_mv, v.dtype), v)
        return QIFState(v.astype(state.v.dtype)), s

    def time_constants_ms(self):
        return (self.tau_mem_ms,)


def _qif_numpy(current, w_in, spikes_in, q=QIF()):
    """The same model in NumPy, float64: V (steps, n) and spikes."""
    n = w_in.shape[1]
    v = np.full(n, q.v_rest_mv)
    vs, ss = [], []
    for t in range(spikes_in.shape[0]):
        dv = (v - q.v_rest_mv) * (v - q.v_crit_mv) / q.delta_mv + current
        v = v + DT / q.tau_mem_ms * dv + spikes_in[t] @ w_in
        s = v > q.v_peak_mv
        v = np.where(s, q.v_reset_mv, v)
        vs.append(v.copy())
        ss.append(s.astype(float))
    return np.stack(vs), np.stack(ss)


def _qif_network(w_in, current):
    pop = snn.Population("Q", w_in.shape[1], QIF())
    inp = snn.SpikeInput("in", w_in.shape[0])
    proj = snn.connect(inp, pop, snn.FromMatrix(w_in), key=jr.key(0), layout="dense")
    return snn.Network([pop], [proj], [inp, snn.CurrentInput("c", "Q", w_in.shape[1], current)])


def test_a_model_defined_outside_the_package_runs_under_simulate_vmap_and_grad():
    rng = np.random.default_rng(0)
    w_in = rng.uniform(0.5, 4.0, (5, 6))
    spikes_in = (rng.random((400, 5)) < 0.05).astype(np.float64)
    with jax.enable_x64(True):
        net = _qif_network(jnp.asarray(w_in), 2.0)

        def run(net, data):
            _, rec = snn.simulate(
                net, snn.init_state(net), 400, dt_ms=DT, inputs={"in": data},
                record=snn.Record(spikes=True, voltages=True),
            )  # fmt: skip
            return rec

        rec = jax.jit(run)(net, jnp.asarray(spikes_in))
        want_v, want_s = _qif_numpy(2.0, w_in, spikes_in)
        assert want_s.sum() > 10
        np.testing.assert_array_equal(rec.spikes["Q"], want_s)
        np.testing.assert_allclose(rec.v["Q"], want_v, rtol=0, atol=1e-9)
        # vmap over trials (input data) equals a loop
        batch = jnp.stack([jnp.asarray(spikes_in), jnp.roll(jnp.asarray(spikes_in), 7, 0)])
        batched = jax.vmap(lambda d: run(net, d).spikes["Q"])(batch)
        for b in range(2):
            np.testing.assert_array_equal(batched[b], run(net, batch[b]).spikes["Q"])

        # grad of a smooth quantity (mean V before any spike) against central differences
        def mean_v(w):
            n = eqx.tree_at(lambda n: n.projections[0].weights, net, w)
            return jnp.mean(run(n, jnp.asarray(spikes_in)).v["Q"][:60])

        w = net.projections[0].weights
        g = jax.grad(mean_v)(w)
        e = jnp.zeros_like(w).at[1, 2].set(1e-6)
        fd = (mean_v(w + e) - mean_v(w - e)) / 2e-6
        assert float(g[1, 2]) == pytest.approx(float(fd), rel=1e-5)


# ----- adaptive LIF ----------------------------------------------------------------------


def _alif_spike_times(mu, beta, tau_a, steps=4000):
    """First passages of the documented discrete update for one neuron under constant
    current mu (mV): reset to 0, no refractory period; exact arithmetic in float64."""
    d, rho = math.exp(-DT / 20.0), math.exp(-DT / tau_a)
    v, a, times = 0.0, 0.0, []
    for t in range(steps):
        a *= rho
        v = mu + (v - mu) * d
        if v - (1.0 + beta * a) > 0:
            times.append(t)
            v, a = 0.0, a + 1.0
    return times


@pytest.mark.parametrize("beta", [0.0, 0.3])
def test_adaptive_lif_spike_times_follow_the_discrete_first_passage(beta):
    """Constant drive: the spike times are those of the documented update (computed in
    plain Python); with beta = 0 the model is the LIF, with beta > 0 the intervals
    lengthen (spike-frequency adaptation) towards a steady state."""
    with jax.enable_x64(True):
        neuron = snn.AdaptiveLIF(tau_mem_ms=20.0, v_th_mv=1.0, tau_adapt_ms=100.0, beta_mv=beta)
        pop = snn.Population("A", 1, neuron)
        net = snn.Network([pop], [], [snn.CurrentInput("c", "A", 1, 1.6)])
        _, rec = snn.simulate(
            net, snn.init_state(net), 4000, dt_ms=DT, record=snn.Record(spikes=True)
        )
    got = np.nonzero(np.asarray(rec.spikes["A"][:, 0]))[0].tolist()
    assert got == _alif_spike_times(1.6, beta, 100.0)
    isi = np.diff(got)
    if beta == 0:
        assert len(set(isi.tolist())) == 1
    else:
        assert isi[-1] > 1.5 * isi[0] and abs(isi[-1] - isi[-2]) <= 1


def test_adaptive_lif_trains_through_its_adaptation():
    """grad through a recurrent ALIF layer (the LSNN setting): finite, nonzero on the
    input weights, and vmap(grad) equals a loop of grads."""
    k = jr.split(jr.key(0), 3)
    pop = snn.Population("H", 20, snn.AdaptiveLIF(tau_mem_ms=10.0, tau_adapt_ms=200.0, beta_mv=0.5))
    inp = snn.SpikeInput("in", 8)
    net = snn.Network(
        [pop],
        [
            snn.connect(inp, pop, snn.AllToAll(), snn.Uniform(0.2, 0.8), key=k[0]),
            snn.connect(pop, pop, snn.FixedProbability(0.3), snn.Normal(0.0, 0.2), key=k[1]),
        ],
        [inp],
    )
    data = (jr.uniform(k[2], (3, 300, 8)) < 0.1).astype(jnp.float32)

    def loss(w, d):
        n = eqx.tree_at(lambda n: n.projections[0].weights, net, w)
        _, rec = snn.simulate(
            n, snn.init_state(n), 300, dt_ms=DT, inputs={"in": d}, record=snn.Record(counts=True)
        )
        return (jnp.sum(rec.counts["H"]) / 20.0 - 5.0) ** 2

    w = net.projections[0].weights
    grads = jax.jit(jax.vmap(jax.grad(loss), in_axes=(None, 0)))(w, data)
    assert bool(jnp.all(jnp.isfinite(grads))) and float(jnp.abs(grads).max()) > 0
    for b in range(3):
        np.testing.assert_allclose(grads[b], jax.grad(loss)(w, data[b]), rtol=1e-5, atol=1e-6)


# ----- AdEx ------------------------------------------------------------------------------


def _adex_rheobase(neuron):
    """Touboul (2008): the current above which the AdEx has no resting state,
    I_rh = (1 + a)·(V_T − E_L + Δ_T·ln(1 + a) − Δ_T) (as R·I, mV)."""
    a = neuron.a
    return (1 + a) * (
        neuron.v_t_mv - neuron.v_rest_mv + neuron.delta_t_mv * math.log(1 + a) - neuron.delta_t_mv
    )


def test_adex_fires_just_above_its_rheobase_and_not_just_below():
    """Brette & Gerstner's regular-spiking cell (the defaults) from its resting state under
    a current at ±3 % of the closed-form rheobase, 2 s (dt 0.05 ms; Euler keeps the fixed
    points). Below: it stays at the stable fixed point of
    I = (1 + a)(V − E_L) − Δ_T·exp((V − V_T)/Δ_T), w = a(V − E_L); above: none is left and
    it fires. (From V = E_L, w = 0 a step just below I_rh still fires once: w lags.)"""
    from scipy.optimize import brentq

    neuron = snn.AdEx()
    i_rh = _adex_rheobase(neuron)
    assert i_rh == pytest.approx(20.910, abs=1e-3)  # R·I: 0.627 nA at g_L = 30 nS
    a, e_l, v_t, d_t = neuron.a, neuron.v_rest_mv, neuron.v_t_mv, neuron.delta_t_mv
    v_star = v_t + d_t * math.log(1 + a)  # where the right-hand side peaks (at I_rh)

    def fixed_point(i_mv):
        return brentq(lambda v: (1 + a) * (v - e_l) - d_t * math.exp((v - v_t) / d_t) - i_mv,
                      e_l - 10.0, v_star)  # fmt: skip

    with jax.enable_x64(True):
        pop = snn.Population("A", 2, neuron)
        net = snn.Network([pop], [], [snn.CurrentInput("c", "A", 2, 0.0)])
        current = np.array([0.97 * i_rh, 1.03 * i_rh])
        v0 = np.array([fixed_point(current[0]), v_star])
        state = snn.init_state(net, v0_mv=jnp.asarray(v0))
        state = eqx.tree_at(lambda s: s.neurons[0].w, state, jnp.asarray(a * (v0 - e_l)))
        _, rec = snn.simulate(
            net, state, 40_000, dt_ms=0.05, inputs={"c": jnp.asarray(current)},
            record=snn.Record(counts=True, voltages="A", every=40_000),
        )  # fmt: skip
    below, above = np.asarray(rec.counts["A"])
    assert below == 0 and above >= 1
    assert float(rec.v["A"][-1, 0]) == pytest.approx(v0[0], abs=1e-6)  # still at rest


def test_adex_adapts_and_from_physical_converts_units():
    """Step current of 0.8 nA into the regular-spiking cell (Naud et al. 2008, Fig. 4A
    pattern "adaptation"): the inter-spike intervals lengthen; from_physical gives the
    defaults from pF, nS and pA."""
    rs = snn.AdEx.from_physical(
        c_pf=281.0, g_l_ns=30.0, e_l_mv=-70.6, v_t_mv=-50.4, delta_t_mv=2.0, v_peak_mv=-40.4,
        v_reset_mv=-70.6, tau_w_ms=144.0, a_ns=4.0, b_pa=80.5,
    )  # fmt: skip
    for field in ("tau_mem_ms", "a", "b_mv", "v_t_mv", "tau_w_ms"):
        assert getattr(rs, field) == pytest.approx(getattr(snn.AdEx(), field))
    pop = snn.Population("A", 1, rs)
    net = snn.Network([pop], [], [snn.CurrentInput("c", "A", 1, 800.0 / 30.0)])
    _, rec = snn.simulate(net, snn.init_state(net), 5000, dt_ms=0.1, record=snn.Record(spikes=True))
    times = np.nonzero(np.asarray(rec.spikes["A"][:, 0]))[0]
    isi = np.diff(times)
    assert times.size >= 5 and isi[-1] > 1.5 * isi[0]


# ----- leaky integrator ------------------------------------------------------------------


def test_leaky_integrator_is_exact_and_never_spikes():
    with jax.enable_x64(True):
        pop = snn.Population("R", 3, snn.LeakyIntegrator(tau_mem_ms=15.0, v_rest_mv=-1.0))
        net = snn.Network([pop], [], [snn.CurrentInput("c", "R", 3, jnp.asarray([0.5, 2.0, 1e6]))])
        _, rec = snn.simulate(
            net, snn.init_state(net), 300, dt_ms=DT, record=snn.Record(voltages="R", counts="R")
        )
    t = (np.arange(300) + 1) * DT
    want = -1.0 + np.array([0.5, 2.0, 1e6]) * (1 - np.exp(-t / 15.0))[:, None]
    np.testing.assert_allclose(rec.v["R"], want, rtol=1e-12, atol=1e-12)  # float64 rounding
    assert np.asarray(rec.counts["R"]).sum() == 0.0

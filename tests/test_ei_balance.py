"""The CUBA E-I network (jaxsnn.models.cuba) and both balanced networks against Brian2.

Default suite: structure, the closed-form firing of a lone neuron and the relaxation to
E_L with the synapses off, one spike's jump of the synaptic current, equality with an
independent NumPy loop, event = scatter propagation, the unit-scaling invariance, a short
run's rate, bad parameters. Against Brian2 without Brian2 (slow, about 5 s of simulated
time per model): tests/data/brian2_ei_balance.npz holds Brian2 2.9's per-neuron spike
counts and CVs of ISI over the first second, and its population rate and mean CV in each
of five 1 s windows, on the exact 4000-neuron COBA and CUBA networks that the stored seeds
regenerate (made by benchmarks/ei_balance_brian2.py, which documents how).
"""

import math
import pathlib

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from scipy import stats

from jaxsnn import Probe, Record, Scatter, init_state, simulate
from jaxsnn.analysis import cv_isi
from jaxsnn.models import build_cuba, build_ei_coba, cuba_state, ei_coba_state
from jaxsnn.synapses import ExpCurrent

DATA = pathlib.Path(__file__).parent / "data" / "brian2_ei_balance.npz"
DT = 0.1
N_REF = 50  # round(5 ms / 0.1 ms)


def _dense(network):
    n = network.n_neurons
    w = np.zeros((n, n), np.float32)
    for proj in network.projections:
        w[network.slice(proj.pre), network.slice(proj.post)] = np.asarray(proj.dense_weights())
    return w


def _counts(rec):
    return np.concatenate([np.asarray(rec.counts["E"]), np.asarray(rec.counts["I"])])


def test_structure_follows_the_definition():
    net = build_cuba(jr.key(0), 1000)
    assert [(p.name, p.n) for p in net.populations] == [("E", 800), ("I", 200)]
    lif = net.populations[0].neuron
    assert (lif.v_rest_mv, lif.v_th_mv, lif.v_reset_mv) == (-49.0, -50.0, -60.0)
    assert (lif.tau_mem_ms, lif.t_ref_ms) == (20.0, 5.0)
    w = _dense(net)
    assert np.all(np.diag(w) == 0)  # no self-connections
    # Brian2's we = 60*0.27/10 mV and wi = -20*4.5/10 mV
    assert set(np.unique(w[:800])) == {0.0, np.float32(60 * 0.27 / 10)}
    assert set(np.unique(w[800:])) == {np.float32(-20 * 4.5 / 10), 0.0}
    # in-degree ~ Binomial(999, 0.02): mean 19.98, sd 4.4 per neuron; 5 sd of the mean
    # over 1000 neurons is 0.7
    assert abs((w != 0).sum(axis=0).mean() - 0.02 * 999) < 0.7
    for proj in net.projections:
        assert isinstance(proj.synapse, ExpCurrent)
        assert proj.synapse.tau_ms == (5.0 if proj.pre == "E" else 10.0)
    assert len(net.inputs) == 0


def test_initial_state_is_uniform_between_reset_and_threshold():
    net = build_cuba(jr.key(0), 4000)
    v = np.asarray(cuba_state(net, jr.key(1)).v)
    assert v.min() >= -60.0 and v.max() <= -50.0
    # U(-60, -50): mean -55 (sd of the mean over 4000: 0.046), sd 10/sqrt(12) = 2.887
    assert abs(v.mean() + 55.0) < 0.23 and abs(v.std() - 10 / math.sqrt(12)) < 0.1
    assert cuba_state(net, jr.key(1), dtype=jnp.float32).v.dtype == jnp.float32


def test_lone_neuron_fires_at_the_closed_form_period():
    """Synapses off: from V_reset the exact update V_k = E_L + (V_r - E_L)·exp(-k·dt/tau)
    first exceeds V_th after k* = floor(tau/dt·ln((E_L - V_r)/(E_L - V_th))) + 1 = 480
    steps, and a spike holds V for 50 steps, so every ISI is 50 + 480 steps = 53.0 ms
    (the continuous-time period is 5 + 20·ln 11 = 52.96 ms)."""
    k_star = math.floor(20.0 / DT * math.log(11.0)) + 1
    period = N_REF + k_star
    net = build_cuba(jr.key(0), 10, w_exc_mv=0.0, w_inh_mv=0.0)
    v0 = jnp.full((10,), -60.0)  # every neuron starts at the reset
    steps = 3 * period + 10
    _, rec = simulate(net, init_state(net, v0_mv=v0), steps, dt_ms=DT, record=Record(spikes=True))
    s = np.concatenate([np.asarray(rec.spikes["E"]), np.asarray(rec.spikes["I"])], axis=1)
    for j in range(10):
        times = np.flatnonzero(s[:, j])
        # the first spike after k* integration steps (step index k* - 1), then every period
        np.testing.assert_array_equal(times, k_star - 1 + period * np.arange(3))
    assert period * DT == pytest.approx(53.0)
    assert 5.0 + 20.0 * math.log(11.0) == pytest.approx(52.958, abs=1e-3)


def test_free_membrane_relaxes_to_rest():
    """Synapses off and the threshold moved above E_L: V relaxes to E_L = -49 mV as
    exp(-t/tau); after 400 ms (20 tau) the gap is 11·e^-20 ~ 2e-8 mV in exact arithmetic.
    In float32 the step's change (V - E_L)·(1 - exp(-dt/tau)) rounds away once it is below
    half an ulp of 49 (1.9e-6 mV), i.e. for |V - E_L| < 1.9e-6 / 0.005 = 3.8e-4 mV: allow
    1e-3 mV."""
    net = build_cuba(jr.key(0), 50, w_exc_mv=0.0, w_inh_mv=0.0, v_th_mv=-40.0)
    state = cuba_state(net, jr.key(1))
    _, rec = simulate(net, state, 4000, dt_ms=DT, record=Record(counts=True, voltages=True))
    assert _counts(rec).sum() == 0
    v = np.concatenate([np.asarray(rec.v["E"]), np.asarray(rec.v["I"])], axis=1)
    np.testing.assert_allclose(v[-1], -49.0, atol=1e-3)
    # after one step: V_1 = E_L + (V_0 - E_L)·exp(-dt/tau) exactly (float32: 1e-5 mV)
    v_1 = -49.0 + (np.asarray(state.v) + 49.0) * math.exp(-DT / 20.0)
    np.testing.assert_allclose(v[0], v_1, atol=2e-5)


def test_a_spike_adds_w_to_the_synaptic_current():
    """Brian2's `ge += we`: E neuron 0 spikes in step 0; in step 1 every other neuron's
    E current is exactly w_e (none on neuron 0: no autapse), then decays by exp(-dt/5)
    per step, and V moves with V_inf = E_L + g_e."""
    net = build_cuba(jr.key(0), 5, p=1.0, w_inh_mv=0.0)  # 4 E + 1 I, all-to-all
    v0 = jnp.asarray([-49.9, -60.0, -60.0, -60.0, -60.0])  # only neuron 0 crosses at once
    record = Record(spikes=True, voltages=True, states=(Probe("E->E"), Probe("E->I")))
    _, rec = simulate(net, init_state(net, v0_mv=v0), 3, dt_ms=DT, record=record)
    assert np.asarray(rec.spikes["E"])[0].tolist() == [1.0, 0.0, 0.0, 0.0]
    w = np.float32(1.62)
    g_ee, g_ei = np.asarray(rec.states["E->E"]), np.asarray(rec.states["E->I"])
    np.testing.assert_array_equal(g_ee[0], 0.0)
    np.testing.assert_array_equal(g_ee[1], [0.0, w, w, w])
    np.testing.assert_array_equal(g_ei[1], [w])
    np.testing.assert_allclose(g_ee[2, 1:], w * math.exp(-DT / 5.0), rtol=1e-6)
    decay = math.exp(-DT / 20.0)
    v1 = -49.0 + (-60.0 + 49.0) * decay  # step 0: no current yet
    v2 = (-49.0 + w) + (v1 - (-49.0 + w)) * decay
    np.testing.assert_allclose(np.asarray(rec.v["E"])[1, 1:], v2, atol=2e-5)


def _numpy_cuba(w, n_exc, v0, steps):
    """An independent float32 NumPy loop of the CUBA equations (module docstring of
    jaxsnn.models.cuba): rows of the spiking neurons summed into dense currents."""
    f32 = np.float32
    d_m, d_e, d_i = (f32(math.exp(-DT / tau)) for tau in (20.0, 5.0, 10.0))
    v = v0.astype(f32)
    ge = np.zeros_like(v)
    gi = np.zeros_like(v)
    ref = np.zeros(v.shape, np.int64)
    spikes = np.zeros(v.shape, bool)
    counts = np.zeros(v.shape, np.int64)
    for _ in range(steps):
        ge = ge * d_e + w[:n_exc][spikes[:n_exc]].sum(axis=0, dtype=f32)
        gi = gi * d_i + w[n_exc:][spikes[n_exc:]].sum(axis=0, dtype=f32)
        v_inf = f32(-49.0) + (ge + gi)
        free = ref == 0
        v_new = np.where(free, v_inf + (v - v_inf) * d_m, v)
        spikes = free & (v_new - f32(-50.0) > 0)
        v = np.where(spikes, f32(-60.0), v_new)
        ref = np.where(spikes, N_REF, np.maximum(ref - 1, 0))
        counts += spikes
    return counts


def test_equals_an_independent_numpy_simulation():
    """Same synapses and V(0). The network is chaotic, so float32 rounding differences
    (summation order of the currents) eventually move a spike: compare over 150 ms and
    allow 1 % of the spike count to differ."""
    n, steps = 400, 1500
    net = build_cuba(jr.key(3), n, p=0.2)  # in-degree 80, as at n = 4000
    state = cuba_state(net, jr.key(4))
    _, rec = simulate(net, state, steps, dt_ms=DT, record=Record(counts=True))
    ref = _numpy_cuba(_dense(net), 320, np.asarray(state.v), steps)
    assert ref.sum() > 300  # the network fires
    assert np.abs(_counts(rec) - ref).sum() <= 0.01 * ref.sum()


def test_event_equals_scatter_propagation():
    net_event = build_cuba(jr.key(5), 400, p=0.2, layout="sparse")
    net_scatter = build_cuba(jr.key(5), 400, p=0.2, layout="sparse", propagation=Scatter())
    state = cuba_state(net_event, jr.key(6))
    a = simulate(net_event, state, 400, dt_ms=DT, record=Record(spikes=True))[1].spikes
    b = simulate(net_scatter, state, 400, dt_ms=DT, record=Record(spikes=True))[1].spikes
    assert float(a["E"].sum()) > 0
    for name in ("E", "I"):
        np.testing.assert_array_equal(np.asarray(a[name]), np.asarray(b[name]))


def test_scaling_time_by_a_power_of_two_changes_nothing():
    """dt and every time constant times 1024: the same spikes bit for bit (no hidden ms)."""
    k = 1024.0
    a = build_cuba(jr.key(7), 300, p=0.25)
    b = build_cuba(
        jr.key(7),
        300,
        p=0.25,
        tau_mem_ms=20.0 * k,
        t_ref_ms=5.0 * k,
        tau_exc_ms=5.0 * k,
        tau_inh_ms=10.0 * k,
    )
    state = cuba_state(a, jr.key(8))
    sa = simulate(a, state, 600, dt_ms=DT, record=Record(spikes=True))[1].spikes
    sb = simulate(b, state, 600, dt_ms=DT * k, record=Record(spikes=True))[1].spikes
    assert float(sa["E"].sum()) > 0
    for name in ("E", "I"):
        np.testing.assert_array_equal(np.asarray(sa[name]), np.asarray(sb[name]))


def test_short_run_rate_is_plausible():
    """1000 neurons with the in-degree of the 4000-neuron network (p = 0.08), 200 ms.
    Each neuron alone would fire at 1000/53 = 18.9 Hz; the recurrent input is inhibitory
    on average (C_E·w_e·tau_e - C_I·|w_i|·tau_i = 64·1.62·5 - 16·9·10 < 0 mV·ms per Hz),
    so the network must fire well below that and above 0; Brian2 gives 5.6 Hz at 4000
    neurons. Accept 3-10 Hz, and for E and I alike (same inputs on average)."""
    net = build_cuba(jr.key(0), 1000, p=0.08)
    _, rec = simulate(net, cuba_state(net, jr.key(1)), 2000, dt_ms=DT, record=Record(counts=True))
    rate_e = float(rec.counts["E"].mean()) / 0.2
    rate_i = float(rec.counts["I"].mean()) / 0.2
    assert 3.0 < rate_e < 10.0 and 3.0 < rate_i < 10.0
    assert abs(rate_e - rate_i) < 0.3 * rate_e


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n": 4}, "n must be"),
        ({"n": 4000.0}, "n must be"),
        ({"n": True}, "n must be"),
        ({"p": -0.1}, "p must be"),
        ({"p": 1.5}, "p must be"),
        ({"p": float("nan")}, "p must be"),
        ({"frac_exc": 1.0}, "frac_exc"),
        ({"frac_exc": 0.0}, "frac_exc"),
        ({"w_exc_mv": float("inf")}, "w_exc_mv must be a finite"),
        ({"w_inh_mv": float("nan")}, "w_inh_mv must be a finite"),
        ({"w_exc_mv": -1.0}, "w_exc_mv must be >= 0"),
        ({"w_inh_mv": 9.0}, "w_inh_mv must be <= 0"),
        ({"v_reset_mv": -45.0}, "v_reset_mv must be below"),
        ({"tau_mem_ms": -20.0}, "tau_mem_ms"),
        ({"tau_exc_ms": 0.0}, "ExpCurrent.tau_ms"),
    ],
)
def test_bad_parameters_raise(kwargs, match):
    kwargs = {"n": 100, **kwargs}
    with pytest.raises(ValueError, match=match):
        build_cuba(jr.key(0), **kwargs)


# ------------------------------------------------------- against Brian2 (stored rates)


def _regenerate(model, ref):
    """The exact network Brian2 simulated (checked by its synapse fingerprint)."""
    import hashlib

    n = int(ref["n"])
    seeds = jr.key(int(ref["net_seed"])), jr.key(int(ref["state_seed"]))
    if model == "coba":
        net = build_ei_coba(seeds[0], n)
        state = ei_coba_state(net, seeds[1])
    else:
        net = build_cuba(seeds[0], n)
        state = cuba_state(net, seeds[1])
    h = hashlib.sha256()
    for pre in ("E", "I"):
        keys = []
        for proj in net.projections:
            if proj.pre != pre:
                continue
            t = np.asarray(proj.targets).astype(np.int64)
            rows = np.broadcast_to(np.arange(proj.n_pre)[:, None], t.shape)
            keep = t < proj.n_post
            keys.append(rows[keep] * n + t[keep] + net.slice(proj.post).start)
        h.update(np.sort(np.concatenate(keys)).tobytes())
    assert h.hexdigest() == str(ref[f"{model}_fingerprint"]), (
        "the seeds no longer give the network Brian2 simulated: regenerate "
        "tests/data/brian2_ei_balance.npz with benchmarks/ei_balance_brian2.py"
    )
    return net, state


def _compare_with_brian2(model):
    """The regenerated network in jaxsnn for the 5 windows of 1 s that Brian2 ran.

    First second, per neuron: population mean rate within 10 %; the per-neuron rate
    distributions: two-sample KS p > 0.01 (measured p ~ 0.75, D ~ 0.015, and D <= 0.026
    between jaxsnn trajectories 0.1 mV apart) and quantiles q10..q90 within 2.5 Hz (rates
    are counts over 1 s, so quantiles move in 1 Hz steps; measured <= 1 Hz, <= 2 Hz between
    jaxsnn trajectories); the same neurons fire fast in both (Pearson r of per-neuron rates
    > 0.7; measured 0.86 COBA, 0.93 CUBA); mean CV of ISI within 10 % (measured -5 % COBA,
    inside the -5..-1.5 % of jaxsnn's own trajectories).

    Windows 2-5 (after the onset), population statistics: each window's rate within 10 %
    of Brian2's, their average within 5 % (one window's rate varies by about 3 % between
    windows and trajectories, so the 4-window average of each tool by about 1.5 %), the
    average of the windows' mean CV within 10 %.
    """
    ref = np.load(DATA)
    net, state = _regenerate(model, ref)
    steps, dt = int(ref["steps"]), float(ref["dt_ms"])
    seconds = steps * dt * 1e-3
    record = Record(counts=True, events=True, event_rate_hz=60.0)
    window = jax.jit(lambda s: simulate(net, s, steps, dt_ms=dt, record=record))
    rates, cvs = [], []
    for _ in range(int(ref["windows"])):
        state, rec = window(state)
        rates.append(_counts(rec) / seconds)
        cvs.append(
            np.concatenate([np.asarray(cv_isi(rec.events[p], dt_ms=dt)) for p in ("E", "I")])
        )
    ours, brian2 = rates[0], ref[f"{model}_counts"].astype(np.float64) / seconds
    assert abs(ours.mean() / brian2.mean() - 1.0) < 0.10
    assert stats.ks_2samp(ours, brian2).pvalue > 0.01
    q = (0.1, 0.25, 0.5, 0.75, 0.9)
    np.testing.assert_allclose(np.quantile(ours, q), np.quantile(brian2, q), atol=2.5)
    assert np.corrcoef(ours, brian2)[0, 1] > 0.7
    assert abs(np.nanmean(cvs[0]) / np.nanmean(ref[f"{model}_cv"]) - 1.0) < 0.10

    ours_w = np.array([r.mean() for r in rates[1:]])
    brian2_w = ref[f"{model}_window_rates_hz"][1:]
    np.testing.assert_allclose(ours_w, brian2_w, rtol=0.10)
    assert abs(ours_w.mean() / brian2_w.mean() - 1.0) < 0.05
    cv_w = np.array([np.nanmean(c) for c in cvs[1:]])
    assert abs(cv_w.mean() / ref[f"{model}_window_cv"][1:].mean() - 1.0) < 0.10


@pytest.mark.slow
def test_cuba_matches_brian2():
    _compare_with_brian2("cuba")


@pytest.mark.slow
def test_coba_matches_brian2():
    _compare_with_brian2("coba")

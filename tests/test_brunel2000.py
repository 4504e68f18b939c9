"""Brunel's (2000) model A (`build_brunel2000`) and the regime classifier
(`classify_brunel_regime`): structure, the scaling rule, the AI state against the
mean-field theory, the classifier on spike trains of known structure, bad input; slow:
the four presets of Fig. 8 classified, the full-size AI state against the theory."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import jaxsnn as snn
from jaxsnn import theory
from jaxsnn.analysis import cv_isi
from jaxsnn.events import SpikeEvents
from jaxsnn.models import (
    BRUNEL_REGIMES,
    brunel2000_params,
    brunel2000_state,
    build_brunel2000,
    classify_brunel_regime,
)

DT = 0.1
WARM_STEPS = 2000  # 200 ms = 10 tau: the initial transient, discarded


def _run(net, key, n_steps):
    """Spikes of every neuron, (n_steps, N), after a discarded 200 ms warm-up, from one
    `simulate` call (one compilation)."""
    k_v, k_sim = jr.split(key)
    state = brunel2000_state(net, k_v)
    _, rec = snn.simulate(
        net,
        state,
        WARM_STEPS + n_steps,
        dt_ms=DT,
        key=k_sim,
        record=snn.Record(spikes=True),
    )
    spikes = np.concatenate([np.asarray(rec.spikes["E"]), np.asarray(rec.spikes["I"])], axis=1)
    return spikes[WARM_STEPS:]


def _trim(events, start):
    """The events of `events` from step `start` on, counted from there."""
    count = int(events.count)
    steps, neurons = np.asarray(events.steps)[:count], np.asarray(events.neurons)[:count]
    keep = steps >= start
    return SpikeEvents(
        jnp.asarray(steps[keep] - start, jnp.int32),
        jnp.asarray(neurons[keep], jnp.int32),
        jnp.asarray(int(keep.sum()), jnp.int32),
        jnp.asarray(0, jnp.int32),
        events.n_steps - start,
        events.n_neurons,
    )


def _corrected_rate_hz(g, eta, params):
    """The self-consistent rate with the threshold raised by the discrete-time shift
    (`discrete_threshold_shift_mv` at the sigma of each candidate rate): the first
    downward zero of rate(nu) - nu on a 0.05 Hz grid, refined linearly."""
    nu = np.linspace(0.0, 1000.0 / float(params.tau_ref_ms), 10_001)
    mu, sigma = theory.brunel_mu_sigma(nu, g, eta, params)
    shift = theory.discrete_threshold_shift_mv(sigma, dt_ms=DT, tau_m_ms=params.tau_m_ms)
    rate = theory.siegert_rate_hz(
        mu,
        sigma,
        tau_m_ms=params.tau_m_ms,
        theta_mv=params.theta_mv + shift,
        v_reset_mv=params.v_reset_mv,
        tau_ref_ms=params.tau_ref_ms,
    )
    r = np.asarray(rate, np.float64) - nu
    i = int(np.argmax((r[:-1] > 0) & (r[1:] <= 0)))
    return float(nu[i] + r[i] * (nu[i + 1] - nu[i]) / (r[i] - r[i + 1]))


# ---------------------------------------------------------------- the network


@pytest.fixture(scope="module")
def ai_small():
    """The AI preset at scale 0.1 (N_E = 1000, N_I = 250, C_E = 100, C_I = 25, J = 1 mV),
    1 s recorded after 200 ms."""
    net = build_brunel2000(jr.key(11), regime="AI", scale=0.1)
    return net, _run(net, jr.key(12), 10_000)


def test_structure_follows_the_paper(ai_small):
    net, _ = ai_small
    exc, inh = net.populations
    assert (exc.name, exc.n, inh.name, inh.n) == ("E", 1000, "I", 250)
    lif = exc.neuron
    assert (lif.tau_mem_ms, lif.v_th_mv, lif.v_reset_mv, lif.t_ref_ms) == (20.0, 20.0, 10.0, 2.0)
    g, _ = BRUNEL_REGIMES["AI"]
    c = {"E": 100, "I": 25}
    for proj in net.projections:
        w = np.asarray(proj.dense_weights())
        # fixed in-degree: every neuron receives exactly C_E (C_I) synapses of J (-g·J)
        np.testing.assert_array_equal((w != 0).sum(axis=0), c[proj.pre])
        assert set(np.unique(w[w != 0])) == {np.float32(1.0 if proj.pre == "E" else -g)}
        assert proj.delay_ms == 1.5
        if proj.pre == proj.post:
            assert np.all(np.diag(w) == 0)  # no self-connections
    for drive in net.inputs:
        # C_ext = C_E sources at nu_ext = eta·theta/(J·C_E·tau) = 2·20/(1·100·0.02 s) = 20 Hz
        assert drive.n_sources == 100
        assert float(drive.rate_hz) == pytest.approx(20.0)
        assert drive.weight == pytest.approx(1.0)


def test_theory_parameters_are_the_networks():
    p = brunel2000_params(scale=0.1)
    assert (p.n_e, p.n_i, float(p.c_e), p.gamma, float(p.j_mv)) == (1000, 250, 100.0, 0.25, 1.0)
    assert brunel2000_params() == theory.BrunelParams()  # the paper's, as the theory's defaults


def test_without_inhibition_the_inhibitory_projections_are_left_out():
    net = build_brunel2000(jr.key(0), g=0.0, eta=2.0, scale=0.02)
    assert [p.name for p in net.projections] == ["E->E", "E->I"]


def test_scaling_keeps_the_mean_and_grows_the_noise():
    """The module docstring: J·C_E (hence nu_thr and mu) as at full size, sigma ∝
    1/sqrt(scale)."""
    full, small = brunel2000_params(), brunel2000_params(scale=0.1)
    assert float(small.j_mv * small.c_e) == pytest.approx(float(full.j_mv * full.c_e))
    assert float(theory.brunel_nu_thr_hz(small)) == pytest.approx(10.0)
    for nu in (0.0, 40.0):
        mu_f, sigma_f = theory.brunel_mu_sigma(nu, 5.0, 2.0, full)
        mu_s, sigma_s = theory.brunel_mu_sigma(nu, 5.0, 2.0, small)
        assert float(mu_s) == pytest.approx(float(mu_f), rel=1e-6)
        assert float(sigma_s) == pytest.approx(float(sigma_f) * np.sqrt(10.0), rel=1e-6)


def test_initial_potentials_are_spread_between_reset_and_threshold(ai_small):
    net, _ = ai_small
    v = np.asarray(brunel2000_state(net, jr.key(3)).v)
    assert v.shape == (1250,)
    assert np.all((v >= 10.0) & (v < 20.0))
    # uniform: mean 15 mV, sd 10/sqrt(12) = 2.89 mV; 5 standard errors of the mean: 0.41
    assert abs(v.mean() - 15.0) < 0.41


def test_ai_rate_and_cv_against_the_mean_field_theory(ai_small):
    """The AI preset at scale 0.1 against the stationary state of the same (scaled)
    parameters: 60.43 Hz, CV 1.40 (sigma = 30 mV, mu = 9.8 mV: at this scale the network
    is fluctuation-driven, unlike the full-size one, mu = 21 mV > theta).

    Rate. Two effects move a simulation away from the theory: statistics and the time
    step. The finite network's population rate fluctuates slowly (100 ms windows of one
    run spread by ~5 Hz); the standard error of the 1 s mean is estimated from those ten
    windows. A step of 0.1 ms checks the threshold once per step, after the step's summed
    jumps (per-step std 2.1 mV here), and misses crossings within it: to first order the
    threshold is raised by 0.58·sigma·sqrt(dt/tau) (`discrete_threshold_shift_mv`; an
    open-loop check of this file's slow suite confirms it for Poisson shot noise), which
    puts the self-consistent rate at 55.8 Hz. So the rate must lie in [corrected - 3 SE,
    uncorrected + 3 SE]. Measured over 14 network and noise seeds: 56.7-66.0 Hz (SE 1.7-3.5
    Hz, every run within 2 SE of the uncorrected theory; this seed: 66.0 +- 2.9 Hz).

    CV. The Poisson-input theory gives 1.40; the network fires more irregularly, 1.67-1.96
    over 14 seeds (+20 to +40 %), most likely because its slow collective rate
    fluctuations (above) modulate every neuron's rate and widen its ISI distribution, which
    the stationary renewal theory leaves out (with Poisson input at the same rates a single neuron's CV is within 7 % of
    the theory: slow suite). The test asks for the direction and size of that deviation:
    1 < theory < CV < 1.6 theory.
    """
    g, eta = BRUNEL_REGIMES["AI"]
    params = brunel2000_params(scale=0.1)
    state = theory.brunel_stationary_state(g, eta, params)
    _, spikes = ai_small
    windows = spikes.reshape(10, 1000, -1).mean(axis=(1, 2)) * 1000.0 / DT
    rate, se = windows.mean(), windows.std(ddof=1) / np.sqrt(len(windows))
    upper = float(state.rate_hz)
    lower = _corrected_rate_hz(g, eta, params)
    assert lower < upper
    assert lower - 3 * se <= rate <= upper + 3 * se, (rate, se, lower, upper)
    cv = float(np.nanmean(np.asarray(cv_isi(spikes, dt_ms=DT))))
    print(f"rate {rate:.2f} Hz (SE {se:.2f}) in [{lower:.2f}, {upper:.2f}]; CV {cv:.3f}")
    assert 1.0 < float(state.cv) < cv < 1.6 * float(state.cv), (cv, float(state.cv))


def test_the_presets_share_one_compilation():
    """Presets differ only in array values (weights, the drive's rate): at one scale and
    connectivity key their static parts and array shapes are equal, so `simulate`
    compiles once for all four (the slow test and the notebook rely on it)."""

    def skeleton(net):
        leaves, treedef = jax.tree.flatten(net)
        return treedef, [x.shape if eqx.is_array(x) else x for x in leaves]

    first, *others = (build_brunel2000(jr.key(0), regime=r, scale=0.02) for r in BRUNEL_REGIMES)
    for net in others:
        assert skeleton(net) == skeleton(first)


# ---------------------------------------------------------------- the classifier


def _inhomogeneous_poisson(rng, rate_hz, n):
    """(time, n) spikes of n independent Poisson trains of the common rate `rate_hz(t)`."""
    p = rate_hz[:, None] * (DT * 1e-3)
    return (rng.random((len(rate_hz), n)) < p).astype(np.float32)


def _locked_rate(f_hz, kappa, mean_hz, n_steps):
    """A rate of mean `mean_hz` concentrated around one phase of an `f_hz` cycle (von
    Mises shape, concentration kappa): the population oscillation of an SI state."""
    t_s = np.arange(n_steps) * DT * 1e-3
    x = np.exp(kappa * np.cos(2 * np.pi * f_hz * t_s))
    return mean_hz * x / x.mean()


def _regular(rng, periods_ms, phases, jitter_ms, n_steps):
    """Periodic trains (one period and phase per neuron) with Gaussian timing jitter."""
    s = np.zeros((n_steps, len(periods_ms)), np.float32)
    for i, (period, phase) in enumerate(zip(periods_ms, phases, strict=True)):
        times = (phase + np.arange(n_steps * DT / period + 1)) * period
        k = np.round((times + rng.normal(0.0, jitter_ms, times.shape)) / DT).astype(int)
        s[k[(k >= 0) & (k < n_steps)], i] = 1.0
    return s


N_SYN, STEPS_SYN = 300, 6000  # 300 neurons, 600 ms: three 200 ms segments' worth and more


@pytest.mark.parametrize(
    "case, expected",
    [("poisson", "AI"), ("fast", "SI-fast"), ("slow", "SI-slow"), ("locked", "SR"),
     ("splay", "AR")],
)  # fmt: skip
def test_classifier_on_spike_trains_of_known_structure(case, expected):
    """Independent Poisson trains (20 Hz): no oscillation (prominence ~2: the largest of
    ~200 noisy Welch bins), CV ~1 -> AI. Poisson trains whose common rate is locked to a
    180 Hz cycle (40 Hz mean) -> SI-fast; to a 20 Hz cycle at 8 Hz -> SI-slow (neurons
    skip cycles at random: CV ~0.8). Every neuron firing once per 4 ms cycle with 0.2 ms
    jitter (CV 0.07) -> SR; regular neurons of different periods (4-6.7 ms) and random
    phases: regular but no common rhythm -> AR."""
    rng = np.random.default_rng(7)
    if case == "poisson":
        s = _inhomogeneous_poisson(rng, np.full(STEPS_SYN, 20.0), N_SYN)
    elif case == "fast":
        s = _inhomogeneous_poisson(rng, _locked_rate(180.0, 2.0, 40.0, STEPS_SYN), N_SYN)
    elif case == "slow":
        s = _inhomogeneous_poisson(rng, _locked_rate(20.0, 3.0, 8.0, STEPS_SYN), N_SYN)
    elif case == "locked":
        s = _regular(rng, np.full(N_SYN, 4.0), np.zeros(N_SYN), 0.2, STEPS_SYN)
    else:
        s = _regular(rng, rng.uniform(4.0, 6.7, N_SYN), rng.random(N_SYN), 0.2, STEPS_SYN)
    report = classify_brunel_regime(s, dt_ms=DT)
    assert report.regime == expected, str(report)
    if expected.startswith("SI"):
        assert report.peak_hz == (180.0 if expected == "SI-fast" else 20.0)
    if expected == "SR":
        assert report.peak_hz == 250.0 and report.cv < 0.1
    if expected == "AI":
        # CV 0.87, not 1: ~11 ISIs per neuron in 600 ms, and the window cuts off the
        # longest intervals (censoring), which biases a short record's CV low
        assert report.prominence < 5 and 0.8 < report.cv < 1.1


def test_classifier_reads_events_and_populations_like_dense_spikes():
    rng = np.random.default_rng(1)
    s = _inhomogeneous_poisson(rng, _locked_rate(180.0, 2.0, 40.0, STEPS_SYN), N_SYN)
    dense = classify_brunel_regime(s, dt_ms=DT)
    steps, neurons = np.nonzero(s)
    events = SpikeEvents(
        jnp.asarray(steps, jnp.int32),
        jnp.asarray(neurons, jnp.int32),
        jnp.asarray(len(steps), jnp.int32),
        jnp.asarray(0, jnp.int32),
        STEPS_SYN,
        N_SYN,
    )
    from_events = classify_brunel_regime(events, dt_ms=DT)
    split = classify_brunel_regime({"E": s[:, :240], "I": s[:, 240:]}, dt_ms=DT)
    for other in (from_events, split):
        assert other.regime == dense.regime == "SI-fast"
        assert other.rate_hz == pytest.approx(dense.rate_hz)
        assert other.prominence == pytest.approx(dense.prominence, rel=1e-4)
    assert from_events.cv == pytest.approx(dense.cv, rel=1e-5)
    assert from_events.chi == pytest.approx(dense.chi, rel=1e-4)
    silent = classify_brunel_regime(np.zeros((3000, 10)), dt_ms=DT)
    assert silent.regime == "silent" and silent.rate_hz == 0.0


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(g=-1.0, eta=2.0), "g must be >= 0"),
        (dict(g=5.0, eta=0.0), "eta must be > 0"),
        (dict(g=5.0), "pass g= and eta="),
        (dict(regime="XY"), "regime must be one of"),
        (dict(regime="AI", g=5.0), "not both"),
        (dict(regime="AI", epsilon=0.0), "epsilon must be > 0"),
        (dict(regime="AI", epsilon=1.5), r"epsilon must be in \(0, 1\]"),
        (dict(regime="AI", scale=0.0), "scale must be > 0"),
        (dict(regime="AI", scale=0.001), "C_E=1, C_I=0"),
        (dict(regime="AI", n_e=10.5), "n_e must be an integer"),
        (dict(regime="AI", j_mv=-0.1), "j_mv must be > 0"),
        (dict(regime="AI", scale=0.01, v_reset_mv=25.0), "theta_mv must be above"),
    ],
)
def test_bad_parameters_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_brunel2000(jr.key(0), **kwargs)


def test_classifier_rejects_bad_input():
    s = np.zeros((3000, 10), np.float32)
    s[::50] = 1.0
    with pytest.raises(ValueError, match="shape"):
        classify_brunel_regime(s[None], dt_ms=DT)
    with pytest.raises(ValueError, match="shorter than segment_ms"):
        classify_brunel_regime(s[:1000], dt_ms=DT)
    with pytest.raises(ValueError, match="differ in length"):
        classify_brunel_regime({"E": s, "I": s[:2500]}, dt_ms=DT)
    with pytest.raises(ValueError, match="min_hz < max_hz"):
        classify_brunel_regime(s, dt_ms=DT, min_hz=500.0, max_hz=100.0)
    with pytest.raises(ValueError, match="dt_ms must be > 0"):
        classify_brunel_regime(s, dt_ms=0.0)
    full = SpikeEvents.empty(2, 3000, 10).append(jnp.asarray(0), jnp.ones(10))
    with pytest.raises(ValueError, match="overflowed"):
        classify_brunel_regime(full, dt_ms=DT)


# ---------------------------------------------------------------- slow


@pytest.mark.slow
def test_the_four_presets_are_classified_as_in_fig8():
    """Scale 0.5 (N = 6250, C_E = 500, J = 0.2 mV), 1 s after 200 ms, the same
    connectivity for all four (one compilation). Scale 0.5 is enough: at 0.2 and 0.1 the
    noisier network damps the fast oscillation and the SI-fast preset is AI-like
    (prominence 28 and 15, brunel_regimes' docstring). Measured (prominence; threshold 80):
    SR 1e8, SI-fast 163, AI 39, SI-slow 140."""
    for regime in BRUNEL_REGIMES:
        net = build_brunel2000(jr.key(0), regime=regime, scale=0.5)
        report = classify_brunel_regime(_run(net, jr.key(1), 10_000), dt_ms=DT)
        print(regime, report)
        assert report.regime == regime, str(report)


@pytest.mark.slow
def test_poisson_input_neurons_follow_the_theory_with_the_step_correction():
    """Open loop: 1000 unconnected model-A neurons receive, as Poisson counts, the inputs
    the theory assumes (C_E excitatory and C_I inhibitory Poisson trains at the
    self-consistent rate, and the external drive), so only the neuron, the time step
    and the diffusion approximation remain. At scale 1 and 0.1 the rate matches the
    Siegert rate with the discrete-time threshold shift within 2 % (measured within
    0.5 %: 36.35 vs 36.18 Hz, 53.23 vs 53.05 Hz; without it the theory is 4 % and 12 %
    higher) and the CV matches `siegert_cv` within 8 % (measured -3 % and -6 %)."""
    g, eta = BRUNEL_REGIMES["AI"]
    for scale in (1.0, 0.1):
        params = brunel2000_params(scale=scale)
        state = theory.brunel_stationary_state(g, eta, params)
        nu, j = float(state.rate_hz), float(params.j_mv)
        c_e = round(float(params.c_e))
        c_i = round(c_e * params.gamma)
        nu_ext = eta * float(theory.brunel_nu_thr_hz(params))
        lif = snn.LIF(tau_mem_ms=20.0, v_th_mv=20.0, v_reset_mv=10.0, t_ref_ms=2.0)
        n = 1000
        pop = snn.Population("P", n, lif)
        drives = [
            snn.PoissonDrive("ext", "P", n, c_e, nu_ext, j),
            snn.PoissonDrive("e", "P", n, c_e, nu, j),
            snn.PoissonDrive("i", "P", n, c_i, nu, -g * j),
        ]
        net = snn.Network([pop], [], drives)
        v0 = jr.uniform(jr.key(0), (n,), minval=10.0, maxval=20.0)
        _, rec = snn.simulate(
            net,
            snn.init_state(net, v0_mv=v0),
            22_000,
            dt_ms=DT,
            key=jr.key(1),
            record=snn.Record(spikes=True, every=1),
        )
        s = np.asarray(rec.spikes["P"])[2000:]
        rate = s.mean() * 1000.0 / DT
        shift = float(theory.discrete_threshold_shift_mv(state.sigma_mv, dt_ms=DT, tau_m_ms=20.0))
        lif_args = dict(tau_m_ms=20.0, theta_mv=20.0 + shift, v_reset_mv=10.0, tau_ref_ms=2.0)
        expected = float(theory.siegert_rate_hz(state.mu_mv, state.sigma_mv, **lif_args))
        cv_expected = float(theory.siegert_cv(state.mu_mv, state.sigma_mv, **lif_args))
        cv = float(np.nanmean(np.asarray(cv_isi(s, dt_ms=DT))))
        assert rate == pytest.approx(expected, rel=0.02), (scale, rate, expected)
        assert cv == pytest.approx(cv_expected, rel=0.08), (scale, cv, cv_expected)


@pytest.mark.slow
def test_full_size_ai_state_against_the_theory():
    """The paper's network (N = 12 500, C_E = 1000, J = 0.1 mV), AI preset, 1 s after
    200 ms. Rate: 37.95 Hz by the theory; measured 37.8 Hz. The bracket of the scaled test
    (discrete-time corrected theory 37.25 Hz - 3 SE, uncorrected 37.95 Hz + 3 SE; SE ~0.3
    Hz here) holds; in addition the rate is within 3 % of 37.95 Hz.

    CV: measured 0.40, the theory's 0.675 (a Poisson-input neuron at these rates: 0.65,
    slow open-loop test). The full-size network fires more regularly than the Poisson-input
    theory predicts; its input spike trains are themselves far from Poisson (CV 0.4) and
    collectively fluctuate at ~110 Hz, neither of which the stationary theory describes
    (Dummer, Wieland & Lindner 2014, Front Comput Neurosci 8:104, on the inconsistency of
    the Poisson assumption in Brunel-type networks). The test records the deviation:
    0.3 < CV < 0.8 · theory."""
    g, eta = BRUNEL_REGIMES["AI"]
    params = brunel2000_params()
    state = theory.brunel_stationary_state(g, eta, params)
    net = build_brunel2000(jr.key(0), regime="AI")
    k_v, k_sim = jr.split(jr.key(1))
    _, rec = snn.simulate(
        net,
        brunel2000_state(net, k_v),
        WARM_STEPS + 10_000,
        dt_ms=DT,
        key=k_sim,
        record=snn.Record(events=True, event_rate_hz=100.0),
    )
    steps = [np.asarray(rec.events[p].steps)[: int(rec.events[p].count)] for p in ("E", "I")]
    counts = np.bincount(np.concatenate(steps), minlength=WARM_STEPS + 10_000)[WARM_STEPS:]
    windows = counts.reshape(10, 1000).sum(axis=1) / (12_500 * 0.1)
    rate, se = windows.mean(), windows.std(ddof=1) / np.sqrt(10)
    upper, lower = float(state.rate_hz), _corrected_rate_hz(g, eta, params)
    assert lower - 3 * se <= rate <= upper + 3 * se, (rate, se, lower, upper)
    assert rate == pytest.approx(upper, rel=0.03)
    report = classify_brunel_regime(
        {p: _trim(e, WARM_STEPS) for p, e in rec.events.items()}, dt_ms=DT
    )
    print(report)
    assert report.regime == "AI", str(report)
    assert 0.3 < report.cv < 0.8 * float(state.cv), (report.cv, float(state.cv))

"""Mean-field theory of the LIF (`jaxsnn.theory`): erfcx and the Siegert rate and ISI CV
against SciPy's independent adaptive quadrature, the sigma -> 0 limit against the
deterministic closed form, gradients against finite differences, simulations of
white-noise-driven LIF neurons and of Brunel's (2000) network against the formulas, and
bad input."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from scipy import integrate, optimize, special

import jaxsnn as snn
from jaxsnn import theory

LIF = dict(tau_m_ms=20.0, theta_mv=20.0, v_reset_mv=10.0, tau_ref_ms=2.0)  # Brunel's neuron

# (mu, sigma) in mV: far below, below, at and above threshold, weak and strong noise.
POINTS = [
    (0.0, 5.0),
    (10.0, 3.0),
    (15.0, 5.0),
    (18.0, 3.0),
    (19.9, 0.5),
    (21.0, 7.7),
    (25.0, 1.0),
    (30.0, 10.0),
    (40.0, 2.0),
    (35.0, 50.0),
]


def _scipy_rate_hz(mu, sigma, tau=20.0, theta=20.0, v_r=10.0, t_ref=2.0):
    """Brunel's Eq. 21 with SciPy's adaptive quadrature of erfcx(-u) = e^{u²}(1 + erf u)."""
    lo, hi = (v_r - mu) / sigma, (theta - mu) / sigma
    integral = integrate.quad(lambda u: special.erfcx(-u), lo, hi, epsabs=0, epsrel=1e-13)[0]
    return 1000.0 / (t_ref + tau * math.sqrt(math.pi) * integral)


def _scipy_cv(mu, sigma, tau=20.0, theta=20.0, v_r=10.0, t_ref=2.0):
    """The CV double integral by nested adaptive quadrature (inner integrand written as
    e^{-y²}erfcx(-y)² for y < 0, e^{y²}(1 + erf y)² for y > 0)."""

    def quad(f, a, b, tol):  # relative tolerance only: the integrals span many decades
        return integrate.quad(f, a, b, epsabs=0, epsrel=tol, limit=200)[0]

    def inner(x):
        neg = quad(lambda y: np.exp(-y * y) * special.erfcx(-y) ** 2, -np.inf, min(x, 0.0), 1e-13)
        if x <= 0:
            return neg
        return neg + quad(lambda y: np.exp(y * y) * (1 + special.erf(y)) ** 2, 0.0, x, 1e-13)

    lo, hi = (v_r - mu) / sigma, (theta - mu) / sigma
    var = quad(lambda x: np.exp(x * x) * inner(x), lo, hi, 1e-12)
    nu = _scipy_rate_hz(mu, sigma, tau, theta, v_r, t_ref) * 1e-3
    return math.sqrt(2 * math.pi * (nu * tau) ** 2 * var)


# ------------------------------------------------------------------ closed forms


def test_erfcx_matches_scipy():
    """Relative error against scipy.special.erfcx over the whole range where the value is
    finite: 1e-14 in float64 (direct formula below 2.5, continued fraction above), 2e-6 in
    float32 (e^{x²} of a rounded x²); the far tail (x = 1e4) and x < 0 included."""
    x = np.concatenate([np.linspace(-5.0, 30.0, 3001), [1e2, 1e3, 1e4, 2.5, 2.5 - 1e-9]])
    with jax.enable_x64(True):
        got = np.asarray(theory.erfcx(jnp.asarray(x)))
    np.testing.assert_allclose(got, special.erfcx(x), rtol=1e-14)
    x32 = np.linspace(-3.0, 30.0, 1001).astype(np.float32)
    got32 = np.asarray(theory.erfcx(jnp.asarray(x32)), np.float64)
    np.testing.assert_allclose(got32, special.erfcx(x32.astype(np.float64)), rtol=2e-6)
    assert theory.erfcx(jnp.float32(1.0)).dtype == jnp.float32


def test_erfcx_derivative_is_the_closed_form():
    """d erfcx/dx = 2x·erfcx(x) - 2/sqrt(pi), on both sides of the 2.5 switch and x < 0
    (float64; rtol 1e-9 because the closed form itself cancels, to ~1/(2x²), at x = 300)."""
    with jax.enable_x64(True):
        x = jnp.array([-2.0, -0.3, 0.0, 1.0, 2.4999, 2.5001, 7.0, 300.0])
        grad = jax.vmap(jax.grad(theory.erfcx))(x)
        expected = 2 * x * theory.erfcx(x) - 2 / math.sqrt(math.pi)
        np.testing.assert_allclose(np.asarray(grad), np.asarray(expected), rtol=1e-9, atol=1e-16)


def test_siegert_rate_matches_scipy_quadrature():
    """Brunel (2000) Eq. 21 by Gauss-Legendre after the stabilising substitutions vs SciPy's
    adaptive quad of the printed integrand: float64 relative error < 1e-12 from 1e-5 Hz
    (far below threshold) to 150 Hz; float32 within 1e-5."""
    mu, sigma = (np.array(c) for c in zip(*POINTS, strict=True))
    expected = np.array([_scipy_rate_hz(m, s) for m, s in POINTS])
    with jax.enable_x64(True):
        got = np.asarray(theory.siegert_rate_hz(jnp.asarray(mu), jnp.asarray(sigma), **LIF))
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    got32 = theory.siegert_rate_hz(
        jnp.asarray(mu, jnp.float32), jnp.asarray(sigma, jnp.float32), **LIF
    )
    assert got32.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(got32, np.float64), expected, rtol=1e-5)


def test_siegert_cv_matches_scipy_nested_quadrature():
    """The CV double integral (up to 192 x 48 fixed points) vs SciPy's nested adaptive quad:
    float64 relative error < 1e-11 (CV from 0.1, regular, to 1.3, strong noise); float32
    within 1e-5."""
    points = [POINTS[i] for i in (0, 1, 2, 4, 5, 6, 9)]
    mu, sigma = (np.array(c) for c in zip(*points, strict=True))
    expected = np.array([_scipy_cv(m, s) for m, s in points])
    with jax.enable_x64(True):
        got = np.asarray(theory.siegert_cv(jnp.asarray(mu), jnp.asarray(sigma), **LIF))
    np.testing.assert_allclose(got, expected, rtol=1e-11)
    got32 = theory.siegert_cv(jnp.asarray(mu, jnp.float32), jnp.asarray(sigma, jnp.float32), **LIF)
    got32 = np.asarray(got32, np.float64)
    np.testing.assert_allclose(got32, expected, rtol=1e-5)


def test_deterministic_rate_is_the_closed_form():
    """REFERENCES.md §7.1 (theta = 20, V_r = 0, t_ref = 2 ms, tau = 20 ms): mu = 20.5 ->
    13.1111 Hz, 21 -> 15.9007, 25 -> 29.2494, 30 -> 41.7149, 40 -> 63.0400, 60 -> 98.9188,
    100 -> 154.7300; 0 at and below threshold."""
    mu = jnp.array([20.5, 21.0, 25.0, 30.0, 40.0, 60.0, 100.0, 20.0, 5.0])
    expected = [13.1111, 15.9007, 29.2494, 41.7149, 63.0400, 98.9188, 154.7300, 0.0, 0.0]
    rate = theory.lif_rate_hz(mu, tau_m_ms=20.0, theta_mv=20.0, v_reset_mv=0.0, tau_ref_ms=2.0)
    np.testing.assert_allclose(np.asarray(rate), expected, rtol=1e-5, atol=0)


def test_sigma_to_zero_is_the_deterministic_lif():
    """At sigma = 0 siegert_rate_hz is the deterministic rate, and as sigma -> 0 it
    converges to it: above threshold within 2e3·sigma² relative (the correction is
    O(sigma²)), below threshold the rate vanishes like e^{-y_theta²} (0 in float64 once
    y_theta > 27). The CV -> 0 as O(sigma) above threshold and is NaN at sigma = 0 below
    (no spikes)."""
    with jax.enable_x64(True):
        mu = jnp.array([20.5, 25.0, 40.0, 300.0, 10.5, 15.0, 19.0, 19.5])
        above = np.asarray(mu) > 20.0
        det = np.asarray(theory.lif_rate_hz(mu, **LIF))
        assert np.all(det[~above] == 0.0)
        previous = None
        for sigma in (0.0, 1e-2, 1e-3, 1e-9):
            rate = np.asarray(theory.siegert_rate_hz(mu, sigma, **LIF))
            cv = np.asarray(theory.siegert_cv(mu, sigma, **LIF))
            np.testing.assert_allclose(rate, det, rtol=2e3 * sigma**2 + 1e-13)
            if sigma == 0.0:
                assert np.all(cv[above] == 0.0) and np.all(np.isnan(cv[~above]))
                continue
            assert np.all(rate[~above] == 0.0)  # e^{-y_theta²} underflows
            assert np.all(cv[above] < sigma)
            if previous is not None:  # O(sigma): the CV shrinks with sigma
                np.testing.assert_allclose(cv[above] / previous[1], sigma / previous[0], rtol=0.02)
            previous = sigma, cv[above]


def test_far_below_threshold_firing_is_poisson_like():
    """Escape from far below threshold is a rare, memoryless event: CV -> 1 (within 1e-4
    when nu·tau_ref < 1e-6), and the rate follows the Kramers asymptote
    nu ≈ y_theta·e^{-y_theta²}/(tau·sqrt(pi)) (relative corrections O(1/y_theta²))."""
    mu, sigma = jnp.array([0.0, 5.0, 0.0]), jnp.array([5.0, 4.0, 2.5])
    cv = np.asarray(theory.siegert_cv(mu, sigma, **LIF))
    np.testing.assert_allclose(cv, 1.0, atol=1e-4)
    with jax.enable_x64(True):
        y = 20.0 / 2.5
        kramers = 1000.0 * y * math.exp(-y * y) / (20.0 * math.sqrt(math.pi))
        rate = float(theory.siegert_rate_hz(0.0, 2.5, **LIF))
        assert rate == pytest.approx(kramers, rel=2 / y**2)


# ------------------------------------------------------------- transforms, gradients


@pytest.mark.parametrize(
    "fn",
    [
        theory.siegert_rate_hz,
        pytest.param(theory.siegert_cv, marks=pytest.mark.slow),  # 5 s of compilation
    ],
    ids=["rate", "cv"],
)
def test_gradients_match_finite_differences(fn):
    """d/d mu and d/d sigma of the rate (and of the CV, slow), by autodiff through the
    quadrature (erfcx's closed-form derivative), vs central differences (h = 1e-4 mV) in
    float64: a smooth quantity, truncation error ~h²·f‴/6 <= 1e-7 relative here, so
    rtol 1e-6. The points include y_r = 0 (mu = v_reset) and y_theta = 0 (mu = theta),
    where the integration ranges switch between their u < 0 and u > 0 forms."""
    h = 1e-4
    with jax.enable_x64(True):

        def f(m, s):
            return fn(m, s, **LIF)

        grad = jax.jit(jax.grad(f, argnums=(0, 1)))
        for mu, sigma in [(15.0, 5.0), (21.0, 7.7), (25.0, 1.0), (10.0, 3.0), (20.0, 3.0)]:
            d_mu, d_sigma = (float(d) for d in grad(mu, sigma))
            fd_mu = (float(f(mu + h, sigma)) - float(f(mu - h, sigma))) / (2 * h)
            fd_sigma = (float(f(mu, sigma + h)) - float(f(mu, sigma - h))) / (2 * h)
            assert d_mu == pytest.approx(fd_mu, rel=1e-6), (mu, sigma)
            assert d_sigma == pytest.approx(fd_sigma, rel=1e-6), (mu, sigma)


def test_vmap_equals_broadcasting_and_jit_traces_once():
    """jax.vmap over (mu, sigma) gives the broadcast call's values, and a jitted wrapper
    traces once for arrays of one shape (no retracing on new values)."""
    mu = jnp.array([12.0, 18.0, 22.0, 30.0])
    sigma = jnp.array([4.0, 3.0, 6.0, 0.0])

    def rate(m, s):
        return theory.siegert_rate_hz(m, s, **LIF)

    once = jax.jit(eqx.debug.assert_max_traces(rate, max_traces=1))
    direct = once(mu, sigma)
    once(mu + 1.0, sigma)
    mapped = jax.vmap(rate)(mu, sigma)
    np.testing.assert_allclose(np.asarray(mapped), np.asarray(direct), rtol=1e-6)


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"sigma_mv": -1.0}, "sigma_mv"),
        ({"tau_m_ms": 0.0}, "tau_m_ms"),
        ({"tau_m_ms": -20.0}, "tau_m_ms"),
        ({"theta_mv": 10.0}, "theta_mv"),
        ({"theta_mv": 5.0}, "theta_mv"),
        ({"tau_ref_ms": -1.0}, "tau_ref_ms"),
        ({"mu_mv": float("nan")}, "mu_mv"),
    ],
)
@pytest.mark.parametrize("fn", [theory.siegert_rate_hz, theory.siegert_cv])
def test_bad_parameters_raise_naming_the_argument(fn, kwargs, name):
    args = {"mu_mv": 15.0, "sigma_mv": 5.0, **LIF, **kwargs}
    mu, sigma = args.pop("mu_mv"), args.pop("sigma_mv")
    with pytest.raises(ValueError, match=name):
        fn(mu, sigma, **args)


def test_bad_values_under_jit_raise_at_run_time():
    """Traced arguments cannot be checked at trace time; `eqx.error_if` checks them when
    the compiled function runs."""
    rate = jax.jit(lambda s: theory.siegert_rate_hz(15.0, s, **LIF))
    assert float(rate(5.0)) > 0
    with pytest.raises(Exception, match="sigma_mv"):
        jax.block_until_ready(rate(-1.0))


def test_bad_brunel_parameters_raise():
    with pytest.raises(ValueError, match="j_mv"):
        theory.BrunelParams(j_mv=-0.1)
    with pytest.raises(ValueError, match="epsilon"):
        theory.BrunelParams(epsilon=1.5)
    with pytest.raises(ValueError, match="tau_ref_ms"):
        theory.BrunelParams(tau_ref_ms=0.0)
    with pytest.raises(ValueError, match="theta_mv"):
        theory.BrunelParams(v_reset_mv=25.0)
    with pytest.raises(ValueError, match="n_i"):
        theory.BrunelParams(n_i=0)
    with pytest.raises(ValueError, match="eta"):
        theory.brunel_self_consistent_rate_hz(5.0, -1.0)
    with pytest.raises(ValueError, match="dt_ms"):
        theory.discrete_threshold_shift_mv(1.0, dt_ms=0.0, tau_m_ms=20.0)


# ------------------------------------------------------------------ simulations


def _simulate_isis(mu, sigma, *, dt, seconds, burn_ms=200.0, seed=0):
    """Independent LIF neurons (Brunel's: tau 20 ms, theta 20, V_r 10 mV, 2 ms refractory),
    neuron i driven by WhiteNoise(sigma[i], mean mu[i]), from rest, one simulation at
    step dt; spikes counted after `burn_ms` of burn-in. Returns the neuron of each spike,
    the neuron of each interspike interval, and the intervals (ms)."""
    n = len(mu)
    lif = snn.LIF(tau_mem_ms=20.0, v_rest_mv=0.0, v_th_mv=20.0, v_reset_mv=10.0, t_ref_ms=2.0)
    noise = snn.WhiteNoise(
        "xi", "P", n, jnp.asarray(sigma, jnp.float32), jnp.asarray(mu, jnp.float32)
    )
    net = snn.Network([snn.Population("P", n, lif)], [], [noise])
    burn = int(round(burn_ms / dt))
    steps = burn + int(round(seconds * 1000 / dt))
    record = snn.Record(events="P", event_capacity=int(n * (seconds + 1) * 100))
    _, rec = snn.simulate(
        net, snn.init_state(net), steps, dt_ms=dt, key=jr.key(seed), record=record
    )
    ev = rec.events["P"]
    assert int(ev.overflow) == 0
    count = int(ev.count)
    step, neuron = np.asarray(ev.steps)[:count], np.asarray(ev.neurons)[:count]
    keep = step >= burn
    step, neuron = step[keep], neuron[keep]
    order = np.lexsort((step, neuron))
    step, neuron = step[order], neuron[order]
    isi_of = neuron[1:][neuron[1:] == neuron[:-1]]
    isi = np.diff(step)[neuron[1:] == neuron[:-1]] * dt
    return neuron, isi_of, isi


def _theory_at_dt(mu, sigma, dt):
    """Rate and CV with the discrete-time threshold shift (and without, for the rate)."""
    shift = float(theory.discrete_threshold_shift_mv(sigma, dt_ms=dt, tau_m_ms=20.0))
    shifted = {**LIF, "theta_mv": 20.0 + shift}
    return (
        float(theory.siegert_rate_hz(mu, sigma, **shifted)),
        float(theory.siegert_cv(mu, sigma, **shifted)),
        float(theory.siegert_rate_hz(mu, sigma, **LIF)),
    )


def _check_groups(groups, n_per, dt, seconds, rate_tol, cv_tol, seed=0):
    """Simulate n_per neurons per (mu, sigma) group and check each group's rate and CV
    against the dt-corrected theory; return each group's relative deviation from the
    continuous-time (uncorrected) rate."""
    deviations = []
    mu = np.repeat([g[0] for g in groups], n_per)
    sigma = np.repeat([g[1] for g in groups], n_per)
    neuron, isi_of, isi = _simulate_isis(mu, sigma, dt=dt, seconds=seconds, seed=seed)
    for k, (m, s) in enumerate(groups):
        members = slice(k * n_per, (k + 1) * n_per)
        spikes = np.count_nonzero((neuron >= members.start) & (neuron < members.stop))
        rate = spikes / (n_per * seconds)
        isis = isi[(isi_of >= members.start) & (isi_of < members.stop)]
        cv = isis.std() / isis.mean()
        rate_th, cv_th, rate_continuous = _theory_at_dt(m, s, dt)
        assert rate == pytest.approx(rate_th, rel=rate_tol), (m, s, rate, rate_th)
        assert cv == pytest.approx(cv_th, rel=cv_tol), (m, s, cv, cv_th)
        # the threshold shift is what makes the difference
        assert abs(rate - rate_th) < abs(rate - rate_continuous)
        deviations.append(rate / rate_continuous - 1)
    return np.array(deviations)


def test_white_noise_lif_population_fires_at_the_siegert_rate_with_its_cv():
    """500 independent LIF neurons per (mu, sigma) (noise-driven 15/5 mV: 9 Hz, CV 0.82;
    mean-driven 25/2 mV: 42 Hz, CV 0.21), WhiteNoise (Brunel's sigma), 5 s after 200 ms,
    dt = 0.1 ms, one simulation.

    Theory: Siegert rate and CV with the threshold raised by the discrete-time overshoot
    0.5826·sigma·sqrt(dt/tau) (0.21 and 0.08 mV here), which lowers the rate by 6.7 % and
    1.3 %; measured beforehand the remaining bias is +0.7 % and -0.03 % at dt = 0.1 ms
    (+0.2 % at 0.025 ms: an O(dt) remainder). Statistical error of the rate: CV/sqrt(spikes)
    = 0.55 % and 0.15 %; of the CV ~0.5 %. Tolerances: 3 % (rate) and 3 % (CV), about 4
    standard errors plus the bias; the uncorrected rate is 6.7 % off, outside it."""
    _check_groups([(15.0, 5.0), (25.0, 2.0)], 500, 0.1, 5.0, rate_tol=0.03, cv_tol=0.03)


@pytest.mark.slow
def test_white_noise_lif_statistics_converge_with_the_sqrt_dt_correction():
    """Four (mu, sigma) from noise- to mean-driven, 1000 neurons each, 10 s, at dt = 0.1
    and 0.025 ms: rate within 1.2 % and CV within 1.5 % of the dt-corrected theory (4
    standard errors are 0.3-0.8 % and ~0.5 %; the O(dt) remainder is <= 0.7 % at 0.1 ms),
    and the deviation from the continuous-time rate shrinks as sqrt(dt): it halves from
    0.1 to 0.025 ms (measured 1.9-2.2; allowed 1.5-2.7 for the statistical error of the
    smaller deviation, 0.1-0.3 of its 0.6-3 %)."""
    groups = [(15.0, 5.0), (18.0, 3.0), (21.0, 7.7), (25.0, 2.0)]
    coarse, fine = (
        _check_groups(groups, 1000, dt, 10.0, rate_tol=0.012, cv_tol=0.015, seed=1)
        for dt in (0.1, 0.025)
    )
    assert np.all(coarse < 0) and np.all(fine < 0)  # a discrete threshold fires less
    ratio = coarse / fine
    assert np.all((ratio > 1.5) & (ratio < 2.7)), ratio


# ------------------------------------------------------------- Brunel (2000)


def _scipy_brunel_rate_hz(g, eta):
    """Model A's stationary rate with SciPy alone (quad + brentq on [0, 1/tau_rp])."""
    c_e, j, tau = 1000.0, 0.1, 20.0
    nu_ext = eta * 20.0 / (j * c_e * tau) * 1000.0

    def residual(nu):
        mu = c_e * j * tau * 1e-3 * (nu_ext + nu * (1 - 0.25 * g))
        sigma = j * math.sqrt(c_e * tau * 1e-3 * (nu_ext + nu * (1 + 0.25 * g * g)))
        return _scipy_rate_hz(mu, sigma) - nu

    return optimize.brentq(residual, 0.0, 500.0, xtol=1e-12, rtol=1e-13)


def test_brunel_external_drive_is_the_papers():
    """nu_thr = theta/(J·C_E·tau) = 10 Hz; at eta = 2 the external drive alone gives
    mu_ext = C_E·J·nu_ext·tau = 40 mV and sigma_ext = J·sqrt(C_E·nu_ext·tau) = 2 mV
    (as benchmarks/brunel_drive.py derives them); recurrent input adds
    C_E·J·tau·nu·(1 - g·gamma) and J²·C_E·tau·nu·(1 + g²·gamma)."""
    assert float(theory.brunel_nu_thr_hz()) == pytest.approx(10.0)
    mu, sigma = theory.brunel_mu_sigma(0.0, 5.0, 2.0)
    assert float(mu) == pytest.approx(40.0, rel=1e-6)
    assert float(sigma) == pytest.approx(2.0, rel=1e-6)
    mu, sigma = theory.brunel_mu_sigma(10.0, 5.0, 2.0)
    assert float(mu) == pytest.approx(40.0 + 2.0 * 10.0 * (1 - 1.25), rel=1e-6)
    assert float(sigma) == pytest.approx(math.sqrt(4.0 + 0.2 * 10.0 * 7.25), rel=1e-6)


def test_brunel_fig8_stationary_rates_match_scipy():
    """The self-consistent rates of Brunel's (2000) Fig. 8 presets (A g=3 eta=2, B 6/4,
    C 5/2 the AI state, D 4.5/0.9) against an all-SciPy solution (quad + brentq):
    327.01, 55.841, 37.950, 6.5167 Hz; float32 bisection + Newton within 1e-5. Each is
    the only stationary solution (the residual changes sign once on a 2000-point grid).
    At the AI rate mu = 21.03 mV, sigma = 7.683 mV and the CV is 0.6753 (the same with
    SciPy's nested quad; the CV formula is checked against it above)."""
    g = jnp.array([p[0] for p in theory.BRUNEL_FIG8.values()])
    eta = jnp.array([p[1] for p in theory.BRUNEL_FIG8.values()])
    expected = [_scipy_brunel_rate_hz(float(a), float(b)) for a, b in zip(g, eta, strict=True)]
    np.testing.assert_allclose(expected, [327.008, 55.8413, 37.9497, 6.51670], rtol=1e-5)
    state = theory.brunel_stationary_state(g, eta)
    np.testing.assert_allclose(np.asarray(state.rate_hz), expected, rtol=1e-5)
    assert float(state.cv[2]) == pytest.approx(0.6753, abs=1e-4)
    assert float(state.mu_mv[2]) == pytest.approx(21.025, abs=1e-3)
    assert float(state.sigma_mv[2]) == pytest.approx(7.683, abs=1e-3)
    nu = jnp.linspace(0.0, 499.9, 2000)[:, None]
    residual = np.asarray(theory.brunel_rate_residual_hz(nu, g, eta))
    assert np.all(np.sum(np.diff(np.sign(residual), axis=0) != 0, axis=0) == 1)


@pytest.mark.slow
def test_brunel_rate_gradient_matches_finite_differences():
    """d nu/d g and d nu/d eta through the solver (implicit differentiation: one Newton
    step with a frozen slope) vs central differences of the solved rate (h = 1e-3) in
    float64: rtol 1e-5."""
    with jax.enable_x64(True):
        f = theory.brunel_self_consistent_rate_hz
        dg, deta = jax.grad(f, argnums=(0, 1))(5.0, 2.0)
        h = 1e-3
        assert float(dg) == pytest.approx(
            (float(f(5 + h, 2.0)) - float(f(5 - h, 2.0))) / (2 * h), rel=1e-5
        )
        assert float(deta) == pytest.approx(
            (float(f(5.0, 2 + h)) - float(f(5.0, 2 - h))) / (2 * h), rel=1e-5
        )
        assert float(dg) < 0 < float(deta)


@pytest.mark.slow
def test_brunel_network_fires_at_the_self_consistent_rate():
    """Brunel's model A in the AI state (g = 5, eta = 2; N_E = 10 000, N_I = 2500, C_E =
    1000, C_I = 250 fixed in-degrees, J = 0.1 mV, D = 1.5 ms, external drive as Poisson
    counts of C_E sources at 20 Hz), dt = 0.1 ms, 1 s after 200 ms: the E and I rates
    match the stationary solution (37.95 Hz) within 3 % (measured once: 37.95 and 37.93 Hz;
    the collective fluctuations of the finite network, std ~21 Hz in 1 ms bins, set the
    tolerance). The uncorrected theory is compared: the discrete-time shift lowers the
    single-neuron rate by about 4 % here (tests/test_brunel2000.py), and the recurrent
    network's own fluctuations move it back within the tolerance."""
    p = theory.BrunelParams()
    lif = snn.LIF(tau_mem_ms=20.0, v_th_mv=20.0, v_reset_mv=10.0, t_ref_ms=2.0)
    exc = snn.Population("E", p.n_e, lif, dale="excitatory")
    inh = snn.Population("I", p.n_i, lif, dale="inhibitory")
    k = jr.split(jr.key(0), 4)
    w, c_e, c_i = snn.Constant(p.j_mv), int(p.c_e), int(p.epsilon * p.n_i)
    projections = [
        snn.connect(exc, exc, snn.FixedInDegree(c_e), w, key=k[0], delay_ms=1.5),
        snn.connect(exc, inh, snn.FixedInDegree(c_e), w, key=k[1], delay_ms=1.5),
        snn.connect(inh, exc, snn.FixedInDegree(c_i), w, key=k[2], scale=5.0, delay_ms=1.5),
        snn.connect(inh, inh, snn.FixedInDegree(c_i), w, key=k[3], scale=5.0, delay_ms=1.5),
    ]
    nu_ext = 2.0 * float(theory.brunel_nu_thr_hz(p))
    drives = [
        snn.PoissonDrive(f"ext_{q.name}", q.name, q.n, c_e, nu_ext, p.j_mv) for q in (exc, inh)
    ]
    net = snn.Network([exc, inh], projections, drives)
    state = snn.init_state(net, dt_ms=0.1)
    state, _ = snn.simulate(net, state, 2000, dt_ms=0.1, key=jr.key(1))
    _, rec = snn.simulate(
        net, state, 10_000, dt_ms=0.1, key=jr.key(2), record=snn.Record(counts=True)
    )
    expected = float(theory.brunel_self_consistent_rate_hz(5.0, 2.0, p))
    for name in ("E", "I"):
        assert float(np.mean(np.asarray(rec.counts[name]))) == pytest.approx(expected, rel=0.03)

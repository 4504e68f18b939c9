"""Noise and strong drive drawn inside the scan: white noise and Ornstein-Uhlenbeck currents
(free-membrane moments against closed forms, for two values of dt) and the Poisson drive
(spike-count statistics)."""

import math

import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import jaxsnn as snn

N, TAU_M = 1000, 10.0


def _free_v(inp, dt, seconds, burn_in_ms, every_ms=1.0, v_rest=-60.0):
    """V of N free LIF neurons (τ_m = 10 ms, rest −60 mV) driven by one population input,
    sampled every `every_ms` after the burn-in."""
    pop = snn.Population("P", N, snn.LIF(tau_mem_ms=TAU_M, v_rest_mv=v_rest, v_th_mv=1e9))
    net = snn.Network([pop], [], [inp])
    every = int(round(every_ms / dt))
    steps = int(round(seconds * 1000 / dt))
    _, rec = snn.simulate(
        net, snn.init_state(net), steps, dt_ms=dt, key=jr.key(3),
        record=snn.Record(voltages="P", every=every),
    )  # fmt: skip
    return np.asarray(rec.v["P"][int(burn_in_ms / every_ms) :], np.float64)


@pytest.mark.parametrize("dt", [0.1, 1.0])
def test_white_noise_free_membrane_variance_is_sigma_squared_over_two_for_every_dt(dt):
    """Brunel's convention: tau·dV/dt = −(V − v_rest) + μ + σ·sqrt(tau)·ξ, stationary
    mean v_rest + μ and variance σ²/2, integrated exactly per step, so the same at
    dt = 0.1 ms and at dt = 1 ms (a tenth of τ_m). N·5 s sampled every 5 ms (τ_m/2 apart:
    ~10⁶ samples, correlated by exp(−1/2)): standard errors ~0.004 mV (mean) and ~0.3 %
    (variance); tolerances 0.02 mV and 2 %."""
    sigma, mu = 3.0, 4.0
    v = _free_v(snn.WhiteNoise("xi", "P", N, sigma, mu), dt, 5.0, 100.0, every_ms=5.0)
    assert v.mean() == pytest.approx(-60.0 + mu, abs=0.02)
    assert v.var() == pytest.approx(sigma**2 / 2, rel=0.02)


@pytest.mark.parametrize("dt", [0.1, 0.5])
def test_ornstein_uhlenbeck_current_free_membrane_matches_the_exact_discrete_moments(dt):
    """The current is an AR(1) (a = exp(−dt/τ_I), stationary std σ), held over each step;
    the membrane V_k = b·V_{k−1} + (1 − b)·I_k then has variance
    (1 − b)²·σ²·(1 + ab) / ((1 − b²)(1 − ab)), which tends to σ²·τ_I/(τ_I + τ_m) as dt → 0.
    N·5 s after 100 ms (20 τ_I) of burn-in; tolerances 0.02 mV (mean), 2 % (variance)."""
    sigma, mu, tau_i = 2.0, 3.0, 5.0
    v = _free_v(snn.OrnsteinUhlenbeck("ou", "P", N, mu, sigma, tau_i), dt, 5.0, 100.0, 5.0)
    a, b = math.exp(-dt / tau_i), math.exp(-dt / TAU_M)
    var = (1 - b) ** 2 * sigma**2 * (1 + a * b) / ((1 - b * b) * (1 - a * b))
    assert var == pytest.approx(sigma**2 * tau_i / (tau_i + TAU_M), rel=0.02)  # near dt -> 0
    assert v.mean() == pytest.approx(-60.0 + mu, abs=0.02)
    assert v.var() == pytest.approx(var, rel=0.02)


def _drive_counts(counts, mean_per_step, steps=200, n=2000):
    """Total spikes each of n neurons received from a PoissonDrive over `steps` steps,
    read from a membrane that neither leaks (tau = 1e9 ms: exp(−dt/tau) rounds to 1 in
    float32) nor fires, with delta synapses of weight 1."""
    pop = snn.Population("P", n, snn.LIF(tau_mem_ms=1e9, v_th_mv=1e9))
    rate_hz = mean_per_step / (100 * 0.1e-3)  # 100 sources, dt = 0.1 ms
    drive = snn.PoissonDrive("ext", "P", n, 100, rate_hz, 1.0, counts=counts)
    net = snn.Network([pop], [], [drive])
    _, rec = snn.simulate(
        net,
        snn.init_state(net),
        steps,
        dt_ms=0.1,
        key=jr.key(4),
        record=snn.Record(voltages="P", every=steps),
    )
    return np.asarray(rec.v["P"][-1], np.float64)


@pytest.mark.parametrize("mean_per_step", [0.3, 3.0, 40.0], ids=["sparse", "brunel", "normal"])
@pytest.mark.parametrize("kind", ["poisson", "binomial"])
def test_poisson_drive_counts_have_the_stated_distribution(kind, mean_per_step):
    """Sum over 200 steps of the per-step counts of 100 sources: Poisson counts have
    variance = mean, binomial ones mean·(1 − p) (p per source and step), for small means
    (exact inverse-CDF draws) and for a mean of 40 per step (normal approximation). N = 2000
    neurons: standard errors ~0.3 % (mean) and ~3 % (variance); tolerances 1 % and 10 %;
    the per-step counts are integers."""
    counts = snn.PoissonCounts() if kind == "poisson" else snn.BinomialCounts()
    total = _drive_counts(counts, mean_per_step)
    assert np.all(total == np.round(total))
    mean = 200 * mean_per_step
    p = mean_per_step / 100
    var = mean if kind == "poisson" else mean * (1 - p)
    assert total.mean() == pytest.approx(mean, rel=0.01)
    assert total.var() == pytest.approx(var, rel=0.1)


def test_poisson_drive_equals_many_channels_in_distribution():
    """A binomial drive of 100 sources at 20 Hz and 100 PoissonInput channels projecting
    all-to-one give the same count distribution per neuron and step (mean and the
    probability of no spike, against Binomial(100, 0.002))."""
    n, steps = 400, 2000
    pop = snn.Population("P", n, snn.LIF(tau_mem_ms=1e9, v_th_mv=1e9))
    drive = snn.PoissonDrive("ext", "P", n, 100, 20.0, 1.0, counts=snn.BinomialCounts())
    net = snn.Network([pop], [], [drive])
    _, rec = snn.simulate(
        net, snn.init_state(net), steps, dt_ms=0.1, key=jr.key(5), record=snn.Record(voltages="P")
    )
    per_step = np.diff(np.asarray(rec.v["P"], np.float64), axis=0, prepend=0.0)
    p = 20.0 * 0.1e-3
    assert per_step.mean() == pytest.approx(100 * p, rel=0.02)
    assert (per_step == 0).mean() == pytest.approx((1 - p) ** 100, abs=0.003)


def test_poisson_drive_through_a_conductance_gives_the_coba_mean():
    """10 000 sources at 10 Hz through ExpConductance(5 ms, 0 mV), weight 0.001: mean
    conductance ḡ = C·ν·w·τ = 0.5 (units of g_L), V ≈ (v_rest + ḡ·E)/(1 + ḡ) to first order
    (REFERENCES §7.3; fluctuations of g are ~3 % here, so within 0.2 mV)."""
    n = 200
    pop = snn.Population("P", n, snn.LIF(tau_mem_ms=TAU_M, v_rest_mv=-60.0, v_th_mv=1e9))
    drive = snn.PoissonDrive("ext", "P", n, 10_000, 10.0, 1e-3, snn.ExpConductance(5.0, 0.0))
    net = snn.Network([pop], [], [drive])
    _, rec = snn.simulate(
        net,
        snn.init_state(net),
        5000,
        dt_ms=0.1,
        key=jr.key(6),
        record=snn.Record(voltages="P", every=10),
    )
    g = 10_000 * 10.0e-3 * 1e-3 * 5.0
    assert float(jnp.mean(rec.v["P"][100:])) == pytest.approx(-60.0 / (1 + g), abs=0.2)

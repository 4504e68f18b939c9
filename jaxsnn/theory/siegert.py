"""Stationary rate of the white-noise-driven LIF (the Siegert formula), its sigma -> 0
limit, and the threshold shift of a discrete-time simulation.

Model and conventions: `jaxsnn.theory` (sigma is Brunel's noise intensity, as
`WhiteNoise.sigma_mv`; the free membrane's standard deviation is sigma/sqrt(2)).
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from .._checks import check_finite, check_nonnegative, check_positive, is_concrete
from ._numerics import CUT, decay_length, float_dtype, rule, sinh_rule
from .erfcx import erfcx

_SQRT_PI = math.sqrt(math.pi)
# |ζ(1/2)|/sqrt(2π): the mean overshoot of a Gaussian random walk over a far barrier, in
# units of the step's standard deviation (Siegmund 1979, "Corrected diffusion
# approximations in certain random walk problems", Adv. Appl. Prob. 11).
_OVERSHOOT = 1.4603545088095868 / math.sqrt(2 * math.pi)


def check_lif(sigma_mv, tau_m_ms, theta_mv, v_reset_mv, tau_ref_ms, mu_mv) -> None:
    """Raise ValueError naming the argument for concrete values out of range."""
    check_finite("mu_mv", mu_mv)
    check_nonnegative("sigma_mv", sigma_mv)
    check_positive("tau_m_ms", tau_m_ms)
    check_finite("theta_mv", theta_mv)
    check_finite("v_reset_mv", v_reset_mv)
    check_nonnegative("tau_ref_ms", tau_ref_ms)
    if is_concrete(theta_mv) and is_concrete(v_reset_mv):
        if not np.all(np.asarray(v_reset_mv, np.float64) < np.asarray(theta_mv, np.float64)):
            raise ValueError(
                f"theta_mv must be above v_reset_mv, got theta_mv={theta_mv}, "
                f"v_reset_mv={v_reset_mv}"
            )


def prepare(mu_mv, sigma_mv, tau_m_ms, theta_mv, v_reset_mv, tau_ref_ms):
    """Check (concrete values now, traced ones at run time with `eqx.error_if`) and
    convert the arguments to arrays of one float dtype."""
    check_lif(sigma_mv, tau_m_ms, theta_mv, v_reset_mv, tau_ref_ms, mu_mv)
    args = (mu_mv, sigma_mv, tau_m_ms, theta_mv, v_reset_mv, tau_ref_ms)
    dtype = float_dtype(*args)
    mu, sigma, tau, theta, v_r, t_ref = (jnp.asarray(x, dtype) for x in args)
    bad = jnp.any((sigma < 0) | (tau <= 0) | (theta <= v_r) | (t_ref < 0))
    if not is_concrete(bad):
        message = "need sigma_mv >= 0, tau_m_ms > 0, theta_mv > v_reset_mv, tau_ref_ms >= 0"
        sigma = eqx.error_if(sigma, bad, message)
    return mu, sigma, tau, theta, v_r, t_ref


def lif_rate_hz(
    mu_mv: ArrayLike,
    *,
    tau_m_ms: ArrayLike,
    theta_mv: ArrayLike,
    v_reset_mv: ArrayLike,
    tau_ref_ms: ArrayLike,
) -> Array:
    """Rate of a deterministic LIF under a constant drive (the sigma -> 0 limit of
    `siegert_rate_hz`): 1/(tau_ref + tau_m·ln((mu - v_reset)/(mu - theta))) for
    mu > theta, 0 otherwise (REFERENCES.md §7.1).

    Args:
        mu_mv: stationary free membrane potential mu (mV, relative to rest), any shape.
        tau_m_ms, theta_mv, v_reset_mv, tau_ref_ms: membrane time constant (ms, > 0),
            threshold and reset (mV, theta > v_reset), refractory period (ms, >= 0);
            scalars or broadcastable arrays.

    Returns:
        The rate (Hz), broadcast shape.

    Raises:
        ValueError: for a concrete argument out of range, naming it.
    """
    mu, _, tau, theta, v_r, t_ref = prepare(mu_mv, 0.0, tau_m_ms, theta_mv, v_reset_mv, tau_ref_ms)
    return deterministic_rate_hz(mu, tau, theta, v_r, t_ref)


def deterministic_rate_hz(mu, tau, theta, v_r, t_ref):
    fires = mu > theta
    ratio = jnp.where(fires, (mu - v_r) / jnp.where(fires, mu - theta, 1.0), 2.0)
    return jnp.where(fires, 1000.0 / (t_ref + tau * jnp.log(ratio)), 0.0)


def scaled_y(mu, sigma, theta, v_r):
    """(y_r, y_theta, noisy). Where sigma = 0 the callers take the deterministic branch;
    sigma is replaced there (and floored at 1e-10·(theta - v_reset)) so that the other
    branch stays finite, also in its gradient."""
    noisy = sigma > 0
    floor = 1e-10 * (theta - v_r)
    s = jnp.where(noisy, jnp.maximum(sigma, floor), 1.0)
    return (v_r - mu) / s, (theta - mu) / s, noisy


def scaled_mean_isi(y_r, y_th, tau, t_ref):
    """(e^{-b²}·E[ISI] (ms), e^{-b²}), b = max(y_theta, 0), from Brunel's Eq. 21."""
    b = jnp.maximum(y_th, 0.0)
    eb = jnp.exp(-b * b)
    # u <= 0: ∫ erfcx(-u) du = ∫_{w_lo}^{w_hi} erfcx(w) dw, w = -u (sinh rule);
    # u >= 0: e^{-b²}∫_c^b (2e^{u²} - erfcx(u)) du, the erfcx term on [c, b] ...
    xn, wn = sinh_rule(jnp.maximum(-y_th, 0.0), jnp.maximum(-y_r, 0.0))
    c = jnp.maximum(y_r, 0.0)
    xp, wp = rule(c, b)
    x = jnp.concatenate([xn, xp], -1)
    w = eb[..., None] * jnp.concatenate([wn, -wp], -1)
    # ... and the growing term with u = b - t, cut where e^{-t(2b - t)} < e^{-CUT}.
    t, wt = rule(0.0 * b, jnp.minimum(b - c, decay_length(b, CUT)))
    growing = 2.0 * jnp.exp(-t * (2 * b[..., None] - t))
    integral = jnp.sum(erfcx(x) * w, -1) + jnp.sum(growing * wt, -1)
    return eb * t_ref + tau * _SQRT_PI * integral, eb


def siegert_rate_hz(
    mu_mv: ArrayLike,
    sigma_mv: ArrayLike,
    *,
    tau_m_ms: ArrayLike,
    theta_mv: ArrayLike,
    v_reset_mv: ArrayLike,
    tau_ref_ms: ArrayLike,
) -> Array:
    """Stationary rate of a LIF neuron driven by white noise (Siegert 1951; Brunel &
    Hakim 1999; Brunel 2000, Eq. 21)::

        1/nu = tau_ref + tau_m·sqrt(pi)·∫_{(v_reset-mu)/sigma}^{(theta-mu)/sigma} e^{u²}(1 + erf u) du

    for tau_m·dV/dt = -V + mu + sigma·sqrt(tau_m)·xi(t) (`jaxsnn.theory`: sigma is
    Brunel's noise intensity, as `WhiteNoise.sigma_mv`; the free membrane's standard
    deviation is sigma/sqrt(2)). At sigma = 0 it returns the deterministic rate
    (`lif_rate_hz`), its limit as sigma -> 0. Continuous time: a simulation with step dt
    that checks the threshold once per step fires less (`discrete_threshold_shift_mv`).

    Stable for every mu and sigma (no overflow; far below threshold the rate underflows
    to 0), jit/vmap/grad-able (smooth in mu and sigma for sigma > 0). Relative error
    against SciPy's adaptive quadrature < 1e-12 in float64, < 1e-5 in float32.

    Args:
        mu_mv: mean drive mu (mV, relative to rest), any shape.
        sigma_mv: noise intensity sigma (mV), >= 0, broadcastable with `mu_mv`.
        tau_m_ms: membrane time constant (ms), > 0.
        theta_mv: threshold (mV), > v_reset_mv.
        v_reset_mv: reset potential (mV).
        tau_ref_ms: absolute refractory period (ms), >= 0.

    Returns:
        The rate (Hz), broadcast shape, float dtype of the inputs.

    Raises:
        ValueError: for a concrete argument out of range (sigma_mv < 0, tau_m_ms <= 0,
            theta_mv <= v_reset_mv, tau_ref_ms < 0, non-finite), naming it; traced
            arguments are checked at run time (`eqx.error_if`).
    """
    args = prepare(mu_mv, sigma_mv, tau_m_ms, theta_mv, v_reset_mv, tau_ref_ms)
    return siegert_rate_core(*args)


@jax.jit
def siegert_rate_core(mu, sigma, tau, theta, v_r, t_ref):
    """`siegert_rate_hz` on prepared arrays, unchecked."""
    mu, sigma, tau, theta, v_r, t_ref = jnp.broadcast_arrays(mu, sigma, tau, theta, v_r, t_ref)
    y_r, y_th, noisy = scaled_y(mu, sigma, theta, v_r)
    scaled_isi, eb = scaled_mean_isi(y_r, y_th, tau, t_ref)
    noisy_rate = 1000.0 * eb / scaled_isi
    return jnp.where(noisy, noisy_rate, deterministic_rate_hz(mu, tau, theta, v_r, t_ref))


def discrete_threshold_shift_mv(sigma_mv: ArrayLike, *, dt_ms: float, tau_m_ms: ArrayLike) -> Array:
    """Effective threshold increase of a simulation that checks V > theta once per step.

    Between two checks V moves by a Gaussian step of standard deviation
    s = sigma·sqrt(dt/tau_m) (to leading order in dt; `LIF`'s exact per-step variance is
    sigma²·(1 - e^{-2dt/tau_m})/2); crossings in between are missed, and a random walk
    with such steps first exceeds a far barrier on average |ζ(1/2)|/sqrt(2π)·s = 0.5826·s
    beyond it (Siegmund 1979). So, to first order in sqrt(dt)::

        rate(dt) ≈ siegert_rate_hz(mu, sigma, theta_mv=theta + shift, ...),
        shift = |ζ(1/2)|/sqrt(2π)·sigma·sqrt(dt/tau_m).

    Fourcaud & Brunel (2002) shift threshold and reset by sigma·|ζ(1/2)|/sqrt(2)·
    sqrt(tau_s/tau_m) for synaptic filtering with time constant tau_s: the same ζ(1/2),
    but a step dt acts like tau_s = dt/π, not tau_s = dt, and the reset (exact in a
    simulation) does not move. Simulations of `LIF` + `WhiteNoise` confirm this shift
    (tests/test_theory.py): at dt = 0.1 ms, tau_m = 20 ms it lowers the rate by 1-7 %
    and leaves an O(dt) remainder below 1 %, and the deviation halves from dt = 0.1 to
    0.025 ms. It applies as well to shot noise summed per step (many small delta-synapse
    jumps per step, as `PoissonDrive` delivers them): V is then a random walk sampled
    every dt, and isolated neurons under Brunel's Poisson drive fire 4 % (full size) to
    12 % (scale 0.1) below the uncorrected rate and within 0.5 % of the corrected one
    (tests/test_brunel2000.py).

    Args:
        sigma_mv: noise intensity sigma (mV), >= 0.
        dt_ms: simulation step (ms), > 0.
        tau_m_ms: membrane time constant (ms), > 0.

    Returns:
        The shift (mV), shape of `sigma_mv`.
    """
    check_nonnegative("sigma_mv", sigma_mv)
    check_positive("dt_ms", dt_ms)
    check_positive("tau_m_ms", tau_m_ms)
    sigma = jnp.asarray(sigma_mv)
    sigma = sigma.astype(float_dtype(sigma))
    return _OVERSHOOT * sigma * jnp.sqrt(dt_ms / jnp.asarray(tau_m_ms, sigma.dtype))

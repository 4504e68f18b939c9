"""The stationary state of Brunel's (2000) sparse E-I network of LIF neurons (model A):
the diffusion approximation of its input and the self-consistent rate and ISI CV.

Brunel N (2000), "Dynamics of sparsely connected networks of excitatory and inhibitory
spiking neurons", J Comput Neurosci 8:183-208.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from .._checks import check_finite, check_int, check_nonnegative, check_positive, is_concrete
from ._numerics import float_dtype
from .isi_cv import siegert_cv
from .siegert import check_lif, siegert_rate_core, siegert_rate_hz

BRUNEL_FIG8: dict[str, tuple[float, float]] = {
    "A": (3.0, 2.0),  # synchronous regular (SR)
    "B": (6.0, 4.0),  # synchronous irregular, fast oscillation (SI fast)
    "C": (5.0, 2.0),  # asynchronous irregular (AI)
    "D": (4.5, 0.9),  # synchronous irregular, slow oscillation (SI slow)
}
"""(g, eta) of the four panels of Brunel (2000), Fig. 8, as in Brian2's reproduction of
that figure (`examples/frompapers/Brunel_2000.py`, with the parameters that are
`BrunelParams`' defaults). The stationary solution exists in all four; it is the state
the network settles in only where it is stable (C, the AI state); in A, B and D the
network oscillates and its mean rate need not equal it."""


class BrunelParams(eqx.Module):
    """Brunel's (2000) model A: N_E excitatory and N_I inhibitory LIF neurons (identical),
    each receiving C_E = epsilon·N_E excitatory synapses of weight J, C_I = epsilon·N_I
    inhibitory ones of weight -g·J, and C_ext = C_E external Poisson inputs of weight J at
    rate nu_ext = eta·nu_thr, all delta synapses (PSP jumps) with delay D. Defaults: the
    paper's network (N_E = 10 000, N_I = 2500, epsilon = 0.1, tau = 20 ms, theta = 20 mV,
    V_r = 10 mV, tau_rp = 2 ms) with J = 0.1 mV and D = 1.5 ms, as in Brian2's
    reproduction of its Fig. 8 and NEST's `brunel_delta_nest.py`.

    Attributes:
        n_e: number of excitatory neurons N_E, >= 1.
        n_i: number of inhibitory neurons N_I, >= 1 (gamma = N_I/N_E = C_I/C_E).
        epsilon: connection probability, in (0, 1].
        j_mv: excitatory PSP jump J (mV), > 0.
        delay_ms: synaptic delay D (ms), >= 0 (no effect on the stationary state; it
            shapes the oscillatory instabilities of Brunel's phase diagram).
        tau_m_ms: membrane time constant tau (ms), > 0.
        theta_mv: threshold theta (mV).
        v_reset_mv: reset V_r (mV), < theta.
        tau_ref_ms: refractory period tau_rp (ms), > 0 (the self-consistent rate is
            looked for in [0, 1/tau_rp]).
    """

    n_e: int = 10_000
    n_i: int = 2_500
    epsilon: float | Array = 0.1
    j_mv: float | Array = 0.1
    delay_ms: float | Array = 1.5
    tau_m_ms: float | Array = 20.0
    theta_mv: float | Array = 20.0
    v_reset_mv: float | Array = 10.0
    tau_ref_ms: float | Array = 2.0

    def __check_init__(self):
        check_int("n_e", self.n_e, minimum=1)
        check_int("n_i", self.n_i, minimum=1)
        check_positive("epsilon", self.epsilon)
        if is_concrete(self.epsilon) and not np.all(np.asarray(self.epsilon) <= 1):
            raise ValueError(f"epsilon must be <= 1, got {self.epsilon}")
        check_positive("j_mv", self.j_mv)
        check_nonnegative("delay_ms", self.delay_ms)
        check_positive("tau_ref_ms", self.tau_ref_ms)
        check_lif(0.0, self.tau_m_ms, self.theta_mv, self.v_reset_mv, self.tau_ref_ms, 0.0)

    @property
    def c_e(self):
        """C_E = epsilon·N_E, excitatory (and external) inputs per neuron."""
        return self.epsilon * self.n_e

    @property
    def gamma(self) -> float:
        """gamma = C_I/C_E = N_I/N_E (0.25 by default)."""
        return self.n_i / self.n_e


def brunel_nu_thr_hz(params: BrunelParams = BrunelParams()) -> Array:
    """nu_thr = theta/(J·C_E·tau) (Hz): the external rate that alone brings the mean
    input to threshold (Brunel 2000); 10 Hz for the defaults."""
    p = params
    return jnp.asarray(1000.0 * p.theta_mv / (p.j_mv * p.c_e * p.tau_m_ms))


def brunel_mu_sigma(
    nu_hz: ArrayLike, g: ArrayLike, eta: ArrayLike, params: BrunelParams = BrunelParams()
) -> tuple[Array, Array]:
    """Mean and noise intensity of the input of a model-A neuron when every neuron fires
    at nu (Brunel 2000's diffusion approximation, external rate nu_ext = eta·nu_thr)::

        mu    = C_E·J·tau·(nu_ext + nu·(1 - g·gamma))
        sigma = J·sqrt(C_E·tau·(nu_ext + nu·(1 + g²·gamma)))

    (tau in s, rates in Hz; sigma in the convention of `siegert_rate_hz`, i.e. the free
    membrane's variance is sigma²/2, Campbell's J²·C·nu·tau/2). At nu = 0, eta = 2:
    mu_ext = 40 mV, sigma_ext = 2 mV.

    Args:
        nu_hz: network rate nu (Hz), >= 0, any shape.
        g: relative strength of inhibition (J_I = -g·J).
        eta: nu_ext/nu_thr, >= 0.
        params: the network (`BrunelParams`).

    Returns:
        (mu_mv, sigma_mv), broadcast shape.
    """
    check_nonnegative("nu_hz", nu_hz)
    check_finite("g", g)
    check_nonnegative("eta", eta)
    dtype = float_dtype(nu_hz, g, eta)
    nu, g, eta = (jnp.asarray(x, dtype) for x in (nu_hz, g, eta))
    return _mu_sigma(nu, g, eta, params)


def _mu_sigma(nu, g, eta, p: BrunelParams) -> tuple[Array, Array]:
    tau_s = p.tau_m_ms * 1e-3
    nu_ext = eta * brunel_nu_thr_hz(p).astype(nu.dtype)
    mu = p.c_e * p.j_mv * tau_s * (nu_ext + nu * (1.0 - g * p.gamma))
    sigma = p.j_mv * jnp.sqrt(p.c_e * tau_s * (nu_ext + nu * (1.0 + g * g * p.gamma)))
    return mu, sigma


def brunel_rate_residual_hz(
    nu_hz: ArrayLike, g: ArrayLike, eta: ArrayLike, params: BrunelParams = BrunelParams()
) -> Array:
    """phi(mu(nu), sigma(nu)) - nu (Hz), phi = `siegert_rate_hz`: zero at a stationary
    state of model A. Evaluate it on a grid of nu to see every stationary solution."""
    mu, sigma = brunel_mu_sigma(nu_hz, g, eta, params)
    p = params
    rate = siegert_rate_hz(
        mu,
        sigma,
        tau_m_ms=p.tau_m_ms,
        theta_mv=p.theta_mv,
        v_reset_mv=p.v_reset_mv,
        tau_ref_ms=p.tau_ref_ms,
    )
    return rate - nu_hz


_BISECTIONS = 100  # halvings of [0, 1/tau_rp]: float64 resolution for any rate > 1e-28 Hz


def brunel_self_consistent_rate_hz(
    g: ArrayLike, eta: ArrayLike, params: BrunelParams = BrunelParams()
) -> Array:
    """Stationary rate of Brunel's model A: the nu with nu = phi(mu(nu), sigma(nu))
    (Brunel 2000, Eq. 21 with the mu and sigma of `brunel_mu_sigma`).

    Solved by bisection on [0, 1/tau_rp] (100 halvings, a fixed count: jit- and
    vmap-able), which always brackets a root: the residual is phi(mu_ext, sigma_ext) >= 0
    at nu = 0 and phi - 1/tau_rp < 0 at nu = 1/tau_rp. Where several stationary
    solutions exist (possible when excitation dominates, g < 4) it returns one of them;
    `brunel_rate_residual_hz` on a grid shows them all. A final Newton step with the
    slope held fixed makes the result differentiable in g, eta and the parameters
    (implicit function theorem: dnu/dp = -(dR/dp)/(dR/dnu)).

    Values for the defaults (agreeing to 1e-5 with an all-SciPy solution, quad + brentq;
    tests/test_theory.py): Fig. 8 C, the AI state (g = 5, eta = 2): 37.95 Hz (mu = 21.03
    mV, sigma = 7.68 mV, CV 0.675). jaxsnn's simulation of the full network (12 500
    neurons, `PoissonDrive`, dt = 0.1 ms, 1 s after 200 ms) fires at 37.95 Hz (E) and
    37.93 Hz (I) (the slow test; benchmarks/brunel_drive.py, 200 ms from rest, gives
    36.8-37.4 Hz). Fig. 8 A (g = 3, eta = 2) 327.0 Hz, B (6, 4) 55.84 Hz, D (4.5, 0.9)
    6.517 Hz: stationary solutions that are unstable there (the network oscillates).

    Args:
        g: relative strength of inhibition, any shape (broadcast with `eta`).
        eta: nu_ext/nu_thr, >= 0.
        params: the network (`BrunelParams`).

    Returns:
        The rate (Hz), broadcast shape of g and eta.
    """
    check_finite("g", g)
    check_nonnegative("eta", eta)
    dtype = float_dtype(g, eta)
    g, eta = jnp.broadcast_arrays(jnp.asarray(g, dtype), jnp.asarray(eta, dtype))
    return _self_consistent_rate_hz(g, eta, params)


@eqx.filter_jit
def _self_consistent_rate_hz(g: Array, eta: Array, p: BrunelParams) -> Array:
    def residual(nu, g, eta, p):  # unchecked: runs inside the loop (the entry checked)
        mu, sigma = _mu_sigma(nu, g, eta, p)
        consts = (p.tau_m_ms, p.theta_mv, p.v_reset_mv, p.tau_ref_ms)
        return siegert_rate_core(mu, sigma, *(jnp.asarray(x, nu.dtype) for x in consts)) - nu

    # The root is found without gradients (nothing to trace through the loop) ...
    g0, eta0, p0 = jax.lax.stop_gradient((g, eta, p))

    def halve(_, bracket):
        lo, hi = bracket
        mid = (lo + hi) / 2
        up = residual(mid, g0, eta0, p0) > 0
        return jnp.where(up, mid, lo), jnp.where(up, hi, mid)

    hi = jnp.full_like(g0, 1000.0) / jnp.asarray(p0.tau_ref_ms, g0.dtype)
    lo, hi = jax.lax.fori_loop(0, _BISECTIONS, halve, (jnp.zeros_like(g0), hi))
    nu = (lo + hi) / 2
    slope = jnp.vectorize(jax.grad(residual), excluded={3})(nu, g0, eta0, p0)
    # ... and one Newton step with the slope held fixed carries them (implicit function
    # theorem: d nu = -dR/slope for the parameters' part dR of the residual).
    step = residual(nu, g, eta, p) / jnp.where(slope < 0, slope, -1.0)
    return jnp.where(slope < 0, nu - step, nu)


class BrunelStationaryState(eqx.Module):
    """The stationary state of Brunel's model A (`brunel_stationary_state`).

    Attributes:
        rate_hz: self-consistent rate nu (Hz).
        cv: CV of the ISI at that rate (`siegert_cv`).
        mu_mv: mean input mu (mV) at that rate.
        sigma_mv: noise intensity sigma (mV) at that rate.
    """

    rate_hz: Array
    cv: Array
    mu_mv: Array
    sigma_mv: Array


def brunel_stationary_state(
    g: ArrayLike, eta: ArrayLike, params: BrunelParams = BrunelParams()
) -> BrunelStationaryState:
    """Rate, ISI CV, mu and sigma of the stationary state of model A
    (`brunel_self_consistent_rate_hz`, then `brunel_mu_sigma` and `siegert_cv` at that
    rate). For the AI state (g = 5, eta = 2) and the defaults: 37.95 Hz, CV 0.675,
    mu = 21.03 mV, sigma = 7.68 mV.

    Args:
        g, eta, params: as for `brunel_self_consistent_rate_hz`.

    Returns:
        A `BrunelStationaryState`, each field of the broadcast shape of g and eta.
    """
    rate = brunel_self_consistent_rate_hz(g, eta, params)
    mu, sigma = brunel_mu_sigma(rate, g, eta, params)
    p = params
    cv = siegert_cv(
        mu,
        sigma,
        tau_m_ms=p.tau_m_ms,
        theta_mv=p.theta_mv,
        v_reset_mv=p.v_reset_mv,
        tau_ref_ms=p.tau_ref_ms,
    )
    return BrunelStationaryState(rate, cv, mu, sigma)

"""Mean-field theory of the leaky integrate-and-fire neuron driven by white noise, and the
self-consistent stationary state of Brunel's (2000) sparse E-I network (model A).

Model (time in ms, voltages in mV, rates in Hz), the convention of Brunel (2000), Eq. 3,
and of `jaxsnn.WhiteNoise`:

    tau_m · dV/dt = -V + mu + sigma·sqrt(tau_m)·xi(t),   xi unit Gaussian white noise,

threshold theta, reset v_reset, absolute refractory period tau_ref. `sigma` is the noise
*intensity*, not the standard deviation of V: a free membrane (no threshold) has mean mu
and variance sigma²/2 (standard deviation sigma/sqrt(2)). Brunel's network gives
sigma² = J²·C·nu·tau_m for C Poisson inputs of rate nu and jump J (Campbell: variance
J²·C·nu·tau_m/2), and `WhiteNoise(sigma_mv=sigma, mean_mv=mu)` into a `LIF` with
`tau_mem_ms=tau_m` (and `v_rest_mv=0`) simulates this model.

Formulas, with y_theta = (theta - mu)/sigma and y_r = (v_reset - mu)/sigma:

- rate (Siegert 1951; Brunel & Hakim 1999; Brunel 2000, Eq. 21): `siegert_rate_hz`::

      1/nu = tau_ref + tau_m·sqrt(pi)·∫_{y_r}^{y_theta} e^{u²}(1 + erf u) du

- CV of the interspike interval (Tuckwell 1988; Brunel 2000): `siegert_cv`::

      CV² = 2π·(nu·tau_m)²·∫_{y_r}^{y_theta} e^{x²} dx ∫_{-∞}^{x} e^{y²}(1 + erf y)² dy

- sigma -> 0 (deterministic LIF): `lif_rate_hz`,
  nu = 1/(tau_ref + tau_m·ln((mu - v_reset)/(mu - theta))) for mu > theta, else 0.

- a simulation with step dt fires less: `discrete_threshold_shift_mv`.

- Brunel's model A: `BrunelParams`, `brunel_nu_thr_hz`, `brunel_mu_sigma`,
  `brunel_rate_residual_hz`, `brunel_self_consistent_rate_hz`, `brunel_stationary_state`,
  the Fig. 8 presets `BRUNEL_FIG8`.

Numerics. Written as printed, the integrands overflow (e^{u²} for u > 0) and cancel
(e^{u²}(1 + erf u) for u < 0). They are rewritten with the scaled complementary error
function `erfcx`: e^{u²}(1 + erf u) = erfcx(-u), which is erfcx(|u|) <= 1 for u <= 0 and
2e^{u²} - erfcx(u) for u > 0. Every integral is scaled by e^{-b²}, b = max(y_theta, 0),
so that nothing overflows, and computed by fixed-order Gauss-Legendre quadrature after a
change of variables that makes its integrand smooth (u = -sinh(t) on u < 0, where the
integrand decays like 1/|u|; u = b - t on u > 0, where it decays like e^{-2bt}, the range
cut where it has fallen by e^{-40}). Fixed order and no data-dependent control flow, so
every function works under `jit`, `vmap` and `grad`.

Modules: `erfcx`, `siegert` (rate, deterministic limit, discrete-time shift), `isi_cv`,
`brunel`.
"""

from .brunel import (
    BRUNEL_FIG8,
    BrunelParams,
    BrunelStationaryState,
    brunel_mu_sigma,
    brunel_nu_thr_hz,
    brunel_rate_residual_hz,
    brunel_self_consistent_rate_hz,
    brunel_stationary_state,
)
from .erfcx import erfcx
from .isi_cv import siegert_cv
from .siegert import discrete_threshold_shift_mv, lif_rate_hz, siegert_rate_hz

__all__ = [
    "BRUNEL_FIG8",
    "BrunelParams",
    "BrunelStationaryState",
    "brunel_mu_sigma",
    "brunel_nu_thr_hz",
    "brunel_rate_residual_hz",
    "brunel_self_consistent_rate_hz",
    "brunel_stationary_state",
    "discrete_threshold_shift_mv",
    "erfcx",
    "lif_rate_hz",
    "siegert_cv",
    "siegert_rate_hz",
]

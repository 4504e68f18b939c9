"""The reduced two-variable decision model of Wong & Wang (2006).

K.-F. Wong and X.-J. Wang, "A recurrent network mechanism of time integration in
perceptual decisions", J. Neurosci. 26:1314–1328 (2006): the mean-field reduction of the
Wang (2002) network (`jaxsnn.models.wang2002`) to the NMDA gating variables S1, S2 of the
two selective pools.

    dS_i/dt = −S_i/τ_S + (1 − S_i)·γ·H(x_i)
    H(x)    = (a·x − b) / (1 − exp(−d·(a·x − b)))                 (rate, Hz)
    x_1     = J_N11·S_1 − J_N12·S_2 + I_0 + I_1 + I_noise,1          (nA)
    x_2     = J_N22·S_2 − J_N21·S_1 + I_0 + I_2 + I_noise,2
    I_1     = J_A,ext·μ0·(1 + c/100),   I_2 = J_A,ext·μ0·(1 − c/100)  (during the stimulus)
    τ_AMPA·dI_noise,i/dt = −I_noise,i + η_i(t)·sqrt(τ_AMPA·σ²)       (η unit white noise)

Parameters (Wong & Wang 2006, Table/Methods; the two-variable model of their Fig. 5–6):
a = 270 Hz/nA, b = 108 Hz, d = 0.154 s, γ = 0.641, τ_S = 100 ms, J_N11 = J_N22 =
0.2609 nA, J_N12 = J_N21 = 0.0497 nA, I_0 = 0.3255 nA, J_A,ext = 5.2e-4 nA/Hz,
μ0 = 30 Hz, τ_AMPA = 2 ms, σ = 0.02 nA.

Units here: time in ms (so γ·H(x)/1000 is the per-ms rate), currents in nA, rates in Hz,
d in s (d·(a·x − b) is dimensionless with a·x − b in Hz).

Discrete update per step of dt (ms), in this order: the noise is the exact
Ornstein-Uhlenbeck update `I ← I·e + σ·sqrt((1 − e²)/2)·z`, e = exp(−dt/τ_AMPA),
z ~ N(0, 1) (stationary s.d. σ/√2, the stationary law of the equation above), then
S is advanced by forward Euler with the new noise,
`S ← clip(S + dt·(−S/τ_S + (1 − S)·γ·H(x)/1000), 0, 1)` (as the published code does,
dt = 0.5 ms; the clip only guards against an overshoot at very large dt).

Fixed points and their stability (`fixed_points`) come from the noise-free equations:
on the S1-nullcline, H(x_1) = S1/(γ·τ_S·(1 − S1)) (τ_S in s), which fixes x_1 and hence
S2 as a function of S1 (`nullclines`); a fixed point is a root of g2(g1(S1)) = S1 on a
fine grid, refined by bisection, in float64 NumPy. The Jacobian is analytic.
"""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import check_nonnegative, check_positive
from ._trial_timing import AbstractTrialTiming


class WongWang2006(eqx.Module):
    """The parameters of the reduced model (module docstring). Python floats (constants)
    or arrays (vmappable).

    Attributes:
        a_hz_per_na, b_hz, d_s: the input-output function H.
        gamma: saturation factor γ.
        tau_s_ms: NMDA gating time constant τ_S (ms).
        j_self_na: J_N11 = J_N22 (nA).
        j_cross_na: J_N12 = J_N21 (nA, entered as a positive magnitude; it inhibits).
        i0_na: background current I_0 (nA).
        j_ext_na_per_hz: stimulus coupling J_A,ext (nA/Hz).
        tau_noise_ms: noise time constant τ_AMPA (ms).
        sigma_na: noise amplitude σ (nA).
    """

    a_hz_per_na: float | Array = 270.0
    b_hz: float | Array = 108.0
    d_s: float | Array = 0.154
    gamma: float | Array = 0.641
    tau_s_ms: float | Array = 100.0
    j_self_na: float | Array = 0.2609
    j_cross_na: float | Array = 0.0497
    i0_na: float | Array = 0.3255
    j_ext_na_per_hz: float | Array = 5.2e-4
    tau_noise_ms: float | Array = 2.0
    sigma_na: float | Array = 0.02

    def __check_init__(self):
        for name in ("a_hz_per_na", "d_s", "gamma", "tau_s_ms", "tau_noise_ms"):
            check_positive(f"WongWang2006.{name}", getattr(self, name))
        for name in ("b_hz", "j_self_na", "j_cross_na", "i0_na", "j_ext_na_per_hz", "sigma_na"):
            check_nonnegative(f"WongWang2006.{name}", getattr(self, name))

    def rate_hz(self, x_na: Float[Array, "..."]) -> Float[Array, "..."]:
        """H(x) in Hz (JAX; the removable singularity at a·x = b is handled)."""
        y = self.a_hz_per_na * x_na - self.b_hz
        dy = self.d_s * y
        small = jnp.abs(dy) < 1e-4
        safe = jnp.where(small, 1.0, dy)
        exact = y / (-jnp.expm1(-safe))
        series = (1.0 + dy / 2.0) / self.d_s  # y/(1 − e^{−dy}) = (1/d)(1 + dy/2 + O(dy²))
        return jnp.where(small, series, exact)

    def currents_na(
        self, s: Float[Array, "... 2"], stimulus_na: Float[Array, "... 2"]
    ) -> Float[Array, "... 2"]:
        """x_1, x_2 (nA) without noise, given S and the stimulus currents I_1, I_2."""
        cross = s[..., ::-1]
        return self.j_self_na * s - self.j_cross_na * cross + self.i0_na + stimulus_na

    def stimulus_na(self, coherence_pct, mu0_hz: float) -> Float[Array, " 2"]:
        """I_1, I_2 = J_A,ext·μ0·(1 ± c/100) (nA)."""
        c = jnp.asarray(coherence_pct, jnp.result_type(float))
        return self.j_ext_na_per_hz * mu0_hz * jnp.stack([1.0 + c / 100.0, 1.0 - c / 100.0])

    def init(self, *, s0: float = 0.1, dtype=None) -> WongWangState:
        """S1 = S2 = s0 (the published code's start), no noise current."""
        dtype = jnp.result_type(float) if dtype is None else jnp.dtype(dtype)
        return WongWangState(jnp.full((2,), s0, dtype), jnp.zeros((2,), dtype))

    def step(
        self,
        state: WongWangState,
        stimulus_na: Float[Array, " 2"],
        key: PRNGKeyArray,
        *,
        dt_ms: float,
    ) -> tuple[WongWangState, Float[Array, " 2"]]:
        """One step (module docstring): `(state, rates_hz)`, the rates H(x) of this step."""
        dtype = state.s.dtype
        e = jnp.exp(-dt_ms / self.tau_noise_ms)
        z = jr.normal(key, (2,), dtype)
        noise = state.noise_na * e + self.sigma_na * jnp.sqrt((1.0 - e * e) / 2.0) * z
        x = self.currents_na(state.s, stimulus_na) + noise
        r = self.rate_hz(x)
        ds = -state.s / self.tau_s_ms + (1.0 - state.s) * self.gamma * r / 1000.0
        s = jnp.clip(state.s + dt_ms * ds, 0.0, 1.0)
        return WongWangState(s.astype(dtype), noise.astype(dtype)), r.astype(dtype)


class WongWangState(eqx.Module):
    """State of the reduced model.

    Attributes:
        s: (2,) NMDA gating variables S1, S2.
        noise_na: (2,) noise currents I_noise (nA).
    """

    s: Float[Array, " 2"]
    noise_na: Float[Array, " 2"]


class WongWangProtocol(AbstractTrialTiming):
    """Timing of a reduced-model trial: spontaneous period, then a constant stimulus of
    coherence c until the end (a reaction-time trial).

    Attributes:
        dt_ms: step (ms), 0.5 as in the published code.
        onset_ms: stimulus onset (ms).
        stimulus_ms: stimulus duration (ms); the trial ends with it.
        mu0_hz: stimulus rate μ0 (Hz).
        record_ms: rates are averaged over windows of this length (ms).
    """

    dt_ms: float = eqx.field(default=0.5, static=True)
    onset_ms: float = eqx.field(default=500.0, static=True)
    stimulus_ms: float = eqx.field(default=2000.0, static=True)
    mu0_hz: float = eqx.field(default=30.0, static=True)
    record_ms: float = eqx.field(default=1.0, static=True)

    def __check_init__(self):
        self.check_timing()
        check_nonnegative("WongWangProtocol.mu0_hz", self.mu0_hz)


def simulate_wong_wang(
    model: WongWang2006,
    coherence_pct: float | Float[Array, ""],
    key: PRNGKeyArray,
    protocol: WongWangProtocol = WongWangProtocol(),
    *,
    s0: float = 0.1,
) -> tuple[Float[Array, "windows 2"], Float[Array, "windows 2"]]:
    """One trial as a `lax.scan` (vmap over coherences and keys for many trials).

    Step t draws its noise from `fold_in(key, t)`; the stimulus is on from
    `protocol.onset_ms`.

    Returns:
        `(rates_hz, s)`: per recording window of `protocol.record_ms`, the mean rates
        H(x_1), H(x_2) (Hz) and S1, S2 at the window's end.
    """
    p = protocol
    stim = model.stimulus_na(coherence_pct, p.mu0_hz)
    onset = int(round(p.onset_ms / p.dt_ms))
    every = p.record_every
    windows = p.n_steps // every

    def one_step(state, t):
        on = (t >= onset).astype(stim.dtype)
        state, r = model.step(state, on * stim, jr.fold_in(key, t), dt_ms=p.dt_ms)
        return state, r

    def one_window(state, w):
        state, r = jax.lax.scan(one_step, state, w * every + jnp.arange(every))
        return state, (jnp.mean(r, axis=0), state.s)

    _, (rates, s) = jax.lax.scan(one_window, model.init(s0=s0), jnp.arange(windows))
    return rates, s


# --- fixed points and nullclines (NumPy, float64) ---


def _rate_np(model: WongWang2006, x):
    y = float(model.a_hz_per_na) * np.asarray(x, np.float64) - float(model.b_hz)
    dy = float(model.d_s) * y
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        exact = y / (-np.expm1(-dy))
    return np.where(np.abs(dy) < 1e-8, (1.0 + dy / 2.0) / float(model.d_s), exact)


def _rate_slope_np(model: WongWang2006, x):
    """dH/dx (Hz/nA)."""
    a, d = float(model.a_hz_per_na), float(model.d_s)
    y = a * np.asarray(x, np.float64) - float(model.b_hz)
    u = d * y
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        em = np.exp(-u)
        den = -np.expm1(-u)
        exact = (den - u * em) / den**2
    return a * np.where(np.abs(u) < 1e-6, 0.5 + u / 6.0, exact)


def _inverse_rate_np(model: WongWang2006, h):
    """x with H(x) = h (h > 0), by bisection on y = a·x − b (H is increasing)."""
    h = np.asarray(h, np.float64)
    a, b, d = float(model.a_hz_per_na), float(model.b_hz), float(model.d_s)
    lo = np.full(h.shape, -2000.0 / d)
    hi = np.maximum(h, 1.0 / d) + 1.0
    for _ in range(100):  # 2^-100 of the bracket: far below float64 resolution
        mid = 0.5 * (lo + hi)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            val = np.where(np.abs(d * mid) < 1e-8, 1.0 / d, mid / (-np.expm1(-d * mid)))
        lo, hi = np.where(val < h, mid, lo), np.where(val < h, hi, mid)
    return (0.5 * (lo + hi) + b) / a


def _nullcline_np(model: WongWang2006, s_own, stim_own):
    """S_other on the nullcline of S_own: from S_own/τ = (1 − S_own)·γ·H(x_own)."""
    tau_s = float(model.tau_s_ms) / 1000.0
    s_own = np.asarray(s_own, np.float64)
    h = s_own / (float(model.gamma) * tau_s * (1.0 - s_own))
    x = _inverse_rate_np(model, h)
    return (float(model.j_self_na) * s_own + float(model.i0_na) + stim_own - x) / float(
        model.j_cross_na
    )


@dataclasses.dataclass(frozen=True)
class FixedPoint:
    """A fixed point of the noise-free reduced model.

    Attributes:
        s: (S1, S2).
        rates_hz: (H(x_1), H(x_2)).
        eigenvalues: the Jacobian's eigenvalues (1/ms), complex.
        kind: "stable", "saddle" or "unstable".
    """

    s: tuple[float, float]
    rates_hz: tuple[float, float]
    eigenvalues: tuple[complex, complex]
    kind: str

    @property
    def stable(self) -> bool:
        return self.kind == "stable"


def _stimulus_np(model, coherence_pct, mu0_hz, stimulus):
    if not stimulus:
        return 0.0, 0.0
    j = float(model.j_ext_na_per_hz) * mu0_hz
    return j * (1.0 + coherence_pct / 100.0), j * (1.0 - coherence_pct / 100.0)


def nullclines(
    model: WongWang2006,
    *,
    coherence_pct: float = 0.0,
    mu0_hz: float = 30.0,
    stimulus: bool = True,
    points: int = 2001,
) -> tuple[np.ndarray, np.ndarray]:
    """The two nullclines inside the unit square, as (k, 2) arrays of (S1, S2) points.

    Returns:
        `(dS1/dt = 0, dS2/dt = 0)`: the S1-nullcline parametrised by S1, the S2-nullcline
        by S2; points outside [0, 1]² are dropped.
    """
    i1, i2 = _stimulus_np(model, coherence_pct, mu0_hz, stimulus)
    s = np.linspace(0.0, 1.0, points + 2)[1:-1]
    s2_on_1 = _nullcline_np(model, s, i1)
    s1_on_2 = _nullcline_np(model, s, i2)
    one = np.stack([s, s2_on_1], -1)
    two = np.stack([s1_on_2, s], -1)
    inside = lambda xy: xy[np.all((xy >= 0) & (xy <= 1), axis=1)]
    return inside(one), inside(two)


def jacobian(
    model: WongWang2006, s: tuple[float, float], stimulus_na: tuple[float, float]
) -> np.ndarray:
    """The 2x2 Jacobian of (dS1/dt, dS2/dt) (1/ms) at `s` without noise."""
    s = np.asarray(s, np.float64)
    stim = np.asarray(stimulus_na, np.float64)
    j_self, j_cross = float(model.j_self_na), float(model.j_cross_na)
    x = j_self * s - j_cross * s[::-1] + float(model.i0_na) + stim
    g = float(model.gamma) / 1000.0
    h, dh = _rate_np(model, x), _rate_slope_np(model, x)
    tau = float(model.tau_s_ms)
    jac = np.empty((2, 2))
    for i in range(2):
        other = 1 - i
        jac[i, i] = -1.0 / tau - g * h[i] + (1.0 - s[i]) * g * dh[i] * j_self
        jac[i, other] = (1.0 - s[i]) * g * dh[i] * (-j_cross)
    return jac


def fixed_points(
    model: WongWang2006,
    *,
    coherence_pct: float = 0.0,
    mu0_hz: float = 30.0,
    stimulus: bool = True,
    points: int = 20001,
) -> list[FixedPoint]:
    """The fixed points of the noise-free model in (0, 1)², sorted by S1, with their
    stability (module docstring).

    Args:
        model: the parameters (concrete numbers).
        coherence_pct: c (%).
        mu0_hz: stimulus rate μ0 (Hz).
        stimulus: False for the spontaneous (no-stimulus) system.
        points: grid points on which sign changes of g2(g1(S1)) − S1 are looked for.

    Returns:
        The `FixedPoint`s.
    """
    i1, i2 = _stimulus_np(model, coherence_pct, mu0_hz, stimulus)
    eps = 1e-9

    def residual(s1):
        s2 = _nullcline_np(model, s1, i1)
        ok = (s2 > eps) & (s2 < 1 - eps)
        s1_back = _nullcline_np(model, np.clip(s2, eps, 1 - eps), i2)
        return np.where(ok, s1_back - s1, np.nan)

    s1 = np.linspace(eps, 1 - eps, points)
    r = residual(s1)
    found = []
    for i in np.nonzero((r[:-1] * r[1:] <= 0) & np.isfinite(r[:-1]) & np.isfinite(r[1:]))[0]:
        lo, hi = s1[i], s1[i + 1]
        r_lo = r[i]
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            r_mid = residual(np.array([mid]))[0]
            if r_lo * r_mid <= 0:
                hi = mid
            else:
                lo, r_lo = mid, r_mid
        root = 0.5 * (lo + hi)
        if found and abs(root - found[-1]) < 1e-7:
            continue
        found.append(root)
    out = []
    for root in found:
        s2 = float(_nullcline_np(model, np.array([root]), i1)[0])
        s = (float(root), s2)
        ev = np.linalg.eigvals(jacobian(model, s, (i1, i2)))
        re = np.real(ev)
        kind = "stable" if np.all(re < 0) else "saddle" if np.any(re < 0) else "unstable"
        x = np.array(
            [
                float(model.j_self_na) * s[0]
                - float(model.j_cross_na) * s[1]
                + float(model.i0_na)
                + i1,
                float(model.j_self_na) * s[1]
                - float(model.j_cross_na) * s[0]
                + float(model.i0_na)
                + i2,
            ]
        )
        rates = _rate_np(model, x)
        out.append(
            FixedPoint(
                s=s,
                rates_hz=(float(rates[0]), float(rates[1])),
                eigenvalues=(complex(ev[0]), complex(ev[1])),
                kind=kind,
            )
        )
    return out


def vector_field(
    model: WongWang2006,
    s: Float[Array, "... 2"],
    *,
    coherence_pct: float = 0.0,
    mu0_hz: float = 30.0,
    stimulus: bool = True,
) -> np.ndarray:
    """(dS1/dt, dS2/dt) (1/ms) without noise at points `s` (NumPy, float64)."""
    s = np.asarray(s, np.float64)
    i = np.asarray(_stimulus_np(model, coherence_pct, mu0_hz, stimulus))
    x = float(model.j_self_na) * s - float(model.j_cross_na) * s[..., ::-1] + float(model.i0_na) + i
    h = _rate_np(model, x)
    return -s / float(model.tau_s_ms) + (1.0 - s) * float(model.gamma) * h / 1000.0


__all__ = [
    "FixedPoint",
    "WongWang2006",
    "WongWangProtocol",
    "WongWangState",
    "fixed_points",
    "jacobian",
    "nullclines",
    "simulate_wong_wang",
    "vector_field",
]

"""Coefficient of variation of the interspike interval of the white-noise-driven LIF.

Model and conventions: `jaxsnn.theory`.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.scipy.special import erfc
from jaxtyping import Array, ArrayLike

from ._numerics import CUT, NODES_IN, WEIGHTS_IN, decay_length, rule, sinh_rule
from .erfcx import erfcx
from .siegert import prepare, scaled_mean_isi, scaled_y


def _inner_negative(a):
    """H(x) = e^{x²}·∫_{-∞}^{x} e^{y²}(1 + erf y)² dy at x = -a <= 0 (elementwise), as
    ∫_0^∞ e^{-2as - s²}·erfcx(a + s)² ds (y = x - s), cut where the weight e^{-2as - s²}
    falls below e^{-CUT}."""
    s, w = rule(0.0 * a, CUT / (a + jnp.sqrt(a * a + CUT)), NODES_IN, WEIGHTS_IN)
    aa = a[..., None]
    return jnp.sum(jnp.exp(-s * (2 * aa + s)) * erfcx(aa + s) ** 2 * w, -1)


def _inner_positive(x, h0):
    """e^{-x²}·∫_{-∞}^{x} e^{y²}(1 + erf y)² dy at x >= 0 (elementwise): e^{-x²}·H(0)
    plus ∫_0^x e^{-s(2x - s)}·erfc(-(x - s))² ds (y = x - s; 1 + erf y = erfc(-y) in
    [1, 2])."""
    s, w = rule(0.0 * x, jnp.minimum(x, decay_length(x, CUT)), NODES_IN, WEIGHTS_IN)
    xx = x[..., None]
    inner = jnp.sum(jnp.exp(-s * (2 * xx - s)) * erfc(s - xx) ** 2 * w, -1)
    return jnp.exp(-x * x) * h0 + inner


def _scaled_isi_variance(y_r, y_th):
    """e^{-2b²}·∫_{y_r}^{y_theta} e^{x²} dx ∫_{-∞}^{x} e^{y²}(1 + erf y)² dy (units of
    tau_m²), b = max(y_theta, 0)."""
    b = jnp.maximum(y_th, 0.0)
    # x <= 0: the integrand is H(x) (bounded, ~1/(2π|x|³) as x -> -∞), x = -w (sinh
    # rule); H(0) is evaluated with it (one more node, w = 0).
    xn, wn = sinh_rule(jnp.maximum(-y_th, 0.0), jnp.maximum(-y_r, 0.0))
    h = _inner_negative(jnp.concatenate([xn, jnp.zeros_like(xn[..., :1])], -1))
    negative, h0 = jnp.sum(h[..., :-1] * wn, -1), h[..., -1]
    # x >= 0: e^{x²}·F(x) = e^{2x²}·(e^{-x²}F(x)); scaled by e^{-2b²}, x = b - t.
    c = jnp.maximum(y_r, 0.0)
    t, wt = rule(0.0 * b, jnp.minimum(b - c, decay_length(b, CUT / 2)))
    bb = b[..., None]
    outer = jnp.exp(-2 * t * (2 * bb - t)) * _inner_positive(bb - t, h0[..., None])
    return jnp.exp(-2 * b * b) * negative + jnp.sum(outer * wt, -1)


def siegert_cv(
    mu_mv: ArrayLike,
    sigma_mv: ArrayLike,
    *,
    tau_m_ms: ArrayLike,
    theta_mv: ArrayLike,
    v_reset_mv: ArrayLike,
    tau_ref_ms: ArrayLike,
) -> Array:
    """Coefficient of variation of the interspike interval of the white-noise-driven LIF
    of `siegert_rate_hz` (the ISI variance of the first-passage problem, Tuckwell 1988;
    used by Brunel & Hakim 1999 and Brunel 2000)::

        CV² = 2π·(nu·tau_m)²·∫_{y_r}^{y_theta} e^{x²} dx ∫_{-∞}^{x} e^{y²}(1 + erf y)² dy

    with nu = `siegert_rate_hz(...)` (per ms), y_theta = (theta - mu)/sigma,
    y_r = (v_reset - mu)/sigma. The double integral times tau_m² is the variance of the
    ISI; the refractory period shifts every ISI by tau_ref and only enters through nu.
    CV -> 0 as sigma -> 0 above threshold (regular firing; 0 at sigma = 0) and -> 1 far
    below threshold with nu·tau_ref << 1 (Poisson-like escape); NaN at sigma = 0 below
    threshold (no spikes). Nested fixed-order quadrature (up to 192 x 48 points, scaled as
    in `jaxsnn.theory`): jit/vmap/grad-able. Relative error against SciPy's nested
    adaptive quadrature < 1e-11 in float64, < 1e-5 in float32.

    Args:
        mu_mv, sigma_mv, tau_m_ms, theta_mv, v_reset_mv, tau_ref_ms: as for
            `siegert_rate_hz`.

    Returns:
        The CV (dimensionless), broadcast shape.

    Raises:
        ValueError: as `siegert_rate_hz`.
    """
    args = prepare(mu_mv, sigma_mv, tau_m_ms, theta_mv, v_reset_mv, tau_ref_ms)
    return siegert_cv_core(*args)


@jax.jit
def siegert_cv_core(mu, sigma, tau, theta, v_r, t_ref):
    """`siegert_cv` on prepared arrays, unchecked."""
    mu, sigma, tau, theta, v_r, t_ref = jnp.broadcast_arrays(mu, sigma, tau, theta, v_r, t_ref)
    y_r, y_th, noisy = scaled_y(mu, sigma, theta, v_r)
    scaled_isi, _ = scaled_mean_isi(y_r, y_th, tau, t_ref)
    variance = _scaled_isi_variance(y_r, y_th)
    cv = jnp.sqrt(2 * math.pi * variance) * tau / scaled_isi
    return jnp.where(noisy, cv, jnp.where(mu > theta, 0.0, jnp.nan))

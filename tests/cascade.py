"""Moments of shot noise through a cascade of first-order discrete filters (for the
free-membrane tests).

A spike train s_n ~ Bernoulli(p) i.i.d. drives y_n = q_1·y_{n-1} + u_n, then
z_n = q_2·z_{n-1} + y_n, ... (every stage takes its input of the same step) with an overall
gain G. The impulse response is h_n = G·Σ_i A_i·q_i^n with A_i = q_i^{m-1} / Π_{j≠i}(q_i − q_j)
(partial fractions of G / Π_i (1 − q_i·z⁻¹), distinct poles), so Campbell's theorem gives

    E = p·Σ_n h_n = p·G / Π_i (1 − q_i)
    Var = p(1 − p)·Σ_n h_n² = p(1 − p)·G²·Σ_{i,j} A_i·A_j / (1 − q_i·q_j).
"""

from __future__ import annotations

import math


def _residues(poles: list[float]) -> list[float]:
    m = len(poles)
    return [
        q ** (m - 1) / math.prod(q - r for j, r in enumerate(poles) if j != i)
        for i, q in enumerate(poles)
    ]


def impulse_response(gain: float, poles: list[float], n: int) -> list[float]:
    """h_0 .. h_{n-1}."""
    a = _residues(poles)
    return [gain * sum(ai * q**k for ai, q in zip(a, poles, strict=True)) for k in range(n)]


def moments(p: float, gain: float, poles: list[float]) -> tuple[float, float]:
    """(mean, variance) of the cascade's stationary output."""
    a = _residues(poles)
    mean = p * gain / math.prod(1 - q for q in poles)
    sq = sum(
        ai * aj / (1 - qi * qj)
        for ai, qi in zip(a, poles, strict=True)
        for aj, qj in zip(a, poles, strict=True)
    )
    return mean, p * (1 - p) * gain**2 * sq


def difference_moments(p: float, terms: list[tuple[float, list[float]]]) -> tuple[float, float]:
    """(mean, variance) of a sum of cascades driven by the same spikes: terms of
    (gain, poles); the variance includes the cross terms."""
    mean = sum(moments(p, g, poles)[0] for g, poles in terms)
    sq = 0.0
    for g1, p1 in terms:
        a1 = _residues(p1)
        for g2, p2 in terms:
            a2 = _residues(p2)
            sq += (
                g1
                * g2
                * sum(
                    x * y / (1 - qx * qy)
                    for x, qx in zip(a1, p1, strict=True)
                    for y, qy in zip(a2, p2, strict=True)
                )
            )
    return mean, p * (1 - p) * sq

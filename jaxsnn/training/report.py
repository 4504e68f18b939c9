"""Summaries over seeds: mean, standard deviation and the Student-t confidence interval
of the mean, computed in float64 on the host (NumPy and the standard library only).

For k accuracies a_1 .. a_k (one per seed), with mean m and sample standard deviation
s (ddof = 1), the 95 % interval of the mean is m ± t_{0.975, k-1} · s / sqrt(k), where
t_{q, ν} is the q-quantile of Student's t distribution with ν degrees of freedom. The
quantile is found by bisection on the t CDF,

    F(t) = 1 - I_{ν/(ν+t²)}(ν/2, 1/2) / 2   (t >= 0),

with I the regularised incomplete beta function, evaluated by its continued fraction
(Lentz's method). It is checked against SciPy in the tests.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import equinox as eqx
import numpy as np

_EPS, _TINY = 1e-15, 1e-300


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of I_x(a, b) (Numerical Recipes, `betacf`)."""
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, 10_000):
        for num in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + num / c
            c = c if abs(c) > _TINY else _TINY
            h *= d * c
        if abs(d * c - 1.0) < _EPS:
            return h
    raise ArithmeticError(f"incomplete beta did not converge for a={a}, b={b}, x={x}")


def regularized_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b) for a, b > 0 and x in [0, 1]."""
    if x <= 0.0 or x >= 1.0:
        return 0.0 if x <= 0.0 else 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    # the fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def student_t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with `df` > 0 degrees of freedom."""
    tail = 0.5 * regularized_beta(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def student_t_quantile(q: float, df: float) -> float:
    """The q-quantile of Student's t with `df` > 0 degrees of freedom, q in (0, 1)."""
    if not 0.0 < q < 1.0:
        raise ValueError(f"q must be in (0, 1), got {q}")
    if not df > 0:
        raise ValueError(f"df must be > 0, got {df}")
    if q < 0.5:
        return -student_t_quantile(1.0 - q, df)
    lo, hi = 0.0, 1.0
    while student_t_cdf(hi, df) < q:
        hi *= 2.0
    for _ in range(200):  # bisection to the last bit of a float64
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        lo, hi = (mid, hi) if student_t_cdf(mid, df) < q else (lo, mid)
    return 0.5 * (lo + hi)


class SeedsSummary(eqx.Module):
    """Mean, spread and confidence interval of one figure over seeds.

    Attributes:
        n: number of seeds.
        mean: the mean.
        std: the sample standard deviation (ddof = 1).
        ci_low, ci_high: the interval of the mean, mean ± half_width.
        half_width: t_{(1+level)/2, n-1} · std / sqrt(n).
        level: the confidence level (0.95).
    """

    n: int
    mean: float
    std: float
    ci_low: float
    ci_high: float
    half_width: float
    level: float

    def __str__(self) -> str:
        return (
            f"{self.mean:.4f} ± {self.half_width:.4f} ({self.level:.0%} CI over {self.n} "
            f"seeds; std {self.std:.4f})"
        )


def seeds_summary(accuracies: Sequence[float] | np.ndarray, *, level: float = 0.95) -> SeedsSummary:
    """Summarise one figure (e.g. test accuracy) measured once per seed.

    Args:
        accuracies: (n_seeds,) values, n_seeds >= 2, finite.
        level: confidence level, in (0, 1).

    Returns:
        A `SeedsSummary` (module docstring for the formula).

    Raises:
        ValueError: fewer than two values, non-finite values or a bad level.
    """
    a = np.asarray(accuracies, dtype=np.float64)
    if a.ndim != 1 or a.size < 2:
        raise ValueError(
            f"accuracies must be a 1-D sequence of at least 2 values (one per seed), got "
            f"shape {a.shape}"
        )
    if not np.all(np.isfinite(a)):
        raise ValueError(f"accuracies must be finite, got {a.tolist()}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    n = a.size
    mean, std = float(a.mean()), float(a.std(ddof=1))
    half = student_t_quantile((1.0 + level) / 2.0, n - 1) * std / math.sqrt(n)
    return SeedsSummary(n, mean, std, mean - half, mean + half, half, float(level))

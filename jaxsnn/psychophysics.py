"""Psychophysics of two-choice decisions: threshold readout, psychometric and
chronometric curves, and the maximum-likelihood Weibull fit.

Readout (`threshold_decisions`): the smoothed rates of two competing pools are compared
with a threshold after the stimulus onset; the first pool whose rate reaches the
threshold is the choice, and the time it does so, from the onset, is the decision (reaction)
time. A trial in which neither pool reaches it is undecided; a trial in which both reach
it in the same sample at exactly the same rate is a tie, also reported as undecided.

Psychometric function (Quick 1974; as fitted by Wang 2002 and Roitman & Shadlen 2002):

    p(c) = 1 − 0.5 · exp(−(c/α)^β)

the probability of a correct choice at coherence c >= 0: 0.5 at c = 0, 1 − 0.5/e ≈ 0.816
at c = α (the "threshold"), β sets the slope. `fit_weibull` maximises the binomial
likelihood over (α, β) and gives profile-likelihood confidence intervals (the parameter
values whose profile log-likelihood lies within χ²₁(q)/2 of the maximum).

Everything here is model-agnostic: arrays in, arrays or small result objects out. The
readout is pure JAX (jit, vmap over trials); the fit is NumPy in float64 (it runs once,
on a handful of numbers, and wants the precision).
"""

from __future__ import annotations

import dataclasses
import math
import statistics

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int

from ._checks import check_positive

UNDECIDED = -1


class Decisions(eqx.Module):
    """The outcome of threshold readouts (any leading batch shape).

    Attributes:
        choice: int32, 0 (first pool), 1 (second pool) or -1 (`UNDECIDED`: no crossing,
            or a tie).
        time_ms: the decision time from the onset (ms), NaN when undecided.
    """

    choice: Int[Array, "..."]
    time_ms: Float[Array, "..."]


def threshold_decisions(
    rates_hz: Float[Array, "... t 2"],
    *,
    dt_ms: float,
    threshold_hz: float = 15.0,
    onset_ms: float = 0.0,
) -> Decisions:
    """The first of two pools whose rate reaches `threshold_hz` after `onset_ms`.

    Sample k of a rate covers [k·dt, (k+1)·dt) (as `Recording.rates_hz` windows do) and is
    known at the end of its window, so a crossing in sample k is dated (k+1)·dt; only
    samples that start at or after the onset count. The decision time is that date
    minus `onset_ms`. If both pools reach the threshold first in the same sample, the
    higher rate wins; equal rates are a tie (undecided).

    Args:
        rates_hz: (..., time, 2) smoothed rates (Hz) of the two pools, last axis (first,
            second); leading axes are trials.
        dt_ms: sample length (ms).
        threshold_hz: decision threshold (Hz).
        onset_ms: stimulus onset (ms from the first sample's start).

    Returns:
        `Decisions` with the leading shape of `rates_hz`.

    Raises:
        ValueError: if `rates_hz` does not end in a pool axis of 2, or `dt_ms` /
            `threshold_hz` are not > 0.
    """
    check_positive("dt_ms", dt_ms)
    check_positive("threshold_hz", threshold_hz)
    if jnp.ndim(rates_hz) < 2 or jnp.shape(rates_hz)[-1] != 2:
        raise ValueError(
            f"rates_hz must have shape (..., time, 2) (two pools last), got {jnp.shape(rates_hz)}"
        )
    r = jnp.asarray(rates_hz)
    n_t = r.shape[-2]
    start = int(math.ceil(onset_ms / dt_ms - 1e-9))
    after = jnp.arange(n_t) >= start
    above = (r >= threshold_hz) & after[:, None]
    any_above = jnp.any(above, axis=-1)
    crossed = jnp.any(any_above, axis=-1)
    k = jnp.argmax(any_above, axis=-1)
    at = jnp.take_along_axis(r, k[..., None, None], axis=-2)[..., 0, :]
    choice = jnp.where(at[..., 0] > at[..., 1], 0, 1)
    tie = at[..., 0] == at[..., 1]
    decided = crossed & ~tie
    choice = jnp.where(decided, choice, UNDECIDED).astype(jnp.int32)
    time_ms = (k + 1).astype(r.dtype) * dt_ms - onset_ms
    return Decisions(choice, jnp.where(decided, time_ms, jnp.nan).astype(r.dtype))


def weibull_accuracy(c: ArrayLike, alpha: ArrayLike, beta: ArrayLike) -> np.ndarray:
    """p(c) = 1 − 0.5·exp(−(c/α)^β) (module docstring), for c >= 0 (NumPy, float64)."""
    c = np.asarray(c, np.float64)
    return 1.0 - 0.5 * np.exp(-((np.maximum(c, 0.0) / alpha) ** beta))


@dataclasses.dataclass(frozen=True)
class WeibullFit:
    """A maximum-likelihood fit of `weibull_accuracy`.

    Attributes:
        alpha: α, the coherence of 81.6 % correct (units of the coherences given).
        beta: β, the slope.
        alpha_ci, beta_ci: profile-likelihood confidence intervals (`confidence` level);
            a bound is ±inf (0 for a lower bound of α or β) when the likelihood does not
            fall far enough within the searched range.
        log_likelihood: the maximum binomial log-likelihood (without the constant
            binomial coefficients).
        confidence: the level of the intervals.
    """

    alpha: float
    beta: float
    alpha_ci: tuple[float, float]
    beta_ci: tuple[float, float]
    log_likelihood: float
    confidence: float

    def accuracy(self, c: ArrayLike) -> np.ndarray:
        """The fitted p(c)."""
        return weibull_accuracy(c, self.alpha, self.beta)


def _log_likelihood(log_alpha, log_beta, c, k, n):
    """Binomial log-likelihood on broadcast grids of log α and log β."""
    a = np.exp(log_alpha)[..., None]
    b = np.exp(log_beta)[..., None]
    with np.errstate(over="ignore", under="ignore"):
        q = 0.5 * np.exp(-((c / a) ** b))  # 1 − p, in (0, 0.5]
    q = np.clip(q, 1e-300, 0.5)
    return np.sum(k * np.log1p(-q) + (n - k) * np.log(q), axis=-1)


def _maximise_beta(log_alpha, lb_lo, lb_hi, c, k, n, points=401, zooms=3):
    """max over log β in [lb_lo, lb_hi] for each log α: (value, argmax) by zoomed grids."""
    la = np.asarray(log_alpha, np.float64)
    lo = np.full(la.shape, lb_lo)
    hi = np.full(la.shape, lb_hi)
    for _ in range(zooms + 1):
        grid = lo[..., None] + (hi - lo)[..., None] * np.linspace(0.0, 1.0, points)
        ll = _log_likelihood(la[..., None], grid, c, k, n)
        j = np.argmax(ll, axis=-1)
        best = np.take_along_axis(grid, j[..., None], -1)[..., 0]
        step = (hi - lo) / (points - 1)
        lo, hi = np.maximum(best - 2 * step, lb_lo), np.minimum(best + 2 * step, lb_hi)
    value = _log_likelihood(la, best, c, k, n)
    return value, best


def _interval(grid, profile, cutoff, i_best, lower_default, upper_default):
    """The ends of {x : profile(x) >= cutoff} around `i_best`, linearly interpolated."""
    below = profile < cutoff
    left = np.nonzero(below[:i_best])[0]
    right = np.nonzero(below[i_best + 1 :])[0]
    if left.size:
        i = left[-1]
        t = (cutoff - profile[i]) / (profile[i + 1] - profile[i])
        lo = grid[i] + t * (grid[i + 1] - grid[i])
    else:
        lo = lower_default
    if right.size:
        i = i_best + 1 + right[0]
        t = (cutoff - profile[i - 1]) / (profile[i] - profile[i - 1])
        hi = grid[i - 1] + t * (grid[i] - grid[i - 1])
    else:
        hi = upper_default
    return lo, hi


def fit_weibull(
    coherence: ArrayLike,
    n_correct: ArrayLike,
    n_trials: ArrayLike,
    *,
    confidence: float = 0.95,
    alpha_range: tuple[float, float] | None = None,
    beta_range: tuple[float, float] = (0.1, 20.0),
    points: int = 601,
) -> WeibullFit:
    """Maximum-likelihood fit of p(c) = 1 − 0.5·exp(−(c/α)^β) to binomial counts.

    The log-likelihood `Σ_i k_i·log p(c_i) + (n_i − k_i)·log(1 − p(c_i))` is maximised
    over log α and log β on zoomed grids (no starting point to choose, no local optimum
    to fall into: the grid covers the whole range first). The profile of each parameter
    (the maximum over the other) gives its confidence interval: the values where the
    profile is within χ²₁(confidence)/2 of the maximum (1.92 for 95 %).

    Args:
        coherence: (m,) coherences c_i >= 0 (any unit; α comes out in it). Zero
            coherences are allowed (p = 0.5 whatever the parameters: they add nothing).
        n_correct: (m,) correct choices k_i.
        n_trials: (m,) decided trials n_i (>= k_i).
        confidence: level of the intervals, in (0, 1).
        alpha_range: (low, high) searched for α (> 0); default from 1/50 of the smallest
            to 50x the largest positive coherence.
        beta_range: (low, high) searched for β (> 0).
        points: grid points per parameter (the α profile is evaluated at each).

    Returns:
        A `WeibullFit`.

    Raises:
        ValueError: mismatched shapes, negative coherences, counts out of range, no
            positive coherence with trials, bad ranges or confidence.
    """
    c = np.asarray(coherence, np.float64).ravel()
    k = np.asarray(n_correct, np.float64).ravel()
    n = np.asarray(n_trials, np.float64).ravel()
    if not c.shape == k.shape == n.shape:
        raise ValueError(
            f"coherence, n_correct and n_trials must have the same length, got "
            f"{c.shape[0]}, {k.shape[0]} and {n.shape[0]}"
        )
    if not np.all(np.isfinite(c)) or np.any(c < 0):
        raise ValueError(f"coherence must be finite and >= 0, got {c.tolist()}")
    if np.any(n < 0) or np.any(k < 0) or np.any(k > n):
        raise ValueError(
            f"counts must satisfy 0 <= n_correct <= n_trials, got n_correct={k.tolist()}, "
            f"n_trials={n.tolist()}"
        )
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    positive = (c > 0) & (n > 0)
    if not np.any(positive):
        raise ValueError("fit_weibull needs trials at a coherence > 0")
    if alpha_range is None:
        alpha_range = (c[positive].min() / 50.0, c[positive].max() * 50.0)
    for name, (lo, hi) in (("alpha_range", alpha_range), ("beta_range", beta_range)):
        if not (0 < lo < hi and math.isfinite(hi)):
            raise ValueError(f"{name} must be (low, high) with 0 < low < high, got {(lo, hi)}")
    if not (isinstance(points, int) and points >= 11):
        raise ValueError(f"points must be an int >= 11, got {points!r}")
    c, k, n = c[n > 0], k[n > 0], n[n > 0]
    la_lo, la_hi = math.log(alpha_range[0]), math.log(alpha_range[1])
    lb_lo, lb_hi = math.log(beta_range[0]), math.log(beta_range[1])

    # profile over α: for each α on the grid, the best β
    la_grid = np.linspace(la_lo, la_hi, points)
    prof_a, best_b = _maximise_beta(la_grid, lb_lo, lb_hi, c, k, n, points=points)
    i = int(np.argmax(prof_a))
    # refine α around the grid optimum
    step = la_grid[1] - la_grid[0]
    fine = np.linspace(max(la_grid[i] - 2 * step, la_lo), min(la_grid[i] + 2 * step, la_hi), 201)
    prof_f, best_f = _maximise_beta(fine, lb_lo, lb_hi, c, k, n, points=points)
    j = int(np.argmax(prof_f))
    la_hat, lb_hat, ll_max = fine[j], best_f[j], float(prof_f[j])
    cutoff = ll_max - 0.5 * statistics.NormalDist().inv_cdf(0.5 + confidence / 2.0) ** 2

    a_lo, a_hi = _interval(la_grid, prof_a, cutoff, i, -math.inf, math.inf)
    # profile over β: for each β, the best α (same zoomed search with the roles swapped)
    lb_grid = np.linspace(lb_lo, lb_hi, points)
    prof_b = _profile_beta(lb_grid, la_lo, la_hi, c, k, n, points)
    i_b = int(np.argmax(prof_b))
    b_lo, b_hi = _interval(lb_grid, prof_b, cutoff, i_b, -math.inf, math.inf)
    return WeibullFit(
        alpha=float(math.exp(la_hat)),
        beta=float(math.exp(lb_hat)),
        alpha_ci=(float(math.exp(a_lo)), float(math.exp(a_hi))),
        beta_ci=(float(math.exp(b_lo)), float(math.exp(b_hi))),
        log_likelihood=ll_max,
        confidence=float(confidence),
    )


def _profile_beta(lb_grid, la_lo, la_hi, c, k, n, points, zooms=3):
    lb = np.asarray(lb_grid, np.float64)
    lo = np.full(lb.shape, la_lo)
    hi = np.full(lb.shape, la_hi)
    for _ in range(zooms + 1):
        grid = lo[..., None] + (hi - lo)[..., None] * np.linspace(0.0, 1.0, points)
        ll = _log_likelihood(grid, lb[..., None], c, k, n)
        j = np.argmax(ll, axis=-1)
        best = np.take_along_axis(grid, j[..., None], -1)[..., 0]
        step = (hi - lo) / (points - 1)
        lo, hi = np.maximum(best - 2 * step, la_lo), np.minimum(best + 2 * step, la_hi)
    return _log_likelihood(best, lb, c, k, n)


@dataclasses.dataclass(frozen=True)
class PsychometricPoint:
    """The outcome of the trials at one coherence.

    Attributes:
        coherence: the coherence (as given; >= 0 favours the first pool).
        n_trials: trials run.
        n_decided: trials with a choice.
        n_correct: decided trials that chose the favoured pool (the first pool at
            coherence 0, by convention).
        mean_time_ms: mean decision time of the decided trials (NaN if none).
        sd_time_ms: its standard deviation (NaN with fewer than 2).
        mean_time_correct_ms: mean decision time of the correct trials (NaN if none).
    """

    coherence: float
    n_trials: int
    n_decided: int
    n_correct: int
    mean_time_ms: float
    sd_time_ms: float
    mean_time_correct_ms: float

    @property
    def accuracy(self) -> float:
        """Correct among decided trials (NaN if none decided)."""
        return self.n_correct / self.n_decided if self.n_decided else math.nan

    @property
    def undecided(self) -> float:
        """Fraction of trials without a choice."""
        return 1.0 - self.n_decided / self.n_trials if self.n_trials else math.nan


def psychometric_points(
    coherence: ArrayLike, decisions: Decisions, *, levels: ArrayLike | None = None
) -> list[PsychometricPoint]:
    """Group trials by coherence into `PsychometricPoint`s.

    Args:
        coherence: (trials,) the coherence of each trial (>= 0: the first pool is
            correct; < 0: the second).
        decisions: their `Decisions` (shape (trials,)).
        levels: the coherences to report, in order (default: the sorted distinct
            values of |coherence|). Trials at ±c are pooled into level c.

    Returns:
        One point per level.
    """
    c = np.asarray(coherence, np.float64).ravel()
    choice = np.asarray(decisions.choice).ravel()
    t = np.asarray(decisions.time_ms, np.float64).ravel()
    if not c.shape == choice.shape == t.shape:
        raise ValueError(
            f"coherence has {c.size} trials but decisions has {choice.size}: they must match"
        )
    levels = np.unique(np.abs(c)) if levels is None else np.asarray(levels, np.float64).ravel()
    points = []
    for level in levels:
        sel = np.isclose(np.abs(c), level, rtol=1e-6, atol=1e-9)
        favoured = np.where(c[sel] >= 0, 0, 1)
        decided = choice[sel] != UNDECIDED
        correct = decided & (choice[sel] == favoured)
        times = t[sel][decided]
        points.append(
            PsychometricPoint(
                coherence=float(level),
                n_trials=int(sel.sum()),
                n_decided=int(decided.sum()),
                n_correct=int(correct.sum()),
                mean_time_ms=float(times.mean()) if times.size else math.nan,
                sd_time_ms=float(times.std(ddof=1)) if times.size > 1 else math.nan,
                mean_time_correct_ms=float(t[sel][correct].mean()) if correct.any() else math.nan,
            )
        )
    return points

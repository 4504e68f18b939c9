"""Psychometric and chronometric curves of two-choice decisions.

Model-agnostic: coherences, accuracies, reaction times and an optional fitted curve come
in as arrays (for instance from `jaxsnn.psychophysics`), so any decision model or data
set can be drawn. Coherence axes are logarithmic by default (the convention of Roitman &
Shadlen 2002 and Wang 2002); zero coherence is then drawn at `zero_at` (default half the
smallest positive coherence) and marked on the axis.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ._pyplot import axes_or_new

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def _coherences(name: str, coherence: Any) -> np.ndarray:
    c = np.asarray(coherence, dtype=np.float64)
    if c.ndim != 1 or c.shape[0] < 1:
        raise ValueError(f"{name} must be (levels,) coherences, got shape {c.shape}")
    if not np.all(np.isfinite(c)) or np.any(c < 0):
        raise ValueError(f"{name} must be finite and >= 0, got {c.tolist()}")
    return c


def _same_length(name: str, x: Any, n: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},) like coherence, got {x.shape}")
    return x


def _x_positions(c: np.ndarray, log_x: bool, zero_at: float | None) -> tuple[np.ndarray, float]:
    if not log_x:
        return c, 0.0
    positive = c[c > 0]
    if zero_at is None:
        zero_at = positive.min() / 2.0 if positive.size else 1.0
    if not zero_at > 0:
        raise ValueError(f"zero_at must be > 0 on a log axis, got {zero_at}")
    return np.where(c > 0, c, zero_at), float(zero_at)


def _axis(ax, log_x: bool, zero_at: float, c: np.ndarray, xlabel: str) -> None:
    """Label the coherence axis; on a log axis, ticks at the coherences drawn (0 at
    `zero_at`) and no minor tick labels (which crowd an axis of under two decades)."""
    ax.set_xlabel(xlabel)
    if log_x:
        from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

        ax.set_xscale("log")
        lo, hi = ax.get_xlim()
        ticks = sorted({float(v) for v in np.where(c > 0, c, zero_at)})
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.set_xticklabels(["0" if t == zero_at and np.any(c == 0) else f"{t:g}" for t in ticks])
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlim(lo, hi)


def psychometric(
    coherence: Any,
    accuracy: Any,
    *,
    ci: Any = None,
    fit: Callable[[np.ndarray], np.ndarray] | None = None,
    fit_label: str | None = None,
    reference: Callable[[np.ndarray], np.ndarray] | None = None,
    reference_label: str = "reference",
    ax: Axes | None = None,
    log_x: bool = True,
    zero_at: float | None = None,
    label: str | None = "model",
    color: Any = "C0",
    xlabel: str = "coherence (%)",
) -> Axes:
    """Draw accuracy against coherence, with error bars and fitted curves.

    Args:
        coherence: (levels,) coherences >= 0.
        accuracy: (levels,) fraction correct in [0, 1] (NaN levels are skipped).
        ci: optional (levels, 2) lower and upper bounds (e.g. Wilson intervals).
        fit: optional function c -> p(c) drawn as a smooth curve (e.g. a
            `jaxsnn.psychophysics.WeibullFit.accuracy`).
        fit_label: legend label of the fit.
        reference: optional second curve (e.g. a published fit), dashed.
        reference_label: its legend label.
        ax: the Axes to draw on (default: a new figure).
        log_x: logarithmic coherence axis (zero drawn at `zero_at`).
        zero_at: where c = 0 is drawn on a log axis (default: half the smallest c > 0).
        label: legend label of the points.
        color: colour of points and fit.
        xlabel: coherence axis label.

    Returns:
        The Axes drawn on.

    Raises:
        ValueError: mismatched shapes, negative coherences, accuracies outside [0, 1].
    """
    c = _coherences("coherence", coherence)
    acc = _same_length("accuracy", accuracy, c.shape[0])
    if np.any((acc < 0) | (acc > 1)):
        raise ValueError(f"accuracy must lie in [0, 1], got {acc.tolist()}")
    x, zero = _x_positions(c, log_x, zero_at)
    ax = axes_or_new(ax)
    ok = np.isfinite(acc)
    if ci is not None:
        bounds = np.asarray(ci, dtype=np.float64)
        if bounds.shape != (c.shape[0], 2):
            raise ValueError(f"ci must have shape ({c.shape[0]}, 2), got {bounds.shape}")
        err = np.stack([acc - bounds[:, 0], bounds[:, 1] - acc])
        ax.errorbar(
            x[ok], acc[ok], yerr=np.maximum(err[:, ok], 0.0), fmt="o", color=color, label=label
        )
    else:
        ax.plot(x[ok], acc[ok], "o", color=color, label=label)
    positive = c[c > 0]
    if positive.size and (fit is not None or reference is not None):
        hi = positive.max() * 1.5
        # on a log axis the curves start just left of the smallest positive coherence, so
        # the point drawn for c = 0 (at `zero_at`) is not read as a value of the curve
        grid = np.geomspace(0.8 * positive.min(), hi, 200) if log_x else np.linspace(0, hi, 200)
        if fit is not None:
            ax.plot(grid, fit(grid), "-", color=color, label=fit_label)
        if reference is not None:
            ax.plot(grid, reference(grid), "--", color="0.4", label=reference_label)
    ax.axhline(0.5, color="0.8", lw=0.8, zorder=0)
    ax.set_ylim(0.4, 1.02)
    ax.set_ylabel("fraction correct")
    _axis(ax, log_x, zero, c, xlabel)
    ax.legend(fontsize=8, loc="lower right")
    return ax


def chronometric(
    coherence: Any,
    mean_rt_ms: Any,
    *,
    error_ms: Any = None,
    ax: Axes | None = None,
    log_x: bool = True,
    zero_at: float | None = None,
    label: str | None = "model",
    color: Any = "C0",
    xlabel: str = "coherence (%)",
    ylabel: str = "decision time (ms)",
) -> Axes:
    """Draw the mean reaction (decision) time against coherence.

    Args:
        coherence: (levels,) coherences >= 0.
        mean_rt_ms: (levels,) mean times (ms; NaN levels are skipped).
        error_ms: optional (levels,) symmetric error bars (e.g. s.d. or s.e.m., ms).
        ax: the Axes to draw on (default: a new figure).
        log_x: logarithmic coherence axis (zero drawn at `zero_at`).
        zero_at: where c = 0 is drawn on a log axis (default: half the smallest c > 0).
        label: legend label.
        color: line colour.
        xlabel, ylabel: axis labels.

    Returns:
        The Axes drawn on.

    Raises:
        ValueError: mismatched shapes or negative coherences.
    """
    c = _coherences("coherence", coherence)
    rt = _same_length("mean_rt_ms", mean_rt_ms, c.shape[0])
    x, zero = _x_positions(c, log_x, zero_at)
    ax = axes_or_new(ax)
    ok = np.isfinite(rt)
    order = np.argsort(x[ok])
    if error_ms is not None:
        err = _same_length("error_ms", error_ms, c.shape[0])
        ax.errorbar(
            x[ok][order], rt[ok][order], yerr=err[ok][order], fmt="o-", color=color, label=label
        )
    else:
        ax.plot(x[ok][order], rt[ok][order], "o-", color=color, label=label)
    ax.set_ylabel(ylabel)
    _axis(ax, log_x, zero, c, xlabel)
    if label is not None:
        ax.legend(fontsize=8, loc="upper right")
    return ax


__all__ = ["chronometric", "psychometric"]

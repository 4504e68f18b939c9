"""Distributions over neurons: ISI and firing-rate histograms, and a feature summary."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ._inputs import (
    check_dt,
    check_int_option,
    colors_for,
    is_events,
    label,
    populations,
    spike_events,
)
from ._pyplot import axes_or_new, pyplot
from ._stats import intervals, neuron_rates

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def isi_histogram(
    spikes: Any,
    *,
    dt_ms: float,
    bins: int | Any = 30,
    ax: Axes | None = None,
    colors: Any = None,
) -> Axes:
    """Draw the histogram of inter-spike intervals (ms), pooled over each population's
    neurons.

    Intervals resolve only to `dt_ms`; spikes counted in the same recording window are
    0 ms apart.

    Args:
        spikes: (time, neuron) spike counts, a `SpikeEvents` list, or a dict population
            name -> either.
        dt_ms: sample length (ms).
        bins: number of bins, or their edges (ms); shared by all populations.
        ax: the Axes to draw on (default: a new figure).
        colors: one colour, a sequence of one per population, or a dict by name.

    Returns:
        The Axes drawn on.

    Raises:
        ValueError: if `dt_ms` is not > 0 or `spikes` is not spikes.
    """
    dt_ms = check_dt(dt_ms)
    entries, named = populations("spikes", spikes)
    isis = [intervals(spike_events(label("spikes", key), x), dt_ms) for key, x in entries]
    keys = [key for key, _ in entries]
    cols = colors_for(colors, keys, [f"C{i}" for i in range(len(keys))])
    ax = axes_or_new(ax)
    pooled = np.concatenate(isis)
    if pooled.size == 0:
        ax.text(
            0.5, 0.5, "no intervals (< 2 spikes per neuron)", ha="center", transform=ax.transAxes
        )
    else:
        edges = np.histogram_bin_edges(pooled, bins=bins)
        for key, isi, color in zip(keys, isis, cols, strict=True):
            ax.hist(isi, bins=edges, histtype="step" if named else "bar", color=color, label=key)
        if named:
            ax.legend(fontsize=8, loc="best")
    ax.set_xlabel("ISI (ms)")
    ax.set_ylabel("intervals")
    return ax


def rate_histogram(
    data: Any,
    *,
    dt_ms: float | None = None,
    duration_ms: float | None = None,
    bins: int | Any = 30,
    ax: Axes | None = None,
    colors: Any = None,
) -> Axes:
    """Draw the histogram of per-neuron mean firing rates (Hz).

    Args:
        data: spikes ((time, neuron) counts or a `SpikeEvents` list; give `dt_ms`), or
            (n,) spike counts per neuron over the run (as `Recording.counts`; give
            `duration_ms`), or a dict population name -> either.
        dt_ms: sample length (ms) of spikes.
        duration_ms: length of the run (ms) that counts cover.
        bins: number of bins, or their edges (Hz); shared by all populations.
        ax: the Axes to draw on (default: a new figure).
        colors: one colour, a sequence of one per population, or a dict by name.

    Returns:
        The Axes drawn on.

    Raises:
        ValueError: if the time base an input needs (`dt_ms` or `duration_ms`) is
            missing or not > 0, or an input is neither spikes nor (n,) counts.
    """
    entries, named = populations("data", data)
    rates = []
    for key, x in entries:
        name = label("data", key)
        if not is_events(x) and np.ndim(x) == 1:
            if duration_ms is None:
                raise ValueError(f"{name} holds counts per neuron: give duration_ms (ms)")
            counts = np.asarray(x, dtype=np.float64)
            if not np.all(np.isfinite(counts) & (counts >= 0)):
                raise ValueError(f"{name} must hold spike counts >= 0")
            rates.append(counts / (check_dt(duration_ms, "duration_ms") / 1000.0))
        else:
            if dt_ms is None:
                raise ValueError(f"{name} holds spikes: give dt_ms (ms)")
            rates.append(neuron_rates(spike_events(name, x), check_dt(dt_ms)))
    keys = [key for key, _ in entries]
    cols = colors_for(colors, keys, [f"C{i}" for i in range(len(keys))])
    ax = axes_or_new(ax)
    edges = np.histogram_bin_edges(np.concatenate(rates), bins=bins)
    for key, r, color in zip(keys, rates, cols, strict=True):
        ax.hist(r, bins=edges, histtype="step" if named else "bar", color=color, label=key)
    if named:
        ax.legend(fontsize=8, loc="best")
    ax.set_xlabel("rate (Hz)")
    ax.set_ylabel("neurons")
    return ax


def feature_summary(
    features: Mapping[str, Any],
    *,
    fig: Figure | None = None,
    bins: int = 30,
    ncols: int = 3,
    units: Mapping[str, str] | None = None,
    color: Any = "C0",
) -> tuple[Axes, ...]:
    """Draw one histogram per feature over neurons, as small multiples.

    NaN and infinite entries (a neuron for which the feature is undefined, such as the
    ISI CV of a silent neuron) are left out, and the title says how many neurons remain.

    Args:
        features: feature name -> (n,) per-neuron values.
        fig: the figure (or subfigure) to draw in (default: a new one).
        bins: bins per histogram.
        ncols: subplots per row.
        units: feature name -> unit for its axis label ("Hz", "ms"); none by default.
        color: the bars' colour.

    Returns:
        The Axes of the features, in order.

    Raises:
        ValueError: if `features` is empty or a feature is not one value per neuron.
    """
    if not isinstance(features, Mapping) or not features:
        raise ValueError("features must be a non-empty dict feature name -> (n,) values")
    values = {}
    for name, x in features.items():
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 1:
            raise ValueError(
                f"features[{name!r}] must be (n,) one value per neuron, got shape {x.shape}"
            )
        values[str(name)] = x
    ncols = min(check_int_option("ncols", ncols), len(values))
    bins = check_int_option("bins", bins)
    units = dict(units or {})
    nrows = math.ceil(len(values) / ncols)
    if fig is None:
        fig = pyplot().figure(figsize=(3.2 * ncols, 2.6 * nrows), layout="constrained")
    grid = fig.subplots(nrows, ncols, squeeze=False)
    axes = []
    for ax, (name, x) in zip(grid.flat, values.items(), strict=False):
        kept = x[np.isfinite(x)]
        ax.hist(kept, bins=bins, color=color)
        unit = units.get(name)
        ax.set_xlabel(name if unit is None else f"{name} ({unit})")
        ax.set_ylabel("neurons")
        ax.set_title(
            f"{name}: {kept.size} of {x.size} neurons" if kept.size < x.size else name, fontsize=9
        )
        axes.append(ax)
    for ax in grid.flat[len(values) :]:
        ax.remove()
    return tuple(axes)


__all__ = ["feature_summary", "isi_histogram", "rate_histogram"]

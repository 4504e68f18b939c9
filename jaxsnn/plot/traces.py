"""Membrane potential traces, with the threshold as a dashed line and marks at spikes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ._inputs import check_dt, colors_for, is_events, label, populations, spike_events
from ._pyplot import axes_or_new

if TYPE_CHECKING:
    from matplotlib.axes import Axes

# Above this many traces a legend hides the traces it names.
_MAX_LEGEND = 10


def membrane_traces(
    v: Any,
    *,
    dt_ms: float,
    threshold_mv: Any = None,
    spikes: Any = None,
    ax: Axes | None = None,
    colors: Any = None,
    labels: Any = None,
) -> Axes:
    """Draw membrane potentials against time.

    Sample i of a trace is V at the end of step (or recording window) i, drawn at
    (i + 1)·dt_ms.

    Args:
        v: (time,) one trace, (time, k) k traces (mV), or a dict population name ->
            either (as `Recording.v`).
        dt_ms: sample length (ms): the step, or `every · dt` for a `Recording` made with
            `Record(every=...)`.
        threshold_mv: the firing threshold (mV), drawn dashed: one number, one per trace
            ((k,) in trace order, all populations together), or a dict by population of
            either; None draws none. NaN skips a trace.
        spikes: optional spikes of the same neurons, (time, k) counts or a `SpikeEvents`
            list (or a dict by population, like `v`), marked with a triangle at the
            threshold (at the trace's maximum where none is given).
        ax: the Axes to draw on (default: a new figure).
        colors: one colour, a sequence of one per trace, or a dict by population
            (default: the colour cycle, per trace).
        labels: a sequence of one legend label per trace (default: the population name
            and neuron index for a dict, none otherwise).

    Returns:
        The Axes drawn on.

    Raises:
        ValueError: if `dt_ms` is not > 0, `v` is not (time,) or (time, k), or
            `threshold_mv`, `spikes`, `colors` or `labels` do not match the traces.
    """
    dt_ms = check_dt(dt_ms)
    entries, named = populations("v", v)
    keys, traces = [], []
    for key, x in entries:
        x = np.asarray(x)
        if x.ndim == 1:
            x = x[:, None]
        if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
            raise ValueError(
                f"{label('v', key)} must be (time,) or (time, k) membrane potentials (mV), "
                f"got shape {x.shape}"
            )
        keys.append(key)
        traces.append(x)
    n_time = traces[0].shape[0]
    for key, x in zip(keys, traces, strict=True):
        if x.shape[0] != n_time:
            raise ValueError(
                f"{label('v', key)} has {x.shape[0]} samples, but {label('v', keys[0])} has "
                f"{n_time}: every trace must cover the same samples"
            )
    n_traces = sum(x.shape[1] for x in traces)
    thresholds = _thresholds(threshold_mv, keys, traces, named)
    marks = _spike_marks(spikes, keys, traces, named)
    if labels is None:
        labels = [
            (key if x.shape[1] == 1 else f"{key}[{j}]") if named else None
            for key, x in zip(keys, traces, strict=True)
            for j in range(x.shape[1])
        ]
    else:
        labels = list(labels)
        if len(labels) != n_traces:
            raise ValueError(
                f"labels must give {n_traces} labels (one per trace), got {len(labels)}"
            )
    if isinstance(colors, Mapping):
        by_pop = colors_for(colors, keys, [])
        cols = [c for c, x in zip(by_pop, traces, strict=True) for _ in range(x.shape[1])]
    else:
        cols = colors_for(colors, [None] * n_traces, [f"C{i}" for i in range(n_traces)])

    ax = axes_or_new(ax)
    time_ms = (np.arange(n_time) + 1) * dt_ms
    values = np.concatenate(traces, axis=1)
    for j in range(n_traces):
        ax.plot(time_ms, values[:, j], color=cols[j], linewidth=1.0, label=labels[j])
    finite = thresholds[np.isfinite(thresholds)]
    if finite.size == n_traces and np.all(finite == finite[0]):
        ax.axhline(finite[0], color="0.3", linestyle="--", linewidth=1.0, label="threshold")
    else:
        for j in np.flatnonzero(np.isfinite(thresholds)):
            ax.axhline(thresholds[j], color=cols[j], linestyle="--", linewidth=1.0)
    if marks is not None:
        steps, cols_idx = marks
        top = np.where(np.isfinite(thresholds), thresholds, np.nanmax(values, axis=0))
        ax.scatter(
            (steps + 1) * dt_ms,
            top[cols_idx],
            marker="^",
            s=18,
            color=[cols[j] for j in cols_idx],
            zorder=3,
        )
    ax.set_xlim(0.0, n_time * dt_ms)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("V (mV)")
    if any(lab is not None for lab in labels) and n_traces <= _MAX_LEGEND:
        ax.legend(fontsize=8, loc="best")
    return ax


def _thresholds(threshold_mv, keys, traces, named) -> np.ndarray:
    n_traces = sum(x.shape[1] for x in traces)
    if threshold_mv is None:
        return np.full(n_traces, np.nan)
    if isinstance(threshold_mv, Mapping):
        if not named:
            raise ValueError("threshold_mv is a dict, but v is not: give a number or (k,)")
        parts = []
        for key, x in zip(keys, traces, strict=True):
            t = np.asarray(threshold_mv.get(key, np.nan), dtype=np.float64)
            if t.ndim > 1 or t.ndim == 1 and t.shape[0] != x.shape[1]:
                raise ValueError(
                    f"threshold_mv[{key!r}] must be a number or one per trace ({x.shape[1]},), "
                    f"got shape {t.shape}"
                )
            parts.append(np.broadcast_to(t, (x.shape[1],)))
        return np.concatenate(parts)
    t = np.asarray(threshold_mv, dtype=np.float64)
    if t.ndim > 1 or t.ndim == 1 and t.shape[0] != n_traces:
        raise ValueError(
            f"threshold_mv must be a number or one per trace ({n_traces},), got shape {t.shape}"
        )
    return np.broadcast_to(t, (n_traces,)).copy()


def _spike_marks(spikes, keys, traces, named):
    """`(samples, trace indices)` of the spikes to mark, or None."""
    if spikes is None:
        return None
    if isinstance(spikes, Mapping) != named:
        raise ValueError("spikes must be a dict by population exactly when v is")
    entries = {str(k): x for k, x in spikes.items()} if named else {None: spikes}
    unknown = sorted(set(entries) - set(keys))
    if unknown:
        raise ValueError(f"spikes names populations that v does not hold: {unknown}")
    steps, index, first = [], [], 0
    for key, x in zip(keys, traces, strict=True):
        if key in entries:
            x_spikes = entries[key]
            if not is_events(x_spikes) and np.ndim(x_spikes) == 1:
                x_spikes = np.asarray(x_spikes)[:, None]  # the spikes of a (time,) trace
            s = spike_events(label("spikes", key), x_spikes)
            if (s.n_steps, s.n_neurons) != x.shape:
                raise ValueError(
                    f"{label('spikes', key)} must match {label('v', key)}'s shape {x.shape}, "
                    f"got ({s.n_steps}, {s.n_neurons})"
                )
            steps.append(s.steps)
            index.append(s.neurons + first)
        first += x.shape[1]
    if not steps:
        return None
    return np.concatenate(steps), np.concatenate(index)


__all__ = ["membrane_traces"]

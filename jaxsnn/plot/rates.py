"""Population rate over time, from spikes in bins or from a `Recording`'s `rates_hz`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._inputs import bin_steps, check_dt, colors_for, is_events, label, populations, spike_events
from ._pyplot import axes_or_new
from ._stats import binned_rate, rebinned

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def population_rate(
    data: Any,
    *,
    dt_ms: float,
    bin_ms: float | None = None,
    ax: Axes | None = None,
    colors: Any = None,
) -> Axes:
    """Draw the population-mean firing rate against time, as steps over bins.

    Args:
        data: spikes ((time, neuron) counts or a `SpikeEvents` list): the rate is the
            spikes of a bin over (neurons × bin length); or a (time,) rate in Hz (as
            `Recording.rates_hz`), averaged over bins; or a dict population name ->
            either.
        dt_ms: sample length (ms): the step, or `every · dt` for a `Recording` made with
            `Record(every=...)`.
        bin_ms: bin length (ms), a whole number of samples (default: 5 ms rounded to
            whole samples for spikes, one sample for rates).
        ax: the Axes to draw on (default: a new figure).
        colors: one colour, a sequence of one per population, or a dict by name
            (default: the colour cycle).

    Returns:
        The Axes drawn on.

    Raises:
        ValueError: if `dt_ms` is not > 0, `data` is neither spikes nor a (time,) rate,
            or `bin_ms` is not a whole number of samples.
    """
    dt_ms = check_dt(dt_ms)
    entries, named = populations("data", data)
    curves = []
    for key, x in entries:
        if not is_events(x) and np.ndim(x) not in (1, 2):
            raise ValueError(
                f"{label('data', key)} must be (time, neuron) spikes, a SpikeEvents list or a "
                f"(time,) rate (Hz), got shape {np.shape(x)}"
            )
        if not is_events(x) and np.ndim(x) == 1:
            rate = np.asarray(x, dtype=np.float64)
            if rate.shape[0] < 1:
                raise ValueError(f"{label('data', key)} must hold at least one sample")
            curves.append(rebinned(rate, dt_ms, bin_steps(bin_ms, dt_ms, default_ms=None)))
        else:
            s = spike_events(label("data", key), x)
            curves.append(binned_rate(s, dt_ms, bin_steps(bin_ms, dt_ms)))
    keys = [key for key, _ in entries]
    cols = colors_for(colors, keys, [f"C{i}" for i in range(len(keys))])

    ax = axes_or_new(ax)
    for key, (edges, rate), color in zip(keys, curves, cols, strict=True):
        ax.stairs(rate, edges, color=color, label=key)
    ax.set_xlim(0.0, max(edges[-1] for edges, _ in curves))
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("rate (Hz)")
    if named:
        ax.legend(fontsize=8, loc="best")
    return ax


__all__ = ["population_rate"]

"""Spike raster: one mark per spike, populations stacked, optional rate histogram beneath."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from ._inputs import bin_steps, check_dt, check_int_option, colors_for, label, populations
from ._inputs import spike_events as _events
from ._pyplot import axes_or_new, check_axes
from ._stats import binned_rate

if TYPE_CHECKING:
    from matplotlib.axes import Axes


class RasterAxes(NamedTuple):
    """The two Axes of a raster drawn with its rate histogram (they share the time axis).

    Attributes:
        raster: the spikes, neuron against time.
        rate: the population rate (Hz) per bin, beneath.
    """

    raster: Axes
    rate: Axes


def raster(
    spikes: Any,
    *,
    dt_ms: float,
    ax: Axes | None = None,
    colors: Any = None,
    max_neurons: int | None = None,
    marker: str = "|",
    marker_size: float = 4.0,
    rate_histogram: bool | Axes = False,
    bin_ms: float | None = None,
) -> Axes | RasterAxes:
    """Draw a spike raster: one mark per spike at (time, neuron).

    A spike in sample i (a step, or a recording window) is drawn at the end of the
    sample, (i + 1)·dt_ms, as `SpikeEvents.times_ms` places it; a count of k spikes in
    one sample gives k marks. Populations of a dict are stacked in order, the first at
    the bottom, each in its colour, and named by the y tick labels.

    Args:
        spikes: (time, neuron) spike counts (0/1 spikes, NumPy or JAX), a
            `jaxsnn.events.SpikeEvents` list, or a dict population name -> either (as
            `Recording.spikes`); every population must cover the same samples.
        dt_ms: sample length (ms): the step, or `every · dt` for a `Recording` made
            with `Record(every=...)`.
        ax: the Axes to draw on (default: a new figure).
        colors: one colour, a sequence of one per population, or a dict by name
            (default: black for one population, the colour cycle for a dict).
        max_neurons: draw only the first `max_neurons` neurons of each population (the
            rate histogram still counts all of them).
        marker: matplotlib marker of a spike.
        marker_size: its area (points²).
        rate_histogram: True to draw the population rate (Hz) in bins of `bin_ms` in new
            Axes beneath, sharing the time axis, or the Axes to draw it on.
        bin_ms: rate bin (ms), a whole number of samples (default: 5 ms rounded to whole
            samples).

    Returns:
        The raster's Axes, or `RasterAxes(raster, rate)` with a rate histogram.

    Raises:
        ValueError: if `dt_ms` is not > 0, `spikes` is not (time, neuron) counts or an
            event list, the populations differ in length, or `bin_ms` is not a whole
            number of samples.
    """
    dt_ms = check_dt(dt_ms)
    entries, named = populations("spikes", spikes)
    pops = [(key, _events(label("spikes", key), x)) for key, x in entries]
    n_steps = pops[0][1].n_steps
    for key, s in pops:
        if s.n_steps != n_steps:
            raise ValueError(
                f"{label('spikes', key)} covers {s.n_steps} samples, but "
                f"{label('spikes', pops[0][0])} covers {n_steps}: populations must cover "
                "the same samples"
            )
    if max_neurons is not None:
        max_neurons = check_int_option("max_neurons", max_neurons)
    if rate_histogram is not False and rate_histogram is not True:
        check_axes("rate_histogram", rate_histogram)
    steps_per_bin = bin_steps(bin_ms, dt_ms) if rate_histogram is not False else 1
    keys = [key for key, _ in pops]
    default = [f"C{i}" for i in range(len(pops))] if named else ["k"]
    cols = colors_for(colors, keys, default)

    ax = axes_or_new(ax, figsize=(7.0, 4.0 if rate_histogram is not False else 3.0))
    offset = 0
    ticks, tick_labels = [], []
    for i, ((key, s), color) in enumerate(zip(pops, cols, strict=True)):
        shown = s.n_neurons if max_neurons is None else min(s.n_neurons, max_neurons)
        keep = s.neurons < shown
        ax.scatter(
            (s.steps[keep] + 1) * dt_ms,
            s.neurons[keep] + offset,
            s=marker_size,
            marker=marker,
            color=color,
            linewidths=0.8,
            label=key,
            # a vector file with one path per spike grows huge; rasterise the marks only
            rasterized=True,
        )
        if named:
            ticks.append(offset + (shown - 1) / 2)
            tick_labels.append(key)
            if i:
                ax.axhline(offset - 0.5, color="0.8", linewidth=0.5, zorder=0)
        offset += shown
    ax.set_xlim(0.0, n_steps * dt_ms)
    ax.set_ylim(-0.5, offset - 0.5)
    ax.set_xlabel("time (ms)")
    if named:
        ax.set_yticks(ticks, tick_labels)
        ax.set_ylabel("population")
    else:
        ax.set_ylabel("neuron")
    if rate_histogram is False:
        return ax

    if rate_histogram is True:
        from mpl_toolkits.axes_grid1 import make_axes_locatable

        rate_ax = make_axes_locatable(ax).append_axes("bottom", size="35%", pad=0.1, sharex=ax)
        # the shared time axis is labelled once, beneath the histogram
        ax.tick_params(labelbottom=False)
        ax.set_xlabel("")
    else:
        rate_ax = rate_histogram
    for (key, s), color in zip(pops, cols, strict=True):
        edges, rate = binned_rate(s, dt_ms, steps_per_bin)
        rate_ax.stairs(rate, edges, color=color, label=key)
    rate_ax.set_xlim(0.0, n_steps * dt_ms)
    rate_ax.set_xlabel("time (ms)")
    rate_ax.set_ylabel("rate (Hz)")
    return RasterAxes(ax, rate_ax)


__all__ = ["RasterAxes", "raster"]

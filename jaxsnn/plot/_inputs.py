"""Checks and conversions of what the plots accept: spikes, traces, populations.

Spikes come as a dense (time, neuron) array of spike counts (0/1 spikes, or counts per
recording window as `Recording.spikes` holds when `Record.every > 1`), as a
`jaxsnn.events.SpikeEvents` list, or as a dict population name -> either. Every form
becomes a `Spikes` event list in NumPy, so the plots never build a dense array from
events.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from .._checks import check_int, check_positive
from ..events import SpikeEvents

# Default population-rate bin: long enough to hold a few spikes of a sparse population,
# short enough to show oscillations up to ~100 Hz.
DEFAULT_BIN_MS = 5.0


class Spikes(NamedTuple):
    """One population's spikes as events; a count of k in one sample gives k events.

    Attributes:
        steps: (count,) int, the sample (step or recording window) of each spike.
        neurons: (count,) int, the neuron of each spike.
        n_steps: the number of samples.
        n_neurons: the number of neurons.
    """

    steps: np.ndarray
    neurons: np.ndarray
    n_steps: int
    n_neurons: int


def check_dt(dt_ms: Any, name: str = "dt_ms") -> float:
    """`dt_ms` as a float, or ValueError unless it is one finite number > 0."""
    if np.ndim(dt_ms) != 0:
        raise ValueError(f"{name} must be one number (ms), got shape {np.shape(dt_ms)}")
    check_positive(name, dt_ms)
    return float(dt_ms)


def populations(name: str, data: Any) -> tuple[list[tuple[str | None, Any]], bool]:
    """`([(population name, value), ...], named)`: the entries of a dict in order, or the
    one unnamed value (name None) with `named=False`."""
    if isinstance(data, Mapping):
        if not data:
            raise ValueError(f"{name} must hold at least one population, got an empty dict")
        return [(str(k), v) for k, v in data.items()], True
    return [(None, data)], False


def label(name: str, key: str | None) -> str:
    """How an error message names one entry: `spikes` or `spikes['exc']`."""
    return name if key is None else f"{name}[{key!r}]"


def is_events(x: Any) -> bool:
    return isinstance(x, SpikeEvents)


def spike_events(name: str, x: Any) -> Spikes:
    """The events of one population's spikes (dense counts or `SpikeEvents`).

    Raises:
        ValueError: on a batched event list, an array that is not (time, neuron), or
            entries that are not whole non-negative spike counts.
    """
    if isinstance(x, SpikeEvents):
        if np.ndim(x.steps) != 1:
            raise ValueError(
                f"{name} must be one SpikeEvents list, got a batch of shape "
                f"{np.shape(x.count)}: index a trial first"
            )
        count = int(x.count)
        lost = int(x.overflow)
        if lost:
            warnings.warn(
                f"{name}: the event list overflowed, {lost} spikes are missing from the plot",
                stacklevel=3,
            )
        steps = np.asarray(x.steps)[:count].astype(np.int64)
        neurons = np.asarray(x.neurons)[:count].astype(np.int64)
        _check_sizes(name, x.n_steps, x.n_neurons)
        return Spikes(steps, neurons, int(x.n_steps), int(x.n_neurons))
    counts = np.asarray(x)
    if counts.ndim != 2:
        raise ValueError(
            f"{name} must be a (time, neuron) array of spike counts or a SpikeEvents list, "
            f"got shape {counts.shape}"
        )
    _check_sizes(name, *counts.shape)
    if counts.dtype != bool:
        counts = counts.astype(np.float64)
        if not np.all(np.isfinite(counts) & (counts >= 0) & (counts == np.round(counts))):
            raise ValueError(f"{name} must hold whole spike counts >= 0 (0/1 spikes)")
    steps, neurons = np.nonzero(counts)
    repeats = counts[steps, neurons].astype(np.int64)
    return Spikes(
        np.repeat(steps, repeats), np.repeat(neurons, repeats), counts.shape[0], counts.shape[1]
    )


def _check_sizes(name: str, n_steps: int, n_neurons: int) -> None:
    if n_steps < 1 or n_neurons < 1:
        raise ValueError(
            f"{name} must hold at least one step and one neuron, got ({n_steps}, {n_neurons})"
        )


def bin_steps(bin_ms: Any, dt_ms: float, default_ms: float | None = DEFAULT_BIN_MS) -> int:
    """The number of samples in a bin of `bin_ms` (None: `default_ms` rounded to whole
    samples, or one sample when `default_ms` is None).

    Raises:
        ValueError: if `bin_ms` is not > 0 or not a whole number of samples of `dt_ms`.
    """
    if bin_ms is None:
        return 1 if default_ms is None else max(1, round(default_ms / dt_ms))
    bin_ms = check_dt(bin_ms, "bin_ms")
    steps = round(bin_ms / dt_ms)
    # a bin must hold whole samples, else its rate mixes in part of a sample
    if steps < 1 or not np.isclose(steps * dt_ms, bin_ms, rtol=1e-6, atol=0.0):
        raise ValueError(f"bin_ms must be a whole number of samples of dt_ms={dt_ms}, got {bin_ms}")
    return steps


def colors_for(colors: Any, keys: list[str | None], default: list[Any]) -> list[Any]:
    """One colour per entry: `colors` as one colour, a sequence, or a dict by name."""
    from matplotlib.colors import is_color_like

    if colors is None:
        return default
    if isinstance(colors, Mapping):
        missing = [k for k in keys if k not in colors]
        if missing:
            raise ValueError(f"colors has no entry for {missing}")
        return [colors[k] for k in keys]
    if is_color_like(colors):
        return [colors] * len(keys)
    colors = list(colors)
    if len(colors) < len(keys):
        raise ValueError(f"colors must give {len(keys)} colours, got {len(colors)}")
    return colors[: len(keys)]


def check_int_option(name: str, value: Any, minimum: int = 1) -> int:
    check_int(name, value, minimum=minimum)
    return int(value)

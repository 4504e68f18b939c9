"""The statistics the plots draw, in NumPy: binned population rate, per-neuron rate, ISIs.

Sample i (a step, or a recording window) covers the time [i·dt, (i+1)·dt) ms, and a
spike in it is placed at its end, (i+1)·dt, as `SpikeEvents.times_ms` does.
"""

from __future__ import annotations

import numpy as np

from ._inputs import Spikes


def binned_rate(s: Spikes, dt_ms: float, steps_per_bin: int) -> tuple[np.ndarray, np.ndarray]:
    """Population-mean rate per bin of `steps_per_bin` samples.

    Returns:
        `(edges_ms, rate_hz)`: (n_bins + 1,) bin edges (ms) and (n_bins,) rates (Hz): the
        spikes of the bin over (neurons × bin length); a shorter last bin is divided by
        its own length.
    """
    n_bins = -(-s.n_steps // steps_per_bin)
    counts = np.bincount(s.steps // steps_per_bin, minlength=n_bins)[:n_bins]
    edge_steps = np.minimum(np.arange(n_bins + 1) * steps_per_bin, s.n_steps)
    seconds = np.diff(edge_steps) * dt_ms / 1000.0
    return edge_steps * dt_ms, counts / (s.n_neurons * seconds)


def rebinned(rates_hz: np.ndarray, dt_ms: float, steps_per_bin: int):
    """A rate sampled every `dt_ms` averaged over bins of `steps_per_bin` samples.

    Returns:
        `(edges_ms, rate_hz)` as `binned_rate`.
    """
    n = rates_hz.shape[0]
    n_bins = -(-n // steps_per_bin)
    edge_steps = np.minimum(np.arange(n_bins + 1) * steps_per_bin, n)
    sums = np.add.reduceat(rates_hz, edge_steps[:-1])
    return edge_steps * dt_ms, sums / np.diff(edge_steps)


def neuron_rates(s: Spikes, dt_ms: float) -> np.ndarray:
    """(n_neurons,) mean rate of each neuron (Hz) over the whole record."""
    return np.bincount(s.neurons, minlength=s.n_neurons) / (s.n_steps * dt_ms / 1000.0)


def intervals(s: Spikes, dt_ms: float) -> np.ndarray:
    """The inter-spike intervals (ms) of every neuron, pooled; spikes counted in the same
    sample are 0 ms apart."""
    order = np.lexsort((s.steps, s.neurons))
    steps, neurons = s.steps[order], s.neurons[order]
    same = neurons[1:] == neurons[:-1]
    return np.diff(steps)[same] * dt_ms

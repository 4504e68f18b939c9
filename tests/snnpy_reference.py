"""snnpy's spike features, transcribed from snn-reservoir-py 2.0.0 (`snnpy/snn.py`) in NumPy.

A second, independent implementation of `jaxsnn.analysis.reservoir` for parity tests:
each function is the body of the snnpy method of the same name with
`self.spike_matrix_output` (a (time, neuron) 0/1 int8 array) as the argument, kept as
close to snnpy's code as possible (its per-neuron loops, its `== 1` tests, its -1
sentinels, `scipy.ndimage.label` for bursts). It does not import jaxsnn.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import label


def get_spike_time_lists_output(spike_matrix_output: np.ndarray) -> list[list[int]]:
    return [
        list(np.where(spike_matrix_output[:, i] == 1)[0])
        for i in range(spike_matrix_output.shape[1])
    ]


def get_spike_counts(spike_matrix_output: np.ndarray) -> np.ndarray:
    return np.sum(spike_matrix_output, axis=0)


def get_spike_variances(spike_matrix_output: np.ndarray) -> np.ndarray:
    return np.var(spike_matrix_output, axis=0)


def get_first_spike_times(spike_matrix_output: np.ndarray) -> np.ndarray:
    has_spike = np.any(spike_matrix_output == 1, axis=0)
    first_spike_times = np.argmax(spike_matrix_output == 1, axis=0)
    return np.where(has_spike, first_spike_times, -1)


def get_mean_spike_times(spike_matrix_output: np.ndarray) -> np.ndarray:
    spike_counts = get_spike_counts(spike_matrix_output)
    times = np.arange(spike_matrix_output.shape[0])[:, None]
    weighted_times = spike_matrix_output * times
    sum_times = np.sum(weighted_times, axis=0)

    mean_spike_times = np.full_like(spike_counts, fill_value=-1.0, dtype=float)
    nonzero_mask = spike_counts > 0
    mean_spike_times[nonzero_mask] = sum_times[nonzero_mask] / spike_counts[nonzero_mask]
    return mean_spike_times


def get_last_spike_times(spike_matrix_output: np.ndarray) -> np.ndarray:
    has_spike = np.any(spike_matrix_output == 1, axis=0)
    last_spike_times = (
        spike_matrix_output.shape[0] - 1 - np.argmax(spike_matrix_output[::-1] == 1, axis=0)
    )
    return np.where(has_spike, last_spike_times, -1)


def get_mean_isi_per_neuron(spike_matrix_output: np.ndarray) -> np.ndarray:
    num_output_neurons = spike_matrix_output.shape[1]
    mean_isis = np.full(num_output_neurons, -1.0, dtype=float)
    for i in range(num_output_neurons):
        spike_times = np.where(spike_matrix_output[:, i] == 1)[0]
        if len(spike_times) > 1:
            isis = np.diff(spike_times)
            mean_isis[i] = np.mean(isis)
    return mean_isis


def get_isi_variance_per_neuron(spike_matrix_output: np.ndarray) -> np.ndarray:
    num_output_neurons = spike_matrix_output.shape[1]
    isi_vars = np.full(num_output_neurons, -1.0, dtype=float)
    for i in range(num_output_neurons):
        spike_times = np.where(spike_matrix_output[:, i] == 1)[0]
        if len(spike_times) > 1:
            isis = np.diff(spike_times)
            isi_vars[i] = np.var(isis)
    return isi_vars


def get_burst_counts(spike_matrix_output: np.ndarray) -> np.ndarray:
    num_output_neurons = spike_matrix_output.shape[1]
    burst_counts = np.zeros(num_output_neurons, dtype=int)
    for i in range(num_output_neurons):
        spike_train = spike_matrix_output[:, i]
        _, num_bursts = label(spike_train)
        burst_counts[i] = num_bursts
    return burst_counts


def extract_features_from_spikes(spike_matrix_output: np.ndarray) -> dict:
    return {
        "spike_counts": get_spike_counts(spike_matrix_output),
        "spike_variances": get_spike_variances(spike_matrix_output),
        "mean_spike_times": get_mean_spike_times(spike_matrix_output),
        "first_spike_times": get_first_spike_times(spike_matrix_output),
        "last_spike_times": get_last_spike_times(spike_matrix_output),
        "mean_isi": get_mean_isi_per_neuron(spike_matrix_output),
        "isi_variances": get_isi_variance_per_neuron(spike_matrix_output),
        "burst_counts": get_burst_counts(spike_matrix_output),
    }


def calculate_mean_isi(spike_matrix_output: np.ndarray) -> float:
    # snnpy falls back on self.simulation_duration, the number of simulated steps, which
    # is the number of rows of its spike matrix
    simulation_duration = spike_matrix_output.shape[0]
    spike_times_list = get_spike_time_lists_output(spike_matrix_output)
    total_intervals = []
    for spike_times in spike_times_list:
        if len(spike_times) > 1:
            intervals = np.diff(spike_times)
            total_intervals.extend(intervals)
    if total_intervals:
        return float(np.mean(total_intervals))
    return float(simulation_duration)

"""Bad input to the analyses raises a ValueError that names the argument."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsnn.analysis as A
from jaxsnn.events import SpikeEvents

S = np.zeros((40, 3), np.float32)
S[::4, 0] = 1

SPIKE_FUNCTIONS = [
    lambda s: A.firing_rates(s, dt_ms=0.1),
    lambda s: A.population_rate(s, dt_ms=0.1),
    lambda s: A.cv_isi(s, dt_ms=0.1),
    lambda s: A.isi_histogram(s, bins_ms=[0.0, 1.0], dt_ms=0.1),
    lambda s: A.fano_factor(s, window_ms=1.0, dt_ms=0.1),
    lambda s: A.spike_count_correlation(s, window_ms=1.0, dt_ms=0.1),
    lambda s: A.spike_synchrony_chi(s, dt_ms=0.1, kernel=A.GaussianKernel(1.0)),
    lambda s: A.rate_power_spectrum(s, dt_ms=0.1),
    lambda s: A.detect_bursts(s, dt_ms=0.1, max_isi_ms=0.5, min_spikes=2),
    A.reservoir_features,
    A.first_spike_times,
    A.pooled_mean_isi,
]


@pytest.mark.parametrize("f", SPIKE_FUNCTIONS)
@pytest.mark.parametrize("shape", [(40,), (2, 40, 3)])
def test_spikes_must_be_time_by_neuron(f, shape):
    with pytest.raises(ValueError, match=r"spikes must have shape \(time, neuron\)"):
        f(np.zeros(shape, np.float32))


def test_event_lists_must_be_one_complete_trial():
    def events(batch_shape, overflow):
        return SpikeEvents(
            steps=jnp.zeros((*batch_shape, 4), jnp.int32),
            neurons=jnp.zeros((*batch_shape, 4), jnp.int32),
            count=jnp.full(batch_shape, 4, jnp.int32),
            overflow=jnp.full(batch_shape, overflow, jnp.int32),
            n_steps=40,
            n_neurons=3,
        )

    with pytest.raises(ValueError, match="one trial's SpikeEvents"):
        A.cv_isi(events((2,), 0), dt_ms=0.1)
    with pytest.raises(ValueError, match="overflowed"):
        A.firing_rates(events((), 1), dt_ms=0.1)
    # under jit the overflow is a value: eqx.error_if stops the run
    with pytest.raises(RuntimeError, match="overflowed"):
        jax.jit(lambda e: A.firing_rates(e, dt_ms=0.1))(events((), 1))


@pytest.mark.parametrize("dt_ms", [0.0, -0.1, float("nan"), "0.1", jnp.asarray(0.1), True])
def test_dt_ms_must_be_a_positive_python_number(dt_ms):
    for f in [A.firing_rates, A.cv_isi, A.smoothed_rates, A.population_rate]:
        kwargs = {"kernel": A.GaussianKernel(1.0)} if f is A.smoothed_rates else {}
        with pytest.raises(ValueError, match="dt_ms"):
            f(S, dt_ms=dt_ms, **kwargs)


def test_traced_dt_ms_is_refused():
    with pytest.raises(ValueError, match="dt_ms must be a Python number"):
        jax.jit(lambda dt: A.cv_isi(S, dt_ms=dt))(0.1)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: A.fano_factor(S, window_ms=0.05, dt_ms=0.1), "window_ms=0.05 ms is shorter"),
        (lambda: A.fano_factor(S, window_ms=-1.0, dt_ms=0.1), "window_ms must be > 0"),
        (lambda: A.fano_factor(S, window_ms=0.25, dt_ms=0.1), "window_ms=0.25 ms must be a whole"),
        (lambda: A.fano_factor(S, window_ms=3.0, dt_ms=0.1), "window_ms=3.0 leaves 1 full window"),
        (lambda: A.window_counts(S, window_ms=5.0, dt_ms=0.1), "window_ms=5.0 .* longer than"),
        (lambda: A.spike_count_correlation(S, window_ms=3.0, dt_ms=0.1), "window_ms"),
        (lambda: A.isi_histogram(S, bins_ms=[1.0, 0.5], dt_ms=0.1), "bins_ms must be strictly"),
        (lambda: A.isi_histogram(S, bins_ms=[1.0], dt_ms=0.1), "bins_ms must be a 1-D"),
        (lambda: A.isi_histogram(S, bins_ms=[[0.0, 1.0]], dt_ms=0.1), "bins_ms must be a 1-D"),
        (lambda: A.cv_isi(S * 2.0, dt_ms=0.1, differentiable=True), r"spikes \(with differ"),
        (lambda: A.population_rate(S, dt_ms=0.1, kernel="gaussian"), "kernel must be an Abs"),
        (lambda: A.GaussianKernel(sigma_ms=-1.0), "GaussianKernel.sigma_ms must be > 0"),
        (lambda: A.ExponentialKernel(tau_ms=jnp.asarray(1.0)), "ExponentialKernel.tau_ms"),
        (
            lambda: A.smoothed_rates(S, dt_ms=0.1, kernel=A.BoxcarKernel(0.05)),
            "BoxcarKernel.width_ms=0.05 ms is shorter than dt_ms",
        ),
        (
            lambda: A.detect_bursts(S, dt_ms=0.1, max_isi_ms=0.5, min_spikes=1),
            "min_spikes must be >= 2",
        ),
        (
            lambda: A.detect_bursts(S, dt_ms=0.1, max_isi_ms=0.5, min_spikes=2.0),
            "min_spikes must be an integer",
        ),
        (
            lambda: A.detect_bursts(S, dt_ms=0.1, max_isi_ms=0.05, min_spikes=2),
            "max_isi_ms=0.05 ms is shorter than dt_ms",
        ),
        (
            lambda: A.power_spectrum(np.zeros((4, 2)), dt_ms=0.1),
            r"signal must have shape \(time,\)",
        ),
        (lambda: A.power_spectrum(np.zeros(1), dt_ms=0.1), "signal must have at least 2"),
        (lambda: A.power_spectrum(np.zeros(40), dt_ms=0.1, segment_ms=5.0), "segment_ms=5.0"),
        (lambda: A.power_spectrum(np.zeros(40), dt_ms=0.1, overlap=1.0), "overlap must be"),
        (lambda: A.peak_frequency(jnp.ones(3), jnp.ones(4)), "freqs_hz and power must be"),
        (lambda: A.synchrony_chi(np.zeros(40)), r"traces must have shape \(time, neuron\)"),
    ],
)
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()

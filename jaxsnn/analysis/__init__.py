"""Spike-train analysis: features and statistics of recorded spikes.

Every function takes one trial's spikes as a dense (time, neuron) array (entries > 0 are
spikes) or as a `jaxsnn.events.SpikeEvents` list, the time step as the keyword `dt_ms`,
and returns one value per neuron unless it measures the population. All are pure JAX:
they run under `jit` (time step, windows and kernels are static Python numbers), `vmap`
over a leading trial axis, and those that are smooth in the spikes pass the gradient of
surrogate-gradient spikes. Undefined values are NaN (snnpy's features keep snnpy's -1),
as each function documents. The families, one file each:

- `reservoir`: snnpy's reservoir-computing features, exactly (`reservoir_features`);
- `described`: the six features snnpy's README describes but its code lacks, with
  standard, cited definitions (`described_features`; `spike_entropy`, `spike_rates`,
  `autocorrelation_first_lag`, `burstiness`, `spike_symmetry`,
  `spike_histogram_moments`);
- `rates`: firing rates in Hz, per neuron and of the population over time;
- `kernels`: the smoothing kernels (Gaussian, boxcar, exponential) of those rates;
- `isi`: inter-spike intervals: `cv_isi` (also differentiable), `isi_histogram`;
- `counts`: counts in windows: `fano_factor`, `spike_count_correlation`;
- `synchrony`: Golomb's synchrony χ of voltages or of smoothed spike trains;
- `spectrum`: Welch power spectrum of the population rate, `peak_frequency`;
- `bursts`: ISI-threshold burst detection (`detect_bursts`).
"""

from .bursts import Bursts, detect_bursts
from .counts import (
    fano_factor,
    mean_spike_count_correlation,
    spike_count_correlation,
    window_counts,
)
from .described import (
    SpikeTimeMoments,
    autocorrelation_first_lag,
    burstiness,
    described_features,
    spike_entropy,
    spike_histogram_moments,
    spike_rates,
    spike_symmetry,
)
from .isi import cv_isi, isi_histogram
from .kernels import AbstractKernel, BoxcarKernel, ExponentialKernel, GaussianKernel
from .rates import firing_rates, population_rate, smoothed_rates
from .reservoir import (
    first_spike_times,
    isi_variances,
    last_spike_times,
    mean_isi,
    mean_spike_times,
    pooled_mean_isi,
    reservoir_features,
    spike_counts,
    spike_run_counts,
    spike_variances,
)
from .spectrum import peak_frequency, power_spectrum, rate_power_spectrum
from .synchrony import spike_synchrony_chi, synchrony_chi

__all__ = [
    "AbstractKernel",
    "BoxcarKernel",
    "Bursts",
    "ExponentialKernel",
    "GaussianKernel",
    "SpikeTimeMoments",
    "autocorrelation_first_lag",
    "burstiness",
    "cv_isi",
    "described_features",
    "detect_bursts",
    "fano_factor",
    "firing_rates",
    "first_spike_times",
    "isi_histogram",
    "isi_variances",
    "last_spike_times",
    "mean_isi",
    "mean_spike_count_correlation",
    "mean_spike_times",
    "peak_frequency",
    "pooled_mean_isi",
    "population_rate",
    "power_spectrum",
    "rate_power_spectrum",
    "reservoir_features",
    "smoothed_rates",
    "spike_count_correlation",
    "spike_counts",
    "spike_entropy",
    "spike_histogram_moments",
    "spike_rates",
    "spike_run_counts",
    "spike_symmetry",
    "spike_synchrony_chi",
    "spike_variances",
    "synchrony_chi",
    "window_counts",
]

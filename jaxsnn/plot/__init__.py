"""Figures of spiking networks with matplotlib: rasters, traces, rates, weights, training.

Optional: `import jaxsnn` does not load matplotlib, `import jaxsnn.plot` loads it on the
first plot. Each function draws on the Axes given as `ax` (or on a new figure), returns
the Axes it drew on, and writes nothing: `save(fig_or_ax, path)` is the one way to write
a figure, atomically. Without a backend chosen by the user, figures use Agg.

Inputs are what `simulate` returns: spikes as a (time, neuron) array of spike counts, a
`jaxsnn.events.SpikeEvents` list, or a dict population name -> either (the dicts of a
`Recording`: `spikes`, `v`, `rates_hz`, `counts`); a dict's populations get one colour
each. Times are in ms from `dt_ms`, the length of one sample (step or recording
window); voltages in mV, rates in Hz.
"""

from ._files import save
from .histograms import feature_summary, isi_histogram, rate_histogram
from .phase_plane import phase_plane
from .psychophysics import chronometric, psychometric
from .raster import RasterAxes, raster
from .rates import population_rate
from .traces import membrane_traces
from .training import TrainingAxes, training_curves
from .weights import weight_histogram, weight_matrix

__all__ = [
    "RasterAxes",
    "TrainingAxes",
    "chronometric",
    "feature_summary",
    "isi_histogram",
    "membrane_traces",
    "phase_plane",
    "population_rate",
    "psychometric",
    "rate_histogram",
    "raster",
    "save",
    "training_curves",
    "weight_histogram",
    "weight_matrix",
]

"""Procedurally generated tasks and input encoders: every data set is a pure function of a
JAX key (nothing is downloaded).

- `yin_yang`: the Yin-Yang data set of Kriener, Göltz & Petrovici (`yin_yang`,
  `yin_yang_split`, `yin_yang_class`, `yin_yang_class_probabilities`);
- `randman`: Zenke & Vogels' random-manifold spike-timing task (`randman`,
  `randman_times`, `times_to_raster`, `random_manifold`, `RandomManifold`,
  `n_frequencies`);
- `encoders`: values to spike rasters (`latency`, `latency_times`, `poisson`);
- `tasks`: Yin-Yang (latency coded, with a bias channel) and Randman as train/test spike
  rasters for a classifier (`yin_yang_task`, `randman_task`).
"""

from .encoders import latency, latency_times, poisson
from .randman import (
    RandomManifold,
    n_frequencies,
    randman,
    randman_times,
    random_manifold,
    times_to_raster,
)
from .tasks import randman_task, yin_yang_task
from .yin_yang import yin_yang, yin_yang_class, yin_yang_class_probabilities, yin_yang_split

__all__ = [
    "RandomManifold",
    "yin_yang_class_probabilities",
    "latency",
    "latency_times",
    "n_frequencies",
    "poisson",
    "random_manifold",
    "randman",
    "randman_task",
    "randman_times",
    "times_to_raster",
    "yin_yang",
    "yin_yang_class",
    "yin_yang_split",
    "yin_yang_task",
]

"""Gradient training of spiking classifiers with optax (an application on the core); the
tasks, as spike rasters, are `jaxsnn.datasets.yin_yang_task` and `randman_task`.

- `classifier`: `Classifier`, the builder `feedforward` (input -> LIF or AdaptiveLIF
  hidden layer, optionally recurrent -> leaky readout), the readout conventions
  `MaxOverTime` and `MeanOverTime`, `logits`, `cross_entropy`, `accuracy`;
- `fit`: `fit` (minibatch training, atomic `jaxsnn.checkpoints`, exact resumption),
  `FitResult`;
- `report`: `seeds_summary` (mean and Student-t confidence interval over seeds).
"""

from .classifier import (
    AbstractReadout,
    Classifier,
    MaxOverTime,
    MeanOverTime,
    accuracy,
    cross_entropy,
    feedforward,
    logits,
)
from .fit import FitResult, fit
from .report import SeedsSummary, seeds_summary, student_t_quantile

__all__ = [
    "AbstractReadout",
    "Classifier",
    "FitResult",
    "MaxOverTime",
    "MeanOverTime",
    "SeedsSummary",
    "accuracy",
    "cross_entropy",
    "feedforward",
    "fit",
    "logits",
    "seeds_summary",
    "student_t_quantile",
]

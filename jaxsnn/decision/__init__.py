"""The 1000-neuron binary-decision model: build, tasks, gradient training, evaluation.

- `build_decision_model(key, ...)` -> `DecisionModel` (see `jaxsnn.decision.model`);
- tasks `RatePattern`, `XOR`, `HardRate` (`get_task("rate" | "xor" | "hard")`);
- `train(model, task, key, ...)` (optax, BPTT through the scan) -> `TrainResult`;
- `evaluate(model, task, key, n_trials=1000)` -> dict with accuracy, Wilson 95 % interval,
  confusion matrix, mean output rate per class, trials per second.
"""

from .evaluate import confusion_matrix, evaluate, output_rates_hz, wilson_interval
from .model import DecisionModel, build_decision_model
from .tasks import XOR, AbstractTask, HardRate, RatePattern, get_task
from .train import TrainResult, bce_loss, train, train_step, trainable_filter

__all__ = [
    "XOR",
    "AbstractTask",
    "DecisionModel",
    "HardRate",
    "RatePattern",
    "TrainResult",
    "bce_loss",
    "build_decision_model",
    "confusion_matrix",
    "evaluate",
    "get_task",
    "output_rates_hz",
    "train",
    "train_step",
    "trainable_filter",
    "wilson_interval",
]

"""Training curves: loss, and optionally accuracy, per optimiser step."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ._pyplot import axes_or_new

if TYPE_CHECKING:
    from matplotlib.axes import Axes


class TrainingAxes(NamedTuple):
    """The two Axes of a training curve with accuracy (they share the step axis).

    Attributes:
        loss: the loss, on the left axis.
        accuracy: the accuracy in [0, 1], on the right axis.
    """

    loss: Axes
    accuracy: Axes


def training_curves(
    losses: Any,
    accuracies: Any = None,
    *,
    ax: Axes | None = None,
    log_scale: bool = False,
    loss_label: str = "loss",
    title: str | None = None,
) -> Axes | TrainingAxes:
    """Draw the loss per step, and the accuracy on a second y axis when given.

    Args:
        losses: (steps,) loss of each step (NaN steps are left as gaps).
        accuracies: optional (steps,) accuracy of each step, in [0, 1].
        ax: the Axes to draw on (default: a new figure).
        log_scale: a logarithmic loss axis.
        loss_label: the loss axis label (e.g. "binary cross-entropy").
        title: the Axes title.

    Returns:
        The loss Axes, or `TrainingAxes(loss, accuracy)` with accuracies.

    Raises:
        ValueError: if `losses` is not (steps,) or `accuracies` is not the same length.
    """
    losses = np.asarray(losses, dtype=np.float64)
    if losses.ndim != 1 or losses.shape[0] < 1:
        raise ValueError(f"losses must be (steps,) one loss per step, got shape {losses.shape}")
    if accuracies is not None:
        accuracies = np.asarray(accuracies, dtype=np.float64)
        if accuracies.shape != losses.shape:
            raise ValueError(
                f"accuracies must be shaped like losses {losses.shape}, got {accuracies.shape}"
            )
    from matplotlib.ticker import MaxNLocator

    ax = axes_or_new(ax)
    steps = np.arange(losses.shape[0])
    (loss_line,) = ax.plot(steps, losses, color="C0", label=loss_label)
    ax.set_xlabel("step")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(loss_label)
    if log_scale:
        ax.set_yscale("log")
    if title is not None:
        ax.set_title(title)
    if accuracies is None:
        return ax
    acc_ax = ax.twinx()
    (acc_line,) = acc_ax.plot(steps, accuracies, color="C1", alpha=0.8, label="accuracy")
    acc_ax.set_ylabel("accuracy")
    acc_ax.set_ylim(0.0, 1.05)
    # on the twin Axes, which is drawn over the loss Axes and would hide a legend there
    acc_ax.legend(handles=[loss_line, acc_line], fontsize=8, loc="center right")
    return TrainingAxes(ax, acc_ax)


__all__ = ["TrainingAxes", "training_curves"]

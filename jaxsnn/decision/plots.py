"""Figures and files of a decision run: raster plot, loss curve, JSON summary.

The figures are drawn by `jaxsnn.plot` and written with its `save`; every file is
written atomically (a temporary file in the same folder, then `os.replace`), so a reader
never sees a half-written PNG or JSON and an interrupted run leaves the previous file
intact.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..plot import raster, save, training_curves
from ..plot._files import atomic_write_bytes
from ..plot._pyplot import pyplot

# Resolution of the PNGs: readable in a terminal image viewer, small enough to commit.
_DPI = 110


def write_summary(path: str | os.PathLike, summary: Mapping) -> Path:
    """Write `summary` as indented JSON, atomically."""
    text = json.dumps(summary, indent=2, sort_keys=False) + "\n"
    return atomic_write_bytes(path, text.encode())


def plot_raster(
    path: str | os.PathLike,
    panels: Sequence[tuple[str, Mapping[str, np.ndarray]]],
    *,
    dt_ms: float,
    window_ms: float | None = None,
    max_neurons: int = 200,
) -> Path:
    """Raster plots of trials, one panel per trial, one colour per population.

    Args:
        path: PNG file to write.
        panels: `(title, spikes)` per trial, `spikes` mapping population name ->
            (n_steps, n) 0/1 spikes, in network order.
        dt_ms: step length (ms), for the time axis.
        window_ms: length of the time axis (ms); default: fit the spikes.
        max_neurons: at most this many neurons are drawn per population (the first ones).

    Returns:
        The path written.
    """
    if not panels:
        raise ValueError("panels must hold at least one (title, spikes) trial")
    fig, axes = pyplot().subplots(len(panels), 1, figsize=(8, 3 * len(panels)), squeeze=False)
    for ax, (title, spikes) in zip(axes[:, 0], panels, strict=True):
        raster(spikes, dt_ms=dt_ms, ax=ax, max_neurons=max_neurons)
        if window_ms is not None:
            ax.set_xlim(0.0, window_ms)
        ax.set_title(title, fontsize=10)
    for ax in axes[:-1, 0]:
        ax.set_xlabel("")
    fig.tight_layout()
    return save(fig, path, dpi=_DPI, close=True)


def plot_loss(
    path: str | os.PathLike,
    losses: Sequence[float],
    accuracies: Sequence[float] | None = None,
    *,
    title: str = "training",
) -> Path:
    """Training curve: batch loss (and batch accuracy on a second axis) per step.

    Args:
        path: PNG file to write.
        losses: (steps,) batch losses.
        accuracies: optional (steps,) batch accuracies in [0, 1].
        title: figure title.

    Returns:
        The path written.
    """
    fig, ax = pyplot().subplots(figsize=(6, 3.5))
    training_curves(losses, accuracies, ax=ax, loss_label="binary cross-entropy", title=title)
    return save(fig, path, dpi=_DPI, close=True)


__all__ = ["atomic_write_bytes", "plot_loss", "plot_raster", "write_summary"]

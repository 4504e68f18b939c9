"""Figures and files of a decision run: raster plot, loss curve, JSON summary.

Plots use matplotlib's Agg backend (no display needed). Every file is written atomically
(a temporary file in the same folder, then `os.replace`), so a reader never sees a
half-written PNG or JSON and an interrupted run leaves the previous file intact.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` atomically (temp file in the same folder + `os.replace`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def write_summary(path: str | os.PathLike, summary: Mapping) -> Path:
    """Write `summary` as indented JSON, atomically."""
    text = json.dumps(summary, indent=2, sort_keys=False) + "\n"
    return atomic_write_bytes(path, text.encode())


def _save(fig, path: str | os.PathLike) -> Path:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    return atomic_write_bytes(path, buf.getvalue())


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
    plt = _pyplot()
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, 3 * len(panels)), squeeze=False)
    for ax, (title, spikes) in zip(axes[:, 0], panels, strict=True):
        offset = 0
        for i, (name, s) in enumerate(spikes.items()):
            s = np.asarray(s)[:, :max_neurons]
            steps, neurons = np.nonzero(s)
            ax.scatter(
                steps * dt_ms, neurons + offset, s=2.0, color=f"C{i}", label=name, marker="|"
            )
            offset += s.shape[1]
        ax.set_ylabel("neuron")
        if window_ms is not None:
            ax.set_xlim(0.0, window_ms)
        ax.set_ylim(-1, max(offset, 1))
        ax.legend(loc="upper right", markerscale=5, fontsize=8)
        ax.set_title(title, fontsize=10)
    axes[-1, 0].set_xlabel("time (ms)")
    fig.tight_layout()
    return _save(fig, path)


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
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    steps = np.arange(len(losses))
    ax.plot(steps, np.asarray(losses), color="C0", label="loss (BCE)")
    ax.set_xlabel("optimiser step")
    ax.set_ylabel("binary cross-entropy", color="C0")
    if accuracies is not None:
        ax2 = ax.twinx()
        ax2.plot(steps, np.asarray(accuracies), color="C1", alpha=0.7, label="batch accuracy")
        ax2.set_ylabel("batch accuracy", color="C1")
        ax2.set_ylim(0, 1.05)
    ax.set_title(title)
    return _save(fig, path)

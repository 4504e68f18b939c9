"""Synaptic weights: the (pre, post) matrix as an image, and their histogram."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..projection import Projection
from ._inputs import colors_for, label, populations
from ._pyplot import axes_or_new

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def _axis_label(units: str | None) -> str:
    return "weight" if units is None else f"weight ({units})"


def weight_matrix(
    weights: Any,
    *,
    ax: Axes | None = None,
    cmap: Any = None,
    colorbar: bool = True,
    units: str | None = None,
) -> Axes:
    """Draw a weight matrix as an image, presynaptic neurons on the y axis.

    Signed weights get a diverging colour map centred at 0 (red excitatory, blue
    inhibitory); weights of one sign a sequential one. Pairs of a `Projection` without
    a synapse are drawn grey, apart from synapses of weight 0.

    Args:
        weights: a dense (pre, post) array, or a `jaxsnn.Projection` (dense or sparse
            storage).
        ax: the Axes to draw on (default: a new figure).
        cmap: a matplotlib colour map (default: "RdBu_r" for signed weights, "viridis"
            otherwise).
        colorbar: draw a colour bar beside the image.
        units: the weights' unit for the colour bar label: mV for delta and current
            synapses, the leak conductance for conductance synapses (none by default).

    Returns:
        The Axes of the image.

    Raises:
        ValueError: if `weights` is not a (pre, post) matrix or a Projection.
    """
    import matplotlib as mpl

    if isinstance(weights, Projection):
        layout = weights.layout
        exists = np.asarray(layout.dense(layout.exists().astype(weights.weights.dtype))) > 0
        w = np.where(exists, np.asarray(weights.dense_weights(), dtype=np.float64), np.nan)
    else:
        w = np.asarray(weights, dtype=np.float64)
        if w.ndim != 2:
            raise ValueError(
                f"weights must be a (pre, post) matrix or a Projection, got shape {w.shape}"
            )
    finite = w[np.isfinite(w)]
    lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 0.0)
    if lo < 0 < hi:
        bound = max(-lo, hi)
        vmin, vmax, default = -bound, bound, "RdBu_r"
    else:
        vmin, vmax, default = lo, hi, "viridis"
    if cmap is None:
        cmap = default
    if isinstance(cmap, str):
        if cmap not in mpl.colormaps:
            raise ValueError(f"cmap must name a matplotlib colour map, got {cmap!r}")
        cmap = mpl.colormaps[cmap]
    ax = axes_or_new(ax, figsize=(5.0, 4.0))
    image = ax.imshow(
        np.ma.masked_invalid(w),
        cmap=cmap.with_extremes(bad="0.85"),
        vmin=vmin,
        vmax=vmax,
        origin="lower",
        aspect="auto",
        interpolation="nearest",
    )
    ax.set_xlabel("postsynaptic neuron")
    ax.set_ylabel("presynaptic neuron")
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label=_axis_label(units))
    return ax


def weight_histogram(
    weights: Any,
    *,
    bins: int | Any = 50,
    ax: Axes | None = None,
    colors: Any = None,
    units: str | None = None,
    log: bool = False,
) -> Axes:
    """Draw the histogram of synaptic weights.

    Args:
        weights: an array of weights (any shape, all entries counted), a
            `jaxsnn.Projection` (its existing synapses only), or a dict name -> either.
        bins: number of bins, or their edges; shared by all entries of a dict.
        ax: the Axes to draw on (default: a new figure).
        colors: one colour, a sequence of one per entry, or a dict by name.
        units: the weights' unit for the axis label (see `weight_matrix`).
        log: a logarithmic count axis (shows the tail of a heavy-tailed distribution).

    Returns:
        The Axes drawn on.

    Raises:
        ValueError: if an entry holds no finite weight.
    """
    entries, named = populations("weights", weights)
    values = []
    for key, x in entries:
        if isinstance(x, Projection):
            w = np.asarray(x.weights, dtype=np.float64)[np.asarray(x.layout.exists())]
        else:
            w = np.asarray(x, dtype=np.float64).ravel()
        w = w[np.isfinite(w)]
        if w.size == 0:
            raise ValueError(f"{label('weights', key)} holds no finite weight")
        values.append(w)
    keys = [key for key, _ in entries]
    cols = colors_for(colors, keys, [f"C{i}" for i in range(len(keys))])
    ax = axes_or_new(ax)
    edges = np.histogram_bin_edges(np.concatenate(values), bins=bins)
    for key, w, color in zip(keys, values, cols, strict=True):
        ax.hist(w, bins=edges, histtype="step" if named else "bar", color=color, label=key, log=log)
    if named:
        ax.legend(fontsize=8, loc="best")
    ax.set_xlabel(_axis_label(units))
    ax.set_ylabel("synapses")
    return ax


__all__ = ["weight_histogram", "weight_matrix"]

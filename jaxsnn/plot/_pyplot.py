"""matplotlib, loaded on first use: the backend rule and the Axes a plot draws on."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def pyplot():
    """`matplotlib.pyplot`, with the Agg backend if no backend was chosen.

    A backend chosen by the user (`MPLBACKEND`, a matplotlibrc, `matplotlib.use`, a
    notebook's `%matplotlib`) is kept. Without one, Agg makes the figures the same on
    every machine, headless or not; call `matplotlib.use` first to get a window.
    """
    import matplotlib

    if "matplotlib.pyplot" not in sys.modules and _backend_unset(matplotlib):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _backend_unset(matplotlib) -> bool:
    get = getattr(matplotlib.rcParams, "_get_backend_or_none", None)
    if get is None:  # a matplotlib without the helper: leave its own choice alone
        return False
    return get() is None


def axes_or_new(ax: Any, figsize: tuple[float, float] = (6.0, 3.5)) -> Axes:
    """`ax` if given (checked), else the Axes of a new figure of `figsize` (inches)."""
    plt = pyplot()
    if ax is None:
        return plt.subplots(figsize=figsize)[1]
    check_axes("ax", ax)
    return ax


def check_axes(name: str, ax: Any) -> None:
    """Raise ValueError unless `ax` is a matplotlib Axes."""
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise ValueError(f"{name} must be a matplotlib Axes, got {type(ax).__name__}")


def root_figure(obj: Any) -> Figure:
    """The top-level Figure of a Figure, SubFigure, Axes or sequence of Axes."""
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, FigureBase

    if isinstance(obj, tuple | list) and obj and isinstance(obj[0], Axes):
        obj = obj[0]
    if isinstance(obj, Axes):
        obj = obj.figure
    if not isinstance(obj, FigureBase):
        raise ValueError(
            f"figure must be a matplotlib Figure, Axes or tuple of Axes, got {type(obj).__name__}"
        )
    while not isinstance(obj, Figure):  # a SubFigure: its parent holds the canvas
        obj = obj.figure
    return obj

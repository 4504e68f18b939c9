"""Phase planes of two-variable models: nullclines, fixed points, trajectories.

Model-agnostic: curves and points come in as arrays (e.g. from
`jaxsnn.models.wong_wang2006.nullclines` and `fixed_points`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._pyplot import axes_or_new

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def _curve(name: str, x: Any) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"{name} must be a (points, 2) array of (x, y), got shape {x.shape}")
    return x


def phase_plane(
    nullclines: Sequence[Any] = (),
    *,
    fixed_points: Any = None,
    stable: Any = None,
    trajectories: Sequence[Any] = (),
    vector_field: Any = None,
    ax: Axes | None = None,
    labels: tuple[str, str] = ("$S_1$", "$S_2$"),
    nullcline_labels: Sequence[str] | None = None,
    limits: tuple[float, float, float, float] | None = (0.0, 1.0, 0.0, 1.0),
) -> Axes:
    """Draw a phase plane.

    Args:
        nullclines: curves, each a (points, 2) array of (x, y).
        fixed_points: optional (k, 2) fixed points.
        stable: optional (k,) bools: stable points filled, others open (default all
            filled).
        trajectories: curves, each a (time, 2) array, drawn thin with a marker at the end.
        vector_field: optional `(xy, dxy)`: (m, 2) points and (m, 2) derivatives, drawn
            as normalised arrows.
        ax: the Axes to draw on (default: a new figure).
        labels: axis labels.
        nullcline_labels: legend labels of the nullclines (default "d x/dt = 0", ...).
        limits: (x0, x1, y0, y1), or None for matplotlib's.

    Returns:
        The Axes drawn on.

    Raises:
        ValueError: arrays of the wrong shape.
    """
    ax = axes_or_new(ax, figsize=(4.5, 4.5))
    curves = [_curve(f"nullclines[{i}]", n) for i, n in enumerate(nullclines)]
    names = (
        list(nullcline_labels)
        if nullcline_labels is not None
        else [f"d{labels[i % 2]}/dt = 0" for i in range(len(curves))]
    )
    if len(names) != len(curves):
        raise ValueError(
            f"nullcline_labels must have one label per nullcline ({len(curves)}), got {len(names)}"
        )
    if vector_field is not None:
        xy, dxy = (np.asarray(v, dtype=np.float64) for v in vector_field)
        if xy.ndim != 2 or xy.shape[1] != 2 or dxy.shape != xy.shape:
            raise ValueError(
                f"vector_field must be (points (m, 2), derivatives (m, 2)), got shapes "
                f"{xy.shape} and {dxy.shape}"
            )
        norm = np.maximum(np.linalg.norm(dxy, axis=1, keepdims=True), 1e-300)
        ax.quiver(*xy.T, *(dxy / norm).T, color="0.75", angles="xy", width=0.003)
    for i, (curve, name) in enumerate(zip(curves, names, strict=True)):
        ax.plot(curve[:, 0], curve[:, 1], color=f"C{i}", lw=1.8, label=name)
    for i, traj in enumerate(trajectories):
        t = _curve(f"trajectories[{i}]", traj)
        ax.plot(t[:, 0], t[:, 1], color="0.3", lw=0.7)
        ax.plot(t[-1, 0], t[-1, 1], ".", color="0.3")
    if fixed_points is not None:
        fp = np.asarray(fixed_points, dtype=np.float64).reshape(-1, 2)
        st = np.ones(fp.shape[0], bool) if stable is None else np.asarray(stable, bool)
        if st.shape != (fp.shape[0],):
            raise ValueError(f"stable must have shape ({fp.shape[0]},), got {st.shape}")
        if st.any():
            ax.plot(*fp[st].T, "o", color="k", ms=7, label="stable")
        if (~st).any():
            ax.plot(*fp[~st].T, "o", mfc="w", mec="k", ms=7, label="unstable / saddle")
    if limits is not None:
        ax.set_xlim(limits[0], limits[1])
        ax.set_ylim(limits[2], limits[3])
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.set_aspect("equal", adjustable="box")
    ax.legend(fontsize=8, loc="upper right")
    return ax


__all__ = ["phase_plane"]

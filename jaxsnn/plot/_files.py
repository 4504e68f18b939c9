"""Writing figures to files: `save`, the one way to do it, and the atomic writer under it.

A file is written atomically: the bytes go to a temporary file in the target's folder,
which then replaces the target (`os.replace`), so a reader never sees a half-written
PNG and an interrupted run leaves the previous file intact.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from ..io import atomic_write
from ._pyplot import pyplot, root_figure


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` atomically (see `jaxsnn.io.atomic_write`)."""
    return atomic_write(path, lambda f: f.write(data))


def save(
    figure: Any,
    path: str | os.PathLike,
    *,
    dpi: float = 150.0,
    format: str | None = None,
    bbox_inches: str | None = "tight",
    close: bool = False,
) -> Path:
    """Write a figure to `path`, atomically.

    Args:
        figure: a matplotlib Figure, or an Axes (or tuple of Axes, as the plots return)
            whose figure is written.
        path: the file; its folder is created if missing.
        dpi: resolution of raster formats (dots per inch).
        format: "png", "pdf", "svg", ... (default: from the suffix of `path`).
        bbox_inches: passed to `Figure.savefig` ("tight" trims the white margin).
        close: close the figure after writing it (frees pyplot's memory in scripts that
            make many figures).

    Returns:
        The path written.

    Raises:
        ValueError: if `figure` is not a figure or Axes, or the format is unknown.
    """
    fig = root_figure(figure)
    path = Path(path)
    fmt = format if format is not None else path.suffix[1:].lower()
    supported = fig.canvas.get_supported_filetypes()
    if fmt not in supported:
        raise ValueError(
            f"format must be one of {sorted(supported)} (or path a file with that suffix), "
            f"got {fmt!r} for path {str(path)!r}"
        )
    if not dpi > 0:
        raise ValueError(f"dpi must be > 0, got {dpi}")
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, bbox_inches=bbox_inches)
    if close:
        pyplot().close(fig)
    return atomic_write_bytes(path, buf.getvalue())

"""Input validation shared by every module.

Checks run on concrete values only (Python numbers and arrays that are not tracers), so
they fire at construction time and at the entry of `simulate`, never inside the scan.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np


def is_concrete(x: Any) -> bool:
    """True when `x` has a value now (not a tracer inside jit/vmap/grad, nor a shape
    placeholder `jax.ShapeDtypeStruct`)."""
    return not isinstance(x, jax.core.Tracer | jax.ShapeDtypeStruct)


def _values(x: Any) -> np.ndarray | None:
    if not is_concrete(x):
        return None
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        return None


def check_finite(name: str, x: Any) -> None:
    """Raise ValueError if a concrete `x` holds NaN or inf."""
    v = _values(x)
    if v is not None and not np.all(np.isfinite(v)):
        raise ValueError(f"{name} must be finite, got {_show(x)}")


def check_positive(name: str, x: Any) -> None:
    """Raise ValueError unless every concrete value of `x` is finite and > 0."""
    check_finite(name, x)
    v = _values(x)
    if v is not None and not np.all(v > 0):
        raise ValueError(f"{name} must be > 0, got {_show(x)}")


def check_nonnegative(name: str, x: Any) -> None:
    """Raise ValueError unless every concrete value of `x` is finite and >= 0."""
    check_finite(name, x)
    v = _values(x)
    if v is not None and not np.all(v >= 0):
        raise ValueError(f"{name} must be >= 0, got {_show(x)}")


def check_probability(name: str, x: Any) -> None:
    """Raise ValueError unless every concrete value of `x` lies in [0, 1]."""
    check_finite(name, x)
    v = _values(x)
    if v is not None and not np.all((v >= 0) & (v <= 1)):
        raise ValueError(f"{name} must be a probability in [0, 1], got {_show(x)}")


def check_int(name: str, x: Any, *, minimum: int = 0) -> None:
    """Raise ValueError unless `x` is a Python/NumPy integer >= `minimum`."""
    if isinstance(x, bool) or not isinstance(x, int | np.integer):
        raise ValueError(f"{name} must be an integer, got {x!r}")
    if x < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {x}")


def _show(x: Any) -> str:
    v = np.asarray(x, dtype=np.float64)
    if v.size <= 6:
        return repr(v.tolist()) if v.ndim else repr(v.item())
    n_nan = int(np.isnan(v).sum())
    if n_nan == v.size:
        return f"array of shape {v.shape} (all NaN)"
    return f"array of shape {v.shape} (min {np.nanmin(v)}, max {np.nanmax(v)}, {n_nan} NaN)"

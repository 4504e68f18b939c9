"""Input validation shared by every module.

Checks run on concrete values only (Python numbers and arrays that are not tracers), so
they fire at construction time and at the entry of `simulate`, never inside the scan.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import jax
import jax.numpy as jnp
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


def check_real(name: str, x: Any) -> None:
    """Raise ValueError unless a concrete `x` is a real number or an array of them.

    NumPy converts "20" to 20.0 and None to NaN, so without this a string passes a
    range check and fails later in JAX with a message that names no argument, a bool
    would silently be 0.0 or 1.0, and an object NumPy cannot convert would pass every
    check unseen (bool arrays stay allowed: spike trains are checked with these
    functions).
    """
    if not is_concrete(x):
        return
    kind = getattr(getattr(x, "dtype", None), "kind", None)
    bad = x is None or isinstance(x, str | bytes | bool | np.bool_ | complex)
    bad = bad or kind in ("U", "S", "c", "O")
    if not bad and kind is None and not isinstance(x, int | float):
        try:
            np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError):
            bad = True
    if bad:
        got = f"an array of dtype {x.dtype}" if kind is not None else repr(x)
        raise ValueError(f"{name} must be a real number or an array of them, got {got}")


def check_finite(name: str, x: Any) -> None:
    """Raise ValueError if a concrete `x` is not real (`check_real`) or holds NaN or inf."""
    check_real(name, x)
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


def real_number(name: str, x: Any) -> float:
    """`x` as a float; ValueError unless it is one finite Python or NumPy real number
    (not a bool, a string or an array: builders do arithmetic on it in Python)."""
    if isinstance(x, bool | np.bool_) or not isinstance(x, int | float | np.integer | np.floating):
        raise ValueError(f"{name} must be a finite number (a Python or NumPy scalar), got {x!r}")
    if not np.isfinite(x):
        raise ValueError(f"{name} must be a finite number, got {x!r}")
    return float(x)


def check_float_dtype(name: str, dtype: Any) -> None:
    """Raise ValueError unless `dtype` is None (the default float) or a float dtype:
    an integer dtype would truncate weights and potentials without a word."""
    if dtype is None:
        return
    try:
        floating = jnp.issubdtype(dtype, jnp.floating)
    except TypeError:
        floating = False
    if not floating:
        raise ValueError(f"{name} must be a float dtype (or None), got {dtype!r}")


def check_key(name: str, key: Any) -> None:
    """Raise ValueError unless `key` is a JAX PRNG key: a typed key (`jax.random.key`)
    or a raw uint32 one (`jax.random.PRNGKey`); JAX's own error names no argument."""
    dtype = getattr(key, "dtype", None)
    if dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
        return
    if dtype == np.uint32 and np.ndim(key) >= 1:
        return
    got = f"an array of dtype {dtype}" if dtype is not None else repr(key)
    raise ValueError(f"{name} must be a PRNG key (jax.random.key(seed)), got {got}")


@contextlib.contextmanager
def for_argument(name: str) -> Iterator[None]:
    """Prefix a ValueError raised inside with `name`: a model builder passes its
    arguments on to modules whose messages name their own fields (`ExpCurrent.tau_ms`),
    not the builder's argument the value came from."""
    try:
        yield
    except ValueError as err:
        raise ValueError(f"{name}: {err}") from None


def _show(x: Any) -> str:
    v = np.asarray(x, dtype=np.float64)
    if v.size <= 6:
        return repr(v.tolist()) if v.ndim else repr(v.item())
    n_nan = int(np.isnan(v).sum())
    if n_nan == v.size:
        return f"array of shape {v.shape} (all NaN)"
    return f"array of shape {v.shape} (min {np.nanmin(v)}, max {np.nanmax(v)}, {n_nan} NaN)"

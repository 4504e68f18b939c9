"""The one way in for spikes, and the argument checks every analysis shares.

Every analysis takes spikes either as a dense (time, neuron) array or as a
`jaxsnn.events.SpikeEvents` list; `as_dense` turns both into the float (time, neuron)
array the analyses work on, so no other function looks at the input's type. The time
step and the window lengths are Python numbers (they set shapes and kernels at trace
time); `check_dt_ms` and `steps_of` reject bad ones with a ValueError naming them.
"""

from __future__ import annotations

import math
from typing import Any, TypeAlias

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._checks import check_positive, is_concrete
from ..events import SpikeEvents

Spikes: TypeAlias = ArrayLike | SpikeEvents
"""A (time, neuron) array (float, int or bool; entries > 0 are spikes) or a `SpikeEvents`."""


def default_float() -> jnp.dtype:
    """float32, or float64 under `jax.enable_x64`."""
    return jnp.dtype(jax.dtypes.canonicalize_dtype(jnp.float64))


def as_dense(spikes: Spikes) -> Float[Array, "t n"]:
    """One trial's spikes as a floating (time, neuron) array.

    Float arrays keep their dtype and their values (so surrogate-gradient spikes keep their
    gradient); integer and boolean arrays become the default float. A `SpikeEvents` list
    becomes its 0/1 array; one that overflowed is refused (its spikes are incomplete), with
    a ValueError on concrete lists and an `eqx.error_if` under `jit`.

    Raises:
        ValueError: if the array is not 2-D (batches of trials are `jax.vmap`ped), or the
            event list is batched or overflowed.
    """
    if isinstance(spikes, SpikeEvents):
        if spikes.steps.ndim != 1:
            raise ValueError(
                f"spikes must be one trial's SpikeEvents, got a batch of shape "
                f"{spikes.steps.shape[:-1]}: jax.vmap over the trials"
            )
        dense = spikes.to_dense(default_float())
        if is_concrete(spikes.overflow):
            if int(spikes.overflow):
                raise ValueError(
                    f"spikes (SpikeEvents) overflowed: {int(spikes.overflow)} events were "
                    f"lost (capacity {spikes.capacity}); record with a larger capacity"
                )
            return dense
        return eqx.error_if(dense, spikes.overflow > 0, "spikes (SpikeEvents) overflowed")
    x = jnp.asarray(spikes)
    if x.ndim != 2:
        raise ValueError(
            f"spikes must have shape (time, neuron), got {x.shape}: time is the first axis; "
            "for several trials, jax.vmap over the leading axis"
        )
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(default_float())
    return x


def as_signal(name: str, x: ArrayLike, ndim: int) -> Float[Array, "..."]:
    """A real signal (time first) of `ndim` dimensions, in a floating dtype."""
    x = jnp.asarray(x)
    if x.ndim != ndim:
        want = "(time,)" if ndim == 1 else "(time, neuron)"
        raise ValueError(f"{name} must have shape {want}, got {x.shape}")
    if x.shape[0] < 2:
        raise ValueError(f"{name} must have at least 2 time steps, got {x.shape[0]}")
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(default_float())
    return x


def check_dt_ms(dt_ms: Any) -> float:
    """`dt_ms` as a float; ValueError unless it is a Python number > 0 (static under jit)."""
    return check_ms("dt_ms", dt_ms)


def check_ms(name: str, length_ms: Any) -> float:
    """`length_ms` as a float; ValueError unless it is a Python number > 0 (static)."""
    if isinstance(length_ms, bool) or not isinstance(
        length_ms, int | float | np.integer | np.floating
    ):
        raise ValueError(f"{name} must be a Python number in ms, got {type(length_ms).__name__}")
    check_positive(name, length_ms)
    return float(length_ms)


def steps_of(name: str, length_ms: Any, dt_ms: float, *, whole: bool = True) -> int:
    """The number of steps of `length_ms` (a Python number, at least one step).

    With `whole=True` the length must be a whole number of steps (to 1e-6 of a step);
    otherwise it is rounded to the nearest number of steps.
    """
    ratio = check_ms(name, length_ms) / dt_ms
    # a relative tolerance, so that 50 ms / 0.1 ms = 499.99999999999994 counts as 500
    if ratio < 1.0 - 1e-9:
        raise ValueError(f"{name}={length_ms} ms is shorter than dt_ms={dt_ms} ms")
    steps = max(1, round(ratio))
    if whole and not math.isclose(ratio, steps, rel_tol=1e-9, abs_tol=1e-6):
        raise ValueError(
            f"{name}={length_ms} ms must be a whole number of steps of dt_ms={dt_ms} ms "
            f"(it is {ratio:.6g} steps)"
        )
    return steps


def safe_divide(num: Array, den: Array, valid: Array) -> Array:
    """`num / den` where `valid`, NaN elsewhere, with finite gradients everywhere.

    The denominator is replaced by 1 where the result is NaN, so that `jax.grad` of a sum
    over the valid entries does not pick up NaN from the invalid ones (the double-where
    idiom).
    """
    out = num / jnp.where(valid, den, jnp.ones_like(den))
    return jnp.where(valid, out, jnp.full_like(out, jnp.nan))

"""The decorator that makes a per-neuron feature written on the dense spike array public.

Shared by `reservoir` (snnpy's features) and `described` (the features snnpy's README
describes); it lives apart so that `reservoir` can import `described` without a cycle.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

import jax
from jaxtyping import Array

from ._dense import Spikes, as_dense

Result = TypeVar("Result")


def feature(core: Callable[[Array], Result]) -> Callable[[Spikes], Result]:
    """The public form of `core`, written on the dense (time, neuron) array: it converts
    the spikes with `as_dense` outside `jit` (so bad input raises a ValueError) and runs
    `core` jitted, so that an eager call compiles once rather than operation by operation."""
    jitted = jax.jit(core)

    @functools.wraps(core)
    def public(spikes: Spikes) -> Result:
        return jitted(as_dense(spikes))

    return public

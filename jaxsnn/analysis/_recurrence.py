"""`linear_recurrence`: x_t = a_t·x_{t−1} + b_t along time, the one loop of the analyses.

The ISI recurrences (`isi.isi_terms`) and the exponential kernel are both of this form.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax
from jaxtyping import Array, Float


# jitted so that an eager call compiles once rather than operation by operation
@jax.jit
def linear_recurrence(a: Float[Array, "t ..."], b: Float[Array, "t ..."]) -> Float[Array, "t ..."]:
    """x_t = a_t·x_{t−1} + b_t along axis 0, from x_{−1} = 0 (same shape as `a`, `b`)."""

    # a sequential scan: lax.associative_scan has a shorter critical path but compiles
    # for seconds (more for longer records) and ran no faster on CPU
    def step(x, ab):
        x = ab[0] * x + ab[1]
        return x, x

    return lax.scan(step, jnp.zeros_like(a[0]), (a, b))[1]

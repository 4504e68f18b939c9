"""What happens to V after a spike: reset to a value or by subtraction."""

from __future__ import annotations

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float


class AbstractReset(eqx.Module):
    """How V is reset after a spike."""

    @abc.abstractmethod
    def __call__(
        self,
        v: Float[Array, " n"],
        spikes: Float[Array, " n"],
        spikes_reset: Float[Array, " n"],
        *,
        v_th_mv: float | Array,
        v_reset_mv: float | Array,
    ) -> Float[Array, " n"]:
        """V after the reset.

        Args:
            v: potentials (mV) at the end of the step, before the reset.
            spikes: this step's spikes (0/1).
            spikes_reset: the same spikes, under `stop_gradient` when the reset is
                detached (no gradient through the reset), else `spikes`.
            v_th_mv: threshold (mV) whose crossing made the spike (baseline threshold
                for adaptive neurons).
            v_reset_mv: reset potential (mV).
        """


class ResetToValue(AbstractReset):
    """After a spike, V is set to `v_reset` (Brian2's `v = v_reset`)."""

    def __call__(self, v, spikes, spikes_reset, *, v_th_mv, v_reset_mv):
        # `where` makes the reset value exact; the second term is zero in the forward pass
        # and carries d(spike) when the reset is not detached.
        out = jnp.where(spikes > 0, jnp.asarray(v_reset_mv, v.dtype), v)
        return out - (spikes_reset - jax.lax.stop_gradient(spikes_reset)) * (v - v_reset_mv)


class ResetBySubtraction(AbstractReset):
    """After a spike, `v_th - v_reset` is subtracted from V (keeps the overshoot)."""

    def __call__(self, v, spikes, spikes_reset, *, v_th_mv, v_reset_mv):
        return v - spikes_reset * (v_th_mv - v_reset_mv)

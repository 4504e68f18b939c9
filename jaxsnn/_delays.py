"""Buffers for spikes in flight: synaptic delays inside the scan state.

Two buffers, both exact in whole steps and carried in `NetworkState.delays`:

- a uniform delay of d steps on a projection: a ring of the last d presynaptic spike
  vectors, (d, n_pre). At step t the spikes stored d steps ago are read from slot
  t mod d and this step's spikes are written in their place: O(n_pre) per step, shared
  by every projection of the same source with the same delay.
- per-synapse delays (at most L - 1 steps): a buffer of future drive, (L, n_post), whose
  row k holds what arrives k steps from now. Each step the projection's drive onto
  L·n_post virtual targets (synapse (i, j) with delay d lands on d·n_post + j, see
  `AbstractLayout.delayed`) is added, row 0 is delivered and the rows move up by one.
"""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, Float, Int


def ring_name(pre: str, steps: int) -> str:
    """The key of the spike ring of source `pre` delayed by `steps` steps."""
    return f"{pre}+{steps}"


def buffer_name(projection_name: str) -> str:
    """The key of the drive buffer of a projection with per-synapse delays."""
    return f"{projection_name} per-synapse"


def ring_exchange(
    ring: Float[Array, "d n"], t: Int[Array, ""], spikes: Float[Array, " n"]
) -> tuple[Float[Array, "d n"], Float[Array, " n"]]:
    """`(ring, delayed)`: the spikes written d steps ago, read out, and this step's stored."""
    slot = t % ring.shape[0]
    delayed = ring[slot]
    return ring.at[slot].set(spikes.astype(ring.dtype)), delayed


def buffer_advance(
    buffer: Float[Array, "L n"], drive_virtual: Float[Array, " Ln"]
) -> tuple[Float[Array, "L n"], Float[Array, " n"]]:
    """`(buffer, drive)`: this step's drive onto the virtual targets added, row 0 delivered,
    the rest moved up by one step."""
    total = buffer + drive_virtual.reshape(buffer.shape).astype(buffer.dtype)
    moved = jnp.concatenate([total[1:], jnp.zeros_like(total[:1])])
    return moved, total[0]

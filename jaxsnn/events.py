"""Spikes as a compact event list: `SpikeEvents` (step, neuron) pairs of fixed capacity.

A dense (time, neuron) record of a long run of a large network does not fit in memory;
its spikes usually do. `SpikeEvents` holds them in two int32 arrays of a fixed capacity
(fixed so that it can be a `lax.scan` carry and be `vmap`ped), the number of events
stored, and the number of events that did not fit. Nothing is dropped silently:
`overflow` counts what was lost, `simulate` warns when it is not zero, and
`to_dense(strict=True)` refuses an incomplete list.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from ._checks import check_int


class SpikeEvents(eqx.Module):
    """Spikes of `n_neurons` neurons over `n_steps` steps as (step, neuron) pairs.

    Events are in time order (and by neuron within a step). Unused slots hold the step
    `n_steps` and the neuron 0, outside the record, so scatter-adds with `mode="drop"`
    ignore them. Batched (vmapped) event lists carry a leading batch axis on every array.

    Attributes:
        steps: (capacity,) int32, the step of each event, counted from the start of the
            record (0 .. n_steps - 1).
        neurons: (capacity,) int32, the neuron of each event (index in its population).
        count: () int32, the number of events stored (<= capacity).
        overflow: () int32, the number of events that did not fit in the capacity.
        n_steps: the number of steps recorded.
        n_neurons: the number of neurons recorded.
    """

    steps: Int[Array, "*batch capacity"]
    neurons: Int[Array, "*batch capacity"]
    count: Int[Array, "*batch"]
    overflow: Int[Array, "*batch"]
    n_steps: int = eqx.field(static=True)
    n_neurons: int = eqx.field(static=True)

    @property
    def capacity(self) -> int:
        return self.steps.shape[-1]

    @staticmethod
    def empty(capacity: int, n_steps: int, n_neurons: int) -> SpikeEvents:
        """An empty list of `capacity` events."""
        check_int("capacity", capacity, minimum=1)
        return SpikeEvents(
            steps=jnp.full((capacity,), n_steps, jnp.int32),
            neurons=jnp.zeros((capacity,), jnp.int32),
            count=jnp.zeros((), jnp.int32),
            overflow=jnp.zeros((), jnp.int32),
            n_steps=n_steps,
            n_neurons=n_neurons,
        )

    def append(self, step: Int[Array, ""], spikes: Float[Array, " n"]) -> SpikeEvents:
        """Add the neurons with a nonzero entry of `spikes` as events at `step`.

        O(n) per call (a cumulative sum and a scatter), with no data-dependent shapes.
        """
        fired = spikes > 0
        # slot of each spiking neuron: after the events already stored, in neuron order
        slot = self.count + jnp.cumsum(fired) - 1
        slot = jnp.where(fired, slot, self.capacity)  # non-spiking: out of range, dropped
        neuron_ids = jnp.arange(spikes.shape[-1], dtype=jnp.int32)
        new = jnp.sum(fired, dtype=jnp.int32)
        stored = jnp.minimum(new, jnp.maximum(self.capacity - self.count, 0))
        return SpikeEvents(
            steps=self.steps.at[slot].set(jnp.asarray(step, jnp.int32), mode="drop"),
            neurons=self.neurons.at[slot].set(neuron_ids, mode="drop"),
            count=self.count + stored,
            overflow=self.overflow + new - stored,
            n_steps=self.n_steps,
            n_neurons=self.n_neurons,
        )

    def to_dense(self, dtype=jnp.float32, *, strict: bool = False) -> Float[Array, "... t n"]:
        """The (n_steps, n_neurons) 0/1 spike array (batched lists give (batch, t, n)).

        With `strict=True` (outside `jit` only) raise if events were lost to overflow;
        otherwise the lost events are simply absent.
        """
        if strict:
            lost = int(np.max(np.asarray(self.overflow)))
            if lost:
                raise ValueError(
                    f"the event list overflowed ({lost} events lost; capacity "
                    f"{self.capacity}): record with a larger capacity"
                )
        return _dense(self.steps, self.neurons, self.n_steps, self.n_neurons, dtype)

    def times_ms(self, dt_ms: float) -> Float[Array, "*batch capacity"]:
        """The time of each event in ms, at the end of its step; NaN in unused slots."""
        used = jnp.arange(self.capacity) < self.count[..., None]
        return jnp.where(used, (self.steps + 1).astype(jnp.result_type(float)) * dt_ms, jnp.nan)

    def to_lists(self) -> list[list[int]]:
        """Per neuron, the steps at which it spiked (host-side, like snnpy's
        `get_spike_time_lists_output`); unbatched lists only."""
        if self.steps.ndim != 1:
            raise ValueError("to_lists takes one event list; index a batch first")
        count = int(self.count)
        steps = np.asarray(self.steps)[:count]
        neurons = np.asarray(self.neurons)[:count]
        out: list[list[int]] = [[] for _ in range(self.n_neurons)]
        for s, n in zip(steps.tolist(), neurons.tolist(), strict=True):
            out[n].append(s)
        return out


def _dense(steps, neurons, n_steps, n_neurons, dtype):
    if steps.ndim > 1:
        return jax.vmap(lambda s, n: _dense(s, n, n_steps, n_neurons, dtype))(steps, neurons)
    out = jnp.zeros((n_steps, n_neurons), dtype)
    return out.at[steps, neurons].add(1, mode="drop")


def from_dense(spikes: Float[Array, "t n"], capacity: int | None = None) -> SpikeEvents:
    """The event list of a (time, neuron) 0/1 array (capacity: the array's spike count by
    default, which needs a concrete array; give it under `jit`)."""
    spikes = jnp.asarray(spikes)
    if spikes.ndim != 2:
        raise ValueError(f"spikes must be (time, neuron), got shape {spikes.shape}")
    n_steps, n = spikes.shape
    if capacity is None:
        capacity = max(int(jnp.sum(spikes > 0)), 1)
    events = SpikeEvents.empty(capacity, n_steps, n)
    fired = (spikes > 0).reshape(-1)
    slot = jnp.where(fired, jnp.cumsum(fired) - 1, capacity)
    flat = jnp.arange(n_steps * n, dtype=jnp.int32)
    total = jnp.sum(fired, dtype=jnp.int32)
    stored = jnp.minimum(total, capacity)
    return SpikeEvents(
        steps=events.steps.at[slot].set(flat // n, mode="drop"),
        neurons=events.neurons.at[slot].set(flat % n, mode="drop"),
        count=stored,
        overflow=total - stored,
        n_steps=n_steps,
        n_neurons=n,
    )


def concat_events(lists: list[SpikeEvents]) -> SpikeEvents:
    """Join event lists of consecutive records along time (capacities add up)."""
    if not lists:
        raise ValueError("concat_events needs at least one event list")
    n = {e.n_neurons for e in lists}
    if len(n) != 1:
        raise ValueError(f"concat_events: event lists of different neuron counts {sorted(n)}")
    offset, steps, neurons, used = 0, [], [], []
    total = sum(e.n_steps for e in lists)
    for e in lists:
        valid = jnp.arange(e.capacity) < e.count[..., None]
        steps.append(jnp.where(valid, e.steps + offset, total))
        neurons.append(e.neurons)
        used.append(valid)
        offset += e.n_steps
    steps, neurons = jnp.concatenate(steps, -1), jnp.concatenate(neurons, -1)
    # used slots first, in time order (a stable sort keeps neuron order within a step)
    order = jnp.argsort(steps, axis=-1, stable=True)
    return SpikeEvents(
        steps=jnp.take_along_axis(steps, order, -1),
        neurons=jnp.take_along_axis(neurons, order, -1),
        count=sum(e.count for e in lists),
        overflow=sum(e.overflow for e in lists),
        n_steps=total,
        n_neurons=n.pop(),
    )

"""Burst detection by the ISI threshold: bursts per neuron and the fraction of spikes in them.

A burst is a maximal run of a neuron's spikes in which every ISI is <= `max_isi_ms`,
holding at least `min_spikes` spikes (an ISI-threshold definition). It is found without
a loop over spikes: with C_t the running spike count and a run starting at each spike
whose ISI is longer than `max_isi_ms` (or that is the first), a spike's position in its
run is C_t − C_start + 1; a run becomes a burst at the spike whose position reaches
`min_spikes`. (This is not snnpy's `burst_counts`, which counts runs of spikes in
consecutive steps: that is `jaxsnn.analysis.spike_run_counts`.)
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jax import lax
from jaxtyping import Array, Float, Int

from .._checks import check_int
from ._dense import Spikes, as_dense, check_dt_ms, safe_divide, steps_of


class Bursts(eqx.Module):
    """Per-neuron burst statistics (see `detect_bursts`).

    Attributes:
        count: (neuron,) int32, the number of bursts.
        spikes_in_bursts: (neuron,) int32, the number of spikes that belong to a burst.
        fraction: (neuron,) spikes_in_bursts / spike count; NaN for a silent neuron.
    """

    count: Int[Array, " n"]
    spikes_in_bursts: Int[Array, " n"]
    fraction: Float[Array, " n"]


def detect_bursts(spikes: Spikes, *, dt_ms: float, max_isi_ms: float, min_spikes: int) -> Bursts:
    """Bursts of each neuron: maximal runs of spikes with every ISI <= `max_isi_ms` and at
    least `min_spikes` spikes (see the module docstring). Every entry > 0 is one spike.
    Not differentiable (counts).

    Args:
        spikes: (time, neuron) spikes, or a `SpikeEvents`.
        dt_ms: the time step in ms.
        max_isi_ms: the longest ISI inside a burst, in ms (>= dt_ms). ISIs are whole
            numbers of steps; one of k steps is inside when k·dt_ms <= max_isi_ms (to
            1e-9 of a step).
        min_spikes: the fewest spikes of a burst (an integer >= 2).

    Returns:
        A `Bursts` with the count, the spikes in bursts and their fraction, per neuron.

    Raises:
        ValueError: on a bad shape, `dt_ms`, `max_isi_ms` (shorter than a step) or
            `min_spikes`.
    """
    s = as_dense(spikes)
    dt_ms = check_dt_ms(dt_ms)
    steps_of("max_isi_ms", max_isi_ms, dt_ms, whole=False)
    # no ISI is longer than the record, so clipping keeps the int32 arithmetic exact
    max_steps = min(math.floor(float(max_isi_ms) / dt_ms + 1e-9), s.shape[0])
    check_int("min_spikes", min_spikes, minimum=2)
    # thresholds as traced values: one compilation serves every burst definition
    return _bursts(s, jnp.int32(max_steps), jnp.int32(min_spikes))


@jax.jit
def _bursts(s: Float[Array, "t n"], max_steps: Array, min_spikes: Array) -> Bursts:
    fired = s > 0
    n_steps = s.shape[0]
    t = jnp.arange(n_steps, dtype=jnp.int32)[:, None]
    # last spike strictly before t; far in the past when there is none
    never = -(max_steps + 1)
    last = lax.cummax(jnp.where(fired, t, never), axis=0)
    last_before = jnp.concatenate([jnp.full_like(last[:1], never), last[:-1]], axis=0)
    starts_run = fired & (t - last_before > max_steps)
    running = jnp.cumsum(fired, axis=0, dtype=jnp.int32)
    # C at the latest run start: C grows with t, so a running maximum picks the latest
    at_start = lax.cummax(jnp.where(starts_run, running, 0), axis=0)
    position = running - at_start + 1
    count = jnp.sum(fired & (position == min_spikes), axis=0, dtype=jnp.int32)
    beyond = jnp.sum(fired & (position > min_spikes), axis=0, dtype=jnp.int32)
    in_bursts = count * min_spikes + beyond
    n_spikes = running[-1]
    fraction = safe_divide(in_bursts.astype(s.dtype), n_spikes.astype(s.dtype), n_spikes > 0)
    return Bursts(count=count, spikes_in_bursts=in_bursts, fraction=fraction)

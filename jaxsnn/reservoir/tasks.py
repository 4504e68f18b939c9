"""Procedurally generated temporal tasks for reservoirs (binary input matrices, no
download), deterministic from a PRNG key.

`temporal_order`: the input neurons are split into two groups, A and B. Each sample has
one burst of A and one of B (every neuron of the group fires with probability
`burst_p` per step during `burst_steps` steps), separated by `gap_steps`, at a random
onset, over background noise (`noise_p` per neuron and step). Label 0: A then B; label 1:
B then A. Both classes have the same expected number of spikes in every input neuron,
so a readout of input spike counts is at chance: the class is in the timing only, and a
readout must rely on what the reservoir keeps of the order.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Int, PRNGKeyArray, UInt8

from .._checks import check_int, check_probability


def temporal_order(
    key: PRNGKeyArray,
    n_samples: int,
    *,
    n_inputs: int = 40,
    n_steps: int = 300,
    burst_steps: int = 30,
    gap_steps: int = 40,
    max_onset: int = 100,
    burst_p: float = 0.3,
    noise_p: float = 0.01,
) -> tuple[UInt8[Array, "samples n_inputs n_steps"], Int[Array, " samples"]]:
    """Samples of the temporal-order task (module docstring), classes balanced.

    Args:
        key: PRNG key.
        n_samples: number of samples (even numbers give exactly balanced classes).
        n_inputs: input neurons (even; the first half is group A).
        n_steps: length of a sample in steps.
        burst_steps, gap_steps: duration of each burst and the pause between them.
        max_onset: the first burst starts uniformly in [0, max_onset].
        burst_p, noise_p: spike probabilities per neuron and step in a burst / outside.

    Returns:
        `(inputs, labels)`: (n_samples, n_inputs, n_steps) uint8 and (n_samples,) int32.
    """
    check_int("n_samples", n_samples, minimum=1)
    check_int("n_inputs", n_inputs, minimum=2)
    if n_inputs % 2:
        raise ValueError(f"n_inputs must be even (two groups), got {n_inputs}")
    check_probability("burst_p", burst_p)
    check_probability("noise_p", noise_p)
    if max_onset + 2 * burst_steps + gap_steps > n_steps:
        raise ValueError(
            f"the bursts need up to {max_onset + 2 * burst_steps + gap_steps} steps, "
            f"n_steps is {n_steps}"
        )
    k_label, k_onset, k_spikes = jr.split(key, 3)
    labels = jr.permutation(k_label, jnp.arange(n_samples) % 2).astype(jnp.int32)
    onsets = jr.randint(k_onset, (n_samples,), 0, max_onset + 1)
    t = jnp.arange(n_steps)
    group_b = jnp.arange(n_inputs) >= n_inputs // 2

    def one(label, onset, k):
        first = (t >= onset) & (t < onset + burst_steps)
        second_start = onset + burst_steps + gap_steps
        second = (t >= second_start) & (t < second_start + burst_steps)
        # rows of the group that goes first take `first`, the others `second`
        leads = group_b == (label == 1)
        in_burst = jnp.where(leads[:, None], first[None, :], second[None, :])
        p = jnp.where(in_burst, burst_p, noise_p)
        return jr.bernoulli(k, p).astype(jnp.uint8)

    inputs = jax.vmap(one)(labels, onsets, jr.split(k_spikes, n_samples))
    return inputs, labels

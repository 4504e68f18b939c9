"""The neuron interface: what a neuron model owns and what the engine calls.

A neuron model is an `eqx.Module` whose fields are its constants (Python floats by
default, arrays to vmap or train). It owns

- its state: an `AbstractNeuronState` (a module of (n,) arrays with at least `v`, the
  membrane potential in mV), made by `init(n, dtype)` at rest;
- one step: `step(state, inp, dt_ms=...) -> (state, spikes)`, given the `NeuronInput`
  summed over everything that reaches the neurons in this step; spikes are 0/1 in the
  dtype of `v` and carry surrogate derivatives (`jaxsnn.spike`);
- its time constants (`time_constants_ms`), for the dt check of `simulate`;
- optionally `step_before_reset`, the same step also returning V before the reset, which
  `Record(voltages_before_reset=True)` records so that traces show threshold crossings.

The engine never looks inside a model: a new model is a subclass in the user's own file
(README, "Write your own neuron model").
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ..neuron_input import NeuronInput


class AbstractNeuronState(eqx.Module):
    """State of n neurons; every model's state has the membrane potential `v` (mV)."""

    v: eqx.AbstractVar[Float[Array, " n"]]


class AbstractNeuron(eqx.Module):
    """A neuron model (see the module docstring for the contract)."""

    @abc.abstractmethod
    def init(self, n: int, dtype) -> AbstractNeuronState:
        """The resting state of `n` neurons, arrays of the given float dtype."""

    @abc.abstractmethod
    def step(
        self, state: AbstractNeuronState, inp: NeuronInput, *, dt_ms: float
    ) -> tuple[AbstractNeuronState, Float[Array, " n"]]:
        """Advance by one step of `dt_ms` ms; return the new state and the spikes (0/1,
        dtype of `state.v`) emitted in this step."""

    def time_constants_ms(self) -> tuple:
        """The model's time constants in ms (`simulate` requires dt <= a tenth of each)."""
        return ()

    def step_before_reset(
        self, state: AbstractNeuronState, inp: NeuronInput, *, dt_ms: float
    ) -> tuple[AbstractNeuronState, Float[Array, " n"], Float[Array, " n"]]:
        """`step`, also returning V (mV) at the end of the step before any reset: a neuron
        that spiked shows its threshold crossing there, not its reset value.

        Only a model knows where its reset happens, so there is no generic fallback: a
        model that resets overrides this (the LIF models and `AdEx` do), one without a
        reset returns `state.v` of the new state.
        """
        raise NotImplementedError(
            f"{type(self).__name__} does not say what V is before its reset: override "
            "`step_before_reset` to record voltages before the reset "
            "(Record(voltages_before_reset=True))"
        )


def merge_neurons(neurons: Sequence[AbstractNeuron], sizes: Sequence[int]) -> AbstractNeuron:
    """One model for consecutive populations of the same model type, laid out one after the
    other: parameters equal in every population stay as they are (so constants stay
    Python floats), the others become per-neuron arrays (population p's value repeated
    over its `sizes[p]` neurons).

    Lets the engine update, e.g., the E and I populations of a network with one call
    instead of slicing and concatenating per population.

    Raises:
        ValueError: if the models differ in type or static configuration.
    """
    flat = [jax.tree.flatten(n) for n in neurons]
    treedef = flat[0][1]
    if any(t != treedef for _, t in flat):
        raise ValueError("only neurons of the same type and static configuration can merge")
    if len(neurons) == 1:
        return neurons[0]
    merged = []
    for values in zip(*(leaves for leaves, _ in flat), strict=True):
        if all(_same_constant(values[0], v) for v in values[1:]):
            merged.append(values[0])
        else:
            merged.append(
                jnp.concatenate(
                    [
                        jnp.broadcast_to(jnp.asarray(v), (n,))
                        for v, n in zip(values, sizes, strict=True)
                    ]
                )
            )
    return jax.tree.unflatten(treedef, merged)


def _same_constant(a, b) -> bool:
    scalars = (bool, int, float)
    return isinstance(a, scalars) and isinstance(b, scalars) and a == b and type(a) is type(b)


def neuron_groups(neurons: Sequence[AbstractNeuron]) -> list[list[int]]:
    """Indices of consecutive neurons of the same type and static configuration: the
    populations the engine updates together (their states are one block)."""
    groups: list[list[int]] = []
    previous = None
    for i, neuron in enumerate(neurons):
        treedef = jax.tree.structure(neuron)
        if groups and treedef == previous:
            groups[-1].append(i)
        else:
            groups.append([i])
        previous = treedef
    return groups

"""A population: a named group of neurons of one model, optionally obeying Dale's law."""

from __future__ import annotations

from typing import Literal

import equinox as eqx

from ._checks import check_int
from .neurons.abstract import AbstractNeuron
from .neurons.lif import LIF

Dale = Literal["excitatory", "inhibitory"]


class Population(eqx.Module):
    """A named group of `n` neurons sharing one model (LIF by default).

    Attributes:
        name: unique name inside a network.
        n: number of neurons.
        neuron: the neuron model and its parameters (shared by the group; a parameter may
            be an (n,) array for per-neuron values).
        dale: "excitatory" (all outgoing weights >= 0), "inhibitory" (all <= 0 for delta and
            current synapses; conductance weights are >= 0 and inhibit through their
            reversal potential) or None (no sign constraint).
    """

    name: str = eqx.field(static=True)
    n: int = eqx.field(static=True)
    neuron: AbstractNeuron = LIF()
    dale: Dale | None = eqx.field(default=None, static=True)

    def __check_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"Population.name must be a non-empty string, got {self.name!r}")
        check_int(f"Population '{self.name}' n", self.n, minimum=1)
        if self.dale not in (None, "excitatory", "inhibitory"):
            raise ValueError(
                f"Population.dale must be 'excitatory', 'inhibitory' or None, got {self.dale!r}"
            )
        if not isinstance(self.neuron, AbstractNeuron):
            raise ValueError(
                f"Population.neuron must be a neuron model (an AbstractNeuron), got "
                f"{type(self.neuron).__name__}"
            )

    @property
    def sign(self) -> int:
        """+1 for excitatory, -1 for inhibitory, 0 for unconstrained."""
        return {"excitatory": 1, "inhibitory": -1, None: 0}[self.dale]

"""What `simulate` records (`Record`) and what it returns (`Recording`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import equinox as eqx
import numpy as np
from jaxtyping import Array

from ._checks import check_int
from .network import Network


def _names(x) -> tuple[str, ...] | bool:
    if isinstance(x, bool):
        return x
    if isinstance(x, str):
        return (x,)
    return tuple(x)


def _voltages(x) -> tuple | bool:
    if x is None or x is False:
        return ()
    if x is True:
        return True
    if isinstance(x, str):
        return ((x, None),)
    if isinstance(x, Mapping):
        return tuple(
            (name, None if idx is None else tuple(int(i) for i in np.atleast_1d(idx)))
            for name, idx in x.items()
        )
    return tuple((name, None) for name in x)


class Record(eqx.Module):
    """What `simulate` records, every `every` steps.

    Attributes:
        spikes: population names (or True for all) whose spikes are recorded: per window,
            the spike count of each neuron, shape (n_steps/every, n) (0/1 spikes when
            every=1). Spikes keep the state's float dtype so gradients flow through them.
        voltages: population names (all neurons; True for all populations) or a mapping
            name -> neuron indices within that population; V (mV) at the end of each
            window, shape (n_steps/every, k).
        rates: population names (or True for all); population-mean rate (Hz) over each
            window, shape (n_steps/every,).
        counts: population names (or True for all); total spike count of each neuron over
            the whole run, shape (n,).
        every: recording interval in steps (n_steps must be a multiple of it).
    """

    spikes: tuple[str, ...] | bool = eqx.field(default=False, static=True, converter=_names)
    voltages: tuple | bool = eqx.field(default=(), static=True, converter=_voltages)
    rates: tuple[str, ...] | bool = eqx.field(default=False, static=True, converter=_names)
    counts: tuple[str, ...] | bool = eqx.field(default=False, static=True, converter=_names)
    every: int = eqx.field(default=1, static=True)

    def __check_init__(self):
        check_int("Record.every", self.every, minimum=1)

    def resolve(self, network: Network) -> Record:
        """Replace True by every population name and check the names exist."""
        all_names = tuple(p.name for p in network.populations)

        def check(field, name):
            if name not in all_names:
                raise ValueError(
                    f"Record.{field} names unknown population {name!r}; have {list(all_names)}"
                )

        def expand(field, x):
            names = all_names if x is True else () if x is False else x
            for name in names:
                check(field, name)
            return names

        voltages = tuple((n, None) for n in all_names) if self.voltages is True else self.voltages
        for name, idx in voltages:
            check("voltages", name)
            n = network.population(name).n
            if idx is not None and any(not 0 <= i < n for i in idx):
                raise ValueError(
                    f"Record.voltages indices for '{name}' must lie in [0, {n}), got {idx}"
                )
        return Record(
            expand("spikes", self.spikes),
            dict(voltages),
            expand("rates", self.rates),
            expand("counts", self.counts),
            self.every,
        )


class Recording(eqx.Module):
    """What a run of `simulate` produced besides the final state.

    Per-window entries have the windows on the first axis (n_steps / every of them);
    population entries are dicts by population name, holding only what `Record` asked.

    Attributes:
        spikes: per window, the spike count of each neuron, (n_steps/every, n) (0/1
            spikes when every=1), in the state's float dtype (gradients flow through).
        v: V (mV) at the end of each window, (n_steps/every, k) for the recorded neurons.
        rates_hz: population-mean rate (Hz) over each window, (n_steps/every,).
        counts: total spike count of each neuron over the run, (n,).
        weights_mean: with plasticity, per window, the mean weight over the existing
            synapses of each plastic projection, by (pre, post).
        updates: with plasticity, the run's total weight update, shaped like the network
            (see `jaxsnn.plasticity.Plasticity`); None without.
    """

    spikes: dict[str, Array] = eqx.field(default_factory=dict)
    v: dict[str, Array] = eqx.field(default_factory=dict)
    rates_hz: dict[str, Array] = eqx.field(default_factory=dict)
    counts: dict[str, Array] = eqx.field(default_factory=dict)
    weights_mean: dict[tuple[str, str], Array] = eqx.field(default_factory=dict)
    updates: Any = None

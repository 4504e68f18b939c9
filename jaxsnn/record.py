"""What `simulate` records (`Record`) and what it returns (`Recording`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import equinox as eqx
import jax
import numpy as np
from jaxtyping import Array

from ._checks import check_int
from .events import SpikeEvents
from .network import Network, NetworkState


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


def _indices(x) -> tuple[int, ...] | None:
    return None if x is None else tuple(int(i) for i in np.atleast_1d(x))


class Probe(eqx.Module):
    """One state variable of a neuron population or a projection's synapses, for `Record`.

    Attributes:
        target: a population name (its neuron model's state, e.g. `v`, `w` of `AdEx`, `a`
            of `AdaptiveLIF`, `refractory`) or a projection name `"pre->post"` (its synapse
            model's postsynaptic state, one value per postsynaptic neuron).
        variable: the state's field to record; None records the whole state (a synapse
            state that is a bare array, e.g. `ExpCurrent`'s, has no fields).
        neurons: indices within the (postsynaptic) population; None for all.

    The string `"E.w"` stands for `Probe("E", "w")`, `"E->I"` for `Probe("E->I")`.
    """

    target: str = eqx.field(static=True)
    variable: str | None = eqx.field(default=None, static=True)
    neurons: tuple[int, ...] | None = eqx.field(default=None, static=True, converter=_indices)

    @property
    def key(self) -> str:
        """The name of the record in `Recording.states`."""
        return self.target if self.variable is None else f"{self.target}.{self.variable}"

    def check(self, network: Network) -> None:
        """Raise ValueError if the target, variable or indices do not exist in `network`."""
        names = [p.name for p in network.populations]
        projections = [p.name for p in network.projections]
        if self.target in names:
            n = network.population(self.target).n
            fields = _fields(network.population(self.target).neuron.init(1, np.float32))
        elif self.target in projections:
            proj = network.projections[projections.index(self.target)]
            n = network.population(proj.post).n
            fields = _fields(proj.synapse.init(1, np.float32))
        else:
            raise ValueError(
                f"Record.states: {self.target!r} is neither a population {names} nor a "
                f"projection {projections}"
            )
        if self.variable is not None and self.variable not in fields:
            raise ValueError(
                f"Record.states: {self.target!r} has no state variable {self.variable!r}; "
                f"it has {sorted(fields)}"
            )
        if self.variable is None and not fields and not _is_array(self, network):
            raise ValueError(f"Record.states: {self.target!r} has no state to record")
        if self.neurons is not None and any(not 0 <= i < n for i in self.neurons):
            raise ValueError(
                f"Record.states: indices for {self.key!r} must lie in [0, {n}), got {self.neurons}"
            )

    def read(self, network: Network, state: NetworkState) -> Any:
        """The probed values in `state` (a pytree for a whole state)."""
        names = [p.name for p in network.projections]
        if self.target in names:
            value = state.synapses[names.index(self.target)]
        else:
            value = network.neuron_state(state, self.target)
        if self.variable is not None:
            value = getattr(value, self.variable)
        if self.neurons is None:
            return value
        idx = np.asarray(self.neurons)
        return jax.tree.map(lambda x: x[..., idx], value)


def _fields(state) -> tuple[str, ...]:
    return (
        tuple(f.name for f in dataclasses.fields(state)) if dataclasses.is_dataclass(state) else ()
    )


def _is_array(probe: Probe, network: Network) -> bool:
    proj = [p for p in network.projections if p.name == probe.target]
    return bool(proj) and hasattr(proj[0].synapse.init(1, np.float32), "shape")


def _probes(x) -> tuple[Probe, ...]:
    if x is None:
        return ()
    if isinstance(x, str | Probe):
        x = (x,)
    out = []
    for p in x:
        if isinstance(p, str):
            target, dot, variable = p.rpartition(".")
            p = Probe(target, variable) if dot and ">" not in variable else Probe(p)
        if not isinstance(p, Probe):
            raise ValueError(f"Record.states takes Probes or 'target.variable' strings, got {p!r}")
        out.append(p)
    return tuple(out)


class Record(eqx.Module):
    """What `simulate` records, every `every` steps.

    Attributes:
        spikes: population names (or True for all) whose spikes are recorded: per window,
            the spike count of each neuron, shape (n_steps/every, n) (0/1 spikes when
            every=1). Spikes keep the state's float dtype so gradients flow through them.
        voltages: population names (all neurons; True for all populations) or a mapping
            name -> neuron indices within that population; V (mV) at the end of each
            window, shape (n_steps/every, k): after the reset of a neuron that spiked in
            the window's last step (as Brian2's and NEST's monitors record), unless
            `voltages_before_reset`.
        voltages_before_reset: record V before the reset of the window's last step, so a
            neuron that spiked shows its threshold crossing (V above threshold) where it
            would otherwise show v_reset; with every=1 every spike's crossing is in the
            trace. Needs each recorded model's `step_before_reset`.
        rates: population names (or True for all); population-mean rate (Hz) over each
            window, shape (n_steps/every,).
        counts: population names (or True for all); total spike count of each neuron over
            the whole run, shape (n,).
        states: state variables of any neuron or synapse model, as `Probe`s or strings
            `"population.variable"` / `"pre->post"` (see `Probe`); each is sampled at the
            end of each window into `Recording.states[probe.key]`, shape
            (n_steps/every, k) (a pytree of those for a whole state).
        events: population names (or True for all) whose spikes are recorded as compact
            event lists (`jaxsnn.events.SpikeEvents`, step resolution whatever `every`),
            into `Recording.events[name]`; memory grows with the spike count, not with
            n_steps x n.
        event_capacity: events stored per population; None: room for every neuron
            firing at `event_rate_hz` on average over the run. Events that do not fit are
            counted in `SpikeEvents.overflow` and `simulate` warns (never silently lost).
        event_rate_hz: the mean rate that sizes the default capacity.
        every: recording interval in steps (n_steps must be a multiple of it).
    """

    spikes: tuple[str, ...] | bool = eqx.field(default=False, static=True, converter=_names)
    voltages: tuple | bool = eqx.field(default=(), static=True, converter=_voltages)
    rates: tuple[str, ...] | bool = eqx.field(default=False, static=True, converter=_names)
    counts: tuple[str, ...] | bool = eqx.field(default=False, static=True, converter=_names)
    every: int = eqx.field(default=1, static=True)
    states: tuple[Probe, ...] = eqx.field(default=(), static=True, converter=_probes)
    events: tuple[str, ...] | bool = eqx.field(default=False, static=True, converter=_names)
    event_capacity: int | None = eqx.field(default=None, static=True)
    event_rate_hz: float = eqx.field(default=100.0, static=True)
    voltages_before_reset: bool = eqx.field(default=False, static=True)

    def __check_init__(self):
        check_int("Record.every", self.every, minimum=1)
        if not isinstance(self.voltages_before_reset, bool):
            raise ValueError(
                "Record.voltages_before_reset must be True or False, got "
                f"{self.voltages_before_reset!r}"
            )
        if self.voltages_before_reset and not self.voltages:
            raise ValueError(
                "Record.voltages_before_reset=True needs Record.voltages (which populations)"
            )
        if self.event_capacity is not None:
            check_int("Record.event_capacity", self.event_capacity, minimum=1)
        if not (isinstance(self.event_rate_hz, int | float) and self.event_rate_hz > 0):
            raise ValueError(f"Record.event_rate_hz must be > 0, got {self.event_rate_hz!r}")
        keys = [p.key for p in self.states]
        if len(set(keys)) != len(keys):
            raise ValueError(f"Record.states names a variable twice: {keys}")

    def capacity(self, n_neurons: int, n_steps: int, dt_ms: float) -> int:
        """Events stored for a population of `n_neurons` over `n_steps` steps."""
        if self.event_capacity is not None:
            return self.event_capacity
        expected = n_neurons * n_steps * dt_ms * 1e-3 * self.event_rate_hz
        return max(int(np.ceil(expected)), 16)

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
        for probe in self.states:
            probe.check(network)
        return Record(
            expand("spikes", self.spikes),
            dict(voltages),
            expand("rates", self.rates),
            expand("counts", self.counts),
            self.every,
            self.states,
            expand("events", self.events),
            self.event_capacity,
            self.event_rate_hz,
            self.voltages_before_reset,
        )

    @property
    def per_window(self) -> bool:
        """Whether anything is sampled at the end of each window."""
        return bool(self.spikes or self.voltages or self.rates or self.states)


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
        states: the `Probe`d state variables at the end of each window, by `Probe.key`,
            (n_steps/every, k) (a pytree of those for a whole state).
        events: spikes as compact event lists (`jaxsnn.events.SpikeEvents`), by
            population name.
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
    states: dict[str, Any] = eqx.field(default_factory=dict)
    events: dict[str, SpikeEvents] = eqx.field(default_factory=dict)

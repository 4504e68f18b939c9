"""A network: populations, projections and inputs, its state, and its pure step function.

All neurons of all populations live in one vector, population after population in the
order given, so `state.v[network.slice("E")]` is population E. Consecutive populations of
the same neuron model form one block of state and are updated by one call of the model
(their parameters merged, `jaxsnn.neurons.abstract.merge_neurons`).

One step (`network_step`) of length dt_ms does, in this order:

1. draw this step's input spikes (Poisson channels from `fold_in(key, t)`, or the user's
   spike matrix row t);
2. for each projection, take the spikes arriving at its synapses: the presynaptic
   population's spikes of the previous step, or the input spikes of this step, delayed
   by the projection's delay (`jaxsnn._delays`); pass them through the synapse's
   presynaptic stage, compute the drive `Σ_i w_ij signal_i` (projections sharing a
   signal together) and let the synapse model turn it into an effect on the neurons
   (`jaxsnn.synapses`);
3. let every population input (currents, noise, Poisson drives) add its effect;
4. advance every population with its neuron model (`jaxsnn.neurons`), which emits the
   spikes of this step.

So without delays a recurrent spike emitted at step t reaches its targets at step t + 1,
an input spike drawn at step t at step t.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Int, PRNGKeyArray

from . import _threefry as threefry
from ._checks import check_finite, check_positive
from ._delays import buffer_advance, buffer_name, ring_exchange, ring_name
from .inputs.abstract import AbstractInput, AbstractPopulationInput, AbstractSpikeInput
from .neuron_input import NeuronInput
from .neurons.abstract import AbstractNeuron, AbstractNeuronState, merge_neurons, neuron_groups
from .population import Population
from .projection import Projection


class NetworkState(eqx.Module):
    """Everything that evolves during a simulation (carried by `lax.scan`).

    Attributes:
        neurons: one neuron state per block of consecutive populations of the same model
            (`Network.groups`); `Network.neuron_state(state, name)` gives a population's.
        spikes: (N,) spikes emitted at the last step (0/1 in the dtype of `v`).
        synapses: per projection, the synapse model's postsynaptic state (None for none).
        presynaptic: per projection, the synapse model's presynaptic state (None for none).
        inputs: per input (in `Network.inputs` order), its state (None for none).
        delays: spikes in flight (`jaxsnn._delays`), by buffer name.
        t: int32 scalar, the number of steps taken so far (the time index of the next step,
            used to draw its random numbers, so a simulation run in windows gives the same
            spikes as one long run).
        plasticity: the traces of plasticity rules (`jaxsnn.plasticity`), None without.
    """

    neurons: tuple[AbstractNeuronState, ...]
    spikes: Float[Array, " N"]
    synapses: tuple[Any, ...]
    presynaptic: tuple[Any, ...]
    inputs: tuple[Any, ...]
    delays: dict[str, Array]
    t: Int[Array, ""]
    plasticity: Any = None

    @property
    def v(self) -> Float[Array, " N"]:
        """(N,) membrane potentials (mV) of all populations, in layout order."""
        parts = [s.v for s in self.neurons]
        return parts[0] if len(parts) == 1 else jnp.concatenate(parts)


class StepOutput(eqx.Module):
    """What a step produced besides the new state (for plasticity and recording).

    Attributes:
        arrivals: per projection, the presynaptic spikes that arrived at its synapses in
            this step (after its delay).
        spikes: by population name, the spikes emitted in this step.
        v_before_reset: (N,) V (mV) of all neurons at the end of the step before any
            reset, when the step was asked for it (`before_reset=True`); else None.
    """

    arrivals: tuple[Float[Array, " n_pre"], ...]
    spikes: dict[str, Float[Array, " n"]]
    v_before_reset: Float[Array, " N"] | None = None


class Network(eqx.Module):
    """Populations of neurons, the projections between them and the external inputs.

    Attributes:
        populations: the populations, in the order their neurons are laid out.
        projections: projections from populations or spike inputs onto populations.
        inputs: spike inputs (presynaptic sources) and population inputs (currents,
            noise, Poisson drives).
    """

    populations: tuple[Population, ...] = eqx.field(converter=tuple)
    projections: tuple[Projection, ...] = eqx.field(converter=tuple, default=())
    inputs: tuple[AbstractInput, ...] = eqx.field(converter=tuple, default=())

    def __check_init__(self):
        if not self.populations:
            raise ValueError("a Network needs at least one population")
        for inp in self.inputs:
            if not isinstance(inp, AbstractInput):
                raise ValueError(f"inputs must be jaxsnn inputs, got {type(inp).__name__}")
        names = [p.name for p in self.populations] + [i.name for i in self.inputs]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(
                f"names must be unique across populations and inputs, repeated: {dupes}"
            )
        sizes = {p.name: p.n for p in self.populations}
        sources = dict(sizes) | {i.name: i.n for i in self.spike_inputs}
        for proj in self.projections:
            if not isinstance(proj, Projection):
                raise ValueError(
                    f"projections must be Projection objects, got {type(proj).__name__}"
                )
            if proj.pre not in sources:
                raise ValueError(
                    f"projection source '{proj.pre}' is not a population or spike input of this network"
                )
            if proj.post not in sizes:
                raise ValueError(
                    f"projection target '{proj.post}' is not a population of this network"
                )
            if (proj.n_pre, proj.n_post) != (sources[proj.pre], sizes[proj.post]):
                raise ValueError(
                    f"projection {proj.name} was built for sizes ({proj.n_pre}, "
                    f"{proj.n_post}) but the network has ({sources[proj.pre]}, {sizes[proj.post]})"
                )
        for inp in self.population_inputs:
            kind = type(inp).__name__
            if inp.target not in sizes:
                raise ValueError(f"{kind} '{inp.name}' targets unknown population '{inp.target}'")
            if inp.n != sizes[inp.target]:
                raise ValueError(
                    f"{kind} '{inp.name}' has n={inp.n} but population '{inp.target}' "
                    f"has {sizes[inp.target]} neurons"
                )

    @property
    def spike_inputs(self) -> tuple[AbstractSpikeInput, ...]:
        """The inputs that are spike sources for projections."""
        return tuple(i for i in self.inputs if isinstance(i, AbstractSpikeInput))

    @property
    def population_inputs(self) -> tuple[AbstractPopulationInput, ...]:
        """The inputs that act directly on a population."""
        return tuple(self.inputs[j] for j in self.population_input_indices)

    @property
    def population_input_indices(self) -> tuple[int, ...]:
        """Where the population inputs are in `inputs` (their states are in that order)."""
        return tuple(j for j, i in enumerate(self.inputs) if isinstance(i, AbstractPopulationInput))

    @property
    def n_neurons(self) -> int:
        """Total number of neurons N."""
        return sum(p.n for p in self.populations)

    @property
    def groups(self) -> list[list[int]]:
        """Indices of the populations updated together (consecutive, same model)."""
        return neuron_groups([p.neuron for p in self.populations])

    def block_models(self) -> list[tuple[AbstractNeuron, int]]:
        """Per block of `groups`, its merged neuron model and its number of neurons."""
        out = []
        for group in self.groups:
            pops = [self.populations[i] for i in group]
            sizes = [p.n for p in pops]
            out.append((merge_neurons([p.neuron for p in pops], sizes), sum(sizes)))
        return out

    def slice(self, name: str) -> slice:
        """Where population `name` lies in the neuron vector."""
        start = 0
        for p in self.populations:
            if p.name == name:
                return slice(start, start + p.n)
            start += p.n
        raise KeyError(f"no population named {name!r}; have {[p.name for p in self.populations]}")

    def population(self, name: str) -> Population:
        """The population called `name`."""
        for p in self.populations:
            if p.name == name:
                return p
        raise KeyError(f"no population named {name!r}; have {[p.name for p in self.populations]}")

    def projection(self, pre: str, post: str) -> Projection:
        """The (first) projection from `pre` to `post`."""
        for proj in self.projections:
            if (proj.pre, proj.post) == (pre, post):
                return proj
        raise KeyError(f"no projection {pre}->{post}")

    def input(self, name: str) -> AbstractInput:
        """The input called `name`."""
        for inp in self.inputs:
            if inp.name == name:
                return inp
        raise KeyError(f"no input named {name!r}; have {[i.name for i in self.inputs]}")

    def neuron_state(self, state: NetworkState, name: str) -> AbstractNeuronState:
        """The state of population `name` (its part of its block), e.g. `.v` or the
        adaptation variable of an adaptive model; works on batched states too (the
        neuron axis is the last)."""
        start = 0
        for group, block in zip(self.groups, state.neurons, strict=True):
            for i in group:
                pop = self.populations[i]
                if pop.name == name:
                    if len(group) == 1:
                        return block
                    return jax.tree.map(lambda x, a=start, n=pop.n: x[..., a : a + n], block)
                start += pop.n
            start = 0
        raise KeyError(f"no population named {name!r}; have {[p.name for p in self.populations]}")

    def time_constants_ms(self) -> list:
        """All time constants of neurons, synapses and inputs (ms), for the dt check."""
        taus = [t for p in self.populations for t in p.neuron.time_constants_ms()]
        taus += [t for proj in self.projections for t in proj.synapse.time_constants_ms()]
        taus += [t for inp in self.inputs for t in inp.time_constants_ms()]
        return taus

    def constrained(self) -> Network:
        """Every projection with its sparsity and Dale's law re-imposed (after an update)."""
        return eqx.tree_at(
            lambda n: n.projections, self, tuple(p.constrained() for p in self.projections)
        )


def _delay_buffers(network: Network, dt_ms: float, dtype) -> dict[str, Array]:
    buffers = {}
    for proj in network.projections:
        steps = proj.delay_steps(dt_ms)
        if proj.per_synapse_delays:
            longest = proj.max_delay_steps(dt_ms)
            if longest is None:
                raise ValueError(
                    f"projection {proj.name}: per-synapse delays must be concrete when the "
                    "state is made (they size its buffer): make it outside jit"
                )
            buffers[buffer_name(proj.name)] = jnp.zeros((longest + 1, proj.n_post), dtype)
        elif steps:
            buffers[ring_name(proj.pre, steps)] = jnp.zeros((steps, proj.n_pre), dtype)
    return buffers


def init_state(
    network: Network,
    *,
    dt_ms: float | None = None,
    v0_mv: ArrayLike | None = None,
    dtype=None,
) -> NetworkState:
    """The resting state: every neuron model's `init` (V = v_rest), no synaptic input,
    nothing in flight.

    Args:
        network: the network.
        dt_ms: the step length the state will be simulated with (ms); required when a
            projection has a delay, whose buffer it sizes.
        v0_mv: initial potentials (mV), scalar or shape (N,); default each model's rest.
        dtype: float dtype of the state (default: JAX's default float).

    Raises:
        ValueError: bad `v0_mv`, or delays without `dt_ms`.
    """
    if dt_ms is not None:
        check_positive("dt_ms", dt_ms)
    dtype = jnp.result_type(float) if dtype is None else jnp.dtype(dtype)
    n = network.n_neurons
    if v0_mv is not None:
        if jnp.shape(v0_mv) not in ((), (n,)):
            raise ValueError(f"v0_mv must be a scalar or have shape ({n},), got {jnp.shape(v0_mv)}")
        check_finite("v0_mv", v0_mv)
        v0 = jnp.broadcast_to(jnp.asarray(v0_mv, dtype), (n,))
    neurons, start = [], 0
    for model, size in network.block_models():
        block = model.init(size, dtype)
        if v0_mv is not None:
            block = eqx.tree_at(lambda s: s.v, block, v0[start : start + size])
        neurons.append(block)
        start += size
    if any(p.delay_ms is not None for p in network.projections):
        if dt_ms is None:
            raise ValueError(
                "this network has synaptic delays: pass dt_ms to init_state, the step "
                "length of the simulation, so that the delay buffers can be sized"
            )
        delays = _delay_buffers(network, float(dt_ms), dtype)
    else:
        delays = {}
    return NetworkState(
        neurons=tuple(neurons),
        spikes=jnp.zeros((n,), dtype),
        synapses=tuple(p.synapse.init(p.n_post, dtype) for p in network.projections),
        presynaptic=tuple(p.synapse.init_presynaptic(p.n_pre, dtype) for p in network.projections),
        inputs=tuple(i.init(dtype) for i in network.inputs),
        delays=delays,
        t=jnp.zeros((), jnp.int32),
    )


def stream(key_t: PRNGKeyArray, name: str) -> PRNGKeyArray:
    """The key of input `name` at a step: `fold_in(key_t, crc32(name))`, so an input's
    random stream depends on its name only, not on which other inputs the network has
    or their order."""
    return threefry.fold_in(key_t, zlib.crc32(name.encode()) & 0x7FFFFFFF)


def _concat_inputs(parts: list[NeuronInput | None], sizes: list[int], dtype) -> NeuronInput:
    """One `NeuronInput` for a block of populations (None fields filled with zeros
    where another population of the block has that kind of input)."""
    if len(parts) == 1:
        return parts[0] if parts[0] is not None else NeuronInput()
    fields = {}
    for name in (f.name for f in dataclasses.fields(NeuronInput)):
        values = [None if p is None else getattr(p, name) for p in parts]
        if all(v is None for v in values):
            fields[name] = None
        else:
            fields[name] = jnp.concatenate(
                [
                    jnp.zeros((n,), dtype) if v is None else v.astype(dtype)
                    for v, n in zip(values, sizes, strict=True)
                ]
            )
    return NeuronInput(**fields)


class Prepared(eqx.Module):
    """A network made ready for stepping with a given dt: the merged neuron model of each
    block, every projection's delay in steps and, for per-synapse delays, its weights and
    layout onto the virtual targets. Built once per simulation (outside the scan, so its
    arrays are loop constants)."""

    network: Network
    dt_ms: float = eqx.field(static=True)
    neurons: tuple[AbstractNeuron, ...]
    delay_steps: tuple[Any, ...]
    virtual: tuple[Any, ...]

    @classmethod
    def of(cls, network: Network, dt_ms: float, n_slots: Mapping[str, int]) -> Prepared:
        """Prepare `network` for steps of `dt_ms`; `n_slots` gives the rows of each
        per-synapse delay buffer (from the state)."""
        neurons = [model for model, _ in network.block_models()]
        steps, virtual = [], []
        for proj in network.projections:
            d = proj.delay_steps(dt_ms)
            steps.append(d)
            if proj.per_synapse_delays:
                virtual.append(
                    proj.layout.delayed(proj.weights, d, n_slots[buffer_name(proj.name)])
                )
            else:
                virtual.append(None)
        return cls(network, dt_ms, tuple(neurons), tuple(steps), tuple(virtual))


def prepare(network: Network, state: NetworkState, dt_ms: float) -> Prepared:
    """`Prepared.of` with the buffer sizes read from `state`."""
    n_slots = {name: buf.shape[-2] for name, buf in state.delays.items()}
    return Prepared.of(network, dt_ms, n_slots)


def step_prepared(
    prepared: Prepared,
    state: NetworkState,
    data: Mapping[str, Array],
    key: PRNGKeyArray,
    weights: Sequence[Array] | None = None,
    before_reset: bool = False,
    exchange: Callable[[Array], Array] | None = None,
) -> tuple[NetworkState, StepOutput]:
    """One step of a prepared network (see `network_step`); `weights` replaces the
    projections' weights (one array per projection, e.g. the plastic weights of this
    step); `before_reset` also returns V before the reset (`StepOutput.v_before_reset`,
    from each model's `step_before_reset`); `exchange` maps each population's spikes
    before any projection sees them (None: as they are; a network whose neurons are split
    over devices gathers every device's share there, `jaxsnn.neuron_sharding`)."""
    network, dt_ms = prepared.network, prepared.dt_ms
    projections = network.projections
    dtype = state.spikes.dtype
    weights = [p.weights for p in projections] if weights is None else list(weights)
    k_t = threefry.fold_in(key, state.t)
    slices = {p.name: network.slice(p.name) for p in network.populations}
    v_all = state.v
    # 1. input spikes of this step, and the presynaptic spikes of every source
    sources = {
        inp.name: inp.spikes(data.get(inp.name), stream(k_t, inp.name), dt_ms, dtype)
        for inp in network.spike_inputs
    }
    own = {name: state.spikes[sl] for name, sl in slices.items()}
    sources |= own if exchange is None else {name: exchange(s) for name, s in own.items()}
    # 2. delays, presynaptic stages, propagation, postsynaptic stages
    delays = dict(state.delays)
    delayed: dict[str, Array] = {}  # ring name -> the spikes it delivers in this step
    arrivals, signals, signal_keys, presynaptic = [], [], [], []
    for i, (proj, steps) in enumerate(zip(projections, prepared.delay_steps, strict=True)):
        s = sources[proj.pre]
        base = proj.pre
        if not proj.per_synapse_delays and steps:
            base = ring_name(proj.pre, steps)
            if base not in delayed:  # one ring per source and delay, read once
                delays[base], delayed[base] = ring_exchange(delays[base], state.t, s)
            s = delayed[base]
        arrivals.append(s)
        pre_state, signal = proj.synapse.presynaptic(state.presynaptic[i], s, dt_ms=dt_ms)
        presynaptic.append(pre_state)
        signals.append(signal)
        signal_keys.append(base if pre_state is None else (base, i))
    # per propagation strategy, its projections grouped by the signal they share
    groups: dict[Any, dict[Any, list[int]]] = {}
    for i, proj in enumerate(projections):
        groups.setdefault(proj.propagation, {}).setdefault(signal_keys[i], []).append(i)
    drives: list = [None] * len(projections)
    for propagation, by_signal in groups.items():
        # per-synapse delays act on their virtual layout (never plastic: see jaxsnn.plasticity)
        work = [
            (
                [weights[i] if prepared.virtual[i] is None else prepared.virtual[i][0] for i in ms],
                [
                    projections[i].layout if prepared.virtual[i] is None else prepared.virtual[i][1]
                    for i in ms
                ],
                signals[ms[0]],
            )
            for ms in by_signal.values()
        ]
        results = propagation.drives_of_signals(work)
        for members, group_drives in zip(by_signal.values(), results, strict=True):
            for i, d in zip(members, group_drives, strict=True):
                drives[i] = d
    effects: dict[str, list[NeuronInput]] = {name: [] for name in slices}
    synapses = []
    for i, proj in enumerate(projections):
        d = drives[i].astype(dtype)
        if prepared.virtual[i] is not None:
            name = buffer_name(proj.name)
            delays[name], d = buffer_advance(delays[name], d)
        syn_state, effect = proj.synapse.step(
            state.synapses[i], d, v_all[slices[proj.post]], dt_ms=dt_ms
        )
        synapses.append(syn_state)
        effects[proj.post].append(effect)
    # 3. population inputs
    input_states = list(state.inputs)
    for j in network.population_input_indices:
        inp = network.inputs[j]
        input_states[j], effect = inp.step(
            state.inputs[j],
            data.get(inp.name),
            stream(k_t, inp.name),
            v_all[slices[inp.target]],
            dt_ms=dt_ms,
            dtype=dtype,
        )
        effects[inp.target].append(effect)
    # 4. neuron models, one call per block
    blocks, spikes, emitted, v_before = [], [], {}, []
    for group, neuron, block in zip(network.groups, prepared.neurons, state.neurons, strict=True):
        pops = [network.populations[i] for i in group]
        parts = [
            sum(effects[p.name][1:], effects[p.name][0]) if effects[p.name] else None for p in pops
        ]
        inp = _concat_inputs(parts, [p.n for p in pops], dtype)
        if before_reset:
            block, s, v = neuron.step_before_reset(block, inp, dt_ms=dt_ms)
            v_before.append(v.astype(dtype))
        else:
            block, s = neuron.step(block, inp, dt_ms=dt_ms)
        blocks.append(block)
        spikes.append(s)
        start = 0
        for p in pops:
            emitted[p.name] = s if len(pops) == 1 else s[start : start + p.n]
            start += p.n
    new_state = NetworkState(
        neurons=tuple(blocks),
        spikes=spikes[0] if len(spikes) == 1 else jnp.concatenate(spikes),
        synapses=tuple(synapses),
        presynaptic=tuple(presynaptic),
        inputs=tuple(input_states),
        delays=delays,
        t=state.t + 1,
        plasticity=state.plasticity,
    )
    v_all_before = None
    if before_reset:
        v_all_before = v_before[0] if len(v_before) == 1 else jnp.concatenate(v_before)
    return new_state, StepOutput(tuple(arrivals), emitted, v_all_before)


def network_step(
    network: Network,
    state: NetworkState,
    data_t: Mapping[str, Array],
    *,
    dt_ms: float,
    key: PRNGKeyArray,
) -> tuple[NetworkState, StepOutput]:
    """Advance the network by one step of `dt_ms` (order of operations: module docstring).

    `simulate` runs this step in one `lax.scan`; call it yourself to write your own loop.

    Args:
        network: the network (constants and weights, closed over by the scan).
        state: the current state.
        data_t: this step's data of each user-given input (name -> the constant, or row
            t of the time series).
        dt_ms: step length (ms).
        key: the simulation key (the step draws from `fold_in(key, state.t)`).

    Returns:
        `(new_state, output)`: `output.spikes` the spikes each population emitted in this
        step, `output.arrivals` the spikes that reached each projection's synapses.
    """
    return step_prepared(prepare(network, state, dt_ms), state, data_t, key)

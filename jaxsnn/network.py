"""A network: populations, projections and inputs, its state, and its pure step function.

All neurons of all populations live in one vector, population after population in the
order given, so `state.v[network.slice("E")]` is population E. One step (`network_step`)
of length dt_ms does, in this order:

1. draw this step's input spikes (Poisson channels from `fold_in(key, t)`, or the user's
   spike matrix row t);
2. for each projection, compute the drive `Σ_i w_ij s_i` from the presynaptic spikes of the
   previous step (or the input spikes of this step) and apply it as the synapse model says
   (delta jump, current, or conductance; see `jaxsnn.synapse`);
3. advance every population with the exact LIF update of `jaxsnn.neuron`, which emits the
   spikes of this step.

So a recurrent spike emitted at step t reaches its targets at step t + 1.
"""

from __future__ import annotations

import zlib

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, ArrayLike, Float, Int, PRNGKeyArray

from ._checks import check_finite
from .inputs import AbstractInput, AbstractSpikeInput, CurrentInput
from .neuron import LIF, lif_update
from .population import Population
from .projection import Projection, drives
from .synapse import Delta, ExpConductance, ExpCurrent, time_constants_ms


class NetworkState(eqx.Module):
    """Everything that evolves during a simulation (carried by `lax.scan`).

    Attributes:
        v: (N,) membrane potentials (mV), all populations concatenated.
        refractory: (N,) int32 steps of refractoriness left.
        spikes: (N,) spikes emitted at the last step (0/1 in the dtype of `v`).
        synapses: per projection, the (n_post,) synaptic current (mV) or conductance, or
            None for delta synapses.
        t: int32 scalar, the number of steps taken so far (the time index of the next step,
            used to draw its random numbers, so a simulation run in windows gives the same
            spikes as one long run).
    """

    v: Float[Array, " N"]
    refractory: Int[Array, " N"]
    spikes: Float[Array, " N"]
    synapses: tuple[Float[Array, " n_post"] | None, ...]
    t: Int[Array, ""]


class Network(eqx.Module):
    """Populations of LIF neurons, the projections between them and the external inputs.

    Attributes:
        populations: the populations, in the order their neurons are laid out.
        projections: projections from populations or spike inputs onto populations.
        inputs: Poisson/spike inputs (presynaptic sources) and current inputs.
    """

    populations: tuple[Population, ...] = eqx.field(converter=tuple)
    projections: tuple[Projection, ...] = eqx.field(converter=tuple, default=())
    inputs: tuple[AbstractInput, ...] = eqx.field(converter=tuple, default=())

    def __check_init__(self):
        if not self.populations:
            raise ValueError("a Network needs at least one population")
        names = [p.name for p in self.populations] + [i.name for i in self.inputs]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(
                f"names must be unique across populations and inputs, repeated: {dupes}"
            )
        sizes = {p.name: p.n for p in self.populations}
        sources = dict(sizes) | {
            i.name: i.n for i in self.inputs if isinstance(i, AbstractSpikeInput)
        }
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
                    f"projection {proj.pre}->{proj.post} was built for sizes ({proj.n_pre}, "
                    f"{proj.n_post}) but the network has ({sources[proj.pre]}, {sizes[proj.post]})"
                )
        for inp in self.inputs:
            if isinstance(inp, CurrentInput):
                if inp.target not in sizes:
                    raise ValueError(
                        f"CurrentInput '{inp.name}' targets unknown population '{inp.target}'"
                    )
                if inp.n != sizes[inp.target]:
                    raise ValueError(
                        f"CurrentInput '{inp.name}' has n={inp.n} but population '{inp.target}' "
                        f"has {sizes[inp.target]} neurons"
                    )
            elif not isinstance(inp, AbstractInput):
                raise ValueError(f"inputs must be jaxsnn inputs, got {type(inp).__name__}")

    @property
    def n_neurons(self) -> int:
        """Total number of neurons N."""
        return sum(p.n for p in self.populations)

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

    def time_constants_ms(self) -> list:
        """All membrane and synaptic time constants (ms), for the dt check."""
        taus = [p.neuron.tau_mem_ms for p in self.populations]
        for proj in self.projections:
            taus.extend(time_constants_ms(proj.synapse))
        return taus

    def constrained(self) -> Network:
        """Every projection with its sparsity and Dale's law re-imposed (after an update)."""
        return eqx.tree_at(
            lambda n: n.projections, self, tuple(p.constrained() for p in self.projections)
        )


def init_state(network: Network, *, v0_mv: ArrayLike | None = None, dtype=None) -> NetworkState:
    """The resting state: V = v_rest (or `v0_mv`), no refractoriness, no synaptic input.

    Args:
        network: the network.
        v0_mv: initial potentials (mV), scalar or shape (N,); default each population's
            `v_rest_mv`.
        dtype: float dtype of the state (default: JAX's default float).
    """
    dtype = jnp.result_type(float) if dtype is None else jnp.dtype(dtype)
    n = network.n_neurons
    if v0_mv is None:
        v = jnp.concatenate(
            [
                jnp.broadcast_to(jnp.asarray(p.neuron.v_rest_mv, dtype), (p.n,))
                for p in network.populations
            ]
        )
    else:
        if jnp.shape(v0_mv) not in ((), (n,)):
            raise ValueError(f"v0_mv must be a scalar or have shape ({n},), got {jnp.shape(v0_mv)}")
        check_finite("v0_mv", v0_mv)
        v = jnp.broadcast_to(jnp.asarray(v0_mv, dtype), (n,))
    synapses = tuple(
        None if isinstance(p.synapse, Delta) else jnp.zeros((p.n_post,), dtype)
        for p in network.projections
    )
    return NetworkState(
        v=v,
        refractory=jnp.zeros((n,), jnp.int32),
        spikes=jnp.zeros((n,), dtype),
        synapses=synapses,
        t=jnp.zeros((), jnp.int32),
    )


def input_spikes(
    network: Network, data_t: dict, key: PRNGKeyArray, t: Int[Array, ""], dt_ms: float, dtype
) -> dict[str, Float[Array, " n"]]:
    """The spikes of every spike input at step `t`.

    Input `name` draws from `fold_in(fold_in(key, t), crc32(name))`: its stream depends on
    its name only, not on which other inputs the network has or their order."""
    k_t = jr.fold_in(key, t)
    return {
        inp.name: inp.spikes(data_t.get(inp.name), jr.fold_in(k_t, _stream(inp.name)), dt_ms, dtype)
        for inp in network.inputs
        if isinstance(inp, AbstractSpikeInput)
    }


def _stream(name: str) -> int:
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def network_step(
    network: Network,
    state: NetworkState,
    data_t: dict[str, Array],
    *,
    dt_ms: float,
    key: PRNGKeyArray,
) -> tuple[NetworkState, dict[str, Float[Array, " n"]]]:
    """Advance the network by one step of `dt_ms` (order of operations: module docstring).

    Args:
        network: the network (constants and weights, closed over by the scan).
        state: the current state.
        data_t: this step's row of each user-given input (name -> (n,) array).
        dt_ms: step length (ms).
        key: the simulation key (the step draws from `fold_in(key, state.t)`).

    Returns:
        `(new_state, sources)` where `sources` maps every input and population name to the
        spikes it emitted at this step (the presynaptic activity that plasticity rules see
        is `sources[pre]` for input projections and the previous step's spikes otherwise).
    """
    dtype = state.v.dtype
    n = network.n_neurons
    sources = input_spikes(network, data_t, key, state.t, dt_ms, dtype)
    slices = {p.name: network.slice(p.name) for p in network.populations}
    jump = jnp.zeros((n,), dtype)
    current = jnp.zeros((n,), dtype)
    g = jnp.zeros((n,), dtype) if _has_conductance(network) else None
    g_e = jnp.zeros((n,), dtype) if g is not None else None
    synapses = []
    presynaptic = {
        name: sources[name] if name in sources else state.spikes[slices[name]]
        for name in {proj.pre for proj in network.projections}
    }
    for proj, x, d in zip(
        network.projections, state.synapses, drives(network.projections, presynaptic), strict=True
    ):
        d = d.astype(dtype)
        post = slices[proj.post]
        if isinstance(proj.synapse, Delta):
            jump = jump.at[post].add(d)
        else:
            x = x * proj.synapse.decay(dt_ms) + d
            if isinstance(proj.synapse, ExpCurrent):
                current = current.at[post].add(x)
            elif isinstance(proj.synapse, ExpConductance):
                g = g.at[post].add(x)
                g_e = g_e.at[post].add(x * proj.synapse.e_rev_mv)
            else:
                raise TypeError(f"unknown synapse {type(proj.synapse).__name__}")
        synapses.append(x)
    for inp in network.inputs:
        if isinstance(inp, CurrentInput):
            current = current.at[slices[inp.target]].add(inp.current(data_t.get(inp.name), dtype))
    vs, refs, spikes = [], [], []
    for neuron, pops in _neuron_groups(network.populations):
        sl = slice(slices[pops[0].name].start, slices[pops[-1].name].stop)
        v, r, s = lif_update(
            neuron,
            state.v[sl],
            state.refractory[sl],
            dt_ms=dt_ms,
            i_mv=current[sl],
            g=None if g is None else g[sl],
            g_e_mv=None if g_e is None else g_e[sl],
            jump_mv=jump[sl],
        )
        vs.append(v)
        refs.append(r)
        spikes.append(s)
        for pop in pops:
            start = slices[pop.name].start - sl.start
            sources[pop.name] = s[start : start + pop.n]
    new_state = NetworkState(
        v=_cat(vs),
        refractory=_cat(refs),
        spikes=_cat(spikes),
        synapses=tuple(synapses),
        t=state.t + 1,
    )
    return new_state, sources


def _cat(parts: list[Array]) -> Array:
    return parts[0] if len(parts) == 1 else jnp.concatenate(parts)


def _has_conductance(network: Network) -> bool:
    return any(isinstance(p.synapse, ExpConductance) for p in network.projections)


def _neuron_groups(populations) -> list[tuple[LIF, list[Population]]]:
    """Consecutive populations with identical (constant) neuron parameters, merged: one
    update over their joint slice instead of slicing and concatenating per population
    (E and I of the standard networks share one LIF)."""
    groups: list[tuple[LIF, list[Population]]] = []
    for pop in populations:
        if groups and _same_constants(groups[-1][0], pop.neuron):
            groups[-1][1].append(pop)
        else:
            groups.append((pop.neuron, [pop]))
    return groups


def _same_constants(a, b) -> bool:
    """a == b for modules whose leaves are Python scalars (arrays, possibly traced, are
    never merged)."""
    leaves_a, tree_a = jax.tree.flatten(a)
    leaves_b, tree_b = jax.tree.flatten(b)
    scalars = (bool, int, float)
    return (
        tree_a == tree_b
        and all(isinstance(x, scalars) for x in leaves_a + leaves_b)
        and all(x == y for x, y in zip(leaves_a, leaves_b, strict=True))
    )

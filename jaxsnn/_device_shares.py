"""Each device's share of a network and of its state, for `jaxsnn.neuron_sharding`.

With D devices, device d holds the d-th of D equal blocks of consecutive neurons of every
population. Its network (`device_network`) has those neurons, every synapse onto them
(`AbstractLayout.split_posts`) and a view of each population input that steps the whole
input and keeps the share (`InputShare`). A state in network order is dealt into rows,
one per device (`deal`), and put back (`undeal`); what every device holds alike (spike
rings, presynaptic states, the step counter) stays whole (`split_state`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Int

from .inputs.abstract import AbstractPopulationInput
from .network import Network, NetworkState
from .neurons.abstract import AbstractNeuron
from .population import Population
from .projection import Projection


class InputShare(AbstractPopulationInput):
    """A population input seen from one device: it steps the whole input (full-size V and
    state, the device's share written at `offset`, zeros elsewhere) and keeps the
    device's share, so random draws are those of one device. Exact for an input that acts
    on each neuron on its own (every jaxsnn input does): the zeros never reach the share."""

    name: str = eqx.field(static=True)
    target: str = eqx.field(static=True)
    n: int = eqx.field(static=True)
    whole: AbstractPopulationInput
    offset: Int[Array, ""]

    def init(self, dtype):
        return jax.tree.map(self._share, self.whole.init(dtype))

    def step(self, state, data, key, v, *, dt_ms, dtype):
        state, effect = self.whole.step(
            jax.tree.map(self._widen, state), data, key, self._widen(v), dt_ms=dt_ms, dtype=dtype
        )
        return jax.tree.map(self._share, state), jax.tree.map(self._share, effect)

    def _widen(self, x: Array) -> Array:
        full = jnp.zeros((self.whole.n,) + x.shape[1:], x.dtype)
        return jax.lax.dynamic_update_slice_in_dim(full, x, self.offset, 0)

    def _share(self, x: Array) -> Array:
        return jax.lax.dynamic_slice_in_dim(x, self.offset, self.n, 0)


def check_splittable(network: Network, parts: int) -> None:
    """Raise ValueError, naming what, if `network` cannot be split over `parts` devices."""
    uneven = [f"'{p.name}' ({p.n})" for p in network.populations if p.n % parts]
    if uneven:
        raise ValueError(
            f"every population's size must be a multiple of the number of devices "
            f"({parts}); not: {', '.join(uneven)}"
        )
    for proj in network.projections:
        if proj.per_synapse_delays:
            raise ValueError(
                f"projection {proj.name} has per-synapse delays, which simulate_sharded "
                "does not support: give it one delay (connect(..., delay_ms=1.5))"
            )
        for path, leaf in jax.tree_util.tree_leaves_with_path(proj.synapse):
            if np.size(leaf) > 1:
                raise ValueError(
                    f"projection {proj.name}: synapse parameter "
                    f"{type(proj.synapse).__name__}{jax.tree_util.keystr(path)} has "
                    f"{np.size(leaf)} values; simulate_sharded supports one value per "
                    "parameter in synapse models"
                )


def neuron_share(population: Population, d: int, parts: int) -> AbstractNeuron:
    """The population's neuron model for its d-th block: per-neuron parameters cut."""
    m = population.n // parts
    # a parameter of shape (n,) holds one value per neuron (the models' contract); the
    # others, scalars, broadcast to any block
    cut = lambda x: x[d * m : (d + 1) * m] if eqx.is_array(x) and x.shape == (population.n,) else x
    return jax.tree.map(cut, population.neuron)


def device_network(
    network: Network, d: int, parts: int, blocks: Sequence[Sequence[tuple]]
) -> Network:
    """Device d's network: its share of every population, the synapses onto it (`blocks`:
    per projection, `split_posts`'s blocks), its view of the inputs."""
    populations = tuple(
        Population(p.name, p.n // parts, neuron_share(p, d, parts), p.dale)
        for p in network.populations
    )
    projections = tuple(
        Projection(p.pre, p.post, p.synapse, ws[0], lay, p.propagation, p.sign, p.delay_ms)
        for p, (lay, ws) in zip(network.projections, (b[d] for b in blocks), strict=True)
    )
    inputs = list(network.inputs)
    for j in network.population_input_indices:
        whole = network.inputs[j]
        m = whole.n // parts
        inputs[j] = InputShare(whole.name, whole.target, m, whole, jnp.asarray(d * m, jnp.int32))
    # Its projections keep their full presynaptic size (spikes are gathered before they
    # reach them), which Network's own check (sizes match the populations') refuses: the
    # device's network is the whole one with these parts replaced.
    parts_of = {"populations": populations, "projections": projections, "inputs": tuple(inputs)}
    present = [name for name in parts_of if getattr(network, name)]
    return eqx.tree_at(
        lambda net: tuple(getattr(net, name) for name in present),
        network,
        tuple(parts_of[name] for name in present),
    )


class StateLayout(eqx.Module):
    """Where the per-neuron arrays of a state lie: the populations their neuron axis runs
    over (static, for the jitted run)."""

    block_sizes: tuple[tuple[int, ...], ...] = eqx.field(static=True)
    pop_sizes: tuple[int, ...] = eqx.field(static=True)
    post_sizes: tuple[int, ...] = eqx.field(static=True)
    input_sizes: tuple[int | None, ...] = eqx.field(static=True)  # None: a spike input

    @classmethod
    def of(cls, network: Network) -> StateLayout:
        sizes = {p.name: p.n for p in network.populations}
        population_inputs = set(network.population_input_indices)
        return cls(
            tuple(tuple(network.populations[i].n for i in g) for g in network.groups),
            tuple(p.n for p in network.populations),
            tuple(sizes[p.post] for p in network.projections),
            tuple(i.n if j in population_inputs else None for j, i in enumerate(network.inputs)),
        )


def nones(tree):
    """`tree` with None for every leaf (the empty half of a split)."""
    return jax.tree.map(lambda _: None, tree)


def split_state(state: NetworkState, layout: StateLayout) -> tuple[NetworkState, NetworkState]:
    """(per-neuron part, part every device holds alike) of a state, each with None where
    the other holds the leaf (`eqx.combine` joins them)."""
    mine = [n is not None for n in layout.input_sizes]
    per_neuron = NetworkState(
        neurons=state.neurons,
        spikes=state.spikes,
        synapses=state.synapses,
        presynaptic=nones(state.presynaptic),
        inputs=tuple(s if m else nones(s) for s, m in zip(state.inputs, mine, strict=True)),
        delays=nones(state.delays),
        t=None,
    )
    alike = NetworkState(
        neurons=nones(state.neurons),
        spikes=None,
        synapses=nones(state.synapses),
        presynaptic=state.presynaptic,  # of the presynaptic neurons: gathered spikes
        inputs=tuple(nones(s) if m else s for s, m in zip(state.inputs, mine, strict=True)),
        delays=state.delays,  # rings of gathered spikes
        t=state.t,
    )
    return per_neuron, alike


def map_per_neuron(fn: Callable, part: NetworkState, layout: StateLayout) -> NetworkState:
    """`fn(x, sizes)` on every per-neuron array of `part`, `sizes` the populations the
    array's neuron axis runs over."""
    over = lambda tree, sizes: jax.tree.map(lambda x: fn(x, sizes), tree)
    return NetworkState(
        neurons=tuple(over(b, s) for b, s in zip(part.neurons, layout.block_sizes, strict=True)),
        spikes=fn(part.spikes, layout.pop_sizes),
        synapses=tuple(
            over(s, (n,)) for s, n in zip(part.synapses, layout.post_sizes, strict=True)
        ),
        presynaptic=part.presynaptic,
        inputs=tuple(over(s, (n,)) for s, n in zip(part.inputs, layout.input_sizes, strict=True)),
        delays=part.delays,
        t=part.t,
    )


def deal(parts: int) -> Callable:
    """(N, ...) in network order -> (D, N/D, ...): row d is device d's share of each
    population, one population after the other."""

    def one(x, sizes):
        pieces, start = [], 0
        for n in sizes:
            pieces.append(x[start : start + n].reshape((parts, n // parts) + x.shape[1:]))
            start += n
        return pieces[0] if len(pieces) == 1 else jnp.concatenate(pieces, axis=1)

    return one


def undeal(parts: int) -> Callable:
    """The inverse of `deal`."""

    def one(x, sizes):
        pieces, start = [], 0
        for n in sizes:
            m = n // parts
            pieces.append(x[:, start : start + m].reshape((n,) + x.shape[2:]))
            start += m
        return pieces[0] if len(pieces) == 1 else jnp.concatenate(pieces)

    return one

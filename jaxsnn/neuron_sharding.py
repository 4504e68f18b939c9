"""One network's neurons split over devices: `shard_network` and `simulate_sharded`.

`jaxsnn.sharding` splits independent trials over devices; this module splits the neurons
of one network, for a network that outgrows one device. On a 1-D mesh of D devices
(`neuron_mesh`), device d holds the d-th of D equal blocks of consecutive neurons of
every population (their states, their parameters) and every synapse onto them: dense
weights cut by columns, sparse (ELL) rows re-packed with targets numbered from 0 on the
device (`AbstractLayout.split_posts`). Each step runs inside `jax.shard_map`: every
population's spikes are gathered from all devices (one `all_gather` per population), so
each device propagates the whole presynaptic activity onto its own neurons, and advances
its neurons. Spike inputs (`PoissonInput`, `SpikeInput`) are presynaptic sources: every
device draws them whole, from the same key. Population inputs (`CurrentInput`,
`WhiteNoise`, `OrnsteinUhlenbeck`, `PoissonDrive`) are stepped at their population's full
size on every device and cut to the device's share, so a random one draws the numbers
one device draws (their cost does not shrink with D; they must act on each neuron on its
own, as all of jaxsnn's do).

The result is that of `simulate` on one device (`tests/test_neuron_sharding.py`): the
same spikes, V equal up to float rounding (a dense product over fewer columns may round
differently; sparse drives sum the same synapses in the same order).

Across processes the same code runs unchanged: call `jax.distributed.initialize` first,
build the network identically in every process (same keys; each process keeps only its
devices' shares, but builds the whole network on its host first), and call
`simulate_sharded` in every process with a mesh over `jax.devices()` (the default). The
results are global arrays sharded over the mesh;
`jax.experimental.multihost_utils.process_allgather` brings them to every host.

Supported: every neuron model (per-neuron parameter arrays are cut), every synapse model
with scalar parameters, dense and sparse storage with any propagation, one delay per
projection, spike and population inputs, per-trial input data, `Record` of spikes,
voltages (before the reset too), rates, counts and states. Refused with a ValueError that
names them: population sizes that are not multiples of D, per-synapse delays, synapse
parameters with more than one value, other storage layouts (`split_posts`),
`Record.events`, a state carrying plasticity traces. Not options of `simulate_sharded`:
plasticity, progress bars, `chunk_steps`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from jaxtyping import Array, Float, PRNGKeyArray

from ._checks import check_real, for_argument, is_concrete
from ._device_shares import (
    StateLayout,
    check_splittable,
    deal,
    device_network,
    map_per_neuron,
    split_state,
    undeal,
)
from .network import Network, NetworkState
from .record import Probe, Record, Recording
from .simulation import _run, check_simulation


def neuron_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A 1-D mesh named "neurons" over `devices` (default: all devices, of every process)."""
    devices = jax.devices() if devices is None else list(devices)
    return Mesh(np.array(devices), ("neurons",))


class ShardedNetwork(eqx.Module):
    """A network whose neurons are split over the devices of a 1-D mesh (`shard_network`).

    Attributes:
        network: the whole network, as built.
        stacked: what differs between devices (their neurons' parameters, their synapses):
            the network's arrays that do, each with a leading axis of length D, sharded
            over the mesh (None elsewhere).
        shared: what every device holds alike (constants, spike inputs), its arrays
            replicated on every device (None where `stacked` holds the leaf).
        mesh: the 1-D mesh.
    """

    network: Network
    stacked: Network
    shared: Network
    mesh: Mesh = eqx.field(static=True)

    @property
    def axis(self) -> str:
        """The mesh's axis name."""
        return self.mesh.axis_names[0]

    @property
    def n_devices(self) -> int:
        """D, the number of devices the neurons are split over."""
        return int(self.mesh.devices.size)


class _Gather(eqx.Module):
    """The spike exchange of `step_prepared`: a population's spikes from every device, in
    the population's order (device d's block is the d-th)."""

    axis: str = eqx.field(static=True)

    def __call__(self, spikes: Float[Array, " n_local"]) -> Float[Array, " n"]:
        return jax.lax.all_gather(spikes, self.axis, tiled=True)


def _on_mesh(x: Any, mesh: Mesh, spec: PartitionSpec) -> Array:
    """`x` as a global array on `mesh` (each process places only its devices' shards); an
    array that is already global across processes is left as it is."""
    if isinstance(x, jax.Array) and not x.is_fully_addressable:
        return x
    host = np.asarray(x)
    return jax.make_array_from_callback(
        host.shape, NamedSharding(mesh, spec), lambda index: host[index]
    )


def _check_mesh(mesh: Mesh) -> None:
    if not isinstance(mesh, Mesh) or mesh.devices.ndim != 1:
        got = mesh.devices.shape if isinstance(mesh, Mesh) else type(mesh).__name__
        raise ValueError(f"mesh must be a 1-D jax.sharding.Mesh (neuron_mesh()), got {got}")


def shard_network(network: Network, mesh: Mesh | None = None) -> ShardedNetwork:
    """Split `network`'s neurons and their incoming synapses over the devices of `mesh`
    (module docstring), and place each device's share on it. Host work proportional to
    the synapses, done once: pass the result to `simulate_sharded` for every run.

    Args:
        network: the network (concrete arrays).
        mesh: a 1-D mesh (default `neuron_mesh()`: every device of every process).

    Returns:
        The `ShardedNetwork`.

    Raises:
        ValueError: a bad mesh, a population whose size is not a multiple of the number
            of devices, or a feature that is not supported sharded (module docstring).
    """
    if not isinstance(network, Network):
        raise ValueError(f"network must be a Network, got {type(network).__name__}")
    if not all(is_concrete(x) for x in jax.tree.leaves(network)):
        raise ValueError(
            "shard_network cuts the network's arrays on the host: call it outside jit and "
            "vmap, with concrete weights"
        )
    mesh = neuron_mesh() if mesh is None else mesh
    _check_mesh(mesh)
    parts = int(mesh.devices.size)
    check_splittable(network, parts)
    blocks = []
    for proj in network.projections:
        with for_argument(f"projection {proj.name}"):
            blocks.append(proj.layout.split_posts([proj.weights], parts))
    flat = [jax.tree.flatten(device_network(network, d, parts, blocks)) for d in range(parts)]
    treedef = flat[0][1]
    stacked, shared = [], []
    for column in zip(*(leaves for leaves, _ in flat), strict=True):
        if all(x is column[0] for x in column):  # untouched by the split: one for all
            stacked.append(None)
            shared.append(
                _on_mesh(column[0], mesh, PartitionSpec()) if eqx.is_array(column[0]) else column[0]
            )
        else:
            rows = np.stack([np.asarray(x) for x in column])
            stacked.append(_on_mesh(rows, mesh, PartitionSpec(mesh.axis_names[0])))
            shared.append(None)
    return ShardedNetwork(
        network, jax.tree.unflatten(treedef, stacked), jax.tree.unflatten(treedef, shared), mesh
    )


def _specs(tree, spec: PartitionSpec):
    return jax.tree.map(lambda _: spec, tree)


@eqx.filter_jit
def _run_sharded(
    mesh, layout, key_impl, stacked, shared, state, inputs, key_data, n_steps, dt_ms, record,
    checkpoint,
):  # fmt: skip
    """The compiled run: the state dealt to the devices, `_run` on each device's share
    inside `shard_map`, the state put back in network order."""
    axis, parts = mesh.axis_names[0], int(mesh.devices.size)
    split, alike = split_state(state, layout)
    split = map_per_neuron(deal(parts), split, layout)
    shared_arrays, shared_static = eqx.partition(shared, eqx.is_array)
    first = lambda tree: jax.tree.map(lambda x: x[0], tree)
    along = PartitionSpec(None, axis)  # (windows, neurons): neurons split

    def device(stacked, shared_arrays, split, alike, inputs, key_data):
        network = eqx.combine(first(stacked), shared_arrays, shared_static)
        key = key_data if key_impl is None else jr.wrap_key_data(key_data, impl=key_impl)
        state = eqx.combine(first(split), alike)
        state, rec = _run(
            network, state, inputs, key, n_steps, dt_ms, record, None, checkpoint, False,
            exchange=_Gather(axis),
        )  # fmt: skip
        split, alike = split_state(state, layout)
        rates = {name: r[None] for name, r in rec.rates_hz.items()}
        return (
            jax.tree.map(lambda x: x[None], split),
            alike,
            (rec.spikes, rec.v, rates, rec.counts, rec.states),
        )

    out_rec = (
        {n: along for n in record.spikes},
        {n: along for n, _ in record.voltages},
        {n: PartitionSpec(axis) for n in record.rates},
        {n: PartitionSpec(axis) for n in record.counts},
        {p.key: along for p in record.states},
    )
    split, alike, (spikes, v, rates, counts, states) = jax.shard_map(
        device,
        mesh=mesh,
        in_specs=(
            _specs(stacked, PartitionSpec(axis)),
            _specs(shared_arrays, PartitionSpec()),
            _specs(split, PartitionSpec(axis)),
            _specs(alike, PartitionSpec()),
            _specs(inputs, PartitionSpec()),
            PartitionSpec(),
        ),
        out_specs=(_specs(split, PartitionSpec(axis)), _specs(alike, PartitionSpec()), out_rec),
        # what every device holds alike is computed alike from gathered spikes, which the
        # replication check cannot see through all_gather
        check_vma=False,
    )(stacked, shared_arrays, split, alike, inputs, key_data)
    state = eqx.combine(map_per_neuron(undeal(parts), split, layout), alike)
    # each device's mean rate is over an equal share of the population
    rates = {name: jnp.mean(r, axis=0) for name, r in rates.items()}
    return state, (spikes, v, rates, counts, states)


def _device_record(record: Record) -> Record:
    """The record each device runs: whole populations (indices are picked afterwards)."""
    if record.events:
        raise ValueError(
            f"Record.events ({list(record.events)}) is not supported by simulate_sharded: "
            "record spikes (Record(spikes=...)) and list them with jaxsnn.events.from_dense"
        )
    return Record(
        spikes=record.spikes,
        voltages={name: None for name, _ in record.voltages},
        rates=record.rates,
        counts=record.counts,
        every=record.every,
        states=tuple(Probe(p.target, p.variable) for p in record.states),
        events=(),
        voltages_before_reset=record.voltages_before_reset,
    )


def _pick(x, idx):
    return x if idx is None else jax.tree.map(lambda a: a[..., np.asarray(idx)], x)


def simulate_sharded(
    network: Network | ShardedNetwork,
    state: NetworkState,
    n_steps: int,
    *,
    dt_ms: float,
    key: PRNGKeyArray | None = None,
    inputs: Mapping[str, Array] | None = None,
    record: Record = Record(),
    mesh: Mesh | None = None,
    checkpoint: bool = False,
    allow_large_dt: bool = False,
) -> tuple[NetworkState, Recording]:
    """`simulate` with the network's neurons split over the devices of a 1-D mesh (module
    docstring): the same spikes and recording as one device.

    Args:
        network: a `ShardedNetwork` (`shard_network`, to split once and run many times),
            or a `Network`, split over `mesh` for this call.
        state: the state to start from, in network order as on one device (`init_state`,
            or one returned by `simulate_sharded` or `simulate`).
        n_steps: number of steps (a Python int).
        dt_ms: step length (ms), as for `simulate`.
        key: PRNG key for random inputs (required when the network has any); the same
            draws as `simulate` with this key.
        inputs: per-trial input data by input name, as for `simulate` (the whole data:
            every device reads its inputs' rows).
        record: what to record, as for `simulate`, except `events`.
        mesh: the mesh to split a `Network` over (default `neuron_mesh()`); not with a
            `ShardedNetwork`, which has its own.
        checkpoint: `jax.checkpoint` the step (as for `simulate`).
        allow_large_dt: skip the dt check.

    Returns:
        `(final_state, recording)` as `simulate` returns them, global arrays on the mesh
        (across processes, `multihost_utils.process_allgather` brings one to a host).

    Raises:
        ValueError: what `simulate` raises, what `shard_network` raises, a mesh given
            with a `ShardedNetwork`, `Record.events`, a state carrying plasticity traces.
    """
    if not all(is_concrete(x) for x in jax.tree.leaves(state)):
        raise ValueError(
            "simulate_sharded places the state on the mesh itself: call it outside jit and "
            "vmap (it compiles its own program)"
        )
    if isinstance(network, ShardedNetwork):
        if mesh is not None:
            raise ValueError("a ShardedNetwork has its own mesh: pass mesh to shard_network")
        sharded = network
    else:
        sharded = shard_network(network, mesh)
    whole, mesh = sharded.network, sharded.mesh
    if inputs is not None and not isinstance(inputs, Mapping):
        raise ValueError(
            f"inputs must be a mapping of input names to data, got {type(inputs).__name__}"
        )
    for name, x in (inputs or {}).items():
        check_real(f"inputs[{name!r}]", x)
    inputs = {name: jnp.asarray(x) for name, x in (inputs or {}).items()}
    check_simulation(whole, state, n_steps, dt_ms, key, inputs, record, None, allow_large_dt)
    if state.plasticity is not None:
        raise ValueError(
            "state.plasticity holds plasticity traces; simulate_sharded runs without "
            "plasticity: start from init_state(network)"
        )
    record = record.resolve(whole)
    device_record = _device_record(record)
    key = jr.key(0) if key is None else key
    typed = jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key)
    alike = PartitionSpec()
    state = jax.tree.map(lambda x: _on_mesh(x, mesh, alike), state)
    inputs = {name: _on_mesh(x, mesh, alike) for name, x in inputs.items()}
    key_data = _on_mesh(jr.key_data(key) if typed else key, mesh, alike)
    key_impl = jr.key_impl(key) if typed else None
    state, (spikes, v, rates, counts, states) = _run_sharded(
        mesh, StateLayout.of(whole), key_impl, sharded.stacked, sharded.shared, state, inputs,
        key_data, int(n_steps), float(dt_ms), device_record, bool(checkpoint),
    )  # fmt: skip
    recording = Recording(
        spikes=spikes,
        v={name: _pick(v[name], idx) for name, idx in record.voltages},
        rates_hz=rates,
        counts=counts,
        states={p.key: _pick(states[p.key], p.neurons) for p in record.states},
    )
    return state, recording

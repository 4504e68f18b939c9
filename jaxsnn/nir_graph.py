"""Export a network to, and import one from, the Neuromorphic Intermediate Representation.

NIR (https://neuroir.org, package `nir`, `pip install jaxsnn-lif[nir]`) describes a
network as a graph of continuous-time nodes. `to_nir(network, dt_ms=...)` writes a jaxsnn
network as a `nir.NIRGraph`; `from_nir(graph, dt_ms=...)` builds a `jaxsnn.Network`; use
`nir.write`/`nir.read` for the .nir (HDF5) files other simulators exchange.

What maps to what (NIR 1.0):

    jaxsnn                                      NIR
    SpikeInput(name, n)                         Input node `name`, shape (n,)
    Population, LIF, only Delta inputs          LIF node   (tau, r, v_leak, v_threshold, v_reset)
    Population, LIF, ExpCurrent inputs          CubaLIF    (+ tau_syn, w_in)
    Population, LeakyIntegrator                 LI / CubaLI
    Projection pre -> post (dense or sparse)    Linear node `pre->post`, weight (n_post, n_pre)
    Projection.delay_ms                         Delay node before (per presynaptic channel)
                                                or after (per postsynaptic neuron) the Linear
    population `name` read out                  Output node `name.output`

Units: NIR's parameters are plain numbers. Time constants and delays are written in
seconds (NIR's convention, which snnTorch and Norse follow: tau_s = tau_ms / 1000);
voltages (v_leak, v_threshold, v_reset) are written as their values in mV, so a graph
read back gives the same mV. Exported neurons have r = 1 and w_in = 1; the weights carry
the whole drive. On import r and w_in are folded into the weights.

The NIR equations are

    tau_syn · dI/dt = -I + w_in · S                 (CubaLIF, CubaLI only; else I = S)
    tau     · dv/dt = (v_leak - v) + r · I
    spike when v > v_threshold, then v = v_reset    (LIF, CubaLIF)

where S = W · s is the weighted spike input. A discrete-time simulator must say what S is
over a step: snnTorch's export (r = tau/dt, w_in = tau_syn/dt, dt = 1e-4 s, so its forward
Euler update gives back `v <- beta·v + W·s`) and Norse's import (forward Euler with the
input held over the step) both take S as the step's 0/1 spikes held constant over the
step. jaxsnn takes the same S but integrates each equation exactly over the step, the
synaptic current first and the membrane with the new current held (the order of
snnTorch's `Synaptic` and Norse's CubaLIF):

    I' = I·exp(-dt/tau_syn) + w_in·W·s·(1 - exp(-dt/tau_syn))
    v' = v_inf + (v - v_inf)·exp(-dt/tau),   v_inf = v_leak + r·I'   (CubaLIF)
    v' = v_leak + (v - v_leak)·exp(-dt/tau) + r·W·s·(1 - exp(-dt/tau))   (LIF)

which are jaxsnn's `ExpCurrent` and `Delta` synapses with the jaxsnn weights (mV)

    w_jaxsnn[i, j] = W[j, i] · r_j · w_in_j · (1 - exp(-dt/tau_syn_j))   (ExpCurrent)
    w_jaxsnn[i, j] = W[j, i] · r_j · (1 - exp(-dt/tau_j))                (Delta)

So the weights depend on dt, which `to_nir` and `from_nir` both take; export and import at
the same dt give the same spikes. A peer that integrates with forward Euler (snnTorch,
Norse) decays by 1 - dt/tau instead of exp(-dt/tau): its spikes agree with jaxsnn's only
as far as the two discretisations agree. To reproduce such a peer's steps exactly, set
each LIF node's tau to -dt / ln(1 - dt/tau) before importing: its exact decay is then
Euler's 1 - dt/tau and its input gain r (1 - exp(-dt/tau')) Euler's r dt/tau (with
snnTorch's `Leaky` graphs this gives snnTorch's spikes, tests/test_nir.py).

Timing: NIR's edges carry no delay, but a discrete-time simulator must break recurrent
loops. jaxsnn delivers a population's spikes of step t at step t + 1 (and input spikes in
their own step), for feed-forward and recurrent projections alike, so a feed-forward
stack of k spiking layers answers k - 1 steps later than in snnTorch's or Norse's
`Sequential`, which pass spikes through all layers within one step. A NIR `Delay` adds
round(delay / dt) steps on top, as `Projection.delay_ms` does.

Not representable (raise `ValueError` naming the population, projection or node):
neuron models other than `LIF` and `LeakyIntegrator` (AdaptiveLIF, AdEx, user models);
`ResetBySubtraction` (NIR's LIF resets to v_reset); refractoriness (`t_ref_ms > 0`: NIR
has no refractory period); synapses other than `Delta` and `ExpCurrent` (conductances,
NMDA, dual exponential); a population receiving both, or `ExpCurrent`s of different time
constants (a CubaLIF has one synaptic current); inputs other than `SpikeInput` (Poisson
sources, currents and noise are drawn or added inside jaxsnn); projections from a leaky
integrator (it emits no spikes, while a NIR LI passes on its potential); per-synapse
delays that are neither per presynaptic channel nor per postsynaptic neuron. On import:
node types other than Input, Output, LIF, CubaLIF, LI, CubaLI, Linear, Affine (zero bias),
Scale, Delay and nested graphs (IF, I, Conv, pooling, Flatten, Threshold), and a
non-zero Affine bias. What NIR does not hold and is not exported: Dale's law
signs, which synapses are absent (zeros), the surrogate derivative and `detach_reset`
(training choices, not dynamics) and the initial state (jaxsnn starts at v_rest).
"""

from __future__ import annotations

import importlib
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
import numpy as np

from .inputs.spike_sources import SpikeInput
from .layout import DenseLayout
from .network import Network
from .neurons.leaky_integrator import LeakyIntegrator
from .neurons.lif import LIF
from .neurons.reset import ResetToValue
from .population import Population
from .projection import Projection
from .propagation import Dense
from .synapses.delta import Delta
from .synapses.exponential import ExpCurrent

if TYPE_CHECKING:
    import nir

_MS_PER_S = 1000.0


def _nir() -> Any:
    try:
        return importlib.import_module("nir")
    except ImportError as err:
        raise ImportError(
            "jaxsnn.nir_graph needs the `nir` package: pip install jaxsnn-lif[nir]"
        ) from err


def _check_dt(dt_ms: float) -> None:
    if not (isinstance(dt_ms, int | float) and np.isfinite(dt_ms) and dt_ms > 0):
        raise ValueError(f"dt_ms must be a positive number, got {dt_ms!r}")


def _per_neuron(value: Any, n: int, what: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, jax.errors.TracerArrayConversionError) as err:
        raise ValueError(f"{what} must be a concrete number or array to export") from err
    if arr.size not in (1, n):
        raise ValueError(f"{what} must be a scalar or have {n} entries, got shape {arr.shape}")
    return np.broadcast_to(arr.reshape(-1) if arr.size == n else arr.reshape(()), (n,)).copy()


def _ms(seconds: np.ndarray) -> np.ndarray:
    # ms -> s -> ms is not exact in binary (20/1000*1000 != 20 for some values); 15
    # significant digits drop that last-bit noise so a round trip gives back the constants
    flat = [float(f"{x:.15g}") for x in np.asarray(seconds, np.float64).ravel() * _MS_PER_S]
    return np.asarray(flat, np.float64).reshape(np.shape(seconds))


def _gain(tau_s: np.ndarray, dt_ms: float) -> np.ndarray:
    """1 - exp(-dt/tau): the part of a step-long input a linear node takes up in one step."""
    return -np.expm1(-(dt_ms / _MS_PER_S) / tau_s)


# ----------------------------------------------------------------------------- export


def _synapse_kind(pop: Population, incoming: Sequence[Projection]) -> type | None:
    kinds = set()
    for proj in incoming:
        kind = type(proj.synapse)
        if kind not in (Delta, ExpCurrent):
            raise ValueError(
                f"projection {proj.name}: a {kind.__name__} synapse cannot be represented "
                "in NIR (it has current-based nodes only: Delta -> LIF/LI, ExpCurrent -> "
                "CubaLIF/CubaLI)"
            )
        kinds.add(kind)
    if len(kinds) > 1:
        raise ValueError(
            f"population '{pop.name}' receives both Delta and ExpCurrent synapses; a NIR "
            "neuron node has one input path (LIF: none, CubaLIF: one synaptic current)"
        )
    return kinds.pop() if kinds else None


def _tau_syn_s(pop: Population, incoming: Sequence[Projection]) -> np.ndarray:
    taus = [
        _per_neuron(p.synapse.tau_ms, pop.n, f"projection {p.name} ExpCurrent.tau_ms")
        for p in incoming
    ]
    for proj, tau in zip(incoming[1:], taus[1:], strict=True):
        if not np.array_equal(tau, taus[0]):
            raise ValueError(
                f"population '{pop.name}': ExpCurrent time constants differ between "
                f"projections {incoming[0].name} and {proj.name}; a NIR CubaLIF has one "
                "synaptic current"
            )
    return taus[0] / _MS_PER_S


def _neuron_node(nir_: Any, pop: Population, incoming: Sequence[Projection]) -> Any:
    neuron, n = pop.neuron, pop.n
    if type(neuron) not in (LIF, LeakyIntegrator):
        raise ValueError(
            f"population '{pop.name}': {type(neuron).__name__} has no NIR node (NIR 1.0 "
            "has LIF, CubaLIF, LI, CubaLI; adaptive, exponential and user models cannot "
            "be exported)"
        )
    synapse = _synapse_kind(pop, incoming)
    tau = _per_neuron(neuron.tau_mem_ms, n, f"population '{pop.name}' tau_mem_ms") / _MS_PER_S
    v_leak = _per_neuron(neuron.v_rest_mv, n, f"population '{pop.name}' v_rest_mv")
    ones = np.ones(n)
    if type(neuron) is LeakyIntegrator:
        if synapse is ExpCurrent:
            tau_syn = _tau_syn_s(pop, incoming)
            return nir_.CubaLI(tau_syn=tau_syn, tau_mem=tau, r=ones, v_leak=v_leak, w_in=ones)
        return nir_.LI(tau=tau, r=ones, v_leak=v_leak)
    if type(neuron.reset) is not ResetToValue:
        raise ValueError(
            f"population '{pop.name}': {type(neuron.reset).__name__} cannot be represented "
            "in NIR (its LIF resets to v_reset); use ResetToValue()"
        )
    t_ref = _per_neuron(neuron.t_ref_ms, n, f"population '{pop.name}' t_ref_ms")
    if np.any(t_ref > 0):
        raise ValueError(
            f"population '{pop.name}': t_ref_ms={neuron.t_ref_ms} cannot be represented "
            "in NIR (its LIF has no refractory period); use t_ref_ms=0"
        )
    v_th = _per_neuron(neuron.v_th_mv, n, f"population '{pop.name}' v_th_mv")
    v_reset = _per_neuron(neuron.v_reset_mv, n, f"population '{pop.name}' v_reset_mv")
    if synapse is ExpCurrent:
        tau_syn = _tau_syn_s(pop, incoming)
        return nir_.CubaLIF(
            tau_syn=tau_syn,
            tau_mem=tau,
            r=ones,
            v_leak=v_leak,
            v_threshold=v_th,
            v_reset=v_reset,
            w_in=ones,
        )
    return nir_.LIF(tau=tau, r=ones, v_leak=v_leak, v_threshold=v_th, v_reset=v_reset)


def _node_gain(node: Any, dt_ms: float) -> np.ndarray:
    """Per postsynaptic neuron, jaxsnn weight / NIR weight (module docstring)."""
    if hasattr(node, "tau_syn"):
        return np.asarray(node.r, np.float64) * node.w_in * _gain(node.tau_syn, dt_ms)
    return np.asarray(node.r, np.float64) * _gain(np.asarray(node.tau, np.float64), dt_ms)


def _split_delay(proj: Projection) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The delay (s) as a per-presynaptic-channel or per-postsynaptic-neuron vector."""
    if proj.delay_ms is None:
        return None, None
    if not proj.per_synapse_delays:
        d = float(np.asarray(proj.delay_ms, np.float64))
        return (np.full(proj.n_pre, d / _MS_PER_S), None) if d > 0 else (None, None)
    delays = np.asarray(proj.layout.dense(jnp.asarray(proj.delay_ms)), np.float64)
    exists = np.asarray(proj.layout.dense(proj.layout.exists().astype(jnp.float32))) > 0
    masked = np.where(exists, delays, np.nan)
    with np.errstate(all="ignore"):
        rows = np.nan_to_num(np.nanmax(masked, axis=1))
        cols = np.nan_to_num(np.nanmax(masked, axis=0))
    if np.all(~exists | (delays == rows[:, None])):
        return rows / _MS_PER_S, None
    if np.all(~exists | (delays == cols[None, :])):
        return None, cols / _MS_PER_S
    raise ValueError(
        f"projection {proj.name}: per-synapse delays cannot be represented in NIR unless "
        "they depend on the presynaptic channel only or on the postsynaptic neuron only"
    )


def to_nir(network: Network, *, dt_ms: float, outputs: Sequence[str] | None = None) -> nir.NIRGraph:
    """The network as a NIR graph (conventions and limits in the module docstring).

    Args:
        network: the network; its spike inputs must be `SpikeInput`s.
        dt_ms: the step (ms) the network is simulated with; the weights of the graph are
            the jaxsnn weights divided by 1 - exp(-dt/tau) (module docstring).
        outputs: names of the populations to expose as `Output` nodes (`name.output`);
            None: every population with no outgoing projection.

    Returns:
        A `nir.NIRGraph`: one node per spike input (`nir.Input`) and population, one
        `Linear` node `pre->post` per projection (weight shape (n_post, n_pre)), `Delay`
        nodes where a projection has a delay, and the `Output` nodes.

    Raises:
        ValueError: for a part of the network NIR cannot represent, naming it.
        ImportError: if `nir` is not installed.
    """
    nir_ = _nir()
    _check_dt(dt_ms)
    for inp in network.inputs:
        if type(inp) is not SpikeInput:
            raise ValueError(
                f"input '{inp.name}': a {type(inp).__name__} cannot be represented in NIR; "
                "only SpikeInput (spikes given as data) maps to a nir.Input node"
            )
    pops = {p.name: p for p in network.populations}
    nodes: dict[str, Any] = {}
    edges: list[tuple[str, str]] = []

    def add(name: str, node: Any) -> None:
        if name in nodes:
            raise ValueError(f"NIR node name '{name}' is used twice; rename a population")
        nodes[name] = node

    for inp in network.spike_inputs:
        add(inp.name, nir_.Input(input_type=np.array([inp.n])))
    for pop in network.populations:
        incoming = [p for p in network.projections if p.post == pop.name]
        add(pop.name, _neuron_node(nir_, pop, incoming))
    for k, proj in enumerate(network.projections):
        if proj.pre in pops and type(pops[proj.pre].neuron) is LeakyIntegrator:
            raise ValueError(
                f"projection {proj.name}: its source is a LeakyIntegrator, which emits no "
                "spikes in jaxsnn while a NIR LI node passes on its potential"
            )
        gain = _node_gain(nodes[proj.post], dt_ms)
        weight = (np.asarray(proj.dense_weights(), np.float64) / gain[None, :]).T
        name = proj.name if proj.name not in nodes else f"{proj.name}#{k}"
        pre_delay, post_delay = _split_delay(proj)
        chain = [proj.pre]
        if pre_delay is not None:
            add(f"{name}.delay_pre", nir_.Delay(delay=pre_delay))
            chain.append(f"{name}.delay_pre")
        add(name, nir_.Linear(weight=weight))
        chain.append(name)
        if post_delay is not None:
            add(f"{name}.delay_post", nir_.Delay(delay=post_delay))
            chain.append(f"{name}.delay_post")
        chain.append(proj.post)
        edges += list(zip(chain[:-1], chain[1:], strict=True))
    if outputs is None:
        sources = {p.pre for p in network.projections}
        outputs = [p.name for p in network.populations if p.name not in sources]
    for name in outputs:
        if name not in pops:
            raise ValueError(f"outputs: no population named {name!r}; have {sorted(pops)}")
        add(f"{name}.output", nir_.Output(output_type=np.array([pops[name].n])))
        edges.append((name, f"{name}.output"))
    return nir_.NIRGraph(nodes=nodes, edges=edges, metadata={"dt": dt_ms / _MS_PER_S})


# ----------------------------------------------------------------------------- import

_NEURONS = ("LIF", "CubaLIF", "LI", "CubaLI")
_CHAIN = ("Linear", "Affine", "Scale", "Delay")


def _flatten(graph: Any, prefix: str = "") -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Nodes and edges with nested graphs (snnTorch's recurrent layers) inlined; their
    own Input and Output nodes stay as pass-through nodes named `graph.input`."""
    nir_ = _nir()
    nodes: dict[str, Any] = {}
    edges: list[tuple[str, str]] = []
    ends: dict[str, tuple[str, str]] = {}
    for name, node in graph.nodes.items():
        if isinstance(node, nir_.NIRGraph):
            inner, inner_edges = _flatten(node, f"{prefix}{name}.")
            ins = [k for k, v in node.nodes.items() if isinstance(v, nir_.Input)]
            outs = [k for k, v in node.nodes.items() if isinstance(v, nir_.Output)]
            if len(ins) != 1 or len(outs) != 1:
                raise ValueError(
                    f"NIR node '{prefix}{name}': a nested graph needs one Input and one "
                    f"Output node to be inlined, got {ins} and {outs}"
                )
            nodes |= inner
            edges += inner_edges
            ends[name] = (f"{prefix}{name}.{ins[0]}", f"{prefix}{name}.{outs[0]}")
        else:
            nodes[prefix + name] = node
    for a, b in graph.edges:
        src = ends[a][1] if a in ends else prefix + a
        dst = ends[b][0] if b in ends else prefix + b
        edges.append((src, dst))
    return nodes, edges


def _kind(node: Any) -> str:
    return type(node).__name__


def _size(name: str, node: Any, paths: list) -> int:
    """Neurons in a node: its parameters' length, or where they are scalars (Norse
    exports its default, shared parameters so), the rows of its incoming weights."""
    shape = np.shape(node.v_leak)
    if len(shape) == 1:
        return shape[0]
    rows = {w.shape[0] for _, w, _, _ in paths if w is not None}
    if shape == () and len(rows) == 1:
        return rows.pop()
    raise ValueError(
        f"NIR node '{name}' ({_kind(node)}): parameters must be 1-D (n,), or scalars with "
        f"incoming weights that give n; got shape {shape}"
    )


def _compact(values: np.ndarray, dtype) -> float | jax.Array:
    """A Python float (a constant) when all neurons share the value, else an array."""
    values = np.asarray(values, np.float64)
    if np.all(values == values.flat[0]):
        return float(values.flat[0])
    return jnp.asarray(values, dtype)


def _neuron_from(name: str, node: Any, dtype) -> tuple[Any, type]:
    kind = _kind(node)
    tau = node.tau_mem if kind.startswith("Cuba") else node.tau
    tau_ms = _compact(_ms(tau), dtype)
    v_rest = _compact(node.v_leak, dtype)
    synapse = ExpCurrent if kind.startswith("Cuba") else Delta
    if kind in ("LI", "CubaLI"):
        return LeakyIntegrator(tau_mem_ms=tau_ms, v_rest_mv=v_rest), synapse
    try:
        return LIF(
            tau_mem_ms=tau_ms,
            v_rest_mv=v_rest,
            v_th_mv=_compact(node.v_threshold, dtype),
            v_reset_mv=_compact(node.v_reset, dtype),
        ), synapse
    except ValueError as err:
        raise ValueError(f"NIR node '{name}' ({kind}): {err}") from err


def _paths(
    target: str, nodes: dict[str, Any], preds: dict[str, list[str]], sources: set[str]
) -> list[tuple[str, np.ndarray | None, np.ndarray, np.ndarray]]:
    """Every path into neuron node `target`: (source, W (n_target, n_source) or None for
    the identity, delay per source channel (s), delay per target neuron (s)); the delays
    are scalars where they are the same for all channels."""
    out = []

    def walk(name, w, pre_delay, post_delay, visiting):
        if name in sources:
            out.append((name, w, pre_delay, post_delay))
            return
        node = nodes[name]
        kind = _kind(node)
        if name in visiting:
            raise ValueError(f"NIR node '{name}' is in a loop that contains no neuron node")
        if kind == "Delay":
            d = np.asarray(node.delay, np.float64)
            if w is None:
                post_delay = post_delay + d
            else:
                pre_delay = pre_delay + d
        elif kind in ("Linear", "Affine", "Scale"):
            if kind == "Affine" and np.any(np.asarray(node.bias) != 0):
                raise ValueError(
                    f"NIR node '{name}' (Affine): a non-zero bias (a constant input "
                    "current) is not supported; jaxsnn projections have no bias"
                )
            a = np.diag(node.scale) if kind == "Scale" else np.asarray(node.weight, np.float64)
            if a.ndim != 2:
                raise ValueError(f"NIR node '{name}' ({kind}): weight must be 2-D, got {a.shape}")
            if w is not None:
                # a delay between two linear maps acts on neither end's channels unless
                # it is the same for all, when it moves to the target's side
                if np.ptp(pre_delay) != 0:
                    raise ValueError(
                        f"NIR node '{name}': a Delay between two linear maps must be uniform"
                    )
                post_delay = post_delay + np.max(pre_delay)
            w = a if w is None else w @ a
            pre_delay = 0.0
        elif kind not in ("Input", "Output"):  # nested graphs' own ends pass through
            raise ValueError(f"NIR node '{name}' ({kind}) has no jaxsnn equivalent")
        if not preds[name]:
            raise ValueError(f"NIR node '{name}' ({kind}) has no input edge")
        for p in preds[name]:
            walk(p, w, pre_delay, post_delay, visiting | {name})

    for p in preds[target]:
        walk(p, None, 0.0, 0.0, frozenset())
    return out


def _check_supported(nodes: dict[str, Any]) -> None:
    for name, node in nodes.items():
        kind = _kind(node)
        if kind in _NEURONS or kind in _CHAIN or kind in ("Input", "Output"):
            continue
        why = {
            "IF": "a non-leaky integrate-and-fire neuron (jaxsnn's LIF needs a finite tau)",
            "I": "a non-leaky integrator (jaxsnn's LeakyIntegrator needs a finite tau)",
            "Threshold": "a bare threshold (no membrane)",
        }.get(kind, "no jaxsnn equivalent (jaxsnn populations are flat vectors of neurons)")
        raise ValueError(f"NIR node '{name}' ({kind}) cannot be imported: {why}")


def from_nir(graph: nir.NIRGraph, *, dt_ms: float, dtype=None) -> Network:
    """A jaxsnn network from a NIR graph (conventions and limits in the module docstring).

    Each top-level `Input` node becomes a `SpikeInput` of the same name (pass its spikes
    as `simulate(..., inputs={name: spikes})`); each LIF/CubaLIF/LI/CubaLI node a
    population of the same name; each path from an input or neuron node through Linear,
    Affine (zero bias), Scale and Delay nodes to a neuron node a dense projection (Delta
    into LIF/LI, ExpCurrent into CubaLIF/CubaLI). `output_populations(graph)` names the
    populations behind the `Output` nodes.

    Args:
        graph: the graph (e.g. from `nir.read(path)`).
        dt_ms: the step (ms) the network will be simulated with; it sets the weights
            (module docstring), so simulate with the same dt.
        dtype: dtype of the weights and per-neuron parameters (None: default float).

    Returns:
        The network (populations in the graph's node order).

    Raises:
        ValueError: for a node or structure jaxsnn cannot represent, naming it.
        ImportError: if `nir` is not installed.
    """
    _nir()
    _check_dt(dt_ms)
    dtype = jax.dtypes.canonicalize_dtype(jnp.float64 if dtype is None else dtype)
    top_inputs = {k for k, v in graph.nodes.items() if _kind(v) == "Input"}
    nodes, edges = _flatten(graph)
    _check_supported(nodes)
    preds: dict[str, list[str]] = defaultdict(list)
    for a, b in edges:
        preds[b].append(a)
    neurons = [k for k, v in nodes.items() if _kind(v) in _NEURONS]
    sources = top_inputs | set(neurons)
    paths = {k: _paths(k, nodes, preds, sources) for k in neurons}
    sizes = {k: _size(k, nodes[k], paths[k]) for k in neurons}
    for k in top_inputs:
        shape = tuple(np.asarray(nodes[k].input_type["input"]).tolist())
        if len(shape) != 1:
            raise ValueError(f"NIR Input node '{k}' must be 1-D (n,), got shape {shape}")
        sizes[k] = int(shape[0])

    populations, projections, synapse_of = [], [], {}
    for name in neurons:
        neuron, synapse_of[name] = _neuron_from(name, nodes[name], dtype)
        populations.append(Population(name, sizes[name], neuron))
    for post in neurons:
        node = nodes[post]
        gain = np.broadcast_to(_node_gain(node, dt_ms), (sizes[post],))
        if synapse_of[post] is ExpCurrent:
            synapse = ExpCurrent(_compact(_ms(node.tau_syn), dtype))
        else:
            synapse = Delta()
        for pre, w, pre_delay, post_delay in paths[post]:
            if pre in neurons and _kind(nodes[pre]) in ("LI", "CubaLI"):
                raise ValueError(
                    f"NIR edge {pre} -> {post}: the source is a leaky integrator, which "
                    "passes on its potential; jaxsnn projections carry spikes"
                )
            n_pre, n_post = sizes[pre], sizes[post]
            if w is None:
                w = np.eye(n_post, n_pre) if n_pre == n_post else None
            if w is None or w.shape != (n_post, n_pre):
                shape = None if w is None else w.shape
                raise ValueError(
                    f"NIR path {pre} -> {post}: weight shape {shape} does not map {n_pre} "
                    f"inputs to {n_post} neurons (NIR weights are (out, in))"
                )
            weights = jnp.asarray((w * gain[:, None]).T, dtype)
            try:
                pre_d = np.broadcast_to(pre_delay, (n_pre,))
                post_d = np.broadcast_to(post_delay, (n_post,))
            except ValueError as err:
                raise ValueError(
                    f"NIR path {pre} -> {post}: a Delay's shape does not match the channels "
                    f"it delays ({n_pre} inputs, {n_post} neurons)"
                ) from err
            delay = _ms(pre_d[:, None] + post_d[None, :])
            if not np.any(delay):
                delay_ms = None
            elif np.all(delay == delay.flat[0]):
                delay_ms = float(delay.flat[0])
            else:
                delay_ms = jnp.asarray(delay, dtype)
            projections.append(
                Projection(
                    pre, post, synapse, weights, DenseLayout(n_pre, n_post), Dense(), 0, delay_ms
                )
            )
    inputs = [SpikeInput(k, sizes[k]) for k in graph.nodes if k in top_inputs]
    return Network(populations, projections, inputs)


def output_populations(graph: nir.NIRGraph) -> dict[str, str]:
    """The population behind each top-level `Output` node: {output node: population}.

    Raises:
        ValueError: if an output is fed by something other than one neuron node.
    """
    _nir()
    nodes, edges = _flatten(graph)
    preds: dict[str, list[str]] = defaultdict(list)
    for a, b in edges:
        preds[b].append(a)
    out = {}
    for name, node in graph.nodes.items():
        if _kind(node) != "Output":
            continue
        src = preds[name]
        while len(src) == 1 and _kind(nodes[src[0]]) in ("Input", "Output"):
            src = preds[src[0]]
        if len(src) != 1 or _kind(nodes[src[0]]) not in _NEURONS:
            raise ValueError(
                f"NIR Output node '{name}' must be fed by one neuron node, got {src}; "
                "jaxsnn records populations"
            )
        out[name] = src[0]
    return out

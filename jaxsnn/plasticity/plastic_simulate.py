"""`plastic_simulate`: dynamics and plasticity in one `lax.scan`.

The scan carry holds `(NetworkState, PlasticState)`: the network state, the current
weights of the plastic projections and their traces. Every step

1. puts the current plastic weights into the network (`Projection.with_weights`) and
   calls the core `jaxsnn.network_step` (so the dynamics are exactly those of
   `jaxsnn.simulate`);
2. for each plastic projection, hands the rule the presynaptic spikes that arrived at the
   synapses this step (input spikes of this step, or the presynaptic population's spikes
   of the previous step, as in `network_step`) and the postsynaptic spikes emitted this
   step, and gets the update `dw` (zero where no synapse exists, so sparse ELL and masked
   dense projections keep their structure);
3. online mode: applies `rule.bound(w, dw)` to the weights at once (weights change within
   the trial); accumulated mode: adds the raw `dw` to a running sum, the weights stay
   fixed, and the sum is bounded once at the end.

`PlasticState.dw` is the trial's total update; `apply_updates(network, rules, dw)`
returns the network with `w + dw` (batch-averaged on request). `learning=False` (or a
rule with η = 0) gives exactly the dynamics of `jaxsnn.simulate`, without rebuilding
the network.

Batches: `jax.vmap(plastic_simulate)`-style per-trial learning is
`plastic_simulate_batch(..., average=False)`; `average=True` shares one set of weights
across the batch and applies the batch-mean update (every step online, once per trial
accumulated).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, PRNGKeyArray

from .._checks import check_int
from ..inputs import AbstractSpikeInput, PoissonInput
from ..network import Network, NetworkState, network_step
from ..simulate import Record, check_dt, check_inputs
from .rules import AbstractPlasticityRule
from .traces import SynapseLayout, Traces

Mode = Literal["online", "accumulate"]
RuleMap = Mapping[tuple[str, str] | int, AbstractPlasticityRule]


class PlasticState(eqx.Module):
    """State of the plastic projections (carried by the scan next to `NetworkState`).

    Attributes:
        weights: per plastic projection, its current weights (shaped like
            `Projection.weights`); fixed during an accumulated-mode trial.
        traces: per plastic projection, the rule's `Traces`.
        dw: per plastic projection, the total update of the run so far (online: the sum
            of the applied updates; accumulated: the raw sum, bounded at the end of
            `plastic_simulate`).
    """

    weights: tuple[Array, ...]
    traces: tuple[Traces, ...]
    dw: tuple[Array, ...]


def resolve_rules(network: Network, rules: RuleMap) -> tuple[tuple[int, ...], tuple]:
    """Projection indices and rules, in the network's projection order.

    Args:
        network: the network.
        rules: maps a projection, given as `(pre, post)` names or its index in
            `network.projections`, to its plasticity rule.

    Raises:
        ValueError: unknown projection, duplicate, or a rule that is not a rule.
    """
    if not isinstance(rules, Mapping) or not rules:
        raise ValueError(f"rules must be a non-empty mapping (pre, post) -> rule, got {rules!r}")
    out = {}
    for name, rule in rules.items():
        if isinstance(name, int):
            if not 0 <= name < len(network.projections):
                raise ValueError(
                    f"rules: projection index {name} out of range [0, {len(network.projections)})"
                )
            idx = name
        else:
            found = [i for i, p in enumerate(network.projections) if (p.pre, p.post) == tuple(name)]
            if not found:
                have = [(p.pre, p.post) for p in network.projections]
                raise ValueError(f"rules: no projection {name!r} in the network; have {have}")
            idx = found[0]
        if not isinstance(rule, AbstractPlasticityRule):
            raise ValueError(
                f"rules[{name!r}] must be a plasticity rule, got {type(rule).__name__}"
            )
        if idx in out:
            raise ValueError(f"rules: projection {name!r} given twice")
        out[idx] = rule
    indices = tuple(sorted(out))
    return indices, tuple(out[i] for i in indices)


def resolve_differentiable(network: Network, rules: RuleMap, differentiable) -> tuple[int, ...]:
    """Projection indices whose updates carry gradients: all plastic ones for True, none
    for False, or those named (as in `rules`) in a collection."""
    indices, _ = resolve_rules(network, rules)
    if differentiable is True:
        return indices
    if differentiable is False:
        return ()
    chosen, _ = resolve_rules(network, {name: rules[name] for name in differentiable})
    return chosen


def init_plastic_state(network: Network, rules: RuleMap, dtype=None) -> PlasticState:
    """Weights taken from the network, zero traces, zero accumulated update."""
    indices, rule_list = resolve_rules(network, rules)
    projs = [network.projections[i] for i in indices]
    return PlasticState(
        weights=tuple(p.weights for p in projs),
        traces=tuple(
            r.init(p.n_pre, p.n_post, p.weights.dtype if dtype is None else dtype)
            for p, r in zip(projs, rule_list, strict=True)
        ),
        dw=tuple(jnp.zeros_like(p.weights) for p in projs),
    )


def with_plastic_weights(
    network: Network, indices: tuple[int, ...], weights: tuple[Array, ...]
) -> Network:
    """The network with projection `indices[m]` carrying `weights[m]`."""
    projections = list(network.projections)
    for i, w in zip(indices, weights, strict=True):
        projections[i] = projections[i].with_weights(w)
    return eqx.tree_at(lambda n: n.projections, network, tuple(projections))


def apply_updates(
    network: Network, rules: RuleMap, dw: tuple[Array, ...], *, average: bool = False
) -> Network:
    """The network with `w + dw` on each plastic projection.

    Args:
        network: the network.
        rules: the same mapping given to `plastic_simulate`.
        dw: `PlasticState.dw`; with `average=True` each entry has a leading batch axis
            and the batch mean is applied (bounded by the rule for the current weights).
        average: average a batch of per-trial updates.
    """
    indices, rule_list = resolve_rules(network, rules)
    if len(dw) != len(indices):
        raise ValueError(f"dw must hold {len(indices)} updates (one per rule), got {len(dw)}")
    new = []
    for i, r, d in zip(indices, rule_list, dw, strict=True):
        w = network.projections[i].weights
        if average:
            d = r.bound(w, jnp.mean(d, axis=0))
        if d.shape != w.shape:
            raise ValueError(
                f"dw for projection {i} must have shape {w.shape}, got {d.shape}"
                + (" (pass average=True for a batch)" if d.shape[1:] == w.shape else "")
            )
        new.append((w + d).astype(w.dtype))
    return with_plastic_weights(network, indices, tuple(new))


def _checked(network, state, n_steps, dt_ms, key, inputs, record, mode, allow_large_dt):
    check_int("n_steps", n_steps, minimum=1)
    if not isinstance(dt_ms, int | float):
        raise ValueError(f"dt_ms must be a Python float, got {type(dt_ms).__name__}")
    check_dt(network, float(dt_ms), allow_large_dt)
    if mode not in ("online", "accumulate"):
        raise ValueError(f"mode must be 'online' or 'accumulate', got {mode!r}")
    if not isinstance(record, Record):
        raise ValueError(f"record must be a Record, got {type(record).__name__}")
    if n_steps % record.every:
        raise ValueError(f"n_steps={n_steps} must be a multiple of Record.every={record.every}")
    if key is None:
        if any(isinstance(i, PoissonInput) for i in network.inputs):
            raise ValueError("this network has Poisson inputs: pass key=jax.random.key(...)")
        key = jr.key(0)
    return key, record.resolve(network)


def plastic_simulate(
    network: Network,
    state: NetworkState,
    n_steps: int,
    *,
    rules: RuleMap,
    dt_ms: float,
    key: PRNGKeyArray | None = None,
    inputs: Mapping[str, Array] | None = None,
    record: Record = Record(),
    mode: Mode = "online",
    learning: bool = True,
    differentiable: bool | Collection = False,
    plastic_state: PlasticState | None = None,
    allow_large_dt: bool = False,
) -> tuple[NetworkState, PlasticState, dict]:
    """Simulate `n_steps` with the projections in `rules` plastic, as one `lax.scan`.

    Args:
        network: the network (its plastic projections' weights are the start weights
            unless `plastic_state` is given).
        state: the network state to start from.
        n_steps: number of steps (Python int).
        rules: `{(pre, post) or projection index: rule}`.
        dt_ms: step length (ms), as in `jaxsnn.simulate`.
        key: PRNG key for Poisson inputs (as in `jaxsnn.simulate`).
        inputs: time-first input data (as in `jaxsnn.simulate`).
        record: what to record (as in `jaxsnn.simulate`); the recording also holds
            "w_mean": per window, the mean weight over the existing synapses of each
            plastic projection (a tuple).
        mode: "online" (weights change every step) or "accumulate" (weights fixed,
            updates summed and bounded at the end of the trial).
        learning: False switches plasticity off (no update, no traces): the dynamics
            are then exactly those of `jaxsnn.simulate`.
        differentiable: if False (default) updates and traces are under `stop_gradient`,
            so gradients see the weights but not the plasticity; True lets gradients flow
            through the traces and updates (surrogate spikes) of every plastic
            projection; a collection of projection keys (as in `rules`) only of those.
        plastic_state: continue from a previous `PlasticState` (weights, traces); its `dw`
            keeps accumulating.
        allow_large_dt: skip the dt check.

    Returns:
        `(final_state, plastic_state, recording)`. `plastic_state.weights` are the weights
        at the end (online) or the unchanged weights (accumulate); `plastic_state.dw` is
        the total update of the run: `apply_updates(network, rules, plastic_state.dw)`.

    Raises:
        ValueError: bad arguments (as `jaxsnn.simulate`, plus unknown projections/rules).
    """
    key, record = _checked(
        network, state, n_steps, dt_ms, key, inputs, record, mode, allow_large_dt
    )
    inputs = dict(inputs or {})
    check_inputs(network, inputs, n_steps, float(dt_ms))
    if not isinstance(state, NetworkState) or state.v.shape != (network.n_neurons,):
        got = state.v.shape if isinstance(state, NetworkState) else type(state).__name__
        raise ValueError(f"state must be a NetworkState for {network.n_neurons} neurons, got {got}")
    indices, rule_list = resolve_rules(network, rules)
    differentiable = resolve_differentiable(network, rules, differentiable)
    if plastic_state is None:
        plastic_state = init_plastic_state(network, rules, state.v.dtype)
    return _run(
        network, state, plastic_state, inputs, key, indices, rule_list, n_steps, float(dt_ms),
        record, mode, learning, differentiable, False,
    )  # fmt: skip


def plastic_simulate_batch(
    network: Network,
    states: NetworkState,
    n_steps: int,
    *,
    rules: RuleMap,
    dt_ms: float,
    keys: PRNGKeyArray,
    inputs: Mapping[str, Array] | None = None,
    record: Record = Record(),
    mode: Mode = "online",
    average: bool = True,
    learning: bool = True,
    differentiable: bool | Collection = False,
    plastic_state: PlasticState | None = None,
    allow_large_dt: bool = False,
) -> tuple[NetworkState, PlasticState, dict]:
    """`plastic_simulate` for a batch of B trials (vmap inside one scan).

    Args:
        states: batched `NetworkState` (leading axis B), e.g.
            `jax.vmap(lambda _: init_state(net))(jnp.arange(B))`.
        keys: (B,) PRNG keys, one per trial.
        inputs: name -> (B, n_steps, n) arrays.
        average: True: one set of weights shared by the batch; online mode applies the
            batch-mean update every step, accumulated mode returns the bounded batch-mean
            update. False: independent trials (each its own weights, as a vmap of
            `plastic_simulate`).
        plastic_state: with `average=True` an unbatched state (shared weights), else a
            batched one (or None for the network's weights).
        Other arguments as in `plastic_simulate`.

    Returns:
        `(final_states, plastic_state, recording)`, states and recordings with a leading
        batch axis; `plastic_state` shared (average=True; its traces are per trial) or
        batched (average=False).
    """
    key0 = keys[0] if keys.ndim else keys
    _, record = _checked(
        network, states, n_steps, dt_ms, key0, inputs, record, mode, allow_large_dt
    )
    inputs = dict(inputs or {})
    b = keys.shape[0]
    for name, x in inputs.items():
        if jnp.shape(x)[:1] != (b,):
            raise ValueError(
                f"inputs['{name}'] must have a leading batch axis of size {b}; got {jnp.shape(x)}"
            )
        check_inputs(network, {name: x[0]}, n_steps, float(dt_ms))
    if states.v.shape != (b, network.n_neurons):
        raise ValueError(
            f"states must be a batch of {b} NetworkStates for {network.n_neurons} neurons; "
            f"got v of shape {states.v.shape}"
        )
    indices, rule_list = resolve_rules(network, rules)
    differentiable = resolve_differentiable(network, rules, differentiable)
    if not average:
        if plastic_state is None:
            ps = init_plastic_state(network, rules, states.v.dtype)
            plastic_state = jax.tree.map(lambda x: jnp.broadcast_to(x, (b,) + x.shape), ps)

        def one(state, ps, inp, key):
            return _run(
                network, state, ps, inp, key, indices, rule_list, n_steps, float(dt_ms),
                record, mode, learning, differentiable, False,
            )  # fmt: skip

        return eqx.filter_vmap(one)(states, plastic_state, inputs, keys)
    if plastic_state is None:
        plastic_state = init_plastic_state(network, rules, states.v.dtype)
    traces = jax.tree.map(lambda x: jnp.broadcast_to(x, (b,) + x.shape), plastic_state.traces)
    plastic_state = eqx.tree_at(lambda p: p.traces, plastic_state, traces)
    return _run(
        network, states, plastic_state, inputs, keys, indices, rule_list, n_steps, float(dt_ms),
        record, mode, learning, differentiable, True,
    )  # fmt: skip


def _trial_step(
    network, indices, rules, layouts, weights, w_rule, state, traces, data_t, key, dt_ms,
    learning, differentiable,
):  # fmt: skip
    """One step of one trial: `network_step` with the plastic weights, then each rule's
    raw update computed against `w_rule`. Returns `(state, traces, raw_dws, sources)`."""
    net = with_plastic_weights(network, indices, weights)
    new_state, sources = network_step(net, state, data_t, dt_ms=dt_ms, key=key)
    if not learning:
        return new_state, traces, tuple(jnp.zeros_like(w) for w in weights), sources
    # `differentiable` is the tuple of projection indices whose updates keep gradients
    spike_inputs = {i.name for i in network.inputs if isinstance(i, AbstractSpikeInput)}
    dws, new_traces = [], []
    for i, r, lay, w, tr in zip(indices, rules, layouts, w_rule, traces, strict=True):
        p = network.projections[i]
        if p.pre in spike_inputs:
            s_pre = sources[p.pre]
        else:
            s_pre = state.spikes[network.slice(p.pre)]  # arrives one step after emission
        dw, tr = r.update(w, tr, s_pre, sources[p.post], layout=lay, dt_ms=dt_ms)
        sg = (lambda x: x) if i in differentiable else jax.lax.stop_gradient
        dws.append(sg(dw))
        new_traces.append(jax.tree.map(sg, tr))
    return new_state, tuple(new_traces), tuple(dws), sources


def plastic_step(
    network: Network,
    rules: RuleMap,
    state: NetworkState,
    plastic_state: PlasticState,
    data_t: Mapping[str, Array],
    *,
    dt_ms: float,
    key: PRNGKeyArray,
    learning: bool = True,
    differentiable: bool | Collection = False,
) -> tuple[NetworkState, PlasticState, dict[str, Array]]:
    """One online-plasticity step of one trial, for use inside a user's own `lax.scan`
    (e.g. next to a readout trained by optax, see `jaxsnn.plasticity.hybrid`).

    Args:
        network: the network (the plastic projections' weights come from `plastic_state`).
        rules: `{(pre, post) or index: rule}` as in `plastic_simulate`.
        state: network state.
        plastic_state: weights, traces and summed update of the plastic projections.
        data_t: this step's input data (name -> (n,) array).
        dt_ms: step length (ms).
        key: the simulation key (the step draws from `fold_in(key, state.t)`).
        learning: False leaves weights and traces unchanged.
        differentiable: let gradients flow through the updates and traces (True, False
            or a collection of projection keys, as in `plastic_simulate`).

    Returns:
        `(state, plastic_state, sources)`, `sources` as returned by `jaxsnn.network_step`.
    """
    indices, rule_list = resolve_rules(network, rules)
    differentiable = resolve_differentiable(network, rules, differentiable)
    layouts = [SynapseLayout.of(network.projections[i]) for i in indices]
    w = plastic_state.weights
    state, traces, raw, sources = _trial_step(
        network, indices, rule_list, layouts, w, w, state, plastic_state.traces, data_t, key,
        dt_ms, learning, differentiable,
    )  # fmt: skip
    if not learning:
        return state, plastic_state, sources
    dws = tuple(r.bound(wi, d) for r, wi, d in zip(rule_list, w, raw, strict=True))
    weights = tuple(wi + d for wi, d in zip(w, dws, strict=True))
    total = tuple(t + d for t, d in zip(plastic_state.dw, dws, strict=True))
    return state, PlasticState(weights, traces, total), sources


@eqx.filter_jit
def _run(
    network, state, ps, inputs, key, indices, rules, n_steps, dt_ms, record, mode, learning,
    differentiable, batched,
):  # fmt: skip
    every = record.every
    windows = n_steps // every
    time_axis = 1 if batched else 0

    def windowed(v):
        v = jnp.moveaxis(v, time_axis, 0)
        return jnp.reshape(v, (windows, every) + v.shape[1:])

    xs = {k: windowed(v) for k, v in inputs.items()}
    slices = {p.name: network.slice(p.name) for p in network.populations}
    layouts = [SynapseLayout.of(network.projections[i]) for i in indices]
    w_start = ps.weights

    def trial_step(weights, w_rule, state, traces, data_t, key):
        """Dynamics of one trial plus the raw updates (rules see `w_rule`)."""
        return _trial_step(
            network, indices, rules, layouts, weights, w_rule, state, traces, data_t, key,
            dt_ms, learning, differentiable,
        )  # fmt: skip

    if batched:
        step_fn = jax.vmap(trial_step, in_axes=(None, None, 0, 0, 0, 0))
    else:
        step_fn = trial_step

    def one_step(carry, data_t):
        (state, ps), counts = carry
        w_rule = ps.weights if mode == "online" else w_start
        state, traces, raw, _ = step_fn(ps.weights, w_rule, state, ps.traces, data_t, key)
        if batched:
            raw = tuple(jnp.mean(d, axis=0) for d in raw)
        if mode == "online" and learning:
            dws = tuple(r.bound(w, d) for r, w, d in zip(rules, ps.weights, raw, strict=True))
            weights = tuple(w + d for w, d in zip(ps.weights, dws, strict=True))
        else:
            dws, weights = raw, ps.weights
        total = tuple(t + d for t, d in zip(ps.dw, dws, strict=True))
        return ((state, PlasticState(weights, traces, total)), counts + state.spikes), None

    def one_window(carry, data_w):
        (state, ps), totals = carry
        zero = jnp.zeros_like(state.spikes)
        ((state, ps), counts), _ = jax.lax.scan(one_step, ((state, ps), zero), data_w, length=every)
        out = {}
        if record.spikes:
            out["spikes"] = {n: counts[..., slices[n]] for n in record.spikes}
        if record.voltages:
            out["v"] = {
                n: state.v[..., slices[n]]
                if idx is None
                else state.v[..., slices[n]][..., jnp.asarray(idx)]
                for n, idx in record.voltages
            }
        if record.rates:
            scale = 1000.0 / (every * dt_ms)
            out["rates_hz"] = {
                n: jnp.mean(counts[..., slices[n]], axis=-1) * scale for n in record.rates
            }
        out["w_mean"] = tuple(
            jnp.sum(jnp.where(lay.exists(w), w, 0))
            / jnp.maximum(jnp.sum(lay.exists(w), dtype=w.dtype), 1)
            for lay, w in zip(layouts, ps.weights, strict=True)
        )
        return ((state, ps), totals + counts), out

    totals0 = jnp.zeros_like(state.spikes)
    ((state, ps), totals), rec = jax.lax.scan(
        one_window, ((state, ps), totals0), xs, length=windows
    )
    if batched:
        # per-window entries come out as (windows, B, ...): put the batch first
        for k in ("spikes", "v", "rates_hz"):
            if k in rec:
                rec[k] = jax.tree.map(lambda x: jnp.moveaxis(x, 0, 1), rec[k])
    if record.counts:
        rec["counts"] = {n: totals[..., slices[n]] for n in record.counts}
    if mode == "accumulate" and learning:
        dw = tuple(r.bound(w, d) for r, w, d in zip(rules, w_start, ps.dw, strict=True))
        ps = PlasticState(ps.weights, ps.traces, dw)
    return state, ps, rec

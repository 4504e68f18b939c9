"""Plasticity inside `simulate`: which projections learn, by which rule, and how.

`simulate(..., plasticity=Plasticity({("E", "E"): STDP(...)}))` runs the rules in the
same `lax.scan` as the dynamics. Every step

1. the network steps with the current weights of the plastic projections;
2. each rule gets the presynaptic spikes that arrived at its synapses in this step (input
   spikes of this step, or the presynaptic population's spikes of the previous step,
   after the projection's delay) and the postsynaptic spikes emitted in this step, and
   returns its update `dw` (zero where no synapse exists, so sparse and masked dense
   projections keep their structure);
3. online mode: `rule.bound(w, dw)` is applied to the weights at once (weights change
   within the run); accumulated mode: the raw `dw` is summed, the weights stay fixed, and
   the sum is bounded once at the end of the run (one run = one trial).

The run's total update comes back as `recording.updates`: a pytree shaped like the
network with the update at each plastic projection's weights and None elsewhere, as
optax's updates are shaped like the parameters, so `eqx.apply_updates(network, updates)`
gives the network after learning (and composes with optax transformations). The rules'
traces are part of the state (`NetworkState.plasticity`), so a run continued from a
returned state (with the updated network) continues the traces.

Batches: vmap `simulate` over trials. Each trial learns on its own (average the updates
afterwards for a batch update); with `batch_axis="trials"` and
`jax.vmap(..., axis_name="trials")` the trials share one set of weights, and every step
(online) or the run's total (accumulated) is averaged over the batch (`lax.pmean`) before
it is bounded and applied.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array

from .rules import AbstractPlasticityRule
from .traces import Traces

Mode = Literal["online", "accumulate"]
ProjectionKey = tuple[str, str] | int


def _key_tuple(keys) -> tuple:
    return tuple(k if isinstance(k, int) else tuple(k) for k in keys)


class Plasticity(eqx.Module):
    """Plasticity rules for some projections of a network: the `plasticity` option of
    `simulate` (module docstring).

    Attributes:
        rules: one rule per plastic projection.
        keys: the projections, as `(pre, post)` names or indices in `network.projections`.
        mode: "online" (weights change every step) or "accumulate" (weights fixed,
            updates summed and bounded at the end of the run).
        differentiable: if False (default) updates and traces are under
            `stop_gradient`, so gradients see the weights but not the plasticity; True lets
            gradients flow through the traces and updates (surrogate spikes) of every
            plastic projection; a tuple of projection keys only through those.
        batch_axis: name of a `jax.vmap` axis over trials that share one set of weights
            (updates averaged over it), or None for independent trials.
    """

    rules: tuple[AbstractPlasticityRule, ...]
    keys: tuple = eqx.field(static=True, converter=_key_tuple)
    mode: Mode = eqx.field(default="online", static=True)
    differentiable: bool | tuple = eqx.field(default=False, static=True)
    batch_axis: str | None = eqx.field(default=None, static=True)

    def __init__(
        self,
        rules: Mapping[ProjectionKey, AbstractPlasticityRule],
        *,
        mode: Mode = "online",
        differentiable: bool | Sequence[ProjectionKey] = False,
        batch_axis: str | None = None,
    ):
        if not isinstance(rules, Mapping) or not rules:
            raise ValueError(
                f"rules must be a non-empty mapping (pre, post) -> rule, got {rules!r}"
            )
        for name, rule in rules.items():
            if not isinstance(rule, AbstractPlasticityRule):
                raise ValueError(
                    f"rules[{name!r}] must be a plasticity rule, got {type(rule).__name__}"
                )
        if mode not in ("online", "accumulate"):
            raise ValueError(f"mode must be 'online' or 'accumulate', got {mode!r}")
        self.rules = tuple(rules.values())
        self.keys = tuple(rules.keys())
        self.mode = mode
        self.differentiable = (
            differentiable if isinstance(differentiable, bool) else _key_tuple(differentiable)
        )
        self.batch_axis = batch_axis

    def indices(self, network) -> tuple[int, ...]:
        """The projection index of each rule, in rule order.

        Raises:
            ValueError: unknown or repeated projection, or one with per-synapse delays
                (its presynaptic spikes arrive at different times at each synapse).
        """
        out = [self._index(network, key) for key in self.keys]
        seen = set()
        for key, i in zip(self.keys, out, strict=True):
            if i in seen:
                raise ValueError(f"rules: projection {key!r} given twice")
            seen.add(i)
            if network.projections[i].per_synapse_delays:
                raise ValueError(
                    f"rules: projection {network.projections[i].name} has per-synapse delays; "
                    "plasticity needs one arrival time per presynaptic spike (use one delay "
                    "for the projection)"
                )
        return tuple(out)

    @staticmethod
    def _index(network, key) -> int:
        if isinstance(key, int):
            if not 0 <= key < len(network.projections):
                raise ValueError(
                    f"rules: projection index {key} out of range [0, {len(network.projections)})"
                )
            return key
        found = [i for i, p in enumerate(network.projections) if (p.pre, p.post) == tuple(key)]
        if not found:
            have = [(p.pre, p.post) for p in network.projections]
            raise ValueError(f"rules: no projection {key!r} in the network; have {have}")
        return found[0]

    def differentiable_indices(self, network) -> tuple[int, ...]:
        """The projection indices whose updates and traces carry gradients."""
        if self.differentiable is True:
            return self.indices(network)
        if self.differentiable is False:
            return ()
        return tuple(self._index(network, key) for key in self.differentiable)

    def init(self, network, dtype) -> tuple[Traces, ...]:
        """Zero traces, one per rule (the `NetworkState.plasticity` of a fresh run)."""
        return tuple(
            rule.init(network.projections[i].n_pre, network.projections[i].n_post, dtype)
            for rule, i in zip(self.rules, self.indices(network), strict=True)
        )

    def learn(
        self,
        network,
        weights: Sequence[Array],
        traces: Sequence[Traces],
        arrivals: Sequence[Array],
        spikes: Mapping[str, Array],
        *,
        dt_ms: float,
    ) -> tuple[tuple[Array, ...], tuple[Traces, ...]]:
        """One step of every rule: the raw (unbounded) updates, batch-averaged when
        `batch_axis` is set, and the new traces.

        Args:
            network: the network.
            weights: per rule, the weights the rule sees (the current ones online, the
                run's start weights accumulated).
            traces: per rule, its traces.
            arrivals: per projection, the presynaptic spikes that arrived in this step.
            spikes: by population name, the spikes emitted in this step.
            dt_ms: step length (ms).
        """
        chosen = self.differentiable_indices(network)
        dws, new_traces = [], []
        for rule, i, w, tr in zip(self.rules, self.indices(network), weights, traces, strict=True):
            proj = network.projections[i]
            dw, tr = rule.update(
                w, tr, arrivals[i], spikes[proj.post], layout=proj.layout, dt_ms=dt_ms
            )
            if i not in chosen:
                dw, tr = jax.lax.stop_gradient((dw, tr))
            if self.batch_axis is not None and self.mode == "online":
                dw = jax.lax.pmean(dw, self.batch_axis)
            dws.append(dw)
            new_traces.append(tr)
        return tuple(dws), tuple(new_traces)

    def bound(self, weights: Sequence[Array], dws: Sequence[Array]) -> tuple[Array, ...]:
        """Each rule's `bound(w, dw)`."""
        return tuple(r.bound(w, d) for r, w, d in zip(self.rules, weights, dws, strict=True))

    def total(self, weights: Sequence[Array], summed: Sequence[Array]) -> tuple[Array, ...]:
        """The run's update from the per-step updates summed over the run: as is online
        (each step was bounded when applied), batch-averaged (with `batch_axis`) and
        bounded once accumulated."""
        if self.mode == "online":
            return tuple(summed)
        if self.batch_axis is not None:
            summed = [jax.lax.pmean(d, self.batch_axis) for d in summed]
        return self.bound(weights, summed)

    def updates(self, network, dws: Sequence[Array]):
        """The network-shaped updates pytree: `dws` at the plastic projections' weights,
        None at every other leaf (so `eqx.apply_updates(network, updates)` applies it)."""
        empty = jax.tree.map(lambda _: None, network)
        indices = self.indices(network)
        return eqx.tree_at(
            lambda n: [n.projections[i].weights for i in indices],
            empty,
            [
                d.astype(network.projections[i].weights.dtype)
                for i, d in zip(indices, dws, strict=True)
            ],
            is_leaf=lambda x: x is None,
        )

    def updates_of(self, network, updates) -> tuple[Array, ...]:
        """The update arrays of a network-shaped `updates`, one per rule."""
        return tuple(updates.projections[i].weights for i in self.indices(network))

    def batch_mean(self, network, updates):
        """The batch mean of per-trial updates (leading batch axis), bounded by each rule
        for the network's weights: one update for the shared weights of a batch."""
        indices = self.indices(network)
        weights = [network.projections[i].weights for i in indices]
        mean = [jnp.mean(d, axis=0) for d in self.updates_of(network, updates)]
        return self.updates(network, self.bound(weights, mean))


def weight_means(network, plasticity: Plasticity, weights: Sequence[Array]) -> dict:
    """Mean weight over the existing synapses of each plastic projection, by (pre, post)."""
    out = {}
    for i, w in zip(plasticity.indices(network), weights, strict=True):
        proj = network.projections[i]
        exists = proj.layout.exists()
        count = jnp.maximum(jnp.sum(exists, dtype=w.dtype), 1)
        out[(proj.pre, proj.post)] = jnp.sum(jnp.where(exists, w, 0)) / count
    return out

"""How presynaptic activity becomes postsynaptic drive: `drive_j = Σ_i w_ij · s_i`.

A propagation strategy is a small module chosen per projection; it works on the weights
and the projection's storage layout (`jaxsnn.layout`):

- `Dense()`: a matrix-vector product with the (n_pre, n_post) weight matrix. Best for
  small or densely connected layers and for gradient training of small networks.
- `Scatter()`: for sparse (ELL) storage, every stored synapse adds `w · s_pre` to its
  target with a scatter-add; work is proportional to the number of synapses.
- `Event()`: event-driven (work proportional to the spikes that occur), for either
  storage. Only the rows of the neurons that spiked are gathered and added to their
  targets; see `Event` for how the work is bounded without dynamic shapes.

All strategies compute the same sum (up to float summation order) and are
differentiable in both the signal and the weights. The engine hands a strategy all the
projections that share a presynaptic signal at once (`drives`), so a strategy can share
work between them (`Event` lists the spikes once).
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

import equinox as eqx
from jaxtyping import Array, Float

from ._event import default_buckets, event_fn, native_usable, sizes_for
from .layout import AbstractLayout


class AbstractPropagation(eqx.Module):
    """Computes the drives of projections from their presynaptic signal."""

    @abc.abstractmethod
    def drives(
        self,
        weights: Sequence[Float[Array, "n_pre k"]],
        layouts: Sequence[AbstractLayout],
        s_pre: Float[Array, " n_pre"],
    ) -> tuple[Float[Array, " n_post"], ...]:
        """The drive of each projection (weights and layout, in order) given the signal
        `s_pre` they share (weight units: mV or conductance)."""

    def drives_of_signals(
        self,
        groups: Sequence[
            tuple[
                Sequence[Float[Array, "n_pre k"]], Sequence[AbstractLayout], Float[Array, " n_pre"]
            ]
        ],
    ) -> list[tuple[Float[Array, " n_post"], ...]]:
        """`drives` of several signals at once: for each `(weights, layouts, s_pre)` group,
        its projections' drives. The engine hands a strategy every group of a step that
        uses it, so a strategy can do a step's work in one pass (see `Event`)."""
        return [self.drives(w, lays, s) for w, lays, s in groups]

    def __call__(
        self,
        weights: Float[Array, "n_pre k"],
        layout: AbstractLayout,
        s_pre: Float[Array, " n_pre"],
    ) -> Float[Array, " n_post"]:
        """The drive of one projection."""
        return self.drives((weights,), (layout,), s_pre)[0]

    def check_layout(self, layout: AbstractLayout, name: str) -> None:
        """Raise ValueError if this strategy cannot run on the layout of projection `name`."""


class AbstractFullProduct(AbstractPropagation):
    """Every stored synapse takes part in every step (`AbstractLayout.product`)."""

    def drives(self, weights, layouts, s_pre):
        return tuple(lay.product(w, s_pre) for w, lay in zip(weights, layouts, strict=True))


class Dense(AbstractFullProduct):
    """`s_pre @ W` with dense weights of shape (n_pre, n_post)."""

    def check_layout(self, layout, name):
        if layout.targets is not None:
            raise ValueError(
                f"Dense() propagation needs dense weights; projection {name} is sparse "
                "(use layout='dense' in connect)"
            )


class Scatter(AbstractFullProduct):
    """Scatter-add of every stored synapse (sparse ELL storage, padding dropped)."""

    def check_layout(self, layout, name):
        if layout.targets is None:
            raise ValueError(
                f"Scatter() propagation needs sparse weights; projection {name} is dense "
                "(use layout='sparse' in connect)"
            )


class Event(AbstractPropagation):
    """Event-driven propagation: only the rows of presynaptic neurons that spiked are read.

    One trial: the spiking neurons are listed (a block-hierarchical compaction) and their
    rows (sparse: (k,) weights and targets; dense: (n_post,) weights) are gathered and
    scatter-added (dense: summed) into the drive. Shapes must be static under `jit`, so
    the list has a fixed length K: the smallest of `buckets` that holds this step's
    count, chosen by one `lax.switch` (with factors of 2 between buckets, at most half of
    the gathered rows are padding). No spike costs nothing; more spikes than the largest
    bucket (at most a quarter of n_pre) falls back to the full product (`Scatter` or
    `Dense`), which is then cheaper than a gather.

    Projections sharing a presynaptic signal share one event list: the engine hands them
    to `drives` at once (one compaction and one switch per source and step, which is most
    of the cost when few neurons spike).

    Under `jax.vmap` over trials (spikes batched, weights shared), a custom batching rule
    pools the (trial, neuron) spike pairs of the whole batch into one event list (one
    compaction, one gather/scatter), instead of B separate switches (which vmap would
    turn into running every branch). Batched weights fall back to the vmapped full
    product. A second, nested vmap batches that rule as plain JAX: correct, but it then
    runs every branch; vmap over one flat batch axis instead.

    Gradients: the forward pass is exact, and the derivative is that of the full product
    `Σ_i w_ij s_i`: the spike tangent goes through every synapse (so the surrogate
    gradients of neurons that did not spike are kept) and the weight tangent is weighted by
    the spikes. Those tangents cost one full product each, paid only when differentiating.

    On CPU the forward pass runs instead in a native kernel (`jaxsnn.native`: one C++
    call per projection and step that walks the rows of the neurons that spiked, for a
    single trial or a whole vmapped batch, shared or batched weights alike), when it
    could be built; the derivative stays the one above. The pure-JAX path (buckets,
    compaction, switch) serves GPUs, other dtypes, and CPUs without a C++ compiler.

    Attributes:
        buckets: increasing event-list sizes K to choose from (per trial; under vmap the
            sequence is continued by factors of 4 up to the batch's total); a static tuple.
            The default, powers of 2 from 4 to 32768, bounds the padding at 2x; sizes
            above n_pre/4 are dropped. Not used by the native kernel.
        native: use the native CPU kernel where it is available (default); False
            always runs the pure-JAX path.
    """

    buckets: tuple[int, ...] = eqx.field(static=True, default_factory=default_buckets)
    native: bool = eqx.field(static=True, default=True)

    def __check_init__(self):
        b = tuple(self.buckets)
        if not b or any(not isinstance(k, int) or k < 1 for k in b) or list(b) != sorted(set(b)):
            raise ValueError(
                f"Event.buckets must be increasing positive ints, got {self.buckets!r}"
            )
        if not isinstance(self.native, bool):
            raise ValueError(f"Event.native must be True or False, got {self.native!r}")

    def check_layout(self, layout, name):
        if not layout.event_rows:
            raise ValueError(
                f"Event() propagation needs per-synapse weights (dense or sparse storage); "
                f"projection {name} has a {type(layout).__name__} (use its own propagation)"
            )

    def drives(self, weights, layouts, s_pre):
        return self.drives_of_signals([(weights, layouts, s_pre)])[0]

    def drives_of_signals(self, groups):
        ws, tgs, lays, sources, signals = [], [], [], [], []
        for g, (weights, layouts, s_pre) in enumerate(groups):
            for lay in layouts:
                if s_pre.shape != (lay.n_pre,):
                    raise ValueError(
                        f"Event: presynaptic signal must have shape ({lay.n_pre},), "
                        f"got {s_pre.shape}"
                    )
            ws += list(weights)
            tgs += [lay.targets for lay in layouts]
            lays += [(lay.n_post, lay.targets is not None) for lay in layouts]
            sources += [g] * len(layouts)
            signals.append(s_pre)
        sizes = tuple(sizes_for(self.buckets, s.shape[0]) for s in signals)
        native = self.native and native_usable(ws, signals)
        fn = event_fn(tuple(lays), tuple(sources), sizes, native)
        out = fn(tuple(ws), tuple(tgs), tuple(signals))
        drives, start = [], 0
        for weights, _, _ in groups:
            drives.append(tuple(out[start : start + len(weights)]))
            start += len(weights)
        return drives

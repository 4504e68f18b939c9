"""How presynaptic spikes become postsynaptic drive: `drive_j = Σ_i w_ij · s_i`.

A propagation strategy is a small module chosen per projection:

- `Dense()`: a matrix-vector product with the (n_pre, n_post) weight matrix. Best for
  small or densely connected layers and for gradient training of small networks.
- `Scatter()`: for sparse (ELL) storage, every stored synapse adds `w · s_pre` to its
  target with a scatter-add; work is proportional to the number of synapses.
- `Event()`: event-driven (work proportional to the spikes that occur), for either
  storage. Only the rows of the neurons that spiked are gathered and added to their
  targets; see `Event` for how the work is bounded without dynamic shapes.

All strategies compute the same sum (up to float summation order) and are
differentiable in both the spikes and the weights.
"""

from __future__ import annotations

import abc
import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

import equinox as eqx
import jax
import jax.numpy as jnp
from jax import lax
from jaxtyping import Array, Float, Int

if TYPE_CHECKING:
    from .projection import Projection


class AbstractPropagation(eqx.Module):
    """Computes a projection's drive from presynaptic spikes."""

    @abc.abstractmethod
    def __call__(
        self, projection: Projection, s_pre: Float[Array, " n_pre"]
    ) -> Float[Array, " n_post"]:
        """Drive onto each postsynaptic neuron (weight units: mV or conductance)."""

    def check_layout(self, projection: Projection) -> None:
        """Raise ValueError if this strategy cannot run on the projection's storage."""


class Dense(AbstractPropagation):
    """`s_pre @ W` with dense weights of shape (n_pre, n_post)."""

    def __call__(self, projection, s_pre):
        return s_pre @ projection.weights

    def check_layout(self, projection):
        if projection.targets is not None:
            raise ValueError(
                f"Dense() propagation needs dense weights; projection {projection.pre}->"
                f"{projection.post} is sparse (use layout='sparse' in connect)"
            )


class Scatter(AbstractPropagation):
    """Scatter-add of every stored synapse (sparse ELL storage, padding dropped)."""

    def __call__(self, projection, s_pre):
        return _full(projection.weights, projection.targets, s_pre, projection.n_post)

    def check_layout(self, projection):
        if projection.targets is None:
            raise ValueError(
                f"Scatter() propagation needs sparse weights; projection {projection.pre}->"
                f"{projection.post} is dense (use layout='sparse' in connect)"
            )


def _default_buckets() -> tuple[int, ...]:
    return tuple(4 * 2**i for i in range(14))


class Event(AbstractPropagation):
    """Event-driven propagation: only the rows of presynaptic neurons that spiked are read.

    One trial: the spiking neurons are listed (`_compact`, a block-hierarchical
    compaction) and their rows (sparse: (k,) weights and targets; dense: (n_post,)
    weights) are gathered and scatter-added (dense: summed) into the drive. Shapes must be
    static under `jit`, so the list has a fixed length K: the smallest of `buckets` that
    holds this step's count, chosen by one `lax.switch` (with factors of 2 between
    buckets, at most half of the gathered rows are padding). No spike costs nothing; more
    spikes than the largest bucket (at most a quarter of n_pre) falls back to the full
    product (`Scatter` or `Dense`), which is then cheaper than a gather.

    Projections from the same source share one event list: `network_step` hands all the
    `Event` projections of a source to `Event.drives` at once (one compaction and one
    switch per source and step, which is most of the cost when few neurons spike).

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

    Attributes:
        buckets: increasing event-list sizes K to choose from (per trial; under vmap the
            sequence is continued by factors of 4 up to the batch's total); a static tuple.
            The default, powers of 2 from 4 to 32768, bounds the padding at 2x; sizes
            above n_pre/4 are dropped.
    """

    buckets: tuple[int, ...] = eqx.field(static=True, default_factory=_default_buckets)

    def __check_init__(self):
        b = tuple(self.buckets)
        if not b or any(not isinstance(k, int) or k < 1 for k in b) or list(b) != sorted(set(b)):
            raise ValueError(
                f"Event.buckets must be increasing positive ints, got {self.buckets!r}"
            )

    def __call__(self, projection, s_pre):
        return self.drives((projection,), s_pre)[0]

    def drives(
        self, projections: Sequence[Projection], s_pre: Float[Array, " n_pre"]
    ) -> tuple[Float[Array, " n_post"], ...]:
        """The drives of several projections from the same source, from one event list.

        Args:
            projections: projections with the same `n_pre` (their weights may differ in
                layout and dtype).
            s_pre: (n_pre,) presynaptic spikes.

        Returns:
            One (n_post,) drive per projection, in order.
        """
        n_pre = projections[0].n_pre
        for proj in projections:
            if s_pre.shape != (proj.n_pre,) or proj.n_pre != n_pre:
                raise ValueError(
                    f"projection {proj.pre}->{proj.post}: spikes must have shape "
                    f"({proj.n_pre},), got {s_pre.shape}"
                )
        layouts = tuple((p.n_post, p.targets is not None) for p in projections)
        fn = _event_fn(layouts, _sizes(self.buckets, n_pre))
        return fn(
            tuple(p.weights for p in projections), tuple(p.targets for p in projections), s_pre
        )


def _sizes(buckets: tuple[int, ...], n_events: int) -> tuple[int, ...]:
    """The bucket sizes worth compiling for at most `n_events` events: those below a
    quarter of it (above, the full product is cheaper than a gather)."""
    return tuple(k for k in buckets if 4 * k <= n_events)


def _full(weights, targets, s, n_post):
    """Σ_i w_ij s_i over every stored synapse (dense matmul or ELL scatter-add)."""
    if targets is None:
        return s @ weights
    contrib = s[:, None] * weights
    return jnp.zeros((n_post,), contrib.dtype).at[targets].add(contrib, mode="drop")


def _full_products(ws, tgs, s, layouts):
    """`_full` of every projection of a group (layouts: (n_post, sparse) each)."""
    return tuple(_full(w, tg, s, n) for w, tg, (n, _) in zip(ws, tgs, layouts, strict=True))


_BLOCK = 16


def _compact(active: Array, size: int) -> Int[Array, " size"]:
    """Indices of the True entries of `active` (at most `size` of them, in no particular
    order), padded with len(active).

    `jnp.nonzero(size=...)` is O(n) too, but its cumulative sum over the whole mask runs
    at about 10-30 ns per entry on CPU (1.6 ms per step for a 256-trial W1 batch, measured).
    Here the mask is cut into blocks of 16: the blocks holding a True entry are listed
    first (the same problem, 16 times smaller, solved recursively), then only those
    `size` blocks are ranked. Cost: one pass over the mask plus O(16·size) per level.
    """
    n = active.shape[0]
    if n <= 4 * _BLOCK:
        (idx,) = jnp.nonzero(active, size=size, fill_value=n)
        return idx.astype(jnp.int32)
    n_blocks = -(-n // _BLOCK)
    blocks = jnp.pad(active, (0, n_blocks * _BLOCK - n)).reshape(n_blocks, _BLOCK)
    counts = jnp.sum(blocks, axis=1, dtype=jnp.int32)
    which = _compact(counts > 0, size)
    flags = blocks.at[which].get(mode="fill", fill_value=False).astype(jnp.int32)
    # Explicit int32: under x64 cumsum and sum would promote to int64.
    start = jnp.cumsum(counts.at[which].get(mode="fill", fill_value=0), dtype=jnp.int32)
    ranks = (
        start[:, None]
        - flags.sum(axis=1, keepdims=True, dtype=jnp.int32)
        + jnp.cumsum(flags, axis=1, dtype=jnp.int32)
        - flags
    )
    position = jnp.where(flags > 0, ranks, size)
    index = which[:, None] * _BLOCK + jnp.arange(_BLOCK, dtype=jnp.int32)
    return jnp.full((size,), n, jnp.int32).at[position].set(index, mode="drop")


def _switch(count, sizes, zeros, events, full):
    """`zeros()` for no event, `events(K)` for the smallest K in `sizes` holding `count`,
    `full()` above the largest."""
    index = (count > 0).astype(jnp.int32) + jnp.sum(
        count > jnp.asarray(sizes, count.dtype), dtype=jnp.int32
    )
    branches = [zeros, *(functools.partial(events, K) for K in sizes), full]
    return lax.switch(index, [lambda _, f=f: f() for f in branches], None)


def _single(ws, tgs, s, layouts, sizes):
    active = s != 0
    count = jnp.sum(active, dtype=jnp.int32)
    dtypes = [jnp.result_type(w, s) for w in ws]

    def zeros():
        return tuple(jnp.zeros((n,), dt) for (n, _), dt in zip(layouts, dtypes, strict=True))

    def full():
        out = _full_products(ws, tgs, s, layouts)
        return tuple(o.astype(dt) for o, dt in zip(out, dtypes, strict=True))

    def events(size):
        idx = _compact(active, size)
        sv = s.at[idx].get(mode="fill", fill_value=0)
        out = []
        for w, tg, (n_post, sparse), dt in zip(ws, tgs, layouts, dtypes, strict=True):
            rows = w.at[idx].get(mode="fill", fill_value=0)
            if sparse:
                cols = tg.at[idx].get(mode="fill", fill_value=n_post)
                drive = jnp.zeros((n_post,), dt).at[cols].add(sv[:, None] * rows, mode="drop")
            else:
                drive = (sv @ rows).astype(dt)
            out.append(drive)
        return tuple(out)

    if not sizes:
        return lax.cond(count > 0, lambda _: full(), lambda _: zeros(), None)
    return _switch(count, sizes, zeros, events, full)


def _pooled_sizes(sizes, total):
    """The per-trial sizes continued by factors of 4, up to a quarter of the batch's
    events. Factors of 2 here ran a 256-trial W1 batch about 5-10 % faster but compiled
    in 12-14 s instead of 9 s (measured): every bucket compiles its own compaction."""
    pooled = list(sizes or (8,))
    while 4 * pooled[-1] * 4 <= total:
        pooled.append(pooled[-1] * 4)
    return tuple(k for k in pooled if 4 * k <= total)


def _batched(ws, tgs, s, layouts, sizes):
    """Spikes (B, n_pre) with shared weights: one event list for the whole batch."""
    b, n_pre = s.shape
    flat = s.reshape(-1)
    active = flat != 0
    count = jnp.sum(active, dtype=jnp.int32)
    total = b * n_pre
    pooled = _pooled_sizes(sizes, total)
    dtypes = [jnp.result_type(w, s) for w in ws]

    def zeros():
        return tuple(jnp.zeros((b, n), dt) for (n, _), dt in zip(layouts, dtypes, strict=True))

    def full():
        out = jax.vmap(lambda x: _full_products(ws, tgs, x, layouts))(s)
        return tuple(o.astype(dt) for o, dt in zip(out, dtypes, strict=True))

    def events(size):
        idx = _compact(active, size)
        valid = idx < total
        trial = jnp.where(valid, idx // n_pre, b)
        neuron = jnp.where(valid, idx % n_pre, n_pre)
        sv = flat.at[idx].get(mode="fill", fill_value=0)
        out = []
        for w, tg, (n_post, sparse), dt in zip(ws, tgs, layouts, dtypes, strict=True):
            rows = w.at[neuron].get(mode="fill", fill_value=0)
            contrib = (sv[:, None] * rows).astype(dt)
            if not sparse:
                out.append(jnp.zeros((b, n_post), dt).at[trial].add(contrib, mode="drop"))
                continue
            cols = tg.at[neuron].get(mode="fill", fill_value=n_post)
            flat_cols = jnp.where(cols < n_post, trial[:, None] * n_post + cols, b * n_post)
            drive = jnp.zeros((b * n_post,), dt).at[flat_cols].add(contrib, mode="drop")
            out.append(drive.reshape(b, n_post))
        return tuple(out)

    if not pooled:
        return lax.cond(count > 0, lambda _: full(), lambda _: zeros(), None)
    return _switch(count, pooled, zeros, events, full)


@functools.cache
def _event_fn(layouts: tuple[tuple[int, bool], ...], sizes: tuple[int, ...]):
    """The event-driven products of projections from one source, for static layouts
    ((n_post, sparse) per projection) and bucket sizes, with their batching rule and
    their derivative (see `Event`)."""

    @jax.custom_batching.custom_vmap
    def forward(ws, tgs, s):
        return _single(ws, tgs, s, layouts, sizes)

    @forward.def_vmap
    def forward_vmap(axis_size, in_batched, ws, tgs, s):
        ws_b, tgs_b, s_b = in_batched
        if not (any(ws_b) or any(jax.tree.leaves(tgs_b))):
            if not s_b:
                s = jnp.broadcast_to(s, (axis_size, *s.shape))
            out = _batched(ws, tgs, s, layouts, sizes)
            return out, tuple(True for _ in out)
        axes = jax.tree.map(lambda bt: 0 if bt else None, (ws_b, tgs_b, s_b))
        out = jax.vmap(lambda *a: _full_products(*a, layouts), in_axes=axes)(ws, tgs, s)
        out = tuple(o.astype(jnp.result_type(w, s)) for o, w in zip(out, ws, strict=True))
        return out, tuple(True for _ in out)

    @jax.custom_jvp
    def product(ws, tgs, s):
        return forward(ws, tgs, s)

    @product.defjvp
    def product_jvp(primals, tangents):
        ws, tgs, s = primals
        ws_dot, _, s_dot = tangents
        out = forward(ws, tgs, s)
        by_s = _full_products(ws, tgs, s_dot, layouts)
        by_w = _full_products(ws_dot, tgs, s, layouts)
        out_dot = tuple((a + c).astype(o.dtype) for a, c, o in zip(by_s, by_w, out, strict=True))
        return out, out_dot

    return product


def event_drive(
    weights: Float[Array, "n_pre k"],
    targets: Int[Array, "n_pre k"] | None,
    s_pre: Float[Array, " n_pre"],
    n_post: int,
    buckets: tuple[int, ...] | None = None,
) -> Float[Array, " n_post"]:
    """Event-driven `Σ_i w_ij s_i` on raw arrays (what `Event` computes for a projection).

    Args:
        weights: (n_pre, k) ELL weights with `targets`, or (n_pre, n_post) dense weights
            when `targets` is None.
        targets: (n_pre, k) int32 postsynaptic indices (padding = n_post), or None.
        s_pre: (n_pre,) presynaptic spikes (any values; zeros are skipped).
        n_post: number of postsynaptic neurons.
        buckets: event-list sizes (default those of `Event()`).

    Returns:
        (n_post,) drive, in the dtype of `weights · s_pre`.
    """
    sizes = _sizes(tuple(buckets or _default_buckets()), s_pre.shape[0])
    fn = _event_fn(((n_post, targets is not None),), sizes)
    return fn((weights,), (targets,), s_pre)[0]

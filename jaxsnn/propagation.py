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
    return (8, 64, 512, 4096, 32768)


class Event(AbstractPropagation):
    """Event-driven propagation: only the rows of presynaptic neurons that spiked are read.

    One trial: the spiking neurons are listed (`_compact`, a block-hierarchical
    compaction), and their rows (sparse: (k,) weights and targets; dense: (n_post,)
    weights) are gathered and scatter-added (dense: summed) into the drive, in chunks of
    256, 32 and 4 events by `lax.while_loop`s, so the work follows the spike count with at
    most 3 padded rows. Shapes must be static under `jit`, so the event list is built at
    the smallest of `buckets` that holds this step's count (`lax.switch`). No spike costs
    nothing; more spikes than the largest bucket (at most a quarter of n_pre) falls back
    to the full product (`Scatter` or `Dense`), which is then cheaper than a gather.

    Under `jax.vmap` over trials (spikes batched, weights shared), a custom batching rule
    pools the (trial, neuron) spike pairs of the whole batch into one event list (one
    compaction, one chunked gather/scatter), instead of B separate switches (which vmap
    would turn into running every branch). Batched weights fall back to the vmapped full
    product. A second, nested vmap batches that rule as plain JAX: correct, but it then
    runs every branch; vmap over one flat batch axis instead.

    Gradients: the forward pass is exact, and the derivative is that of the full product
    `Σ_i w_ij s_i`: the spike tangent goes through every synapse (so the surrogate
    gradients of neurons that did not spike are kept) and the weight tangent is weighted by
    the spikes. Those tangents cost one full product each, paid only when differentiating.

    Attributes:
        buckets: increasing event-list sizes K to choose from (per trial; under vmap the
            sequence is continued geometrically up to the batch's total); a static tuple.
            The default, factors of 8 from 8 to 32768, compiled faster than factors of 4
            at the same run time on W2 (measured); sizes above n_pre/4 are dropped.
    """

    buckets: tuple[int, ...] = eqx.field(static=True, default_factory=_default_buckets)

    def __check_init__(self):
        b = tuple(self.buckets)
        if not b or any(not isinstance(k, int) or k < 1 for k in b) or list(b) != sorted(set(b)):
            raise ValueError(
                f"Event.buckets must be increasing positive ints, got {self.buckets!r}"
            )

    def __call__(self, projection, s_pre):
        if s_pre.shape != (projection.n_pre,):
            raise ValueError(
                f"projection {projection.pre}->{projection.post}: spikes must have shape "
                f"({projection.n_pre},), got {s_pre.shape}"
            )
        buckets = _sizes(self.buckets, projection.n_pre)
        if projection.targets is None:
            fn = _event_fn(projection.n_post, buckets, False)
            return fn(projection.weights, jnp.zeros((), jnp.int32), s_pre)
        fn = _event_fn(projection.n_post, buckets, True)
        return fn(projection.weights, projection.targets, s_pre)


def _sizes(buckets: tuple[int, ...], n_events: int) -> tuple[int, ...]:
    """The bucket sizes worth compiling for at most `n_events` events: those below a
    quarter of it (above, the full product is cheaper than a gather)."""
    return tuple(k for k in buckets if 4 * k <= n_events)


def _full(weights, targets, s, n_post):
    """Σ_i w_ij s_i over every stored synapse (dense matmul or ELL scatter-add)."""
    if targets is None or targets.ndim == 0:
        return s @ weights
    contrib = s[:, None] * weights
    return jnp.zeros((n_post,), contrib.dtype).at[targets].add(contrib, mode="drop")


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


_CHUNKS = (256, 32, 4)


def _event_list(active, count, sizes):
    """Indices of the True entries of `active`, padded with len(active) to a fixed
    length (the largest size plus the largest chunk, so chunk slices never clamp).
    The compaction runs at the smallest size in `sizes` that holds `count`."""
    n = active.shape[0]
    length = sizes[-1] + _CHUNKS[0]

    def compact(_, K):
        return jnp.pad(_compact(active, K), (0, length - K), constant_values=n)

    branches = [functools.partial(compact, K=K) for K in sizes]
    index = jnp.sum(count > jnp.asarray(sizes[:-1], count.dtype), dtype=jnp.int32)
    return lax.switch(index, branches, None)


def _chunked(idx, count, out, add_rows):
    """Fold `add_rows(out, ids)` over the event list `idx` in chunks: as many chunks of
    256 as fit in `count`, then of 32, then of 4 (one compiled body per chunk size; at
    most 3 padded events are processed, whatever the count)."""
    start = jnp.zeros((), jnp.int32)
    for i, size in enumerate(_CHUNKS):
        last = i == len(_CHUNKS) - 1

        def cond(carry, size=size, last=last):
            remaining = count - carry[0]
            return remaining > 0 if last else remaining >= size

        def body(carry, size=size):
            pos, acc = carry
            ids = lax.dynamic_slice(idx, (pos,), (size,))
            return pos + size, add_rows(acc, ids)

        start, out = lax.while_loop(cond, body, (start, out))
    return out


def _dispatch(count, sizes, events, full, zeros):
    """`zeros()` for no event, `events()` up to the largest size, else `full()`."""
    if not sizes:
        return lax.cond(count > 0, lambda _: full(), lambda _: zeros(), None)
    index = (count > 0).astype(jnp.int32) + (count > sizes[-1]).astype(jnp.int32)
    return lax.switch(index, [lambda _: zeros(), lambda _: events(), lambda _: full()], None)


def _single(weights, targets, s, n_post, sizes, sparse):
    active = s != 0
    count = jnp.sum(active, dtype=jnp.int32)
    dtype = jnp.result_type(weights, s)
    tg = targets if sparse else None

    def add_rows(out, ids):
        rows = weights.at[ids].get(mode="fill", fill_value=0)
        sv = s.at[ids].get(mode="fill", fill_value=0)
        if not sparse:
            return out + sv @ rows
        cols = targets.at[ids].get(mode="fill", fill_value=n_post)
        return out.at[cols].add(sv[:, None] * rows, mode="drop")

    def events():
        idx = _event_list(active, count, sizes)
        return _chunked(idx, count, jnp.zeros((n_post,), dtype), add_rows)

    return _dispatch(
        count,
        sizes,
        events,
        lambda: _full(weights, tg, s, n_post).astype(dtype),
        lambda: jnp.zeros((n_post,), dtype),
    )


def _batched(weights, targets, s, n_post, sizes, sparse):
    """Spikes (B, n_pre) with shared weights: one event list for the whole batch."""
    b, n_pre = s.shape
    flat = s.reshape(-1)
    active = flat != 0
    count = jnp.sum(active, dtype=jnp.int32)
    total = b * n_pre
    # The per-trial sizes, continued geometrically, reach batch-sized event lists.
    pooled = list(sizes or (8,))
    ratio = pooled[-1] // pooled[-2] if len(pooled) > 1 else 8
    while 4 * pooled[-1] * ratio <= total:
        pooled.append(pooled[-1] * ratio)
    pooled = tuple(k for k in pooled if 4 * k <= total)
    dtype = jnp.result_type(weights, s)

    def add_rows(out, ids):
        trial = ids // n_pre
        neuron = ids % n_pre
        valid = ids < total
        rows = weights.at[neuron].get(mode="fill", fill_value=0)
        sv = flat.at[ids].get(mode="fill", fill_value=0)
        if not sparse:
            return out.at[jnp.where(valid, trial, b)].add(sv[:, None] * rows, mode="drop")
        cols = targets.at[neuron].get(mode="fill", fill_value=n_post)
        keep = valid[:, None] & (cols < n_post)
        flat_cols = jnp.where(keep, trial[:, None] * n_post + cols, b * n_post)
        return out.at[flat_cols].add(sv[:, None] * rows, mode="drop")

    def events():
        idx = _event_list(active, count, pooled)
        out = jnp.zeros((b, n_post) if not sparse else (b * n_post,), dtype)
        return _chunked(idx, count, out, add_rows).reshape(b, n_post)

    def full():
        tg = targets if sparse else None
        return jax.vmap(lambda x: _full(weights, tg, x, n_post))(s).astype(dtype)

    return _dispatch(count, pooled, events, full, lambda: jnp.zeros((b, n_post), dtype))


@functools.cache
def _event_fn(n_post: int, sizes: tuple[int, ...], sparse: bool):
    """The event-driven product for static (n_post, bucket sizes, layout), with its
    batching rule and its derivative (see `Event`)."""

    @jax.custom_batching.custom_vmap
    def forward(weights, targets, s):
        return _single(weights, targets, s, n_post, sizes, sparse)

    @forward.def_vmap
    def forward_vmap(axis_size, in_batched, weights, targets, s):
        w_b, t_b, s_b = in_batched
        if not (w_b or t_b):
            if not s_b:
                s = jnp.broadcast_to(s, (axis_size, *s.shape))
            return _batched(weights, targets, s, n_post, sizes, sparse), True
        weights, targets, s = (
            x if bt else jnp.broadcast_to(x, (axis_size, *x.shape))
            for x, bt in zip((weights, targets, s), in_batched, strict=True)
        )
        tg_axis = 0 if sparse else None
        out = jax.vmap(lambda w, t, x: _full(w, t if sparse else None, x, n_post), (0, tg_axis, 0))(
            weights, targets if sparse else None, s
        )
        return out, True

    @jax.custom_jvp
    def product(weights, targets, s):
        return forward(weights, targets, s)

    @product.defjvp
    def product_jvp(primals, tangents):
        weights, targets, s = primals
        w_dot, _, s_dot = tangents
        tg = targets if sparse else None
        out = forward(weights, targets, s)
        out_dot = _full(weights, tg, s_dot, n_post) + _full(w_dot, tg, s, n_post)
        return out, out_dot.astype(out.dtype)

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
    if targets is None:
        return _event_fn(n_post, sizes, False)(weights, jnp.zeros((), jnp.int32), s_pre)
    return _event_fn(n_post, sizes, True)(weights, targets, s_pre)

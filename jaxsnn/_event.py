"""The event-driven kernel behind `jaxsnn.Event` (see its docstring for the design).

Internal representation: per projection its weights, its ELL targets (None for dense
storage) and its static layout `(n_post, sparse)`.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax
from jaxtyping import Array, Int

from .layout import DenseLayout, SparseLayout


def default_buckets() -> tuple[int, ...]:
    """Powers of 2 from 4 to 32768."""
    return tuple(4 * 2**i for i in range(14))


def sizes_for(buckets: tuple[int, ...], n_events: int) -> tuple[int, ...]:
    """The bucket sizes worth compiling for at most `n_events` events: those below a
    quarter of it (above, the full product is cheaper than a gather)."""
    return tuple(k for k in buckets if 4 * k <= n_events)


def _full(weights, targets, s, n_post):
    """Σ_i w_ij s_i over every stored synapse, on the kernel's raw arrays."""
    n_pre = s.shape[0]
    layout = DenseLayout(n_pre, n_post) if targets is None else SparseLayout(n_pre, n_post, targets)
    return layout.product(weights, s)


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
def event_fn(layouts: tuple[tuple[int, bool], ...], sizes: tuple[int, ...]):
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

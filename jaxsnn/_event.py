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

from . import native as _native
from .layout import DenseLayout, SparseLayout
from .native.tangent import event_weight_tangent


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


def _is_zero(tangent) -> bool:
    return isinstance(tangent, jax.custom_derivatives.SymbolicZero)


def _per_source(fn, ws, tgs, ss, layouts, sources, *extra):
    """`fn(ws_g, tgs_g, s_g, layouts_g, *extra_g)` for each source g, results back in
    projection order."""
    out = [None] * len(ws)
    for g, s in enumerate(ss):
        members = [p for p, src in enumerate(sources) if src == g]
        group_ws, group_tgs = tuple(ws[p] for p in members), tuple(tgs[p] for p in members)
        lays = tuple(layouts[p] for p in members)
        drives = fn(group_ws, group_tgs, s, lays, *(e[g] for e in extra))
        for p, o in zip(members, drives, strict=True):
            out[p] = o
    return tuple(out)


def _full_all(ws, tgs, ss, layouts, sources):
    """`_full` of every projection, each on its own source's signal."""
    return tuple(
        _full(w, tg, ss[src], n)
        for w, tg, (n, _), src in zip(ws, tgs, layouts, sources, strict=True)
    )


def _native_all(ws, tgs, ss, layouts, sources):
    """Every product in one native call (`jaxsnn.native`); leading batch axes of `ws`/
    `tgs` must be leading axes of the signals' batch."""
    dt = jnp.result_type(*ws, *ss)
    out = _native.event_drives(
        [w.astype(dt) for w in ws],
        tgs,
        [s.astype(dt) for s in ss],
        sources,
        [n for n, _ in layouts],
    )
    return tuple(
        o.astype(jnp.result_type(w, ss[src])) for o, w, src in zip(out, ws, sources, strict=True)
    )


def native_usable(ws, ss) -> bool:
    """Whether the products can run natively (CPU, float32/64 drives)."""
    return _native.usable(jnp.result_type(*ws, *ss))


@functools.cache
def event_fn(
    layouts: tuple[tuple[int, bool], ...],
    sources: tuple[int, ...],
    sizes: tuple[tuple[int, ...], ...],
    native: bool = False,
):
    """The event-driven products of projections, for static layouts ((n_post, sparse)
    per projection), the index of each projection's presynaptic signal (`sources`) and
    bucket sizes (per signal), with their batching rule and their derivative (see
    `Event`). `native`: the forward pass in one native CPU call (`native_usable` must
    hold); else one event list per signal, shared by its projections."""

    @jax.custom_batching.custom_vmap
    def forward(ws, tgs, ss):
        if native:
            return _native_all(ws, tgs, ss, layouts, sources)
        return _per_source(_single, ws, tgs, ss, layouts, sources, sizes)

    @forward.def_vmap
    def forward_vmap(axis_size, in_batched, ws, tgs, ss):
        ws_b, tgs_b, ss_b = in_batched
        # every signal batched: the rules below index trials along axis 0 of each
        ss = tuple(
            s if b else jnp.broadcast_to(s, (axis_size, *s.shape))
            for s, b in zip(ss, ss_b, strict=True)
        )
        if native:
            # One call for the batch: the kernel reads batched weights/targets as leading
            # axes of the spikes' batch and shared ones once.
            out = _native_all(ws, tgs, ss, layouts, sources)
        elif not (any(ws_b) or any(jax.tree.leaves(tgs_b))):
            out = _per_source(_batched, ws, tgs, ss, layouts, sources, sizes)
        else:
            axes = jax.tree.map(lambda bt: 0 if bt else None, (ws_b, tgs_b))
            out = jax.vmap(
                lambda w, t, s: _full_all(w, t, s, layouts, sources), in_axes=(*axes, 0)
            )(ws, tgs, ss)
            out = tuple(
                o.astype(jnp.result_type(w, ss[src]))
                for o, w, src in zip(out, ws, sources, strict=True)
            )
        return out, tuple(True for _ in out)

    @jax.custom_jvp
    def product(ws, tgs, ss):
        return forward(ws, tgs, ss)

    def product_jvp(primals, tangents):
        ws, tgs, ss = primals
        ws_dot, _, ss_dot = tangents
        out = forward(ws, tgs, ss)
        # Symbolic zeros (inputs not differentiated, e.g. data spikes or frozen weights)
        # contribute no term: no dense product of zeros in the forward pass.
        terms = [[] for _ in out]
        for p, src in enumerate(sources):
            if not _is_zero(ss_dot[src]):
                terms[p].append(_full(ws[p], tgs[p], ss_dot[src], layouts[p][0]))
        moving = [p for p, w_dot in enumerate(ws_dot) if not _is_zero(w_dot)]
        if moving and native:
            # event-driven in the weights, forward and (its transpose) backward
            dt = jnp.result_type(*ws, *ss)
            by_w = event_weight_tangent(
                [ws_dot[p].astype(dt) for p in moving],
                [tgs[p] for p in moving],
                [s.astype(dt) for s in ss],
                [sources[p] for p in moving],
                [layouts[p][0] for p in moving],
            )
        else:
            by_w = [_full(ws_dot[p], tgs[p], ss[sources[p]], layouts[p][0]) for p in moving]
        for p, d in zip(moving, by_w, strict=True):
            terms[p].append(d)
        out_dot = tuple(
            sum(t[1:], t[0]).astype(o.dtype) if t else jnp.zeros_like(o)
            for t, o in zip(terms, out, strict=True)
        )
        return out, out_dot

    product.defjvp(product_jvp, symbolic_zeros=True)

    return product

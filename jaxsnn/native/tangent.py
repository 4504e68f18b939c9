"""The weight term of `Event`'s derivative as a JAX primitive with a native transpose.

`Event`'s tangent is `Σ_i ẇ_ij s_i + Σ_i w_ij ṡ_i`. Its first term is the event-driven
product again, with the weight tangent in place of the weights, so it costs one pass over
the rows of the neurons that spiked. Reverse mode (training) needs its transpose, the
weight gradient `dw_ij = Σ_b s_bi · ct_bj`, over the same rows: with spikes at a few
percent of the neurons per step this is that many times less work than the outer product
XLA would form from the full product (`s.T @ ct`), so it gets its own primitive whose
transpose calls the native `event_weight_grads`. The second term (the surrogate path
through every synapse) stays a full product.

The primitive is linear in the weights; the signals enter as constants (second
derivatives through the spikes are not supported here: `Event(native=False)` has them).
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
from jax.extend.core import Primitive
from jax.interpreters import ad, batching, mlir

from . import event_drives, event_weight_grads

event_weight_tangent_p = Primitive("jaxsnn_event_weight_tangent")
event_weight_tangent_p.multiple_results = True


def _split(operands, sparse):
    n_proj, n_sparse = len(sparse), sum(sparse)
    ws = operands[:n_proj]
    stored = iter(operands[n_proj : n_proj + n_sparse])
    tgs = [next(stored) if sp else None for sp in sparse]
    ss = operands[n_proj + n_sparse :]
    return list(ws), tgs, list(ss)


def event_weight_tangent(
    ws: Sequence[jax.Array],
    tgs: Sequence[jax.Array | None],
    ss: Sequence[jax.Array],
    sources: Sequence[int],
    n_posts: Sequence[int],
) -> tuple[jax.Array, ...]:
    """`event_drives(ws, tgs, ss, ...)`, differentiable (linear) in `ws` with the native
    weight gradient as its transpose. All arrays share one float dtype."""
    sparse = tuple(tg is not None for tg in tgs)
    stored = [tg.astype(jnp.int32) for tg in tgs if tg is not None]
    return tuple(
        event_weight_tangent_p.bind(
            *ws, *stored, *ss, sources=tuple(sources), sparse=sparse, n_posts=tuple(n_posts)
        )
    )


def _impl(*operands, sources, sparse, n_posts):
    ws, tgs, ss = _split(operands, sparse)
    return event_drives(ws, tgs, ss, sources, n_posts)


def _abstract(*avals, sources, sparse, n_posts):
    _, _, ss = _split(avals, sparse)
    return [
        jax.core.ShapedArray((*ss[src].shape[:-1], n), ss[src].dtype)
        for src, n in zip(sources, n_posts, strict=True)
    ]


def _jvp(primals, tangents, *, sources, sparse, n_posts):
    ws_dot, _, ss_dot = _split(tangents, sparse)
    if any(type(t) is not ad.Zero for t in ss_dot):
        raise NotImplementedError(
            "second derivatives through Event's native kernel in the spikes are not "
            "supported; use Event(native=False)"
        )
    params = dict(sources=sources, sparse=sparse, n_posts=n_posts)
    out = event_weight_tangent_p.bind(*primals, **params)
    ws, tgs, ss = _split(primals, sparse)
    ws_dot = [ad.instantiate_zeros(t) for t in ws_dot]
    stored = [tg for tg in tgs if tg is not None]
    return out, event_weight_tangent_p.bind(*ws_dot, *stored, *ss, **params)


def _transpose(cts, *operands, sources, sparse, n_posts):
    ws, tgs, ss = _split(operands, sparse)
    if any(ad.is_undefined_primal(x) for x in [*ss, *(t for t in tgs if t is not None)]):
        raise NotImplementedError(
            "Event's native kernel is linear in the weights only; use Event(native=False)"
        )
    cts = [ad.instantiate_zeros(ct) for ct in cts]
    shapes = [w.aval.shape if ad.is_undefined_primal(w) else w.shape for w in ws]
    grads = event_weight_grads(cts, tgs, ss, sources, shapes)
    dws = [g if ad.is_undefined_primal(w) else None for g, w in zip(grads, ws, strict=True)]
    return [*dws, *(None for t in tgs if t is not None), *(None for _ in ss)]


def _batch(args, dims, *, sources, sparse, n_posts):
    """Batch axis to the front of everything; the signals carry it, and weights and
    targets either share one set (2-D, no axis) or carry it too (a leading prefix of the
    signals' axes, as the kernels require)."""
    size = next(a.shape[d] for a, d in zip(args, dims, strict=True) if d is not None)
    moved = []
    n_ws_tgs = len(sparse) + sum(sparse)
    for i, (a, d) in enumerate(zip(args, dims, strict=True)):
        if d is not None:
            a = jnp.moveaxis(a, d, 0)
        elif i >= n_ws_tgs or a.ndim > 2:
            a = jnp.broadcast_to(a, (size, *a.shape))
        moved.append(a)
    out = event_weight_tangent_p.bind(*moved, sources=sources, sparse=sparse, n_posts=n_posts)
    return out, [0] * len(out)


event_weight_tangent_p.def_impl(_impl)
event_weight_tangent_p.def_abstract_eval(_abstract)
mlir.register_lowering(event_weight_tangent_p, mlir.lower_fun(_impl, multiple_results=True))
ad.primitive_jvps[event_weight_tangent_p] = _jvp
ad.primitive_transposes[event_weight_tangent_p] = _transpose
batching.primitive_batchers[event_weight_tangent_p] = _batch

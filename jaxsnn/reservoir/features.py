"""Readout inputs from a reservoir's output spikes: snnpy's feature vectors and binned
spike counts, for one trial (T, n_out) or a batch (B, T, n_out), as (B, d) matrices."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .._checks import check_int
from ..analysis import reservoir_features


def _batched(outputs: ArrayLike) -> Float[Array, "b t n"]:
    o = jnp.asarray(outputs)
    if o.ndim == 2:
        o = o[None]
    if o.ndim != 3:
        raise ValueError(f"outputs must be (T, n_out) or (B, T, n_out), got shape {o.shape}")
    return o.astype(jnp.float32) if not jnp.issubdtype(o.dtype, jnp.floating) else o


def feature_vectors(outputs: ArrayLike, *, described: bool = False) -> Float[Array, "b d"]:
    """snnpy's features of every output neuron (`jaxsnn.analysis.reservoir_features`),
    concatenated per trial in alphabetical order of the feature names: d = 8·n_out (plus
    the README-described features with `described=True`). Undefined values keep snnpy's
    −1 (and NaN for described ones, replaced by −1 here so a readout can take them)."""
    o = _batched(outputs)
    feats = jax.vmap(lambda s: reservoir_features(s, described=described))(o)
    parts = []
    for name in sorted(feats):
        f = feats[name]
        leaves = jax.tree.leaves(f)  # the spike-time moments are a small module
        parts += [jnp.reshape(leaf, (o.shape[0], -1)).astype(o.dtype) for leaf in leaves]
    out = jnp.concatenate(parts, axis=1)
    return jnp.where(jnp.isnan(out), -1.0, out)


def binned_counts(outputs: ArrayLike, *, n_bins: int) -> Float[Array, "b d"]:
    """Each output neuron's spike count in `n_bins` equal time bins (the last bin takes
    the remainder), flattened per trial: d = n_bins·n_out. The classic reservoir
    "state" readout: it keeps when the activity happened."""
    o = _batched(outputs)
    check_int("n_bins", n_bins, minimum=1)
    b, t, n = o.shape
    if n_bins > t:
        raise ValueError(f"n_bins = {n_bins} exceeds the {t} steps")
    edges = (jnp.arange(t) * n_bins) // t  # bin of each step
    counts = jax.vmap(lambda s: jax.ops.segment_sum(s, edges, num_segments=n_bins))(o)
    return counts.reshape(b, n_bins * n)

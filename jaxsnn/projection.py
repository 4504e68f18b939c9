"""Projections: the synapses from one source (population or spike input) to a population.

`connect(pre, post, connectivity, init, synapse, key=...)` draws the synapses and their
weights and returns a `Projection`. Weights are stored either

- dense: `weights` of shape (n_pre, n_post) with a boolean `mask` of existing synapses, or
- sparse (ELL, row per presynaptic neuron): `weights` and `targets` of shape (n_pre, k),
  k the largest out-degree; `targets[i, m]` is the postsynaptic index of synapse m of
  neuron i, and padding slots hold `n_post` (dropped) with weight 0.

Only existing synapses carry weight; `Projection.constrained()` re-imposes that and
Dale's law after an optimiser update.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray

from ._checks import check_finite
from .connectivity import AbstractConnectivity
from .initializers import AbstractInitializer, Constant
from .inputs import AbstractSpikeInput
from .population import Population
from .propagation import AbstractPropagation, Dense, Event
from .synapse import AbstractSynapse, Delta, ExpConductance

Layout = Literal["auto", "dense", "sparse"]


class Projection(eqx.Module):
    """Synapses from `pre` (a population or spike input) onto population `post`.

    Attributes:
        pre: name of the presynaptic population or spike input.
        post: name of the postsynaptic population.
        n_pre: number of presynaptic neurons/channels.
        n_post: number of postsynaptic neurons.
        synapse: `Delta()`, `ExpCurrent(tau_ms)` or `ExpConductance(tau_ms, e_rev_mv)`.
        weights: (n_pre, n_post) dense or (n_pre, k) sparse; mV for delta/current
            synapses, conductance increments (units of leak conductance) for COBA.
        targets: (n_pre, k) int32 postsynaptic indices for sparse storage, else None.
        mask: (n_pre, n_post) bool of existing synapses for dense storage, else None.
        sign: +1 weights must be >= 0, -1 must be <= 0, 0 unconstrained (Dale's law).
        propagation: how spikes are propagated (`Dense()`, `Scatter()`, `Event()`).
    """

    pre: str = eqx.field(static=True)
    post: str = eqx.field(static=True)
    n_pre: int = eqx.field(static=True)
    n_post: int = eqx.field(static=True)
    synapse: AbstractSynapse
    weights: Float[Array, "n_pre k"]
    targets: Int[Array, "n_pre k"] | None
    mask: Bool[Array, "n_pre n_post"] | None
    sign: int = eqx.field(static=True)
    propagation: AbstractPropagation

    def __check_init__(self):
        expected = (self.n_pre, self.n_post) if self.targets is None else self.targets.shape
        if self.weights.shape != tuple(expected):
            raise ValueError(
                f"projection {self.pre}->{self.post}: weights must have shape {tuple(expected)}, "
                f"got {self.weights.shape}"
            )
        check_finite(f"projection {self.pre}->{self.post} weights", self.weights)
        self.propagation.check_layout(self)

    @property
    def is_sparse(self) -> bool:
        return self.targets is not None

    @property
    def n_synapses(self) -> int:
        """Number of existing synapses."""
        if self.targets is None:
            return int(np.asarray(self.mask).sum())
        return int((np.asarray(self.targets) < self.n_post).sum())

    def drive(self, s_pre: Float[Array, " n_pre"]) -> Float[Array, " n_post"]:
        """`Σ_i w_ij · s_i` for each postsynaptic neuron j."""
        return self.propagation(self, s_pre)

    def dense_weights(self) -> Float[Array, "n_pre n_post"]:
        """The weights as a dense (n_pre, n_post) matrix (zeros where no synapse)."""
        if self.targets is None:
            return self.weights
        rows = jnp.broadcast_to(jnp.arange(self.n_pre)[:, None], self.targets.shape)
        dense = jnp.zeros((self.n_pre, self.n_post), self.weights.dtype)
        return dense.at[rows, self.targets].add(self.weights, mode="drop")

    def constrained(self) -> Projection:
        """This projection with weights zeroed where there is no synapse and clipped to
        the sign Dale's law allows. Call after an optimiser update."""
        w = self.weights
        if self.mask is not None:
            w = jnp.where(self.mask, w, 0.0)
        else:
            w = jnp.where(self.targets < self.n_post, w, 0.0)
        if self.sign > 0:
            w = jnp.maximum(w, 0.0)
        elif self.sign < 0:
            w = jnp.minimum(w, 0.0)
        return eqx.tree_at(lambda p: p.weights, self, w.astype(self.weights.dtype))

    def with_weights(self, weights: Float[Array, "n_pre k"]) -> Projection:
        """A copy with new weights of the same shape (e.g. after plasticity).

        Raises:
            ValueError: if the shape differs (tree_at alone would accept it).
        """
        if jnp.shape(weights) != self.weights.shape:
            raise ValueError(
                f"projection {self.pre}->{self.post}: new weights must have shape "
                f"{self.weights.shape}, got {jnp.shape(weights)}"
            )
        return eqx.tree_at(lambda p: p.weights, self, weights)


def _ell(pre: np.ndarray, post: np.ndarray, w: np.ndarray, n_pre: int, n_post: int):
    counts = np.bincount(pre, minlength=n_pre)
    k = max(int(counts.max(initial=0)), 1)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    slot = np.arange(pre.size) - starts[pre]
    targets = np.full((n_pre, k), n_post, np.int32)
    weights = np.zeros((n_pre, k), w.dtype)
    targets[pre, slot] = post
    weights[pre, slot] = w
    return targets, weights


def connect(
    pre: Population | AbstractSpikeInput,
    post: Population,
    connectivity: AbstractConnectivity,
    init: AbstractInitializer = Constant(1.0),
    synapse: AbstractSynapse = Delta(),
    *,
    key: PRNGKeyArray,
    scale: float = 1.0,
    layout: Layout = "auto",
    propagation: AbstractPropagation | None = None,
    dtype=None,
) -> Projection:
    """Draw the synapses from `pre` to `post` and their weights.

    Weights are `scale · init(...)`; when `pre` obeys Dale's law as "inhibitory" and the
    synapse is a delta or current synapse, they are negated (so `init` and `scale` give
    magnitudes). Weights fixed by the connectivity (`FromMatrix`, `FromPairs` with values)
    are taken as given and must already respect Dale's law.

    Args:
        pre: presynaptic population or spike input.
        post: postsynaptic population.
        connectivity: e.g. `FixedProbability(0.1)`, `FixedInDegree(80)`, `SmallWorld(10, 0.1)`.
        init: weight initialiser (magnitudes), e.g. `AbsNormal(0.1, 0.05)`.
        synapse: `Delta()`, `ExpCurrent(tau_ms)`, `ExpConductance(tau_ms, e_rev_mv)`.
        key: PRNG key for the connectivity and the weights.
        scale: multiplies the drawn weights (> 0 for Dale populations).
        layout: "dense", "sparse" or "auto" (dense when at least 20 % of the pairs are
            connected or the matrix has at most 65 536 entries).
        propagation: how spikes are propagated; default (None): `Event()` for sparse
            storage (work proportional to the spikes; measured faster than `Scatter()` at
            every size and rate of benchmarks/README.md), `Dense()` for dense storage
            (small or densely connected layers, where one matmul beats gathering rows).
            `Scatter()` needs sparse storage, `Dense()` dense storage; `Event()` runs on
            both.
        dtype: weight dtype (default float).

    Returns:
        The `Projection`.

    Raises:
        ValueError: on bad arguments, or weights that break Dale's law.
    """
    if not isinstance(post, Population):
        raise ValueError(f"post must be a Population, got {type(post).__name__}")
    if not isinstance(pre, Population | AbstractSpikeInput):
        raise ValueError(f"pre must be a Population or a spike input, got {type(pre).__name__}")
    if layout not in ("auto", "dense", "sparse"):
        raise ValueError(f"layout must be 'auto', 'dense' or 'sparse', got {layout!r}")
    check_finite("scale", scale)
    dtype = jnp.result_type(float) if dtype is None else jnp.dtype(dtype)
    conductance = isinstance(synapse, ExpConductance)
    dale = pre.sign if isinstance(pre, Population) else 0
    if dale and not scale > 0:
        raise ValueError(f"scale must be > 0 for Dale population '{pre.name}', got {scale}")
    sign = 1 if conductance else dale
    k_conn, k_w = jax.random.split(key)
    same = pre is post or (isinstance(pre, Population) and pre.name == post.name)
    pre_idx, post_idx = connectivity.pairs(k_conn, pre.n, post.n, same=same)
    given = connectivity.weights()
    if given is None:
        w = np.asarray(init(k_w, int(pre_idx.size), dtype), dtype=np.float64) * scale
        if dale < 0 and not conductance:
            w = -w
    else:
        w = np.asarray(given, dtype=np.float64)
    if sign > 0 and np.any(w < 0) or sign < 0 and np.any(w > 0):
        what = "conductance weights" if conductance else f"weights from {pre.dale} '{pre.name}'"
        bound = ">= 0" if sign > 0 else "<= 0"
        raise ValueError(
            f"{what} must be {bound} (Dale's law); found {int(np.sum(w * sign < 0))} violating"
        )
    n_pairs = pre.n * post.n
    dense = layout == "dense" or (
        layout == "auto" and (n_pairs <= 65536 or pre_idx.size >= 0.2 * n_pairs)
    )
    w = w.astype(dtype)
    if propagation is not None and not isinstance(propagation, AbstractPropagation):
        raise ValueError(
            f"propagation must be Dense(), Scatter(), Event() or None, got {propagation!r}"
        )
    if dense:
        matrix = np.zeros((pre.n, post.n), dtype)
        mask = np.zeros((pre.n, post.n), bool)
        matrix[pre_idx, post_idx] = w
        mask[pre_idx, post_idx] = True
        return Projection(
            pre.name,
            post.name,
            pre.n,
            post.n,
            synapse,
            jnp.asarray(matrix),
            None,
            jnp.asarray(mask),
            sign,
            Dense() if propagation is None else propagation,
        )
    targets, weights = _ell(pre_idx, post_idx, w, pre.n, post.n)
    return Projection(
        pre.name,
        post.name,
        pre.n,
        post.n,
        synapse,
        jnp.asarray(weights),
        jnp.asarray(targets),
        None,
        sign,
        Event() if propagation is None else propagation,
    )


def drives(
    projections: Sequence[Projection], presynaptic: Mapping[str, Float[Array, " n"]]
) -> list[Float[Array, " n_post"]]:
    """The drive `Σ_i w_ij · s_i` of every projection, given each source's spikes.

    The `Event` projections of one source (with equal buckets) are computed together
    from one event list (see `Event.drives`); every other projection by its own
    propagation.

    Args:
        projections: the projections.
        presynaptic: source name -> (n_pre,) spikes.

    Returns:
        The drives, in the order of `projections`.
    """
    out: list = [None] * len(projections)
    groups: dict[tuple, list[int]] = {}
    for i, proj in enumerate(projections):
        if isinstance(proj.propagation, Event):
            groups.setdefault((proj.pre, proj.propagation), []).append(i)
        else:
            out[i] = proj.drive(presynaptic[proj.pre])
    for (pre, event), members in groups.items():
        group = [projections[i] for i in members]
        for i, d in zip(members, event.drives(group, presynaptic[pre]), strict=True):
            out[i] = d
    return out

"""Where the synapses of a projection are: its storage layout.

The layout is the one place that knows which (pre, post) pairs hold a synapse and how
the weights are stored; propagation, plasticity rules, homeostasis, the constraints of
training and the plots all ask it. Two storages:

- `DenseLayout`: weights of shape (n_pre, n_post); `mask` (n_pre, n_post) bool marks the
  existing synapses (None: every pair exists);
- `SparseLayout` (ELL, one row per presynaptic neuron): weights and `targets` of shape
  (n_pre, k), k the largest out-degree; `targets[i, m]` is the postsynaptic index of
  synapse m of neuron i, and padding slots hold `n_post` (dropped) with weight 0.

Quantities "per synapse" (weights, plasticity updates, delays) are arrays shaped like the
weights, 0 where no synapse exists.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int


class AbstractLayout(eqx.Module):
    """Where the synapses of an (n_pre → n_post) projection are (module docstring)."""

    n_pre: eqx.AbstractVar[int]
    n_post: eqx.AbstractVar[int]
    # Whether `Event()` can run on this storage: it gathers rows of per-synapse weights
    # (dense rows or ELL rows), which layouts with tied weights do not have.
    event_rows: ClassVar[bool] = False

    @property
    @abc.abstractmethod
    def shape(self) -> tuple[int, int]:
        """The shape of the weights and of every per-synapse array."""

    # Every layout also has `targets` (ELL postsynaptic indices, or None for dense
    # storage) and `mask` (dense mask of existing synapses, or None: sparse, or every
    # pair exists), as a field or a class attribute.

    @abc.abstractmethod
    def exists(self) -> Bool[Array, "n_pre k"]:
        """True where a synapse exists, shaped like the weights."""

    @abc.abstractmethod
    def post(self, b: Float[Array, " n_post"]) -> Float[Array, "n_pre_or_1 k"]:
        """A postsynaptic quantity seen at each synapse slot (broadcasts to the weights'
        shape; 0 on padding slots)."""

    @abc.abstractmethod
    def post_sum(self, x: Float[Array, "n_pre k"]) -> Float[Array, " n_post"]:
        """`Σ_i x_ij` over the synapses onto each postsynaptic neuron j."""

    @abc.abstractmethod
    def dense(self, x: Float[Array, "n_pre k"]) -> Float[Array, "n_pre n_post"]:
        """A per-synapse array as a dense (n_pre, n_post) matrix (0 where no synapse)."""

    @abc.abstractmethod
    def product(
        self, weights: Float[Array, "n_pre k"], s: Float[Array, " n_pre"]
    ) -> Float[Array, " n_post"]:
        """The full product `Σ_i w_ij s_i` over every stored synapse."""

    def batch_product(
        self, weights: Float[Array, "n_pre k"], s: Float[Array, "n_pre batch"]
    ) -> Float[Array, "n_post batch"]:
        """`product` for a batch of signals held neuron-major, (n_pre, B) -> (n_post, B).

        With the batch as the minor (contiguous) axis, each synapse moves B contiguous
        values at once; `jax.vmap(product)` over a leading batch axis moves them one by
        one with a stride of n (measured 1.8x slower for a 64-trial reservoir).
        """
        return jax.vmap(self.product, in_axes=(None, 1), out_axes=1)(weights, s)

    @abc.abstractmethod
    def keep(self, keep: Bool[Array, "n_pre k"]) -> AbstractLayout:
        """This layout with only the synapses where `keep` is True (pruning)."""

    @abc.abstractmethod
    def delayed(
        self, weights: Float[Array, "n_pre k"], steps: Int[Array, "n_pre k"], n_slots: int
    ) -> tuple[Float[Array, "..."], AbstractLayout]:
        """The weights and layout of the same synapses onto `n_slots · n_post` virtual
        targets: synapse (i, j) with a delay of d steps lands on `d·n_post + j`, so one
        product gives the drive of every future step at once (per-synapse delays)."""

    def split_posts(
        self, arrays: Sequence[Float[Array, "n_pre k"]], parts: int
    ) -> list[tuple[AbstractLayout, list[Float[Array, "n_pre k_part"]]]]:
        """This layout cut into `parts` blocks of consecutive postsynaptic neurons, with the
        per-synapse `arrays` (weights, ...) that go with each block: block d holds the
        synapses onto posts d·m .. (d+1)·m - 1 (m = n_post / parts), renumbered from 0,
        every block with the same shapes (so they stack, one per device:
        `jaxsnn.neuron_sharding`). Needs concrete arrays.

        Raises:
            ValueError: if n_post is not a multiple of `parts`, or this storage cannot be
                cut by postsynaptic neuron (the default).
        """
        raise ValueError(
            f"a {type(self).__name__} cannot be split by postsynaptic neuron (dense and "
            "sparse storage can)"
        )

    def _post_block(self, parts: int) -> int:
        if parts < 1 or self.n_post % parts:
            raise ValueError(
                f"{self.n_post} postsynaptic neurons cannot be split into {parts} equal blocks"
            )
        return self.n_post // parts

    def outer(
        self, a: Float[Array, " n_pre"], b: Float[Array, " n_post"]
    ) -> Float[Array, "n_pre k"]:
        """`a_i · b_j` at every existing synapse (i, j), 0 elsewhere, shaped like the weights."""
        out = a[:, None] * self.post(b)
        if self.mask is not None:
            out = jnp.where(self.mask, out, jnp.zeros((), out.dtype))
        return out

    @property
    def n_synapses(self) -> int:
        """Number of existing synapses (concrete layouts only)."""
        return int(np.asarray(self.exists()).sum())


class DenseLayout(AbstractLayout):
    """Dense storage: weights (n_pre, n_post), `mask` of existing synapses or None.

    Attributes:
        n_pre, n_post: sizes.
        mask: (n_pre, n_post) bool, or None when every pair holds a synapse.
    """

    n_pre: int = eqx.field(static=True)
    n_post: int = eqx.field(static=True)
    mask: Bool[Array, "n_pre n_post"] | None = None

    event_rows: ClassVar[bool] = True

    @property
    def shape(self):
        return (self.n_pre, self.n_post)

    targets: ClassVar[None] = None

    def exists(self):
        if self.mask is None:
            return jnp.ones(self.shape, bool)
        return self.mask

    def post(self, b):
        return b[None, :]

    def post_sum(self, x):
        return jnp.sum(x, axis=0)

    def dense(self, x):
        return x

    def product(self, weights, s):
        return s @ weights

    def batch_product(self, weights, s):
        return weights.T @ s

    def keep(self, keep):
        return DenseLayout(self.n_pre, self.n_post, keep)

    def split_posts(self, arrays, parts):
        m = self._post_block(parts)
        out = []
        for d in range(parts):
            cols = slice(d * m, (d + 1) * m)
            mask = None if self.mask is None else self.mask[:, cols]
            out.append((DenseLayout(self.n_pre, m, mask), [x[:, cols] for x in arrays]))
        return out

    def delayed(self, weights, steps, n_slots):
        slots = jnp.arange(n_slots, dtype=steps.dtype)
        w = jnp.where(steps[:, None, :] == slots[None, :, None], weights[:, None, :], 0)
        return w.reshape(self.n_pre, n_slots * self.n_post), DenseLayout(
            self.n_pre, n_slots * self.n_post
        )


class SparseLayout(AbstractLayout):
    """Sparse ELL storage: weights and `targets` (n_pre, k), padding targets = n_post.

    Attributes:
        n_pre, n_post: sizes.
        targets: (n_pre, k) int32 postsynaptic indices.
    """

    n_pre: int = eqx.field(static=True)
    n_post: int = eqx.field(static=True)
    targets: Int[Array, "n_pre k"]

    event_rows: ClassVar[bool] = True

    def __check_init__(self):
        if self.targets is None or jnp.ndim(self.targets) != 2:
            raise ValueError("SparseLayout.targets must be an (n_pre, k) integer array")
        if self.targets.shape[0] != self.n_pre:
            raise ValueError(
                f"SparseLayout.targets must have {self.n_pre} rows, got {self.targets.shape}"
            )

    @property
    def shape(self):
        return tuple(self.targets.shape)

    mask: ClassVar[None] = None

    def exists(self):
        return self.targets < self.n_post

    def post(self, b):
        padded = jnp.concatenate([b, jnp.zeros((1,), b.dtype)])
        return padded[self.targets]

    def post_sum(self, x):
        return jnp.zeros((self.n_post,), x.dtype).at[self.targets].add(x, mode="drop")

    def dense(self, x):
        rows = jnp.broadcast_to(jnp.arange(self.n_pre)[:, None], self.targets.shape)
        out = jnp.zeros((self.n_pre, self.n_post), x.dtype)
        return out.at[rows, self.targets].add(x, mode="drop")

    def product(self, weights, s):
        contrib = s[:, None] * weights
        return jnp.zeros((self.n_post,), contrib.dtype).at[self.targets].add(contrib, mode="drop")

    def batch_product(self, weights, s):
        n_pre, k = self.targets.shape
        pre = jnp.repeat(jnp.arange(n_pre), k)  # the presynaptic neuron of each slot
        contrib = weights.reshape(-1, 1) * s[pre]
        out = jnp.zeros((self.n_post, s.shape[1]), contrib.dtype)
        return out.at[self.targets.reshape(-1)].add(contrib, mode="drop")

    def keep(self, keep):
        targets = jnp.where(keep, self.targets, self.n_post).astype(self.targets.dtype)
        return SparseLayout(self.n_pre, self.n_post, targets)

    def split_posts(self, arrays, parts):
        m = self._post_block(parts)
        targets = np.asarray(self.targets)
        values = [np.asarray(x) for x in arrays]
        blocks = [(targets >= d * m) & (targets < (d + 1) * m) for d in range(parts)]
        # one width for every block (the largest out-degree into any block), so the
        # blocks stack; each row keeps its synapses in their order (then the drive of a
        # post sums them in the order one device does)
        k = max(max(int(b.sum(axis=1).max(initial=0)) for b in blocks), 1)
        out = []
        for d, inside in enumerate(blocks):
            rows, cols = np.nonzero(inside)
            slot = np.cumsum(inside, axis=1)[rows, cols] - 1
            local = np.full((self.n_pre, k), m, targets.dtype)
            local[rows, slot] = targets[rows, cols] - d * m
            parts_d = []
            for x in values:
                packed = np.zeros((self.n_pre, k), x.dtype)
                packed[rows, slot] = x[rows, cols]
                parts_d.append(jnp.asarray(packed))
            out.append((SparseLayout(self.n_pre, m, jnp.asarray(local)), parts_d))
        return out

    def delayed(self, weights, steps, n_slots):
        n_virtual = n_slots * self.n_post
        targets = jnp.where(
            self.exists(), steps.astype(self.targets.dtype) * self.n_post + self.targets, n_virtual
        ).astype(self.targets.dtype)
        return weights, SparseLayout(self.n_pre, n_virtual, targets)

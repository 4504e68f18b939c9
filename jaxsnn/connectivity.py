"""Connectivity rules: which (pre, post) pairs get a synapse.

A rule is a small immutable object; `rule.pairs(key, n_pre, n_post, same=...)` returns the
synapses as two int64 NumPy arrays `(pre, post)` sorted by pre then post. `same=True`
means pre and post are the same population, where self-connections (i -> i) are left out
unless the rule says `allow_self=True`.

Rules run once, at construction, in NumPy (seeded from the JAX key, so the same key gives
the same network). They scale to hundreds of thousands of neurons: no rule materialises an
n_pre × n_post matrix unless the user handed one in.
"""

from __future__ import annotations

import abc
from typing import Literal

import equinox as eqx
import jax
import numpy as np
from jaxtyping import PRNGKeyArray

from ._checks import check_int, check_probability

Pairs = tuple[np.ndarray, np.ndarray]


def numpy_rng(key: PRNGKeyArray) -> np.random.Generator:
    """A NumPy generator seeded deterministically from a JAX key."""
    if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
        key = jax.random.key_data(key)
    return np.random.default_rng(np.asarray(key, dtype=np.uint32).ravel().tolist())


def _sorted(pre: np.ndarray, post: np.ndarray) -> Pairs:
    order = np.lexsort((post, pre))
    return pre[order].astype(np.int64), post[order].astype(np.int64)


class AbstractConnectivity(eqx.Module):
    """A rule that draws the synapses between two groups of neurons."""

    @abc.abstractmethod
    def pairs(self, key: PRNGKeyArray, n_pre: int, n_post: int, *, same: bool) -> Pairs:
        """Synapses as `(pre, post)` int64 arrays, sorted by pre then post."""

    def weights(self) -> np.ndarray | None:
        """Weights fixed by the rule itself (user matrices), aligned with `pairs`; else None."""
        return None


class FixedProbability(AbstractConnectivity):
    """Erdős–Rényi: each ordered pair is connected independently with probability `p`.

    Sampled by geometric skipping over the flattened n_pre × n_post index space, so the
    cost is proportional to the number of synapses, not to n_pre·n_post.

    Attributes:
        p: connection probability in [0, 1].
        allow_self: keep i -> i synapses when pre and post are the same population.
    """

    p: float
    allow_self: bool = False

    def __check_init__(self):
        check_probability("FixedProbability.p", self.p)

    def pairs(self, key, n_pre, n_post, *, same):
        rng = numpy_rng(key)
        total = n_pre * n_post
        if self.p == 0 or total == 0:
            flat = np.zeros(0, np.int64)
        elif self.p == 1:
            flat = np.arange(total, dtype=np.int64)
        else:
            chunks, position = [], -1
            expected = int(total * self.p * 1.05) + 64
            while position < total:
                # NumPy returns int64's maximum for the gaps of a tiny p (below ~1e-18),
                # whose sum would wrap around to negative indices and never end the loop;
                # a gap past the last index ends the scan whatever its length, so capping
                # it changes no network
                gaps = np.minimum(rng.geometric(self.p, size=expected), total + 1)
                steps = position + np.cumsum(gaps.astype(np.int64))
                chunks.append(steps[steps < total])
                position = int(steps[-1])
            flat = np.concatenate(chunks)
        pre, post = np.divmod(flat, n_post)
        if same and not self.allow_self:
            keep = pre != post
            pre, post = pre[keep], post[keep]
        return _sorted(pre, post)


def _distinct_rows(rng: np.random.Generator, n_rows: int, k: int, pool: int) -> np.ndarray:
    """(n_rows, k) integers from [0, pool), distinct within each row; each row is a
    uniformly random k-subset, independent of the other rows.

    - k > pool/2: the complement (pool - k values) is drawn instead.
    - few collisions expected (k² <= 2·pool, under one repeat per row): draw with
      replacement, then redraw only the entries that repeat an earlier entry of their row
      until none does. The procedure treats every value of the pool alike, so every
      k-subset is equally likely.
    - otherwise Floyd's algorithm (Bentley & Floyd 1987), vectorised over rows: for
      j = pool - k .. pool - 1 draw t in [0, j] and take t, or j if t was taken; exactly
      uniform, k vectorised steps per block of rows (a membership mask of ~16 M entries).
    """
    if k == 0:
        return np.zeros((n_rows, 0), np.int64)
    if 2 * k > pool:
        excluded = _distinct_rows(rng, n_rows, pool - k, pool)
        keep = np.ones((n_rows, pool), bool)
        np.put_along_axis(keep, excluded, False, axis=1)
        return np.nonzero(keep)[1].reshape(n_rows, k)
    if k * k <= 2 * pool:
        rows = rng.integers(0, pool, size=(n_rows, k))
        todo = np.arange(n_rows)
        while todo.size:
            sub = rows[todo]
            order = np.argsort(sub, axis=1, kind="stable")
            ranked = np.take_along_axis(sub, order, axis=1)
            repeat = np.zeros(sub.shape, bool)
            # a sorted entry equal to its left neighbour repeats an earlier draw of its row
            np.put_along_axis(repeat, order[:, 1:], ranked[:, 1:] == ranked[:, :-1], axis=1)
            sub[repeat] = rng.integers(0, pool, size=int(repeat.sum()))
            rows[todo] = sub
            todo = todo[repeat.any(axis=1)]
        return rows
    out = np.empty((n_rows, k), np.int64)
    block = max(1, (1 << 24) // pool)
    for start in range(0, n_rows, block):
        count = min(block, n_rows - start)
        taken = np.zeros((count, pool), bool)
        at = np.arange(count)
        for column, j in enumerate(range(pool - k, pool)):
            t = rng.integers(0, j + 1, size=count)
            value = np.where(taken[at, t], j, t)
            taken[at, value] = True
            out[start : start + count, column] = value
    return out


class FixedInDegree(AbstractConnectivity):
    """Every postsynaptic neuron receives exactly `k` synapses from distinct random pre
    (drawn without replacement, independently per postsynaptic neuron).

    Attributes:
        k: in-degree, <= n_pre (n_pre - 1 without self-connections).
        allow_self: keep i -> i synapses when pre and post are the same population.
    """

    k: int
    allow_self: bool = False

    def __check_init__(self):
        check_int("FixedInDegree.k", self.k)

    def pairs(self, key, n_pre, n_post, *, same):
        rng = numpy_rng(key)
        skip_self = same and not self.allow_self
        pool = n_pre - 1 if skip_self else n_pre
        if self.k > pool:
            raise ValueError(f"FixedInDegree.k must be <= {pool} here, got {self.k}")
        post_ids = np.arange(n_post)
        pre = _distinct_rows(rng, n_post, self.k, pool)
        if skip_self:
            pre = pre + (pre >= post_ids[:, None])  # skip over the diagonal
        # rows are in increasing post order, so a stable sort by pre sorts by (pre, post)
        pre = pre.ravel()
        order = np.argsort(pre, kind="stable")
        post = np.broadcast_to(post_ids[:, None], (n_post, self.k)).ravel()
        return pre[order].astype(np.int64), post[order].astype(np.int64)


class SmallWorld(AbstractConnectivity):
    """Watts–Strogatz small-world graph (Watts & Strogatz 1998) on one population.

    A ring lattice where each neuron is linked to its `k/2` nearest neighbours on either
    side; then each lattice edge (i, i+m) has its far end rewired with probability
    `p_rewire` to a uniformly chosen neuron (no self-loops, no duplicate edges).

    Attributes:
        k: lattice degree (even, >= 2, < n).
        p_rewire: rewiring probability in [0, 1] (0: lattice, 1: random graph).
        direction: "both" makes every undirected edge two synapses (in-degree k on
            average); "random" keeps one direction chosen at random per edge (in-degree
            k/2 on average, as in snn-reservoir-py).
    """

    k: int
    p_rewire: float
    direction: Literal["both", "random"] = "both"

    def __check_init__(self):
        check_int("SmallWorld.k", self.k, minimum=2)
        if self.k % 2:
            raise ValueError(f"SmallWorld.k must be even, got {self.k}")
        check_probability("SmallWorld.p_rewire", self.p_rewire)
        if self.direction not in ("both", "random"):
            raise ValueError(
                f"SmallWorld.direction must be 'both' or 'random', got {self.direction!r}"
            )

    def pairs(self, key, n_pre, n_post, *, same):
        if n_pre != n_post:
            raise ValueError(f"SmallWorld needs n_pre == n_post, got {n_pre} and {n_post}")
        n = n_pre
        if self.k >= n:
            raise ValueError(f"SmallWorld.k must be < n = {n}, got {self.k}")
        rng = numpy_rng(key)
        a = np.repeat(np.arange(n), self.k // 2)
        b = (a + np.tile(np.arange(1, self.k // 2 + 1), n)) % n
        rewire = rng.random(a.size) < self.p_rewire
        edges = {
            (int(min(i, j)), int(max(i, j))) for i, j in zip(a[~rewire], b[~rewire], strict=True)
        }
        degree = np.bincount(np.array(sorted(edges), np.int64).reshape(-1), minlength=n)
        for i in a[rewire].tolist():
            if degree[i] >= n - 1:
                # i is already linked to every neuron (graphs close to complete): redrawing
                # its far end would never end, so the edge goes to a random missing pair.
                missing = [(x, y) for x in range(n) for y in range(x + 1, n) if (x, y) not in edges]
                e = missing[int(rng.integers(0, len(missing)))]
            else:
                while True:  # a handful of draws per rewired edge
                    j = int(rng.integers(0, n))
                    e = (min(i, j), max(i, j))
                    if j != i and e not in edges:
                        break
            edges.add(e)
            degree[list(e)] += 1
        u, v = (np.array(x, dtype=np.int64) for x in zip(*sorted(edges), strict=True))
        if self.direction == "both":
            return _sorted(np.concatenate([u, v]), np.concatenate([v, u]))
        flip = rng.random(u.size) < 0.5
        return _sorted(np.where(flip, v, u), np.where(flip, u, v))


class AllToAll(AbstractConnectivity):
    """Every pre connects to every post.

    Attributes:
        allow_self: keep i -> i synapses when pre and post are the same population.
    """

    allow_self: bool = False

    def pairs(self, key, n_pre, n_post, *, same):
        pre, post = np.divmod(np.arange(n_pre * n_post, dtype=np.int64), n_post)
        if same and not self.allow_self:
            keep = pre != post
            pre, post = pre[keep], post[keep]
        return pre, post


class OneToOne(AbstractConnectivity):
    """Neuron i of pre connects to neuron i of post (n_pre must equal n_post)."""

    def pairs(self, key, n_pre, n_post, *, same):
        if n_pre != n_post:
            raise ValueError(f"OneToOne needs n_pre == n_post, got {n_pre} and {n_post}")
        i = np.arange(n_pre, dtype=np.int64)
        return i, i


class FromMatrix(AbstractConnectivity):
    """A user-given dense weight matrix of shape (n_pre, n_post); zeros are no synapse.

    The weights are used as given (the projection's initialiser and scale are ignored).
    """

    matrix: np.ndarray = eqx.field(converter=lambda m: np.asarray(m, dtype=np.float64))

    def __check_init__(self):
        if self.matrix.ndim != 2:
            raise ValueError(
                f"FromMatrix.matrix must be 2-D (n_pre, n_post), got shape {self.matrix.shape}"
            )
        if not np.all(np.isfinite(self.matrix)):
            raise ValueError("FromMatrix.matrix must be finite, found NaN or inf")

    def pairs(self, key, n_pre, n_post, *, same):
        if self.matrix.shape != (n_pre, n_post):
            raise ValueError(
                f"FromMatrix.matrix must have shape (n_pre, n_post) = ({n_pre}, {n_post}), "
                f"got {self.matrix.shape}"
            )
        pre, post = np.nonzero(self.matrix)
        return pre.astype(np.int64), post.astype(np.int64)

    def weights(self):
        pre, post = np.nonzero(self.matrix)
        return self.matrix[pre, post]


class FromPairs(AbstractConnectivity):
    """User-given sparse synapses: index arrays `pre`, `post` and optional `weights`.

    Also accepts a SciPy sparse matrix through `FromPairs.from_sparse(matrix)`.
    Without weights, the projection's initialiser draws them.
    """

    pre: np.ndarray = eqx.field(converter=lambda x: np.asarray(x, dtype=np.int64))
    post: np.ndarray = eqx.field(converter=lambda x: np.asarray(x, dtype=np.int64))
    values: np.ndarray | None = None

    def __check_init__(self):
        if self.pre.shape != self.post.shape or self.pre.ndim != 1:
            raise ValueError(
                f"FromPairs.pre and .post must be 1-D of equal length, got {self.pre.shape} "
                f"and {self.post.shape}"
            )
        if self.values is not None:
            v = np.asarray(self.values)
            if v.shape != self.pre.shape:
                raise ValueError(
                    f"FromPairs.values must have shape {self.pre.shape}, got {v.shape}"
                )
            if not np.all(np.isfinite(v)):
                raise ValueError("FromPairs.values must be finite, found NaN or inf")
        if (
            np.unique(self.pre * (int(self.post.max(initial=0)) + 1) + self.post).size
            != self.pre.size
        ):
            raise ValueError("FromPairs holds duplicate (pre, post) pairs")

    @classmethod
    def from_sparse(cls, matrix) -> FromPairs:
        """From any SciPy sparse matrix (n_pre, n_post); stored zeros are dropped."""
        coo = matrix.tocoo()
        keep = coo.data != 0
        return cls(coo.row[keep], coo.col[keep], np.asarray(coo.data[keep], dtype=np.float64))

    def pairs(self, key, n_pre, n_post, *, same):
        for name, idx, n in (("pre", self.pre, n_pre), ("post", self.post, n_post)):
            if idx.size and (idx.min() < 0 or idx.max() >= n):
                raise ValueError(
                    f"FromPairs.{name} indices must lie in [0, {n}), got {idx.min()}..{idx.max()}"
                )
        order = np.lexsort((self.post, self.pre))
        return self.pre[order], self.post[order]

    def weights(self):
        if self.values is None:
            return None
        order = np.lexsort((self.post, self.pre))
        return np.asarray(self.values, dtype=np.float64)[order]

"""The Yin-Yang data set (Kriener, Göltz & Petrovici 2021): three classes in the plane.

Kriener, L., Göltz, J., Petrovici, M. A. (2022). "The Yin-Yang dataset". Proceedings of the
Neuro-Inspired Computational Elements Conference (NICE '22), doi:10.1145/3517343.3517380;
arXiv:2102.08211. Reference implementation: GitHub lkriener/yin_yang_data_set, `dataset.py`
(class `YinYangDataset`), whose geometry and sampling procedure this module reproduces.

Geometry (reference defaults r_small = 0.1, r_big = 0.5). Points (x, y) are drawn
uniformly in the square [0, 2·r_big)² and kept only inside the big circle, centre
(r_big, r_big), radius r_big (a point at distance > r_big is rejected). With

    d_right = |(x, y) - (1.5·r_big, r_big)|,   d_left = |(x, y) - (0.5·r_big, r_big)|,

the class is

- 2 ("dot") if d_right < r_small or d_left < r_small;
- else 1 if d_right <= r_small, or r_small < d_left <= r_big/2, or
  (y > r_big and d_right > r_big/2);
- else 0.

The reference names its classes `['yin', 'yang', 'dot']` but returns 1 for the region its
code calls `is_yin`; only the numbers are reproduced here, the names are left alone.

Sampling (the reference's rejection sampling, kept exactly as a distribution): each
sample first draws its target class uniformly from {0, 1, 2}, then proposals are drawn
until one lands inside the circle *in that class*. Class counts are therefore
Multinomial(n, 1/3, 1/3, 1/3) (balanced in expectation, not exactly), and each point is
uniform over its class's region. Each sample's inputs are (x, y, 1 - x, 1 - y): the
mirrored pair uses 1, not 2·r_big, as in the reference.

Standard split (reference README): train 5000 samples with NumPy seed 42, validation
1000 with seed 41, test 1000 with seed 40 (`np.random.RandomState(seed)`). Here every
sample comes from a JAX key, so the points cannot be the reference's numbers: the
distribution and sizes are the same, the draws are not. (The reference also ships the
exact arrays of one publication in `publication_data/`; nothing is downloaded here.)

Published accuracies (test set, mean ± std over 20 trainings with random initial
weights; from the reference README's "Reference results", which cites the paper for
details; trained as in its `example.ipynb`: Adam, learning rate 0.01, batch 20, 300
epochs):

- ANN 4-30-3: 97.6 ± 1.5 %;
- ANN 4-30-3 with frozen (untrained) lower weights: 85.5 ± 5.8 %;
- shallow network (no hidden layer): 63.8 ± 1.0 %.

These three figures were read in the README only; the paper's own table could not be
checked here, so they are not verified against the paper. (An earlier README version
listed an ANN 4-120-3, learning rate 0.001, at 98.7 ± 0.3 % and a shallow network at
64.3 ± 0.2 %.)
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray

from .._checks import check_int, check_positive, is_concrete

N_CLASSES = 3
SPLIT_SIZES = {"train": 5000, "validation": 1000, "test": 1000}


def yin_yang_class(
    x: Float[Array, "*shape"],
    y: Float[Array, "*shape"],
    *,
    r_small: float = 0.1,
    r_big: float = 0.5,
) -> Int[Array, "*shape"]:
    """The reference's class function at points (x, y): 0, 1 or 2 (int32).

    Defined everywhere (as the reference's `which_class`); whether a point lies inside
    the big circle is a separate question (`yin_yang` only keeps points that do).

    Args:
        x, y: coordinates, same shape.
        r_small: radius of the two dots.
        r_big: radius of the big circle.

    Returns:
        Class labels, int32, same shape as x.
    """
    x, y = jnp.asarray(x), jnp.asarray(y)
    d_right = jnp.sqrt((x - 1.5 * r_big) ** 2 + (y - r_big) ** 2)
    d_left = jnp.sqrt((x - 0.5 * r_big) ** 2 + (y - r_big) ** 2)
    # the three criteria, and `<=` against `<`, exactly as the reference writes them
    criterion1 = d_right <= r_small
    criterion2 = (d_left > r_small) & (d_left <= 0.5 * r_big)
    criterion3 = (y > r_big) & (d_right > 0.5 * r_big)
    is_yin = criterion1 | criterion2 | criterion3
    is_dot = (d_right < r_small) | (d_left < r_small)
    return jnp.where(is_dot, 2, is_yin.astype(jnp.int32)).astype(jnp.int32)


def _class_or_outside(xy: Float[Array, "m 2"], r_small: float, r_big: float) -> Int[Array, " m"]:
    """Class of each proposal, or -1 where it lies outside the big circle."""
    x, y = xy[:, 0], xy[:, 1]
    outside = jnp.sqrt((x - r_big) ** 2 + (y - r_big) ** 2) > r_big
    return jnp.where(outside, -1, yin_yang_class(x, y, r_small=r_small, r_big=r_big))


def yin_yang_class_probabilities(r_small: float, r_big: float) -> tuple[float, float, float]:
    """Probability that one uniform proposal in the square lands in class 0, 1, 2.

    The dots are two discs of radius r_small (total 2π·r_small²); yin and yang share the
    rest of the big disc equally (the figure is symmetric under a half turn about its
    centre, which swaps them). The square has area 4·r_big².
    """
    p_dot = math.pi * r_small**2 / (2 * r_big**2)
    p_half = math.pi / 8 - p_dot / 2
    return p_half, p_half, p_dot


def _batch_size(n: int, r_small: float, r_big: float) -> int:
    # Enough proposals that the rarest class usually fills in one pass: its need is
    # Binomial(n, 1/3) (mean n/3, sd < sqrt(n)/2), its supply about batch·p.
    p_min = min(yin_yang_class_probabilities(r_small, r_big))
    return max(64, math.ceil((n / 3 + 3 * math.sqrt(n) + 16) / p_min))


def _check_radii(r_small: float, r_big: float) -> None:
    for name, value in (("r_small", r_small), ("r_big", r_big)):
        if not is_concrete(value) or not isinstance(value, int | float | np.floating):
            raise ValueError(
                f"{name} must be a Python number (it sets the proposal batch size), got "
                f"{type(value).__name__}"
            )
        check_positive(name, value)
    # The dots must fit inside the small half-circles (radius r_big/2) they sit in; a
    # zero-area class would make the rejection sampling run forever.
    if not r_small < 0.5 * r_big:
        raise ValueError(f"r_small must be < r_big / 2, got r_small={r_small}, r_big={r_big}")


def yin_yang(
    key: PRNGKeyArray,
    n: int,
    *,
    r_small: float = 0.1,
    r_big: float = 0.5,
    dtype=None,
) -> tuple[Float[Array, "n 4"], Int[Array, " n"]]:
    """`n` samples of the Yin-Yang data set (see the module docstring).

    Jit-compatible with `n`, `r_small`, `r_big` and `dtype` static, and vmappable over
    keys. The same key gives the same samples; different keys give independent ones.

    Args:
        key: JAX PRNG key.
        n: number of samples (Python int >= 0).
        r_small: radius of the dots (Python number, 0 < r_small < r_big / 2).
        r_big: radius of the big circle (Python number > 0).
        dtype: float dtype of the inputs (None: the default float).

    Returns:
        inputs: (n, 4) `(x, y, 1 - x, 1 - y)`, with (x, y) in the disc of radius r_big
            about (r_big, r_big).
        labels: (n,) int32 in {0, 1, 2}.

    Raises:
        ValueError: `n` not an integer >= 0, or radii out of range.
    """
    check_int("n", n)
    _check_radii(r_small, r_big)
    dtype = jnp.result_type(float) if dtype is None else jnp.dtype(dtype)
    return _yin_yang(key, n, float(r_small), float(r_big), dtype)


@functools.partial(jax.jit, static_argnums=(1, 2, 3, 4))
def _yin_yang(key, n, r_small, r_big, dtype):
    key_goal, key_proposals = jr.split(key)
    goal = jr.randint(key_goal, (n,), 0, N_CLASSES, dtype=jnp.int32)
    same = goal[:, None] == jnp.arange(N_CLASSES)
    need = jnp.sum(same, axis=0, dtype=jnp.int32)
    # rank of each sample among the samples with the same target class
    rank = jnp.take_along_axis(jnp.cumsum(same, axis=0, dtype=jnp.int32), goal[:, None], 1)
    rank = rank[:, 0] - 1
    batch = _batch_size(n, r_small, r_big)

    # Why this is the reference's distribution: proposals are i.i.d. uniform, so the
    # proposals that land in class c, in the order drawn, are i.i.d. uniform over
    # class c's region and independent of the (separately keyed) targets. Giving the
    # k-th sample that targets c the k-th proposal that lands in c therefore yields, per
    # sample, exactly "propose until the target class is hit". Pooling the proposals
    # instead of looping per sample keeps every shape fixed.
    #
    # Why a while loop (and neither an error nor a host loop): a fixed number of
    # proposals can always come up short, with small probability, and a short result
    # would be either wrong (padding) or an error the user can do nothing about. The loop
    # draws further fixed-size batches until every class has enough; the batch is sized
    # so that one pass almost always suffices, so the expected cost is one batch and the
    # loop ends with probability 1. It stays on the device, under jit and vmap.
    def missing(carry):
        _, filled, _ = carry
        return jnp.any(filled < need)

    def draw(carry):
        i, filled, pool = carry
        xy = jr.uniform(jr.fold_in(key_proposals, i), (batch, 2), dtype) * (2 * r_big)
        cls = _class_or_outside(xy, r_small, r_big)
        for c in range(N_CLASSES):
            hit = cls == c
            slot = jnp.where(hit, filled[c] + jnp.cumsum(hit, dtype=jnp.int32) - 1, n)
            # slots past n are dropped: more than n points of one class are never needed
            pool = pool.at[c, slot].set(xy, mode="drop")
            filled = filled.at[c].add(jnp.sum(hit, dtype=jnp.int32))
        return i + 1, filled, pool

    init = (jnp.int32(0), jnp.zeros(N_CLASSES, jnp.int32), jnp.zeros((N_CLASSES, n, 2), dtype))
    _, _, pool = jax.lax.while_loop(missing, draw, init)
    xy = pool[goal, rank]
    x, y = xy[:, 0], xy[:, 1]
    inputs = jnp.stack([x, y, 1.0 - x, 1.0 - y], axis=1)
    return inputs, goal


def yin_yang_split(
    key: PRNGKeyArray, *, r_small: float = 0.1, r_big: float = 0.5, dtype=None
) -> dict[str, tuple[Float[Array, "n 4"], Int[Array, " n"]]]:
    """The standard split: train 5000, validation 1000, test 1000 samples.

    The three sets come from independent keys (`jr.split(key, 3)`, in the order train,
    validation, test), the role the reference's seeds 42, 41, 40 play.

    Args:
        key: JAX PRNG key.
        r_small, r_big, dtype: as in `yin_yang`.

    Returns:
        `{'train': (inputs, labels), 'validation': ..., 'test': ...}`, each as `yin_yang`
        returns it.
    """
    keys = jr.split(key, len(SPLIT_SIZES))
    return {
        name: yin_yang(k, size, r_small=r_small, r_big=r_big, dtype=dtype)
        for k, (name, size) in zip(keys, SPLIT_SIZES.items(), strict=True)
    }

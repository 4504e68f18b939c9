"""All-to-all projections with one weight: the drive is a pool sum, O(N) per step.

When every presynaptic neuron of a pool connects to every postsynaptic neuron with the
same weight w (the pool-to-pool projections of Wang 2002 and of most mean-field-style
networks), the drive onto each target is the same number,

    drive_j = Σ_i w · s_i = w · Σ_i s_i            (for every j)

so a step costs one sum over the presynaptic signal and a broadcast, O(n_pre + n_post),
instead of the O(n_pre · n_post) of a dense product. Nothing else changes: the signal is
whatever the synapse's presynaptic stage produces (spikes, or the saturating NMDA gating
s_i of each presynaptic neuron), uniform delays work through the engine's spike rings,
and the drive enters the synapse's postsynaptic stage as for any projection.

- `PooledLayout`: the storage, one weight of shape (1, 1) standing for all n_pre · n_post
  synapses (optionally without the i → i synapses when a pool projects onto itself:
  then `drive_j = w · (Σ_i s_i − s_j)`, still O(N));
- `Pooled()`: the propagation (projections sharing a signal share one sum);
- `connect_pooled(pre, post, weight, synapse)`: the projection, the counterpart of
  `jaxsnn.connect(pre, post, AllToAll(), Constant(weight), synapse)` with a dense layout,
  which it equals step for step (up to float summation order).

The weight is a parameter like any other: differentiable, trainable, vmappable. Its
gradient is the sum of the per-synapse gradients of the dense equivalent (a tied weight).
Per-synapse operations have no meaning for one tied weight, so pruning (`keep`),
per-synapse delays (`delayed`) and per-synapse postsynaptic views (`post`) raise
`ValueError`; `outer` returns the tied weight's summed update `(Σ_i a_i)(Σ_j b_j)`.
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ._checks import check_finite, check_nonnegative, is_concrete
from .inputs.abstract import AbstractSpikeInput
from .layout import AbstractLayout
from .population import Population
from .projection import Projection
from .propagation import AbstractPropagation
from .synapses.abstract import AbstractSynapse
from .synapses.delta import Delta


class PooledLayout(AbstractLayout):
    """All n_pre · n_post synapses of a projection, sharing one weight of shape (1, 1).

    Attributes:
        n_pre, n_post: sizes.
        autapses: False to leave out the i → i synapses (only meaningful, and only
            allowed, when the projection maps a population onto itself, n_pre == n_post).
    """

    n_pre: int = eqx.field(static=True)
    n_post: int = eqx.field(static=True)
    autapses: bool = eqx.field(default=True, static=True)

    targets: ClassVar[None] = None
    mask: ClassVar[None] = None

    def __check_init__(self):
        if not self.autapses and self.n_pre != self.n_post:
            raise ValueError(
                "PooledLayout.autapses=False needs a projection of a population onto itself "
                f"(n_pre == n_post), got n_pre={self.n_pre}, n_post={self.n_post}"
            )

    @property
    def shape(self):
        return (1, 1)

    @property
    def n_synapses(self) -> int:
        n = self.n_pre * self.n_post
        return n if self.autapses else n - self.n_pre

    def exists(self):
        return jnp.ones((1, 1), bool)

    def post(self, b):
        raise ValueError(
            "a pooled projection has one tied weight: per-synapse postsynaptic views do "
            "not exist (use connect() with AllToAll() for per-synapse plasticity)"
        )

    def outer(self, a, b):
        """The tied weight's summed update `Σ_ij a_i b_j` (autapse terms removed when
        absent), shape (1, 1)."""
        total = jnp.sum(a) * jnp.sum(b)
        if not self.autapses:
            total = total - jnp.sum(a * b)
        return total.reshape(1, 1)

    def post_sum(self, x):
        per_post = self.n_pre if self.autapses else self.n_pre - 1
        return jnp.broadcast_to(x.reshape(()) * per_post, (self.n_post,))

    def dense(self, x):
        full = jnp.broadcast_to(x.reshape(()), (self.n_pre, self.n_post))
        if not self.autapses:
            full = jnp.where(jnp.eye(self.n_pre, dtype=bool), jnp.zeros((), full.dtype), full)
        return full

    def product(self, weights, s):
        total = jnp.sum(s)
        drive = jnp.broadcast_to(weights.reshape(()) * total, (self.n_post,))
        if not self.autapses:
            drive = drive - weights.reshape(()) * s
        return drive

    def keep(self, keep):
        raise ValueError(
            "a pooled projection cannot be pruned synapse by synapse (one tied weight); "
            "use connect() with AllToAll() for a prunable dense projection"
        )

    def delayed(self, weights, steps, n_slots):
        raise ValueError(
            "a pooled projection takes one delay_ms for the whole projection, not one per synapse"
        )


class Pooled(AbstractPropagation):
    """Propagation of `PooledLayout` projections: `w · Σ_i s_i` broadcast to every target
    (`w · (Σ_i s_i − s_j)` without autapses). Projections sharing a presynaptic signal
    share the sum (the engine hands them over together)."""

    def drives(self, weights, layouts, s_pre):
        total = jnp.sum(s_pre)
        out = []
        for w, lay in zip(weights, layouts, strict=True):
            if s_pre.shape != (lay.n_pre,):
                raise ValueError(
                    f"Pooled: presynaptic signal must have shape ({lay.n_pre},), got {s_pre.shape}"
                )
            drive = jnp.broadcast_to(w.reshape(()) * total, (lay.n_post,))
            if not lay.autapses:
                drive = drive - w.reshape(()) * s_pre
            out.append(drive)
        return tuple(out)

    def check_layout(self, layout, name):
        if not isinstance(layout, PooledLayout):
            raise ValueError(
                f"Pooled() propagation needs a PooledLayout; projection {name} has "
                f"{type(layout).__name__} (build it with connect_pooled)"
            )


def connect_pooled(
    pre: Population | AbstractSpikeInput,
    post: Population,
    weight: float | Float[Array, ""],
    synapse: AbstractSynapse = Delta(),
    *,
    autapses: bool = True,
    delay_ms: float | None = None,
    dtype=None,
) -> Projection:
    """An all-to-all projection from `pre` to `post` whose synapses share one weight.

    Equals `connect(pre, post, AllToAll(allow_self=autapses), Constant(weight), synapse,
    layout="dense")` step for step, at O(n_pre + n_post) per step instead of
    O(n_pre · n_post) (module docstring).

    Args:
        pre: presynaptic population or spike input.
        post: postsynaptic population.
        weight: the weight of every synapse: mV for delta/current synapses (given as a
            magnitude for an inhibitory Dale population and negated, as `connect` does),
            conductance increments (units of the leak conductance, >= 0) for conductance
            and NMDA synapses. A Python float or a 0-d array (traced: trainable).
        synapse: the synapse model (`Delta()`, `ExpConductance(...)`, `NMDA()`, ...).
        autapses: keep the i → i synapses when `pre` is `post` (default True, as
            Brian2's `connect()` does; ignored for distinct populations).
        delay_ms: one transmission delay (ms) for the projection, or None.
        dtype: weight dtype (default float).

    Returns:
        The `Projection` (layout `PooledLayout`, propagation `Pooled()`).

    Raises:
        ValueError: bad populations, a non-finite weight, a weight of the wrong sign for
            Dale's law, or a negative delay.
    """
    if not isinstance(post, Population):
        raise ValueError(f"post must be a Population, got {type(post).__name__}")
    if not isinstance(pre, Population | AbstractSpikeInput):
        raise ValueError(f"pre must be a Population or a spike input, got {type(pre).__name__}")
    if np.ndim(weight) != 0:
        raise ValueError(f"weight must be a scalar, got shape {np.shape(weight)}")
    check_finite(f"projection {pre.name}->{post.name} weight", weight)
    if delay_ms is not None:
        if np.ndim(delay_ms) != 0:
            raise ValueError(
                f"projection {pre.name}->{post.name}: delay_ms must be one number, got "
                f"shape {np.shape(delay_ms)}"
            )
        check_nonnegative(f"projection {pre.name}->{post.name} delay_ms", delay_ms)
        delay_ms = float(delay_ms)
    dtype = jnp.result_type(float) if dtype is None else jnp.dtype(dtype)
    dale = pre.sign if isinstance(pre, Population) else 0
    sign = synapse.weight_sign(dale)
    w = jnp.asarray(weight, dtype)
    if dale < 0 and sign < 0:
        w = -w
    value = float(w) if is_concrete(w) else None
    if value is not None and (sign > 0 and value < 0 or sign < 0 and value > 0):
        bound = ">= 0" if sign > 0 else "<= 0"
        raise ValueError(
            f"projection {pre.name}->{post.name}: the weight of a {type(synapse).__name__} "
            f"synapse must be {bound} (Dale's law), got {value}"
        )
    same = isinstance(pre, Population) and pre.name == post.name
    layout = PooledLayout(pre.n, post.n, autapses=autapses or not same)
    return Projection(
        pre.name, post.name, synapse, w.reshape(1, 1), layout, Pooled(), sign, delay_ms
    )

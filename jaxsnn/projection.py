"""Projections: the synapses from one source (population or spike input) to a population.

`connect(pre, post, connectivity, init, synapse, key=...)` draws the synapses and their
weights and returns a `Projection`: the weights, where the synapses are (`layout`, see
`jaxsnn.layout`), the synapse model, how spikes are propagated and, optionally, a
transmission delay.

Delays (`delay_ms`): a spike is delivered round(delay_ms / dt) steps later than without
a delay. Without one, input spikes drawn at step t act at step t and a population's
spikes emitted at step t act at step t + 1 (the step in which a neuron fires ends before
its spike can act), as in Brian2, whose `delay` is the same extra delay. A delay is one
number for the whole projection or an array shaped like the weights (one per synapse;
entries of absent synapses are ignored). Delays are rounded to whole steps of the dt
given to `simulate` (as Brian2 and NEST do), so the buffers that hold spikes in flight
(`NetworkState.delays`) are sized from the largest delay when the state is made.

Only existing synapses carry weight; `Projection.constrained()` re-imposes that and
Dale's law after an optimiser update.
"""

from __future__ import annotations

from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray

from ._checks import check_finite, check_nonnegative, is_concrete
from .connectivity import AbstractConnectivity
from .initializers import AbstractInitializer, Constant
from .inputs.abstract import AbstractSpikeInput
from .layout import AbstractLayout, DenseLayout, SparseLayout
from .population import Population
from .propagation import AbstractPropagation, Dense, Event
from .synapses.abstract import AbstractSynapse
from .synapses.delta import Delta

Layout = Literal["auto", "dense", "sparse"]


class Projection(eqx.Module):
    """Synapses from `pre` (a population or spike input) onto population `post`.

    Attributes:
        pre: name of the presynaptic population or spike input.
        post: name of the postsynaptic population.
        synapse: the synapse model (`Delta()`, `ExpCurrent(tau_ms)`, ...).
        weights: shaped like the layout ((n_pre, n_post) dense or (n_pre, k) sparse); mV
            for delta/current synapses, conductance increments (units of the leak
            conductance) for conductance synapses.
        layout: where the synapses are (`DenseLayout` or `SparseLayout`).
        propagation: how spikes are propagated (`Dense()`, `Scatter()`, `Event()`).
        sign: +1 weights must be >= 0, -1 must be <= 0, 0 unconstrained (Dale's law).
        delay_ms: transmission delay (ms; module docstring): None (none), a number for the
            whole projection, or an array shaped like the weights (per synapse).
    """

    pre: str = eqx.field(static=True)
    post: str = eqx.field(static=True)
    synapse: AbstractSynapse
    weights: Float[Array, "n_pre k"]
    layout: AbstractLayout
    propagation: AbstractPropagation
    sign: int = eqx.field(default=0, static=True)
    delay_ms: float | Float[Array, "n_pre k"] | None = None

    def __check_init__(self):
        if not isinstance(self.layout, AbstractLayout):
            raise ValueError(
                f"projection {self.name}: layout must be a layout, got {self.layout!r}"
            )
        if tuple(self.weights.shape) != tuple(self.layout.shape):
            raise ValueError(
                f"projection {self.name}: weights must have shape {tuple(self.layout.shape)}, "
                f"got {tuple(self.weights.shape)}"
            )
        check_finite(f"projection {self.name} weights", self.weights)
        if not isinstance(self.propagation, AbstractPropagation):
            raise ValueError(
                f"propagation must be Dense(), Scatter(), Event() or None, got {self.propagation!r}"
            )
        self.propagation.check_layout(self.layout, self.name)
        if self.delay_ms is not None:
            check_nonnegative(f"projection {self.name} delay_ms", self.delay_ms)
            if jnp.ndim(self.delay_ms) and jnp.shape(self.delay_ms) != self.weights.shape:
                raise ValueError(
                    f"projection {self.name}: per-synapse delay_ms must be shaped like the "
                    f"weights {tuple(self.weights.shape)}, got {jnp.shape(self.delay_ms)}"
                )

    @property
    def name(self) -> str:
        """ "pre->post"."""
        return f"{self.pre}->{self.post}"

    @property
    def n_pre(self) -> int:
        return self.layout.n_pre

    @property
    def n_post(self) -> int:
        return self.layout.n_post

    @property
    def targets(self) -> Int[Array, "n_pre k"] | None:
        """ELL targets (sparse storage) or None."""
        return self.layout.targets

    @property
    def mask(self) -> Bool[Array, "n_pre n_post"] | None:
        """Mask of existing synapses (dense storage) or None."""
        return self.layout.mask

    @property
    def is_sparse(self) -> bool:
        return self.layout.targets is not None

    @property
    def n_synapses(self) -> int:
        """Number of existing synapses."""
        return self.layout.n_synapses

    @property
    def per_synapse_delays(self) -> bool:
        """True when `delay_ms` is an array (one delay per synapse)."""
        return self.delay_ms is not None and jnp.ndim(self.delay_ms) > 0

    def delay_steps(self, dt_ms: float) -> int | Int[Array, "n_pre k"]:
        """The delay in whole steps of `dt_ms`: round(delay_ms / dt_ms) (0 without a delay;
        an int for a uniform delay, an int32 array shaped like the weights per synapse,
        0 on absent synapses)."""
        if self.delay_ms is None:
            return 0
        if not self.per_synapse_delays:
            if is_concrete(self.delay_ms):
                return int(np.round(float(self.delay_ms) / dt_ms))
            raise ValueError(
                f"projection {self.name}: a uniform delay_ms must be a concrete number "
                "(it sizes the spike buffer); use a per-synapse array to vary it"
            )
        steps = jnp.round(jnp.asarray(self.delay_ms) / dt_ms).astype(jnp.int32)
        return jnp.where(self.layout.exists(), steps, 0)

    def max_delay_steps(self, dt_ms: float) -> int | None:
        """The largest delay in whole steps (0 without a delay), or None when the delays
        are traced (it sizes the delay buffers, so it must be known outside `jit`)."""
        if self.delay_ms is None:
            return 0
        if not is_concrete(self.delay_ms):
            return None
        return int(np.round(np.max(np.asarray(self.delay_ms, dtype=np.float64)) / dt_ms))

    def drive(self, s_pre: Float[Array, " n_pre"]) -> Float[Array, " n_post"]:
        """`Σ_i w_ij · s_i` for each postsynaptic neuron j (no delay, no presynaptic
        synapse stage)."""
        return self.propagation(self.weights, self.layout, s_pre)

    def dense_weights(self) -> Float[Array, "n_pre n_post"]:
        """The weights as a dense (n_pre, n_post) matrix (zeros where no synapse)."""
        return self.layout.dense(self.weights)

    def constrained(self) -> Projection:
        """This projection with weights zeroed where there is no synapse and clipped to
        the sign Dale's law allows. Call after an optimiser update."""
        w = jnp.where(self.layout.exists(), self.weights, 0.0)
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
                f"projection {self.name}: new weights must have shape "
                f"{self.weights.shape}, got {jnp.shape(weights)}"
            )
        return eqx.tree_at(lambda p: p.weights, self, weights)

    def with_delays(self, delay_ms: float | Float[Array, "n_pre k"] | None) -> Projection:
        """A copy with another delay (a number, a per-synapse array shaped like the
        weights, or None)."""
        return Projection(
            self.pre,
            self.post,
            self.synapse,
            self.weights,
            self.layout,
            self.propagation,
            self.sign,
            delay_ms,
        )


def _placed(values: list[np.ndarray], shape: tuple[int, int], at) -> list[np.ndarray]:
    """Per-synapse values written into zero arrays of `shape` at index `at`."""
    out = []
    for v in values:
        arr = np.zeros(shape, v.dtype)
        arr[at] = v
        out.append(arr)
    return out


def _ell(pre: np.ndarray, post: np.ndarray, values: list[np.ndarray], n_pre: int, n_post: int):
    """ELL targets and the per-synapse `values` arrays laid out in its slots."""
    counts = np.bincount(pre, minlength=n_pre)
    k = max(int(counts.max(initial=0)), 1)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    slot = np.arange(pre.size) - starts[pre]
    targets = np.full((n_pre, k), n_post, np.int32)
    targets[pre, slot] = post
    return targets, _placed(values, (n_pre, k), (pre, slot))


def _dense(pre: np.ndarray, post: np.ndarray, values: list[np.ndarray], n_pre: int, n_post: int):
    """The mask of existing synapses and the per-synapse `values` as dense matrices."""
    mask = np.zeros((n_pre, n_post), bool)
    mask[pre, post] = True
    return mask, _placed(values, (n_pre, n_post), (pre, post))


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
    delay_ms: float | AbstractInitializer | None = None,
    dtype=None,
) -> Projection:
    """Draw the synapses from `pre` to `post` and their weights.

    Weights are `scale · init(...)`; when `pre` obeys Dale's law as "inhibitory" and the
    synapse's weights carry the sign of its effect (delta, current), they are negated (so
    `init` and `scale` give magnitudes). Weights fixed by the connectivity (`FromMatrix`,
    `FromPairs` with values) are taken as given and must already respect Dale's law.

    Args:
        pre: presynaptic population or spike input.
        post: postsynaptic population.
        connectivity: e.g. `FixedProbability(0.1)`, `FixedInDegree(80)`, `SmallWorld(10, 0.1)`.
        init: weight initialiser (magnitudes), e.g. `AbsNormal(0.1, 0.05)`.
        synapse: the synapse model, e.g. `Delta()`, `ExpCurrent(tau_ms)`,
            `ExpConductance(tau_ms, e_rev_mv)`, `DualExponential(...)`, `NMDA()`.
        key: PRNG key for the connectivity, the weights and drawn delays.
        scale: multiplies the drawn weights (> 0 for Dale populations).
        layout: "dense", "sparse" or "auto" (dense when at least 20 % of the pairs are
            connected or the matrix has at most 65 536 entries).
        propagation: how spikes are propagated; default (None): `Event()` for sparse
            storage (work proportional to the spikes; measured faster than `Scatter()` at
            every size and rate of benchmarks/README.md), `Dense()` for dense storage
            (small or densely connected layers, where one matmul beats gathering rows).
            `Scatter()` needs sparse storage, `Dense()` dense storage; `Event()` runs on
            both.
        delay_ms: transmission delay (module docstring): None, one number (ms) for the
            projection, or an initialiser that draws one delay (ms) per synapse, e.g.
            `Uniform(0.5, 2.0)`.
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
    if propagation is not None and not isinstance(propagation, AbstractPropagation):
        raise ValueError(
            f"propagation must be Dense(), Scatter(), Event() or None, got {propagation!r}"
        )
    check_finite("scale", scale)
    dtype = jnp.result_type(float) if dtype is None else jnp.dtype(dtype)
    dale = pre.sign if isinstance(pre, Population) else 0
    if dale and not scale > 0:
        raise ValueError(f"scale must be > 0 for Dale population '{pre.name}', got {scale}")
    sign = synapse.weight_sign(dale)
    k_conn, k_w = jax.random.split(key)  # as before delays existed: same key, same network
    k_delay = jax.random.fold_in(key, 2)
    same = pre is post or (isinstance(pre, Population) and pre.name == post.name)
    pre_idx, post_idx = connectivity.pairs(k_conn, pre.n, post.n, same=same)
    given = connectivity.weights()
    if given is None:
        w = np.asarray(init(k_w, int(pre_idx.size), dtype), dtype=np.float64) * scale
        if dale < 0 and sign < 0:
            w = -w
    else:
        w = np.asarray(given, dtype=np.float64)
    if sign > 0 and np.any(w < 0) or sign < 0 and np.any(w > 0):
        what = (
            f"weights of a {type(synapse).__name__} synapse"
            if sign != dale
            else f"weights from {pre.dale} '{pre.name}'"
        )
        bound = ">= 0" if sign > 0 else "<= 0"
        raise ValueError(
            f"{what} must be {bound} (Dale's law); found {int(np.sum(w * sign < 0))} violating"
        )
    values = [w.astype(dtype)]
    uniform_delay = None
    if isinstance(delay_ms, AbstractInitializer):
        drawn = np.asarray(delay_ms(k_delay, int(pre_idx.size), dtype), dtype=np.float64)
        check_nonnegative(f"projection {pre.name}->{post.name} delay_ms", drawn)
        values.append(drawn.astype(dtype))
    elif delay_ms is not None:
        check_nonnegative(f"projection {pre.name}->{post.name} delay_ms", delay_ms)
        uniform_delay = float(delay_ms)
    n_pairs = pre.n * post.n
    dense = layout == "dense" or (
        layout == "auto" and (n_pairs <= 65536 or pre_idx.size >= 0.2 * n_pairs)
    )
    if dense:
        mask, arrays = _dense(pre_idx, post_idx, values, pre.n, post.n)
        storage: AbstractLayout = DenseLayout(pre.n, post.n, jnp.asarray(mask))
        default = Dense()
    else:
        targets, arrays = _ell(pre_idx, post_idx, values, pre.n, post.n)
        storage = SparseLayout(pre.n, post.n, jnp.asarray(targets))
        default = Event()
    delays = jnp.asarray(arrays[1]) if len(arrays) > 1 else uniform_delay
    return Projection(
        pre.name,
        post.name,
        synapse,
        jnp.asarray(arrays[0]),
        storage,
        default if propagation is None else propagation,
        sign,
        delays,
    )

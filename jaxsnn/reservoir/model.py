"""The reservoir of snn-reservoir-py (`snnpy` 2.0.0), as an immutable JAX module.

One population of n discrete-time leaky integrate-and-fire neurons with recurrent delta
synapses; time is counted in steps (no ms anywhere: snnpy has none). The first `n_in`
neurons are the input neurons, driven by a binary input matrix (n_in, T), neurons ×
steps, as in snnpy. Step t, in snnpy's order (`SNN.simulate`):

    refractory ← max(refractory − 1, 0)
    v[:n_in]  += current_amplitude · input[:, t]        (while t < T)
    s          = (v ≥ threshold) and (refractory = 0)
    STDP (if on, only in steps where some neuron spikes): `jaxsnn.reservoir.run`
    v ← 0 and refractory ← refractory_steps + 1 where s
    v ← v · (1 − leak_coefficient)
    v[j] += Σ_i w_ij s_i                                (this step's spikes, weights after STDP)

so a spike reaches its targets at the end of its own step, and a neuron that spiked
cannot spike again for `refractory_steps` steps (it still integrates meanwhile).
Membrane potentials and weights are float32 like snnpy's; with the same adjacency,
initial potentials and inputs the output spikes are identical to snnpy's
(tests/test_reservoir_snnpy.py, benchmarks/reservoir_snnpy.py).

Weights are an (n_pre, n_post) matrix, W[i, j] the synapse i → j (snnpy's orientation),
stored dense or sparse (ELL rows, `jaxsnn.layout`); a synapse exists where the adjacency
stores an entry (an explicitly stored 0 counts, as in snnpy, until pruning removes it).
"""

from __future__ import annotations

import math
from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int, PRNGKeyArray

from .._checks import check_finite, check_int, check_positive, check_probability
from ..connectivity import AbstractConnectivity, FixedProbability, SmallWorld
from ..layout import AbstractLayout, DenseLayout, SparseLayout
from ..plasticity import STDP
from ..projection import _dense, _ell
from ..propagation import AbstractPropagation, Event

Layout = Literal["dense", "sparse", "auto"]


class ReservoirState(eqx.Module):
    """What changes while a reservoir runs (weights excepted: they live on `Reservoir`).

    Attributes:
        v: (n,) membrane potentials (float32, threshold units).
        refractory: (n,) int32 steps left before a neuron may spike again, plus one.
        trace_pre, trace_post: (n,) STDP traces (dimensionless; zero without STDP).
            Like snnpy's, they survive `Reservoir.reset`.
    """

    v: Float[Array, " n"]
    refractory: Int[Array, " n"]
    trace_pre: Float[Array, " n"]
    trace_post: Float[Array, " n"]


class Reservoir(eqx.Module):
    """A reservoir of discrete-time LIF neurons (model in the module docstring).

    Build one with `build_reservoir` (random topology) or `from_adjacency` (a user's or
    snnpy's matrix); run it with `jaxsnn.reservoir.run`.

    Attributes:
        weights: recurrent weights in `layout`'s storage ((n, n) dense or (n, k) ELL).
        layout: `DenseLayout` or `SparseLayout` (which synapses exist).
        v_init: (n,) initial membrane potentials, restored by `reset`.
        output_neurons: (n_out,) indices of the neurons whose spikes are returned.
        threshold: firing threshold (v ≥ threshold spikes).
        leak_coefficient: fraction of v lost per step, in [0, 1).
        refractory_steps: steps after a spike during which a neuron cannot spike (>= 0).
        current_amplitude: added to an input neuron's v when its input entry is 1.
        stdp: `jaxsnn.plasticity.STDP` run in snnpy's order, or None (static weights).
            Its time constants are in steps (dt = 1); `stdp_from_snnpy` maps snnpy's names.
        propagation: how spikes reach their targets (`Event()`: work per spike).
    """

    weights: Float[Array, "n k"]
    layout: AbstractLayout
    v_init: Float[Array, " n"]
    output_neurons: Int[Array, " n_out"]
    threshold: float | Array
    leak_coefficient: float | Array
    refractory_steps: int = eqx.field(static=True)
    current_amplitude: float | Array
    stdp: STDP | None = None
    propagation: AbstractPropagation = Event()

    def __check_init__(self):
        n = self.layout.n_pre
        if self.layout.shape[0] != self.layout.n_post or n != self.layout.n_post:
            raise ValueError(f"a reservoir's weights must be square, got {self.layout.shape}")
        if tuple(self.weights.shape) != tuple(self.layout.shape):
            raise ValueError(
                f"Reservoir.weights has shape {self.weights.shape}, its layout {self.layout.shape}"
            )
        if not jnp.issubdtype(self.weights.dtype, jnp.floating):
            raise ValueError(f"Reservoir.weights must be floats, got {self.weights.dtype}")
        check_finite("Reservoir.weights", self.weights)
        if jnp.shape(self.v_init) != (n,):
            raise ValueError(
                f"Reservoir.v_init must have shape ({n},), got {jnp.shape(self.v_init)}"
            )
        check_finite("Reservoir.v_init", self.v_init)
        out = self.output_neurons
        if jnp.ndim(out) != 1 or not jnp.issubdtype(out.dtype, jnp.integer):
            raise ValueError("Reservoir.output_neurons must be a 1-D integer array")
        if not isinstance(out, jax.core.Tracer) and out.size and (out.min() < 0 or out.max() >= n):
            raise ValueError(
                f"Reservoir.output_neurons must lie in [0, {n}), got {np.asarray(out)}"
            )
        check_finite("Reservoir.threshold", self.threshold)
        check_finite("Reservoir.current_amplitude", self.current_amplitude)
        _check_leak(self.leak_coefficient)
        check_int("Reservoir.refractory_steps", self.refractory_steps, minimum=0)
        if self.stdp is not None:
            if not isinstance(self.stdp, STDP):
                raise ValueError(
                    f"Reservoir.stdp must be a jaxsnn.plasticity.STDP, got {self.stdp!r}"
                )
            c = self.stdp.coincident_weight
            if not (isinstance(c, int | float) and c == 0):
                raise ValueError(
                    "Reservoir.stdp: snnpy's order has no coincident pairs; use coincident_weight=0"
                )
        if not isinstance(self.propagation, AbstractPropagation):
            raise ValueError(
                f"Reservoir.propagation must be a propagation, got {self.propagation!r}"
            )
        self.propagation.check_layout(self.layout, "reservoir")

    @property
    def n_neurons(self) -> int:
        return self.layout.n_pre

    @property
    def n_outputs(self) -> int:
        return int(self.output_neurons.shape[0])

    def initial_state(self) -> ReservoirState:
        """v = `v_init`, nothing refractory, zero traces."""
        zeros = jnp.zeros((self.n_neurons,), self.weights.dtype)
        return ReservoirState(self.v_init, jnp.zeros((self.n_neurons,), jnp.int32), zeros, zeros)

    def reset(self, state: ReservoirState) -> ReservoirState:
        """snnpy's `reset()`: v back to `v_init`, refractory timers cleared; the STDP
        traces are kept (snnpy clears them only when STDP is disabled)."""
        return ReservoirState(
            self.v_init, jnp.zeros_like(state.refractory), state.trace_pre, state.trace_post
        )

    def dense_weights(self) -> Float[Array, "n n"]:
        """The (n, n) weight matrix (0 where no synapse exists)."""
        return self.layout.dense(self.weights)

    def exists(self) -> Array:
        """Where synapses exist, in the storage's shape."""
        return self.layout.exists()

    def with_weights(self, weights: Float[Array, "n k"]) -> Reservoir:
        """The same reservoir with new weights (same storage, same synapses)."""
        return eqx.tree_at(lambda r: r.weights, self, jnp.asarray(weights, self.weights.dtype))

    def adjacency(self):
        """The weights as a `scipy.sparse.csr_matrix` (float32, one stored entry per
        existing synapse, zeros included): what snnpy's `get_topology` returns."""
        from scipy import sparse

        pre, slot = np.nonzero(np.asarray(self.exists()))
        w = np.asarray(self.weights, np.float32)[pre, slot]
        post = slot if self.layout.targets is None else np.asarray(self.layout.targets)[pre, slot]
        m = sparse.csr_matrix((w, (pre, post)), shape=(self.n_neurons,) * 2)
        m.sort_indices()
        return m


def _check_leak(leak) -> None:
    check_finite("leak_coefficient", leak)
    if isinstance(leak, jax.core.Tracer):
        return
    arr = np.asarray(leak)
    if np.any(arr < 0) or np.any(arr >= 1):
        raise ValueError(
            f"leak_coefficient must lie in [0, 1) (fraction lost per step), got {leak}"
        )


def leak_of(leak_coefficient: float | None, tau_steps: float | None) -> float:
    """The per-step leak from exactly one of `leak_coefficient` (snnpy's) or a membrane
    time constant in steps, `1 − exp(−1/tau_steps)` (exact decay of a free membrane)."""
    if (leak_coefficient is None) == (tau_steps is None):
        raise ValueError("give exactly one of leak_coefficient and tau_steps")
    if tau_steps is not None:
        check_positive("tau_steps", tau_steps)
        return 1.0 - math.exp(-1.0 / tau_steps)
    _check_leak(leak_coefficient)
    return leak_coefficient


def stdp_from_snnpy(
    *,
    tau_plus: float = 0.02,
    tau_minus: float = 0.04,
    A_plus: float = 1e-3,  # noqa: N803 - snnpy's names, so its keyword arguments carry over
    A_minus: float | None = None,  # noqa: N803
    eta: float = 1.0,
    W_max: float = 1.0,  # noqa: N803
    clip: bool = True,
    nearest_neighbor: bool = False,
    lock_A_minus: bool = False,  # noqa: N803
    weight_update_rule: str = "multiplicative",
) -> STDP:
    """The `STDP` rule that snnpy's `STDPParams(...)` with the same arguments describes
    (same names and defaults; time constants in steps).

    snnpy's defaults (τ₊ = 0.02, τ₋ = 0.04 steps) make a trace decay by e^-50 per step,
    so with them STDP changes nothing measurable; they are kept so that a port gives
    snnpy's results. A_minus defaults to 1e-3, or A_plus·τ₊/τ₋ with `lock_A_minus`.
    """
    from ..plasticity import Additive, AllPairs, Multiplicative, NearestSpike

    rules = {"multiplicative": Multiplicative(), "additive": Additive()}
    rule = str(weight_update_rule).lower().strip()
    if rule not in rules:
        raise ValueError(
            f"weight_update_rule must be 'multiplicative' or 'additive', got {weight_update_rule!r}"
        )
    if lock_A_minus and A_minus is not None:
        raise ValueError("with lock_A_minus=True, A_minus is derived and must not be given")
    return STDP(
        a_plus=A_plus,
        a_minus=None if lock_A_minus else (1e-3 if A_minus is None else A_minus),
        tau_plus_ms=tau_plus,
        tau_minus_ms=tau_minus,
        eta=eta,
        w_max=W_max,
        clip=clip,
        balanced=lock_A_minus,
        pairing=NearestSpike() if nearest_neighbor else AllPairs(),
        weight_dependence=rules[rule],
    )


def _storage(pre, post, w, n: int, layout: Layout):
    if layout not in ("dense", "sparse", "auto"):
        raise ValueError(f"layout must be 'dense', 'sparse' or 'auto', got {layout!r}")
    if layout == "auto":
        layout = "dense" if pre.size >= 0.2 * n * n else "sparse"
    if layout == "dense":
        mask, (weights,) = _dense(pre, post, [w], n, n)
        return jnp.asarray(weights), DenseLayout(n, n, jnp.asarray(mask))
    targets, (weights,) = _ell(pre, post, [w], n, n)
    return jnp.asarray(weights), SparseLayout(n, n, jnp.asarray(targets))


def _outputs(key, n: int, n_inputs: int, n_outputs, output_neurons) -> Array:
    if (n_outputs is None) == (output_neurons is None):
        raise ValueError("give exactly one of n_outputs and output_neurons")
    if output_neurons is not None:
        out = np.asarray(output_neurons)
        if out.ndim != 1 or not np.issubdtype(out.dtype, np.integer):
            raise ValueError("output_neurons must be a 1-D array of integer indices")
        return jnp.asarray(out, jnp.int32)
    check_int("n_outputs", n_outputs, minimum=1)
    if n - n_inputs < n_outputs:
        raise ValueError(f"n_outputs = {n_outputs} but only {n - n_inputs} neurons are not inputs")
    # snnpy draws the outputs among the hidden (non-input) neurons, without repetition.
    return (n_inputs + jr.permutation(key, n - n_inputs)[:n_outputs]).astype(jnp.int32)


def _potentials(key, n: int, threshold: float, initial_potentials, *, in_range: bool) -> Array:
    if initial_potentials is None:
        lo, hi = (0.0, threshold) if threshold >= 0 else (threshold, 0.0)
        return jr.uniform(key, (n,), jnp.float32, lo, hi)
    v = np.asarray(initial_potentials)
    if v.shape != (n,) or not np.issubdtype(v.dtype, np.floating):
        raise ValueError(f"initial_potentials must be ({n},) floats, got {v.shape} {v.dtype}")
    if not np.all(np.isfinite(v)):
        raise ValueError("initial_potentials contain NaN or infinite values")
    lo, hi = sorted((0.0, float(threshold)))
    if in_range and (np.any(v < lo) or np.any(v > hi)):
        raise ValueError(
            f"initial_potentials must lie in [{lo}, {hi}] (between 0 and the threshold)"
        )
    return jnp.asarray(v, jnp.float32)


def build_reservoir(
    key: PRNGKeyArray,
    *,
    n_neurons: int,
    mean_weight: float,
    threshold: float,
    refractory_steps: int,
    leak_coefficient: float | None = None,
    tau_steps: float | None = None,
    small_world_k: int | None = None,
    small_world_p: float | None = None,
    connection_prob: float | None = None,
    weight_variance: float = 0.1,
    current_amplitude: float | None = None,
    n_inputs: int = 0,
    n_outputs: int | None = None,
    output_neurons: ArrayLike | None = None,
    initial_potentials: ArrayLike | None = None,
    stdp: STDP | None = None,
    layout: Layout = "auto",
    propagation: AbstractPropagation = Event(),
) -> Reservoir:
    """A random reservoir from snnpy's parameters (`SimulationParams`, jaxsnn names).

    Topology: a Watts–Strogatz small world (`small_world_k`, `small_world_p`; each
    undirected edge becomes one synapse of random direction, as in snnpy, so the mean
    in-degree is k/2) or an Erdős–Rényi graph (`connection_prob`); no self-synapses.
    Weights ~ Normal(mean_weight, |mean_weight|·weight_variance): snnpy's
    `weight_variance` is a relative standard deviation, not a variance.

    Args:
        key: PRNG key (topology, weights, outputs, initial potentials).
        n_neurons: n (>= 2).
        mean_weight, weight_variance: the weight distribution (above).
        threshold: firing threshold (snnpy `membrane_threshold`).
        refractory_steps: refractory period in steps (snnpy `refractory_period`).
        leak_coefficient / tau_steps: exactly one; the fraction of v lost per step, or a
            time constant in steps (`leak_coefficient = 1 − exp(−1/tau_steps)`).
        small_world_k, small_world_p / connection_prob: exactly one topology.
        current_amplitude: input current per input spike (default: the threshold, so
            an input spike alone makes an input neuron fire).
        n_inputs: how many (leading) neurons receive input, for choosing outputs among
            the others; inputs are otherwise taken from the input matrix's rows.
        n_outputs / output_neurons: exactly one.
        initial_potentials: (n,) in [0, threshold]; default uniform in that range.
        stdp: an `STDP` rule (e.g. `stdp_from_snnpy(...)`), or None.
        layout: weight storage, "auto" (dense from 20 % connectivity), "dense", "sparse".
        propagation: `Event()` (default) or `Dense()` / `Scatter()` to match the storage.
    """
    check_int("n_neurons", n_neurons, minimum=2)
    check_int("n_inputs", n_inputs, minimum=0)
    if n_inputs > n_neurons:
        raise ValueError(f"n_inputs = {n_inputs} exceeds n_neurons = {n_neurons}")
    check_finite("mean_weight", mean_weight)
    if weight_variance < 0:
        raise ValueError(f"weight_variance must be >= 0, got {weight_variance}")
    check_finite("threshold", threshold)
    topology: AbstractConnectivity
    if connection_prob is not None:
        if small_world_k is not None or small_world_p is not None:
            raise ValueError("give either connection_prob or small_world_k/small_world_p, not both")
        check_probability("connection_prob", connection_prob)
        topology = FixedProbability(connection_prob)
    elif small_world_k is None or small_world_p is None:
        raise ValueError("give connection_prob, or both small_world_k and small_world_p")
    else:
        topology = SmallWorld(small_world_k, small_world_p, direction="random")
    k_topo, k_w, k_out, k_v = jr.split(key, 4)
    pre, post = topology.pairs(k_topo, n_neurons, n_neurons, same=True)
    w = mean_weight + abs(mean_weight) * weight_variance * jr.normal(k_w, (len(pre),), jnp.float32)
    return _assemble(
        (np.asarray(pre), np.asarray(post), np.asarray(w), n_neurons),
        (k_out, k_v),
        in_range=True,
        threshold=threshold,
        refractory_steps=refractory_steps,
        leak=leak_of(leak_coefficient, tau_steps),
        current_amplitude=current_amplitude,
        n_inputs=n_inputs,
        n_outputs=n_outputs,
        output_neurons=output_neurons,
        initial_potentials=initial_potentials,
        stdp=stdp,
        layout=layout,
        propagation=propagation,
    )


def _assemble(
    synapses,
    keys,
    *,
    in_range: bool,
    threshold,
    refractory_steps,
    leak,
    current_amplitude,
    n_inputs,
    n_outputs,
    output_neurons,
    initial_potentials,
    stdp,
    layout,
    propagation,
) -> Reservoir:
    """The `Reservoir` of `synapses` = (pre, post, weights, n); outputs and initial
    potentials (when not given) drawn from `keys` = (k_out, k_v)."""
    pre, post, w, n = synapses
    k_out, k_v = keys
    weights, lay = _storage(pre, post, w, n, layout)
    return Reservoir(
        weights=weights,
        layout=lay,
        v_init=_potentials(k_v, n, threshold, initial_potentials, in_range=in_range),
        output_neurons=_outputs(k_out, n, n_inputs, n_outputs, output_neurons),
        threshold=threshold,
        leak_coefficient=leak,
        refractory_steps=refractory_steps,
        current_amplitude=threshold if current_amplitude is None else current_amplitude,
        stdp=stdp,
        propagation=propagation,
    )


def from_adjacency(
    adjacency,
    *,
    threshold: float,
    refractory_steps: int,
    leak_coefficient: float | None = None,
    tau_steps: float | None = None,
    current_amplitude: float | None = None,
    n_inputs: int = 0,
    n_outputs: int | None = None,
    output_neurons: ArrayLike | None = None,
    initial_potentials: ArrayLike | None = None,
    key: PRNGKeyArray | None = None,
    stdp: STDP | None = None,
    layout: Layout = "auto",
    propagation: AbstractPropagation = Event(),
) -> Reservoir:
    """A reservoir on a given weighted adjacency matrix W[pre, post]: a `scipy.sparse`
    matrix (every stored entry is a synapse, zeros included, as in snnpy) or a dense
    array (every non-zero entry is a synapse). Other arguments as in `build_reservoir`,
    except that given `initial_potentials` may be any finite values (potentials saved
    after a run lie outside [0, threshold]); `key` is needed only to draw outputs or
    initial potentials."""
    synapses = _pairs_of(adjacency)
    if (n_outputs is not None or initial_potentials is None) and key is None:
        raise ValueError("a key is needed to draw output neurons or initial potentials")
    check_int("n_inputs", n_inputs, minimum=0)
    return _assemble(
        synapses,
        tuple(jr.split(jr.key(0) if key is None else key)),
        in_range=False,
        threshold=threshold,
        refractory_steps=refractory_steps,
        leak=leak_of(leak_coefficient, tau_steps),
        current_amplitude=current_amplitude,
        n_inputs=n_inputs,
        n_outputs=n_outputs,
        output_neurons=output_neurons,
        initial_potentials=initial_potentials,
        stdp=stdp,
        layout=layout,
        propagation=propagation,
    )


def _pairs_of(adjacency):
    from scipy import sparse

    if sparse.issparse(adjacency):
        m = sparse.csr_matrix(adjacency, copy=True)
        m.sort_indices()
        m.sum_duplicates()
        if m.shape[0] != m.shape[1]:
            raise ValueError(f"the adjacency matrix must be square, got {m.shape}")
        if not np.issubdtype(m.dtype, np.floating):
            raise ValueError(f"the adjacency matrix must hold float weights, got {m.dtype}")
        pre = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
        post, w = m.indices, m.data
    else:
        a = np.asarray(adjacency)
        if a.ndim != 2 or a.shape[0] != a.shape[1]:
            raise ValueError(f"the adjacency matrix must be square, got shape {a.shape}")
        if not np.issubdtype(a.dtype, np.floating):
            raise ValueError(f"the adjacency matrix must hold float weights, got {a.dtype}")
        pre, post = np.nonzero(a)
        w = a[pre, post]
    if not np.all(np.isfinite(w)):
        raise ValueError("the adjacency matrix contains NaN or infinite weights")
    if pre.size == 0:
        raise ValueError("the adjacency matrix has no synapses")
    return (
        pre.astype(np.int64),
        post.astype(np.int64),
        w.astype(np.float32),
        int(adjacency.shape[0]),
    )

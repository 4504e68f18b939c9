"""Running a reservoir: one input, a batch of inputs in one vmapped call, or a sequence
of inputs with STDP learning carried from one to the next.

STDP in snnpy's order (`SNN.simulate` with `STDPParams`), in every step where at least
one neuron spikes (and only then: snnpy decays its traces in those steps only), with
s = this step's spikes, before the reset:

    x_pre ← x_pre·exp(−1/τ₊),  x_post ← x_post·exp(−1/τ₋)
    depression, rows of spiking presynaptic neurons i:  w_ij ← depressed(w_ij, η·A₋, x_post,j)
    clip those rows to [0, w_max] (if `clip`)
    potentiation, columns of spiking postsynaptic j:    w_ij ← potentiated(w_ij, η·A₊, x_pre,i)
    clip those columns to [0, w_max] (if `clip`)
    x ← pairing(x, s)  for both traces

`depressed`/`potentiated` are those of the rule's weight dependence (`Additive`:
w ∓ amount·x; `Multiplicative`: w·(1 − amount/w_max·x) and w + amount·x·(1 − w/w_max)).
Unlike `jaxsnn.plasticity.STDP` inside `simulate`, the two halves are applied one after
the other (potentiation sees the depressed weight) and a whole row or column is clipped
when its neuron spikes, which is what makes the weights equal snnpy's. The propagation of
this step's spikes already uses the new weights.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jaxtyping import Array, ArrayLike, Float

from .._checks import check_int
from .._numerics import exp_decay
from ..plasticity import STDP
from .model import Reservoir, ReservoirState


class ReservoirRun(eqx.Module):
    """The result of `run` (leading batch axis B on every field when inputs were batched).

    Attributes:
        outputs: (T, n_out) spikes of the output neurons, 0/1 float32 (snnpy's
            `simulate()` return value, as floats so that the analyses take it as is).
        spikes: (T, n) spikes of all neurons with `record_all=True`, else None.
        state: the state after the last step (`Reservoir.reset` it to run again).
        reservoir: the reservoir with its weights after STDP (unchanged without STDP).
    """

    outputs: Float[Array, "t n_out"]
    spikes: Float[Array, "t n"] | None
    state: ReservoirState
    reservoir: Reservoir


def _stdp_step(rule: STDP, res: Reservoir, w, pre, post, s):
    s_f = s.astype(w.dtype)
    x_pre = (pre * exp_decay(1.0 / rule.tau_plus_ms)).astype(pre.dtype)
    x_post = (post * exp_decay(1.0 / rule.tau_minus_ms)).astype(post.dtype)
    exists = res.layout.exists()
    dep = rule.weight_dependence

    def bounded(x):
        return jnp.clip(x, 0.0, rule.w_max) if rule.clip else x

    rows = s[:, None] & exists
    depressed = dep.depressed(w, rule.eta * rule.a_minus_value, res.layout.post(x_post), rule.w_max)
    w_new = jnp.where(rows, bounded(depressed), w)
    cols = (res.layout.post(s_f) > 0) & exists
    potentiated = dep.potentiated(w_new, rule.eta * rule.a_plus, x_pre[:, None], rule.w_max)
    w_new = jnp.where(cols, bounded(potentiated), w_new).astype(w.dtype)
    pre_new = rule.pairing(x_pre, s_f).astype(pre.dtype)
    post_new = rule.pairing(x_post, s_f).astype(post.dtype)
    # snnpy touches traces (and weights) only in steps where some neuron spikes.
    fired = jnp.any(s)
    return (
        jnp.where(fired, w_new, w),
        jnp.where(fired, pre_new, pre),
        jnp.where(fired, post_new, post),
    )


def _step(res: Reservoir, n_in: int, carry, x, batch_minor: bool = False):
    """One step; with `batch_minor`, v, refractory and x carry a trailing trial axis
    (neuron-major: `Layout.batch_product`) and the weights are shared (no STDP)."""
    v, refractory, w, pre, post = carry
    refractory = jnp.maximum(refractory - 1, 0)
    if n_in:
        v = v.at[:n_in].add((res.current_amplitude * x).astype(v.dtype))
    s = (v >= res.threshold) & (refractory == 0)
    if res.stdp is not None:
        w, pre, post = _stdp_step(res.stdp, res, w, pre, post, s)
    v = jnp.where(s, jnp.zeros((), v.dtype), v)
    refractory = jnp.where(s, res.refractory_steps + 1, refractory).astype(refractory.dtype)
    v = (v * (1.0 - res.leak_coefficient)).astype(v.dtype)
    if batch_minor:
        v = v + res.layout.batch_product(w, s.astype(v.dtype))
    else:
        v = v + res.propagation(w, res.layout, s.astype(v.dtype))
    return (v, refractory, w, pre, post), s


@eqx.filter_jit
def _run_one(res: Reservoir, inputs: Array, state: ReservoirState, record_all: bool):
    n_in = inputs.shape[0]
    carry = (state.v, state.refractory, res.weights, state.trace_pre, state.trace_post)
    out_idx = res.output_neurons

    def body(carry, x):
        carry, s = _step(res, n_in, carry, x)
        s = s.astype(jnp.float32)
        return carry, (s[out_idx], s if record_all else None)

    (v, refractory, w, pre, post), (outputs, spikes) = lax.scan(body, carry, inputs.T)
    new_state = ReservoirState(v, refractory, pre, post)
    return ReservoirRun(outputs, spikes, new_state, res.with_weights(w))


def _prepared_inputs(res: Reservoir, inputs: ArrayLike, n_steps: int | None) -> Array:
    x = np.asarray(inputs) if not isinstance(inputs, jax.Array) else inputs
    if x.ndim not in (2, 3):
        raise ValueError(
            f"inputs must be (n_inputs, T) or a batch (B, n_inputs, T), got shape {x.shape}"
        )
    if x.shape[-2] > res.n_neurons:
        raise ValueError(
            f"inputs have {x.shape[-2]} rows (input neurons) but the reservoir has "
            f"{res.n_neurons} neurons"
        )
    if not (jnp.issubdtype(x.dtype, jnp.integer) or jnp.issubdtype(x.dtype, jnp.bool_)):
        if not isinstance(x, jax.core.Tracer) and not np.all(np.isfinite(np.asarray(x))):
            raise ValueError("inputs contain NaN or infinite values")
    x = jnp.asarray(x, jnp.float32)
    t_in = x.shape[-1]
    if n_steps is None:
        n_steps = t_in
    check_int("n_steps", n_steps, minimum=1)
    if n_steps > t_in:  # snnpy: no input after the matrix ends
        pad = [(0, 0)] * (x.ndim - 1) + [(0, n_steps - t_in)]
        x = jnp.pad(x, pad)
    return x[..., :n_steps]


def run(
    reservoir: Reservoir,
    inputs: ArrayLike,
    *,
    state: ReservoirState | None = None,
    n_steps: int | None = None,
    record_all: bool = False,
) -> ReservoirRun:
    """Simulate the reservoir on one input matrix or a batch of them.

    Args:
        reservoir: the reservoir.
        inputs: 0/1 input matrix (n_in, T), neurons × steps (row r drives neuron r), or
            a batch (B, n_in, T), run in one vmapped call (every trial starts from the
            same state and, with STDP, learns on its own copy of the weights).
        state: the state to start from (default `reservoir.initial_state()`).
        n_steps: steps to run (default T; past T the input is silent).
        record_all: also return the spikes of every neuron.

    Returns:
        A `ReservoirRun`.
    """
    x = _prepared_inputs(reservoir, inputs, n_steps)
    state = reservoir.initial_state() if state is None else state
    if x.ndim == 2:
        return _run_one(reservoir, x, state, record_all)
    return _run_batch(reservoir, x, state, record_all)


@eqx.filter_jit
def _run_batch(res: Reservoir, x: Array, state: ReservoirState, record_all: bool):
    if res.stdp is not None or res.layout.targets is None:
        # Each trial learns its own weights; dense storage is best left to Event()'s
        # pooled batching or to one (B, n) @ (n, n) product, which vmap gives.
        return jax.vmap(lambda xi: _run_one(res, xi, state, record_all))(x)
    return _run_batch_minor(res, x, state, record_all)


def _run_batch_minor(res: Reservoir, x: Array, state: ReservoirState, record_all: bool):
    """Trials of a sparse reservoir without STDP, neuron-major: v is (n, B), so each
    synapse adds B contiguous values in one go (`SparseLayout.batch_product`); the
    full product does n·k·B multiply-adds per step, whatever the activity."""
    b = x.shape[0]

    def tile(a):
        return jnp.broadcast_to(a[:, None], (a.shape[0], b))

    carry = (
        tile(state.v),
        tile(state.refractory),
        res.weights,
        tile(state.trace_pre),
        tile(state.trace_post),
    )
    out_idx = res.output_neurons

    def body(carry, xt):
        carry, s = _step(res, x.shape[1], carry, xt, batch_minor=True)
        s = s.astype(jnp.float32)
        return carry, (s[out_idx].T, s.T if record_all else None)

    (v, refractory, w, pre, post), (outputs, spikes) = lax.scan(
        body, carry, jnp.transpose(x, (2, 1, 0))
    )
    new_state = ReservoirState(v.T, refractory.T, pre.T, post.T)
    outputs = jnp.transpose(outputs, (1, 0, 2))
    spikes = None if spikes is None else jnp.transpose(spikes, (1, 0, 2))
    res_b = jax.tree.map(  # the structure vmap gives: every array with a trial axis
        lambda a: jnp.broadcast_to(a, (b, *a.shape)) if eqx.is_array(a) else a,
        res.with_weights(w),
    )
    return ReservoirRun(outputs, spikes, new_state, res_b)


@eqx.filter_jit
def _learn(res: Reservoir, inputs: Array, state: ReservoirState, reset: bool):
    def body(carry, x):
        res_w, st = carry
        if reset:
            st = res.reset(st)
        out = _run_one(res.with_weights(res_w), x, st, False)
        return (out.reservoir.weights, out.state), out.outputs

    (w, st), outputs = lax.scan(body, (res.weights, state), inputs)
    return ReservoirRun(outputs, None, st, res.with_weights(w))


def run_sequence(
    reservoir: Reservoir,
    inputs: ArrayLike,
    *,
    state: ReservoirState | None = None,
    n_steps: int | None = None,
    reset: bool = True,
) -> ReservoirRun:
    """Run the inputs (B, n_in, T) one after the other, the weights (with STDP) and
    traces carried from each to the next: snnpy's loop of `set_input_spike_times`,
    `simulate()` and `reset()` over a data set, in one compiled scan.

    Args:
        reset: reset v and the refractory timers before each input (snnpy's `reset()`),
            else continue from where the previous input left the state.

    Returns:
        A `ReservoirRun` with outputs (B, T, n_out), the final state and the reservoir
        with the learned weights.
    """
    x = _prepared_inputs(reservoir, inputs, n_steps)
    if x.ndim != 3:
        raise ValueError(f"run_sequence needs a batch of inputs (B, n_in, T), got {x.shape}")
    state = reservoir.initial_state() if state is None else state
    return _learn(reservoir, x, state, reset)


def spike_time_lists(outputs: ArrayLike) -> list[list[int]]:
    """Each output neuron's spike steps: snnpy's `get_spike_time_lists_output()`, from
    a (T, n_out) output matrix (one trial)."""
    o = np.asarray(outputs)
    if o.ndim != 2:
        raise ValueError(f"outputs must be (T, n_out) (one trial), got shape {o.shape}")
    return [np.flatnonzero(o[:, i] > 0).tolist() for i in range(o.shape[1])]

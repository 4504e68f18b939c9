"""Drive a plasticity rule with given spike trains, without a network (one `lax.scan`).

Used to measure a rule on its own: the STDP window of a spike pair, the drift under
Poisson firing, comparisons with brute-force pair sums.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ..layout import AbstractLayout, DenseLayout
from .rules import AbstractPlasticityRule


@eqx.filter_jit
def run_rule(
    rule: AbstractPlasticityRule,
    w0: Float[Array, "n_pre k"],
    s_pre: Float[Array, "T n_pre"],
    s_post: Float[Array, "T n_post"],
    *,
    dt_ms: float,
    layout: AbstractLayout | None = None,
    online: bool = True,
) -> tuple[Float[Array, "n_pre k"], Float[Array, "T n_pre k"]]:
    """Apply `rule` step by step to the spike trains `s_pre`, `s_post` (time first).

    Args:
        rule: the plasticity rule.
        w0: initial weights, (n_pre, n_post) dense or (n_pre, k) ELL.
        s_pre: (T, n_pre) presynaptic spikes (0/1), arriving at step t.
        s_post: (T, n_post) postsynaptic spikes (0/1), emitted at step t.
        dt_ms: step length (ms).
        layout: where the synapses are (default: every pair of a dense (n_pre, n_post)).
        online: if True the weights change after every step (and `rule.bound` is applied
            each step); if False the raw updates are summed with `w0` held fixed and
            bounded once at the end.

    Returns:
        `(w_final, w_trajectory)`: final weights and the weights after each step, (T, ...).
    """
    if s_pre.ndim != 2 or s_post.ndim != 2 or s_pre.shape[0] != s_post.shape[0]:
        raise ValueError(
            f"s_pre and s_post must have shapes (T, n_pre) and (T, n_post) with the same T; "
            f"got {s_pre.shape} and {s_post.shape}"
        )
    if layout is None:
        layout = DenseLayout(s_pre.shape[1], s_post.shape[1])
    traces = rule.init(s_pre.shape[1], s_post.shape[1], w0.dtype)
    s_pre = s_pre.astype(w0.dtype)
    s_post = s_post.astype(w0.dtype)

    def step(carry, spikes):
        w, total, tr = carry
        a, b = spikes
        if online:
            dw, tr = rule(w, tr, a, b, layout=layout, dt_ms=dt_ms)
            w = w + dw
            return (w, total, tr), w
        dw, tr = rule.update(w0, tr, a, b, layout=layout, dt_ms=dt_ms)
        total = total + dw
        return (w, total, tr), w0 + total

    (w, total, _), traj = jax.lax.scan(step, (w0, jnp.zeros_like(w0), traces), (s_pre, s_post))
    if not online:
        w = w0 + rule.bound(w0, total)
    return w, traj

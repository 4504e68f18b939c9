"""Plasticity rules: small immutable modules that return weight updates.

A rule never writes weights. Called once per time step it returns `(dw, new_traces)`,
`dw` shaped like the projection's weights (dense (n_pre, n_post) or ELL (n_pre, k)) and
zero where no synapse exists, so it composes with `optax.apply_updates`, scaling and
clipping (STYLE.md: plasticity returns updates).

Every rule has two halves:
- `update(w, traces, s_pre, s_post, layout=, dt_ms=) -> (dw_raw, traces)`: the unbounded
  update of one step;
- `bound(w, dw) -> dw`: the update made admissible for the weights `w` (clipping of
  `w + dw` to `[0, w_max]` when `clip=True`, else `dw`).
`rule(...)` is `update` followed by `bound`. `simulate` (with `Plasticity`) uses `bound` after
every step in online mode and once on the run's summed update in accumulated mode.

Spike-timing convention (all rules). At step t (time t·dt) `s_pre` are the presynaptic
spikes that *arrive* at the synapse at this step and `s_post` the postsynaptic spikes
emitted at this step. A step computes, in this order,

    x_pre  ← x_pre · exp(-dt/τ₊),   x_post ← x_post · exp(-dt/τ₋)
    dw_ij  = η · [ A₊ · f₊(w_ij) · x_pre,i · s_post,j  −  A₋ · f₋(w_ij) · s_pre,i · x_post,j ]
    x_pre  ← pairing(x_pre, s_pre),  x_post ← pairing(x_post, s_post)

so by default a pair of spikes in the same step (Δt = 0) does not interact: coincident
spikes neither potentiate nor depress; pairs with Δt = t_post − t_pre ≥ dt add
`A₊e^{−Δt/τ₊}` and pairs with Δt ≤ −dt add `−A₋e^{Δt/τ₋}` (times η·f). `STDP` can count a
coincident pair with a weight c (`coincident_weight`): it then adds c·(A₊f₊ − A₋f₋).

Discretisation bias (all-pairs, additive, independent Poisson spikes at rates r_pre and
r_post, Bernoulli per step): the trace seen by a spike sums e^{−k·dt/τ} over k ≥ 1,
i.e. 1/(e^{dt/τ} − 1) = τ/dt − 1/2 + dt/(12τ) − ..., so the mean drift per unit time is

    r_pre·r_post·[(A₊τ₊ − A₋τ₋) + (c − 1/2)·(A₊ − A₋)·dt + O(dt²/τ)]

against `r_pre·r_post·(A₊τ₊ − A₋τ₋)` in continuous time. Ignoring coincident pairs
(c = 0, the default) is biased by −(A₊ − A₋)·(dt/2)·r_pre·r_post; counting them fully
(c = 1) by +(A₊ − A₋)·(dt/2)·r_pre·r_post; c = 1/2 (the trapezoidal rule) is unbiased to
first order in dt/τ (tests/test_plasticity_drift.py measures all three).
"""

from __future__ import annotations

import abc
from typing import Literal

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._checks import check_finite, check_nonnegative, check_positive, check_probability
from ..layout import AbstractLayout
from .traces import AbstractPairing, AllPairs, Traces, decay_trace


class AbstractWeightDependence(eqx.Module):
    """Factors f₊(w), f₋(w) that scale potentiation and depression."""

    @abc.abstractmethod
    def factors(self, w: Array, w_max: float | Array) -> tuple[Array | float, Array | float]:
        """`(f₊(w), f₋(w))`."""

    # The two methods below apply potentiation and depression one after the other instead
    # of summing them (snn-reservoir-py's order, `jaxsnn.reservoir`); each is written with
    # the same floating-point operations, in the same order, as snnpy's NumPy code, so the
    # two libraries' weights agree to the last bit in float32.

    @abc.abstractmethod
    def potentiated(self, w: Array, amount: float | Array, x: Array, w_max: float | Array) -> Array:
        """`w` after potentiation by `amount·x·f₊(w)` on its own (unbounded)."""

    @abc.abstractmethod
    def depressed(self, w: Array, amount: float | Array, x: Array, w_max: float | Array) -> Array:
        """`w` after depression by `amount·x·f₋(w)` on its own (unbounded)."""


class Additive(AbstractWeightDependence):
    """Additive STDP: f₊ = f₋ = 1 (Song, Miller & Abbott 2000); needs hard bounds."""

    def factors(self, w, w_max):
        return 1.0, 1.0

    def potentiated(self, w, amount, x, w_max):
        return w + amount * x

    def depressed(self, w, amount, x, w_max):
        return w - amount * x


class Multiplicative(AbstractWeightDependence):
    """Multiplicative (soft-bound) STDP: f₊ = 1 − w/w_max, f₋ = w/w_max (van Rossum,
    Bi & Turrigiano 2000; Gütig et al. 2003 with μ = 1). Weights approach the bounds
    exponentially instead of sticking to them."""

    def factors(self, w, w_max):
        return 1.0 - w / w_max, w / w_max

    def potentiated(self, w, amount, x, w_max):
        return w + amount * x * (1.0 - w * (1.0 / w_max))

    def depressed(self, w, amount, x, w_max):
        return w * (1.0 - (amount / w_max) * x)


class AbstractPlasticityRule(eqx.Module):
    """A local learning rule: traces in, weight updates out (see the module docstring)."""

    @abc.abstractmethod
    def init(self, n_pre: int, n_post: int, dtype=None) -> Traces:
        """Zero traces for a projection of `n_pre` → `n_post` neurons."""

    @abc.abstractmethod
    def update(
        self,
        w: Float[Array, "n_pre k"],
        traces: Traces,
        s_pre: Float[Array, " n_pre"],
        s_post: Float[Array, " n_post"],
        *,
        layout: AbstractLayout,
        dt_ms: float,
    ) -> tuple[Float[Array, "n_pre k"], Traces]:
        """One step: the unbounded update `dw` (shaped like `w`, 0 where no synapse) and
        the new traces."""

    def bound(self, w: Float[Array, "n_pre k"], dw: Float[Array, "n_pre k"]) -> Array:
        """`dw` made admissible for `w` (default: unchanged)."""
        return dw

    def __call__(self, w, traces, s_pre, s_post, *, layout, dt_ms):
        """`update` then `bound`: returns `(dw, new_traces)`."""
        dw, traces = self.update(w, traces, s_pre, s_post, layout=layout, dt_ms=dt_ms)
        return self.bound(w, dw), traces


def _zeros(n: int, dtype) -> Array:
    return jnp.zeros((n,), jnp.result_type(float) if dtype is None else dtype)


def _clip_update(w, dw, w_max, clip: bool):
    if not clip:
        return dw
    return (jnp.clip(w + dw, 0.0, w_max) - w).astype(w.dtype)


class STDP(AbstractPlasticityRule):
    """Pair-based STDP with exponential traces (discrete update in the module docstring).

    Window for one pair, Δt = t_post − t_pre (ms), with f₊ = f₋ = 1:

        Δw(Δt) = η·A₊·exp(−Δt/τ₊)    for Δt > 0
        Δw(Δt) = −η·A₋·exp(Δt/τ₋)    for Δt < 0
        Δw(0)  = 0                     (coincident spikes, same step)

    With `AllPairs()` every pair adds its window value; with `NearestSpike()` only the
    nearest preceding partner of each spike does (see `jaxsnn.plasticity.traces`).
    Under independent Poisson pre/post firing at rates r (Hz) the mean drift of additive
    all-to-all STDP without bounds is `η·r_pre·r_post·(A₊τ₊ − A₋τ₋)` in continuous time;
    the discrete-time bias of each treatment of coincident pairs is in the module
    docstring.

    Attributes:
        a_plus: potentiation amplitude A₊ (weight units), >= 0.
        a_minus: depression amplitude A₋ (weight units), >= 0; None with `balanced=True`.
        tau_plus_ms: presynaptic trace time constant τ₊ (ms), > 0.
        tau_minus_ms: postsynaptic trace time constant τ₋ (ms), > 0.
        eta: learning rate η (dimensionless multiplier; 0 switches learning off).
        w_max: upper weight bound (weight units), > 0.
        clip: if True, `bound` keeps `w + dw` in [0, w_max].
        balanced: if True, A₋ = A₊·τ₊/τ₋ (zero-integral window); `a_minus` must be None.
        pairing: `AllPairs()` (default) or `NearestSpike()`.
        weight_dependence: `Additive()` (default) or `Multiplicative()`.
        coincident_weight: c in [0, 1], how much a pre/post pair in the same step counts
            (0: not at all, the default; 1/2: unbiased mean drift to first order in dt;
            1: as a pair at Δt = ±0 on both sides).
    """

    a_plus: float | Array = 0.01
    a_minus: float | Array | None = 0.0105
    tau_plus_ms: float | Array = 20.0
    tau_minus_ms: float | Array = 20.0
    eta: float | Array = 1.0
    w_max: float | Array = 1.0
    clip: bool = eqx.field(default=True, static=True)
    balanced: bool = eqx.field(default=False, static=True)
    pairing: AbstractPairing = AllPairs()
    weight_dependence: AbstractWeightDependence = Additive()
    coincident_weight: float | Array = 0.0

    def __check_init__(self):
        check_nonnegative("STDP.a_plus", self.a_plus)
        check_probability("STDP.coincident_weight", self.coincident_weight)
        if self.balanced:
            if self.a_minus is not None:
                raise ValueError(
                    f"STDP.a_minus must be None with balanced=True (it is derived as "
                    f"a_plus·tau_plus/tau_minus), got {self.a_minus}"
                )
        elif self.a_minus is None:
            raise ValueError("STDP.a_minus is None: give a value or pass balanced=True")
        else:
            check_nonnegative("STDP.a_minus", self.a_minus)
        check_positive("STDP.tau_plus_ms", self.tau_plus_ms)
        check_positive("STDP.tau_minus_ms", self.tau_minus_ms)
        check_finite("STDP.eta", self.eta)
        check_positive("STDP.w_max", self.w_max)
        if not isinstance(self.pairing, AbstractPairing):
            raise ValueError(
                f"STDP.pairing must be AllPairs() or NearestSpike(), got {self.pairing!r}"
            )
        if not isinstance(self.weight_dependence, AbstractWeightDependence):
            raise ValueError(
                "STDP.weight_dependence must be Additive() or Multiplicative(), got "
                f"{self.weight_dependence!r}"
            )

    @property
    def a_minus_value(self) -> float | Array:
        """A₋ actually used: `a_minus`, or A₊·τ₊/τ₋ when balanced."""
        if self.balanced:
            return self.a_plus * self.tau_plus_ms / self.tau_minus_ms
        return self.a_minus

    def init(self, n_pre, n_post, dtype=None):
        return Traces(_zeros(n_pre, dtype), _zeros(n_post, dtype))

    def update(self, w, traces, s_pre, s_post, *, layout, dt_ms):
        x_pre = decay_trace(traces.pre, self.tau_plus_ms, dt_ms)
        x_post = decay_trace(traces.post, self.tau_minus_ms, dt_ms)
        f_plus, f_minus = self.weight_dependence.factors(w, self.w_max)
        c = self.coincident_weight
        if isinstance(c, int | float) and c == 0:
            seen_pre, seen_post = x_pre, x_post
        else:  # a coincident pair is seen as c spikes in the partner's trace
            seen_pre, seen_post = x_pre + c * s_pre, x_post + c * s_post
        ltp = self.a_plus * f_plus * layout.outer(seen_pre, s_post)
        ltd = self.a_minus_value * f_minus * layout.outer(s_pre, seen_post)
        dw = (self.eta * (ltp - ltd)).astype(w.dtype)
        new = Traces(self.pairing(x_pre, s_pre), self.pairing(x_post, s_post))
        return dw, new

    def bound(self, w, dw):
        return _clip_update(w, dw, self.w_max, self.clip)


class Hebbian(AbstractPlasticityRule):
    """Hebbian rule `ΔW = η · pre · post`, on spikes or on traces, with optional decay and
    normalisation so the weights do not run away.

    Per step of length dt (a, b the presynaptic and postsynaptic activity):

        on="spikes":  a = s_pre, b = s_post                 (coincidences in one step)
        on="traces":  a = x_pre, b = x_post after this step's spikes (traces as in
                      `jaxsnn.plasticity.traces`, all-pairs, time constants τ_pre, τ_post)
        dw_ij = η·a_i·b_j − decay_per_ms·dt·w_ij
        normalise=True: w' = w + dw is rescaled per postsynaptic neuron j so that
                      Σ_i w'_ij = Σ_i w_ij (the total input weight is conserved);
                      dw = w'·(Σ_i w_ij / Σ_i w'_ij) − w.

    Attributes:
        eta: learning rate η (weight units per coincidence; 0 switches learning off).
        on: "spikes" or "traces".
        tau_pre_ms, tau_post_ms: trace time constants (ms), used with on="traces".
        decay_per_ms: weight decay rate γ (1/ms), >= 0.
        normalise: conserve each postsynaptic neuron's summed input weight.
        w_max: upper bound for clipping (weight units); None for no clipping.
    """

    eta: float | Array = 1e-3
    on: Literal["spikes", "traces"] = eqx.field(default="spikes", static=True)
    tau_pre_ms: float | Array = 20.0
    tau_post_ms: float | Array = 20.0
    decay_per_ms: float | Array = 0.0
    normalise: bool = eqx.field(default=False, static=True)
    w_max: float | Array | None = None

    def __check_init__(self):
        if self.on not in ("spikes", "traces"):
            raise ValueError(f"Hebbian.on must be 'spikes' or 'traces', got {self.on!r}")
        check_finite("Hebbian.eta", self.eta)
        check_positive("Hebbian.tau_pre_ms", self.tau_pre_ms)
        check_positive("Hebbian.tau_post_ms", self.tau_post_ms)
        check_nonnegative("Hebbian.decay_per_ms", self.decay_per_ms)
        if self.w_max is not None:
            check_positive("Hebbian.w_max", self.w_max)

    def init(self, n_pre, n_post, dtype=None):
        return Traces(_zeros(n_pre, dtype), _zeros(n_post, dtype))

    def update(self, w, traces, s_pre, s_post, *, layout, dt_ms):
        if self.on == "traces":
            x_pre = decay_trace(traces.pre, self.tau_pre_ms, dt_ms) + s_pre
            x_post = decay_trace(traces.post, self.tau_post_ms, dt_ms) + s_post
            traces = Traces(x_pre, x_post)
            a, b = x_pre, x_post
        else:
            a, b = s_pre, s_post
        exists = layout.exists()
        dw = self.eta * layout.outer(a, b) - self.decay_per_ms * dt_ms * w
        dw = jnp.where(exists, dw, jnp.zeros((), w.dtype)).astype(w.dtype)
        if self.normalise:
            w_new = w + dw
            before = layout.post_sum(w)
            after = layout.post_sum(w_new)
            ratio = jnp.where(after != 0, before / jnp.where(after != 0, after, 1), 1)
            dw = (w_new * layout.post(ratio) - w).astype(w.dtype)
            dw = jnp.where(exists, dw, jnp.zeros((), w.dtype))
        return dw, traces

    def bound(self, w, dw):
        if self.w_max is None:
            return dw
        return _clip_update(w, dw, self.w_max, True)

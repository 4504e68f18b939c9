"""Leaky integrate-and-fire neurons: `LIF` and the threshold-adapting `AdaptiveLIF`.

Model (time in ms, voltages in mV, currents in mV, i.e. already multiplied by the
membrane resistance, conductances in units of the leak conductance; the input terms are
those of `jaxsnn.NeuronInput`):

    tau_mem · dV/dt = (v_rest - V) + I + Σ_x g_x·(E_x - V) + σ·sqrt(tau_mem)·ξ(t)

A presynaptic spike through a delta synapse makes V jump by w. V spikes when it exceeds
the threshold (strictly: `V - v_th > 0`), is reset (to `v_reset`, or by subtracting
`v_th - v_reset`), and is then held for `t_ref_ms` (absolute refractory period).

Discrete update actually computed at each step of length dt (`integrate_exact`): with
currents and conductances held constant over the step, the linear ODE is integrated
exactly,

    g      = Σ_x g_x                      (0 without conductance input)
    V_inf  = (v_rest + I + Σ_x g_x·E_x) / (1 + g)
    D      = exp(-(dt/tau_mem)·(1 + g))
    V'     = V_inf + (V - V_inf)·D + σ·z·sqrt((1 - D²) / (2(1 + g))) + Σ delta-synapse jumps
    refractory neurons keep V (their post-reset value) and ignore all input
    spike  = H(V' - threshold)  for non-refractory neurons
    V_new  = v_reset where spike                (ResetToValue)
           = V' - spike·(v_th - v_reset)      (ResetBySubtraction)
    a neuron that spikes is refractory for the next n_ref = round(t_ref_ms/dt) steps.

The noise term is the exact variance of white noise integrated over the step (z ~ N(0, 1)
drawn by a `WhiteNoise` input), so a free membrane has variance σ²/(2(1 + g)) for every dt.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from .._checks import _values, check_finite, check_nonnegative, check_positive
from .._numerics import exp_decay, sqrt
from ..neuron_input import NeuronInput
from ..surrogate import AbstractSurrogate, FastSigmoid, spike
from .abstract import AbstractNeuron, AbstractNeuronState
from .refractory import count_down, refractory_steps
from .reset import AbstractReset, ResetToValue


def integrate_exact(
    v: Float[Array, " n"],
    inp: NeuronInput,
    *,
    tau_mem_ms: float | Array,
    v_rest_mv: float | Array,
    dt_ms: float,
) -> Float[Array, " n"]:
    """V after one step of the linear membrane equation (module docstring), jumps
    included, before any threshold."""
    ratio = dt_ms / tau_mem_ms  # computed first so scaling dt and tau together is exact
    drive = v_rest_mv if inp.current_mv is None else v_rest_mv + inp.current_mv
    if inp.conductance is None:
        v_inf = drive
        decay = exp_decay(ratio)
        noise_scale = None if inp.noise_mv is None else sqrt((1.0 - decay * decay) / 2.0)
    else:
        g1 = 1.0 + inp.conductance
        v_inf = (drive + inp.conductance_reversal_mv) / g1
        decay = jnp.exp(-ratio * g1)
        noise_scale = None if inp.noise_mv is None else jnp.sqrt((1.0 - decay * decay) / (2 * g1))
    out = v_inf + (v - v_inf) * decay
    if noise_scale is not None:
        out = out + inp.noise_mv * noise_scale
    if inp.jump_mv is not None:
        out = out + inp.jump_mv
    return out.astype(v.dtype)


class LIFState(AbstractNeuronState):
    """State of LIF neurons.

    Attributes:
        v: (n,) membrane potentials (mV).
        refractory: (n,) int32 steps of refractoriness left.
    """

    v: Float[Array, " n"]
    refractory: Int[Array, " n"]


class AbstractLIF(AbstractNeuron):
    """The membrane, threshold, reset and refractoriness shared by `LIF` and
    `AdaptiveLIF` (module docstring).

    Attributes:
        tau_mem_ms: membrane time constant (ms), > 0.
        v_rest_mv: resting potential (mV).
        v_th_mv: threshold (mV); a neuron spikes when V - v_th > 0 (the baseline
            threshold of `AdaptiveLIF`).
        v_reset_mv: reset potential (mV), < v_th.
        t_ref_ms: absolute refractory period (ms), >= 0; rounded to whole steps.
        reset: `ResetToValue()` (default) or `ResetBySubtraction()`.
        surrogate: surrogate derivative of the spike (default `FastSigmoid()`).
        detach_reset: if True (default) the reset does not carry gradient, as in SpyTorch
            and snnTorch's default; the spike itself still does.

    Each numeric field is a Python float (a constant) or an array broadcastable to the
    population size (traced: vmappable or trainable).
    """

    tau_mem_ms: float | Array = 20.0
    v_rest_mv: float | Array = 0.0
    v_th_mv: float | Array = 1.0
    v_reset_mv: float | Array = 0.0
    t_ref_ms: float | Array = 0.0
    reset: AbstractReset = ResetToValue()
    surrogate: AbstractSurrogate = FastSigmoid()
    detach_reset: bool = eqx.field(default=True, static=True)

    def __check_init__(self):
        check_positive("tau_mem_ms", self.tau_mem_ms)
        check_finite("v_rest_mv", self.v_rest_mv)
        check_finite("v_th_mv", self.v_th_mv)
        check_finite("v_reset_mv", self.v_reset_mv)
        check_nonnegative("t_ref_ms", self.t_ref_ms)
        if not isinstance(self.reset, AbstractReset):
            raise ValueError(
                f"reset must be ResetToValue() or ResetBySubtraction(), got {self.reset!r}"
            )
        if not isinstance(self.surrogate, AbstractSurrogate):
            raise ValueError(f"surrogate must be an AbstractSurrogate, got {self.surrogate!r}")
        # NumPy, not jnp: building the default LIF at import time must not start JAX's
        # backend (jaxsnn.threads configures it first)
        vr, vt = _values(self.v_reset_mv), _values(self.v_th_mv)
        below = vr is None or vt is None or bool(np.all(vr < vt))
        if not below:
            raise ValueError(
                f"v_reset_mv must be below v_th_mv, got v_reset_mv={self.v_reset_mv}, "
                f"v_th_mv={self.v_th_mv}"
            )

    def time_constants_ms(self) -> tuple:
        return (self.tau_mem_ms,)

    def refractory_steps(self, dt_ms: float) -> int | Int[Array, ""]:
        """Number of whole steps the neuron is held after a spike: round(t_ref_ms / dt_ms)."""
        return refractory_steps(self.t_ref_ms, dt_ms)

    def _lif_state(self, n: int, dtype) -> LIFState:
        v = jnp.broadcast_to(jnp.asarray(self.v_rest_mv, dtype), (n,))
        return LIFState(v, jnp.zeros((n,), jnp.int32))

    def _fire(
        self, state: LIFState, inp: NeuronInput, threshold_mv, dt_ms: float
    ) -> tuple[LIFState, Float[Array, " n"], Float[Array, " n"]]:
        """Integrate, spike against `threshold_mv`, reset and count refractoriness; also
        returns V before the reset."""
        v, refractory = state.v, state.refractory
        v_int = integrate_exact(
            v, inp, tau_mem_ms=self.tau_mem_ms, v_rest_mv=self.v_rest_mv, dt_ms=dt_ms
        )
        is_refractory = refractory > 0
        v_new = jnp.where(is_refractory, v, v_int).astype(v.dtype)
        s = spike(v_new - threshold_mv, self.surrogate)
        s = jnp.where(is_refractory, jnp.zeros_like(s), s)
        s_reset = jax.lax.stop_gradient(s) if self.detach_reset else s
        v_out = self.reset(v_new, s, s_reset, v_th_mv=self.v_th_mv, v_reset_mv=self.v_reset_mv)
        refractory_out = count_down(refractory, s, self.refractory_steps(dt_ms))
        return LIFState(v_out.astype(v.dtype), refractory_out), s, v_new


class LIF(AbstractLIF):
    """Leaky integrate-and-fire neuron (model and discrete update in the module docstring);
    fields as in `AbstractLIF`."""

    def init(self, n, dtype):
        return self._lif_state(n, dtype)

    def step(self, state, inp, *, dt_ms):
        return self._fire(state, inp, self.v_th_mv, dt_ms)[:2]

    def step_before_reset(self, state, inp, *, dt_ms):
        return self._fire(state, inp, self.v_th_mv, dt_ms)


class AdaptiveLIFState(AbstractNeuronState):
    """State of adaptive LIF neurons.

    Attributes:
        v: (n,) membrane potentials (mV).
        refractory: (n,) int32 steps of refractoriness left.
        a: (n,) threshold adaptation (dimensionless spike trace).
    """

    v: Float[Array, " n"]
    refractory: Int[Array, " n"]
    a: Float[Array, " n"]


class AdaptiveLIF(AbstractLIF):
    """LIF with spike-triggered threshold adaptation (the "ALIF" of LSNNs, Bellec et al.
    2018, "Long short-term memory and learning-to-learn in networks of spiking neurons").

    The membrane is the LIF's (module docstring); the threshold rises by `beta_mv` per
    spike and relaxes with `tau_adapt_ms`:

        tau_adapt · da/dt = -a + tau_adapt·Σ_k δ(t - t_k),   threshold = v_th + beta·a

    Discrete update per step (in this order): `a ← a·exp(-dt/tau_adapt)`; the membrane
    step; spike = H(V' - (v_th + beta·a)); reset (by `v_th - v_reset`, the baseline, for
    `ResetBySubtraction`); `a ← a + spike`. A spike therefore raises the threshold of
    the following steps by beta·exp(-k·dt/tau_adapt) after k steps. Bellec et al. write
    `b ← ρ·b + (1 - ρ)·z` with threshold `v_th + β·b`: the same model with
    beta = β·(1 - ρ).

    Attributes:
        tau_adapt_ms: adaptation time constant (ms), > 0.
        beta_mv: threshold increase per spike (mV), >= 0.
        (and every field of `AbstractLIF`)
    """

    tau_adapt_ms: float | Array = 200.0
    beta_mv: float | Array = 0.1

    def __check_init__(self):
        check_positive("tau_adapt_ms", self.tau_adapt_ms)
        check_nonnegative("beta_mv", self.beta_mv)

    def time_constants_ms(self):
        return (self.tau_mem_ms, self.tau_adapt_ms)

    def init(self, n, dtype):
        lif = self._lif_state(n, dtype)
        return AdaptiveLIFState(lif.v, lif.refractory, jnp.zeros((n,), dtype))

    def step(self, state, inp, *, dt_ms):
        return self.step_before_reset(state, inp, dt_ms=dt_ms)[:2]

    def step_before_reset(self, state, inp, *, dt_ms):
        a = (state.a * exp_decay(dt_ms / self.tau_adapt_ms)).astype(state.a.dtype)
        lif, s, v_before = self._fire(
            LIFState(state.v, state.refractory), inp, self.v_th_mv + self.beta_mv * a, dt_ms
        )
        return AdaptiveLIFState(lif.v, lif.refractory, a + s), s, v_before

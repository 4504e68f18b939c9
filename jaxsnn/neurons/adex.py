"""The adaptive exponential integrate-and-fire neuron (AdEx; Brette & Gerstner 2005)."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from .._checks import check_finite, check_nonnegative, check_positive
from .._numerics import sqrt
from ..surrogate import AbstractSurrogate, FastSigmoid, spike
from .abstract import AbstractNeuron, AbstractNeuronState
from .refractory import count_down, refractory_steps
from .reset import ResetToValue


class AdExState(AbstractNeuronState):
    """State of AdEx neurons.

    Attributes:
        v: (n,) membrane potentials (mV).
        w: (n,) adaptation current (mV, i.e. R·w).
        refractory: (n,) int32 steps of refractoriness left.
    """

    v: Float[Array, " n"]
    w: Float[Array, " n"]
    refractory: Int[Array, " n"]


class AdEx(AbstractNeuron):
    """Adaptive exponential integrate-and-fire neuron (Brette & Gerstner 2005, J.
    Neurophysiol. 94:3637), in jaxsnn's units (currents as R·I in mV, conductances in units
    of the leak conductance g_L):

        tau_mem · dV/dt = -(V - v_rest) + delta_t·exp((V - v_t)/delta_t) - w
                          + I + Σ_x g_x·(E_x - V) + σ·sqrt(tau_mem)·ξ(t)
        tau_w · dw/dt   = a·(V - v_rest) - w
        V > v_peak:  V ← v_reset,  w ← w + b,  then V is held for t_ref_ms

    with tau_mem = C/g_L, `a` the subthreshold adaptation in units of g_L and `b` the
    spike-triggered adaptation as R·b in mV (`AdEx.from_physical` converts pF, nS and pA).

    Discrete update per step of length dt (explicit Euler on both variables from the
    values at the start of the step, as Brian2's `method="euler"`; the exponential is
    evaluated at V <= v_peak, so it stays finite):

        V' = V + dt/tau_mem·(...) + σ·z·sqrt(dt/tau_mem) + Σ delta-synapse jumps
        w' = w + dt/tau_w·(a·(V - v_rest) - w)
        spike = H(V' - v_peak) for non-refractory neurons; refractory neurons keep V
        V_new = v_reset where spike, w_new = w' + b·spike

    Euler needs dt well below the fastest time scale near threshold (delta_t·tau_mem /
    (V - v_t) grows fast above v_t); 0.1 ms or less for the published parameter sets.

    Attributes:
        tau_mem_ms: C/g_L (ms), > 0.
        v_rest_mv: leak reversal E_L (mV).
        v_t_mv: threshold slope factor's centre V_T (mV).
        delta_t_mv: slope factor Δ_T (mV), > 0.
        v_peak_mv: spike detection potential (mV), > v_t.
        v_reset_mv: reset potential V_r (mV).
        tau_w_ms: adaptation time constant (ms), > 0.
        a: subthreshold adaptation (units of g_L).
        b_mv: spike-triggered adaptation R·b (mV).
        t_ref_ms: refractory period (ms), >= 0.
        surrogate: surrogate derivative of the spike.
        detach_reset: no gradient through the reset (default True).

    Defaults: the regular-spiking cell of Brette & Gerstner (2005) (C = 281 pF,
    g_L = 30 nS, E_L = -70.6 mV, V_T = -50.4 mV, Δ_T = 2 mV, τ_w = 144 ms, a = 4 nS,
    b = 80.5 pA, V_r = E_L) with Brian2's cut-off V_peak = V_T + 5·Δ_T.
    """

    tau_mem_ms: float | Array = 281.0 / 30.0
    v_rest_mv: float | Array = -70.6
    v_t_mv: float | Array = -50.4
    delta_t_mv: float | Array = 2.0
    v_peak_mv: float | Array = -40.4
    v_reset_mv: float | Array = -70.6
    tau_w_ms: float | Array = 144.0
    a: float | Array = 4.0 / 30.0
    b_mv: float | Array = 80.5 / 30.0
    t_ref_ms: float | Array = 0.0
    surrogate: AbstractSurrogate = FastSigmoid()
    detach_reset: bool = eqx.field(default=True, static=True)

    def __check_init__(self):
        check_positive("AdEx.tau_mem_ms", self.tau_mem_ms)
        check_positive("AdEx.tau_w_ms", self.tau_w_ms)
        check_positive("AdEx.delta_t_mv", self.delta_t_mv)
        for name in ("v_rest_mv", "v_t_mv", "v_peak_mv", "v_reset_mv", "a", "b_mv"):
            check_finite(f"AdEx.{name}", getattr(self, name))
        check_nonnegative("AdEx.t_ref_ms", self.t_ref_ms)
        try:
            above = bool(jnp.all(jnp.asarray(self.v_peak_mv) > jnp.asarray(self.v_t_mv)))
        except jax.errors.ConcretizationTypeError:
            above = True
        if not above:
            raise ValueError(
                f"AdEx.v_peak_mv must be above v_t_mv, got {self.v_peak_mv} <= {self.v_t_mv}"
            )

    @classmethod
    def from_physical(
        cls,
        *,
        c_pf: float,
        g_l_ns: float,
        e_l_mv: float,
        v_t_mv: float,
        delta_t_mv: float,
        v_peak_mv: float,
        v_reset_mv: float,
        tau_w_ms: float,
        a_ns: float,
        b_pa: float,
        **kwargs,
    ) -> AdEx:
        """From the usual physical parameters (pF, nS, mV, ms, pA), e.g. the firing
        patterns of Naud et al. (2008, Biol. Cybern. 99:335, Table 1). Input currents of
        the network are then R·I = I/g_L in mV (pA / nS = mV)."""
        check_positive("g_l_ns", g_l_ns)
        return cls(
            tau_mem_ms=c_pf / g_l_ns,
            v_rest_mv=e_l_mv,
            v_t_mv=v_t_mv,
            delta_t_mv=delta_t_mv,
            v_peak_mv=v_peak_mv,
            v_reset_mv=v_reset_mv,
            tau_w_ms=tau_w_ms,
            a=a_ns / g_l_ns,
            b_mv=b_pa / g_l_ns,
            **kwargs,
        )

    def time_constants_ms(self):
        return (self.tau_mem_ms, self.tau_w_ms)

    def init(self, n, dtype):
        v = jnp.broadcast_to(jnp.asarray(self.v_rest_mv, dtype), (n,))
        return AdExState(v, jnp.zeros((n,), dtype), jnp.zeros((n,), jnp.int32))

    def step(self, state, inp, *, dt_ms):
        return self.step_before_reset(state, inp, dt_ms=dt_ms)[:2]

    def step_before_reset(self, state, inp, *, dt_ms):
        v, w, refractory = state.v, state.w, state.refractory
        spike_current = self.delta_t_mv * jnp.exp((v - self.v_t_mv) / self.delta_t_mv)
        dv = -(v - self.v_rest_mv) + spike_current - w
        if inp.current_mv is not None:
            dv = dv + inp.current_mv
        if inp.conductance is not None:
            dv = dv + inp.conductance_reversal_mv - inp.conductance * v
        v_int = v + (dt_ms / self.tau_mem_ms) * dv
        if inp.noise_mv is not None:
            v_int = v_int + inp.noise_mv * sqrt(dt_ms / self.tau_mem_ms)
        if inp.jump_mv is not None:
            v_int = v_int + inp.jump_mv
        w_new = w + (dt_ms / self.tau_w_ms) * (self.a * (v - self.v_rest_mv) - w)
        is_refractory = refractory > 0
        v_new = jnp.where(is_refractory, v, v_int).astype(v.dtype)
        s = spike(v_new - self.v_peak_mv, self.surrogate)
        s = jnp.where(is_refractory, jnp.zeros_like(s), s)
        s_reset = jax.lax.stop_gradient(s) if self.detach_reset else s
        v_out = ResetToValue()(
            v_new, s, s_reset, v_th_mv=self.v_peak_mv, v_reset_mv=self.v_reset_mv
        )
        state = AdExState(
            v_out.astype(v.dtype),
            (w_new + self.b_mv * s).astype(w.dtype),
            count_down(refractory, s, refractory_steps(self.t_ref_ms, dt_ms)),
        )
        return state, s, v_new

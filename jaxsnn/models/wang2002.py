"""The decision-making network of Wang (2002), built from jaxsnn's building blocks.

X.-J. Wang, "Probabilistic decision making by slow reverberation in cortical circuits",
Neuron 36:955–968 (2002); parameters from its Experimental Procedures, as also used by
Brian2's example `examples/frompapers/Wang_2002.py` (Wimmer & Stimberg) and BrainPy's
decision-making example.

Network: N_E = 1600 pyramidal cells and N_I = 400 interneurons, all-to-all connected.
Two selective pools A and B of f·N_E = 240 pyramidal cells each, a non-selective pool N
of the other (1 − 2f)·N_E = 1120, and the interneurons I. Recurrent excitatory weights
(dimensionless, multiplying the AMPA and NMDA conductances):

    onto A (B):  w+ from its own pool, w− from the other selective pool and from N
    onto N:      1 from every excitatory pool
    onto I:      1 from every excitatory pool
    w− = 1 − f·(w+ − 1)/(1 − f)        (keeps the mean excitatory input unchanged)

Neurons (leaky integrate-and-fire), in the paper's units:

    C_m dV/dt = −g_L (V − V_L) − I_AMPA,ext − I_AMPA,rec − I_NMDA,rec − I_GABA
    C_m = 0.5 nF (pyramidal), 0.2 nF (interneuron); g_L = 25 nS, 20 nS
    V_L = −70 mV, V_th = −50 mV, V_reset = −55 mV, τ_ref = 2 ms, 1 ms

Synapses (E_AMPA = E_NMDA = 0 mV, E_GABA = −70 mV, [Mg²⁺] = 1 mM):

    I_AMPA = g_AMPA (V − E_E) Σ_j w_j s_j^AMPA,     ds/dt = −s/τ_AMPA + Σ_k δ(t − t_j^k)
    I_NMDA = g_NMDA (V − E_E) / (1 + [Mg²⁺] e^{−0.062 V}/3.57) Σ_j w_j s_j^NMDA
        ds_j/dt = −s_j/τ_NMDA,decay + α x_j (1 − s_j),  dx_j/dt = −x_j/τ_NMDA,rise + Σ_k δ(t − t_j^k)
    I_GABA = g_GABA (V − E_I) Σ_j s_j^GABA,         ds/dt = −s/τ_GABA + Σ_k δ(t − t_j^k)
    τ_AMPA = 2 ms, τ_NMDA,rise = 2 ms, τ_NMDA,decay = 100 ms, α = 0.5 /ms, τ_GABA = 5 ms
    delays 0.5 ms on every recurrent synapse

Conductances (pyramidal / interneuron), for N_E = 1600, N_I = 400: g_AMPA,ext = 2.1 /
1.62 nS, g_AMPA,rec = 0.05 / 0.04 nS, g_NMDA = 0.165 / 0.13 nS, g_GABA = 1.3 / 1.0 nS. For
other sizes the recurrent conductances scale as 1600/N_E (excitatory) and 400/N_I
(inhibitory), so the total recurrent input stays the paper's (as Brian2's example does).

External input: every neuron receives Poisson spikes at 2.4 kHz through AMPA with
g_AMPA,ext (800 external cells at 3 Hz each in the paper; their superposition is one
2.4 kHz Poisson process). Stimulus: each neuron of A (B) receives additional Poisson
input at rate μ_A (μ_B) through the same external AMPA synapse:

    μ_A = μ0 + μ0·c/100,   μ_B = μ0 − μ0·c/100,   μ0 = 40 Hz, c the coherence in %,

each redrawn every 50 ms from a Gaussian of that mean and σ = 4 Hz (clipped at 0 Hz).

**Units in jaxsnn** (README): time in ms, V in mV, conductances in units of the cell's
leak conductance. Dividing the membrane equation by g_L,

    τ_m dV/dt = (V_L − V) + Σ_x (g_x/g_L)·s_x·(E_x − V),   τ_m = C_m/g_L

so τ_m = 20 ms (pyramidal), 10 ms (interneuron), and every conductance g_x is entered as
g_x/g_L of the *postsynaptic* cell type: e.g. g_AMPA,ext = 2.1/25 = 0.084 onto
pyramidal cells and 1.62/20 = 0.081 onto interneurons; g_NMDA = 0.165/25 = 0.0066 and
0.13/20 = 0.0065; g_GABA = 1.3/25 = 0.052 and 1.0/20 = 0.05; g_AMPA,rec = 0.05/25 =
0.002 and 0.04/20 = 0.002. One presynaptic spike adds `weight = w·g/g_L` to the
target's AMPA or GABA conductance (`ExpConductance`, the s of the equations jumps by 1);
the NMDA gating s_j is the presynaptic stage of `jaxsnn.synapses.NMDA`, and its drive
`Σ_j w·(g/g_L)·s_j` passes through `MgBlock`. Numerics: exact exponential integration
of V with conductances held over each step (`jaxsnn.neurons.lif`), dt = 0.1 ms (Brian2's
example: forward Euler at 0.1 ms).

Performance: all-to-all with one weight per (pre-pool, post-pool) pair, so every
projection is `jaxsnn.pooled.connect_pooled`: the recurrent drive is a pool sum, O(N)
per step instead of O(N²) (the 4 M connected pairs, 7.2 M weights with AMPA and NMDA
apart, are never stored). The background counts are drawn by `TruncatedPoissonCounts`
(an unrolled inverse CDF; `PoissonCounts`' data-dependent loop costs far more than the
network under `vmap`), exact up to a tail mass below 1e-10 per draw at 0.24 spikes per
step.

Populations "A", "B", "N" (pyramidal) and "I" (interneurons), in that order; population
inputs "ext_A", "ext_B", "ext_N", "ext_I" (`PoissonDrive`, background rate 2.4 kHz; per
trial, `wang2002_inputs` gives "ext_A"/"ext_B" time series of background + stimulus).
"""

from __future__ import annotations

import math

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import (
    check_finite,
    check_float_dtype,
    check_int,
    check_key,
    check_nonnegative,
    check_positive,
    is_concrete,
)
from ..inputs import PoissonDrive
from ..inputs.truncated_counts import TruncatedPoissonCounts
from ..network import Network, NetworkState, init_state
from ..neurons import LIF
from ..pooled import connect_pooled
from ..population import Population
from ..synapses import NMDA, ExpConductance, MgBlock
from ._trial_timing import AbstractTrialTiming

DT_MS = 0.1
POOLS = ("A", "B", "N", "I")
SELECTIVE = ("A", "B")


class Wang2002Parameters(eqx.Module):
    """The cellular and synaptic constants of Wang (2002), in the paper's units (module
    docstring; `build_wang2002` converts them to jaxsnn's).

    Attributes:
        c_m_e_nf, c_m_i_nf: membrane capacitance of pyramidal cells / interneurons (nF).
        g_l_e_ns, g_l_i_ns: leak conductance (nS).
        v_l_mv, v_th_mv, v_reset_mv: resting, threshold and reset potential (mV).
        t_ref_e_ms, t_ref_i_ms: absolute refractory period (ms).
        g_ampa_ext_e_ns, g_ampa_ext_i_ns: external AMPA conductance (nS).
        g_ampa_rec_e_ns, g_ampa_rec_i_ns: recurrent AMPA conductance (nS, for N_E = 1600).
        g_nmda_e_ns, g_nmda_i_ns: recurrent NMDA conductance (nS, for N_E = 1600).
        g_gaba_e_ns, g_gaba_i_ns: GABA conductance (nS, for N_I = 400).
        e_exc_mv: AMPA and NMDA reversal potential (mV).
        e_gaba_mv: GABA reversal potential (mV).
        tau_ampa_ms, tau_nmda_rise_ms, tau_nmda_decay_ms, tau_gaba_ms: time constants (ms).
        alpha_nmda_per_ms: NMDA saturation rate α (1/ms; 0.5 kHz).
        mg_mm: extracellular [Mg²⁺] (mM).
        background_hz: external Poisson rate per neuron (Hz; 800 cells × 3 Hz).
        delay_ms: recurrent transmission delay (ms).
        scale_with_size: scale recurrent conductances by 1600/N_E and 400/N_I.
    """

    c_m_e_nf: float = 0.5
    c_m_i_nf: float = 0.2
    g_l_e_ns: float = 25.0
    g_l_i_ns: float = 20.0
    v_l_mv: float = -70.0
    v_th_mv: float = -50.0
    v_reset_mv: float = -55.0
    t_ref_e_ms: float = 2.0
    t_ref_i_ms: float = 1.0
    g_ampa_ext_e_ns: float = 2.1
    g_ampa_ext_i_ns: float = 1.62
    g_ampa_rec_e_ns: float = 0.05
    g_ampa_rec_i_ns: float = 0.04
    g_nmda_e_ns: float = 0.165
    g_nmda_i_ns: float = 0.13
    g_gaba_e_ns: float = 1.3
    g_gaba_i_ns: float = 1.0
    e_exc_mv: float = 0.0
    e_gaba_mv: float = -70.0
    tau_ampa_ms: float = 2.0
    tau_nmda_rise_ms: float = 2.0
    tau_nmda_decay_ms: float = 100.0
    tau_gaba_ms: float = 5.0
    alpha_nmda_per_ms: float = 0.5
    mg_mm: float = 1.0
    background_hz: float = 2400.0
    delay_ms: float = 0.5
    scale_with_size: bool = eqx.field(default=True, static=True)

    def __check_init__(self):
        for name in (
            "c_m_e_nf", "c_m_i_nf", "g_l_e_ns", "g_l_i_ns", "tau_ampa_ms", "tau_nmda_rise_ms",
            "tau_nmda_decay_ms", "tau_gaba_ms", "alpha_nmda_per_ms",
        ):  # fmt: skip
            check_positive(f"Wang2002Parameters.{name}", getattr(self, name))
        for name in (
            "t_ref_e_ms", "t_ref_i_ms", "g_ampa_ext_e_ns", "g_ampa_ext_i_ns", "g_ampa_rec_e_ns",
            "g_ampa_rec_i_ns", "g_nmda_e_ns", "g_nmda_i_ns", "g_gaba_e_ns", "g_gaba_i_ns",
            "mg_mm", "background_hz", "delay_ms",
        ):  # fmt: skip
            check_nonnegative(f"Wang2002Parameters.{name}", getattr(self, name))
        for name in ("v_l_mv", "v_th_mv", "v_reset_mv", "e_exc_mv", "e_gaba_mv"):
            check_finite(f"Wang2002Parameters.{name}", getattr(self, name))
        if not self.v_reset_mv < self.v_th_mv:
            raise ValueError(
                f"Wang2002Parameters.v_reset_mv must be below v_th_mv, got {self.v_reset_mv} "
                f"and {self.v_th_mv}"
            )

    @property
    def tau_m_e_ms(self) -> float:
        """Pyramidal membrane time constant C_m/g_L (ms): nF/nS = s, ×1000."""
        return 1000.0 * self.c_m_e_nf / self.g_l_e_ns

    @property
    def tau_m_i_ms(self) -> float:
        """Interneuron membrane time constant C_m/g_L (ms)."""
        return 1000.0 * self.c_m_i_nf / self.g_l_i_ns


def pool_sizes(n_e: int, f: float) -> dict[str, int]:
    """The sizes of the excitatory pools: A and B round(f·n_e) each, N the rest."""
    n_sel = int(round(f * n_e))
    return {"A": n_sel, "B": n_sel, "N": n_e - 2 * n_sel}


def w_minus(f: float, w_plus: float) -> float:
    """w− = 1 − f·(w+ − 1)/(1 − f): the weight from the other pools onto a selective pool."""
    return 1.0 - f * (w_plus - 1.0) / (1.0 - f)


def _is_real(x) -> bool:
    # a bool is an int to Python, but True is no pool fraction or weight
    return isinstance(x, int | float | np.integer | np.floating) and not isinstance(
        x, bool | np.bool_
    )


def _check_sizes(n_e: int, n_i: int, f: float, w_plus: float) -> None:
    check_int("n_e", n_e, minimum=3)
    check_int("n_i", n_i, minimum=1)
    if not (_is_real(f) and 0.0 < f < 0.5):
        raise ValueError(f"f must be a number in (0, 0.5), got {f!r}")
    sizes = pool_sizes(n_e, f)
    if sizes["A"] < 1 or sizes["N"] < 1:
        raise ValueError(
            f"f={f} with n_e={n_e} leaves a pool empty (A, B: {sizes['A']}, N: {sizes['N']})"
        )
    if not (_is_real(w_plus) and math.isfinite(w_plus) and w_plus > 0):
        raise ValueError(f"w_plus must be a finite number > 0, got {w_plus!r}")
    if w_minus(f, w_plus) < 0:
        raise ValueError(
            f"w_plus={w_plus} with f={f} makes w_minus = {w_minus(f, w_plus):.3g} < 0; "
            f"w_plus must be <= 1 + (1 - f)/f = {1 + (1 - f) / f:.3g}"
        )


def build_wang2002(
    key: PRNGKeyArray | None = None,
    *,
    n_e: int = 1600,
    n_i: int = 400,
    f: float = 0.15,
    w_plus: float = 1.7,
    params: Wang2002Parameters = Wang2002Parameters(),
    dtype=None,
) -> Network:
    """Build the Wang (2002) network (module docstring), every projection pooled.

    Args:
        key: accepted for the signature of the other model builders; unused, as every
            projection is all-to-all with a fixed weight (nothing is drawn).
        n_e: pyramidal cells (1600).
        n_i: interneurons (400).
        f: fraction of pyramidal cells in each selective pool (0.15).
        w_plus: potentiated weight within a selective pool (1.7).
        params: the cellular and synaptic constants (`Wang2002Parameters`).
        dtype: weight dtype (default float).

    Returns:
        The `Network`: populations "A", "B", "N", "I"; inputs "ext_A", "ext_B", "ext_N",
        "ext_I" (background `PoissonDrive`s at `params.background_hz`).

    Raises:
        ValueError: sizes or `f` that leave a pool empty, `w_plus` <= 0 or so large that
            w− < 0, bad `params`, a `dtype` that is not a float dtype (naming the
            argument).
    """
    _check_sizes(n_e, n_i, f, w_plus)
    check_float_dtype("dtype", dtype)
    if not isinstance(params, Wang2002Parameters):
        raise ValueError(f"params must be a Wang2002Parameters, got {type(params).__name__}")
    p = params
    sizes = pool_sizes(n_e, f) | {"I": n_i}
    pyramidal = LIF(
        tau_mem_ms=p.tau_m_e_ms,
        v_rest_mv=p.v_l_mv,
        v_th_mv=p.v_th_mv,
        v_reset_mv=p.v_reset_mv,
        t_ref_ms=p.t_ref_e_ms,
    )
    interneuron = LIF(
        tau_mem_ms=p.tau_m_i_ms,
        v_rest_mv=p.v_l_mv,
        v_th_mv=p.v_th_mv,
        v_reset_mv=p.v_reset_mv,
        t_ref_ms=p.t_ref_i_ms,
    )
    pops = {
        name: Population(
            name,
            sizes[name],
            interneuron if name == "I" else pyramidal,
            dale="inhibitory" if name == "I" else "excitatory",
        )
        for name in POOLS
    }
    ampa = ExpConductance(tau_ms=p.tau_ampa_ms, e_rev_mv=p.e_exc_mv)
    gaba = ExpConductance(tau_ms=p.tau_gaba_ms, e_rev_mv=p.e_gaba_mv)
    nmda = NMDA(
        tau_rise_ms=p.tau_nmda_rise_ms,
        tau_decay_ms=p.tau_nmda_decay_ms,
        alpha_per_ms=p.alpha_nmda_per_ms,
        output=MgBlock(e_rev_mv=p.e_exc_mv, mg_mm=p.mg_mm),
    )
    scale_e = 1600.0 / n_e if p.scale_with_size else 1.0
    scale_i = 400.0 / n_i if p.scale_with_size else 1.0
    g_l = {"A": p.g_l_e_ns, "B": p.g_l_e_ns, "N": p.g_l_e_ns, "I": p.g_l_i_ns}
    g_ampa = {"E": p.g_ampa_rec_e_ns, "I": p.g_ampa_rec_i_ns}
    g_nmda = {"E": p.g_nmda_e_ns, "I": p.g_nmda_i_ns}
    g_gaba = {"E": p.g_gaba_e_ns, "I": p.g_gaba_i_ns}
    w_m = w_minus(f, w_plus)

    def structure(pre: str, post: str) -> float:
        if post in SELECTIVE:
            return w_plus if pre == post else w_m
        return 1.0

    projections = []
    for pre in ("A", "B", "N"):
        for post in POOLS:
            kind = "I" if post == "I" else "E"
            w = structure(pre, post) * scale_e / g_l[post]
            for synapse, g in ((ampa, g_ampa[kind]), (nmda, g_nmda[kind])):
                projections.append(
                    connect_pooled(
                        pops[pre], pops[post], w * g, synapse, delay_ms=p.delay_ms, dtype=dtype
                    )
                )
    for post in POOLS:
        kind = "I" if post == "I" else "E"
        projections.append(
            connect_pooled(
                pops["I"],
                pops[post],
                g_gaba[kind] * scale_i / g_l[post],
                gaba,
                delay_ms=p.delay_ms,
                dtype=dtype,
            )
        )
    inputs = [
        PoissonDrive(
            f"ext_{name}",
            name,
            sizes[name],
            n_sources=1,
            rate_hz=p.background_hz,
            weight=(p.g_ampa_ext_i_ns if name == "I" else p.g_ampa_ext_e_ns) / g_l[name],
            synapse=ampa,
            counts=TruncatedPoissonCounts(),
        )
        for name in POOLS
    ]
    return Network([pops[name] for name in POOLS], projections, inputs)


def wang2002_state(
    network: Network,
    key: PRNGKeyArray,
    *,
    dt_ms: float = DT_MS,
    params: Wang2002Parameters = Wang2002Parameters(),
    dtype=None,
) -> NetworkState:
    """Initial state: V uniform in [V_L, V_th) (mV), no synaptic activity, nothing in
    flight (the delay rings are sized for `dt_ms`).

    Let the network settle for a few hundred ms before the stimulus (its spontaneous
    state), as `Wang2002Protocol.onset_ms` does.

    Raises:
        ValueError: if `key` is not a PRNG key, `dt_ms` is not a finite number > 0,
            `params` is not a `Wang2002Parameters` or `dtype` is not a float dtype.
    """
    check_key("key", key)
    check_positive("dt_ms", dt_ms)
    check_float_dtype("dtype", dtype)
    if not isinstance(params, Wang2002Parameters):
        raise ValueError(f"params must be a Wang2002Parameters, got {type(params).__name__}")
    dtype = jnp.result_type(float) if dtype is None else jnp.dtype(dtype)
    v0 = jr.uniform(key, (network.n_neurons,), dtype, minval=params.v_l_mv, maxval=params.v_th_mv)
    return init_state(network, dt_ms=dt_ms, v0_mv=v0, dtype=dtype)


class Wang2002Protocol(AbstractTrialTiming):
    """The timing of one reaction-time trial and its stimulus statistics.

    The stimulus starts at `onset_ms` (after a spontaneous period) and stays on until the
    end of the trial (`stimulus_ms` later): a reaction-time task where the decision is
    read out when a pool's rate crosses the threshold (`jaxsnn.psychophysics`).

    Attributes:
        dt_ms: step (ms).
        onset_ms: stimulus onset (ms from the trial start).
        stimulus_ms: stimulus duration (ms); the trial ends with it.
        mu0_hz: stimulus rate at zero coherence μ0 (Hz).
        sigma_hz: standard deviation of the stimulus rate σ (Hz).
        interval_ms: the stimulus rates are redrawn every `interval_ms` ms.
        record_ms: pool rates are recorded in windows of this length (ms).
    """

    dt_ms: float = eqx.field(default=DT_MS, static=True)
    onset_ms: float = eqx.field(default=500.0, static=True)
    stimulus_ms: float = eqx.field(default=2000.0, static=True)
    mu0_hz: float = eqx.field(default=40.0, static=True)
    sigma_hz: float = eqx.field(default=4.0, static=True)
    interval_ms: float = eqx.field(default=50.0, static=True)
    record_ms: float = eqx.field(default=1.0, static=True)

    def __check_init__(self):
        self.check_timing()
        check_nonnegative("Wang2002Protocol.mu0_hz", self.mu0_hz)
        check_nonnegative("Wang2002Protocol.sigma_hz", self.sigma_hz)
        check_positive("Wang2002Protocol.interval_ms", self.interval_ms)
        if self.n_steps % self.record_every:
            raise ValueError(
                f"the trial, onset_ms + stimulus_ms = {self.duration_ms} ms, must be a whole "
                f"number of recording windows of record_ms = {self.record_ms} ms"
            )


def stimulus_rates(
    key: PRNGKeyArray,
    coherence_pct: float | Float[Array, ""],
    protocol: Wang2002Protocol = Wang2002Protocol(),
) -> Float[Array, "n_steps 2"]:
    """The stimulus rates (Hz) of pools A and B at every step of a trial.

    0 before `protocol.onset_ms`; from the onset, interval k (of `interval_ms`) has
    `max(μ_A + σ·z_kA, 0)` and `max(μ_B + σ·z_kB, 0)` with z ~ N(0, 1) independent per
    pool and interval, μ_A = μ0·(1 + c/100), μ_B = μ0·(1 − c/100).

    Args:
        key: PRNG key of the trial's stimulus.
        coherence_pct: c in % (in [−100, 100]; negative favours B); traced is fine.
        protocol: timing and statistics.

    Returns:
        (n_steps, 2) rates in Hz, column 0 for A, column 1 for B.
    """
    p = protocol
    c = jnp.asarray(coherence_pct, jnp.result_type(float))
    n_intervals = max(int(math.ceil(p.stimulus_ms / p.interval_ms)), 1)
    z = jr.normal(key, (n_intervals, 2), c.dtype)
    mu = p.mu0_hz * jnp.stack([1.0 + c / 100.0, 1.0 - c / 100.0])
    rates = jnp.maximum(mu + p.sigma_hz * z, 0.0)
    # the interval of each step since the onset (static: NumPy, float64, at trace time)
    t_ms = np.arange(p.n_steps - p.onset_step) * p.dt_ms
    k = np.minimum(np.floor(t_ms / p.interval_ms + 1e-9).astype(np.int32), n_intervals - 1)
    on = rates[k]
    return jnp.concatenate([jnp.zeros((p.onset_step, 2), c.dtype), on])


def wang2002_inputs(
    key: PRNGKeyArray,
    coherence_pct: float | Float[Array, ""],
    protocol: Wang2002Protocol = Wang2002Protocol(),
    *,
    params: Wang2002Parameters = Wang2002Parameters(),
) -> dict[str, Float[Array, "n_steps 1"]]:
    """The per-trial data of "ext_A" and "ext_B": background plus stimulus rate (Hz) at
    every step, (n_steps, 1) each (a sum of independent Poisson processes is one Poisson
    process of the summed rate, through the same external AMPA synapse)."""
    rates = stimulus_rates(key, coherence_pct, protocol) + params.background_hz
    return {"ext_A": rates[:, :1], "ext_B": rates[:, 1:]}


def check_coherence(name: str, coherence_pct) -> None:
    """Raise ValueError unless concrete coherences are finite and in [−100, 100] %."""
    check_finite(name, coherence_pct)
    if is_concrete(coherence_pct):
        values = np.asarray(coherence_pct, dtype=np.float64)
        if np.any(np.abs(values) > 100):
            raise ValueError(f"{name} must lie in [-100, 100] %, got {values.tolist()}")

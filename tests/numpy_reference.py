"""A plain-NumPy float64 simulator of jaxsnn's network semantics, for parity tests.

Written from the documented model (the docstrings of `jaxsnn.neurons`, `jaxsnn.synapses`,
`jaxsnn.projection` (delays) and `jaxsnn.network`), without calling jaxsnn, so that a test
comparing the two checks the implementation against its documentation. Where jaxsnn
stores spikes in flight in buffers, this simulator keeps the whole history and looks
delayed spikes up in it. One step of length dt:

1. input spikes of this step: row t of each user spike matrix;
2. for each projection, the spikes arriving at its synapses: synapse (i, j) with a delay
   of d steps sees the source's signal of d steps ago (the source's signal at step t is
   the input spikes of step t, or the population's spikes of step t - 1); NMDA turns the
   arriving spikes into its presynaptic gating s (x ← x·exp(-dt/tau_r) + spikes;
   s integrated exactly with x held); drive `d_j = Σ_i w_ij · signal_ij`;
   delta: jump += d; current: `I ← I·exp(-dt/tau) + d`, current += I;
   conductance: `g ← g·exp(-dt/tau) + d`, g_tot += g, g_e += g·E_rev;
   dual exponential: two exponentials of rise and decay, x = N·(slow - fast), acting as a
   current; NMDA: the drive times the Mg block at the V of the start of the step,
   acting as a conductance;
3. external currents are added to the current;
4. the neuron model: LIF (`V_inf = (v_rest + I + g_e)/(1 + g_tot)`,
   `V' = V_inf + (V - V_inf)·exp(-(dt/tau)(1 + g_tot)) + jump`; refractory neurons keep V
   and cannot spike; spike where `V' - threshold > 0`; reset to v_reset or subtract
   `v_th - v_reset`; a spiking neuron is refractory for the next `round(t_ref/dt)` steps);
   adaptive LIF (a ← a·exp(-dt/tau_a) first, threshold v_th + beta·a, a += spike after);
   AdEx (explicit Euler on V and w from the start-of-step values, spike above v_peak,
   V ← v_reset, w += b).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RefPopulation:
    """Population parameters (ms, mV). `reset` is "value" or "subtract"; `kind` is
    "lif", "alif" (with tau_adapt, beta) or "adex" (with the AdEx fields; v_th unused)."""

    name: str
    n: int
    tau_mem_ms: float
    v_rest_mv: float
    v_th_mv: float
    v_reset_mv: float
    t_ref_ms: float
    reset: str = "value"
    kind: str = "lif"
    tau_adapt_ms: float = 100.0
    beta_mv: float = 0.0
    v_t_mv: float = -50.0
    delta_t_mv: float = 2.0
    v_peak_mv: float = -40.0
    tau_w_ms: float = 100.0
    a: float = 0.0
    b_mv: float = 0.0


@dataclass(frozen=True)
class RefProjection:
    """Dense weights (n_pre, n_post); `kind` is "delta", "current", "conductance",
    "dual" (current) or "nmda"; `delay_steps` None, an int, or (n_pre, n_post) ints."""

    pre: str
    post: str
    weights: np.ndarray
    kind: str = "delta"
    tau_ms: float = 0.0
    e_rev_mv: float = 0.0
    tau_rise_ms: float = 1.0
    delay_steps: object = None
    alpha_per_ms: float = 0.5
    mg_mm: float = 1.0


def _delays(pr: RefProjection) -> np.ndarray:
    d = 0 if pr.delay_steps is None else pr.delay_steps
    return np.broadcast_to(np.asarray(d, np.int64), pr.weights.shape)


def simulate_reference(
    populations: list[RefPopulation],
    projections: list[RefProjection],
    *,
    n_steps: int,
    dt_ms: float,
    spike_inputs: dict[str, np.ndarray],
    currents: dict[str, np.ndarray],
    v0: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate from rest (or `v0`); return spikes and voltages, each (n_steps, N) float64.

    Args:
        populations: neuron groups, laid out one after the other.
        projections: synapses between inputs/populations and populations.
        n_steps: number of steps.
        dt_ms: step length (ms).
        spike_inputs: input name -> (n_steps, n) binary matrix.
        currents: population name -> (n_steps, n) external current (mV).
        v0: initial potentials (N,), default each population's v_rest.
    """
    offsets, start = {}, 0
    for p in populations:
        offsets[p.name] = slice(start, start + p.n)
        start += p.n
    n_total = start
    v = np.concatenate([np.full(p.n, p.v_rest_mv, np.float64) for p in populations])
    if v0 is not None:
        v = np.array(v0, np.float64)
    refractory = np.zeros(n_total, np.int64)
    adaptation = np.zeros(n_total)  # a of adaptive LIF, w of AdEx
    spikes = np.zeros(n_total, np.float64)
    post_state = [np.zeros(pr.weights.shape[1]) for pr in projections]
    fast_state = [np.zeros(pr.weights.shape[1]) for pr in projections]
    nmda_x = [np.zeros(pr.weights.shape[0]) for pr in projections]
    nmda_s = [np.zeros(pr.weights.shape[0]) for pr in projections]
    history: dict[str, list[np.ndarray]] = {}  # source name -> its signal at every step
    out_s = np.zeros((n_steps, n_total))
    out_v = np.zeros((n_steps, n_total))
    for t in range(n_steps):
        signal = {name: np.asarray(m[t], np.float64) for name, m in spike_inputs.items()}
        signal |= {p.name: spikes[offsets[p.name]] for p in populations}
        for name, s in signal.items():
            history.setdefault(name, []).append(s)
        jump = np.zeros(n_total)
        current = np.zeros(n_total)
        g_tot = np.zeros(n_total)
        g_e = np.zeros(n_total)
        for m, pr in enumerate(projections):
            post = offsets[pr.post]
            delays = _delays(pr)
            rows = np.arange(pr.weights.shape[0])[:, None]
            past = np.stack(history[pr.pre])  # (t + 1, n_pre)
            when = t - delays
            arrived = np.where(when >= 0, past[np.maximum(when, 0), rows], 0.0)  # (n_pre, n_post)
            if pr.kind == "nmda":
                # uniform delays only: one arrival per presynaptic neuron
                s_in = arrived[:, 0]
                nmda_x[m] = nmda_x[m] * math.exp(-dt_ms / pr.tau_rise_ms) + s_in
                ax = pr.alpha_per_ms * nmda_x[m]
                rate = 1.0 / pr.tau_ms + ax
                s_inf = ax / rate
                nmda_s[m] = s_inf + (nmda_s[m] - s_inf) * np.exp(-rate * dt_ms)
                d = nmda_s[m] @ pr.weights
            else:
                d = np.sum(arrived * pr.weights, axis=0)
            if pr.kind == "delta":
                jump[post] += d
            elif pr.kind in ("current", "conductance"):
                post_state[m] = post_state[m] * math.exp(-dt_ms / pr.tau_ms) + d
                if pr.kind == "current":
                    current[post] += post_state[m]
                else:
                    g_tot[post] += post_state[m]
                    g_e[post] += post_state[m] * pr.e_rev_mv
            elif pr.kind == "dual":
                tr, td = pr.tau_rise_ms, pr.tau_ms
                t_peak = td * tr / (td - tr) * math.log(td / tr)
                norm = 1.0 / (math.exp(-t_peak / td) - math.exp(-t_peak / tr))
                post_state[m] = post_state[m] * math.exp(-dt_ms / td) + d
                fast_state[m] = fast_state[m] * math.exp(-dt_ms / tr) + d
                current[post] += norm * (post_state[m] - fast_state[m])
            elif pr.kind == "nmda":
                block = 1.0 / (1.0 + pr.mg_mm / 3.57 * np.exp(-0.062 * v[post]))
                g_tot[post] += d * block
                g_e[post] += d * block * pr.e_rev_mv
            else:
                raise ValueError(f"unknown synapse kind {pr.kind!r}")
        for name, c in currents.items():
            current[offsets[name]] += c[t]
        new_spikes = np.zeros(n_total)
        for p in populations:
            sl = offsets[p.name]
            held = refractory[sl] > 0
            if p.kind == "adex":
                w = adaptation[sl]
                dv = (
                    -(v[sl] - p.v_rest_mv)
                    + p.delta_t_mv * np.exp((v[sl] - p.v_t_mv) / p.delta_t_mv)
                    - w
                    + current[sl]
                    + g_e[sl]
                    - g_tot[sl] * v[sl]
                )
                v_int = v[sl] + dt_ms / p.tau_mem_ms * dv + jump[sl]
                w_new = w + dt_ms / p.tau_w_ms * (p.a * (v[sl] - p.v_rest_mv) - w)
                v_new = np.where(held, v[sl], v_int)
                s = (~held) & (v_new - p.v_peak_mv > 0)
                v_new = np.where(s, p.v_reset_mv, v_new)
                adaptation[sl] = w_new + p.b_mv * s
            else:
                threshold = p.v_th_mv
                if p.kind == "alif":
                    adaptation[sl] = adaptation[sl] * math.exp(-dt_ms / p.tau_adapt_ms)
                    threshold = p.v_th_mv + p.beta_mv * adaptation[sl]
                v_inf = (p.v_rest_mv + current[sl] + g_e[sl]) / (1.0 + g_tot[sl])
                decay = np.exp(-(dt_ms / p.tau_mem_ms) * (1.0 + g_tot[sl]))
                v_int = v_inf + (v[sl] - v_inf) * decay + jump[sl]
                v_new = np.where(held, v[sl], v_int)
                s = (~held) & (v_new - threshold > 0)
                if p.reset == "value":
                    v_new = np.where(s, p.v_reset_mv, v_new)
                else:
                    v_new = v_new - s * (p.v_th_mv - p.v_reset_mv)
                if p.kind == "alif":
                    adaptation[sl] = adaptation[sl] + s
            n_ref = round(p.t_ref_ms / dt_ms)
            refractory[sl] = np.where(s, n_ref, np.maximum(refractory[sl] - 1, 0))
            v[sl] = v_new
            new_spikes[sl] = s
        spikes = new_spikes
        out_s[t] = spikes
        out_v[t] = v
    return out_s, out_v

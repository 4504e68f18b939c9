"""A plain-NumPy float64 simulator of jaxsnn's network semantics, for parity tests.

Written from the documented model (module docstrings of `jaxsnn.neuron`,
`jaxsnn.synapse` and `jaxsnn.network`), without calling jaxsnn, so that a test comparing
the two checks the implementation against its documentation. One step of length dt:

1. input spikes of this step: row t of each user spike matrix;
2. for each projection, drive `d = s_pre @ W` (s_pre = input spikes of this step, or the
   presynaptic population's spikes of the previous step);
   delta: jump += d; current: `I ← I·exp(-dt/tau) + d`, current += I;
   conductance: `g ← g·exp(-dt/tau) + d`, g_tot += g, g_e += g·E_rev;
3. external currents are added to the current;
4. LIF: `V_inf = (v_rest + I + g_e)/(1 + g_tot)`, `V' = V_inf + (V - V_inf)·exp(-(dt/tau)(1 + g_tot))
   + jump`; refractory neurons keep V and cannot spike; spike where `V' - v_th > 0`;
   reset to v_reset or subtract `v_th - v_reset`; a spiking neuron is refractory for the next
   `round(t_ref/dt)` steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RefPopulation:
    """LIF population parameters (ms, mV); `reset` is "value" or "subtract"."""

    name: str
    n: int
    tau_mem_ms: float
    v_rest_mv: float
    v_th_mv: float
    v_reset_mv: float
    t_ref_ms: float
    reset: str = "value"


@dataclass(frozen=True)
class RefProjection:
    """Dense weights (n_pre, n_post); `kind` is "delta", "current" or "conductance"."""

    pre: str
    post: str
    weights: np.ndarray
    kind: str = "delta"
    tau_ms: float = 0.0
    e_rev_mv: float = 0.0


def simulate_reference(
    populations: list[RefPopulation],
    projections: list[RefProjection],
    *,
    n_steps: int,
    dt_ms: float,
    spike_inputs: dict[str, np.ndarray],
    currents: dict[str, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate from rest; return spikes and voltages, each (n_steps, N) float64.

    Args:
        populations: neuron groups, laid out one after the other.
        projections: synapses between inputs/populations and populations.
        n_steps: number of steps.
        dt_ms: step length (ms).
        spike_inputs: input name -> (n_steps, n) binary matrix.
        currents: population name -> (n_steps, n) external current (mV).
    """
    offsets, start = {}, 0
    for p in populations:
        offsets[p.name] = slice(start, start + p.n)
        start += p.n
    n_total = start
    v = np.concatenate([np.full(p.n, p.v_rest_mv, np.float64) for p in populations])
    refractory = np.zeros(n_total, np.int64)
    spikes = np.zeros(n_total, np.float64)
    syn = [np.zeros(pr.weights.shape[1]) for pr in projections]
    out_s = np.zeros((n_steps, n_total))
    out_v = np.zeros((n_steps, n_total))
    for t in range(n_steps):
        jump = np.zeros(n_total)
        current = np.zeros(n_total)
        g_tot = np.zeros(n_total)
        g_e = np.zeros(n_total)
        for m, pr in enumerate(projections):
            if pr.pre in spike_inputs:
                s_pre = np.asarray(spike_inputs[pr.pre][t], np.float64)
            else:
                s_pre = spikes[offsets[pr.pre]]
            d = s_pre @ pr.weights
            post = offsets[pr.post]
            if pr.kind == "delta":
                jump[post] += d
            else:
                syn[m] = syn[m] * math.exp(-dt_ms / pr.tau_ms) + d
                if pr.kind == "current":
                    current[post] += syn[m]
                elif pr.kind == "conductance":
                    g_tot[post] += syn[m]
                    g_e[post] += syn[m] * pr.e_rev_mv
                else:
                    raise ValueError(f"unknown synapse kind {pr.kind!r}")
        for name, c in currents.items():
            current[offsets[name]] += c[t]
        new_spikes = np.zeros(n_total)
        for p in populations:
            sl = offsets[p.name]
            v_inf = (p.v_rest_mv + current[sl] + g_e[sl]) / (1.0 + g_tot[sl])
            decay = np.exp(-(dt_ms / p.tau_mem_ms) * (1.0 + g_tot[sl]))
            v_int = v_inf + (v[sl] - v_inf) * decay + jump[sl]
            held = refractory[sl] > 0
            v_new = np.where(held, v[sl], v_int)
            s = (~held) & (v_new - p.v_th_mv > 0)
            if p.reset == "value":
                v_new = np.where(s, p.v_reset_mv, v_new)
            else:
                v_new = v_new - s * (p.v_th_mv - p.v_reset_mv)
            n_ref = round(p.t_ref_ms / dt_ms)
            refractory[sl] = np.where(s, n_ref, np.maximum(refractory[sl] - 1, 0))
            v[sl] = v_new
            new_spikes[sl] = s
        spikes = new_spikes
        out_s[t] = spikes
        out_v[t] = v
    return out_s, out_v

"""NumPy references for W1 and W2: the same models, step for step, in plain NumPy (float32).

W1 uses the seed's method (a dense `s @ W` per step for the whole batch), as
`shared/BENCHMARKS.md` specifies. W2 adds the dense weight rows of the neurons that
spiked (the natural NumPy formulation; a dense 4000 x 4000 product per step would take
minutes). Both follow jaxsnn's order of operations (`jaxsnn.network`): input spikes of
step t and recurrent spikes of step t-1 act at step t; exact integration; spike when
V - v_th > 0; reset; refractory neurons hold V.
"""

from __future__ import annotations

import math

import numpy as np


def w1_numpy(
    weights: np.ndarray,
    rates_hz: np.ndarray,
    n_steps: int,
    *,
    dt_ms: float = 0.1,
    n_in: int = 100,
    w_in_mv: float = 0.5,
    seed: int = 0,
) -> np.ndarray:
    """Simulate a batch of W1 trials.

    Args:
        weights: (N, N) float32 dense weights, row = presynaptic neuron (mV jumps).
        rates_hz: (B,) Poisson rate of the input channels of each trial (Hz).
        n_steps: number of steps.
        dt_ms: step (ms).
        n_in: Poisson channels; channel i drives neuron i.
        w_in_mv: jump per input spike (mV).
        seed: NumPy seed of the input spikes.

    Returns:
        (B, N) spike counts.
    """
    rng = np.random.default_rng(seed)
    b, n = len(rates_hz), weights.shape[0]
    decay = np.float32(math.exp(-dt_ms / 20.0))
    n_ref = round(2.0 / dt_ms)
    p_in = (np.asarray(rates_hz, np.float32) * np.float32(dt_ms * 1e-3))[:, None]
    v = np.zeros((b, n), np.float32)
    ref = np.zeros((b, n), np.int32)
    s = np.zeros((b, n), np.float32)
    counts = np.zeros((b, n), np.int64)
    for _ in range(n_steps):
        jump = s @ weights
        jump[:, :n_in] += np.float32(w_in_mv) * (rng.random((b, n_in), np.float32) < p_in)
        refractory = ref > 0
        v = np.where(refractory, v, v * decay + jump)
        spiked = (v > 1.0) & ~refractory
        v = np.where(spiked, np.float32(0.0), v)
        ref = np.where(spiked, n_ref, np.maximum(ref - 1, 0))
        s = spiked.astype(np.float32)
        counts += spiked
    return counts


def w2_numpy(
    w_exc: np.ndarray,
    w_inh: np.ndarray,
    v0_mv: np.ndarray,
    n_steps: int,
    *,
    dt_ms: float = 0.1,
) -> np.ndarray:
    """Simulate W2 (the COBA network of `jaxsnn.models.ei_coba`).

    Args:
        w_exc: (n_exc, N) float32 conductance increments from each excitatory neuron.
        w_inh: (n_inh, N) float32 conductance increments from each inhibitory neuron.
        v0_mv: (N,) initial potentials (mV).
        n_steps: number of steps.
        dt_ms: step (ms).

    Returns:
        (N,) spike counts.
    """
    n_exc, n = w_exc.shape
    f32 = np.float32
    de, di = f32(math.exp(-dt_ms / 5.0)), f32(math.exp(-dt_ms / 10.0))
    ratio = f32(dt_ms / 20.0)
    n_ref = round(5.0 / dt_ms)
    v = v0_mv.astype(f32).copy()
    ge = np.zeros(n, f32)
    gi = np.zeros(n, f32)
    ref = np.zeros(n, np.int32)
    spiked = np.zeros(n, bool)
    counts = np.zeros(n, np.int64)
    for _ in range(n_steps):
        idx = np.flatnonzero(spiked)
        ge = ge * de + w_exc[idx[idx < n_exc]].sum(axis=0)
        gi = gi * di + w_inh[idx[idx >= n_exc] - n_exc].sum(axis=0)
        g = ge + gi
        v_inf = (f32(-60.0) + f32(20.0) + gi * f32(-80.0)) / (f32(1.0) + g)
        v_int = v_inf + (v - v_inf) * np.exp(-ratio * (f32(1.0) + g))
        refractory = ref > 0
        v = np.where(refractory, v, v_int)
        spiked = (v > -50.0) & ~refractory
        v = np.where(spiked, f32(-60.0), v)
        ref = np.where(spiked, n_ref, np.maximum(ref - 1, 0))
        counts += spiked
    return counts

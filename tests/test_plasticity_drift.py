"""Mean drift of additive all-to-all STDP under independent Poisson pre/post firing.

Closed form (REFERENCES §5.3): E[dw/dt] = r_pre·r_post·(A₊τ₊ − A₋τ₋), here negative
(A₋τ₋ = 1.05·A₊τ₊, Song et al.'s depression-dominated window). The rule is driven with
Bernoulli spike trains drawn inside the scan, one pre/post pair per synapse (a one-to-one
ELL layout), no network.

Discrete time: with coincident spikes counted with weight c, the expected drift per step
is p²·(A₊·(d₊/(1−d₊) + c) − A₋·(d₋/(1−d₋) + c)), d = exp(−dt/τ); as d/(1−d) = τ/dt − 1/2
+ O(dt/τ), the formula plus (c − 1/2)·(A₊ − A₋)·dt·r_pre·r_post (the STDP docstring).
With c = 0 (the default) and Song's window this is the formula times (1 − dt/(2τ)): a bias
of −2.5 % at dt = 1 ms and −0.6 % at dt = 0.25 ms.
"""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from jaxsnn.layout import SparseLayout
from jaxsnn.plasticity import STDP

RATE_HZ = 10.0
A_PLUS = 1e-4  # small: no bounds are reached, weights only accumulate
TAU_MS = 20.0
RULE = STDP(
    a_plus=A_PLUS, a_minus=1.05 * A_PLUS, tau_plus_ms=TAU_MS, tau_minus_ms=TAU_MS, clip=False
)


def one_to_one(n_synapses):
    """n independent synapses: pre i -> post i, one ELL slot each."""
    return SparseLayout(n_synapses, n_synapses, jnp.arange(n_synapses, dtype=jnp.int32)[:, None])


def mean_weight(rule, n_synapses, seconds, dt_ms, rate_hz, key):
    """Mean w over n independent synapses (from 0) after `seconds` of Bernoulli pre and post
    spikes at `rate_hz`, drawn inside the scan (traceable in the rule's fields)."""
    layout = one_to_one(n_synapses)
    p = rate_hz * dt_ms * 1e-3

    def step(carry, t):
        w, traces = carry
        s = (jr.uniform(jr.fold_in(key, t), (2, n_synapses)) < p).astype(jnp.float32)
        dw, traces = rule(w, traces, s[0], s[1], layout=layout, dt_ms=dt_ms)
        return (w + dw, traces), None

    carry = (jnp.zeros((n_synapses, 1), jnp.float32), rule.init(n_synapses, n_synapses))
    (w, _), _ = jax.lax.scan(step, carry, jnp.arange(int(round(seconds * 1000 / dt_ms))))
    return jnp.mean(w)


def mean_drift(n_synapses, seconds, dt_ms, seed):
    """Mean Δw over independent synapses after `seconds` of Poisson firing."""
    run = jax.jit(lambda: mean_weight(RULE, n_synapses, seconds, dt_ms, RATE_HZ, jr.key(seed)))
    return float(run())


def expected_drift(seconds):
    r = RATE_HZ * 1e-3  # per ms
    return r * r * (A_PLUS * TAU_MS - 1.05 * A_PLUS * TAU_MS) * seconds * 1000


def test_mean_drift_short():
    # 1000 synapses, 50 s, dt = 1 ms (a few seconds). The seed-to-seed spread of the mean
    # is 5.6 % for 100 s (measured over 6 seeds: each synapse sees ~1000 pairs whose
    # random timing dominates), so ~8 % for 50 s, and dt = 1 ms biases it by −2.5 %
    # (module docstring): ±25 % is about 3σ. The slow test below checks the 5 %
    # criterion with 40× the statistics.
    got = mean_drift(1000, 50.0, 1.0, seed=0)
    want = expected_drift(50.0)
    assert got < 0
    assert abs(got / want - 1) < 0.25, (got, want)


@pytest.mark.slow
def test_mean_drift_within_5_percent():
    # 20 000 synapses (seed spread ~1.3 %), dt = 0.25 ms (bias −0.6 %), 100 s: the 5 %
    # criterion of REFERENCES §5.4 S3 holds at > 3σ (about 2.5 min on 2 CPU cores).
    # REFERENCES proposes 1000 synapses, but then the statistical spread alone (5.6 %)
    # exceeds the tolerance.
    got = mean_drift(20000, 100.0, 0.25, seed=0)
    want = expected_drift(100.0)
    assert got < 0
    assert abs(got / want - 1) < 0.05, (got, want)


def test_bias_of_each_treatment_of_coincident_pairs():
    """The discrete-time bias (c − 1/2)·(A₊ − A₋)·dt·r_pre·r_post of the STDP docstring,
    measured at dt = 1 ms for c = 0, 1/2 and 1 in one vmapped run (c is an array field).

    A balanced window (A₋ = A₊/2, τ₋ = 2τ₊: A₊τ₊ = A₋τ₋, zero drift in continuous time), so
    what is left is the bias: −(A₊ − A₋)·(dt/2)·r²·T = −1e-4 for c = 0, 0 for c = 1/2,
    +1e-4 for c = 1. 10 000 independent synapses at 20 Hz for 10 s: the standard error of
    the mean is ~1.2e-5 (each synapse sees ~250 pairs of ±1e-4), the tolerance 4e-5.
    """
    n, seconds, dt_ms, r_hz = 10_000, 10.0, 1.0, 20.0
    a_plus, a_minus, tau_plus, tau_minus = 1e-4, 0.5e-4, 20.0, 40.0

    def run(c):
        rule = STDP(
            a_plus=a_plus, a_minus=a_minus, tau_plus_ms=tau_plus, tau_minus_ms=tau_minus,
            clip=False, coincident_weight=c,
        )  # fmt: skip
        return mean_weight(rule, n, seconds, dt_ms, r_hz, jr.key(42))

    c = jnp.asarray([0.0, 0.5, 1.0], jnp.float32)
    got = np.asarray(jax.jit(jax.vmap(run))(c))  # the same spikes for every c
    r, t_ms = r_hz * 1e-3, seconds * 1000
    assert a_plus * tau_plus == a_minus * tau_minus  # no drift in continuous time
    bias = (np.asarray(c) - 0.5) * (a_plus - a_minus) * dt_ms * r * r * t_ms
    np.testing.assert_allclose(got, bias, rtol=0, atol=4e-5)
    assert got[0] < -6e-5 and got[2] > 6e-5  # the biases are there, with opposite signs

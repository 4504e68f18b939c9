"""Inputs: Poisson statistics and rate schedules, spike matrices, injected currents."""

import math

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

import jaxsnn as snn

DT = 0.1
T = 2000
N_IN = 100


def _relay(inp):
    """inp -> R one-to-one with a suprathreshold delta weight and no refractoriness: R
    spikes at step t exactly when its input channel does, so R's spikes are the input's."""
    relay = snn.Population("R", inp.n, snn.LIF(tau_mem_ms=10.0, v_th_mv=1.0))
    proj = snn.connect(inp, relay, snn.OneToOne(), snn.Constant(2.0), key=jr.key(0))
    return snn.Network([relay], [proj], [inp])


def _input_spikes(inp, *, key=None, inputs=None, n_steps=T):
    net = _relay(inp)
    _, rec = snn.simulate(
        net,
        snn.init_state(net),
        n_steps,
        dt_ms=DT,
        key=key,
        inputs=inputs,
        record=snn.Record(spikes="R"),
    )
    return np.asarray(rec.spikes["R"])


def test_poisson_counts_are_binomial_and_channels_independent():
    rates = jnp.linspace(50.0, 250.0, N_IN)  # per-channel rates (Hz)
    s = _input_spikes(snn.PoissonInput("in", N_IN, rate_hz=rates), key=jr.key(9))
    p = np.asarray(rates, np.float64) * DT / 1000
    counts = s.sum(0)
    # Each channel's count ~ Binomial(T, p_i): total z-score and per-channel chi-square.
    z = (counts.sum() - T * p.sum()) / math.sqrt(T * (p * (1 - p)).sum())
    assert abs(z) < 4.5
    chi2 = (((counts - T * p) ** 2) / (T * p * (1 - p))).sum()
    assert abs(chi2 - N_IN) < 4.5 * math.sqrt(2 * N_IN)  # chi² with N_IN dof
    # Independence across channels: coincidences per step are K(K-1)/2 with K the number of
    # channels that spike, K Poisson-binomial(p); its exact moments come from convolving
    # the channels' Bernoulli distributions.
    dist = np.array([1.0])
    for q in p:
        dist = np.convolve(dist, [1 - q, q])
    pairs = np.arange(dist.size) * (np.arange(dist.size) - 1) / 2
    mean, var = (dist * pairs).sum(), (dist * pairs**2).sum() - (dist * pairs).sum() ** 2
    k = s.sum(1)
    assert abs((k * (k - 1) / 2).sum() - T * mean) < 4.5 * math.sqrt(T * var)
    # Independence across steps: the same channel spiking at t and t + 1 happens
    # (T - 1)·Σp² times on average; the variance is close to the mean (rare events).
    repeats = (s[:-1] * s[1:]).sum()
    expected = (T - 1) * (p**2).sum()
    assert abs(repeats - expected) < 4.5 * math.sqrt(expected)


def test_poisson_same_key_same_spikes_and_rate_schedule_from_inputs():
    inp = snn.PoissonInput("in", N_IN, rate_hz=100.0)
    a = _input_spikes(inp, key=jr.key(1))
    np.testing.assert_array_equal(a, _input_spikes(inp, key=jr.key(1)))
    assert not np.array_equal(a, _input_spikes(inp, key=jr.key(2)))
    # A (T, n) schedule: silent first half, 1 kHz on the even channels in the second.
    schedule = np.zeros((T, N_IN), np.float32)
    schedule[T // 2 :, ::2] = 1000.0
    s = _input_spikes(inp, key=jr.key(1), inputs={"in": jnp.asarray(schedule)})
    assert s[: T // 2].sum() == 0 and s[:, 1::2].sum() == 0
    n = (T // 2) * (N_IN // 2)
    assert abs(s.sum() - 0.1 * n) < 4.5 * math.sqrt(n * 0.1 * 0.9)
    # A (T, 1) schedule is shared by every channel.
    shared = np.where(np.arange(T) < T // 2, 0.0, 500.0).astype(np.float32)[:, None]
    s = _input_spikes(inp, key=jr.key(1), inputs={"in": jnp.asarray(shared)})
    assert s[: T // 2].sum() == 0 and s[T // 2 :].sum() > 0


def test_spike_matrix_is_delivered_unchanged():
    data = (jr.uniform(jr.key(3), (300, 8)) < 0.2).astype(jnp.float32)
    s = _input_spikes(snn.SpikeInput("in", 8), inputs={"in": data}, n_steps=300)
    np.testing.assert_array_equal(s, data)
    # Boolean and integer matrices are accepted too.
    s = _input_spikes(snn.SpikeInput("in", 8), inputs={"in": data > 0}, n_steps=300)
    np.testing.assert_array_equal(s, data)


def test_current_input_constant_shared_and_per_neuron_schedules():
    """Threshold unreachable: V_t = d·V_{t-1} + (1 - d)·I_t exactly (d = exp(-dt/tau))."""
    n, steps, tau = 3, 200, 10.0
    pop = snn.Population("A", n, snn.LIF(tau_mem_ms=tau, v_th_mv=1e9))
    d = math.exp(-DT / tau)

    def v_of(inp, inputs=None):
        with jax.enable_x64(True):
            net = snn.Network([pop], [], [inp])
            _, rec = snn.simulate(
                net,
                snn.init_state(net),
                steps,
                dt_ms=DT,
                inputs=inputs,
                record=snn.Record(voltages="A"),
            )
            return np.asarray(rec.v["A"])

    def expected(current):  # current (steps, n)
        v, out = np.zeros(n), []
        for i_t in current:
            v = d * v + (1 - d) * i_t
            out.append(v)
        return np.stack(out)

    amp = np.array([1.0, 2.0, -3.0])
    const = v_of(snn.CurrentInput("c", "A", n, amplitude_mv=jnp.asarray(amp)))
    # float64 recursion against the same recursion in NumPy: rounding only.
    np.testing.assert_allclose(const, expected(np.tile(amp, (steps, 1))), rtol=1e-12, atol=1e-12)
    shared = np.sin(np.arange(steps) / 10.0)
    with jax.enable_x64(True):
        got = v_of(snn.CurrentInput("c", "A", n), {"c": jnp.asarray(shared)[:, None]})
    np.testing.assert_allclose(got, expected(np.tile(shared[:, None], (1, n))), atol=1e-12)
    per = np.random.default_rng(0).normal(size=(steps, n))
    with jax.enable_x64(True):
        got = v_of(snn.CurrentInput("c", "A", n, amplitude_mv=5.0), {"c": jnp.asarray(per)})
    np.testing.assert_allclose(got, expected(per), atol=1e-12)  # data replaces amplitude

    # a constant per trial, () or (n,), replaces the amplitude too (no (T, n) array built)
    with jax.enable_x64(True):
        got = v_of(snn.CurrentInput("c", "A", n), {"c": jnp.asarray(amp)})
        np.testing.assert_allclose(got, const, atol=1e-12)
        got = v_of(snn.CurrentInput("c", "A", n), {"c": jnp.float64(2.0)})
    np.testing.assert_allclose(got, expected(np.full((steps, n), 2.0)), atol=1e-12)


def test_per_trial_rates_are_data_a_constant_equals_its_time_series():
    """Rates passed as a constant (n,) draw exactly what the same rates repeated over time
    (T, n) draw, and what the input's own `rate_hz` field draws: the data replaces it."""
    rates = jnp.linspace(20.0, 400.0, N_IN)
    inp = snn.PoissonInput("in", N_IN, rate_hz=0.0)
    key = jr.key(4)
    fixed = _input_spikes(inp, key=key, inputs={"in": rates}, n_steps=300)
    series = _input_spikes(
        inp, key=key, inputs={"in": jnp.broadcast_to(rates, (300, N_IN))}, n_steps=300
    )
    field = _input_spikes(snn.PoissonInput("in", N_IN, rate_hz=rates), key=key, n_steps=300)
    assert fixed.sum() > 0
    np.testing.assert_array_equal(fixed, series)
    np.testing.assert_array_equal(fixed, field)


def test_vmap_over_per_trial_rates_equals_a_stack_of_trials():
    net = _relay(snn.PoissonInput("in", 10, rate_hz=0.0))
    rates = jnp.stack([jnp.full((10,), 50.0), jnp.full((10,), 500.0), jnp.zeros(10)])
    keys = jr.split(jr.key(5), 3)

    def trial(r, k):
        _, rec = snn.simulate(
            net, snn.init_state(net), 200, dt_ms=DT, key=k, inputs={"in": r},
            record=snn.Record(counts="R"),
        )  # fmt: skip
        return rec.counts["R"]

    batched = jax.jit(jax.vmap(trial))(rates, keys)
    for i in range(3):
        np.testing.assert_array_equal(batched[i], trial(rates[i], keys[i]))
    assert batched[2].sum() == 0 and batched[1].sum() > batched[0].sum()

"""LIF neuron: closed-form firing rate, exact integration, threshold, reset, refractoriness."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

import jaxsnn as snn
from jaxsnn.neurons import LIFState


def lif_update(neuron, v, refractory, *, dt_ms, i_mv=None, g=None, g_e_mv=None, jump_mv=None):
    """One `LIF.step` from potentials, refractory counters and input terms."""

    def full(x):
        return None if x is None else jnp.broadcast_to(jnp.asarray(x, v.dtype), v.shape)

    inp = snn.NeuronInput(
        current_mv=full(i_mv),
        conductance=full(g),
        conductance_reversal_mv=full(g_e_mv),
        jump_mv=full(jump_mv),
    )
    state, s = neuron.step(LIFState(v, refractory), inp, dt_ms=dt_ms)
    return state.v, state.refractory, s


# REFERENCES.md §7.1 parameters: tau 20 ms, threshold 20 mV, reset 0, refractory 2 ms.
TAU, THETA, T_REF, DT = 20.0, 20.0, 2.0, 0.1
N_STEPS = 10_000  # 1 s of biological time
MU = np.geomspace(20.5, 100.0, 20)  # 20 drive levels (mV), 13 to 155 Hz


def _closed_form_hz(mu):
    return 1000.0 / (T_REF + TAU * np.log(mu / (mu - THETA)))


def _first_crossing(mu):
    """Smallest k >= 1 with mu·(1 - d^k) - theta > 0 (d = exp(-dt/tau)), in float64."""
    d = math.exp(-DT / TAU)
    k = math.ceil(math.log(mu / (mu - THETA)) / -math.log(d))
    while mu * (1.0 - d**k) - THETA <= 0:  # strict ">" moves an exact tie by one
        k += 1
    # Precondition for an exact comparison: no level sits within rounding of a tie.
    assert mu * (1.0 - d**k) - THETA > 1e-9 and mu * (1.0 - d ** (k - 1)) - THETA < -1e-9
    return k


@pytest.fixture(scope="module")
def spike_trains():
    """(20, N_STEPS) spikes of one neuron per drive level, from ONE vmapped float64 run."""

    def run(mu):
        pop = snn.Population("A", 1, snn.LIF(TAU, 0.0, THETA, 0.0, T_REF))
        net = snn.Network([pop], [], [snn.CurrentInput("drive", "A", 1, mu)])
        _, rec = snn.simulate(
            net, snn.init_state(net), N_STEPS, dt_ms=DT, record=snn.Record(spikes=True)
        )
        return rec.spikes["A"][:, 0]

    with jax.enable_x64(True):
        return np.asarray(jax.jit(jax.vmap(run))(jnp.asarray(MU)))


def test_every_isi_equals_discrete_formula(spike_trains):
    n_ref = round(T_REF / DT)
    for mu, s in zip(MU, spike_trains, strict=True):
        k_star = _first_crossing(mu)
        times = np.nonzero(s)[0]
        assert times.size >= 12
        # From V = 0 at rest the first spike is emitted at the k*-th step (index k* - 1);
        # after it the neuron is held for n_ref steps, then needs k* steps again.
        assert times[0] == k_star - 1
        np.testing.assert_array_equal(np.diff(times), n_ref + k_star)


def test_rate_matches_continuous_closed_form(spike_trains):
    """Mean ISI exceeds the continuous-time 1/f by at most one step (the crossing is only
    detected at the end of the step in which it happens)."""
    isi_ms = np.array([np.diff(np.nonzero(s)[0]).mean() * DT for s in spike_trains])
    excess = isi_ms - 1000.0 / _closed_form_hz(MU)
    assert np.all(excess >= 0) and np.all(excess < DT)
    # Spot values quoted in REFERENCES.md §7.1 (computed there from the same formula).
    np.testing.assert_allclose(
        _closed_form_hz(np.array([20.5, 25.0, 100.0])), [13.1111, 29.2494, 154.7300], atol=1e-4
    )


def _exact_v(v0, tau, v_rest, i_mv, g, e_rev, dt):
    """V(dt) from solving tau dV/dt = (v_rest - V) + I + g·(E - V) numerically."""
    sol = solve_ivp(
        lambda t, v: ((v_rest - v) + i_mv + g * (e_rev - v)) / tau,
        (0.0, dt),
        [v0],
        rtol=1e-12,
        atol=1e-12,
        method="DOP853",
    )
    return sol.y[0, -1]


@pytest.mark.parametrize("g", [0.0, 0.7])
def test_one_step_is_exact_solution_of_the_linear_ode(g):
    neuron = snn.LIF(tau_mem_ms=12.0, v_rest_mv=-65.0, v_th_mv=1e9, v_reset_mv=-70.0)
    v0 = np.array([-70.0, -60.0, -40.0])
    i_mv, e_rev, dt = 7.5, -80.0, 0.8
    with jax.enable_x64(True):
        kwargs = {} if g == 0 else {"g": jnp.full(3, g), "g_e_mv": jnp.full(3, g * e_rev)}
        v, _, s = lif_update(
            neuron, jnp.asarray(v0), jnp.zeros(3, jnp.int32), dt_ms=dt, i_mv=i_mv, **kwargs
        )
    expected = [_exact_v(x, 12.0, -65.0, i_mv, g, e_rev, dt) for x in v0]
    # The update is the analytic solution; the ODE solver is accurate to ~1e-10 mV.
    np.testing.assert_allclose(np.asarray(v), expected, rtol=0, atol=1e-8)
    assert not np.any(np.asarray(s))


def _step(neuron, v, refractory=0, jump=0.0):
    v, r, s = lif_update(
        neuron,
        jnp.asarray([v], jnp.float32),
        jnp.asarray([refractory], jnp.int32),
        dt_ms=0.1,
        jump_mv=jnp.asarray([jump], jnp.float32),
    )
    return float(v[0]), int(r[0]), float(s[0])


def test_threshold_is_strict_and_reset_to_value_is_exact():
    # tau large so that the leak over one step is below float32 resolution at 1 mV.
    neuron = snn.LIF(tau_mem_ms=1e9, v_th_mv=1.0, v_reset_mv=-0.25)
    assert _step(neuron, 0.0, jump=1.0) == (1.0, 0, 0.0)  # V = v_th: no spike
    v, r, s = _step(neuron, 0.0, jump=1.0 + 2**-20)
    assert (v, r, s) == (-0.25, 0, 1.0)


def test_reset_by_subtraction_keeps_overshoot():
    neuron = snn.LIF(tau_mem_ms=1e9, v_th_mv=1.0, v_reset_mv=0.25, reset=snn.ResetBySubtraction())
    v, _, s = _step(neuron, 0.0, jump=1.5)
    assert s == 1.0 and v == pytest.approx(1.5 - 0.75, abs=1e-6)


def test_refractory_neuron_is_held_and_ignores_input_for_n_ref_steps():
    neuron = snn.LIF(tau_mem_ms=10.0, v_th_mv=1.0, v_reset_mv=0.0, t_ref_ms=0.5)
    n_ref = neuron.refractory_steps(0.1)
    assert n_ref == 5
    v, r, s = _step(neuron, 0.0, jump=5.0)
    assert (v, r, s) == (0.0, 5, 1.0)
    held = []
    while r > 0:
        v, r, s = _step(neuron, v, r, jump=5.0)  # a huge input every step
        held.append((v, s))
    assert held == [(0.0, 0.0)] * n_ref
    assert _step(neuron, v, r, jump=5.0)[2] == 1.0  # first free step: spikes again


def test_refractory_steps_rounds_and_accepts_arrays():
    assert snn.LIF(t_ref_ms=2.0).refractory_steps(0.1) == 20
    assert snn.LIF(t_ref_ms=0.0).refractory_steps(0.1) == 0
    steps = snn.LIF(t_ref_ms=jnp.array([0.0, 0.26, 1.0])).refractory_steps(0.1)
    np.testing.assert_array_equal(steps, [0, 3, 10])


@pytest.mark.parametrize("detach", [True, False])
@pytest.mark.parametrize("reset", [snn.ResetToValue(), snn.ResetBySubtraction()])
def test_reset_gradient_matches_closed_form(detach, reset):
    """d V_out / d V for one step: with s = H(x), x = V' - v_th, g = surrogate(x), d = decay:
    to-value: (1 - s)·d - [not detached]·g·(V' - v_reset)·d;
    subtraction: d - [not detached]·g·(v_th - v_reset)·d."""
    sur = snn.FastSigmoid(slope=2.0)
    neuron = snn.LIF(
        tau_mem_ms=10.0,
        v_th_mv=1.0,
        v_reset_mv=-0.5,
        reset=reset,
        surrogate=sur,
        detach_reset=detach,
    )
    d = math.exp(-0.1 / 10.0)
    with jax.enable_x64(True):
        for v0, jump in [(0.2, 0.3), (0.9, 0.5)]:  # below and above threshold after the step

            def f(v, jump=jump):
                out, _, _ = lif_update(
                    neuron, v[None], jnp.zeros(1, jnp.int32), dt_ms=0.1, jump_mv=jump
                )
                return out[0]

            got = float(jax.grad(f)(jnp.float64(v0)))
            v_new = v0 * d + jump
            s = float(v_new > 1.0)
            g = 1.0 / (2.0 * abs(v_new - 1.0) + 1.0) ** 2
            if isinstance(reset, snn.ResetToValue):
                want = (1 - s) * d - (not detach) * g * (v_new + 0.5) * d
            else:
                want = d - (not detach) * g * 1.5 * d
            assert got == pytest.approx(want, rel=1e-12)

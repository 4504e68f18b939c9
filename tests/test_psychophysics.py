"""`jaxsnn.psychophysics`: the threshold readout on synthetic rate traces (crossing, no
crossing, tie, onset, batch), the maximum-likelihood Weibull fit against SciPy and on
synthetic binomial data (the true parameters inside the intervals), grouping by
coherence, and bad inputs."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsnn.psychophysics import (
    UNDECIDED,
    Decisions,
    fit_weibull,
    psychometric_points,
    threshold_decisions,
    weibull_accuracy,
)


def _traces(*pairs):
    """(time, 2) rates from per-pool lists."""
    return jnp.asarray(np.stack([np.asarray(p, np.float32) for p in pairs], -1))


def test_first_crossing_gives_choice_and_time():
    a = [0, 5, 10, 16, 30, 40]
    b = [0, 5, 12, 14, 15, 20]
    d = threshold_decisions(_traces(a, b), dt_ms=10.0, threshold_hz=15.0)
    assert int(d.choice) == 0
    # sample 3 covers [30, 40) ms and is known at its end
    assert float(d.time_ms) == pytest.approx(40.0)
    d = threshold_decisions(_traces(b, a), dt_ms=10.0, threshold_hz=15.0)
    assert int(d.choice) == 1


def test_no_crossing_is_undecided():
    d = threshold_decisions(_traces([1, 2, 14.9], [3, 2, 1]), dt_ms=1.0)
    assert int(d.choice) == UNDECIDED and np.isnan(float(d.time_ms))


def test_simultaneous_crossing_higher_rate_wins_and_equal_is_a_tie():
    d = threshold_decisions(_traces([0, 20], [0, 17]), dt_ms=1.0)
    assert int(d.choice) == 0 and float(d.time_ms) == pytest.approx(2.0)
    d = threshold_decisions(_traces([0, 20], [0, 20]), dt_ms=1.0)
    assert int(d.choice) == UNDECIDED and np.isnan(float(d.time_ms))


def test_crossings_before_onset_are_ignored_and_time_is_from_onset():
    a = [20, 20, 0, 0, 0, 16]
    b = [0, 0, 0, 0, 0, 0]
    d = threshold_decisions(_traces(a, b), dt_ms=100.0, onset_ms=200.0)
    assert int(d.choice) == 0
    assert float(d.time_ms) == pytest.approx(600.0 - 200.0)


def test_batch_under_jit_and_vmap_equals_one_by_one():
    rng = np.random.default_rng(0)
    rates = jnp.asarray(rng.uniform(0, 18, (5, 50, 2)), jnp.float32)
    batch = jax.jit(lambda r: threshold_decisions(r, dt_ms=1.0, onset_ms=3.0))(rates)
    mapped = jax.vmap(lambda r: threshold_decisions(r, dt_ms=1.0, onset_ms=3.0))(rates)
    for i in range(5):
        one = threshold_decisions(rates[i], dt_ms=1.0, onset_ms=3.0)
        assert int(batch.choice[i]) == int(one.choice) == int(mapped.choice[i])
        np.testing.assert_equal(float(batch.time_ms[i]), float(one.time_ms))


def test_weibull_formula():
    assert weibull_accuracy(0.0, 9.2, 1.5) == pytest.approx(0.5)
    assert weibull_accuracy(9.2, 9.2, 1.5) == pytest.approx(1 - 0.5 / np.e)
    assert weibull_accuracy(1e4, 9.2, 1.5) == pytest.approx(1.0)


def test_fit_matches_scipy_maximum_likelihood():
    from scipy.optimize import minimize

    c = np.array([0.0, 3.2, 6.4, 12.8, 25.6, 51.2])
    n = np.array([50, 60, 70, 80, 90, 100])
    k = np.array([27, 36, 51, 72, 88, 100])
    fit = fit_weibull(c, k, n)

    def nll(theta):
        p = np.clip(weibull_accuracy(c, *np.exp(theta)), 1e-12, 1 - 1e-12)
        return -np.sum(k * np.log(p) + (n - k) * np.log1p(-p))

    best = minimize(nll, [np.log(8.0), 0.0], method="Nelder-Mead", options={"xatol": 1e-10})
    alpha, beta = np.exp(best.x)
    # grids zoomed to ~1e-4 in log space
    assert fit.alpha == pytest.approx(alpha, rel=1e-3)
    assert fit.beta == pytest.approx(beta, rel=1e-3)
    assert fit.log_likelihood == pytest.approx(-best.fun, abs=1e-4)
    assert fit.alpha_ci[0] < fit.alpha < fit.alpha_ci[1]
    assert fit.beta_ci[0] < fit.beta < fit.beta_ci[1]


def test_fit_recovers_known_parameters_within_the_interval():
    # 20 synthetic experiments: the 95 % intervals cover the truth in most of them
    # (binomial coverage of 20 at 0.95: >= 16 with probability 0.98), and the estimates
    # scatter around the truth
    rng = np.random.default_rng(1)
    c = np.array([3.2, 6.4, 12.8, 25.6, 51.2])
    n = np.full(5, 300)
    alpha, beta = 9.2, 1.5
    covered_a = covered_b = 0
    estimates = []
    for _ in range(20):
        k = rng.binomial(n, weibull_accuracy(c, alpha, beta))
        fit = fit_weibull(c, k, n, points=201)
        covered_a += fit.alpha_ci[0] <= alpha <= fit.alpha_ci[1]
        covered_b += fit.beta_ci[0] <= beta <= fit.beta_ci[1]
        estimates.append((fit.alpha, fit.beta))
    assert covered_a >= 16 and covered_b >= 16
    est = np.array(estimates)
    assert np.median(est[:, 0]) == pytest.approx(alpha, rel=0.05)
    assert np.median(est[:, 1]) == pytest.approx(beta, rel=0.1)


def test_psychometric_points_group_by_absolute_coherence():
    c = np.array([0, 0, 10, 10, -10, 20, 20, 20], np.float32)
    choice = jnp.array([0, 1, 0, UNDECIDED, 1, 0, 0, 1], jnp.int32)
    t = jnp.array([500, 600, 400, np.nan, 300, 200, 250, 300], jnp.float32)
    points = psychometric_points(c, Decisions(choice, t))
    assert [p.coherence for p in points] == [0.0, pytest.approx(10.0), pytest.approx(20.0)]
    zero, ten, twenty = points
    assert (zero.n_trials, zero.n_decided, zero.n_correct) == (2, 2, 1)
    # at -10 % the second pool is correct
    assert (ten.n_trials, ten.n_decided, ten.n_correct) == (3, 2, 2)
    assert ten.undecided == pytest.approx(1 / 3)
    assert ten.mean_time_ms == pytest.approx(350.0)
    assert twenty.accuracy == pytest.approx(2 / 3)
    assert twenty.mean_time_correct_ms == pytest.approx(225.0)


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"\(\.\.\., time, 2\)"):
        threshold_decisions(jnp.zeros((10, 3)), dt_ms=1.0)
    with pytest.raises(ValueError, match="dt_ms must be > 0"):
        threshold_decisions(jnp.zeros((10, 2)), dt_ms=0.0)
    with pytest.raises(ValueError, match="threshold_hz must be > 0"):
        threshold_decisions(jnp.zeros((10, 2)), dt_ms=1.0, threshold_hz=-1.0)
    with pytest.raises(ValueError, match="same length"):
        fit_weibull([1, 2], [1], [2, 2])
    with pytest.raises(ValueError, match="coherence must be finite and >= 0"):
        fit_weibull([-1, 2], [1, 1], [2, 2])
    with pytest.raises(ValueError, match="0 <= n_correct <= n_trials"):
        fit_weibull([1, 2], [3, 1], [2, 2])
    with pytest.raises(ValueError, match="coherence > 0"):
        fit_weibull([0.0], [1], [2])
    with pytest.raises(ValueError, match="confidence"):
        fit_weibull([1, 2], [1, 2], [2, 2], confidence=1.5)
    with pytest.raises(ValueError, match="alpha_range"):
        fit_weibull([1, 2], [1, 2], [2, 2], alpha_range=(5.0, 1.0))
    with pytest.raises(ValueError, match="must match"):
        psychometric_points([0, 1], Decisions(jnp.zeros(3, jnp.int32), jnp.zeros(3)))

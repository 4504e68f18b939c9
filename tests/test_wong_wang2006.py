"""The reduced model of Wong & Wang (2006): H(x), the Jacobian, fixed points against an
independent SciPy root search and the published structure (with a stimulus at c = 0: two
stable decision states and a saddle; without: three stable states and two saddles), the
noise process's stationary statistics, trials under vmap, and bad parameters."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from jaxsnn.models.wong_wang2006 import (
    WongWang2006,
    WongWangProtocol,
    fixed_points,
    jacobian,
    nullclines,
    simulate_wong_wang,
    vector_field,
)

MODEL = WongWang2006()


def _h_reference(x, a=270.0, b=108.0, d=0.154):
    y = a * x - b
    return y / (1.0 - np.exp(-d * y))


def test_rate_function_and_its_removable_singularity():
    x = np.array([0.2, 0.35, 0.39, 0.5])
    np.testing.assert_allclose(MODEL.rate_hz(jnp.asarray(x)), _h_reference(x), rtol=1e-5)
    at = 108.0 / 270.0  # a·x = b: H = 1/d
    assert float(MODEL.rate_hz(jnp.asarray(at))) == pytest.approx(1 / 0.154, rel=1e-5)
    near = np.array([at - 1e-6, at + 1e-6])
    np.testing.assert_allclose(MODEL.rate_hz(jnp.asarray(near)), 1 / 0.154, rtol=1e-3)


def test_jacobian_matches_finite_differences():
    stim = (0.0156 * 1.1, 0.0156 * 0.9)
    s = np.array([0.3, 0.2])
    jac = jacobian(MODEL, tuple(s), stim)
    h = 1e-6
    for j in range(2):
        e = np.zeros(2)
        e[j] = h
        up = vector_field(MODEL, s + e, coherence_pct=10.0)
        down = vector_field(MODEL, s - e, coherence_pct=10.0)
        np.testing.assert_allclose(jac[:, j], (up - down) / (2 * h), rtol=1e-5, atol=1e-9)


def _scipy_fixed_points(coherence_pct, stimulus):
    from scipy.optimize import fsolve

    f = lambda s: vector_field(MODEL, s, coherence_pct=coherence_pct, stimulus=stimulus)
    roots = []
    for s1 in np.linspace(0.01, 0.95, 12):
        for s2 in np.linspace(0.01, 0.95, 12):
            sol, _, ok, _ = fsolve(f, [s1, s2], full_output=True, xtol=1e-13)
            inside = np.all((sol > 0) & (sol < 1))
            if ok == 1 and inside and np.max(np.abs(f(sol))) < 1e-12:
                if not any(np.allclose(sol, r, atol=1e-6) for r in roots):
                    roots.append(sol)
    return sorted(roots, key=lambda r: r[0])


@pytest.mark.parametrize(
    "coherence, stimulus, kinds",
    [
        (0.0, False, ["stable", "saddle", "stable", "saddle", "stable"]),
        (0.0, True, ["stable", "saddle", "stable"]),
        (25.6, True, ["stable", "saddle", "stable"]),
    ],
)
def test_fixed_points_against_scipy_and_the_published_structure(coherence, stimulus, kinds):
    ours = fixed_points(MODEL, coherence_pct=coherence, stimulus=stimulus)
    theirs = _scipy_fixed_points(coherence, stimulus)
    assert len(ours) == len(theirs) == len(kinds)
    for fp, ref in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(fp.s, ref, atol=1e-8)
    assert [fp.kind for fp in ours] == kinds
    if coherence == 0.0:  # symmetric: the middle point lies on the diagonal
        mid = ours[len(ours) // 2]
        assert mid.s[0] == pytest.approx(mid.s[1], abs=1e-9)
    if stimulus:
        low, saddle, high = ours
        # decision states: one pool high (~30 Hz), the other low (~1 Hz)
        assert max(high.rates_hz) > 20 and min(high.rates_hz) < 2
        assert max(low.rates_hz) > 20 and min(low.rates_hz) < 2
        ev = np.real(saddle.eigenvalues)
        assert ev.min() < 0 < ev.max()
    else:  # the spontaneous state: both pools at ~2 Hz
        spont = ours[2]
        assert 0.5 < spont.rates_hz[0] < 3.0 and spont.stable


def test_nullclines_pass_through_the_fixed_points():
    one, two = nullclines(MODEL, coherence_pct=6.4)
    for fp in fixed_points(MODEL, coherence_pct=6.4):
        assert np.min(np.linalg.norm(one - np.array(fp.s), axis=1)) < 2e-3
        assert np.min(np.linalg.norm(two - np.array(fp.s), axis=1)) < 2e-3


def test_noise_is_the_stationary_ornstein_uhlenbeck_process():
    # stationary s.d. σ/√2 and correlation time τ_AMPA, whatever dt
    model = WongWang2006(j_self_na=0.0, j_cross_na=0.0)
    for dt in (0.1, 0.5):
        state = model.init()

        def body(st, t, dt=dt):
            st, _ = model.step(st, jnp.zeros(2), jr.fold_in(jr.key(0), t), dt_ms=dt)
            return st, st.noise_na

        _, noise = jax.lax.scan(body, state, jnp.arange(40_000))
        x = np.asarray(noise)[2000:, 0]
        assert x.std() == pytest.approx(0.02 / np.sqrt(2), rel=0.05)
        lag = int(round(2.0 / dt))
        corr = np.corrcoef(x[:-lag], x[lag:])[0, 1]
        assert corr == pytest.approx(np.exp(-1.0), abs=0.05)


def test_trials_under_vmap_equal_single_trials_and_decide():
    protocol = WongWangProtocol(onset_ms=100.0, stimulus_ms=1000.0)
    keys = jr.split(jr.key(1), 4)
    c = jnp.array([0.0, 10.0, 51.2, 51.2])
    run = jax.jit(jax.vmap(lambda ci, k: simulate_wong_wang(MODEL, ci, k, protocol)[0]))
    batch = np.asarray(run(c, keys))
    one = np.asarray(simulate_wong_wang(MODEL, c[2], keys[2], protocol)[0])
    np.testing.assert_allclose(batch[2], one, rtol=1e-5, atol=1e-5)
    assert batch.shape == (4, 1100, 2)
    # spontaneous rates ~1-3 Hz before the onset; at 51.2 % pool 1 wins
    assert 0.5 < batch[:, 50:100].mean() < 4.0
    assert batch[2, -100:, 0].mean() > 20 > batch[2, -100:, 1].mean()


def test_bad_parameters_raise_naming_the_field():
    with pytest.raises(ValueError, match="WongWang2006.tau_s_ms"):
        WongWang2006(tau_s_ms=-1.0)
    with pytest.raises(ValueError, match="WongWang2006.sigma_na"):
        WongWang2006(sigma_na=-0.1)
    with pytest.raises(ValueError, match="WongWangProtocol.onset_ms"):
        WongWangProtocol(onset_ms=0.3)

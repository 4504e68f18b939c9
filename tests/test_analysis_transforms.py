"""Every analysis: event lists give what dense arrays give, jit(vmap) equals a loop over
trials, nothing retraces, and the smooth ones have finite-difference gradients."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsnn.analysis as A
from jaxsnn.events import from_dense
from jaxsnn.surrogate import FastSigmoid, spike

DT = 0.5
# jitted once: eager from_dense compiles operation by operation
to_events = jax.jit(from_dense, static_argnums=1)
BINS = np.array([0.0, 1.0, 2.5, 5.0, 20.0])

# one entry per public analysis of spikes, with fixed static arguments
ANALYSES = {
    "firing_rates": lambda s: A.firing_rates(s, dt_ms=DT),
    "population_rate": lambda s: A.population_rate(s, dt_ms=DT),
    "population_rate_gauss": lambda s: A.population_rate(s, dt_ms=DT, kernel=A.GaussianKernel(1.0)),
    "smoothed_rates_boxcar": lambda s: A.smoothed_rates(s, dt_ms=DT, kernel=A.BoxcarKernel(2.0)),
    "smoothed_rates_exp": lambda s: A.smoothed_rates(s, dt_ms=DT, kernel=A.ExponentialKernel(2.0)),
    "cv_isi": lambda s: A.cv_isi(s, dt_ms=DT),
    "cv_isi_differentiable": lambda s: A.cv_isi(s, dt_ms=DT, differentiable=True),
    "isi_histogram": lambda s: A.isi_histogram(s, bins_ms=BINS, dt_ms=DT),
    "window_counts": lambda s: A.window_counts(s, window_ms=5.0, dt_ms=DT),
    "fano_factor": lambda s: A.fano_factor(s, window_ms=5.0, dt_ms=DT),
    "spike_count_correlation": lambda s: A.spike_count_correlation(s, window_ms=5.0, dt_ms=DT),
    "mean_spike_count_correlation": lambda s: A.mean_spike_count_correlation(
        s, window_ms=5.0, dt_ms=DT
    ),
    "spike_synchrony_chi": lambda s: A.spike_synchrony_chi(
        s, dt_ms=DT, kernel=A.GaussianKernel(1.0)
    ),
    "rate_power_spectrum": lambda s: A.rate_power_spectrum(s, dt_ms=DT, segment_ms=10.0),
    "detect_bursts": lambda s: A.detect_bursts(s, dt_ms=DT, max_isi_ms=1.0, min_spikes=2),
    "reservoir_features": A.reservoir_features,
    "pooled_mean_isi": A.pooled_mean_isi,
    **{
        name: getattr(A, name)
        for name in [
            "spike_counts",
            "spike_variances",
            "mean_spike_times",
            "first_spike_times",
            "last_spike_times",
            "mean_isi",
            "isi_variances",
            "spike_run_counts",
        ]
    },
}


# (97, 21) float32 trials, as in test_analysis_reservoir: the jitted analyses compile
# once per shape, so sharing the shape shares the compilations
def _trials(n_trials=3, n_steps=97, n=21, seed=0):
    rng = np.random.default_rng(seed)
    s = (rng.random((n_trials, n_steps, n)) < rng.uniform(0, 0.4, (n_trials, 1, n))).astype(
        np.float32
    )
    s[0, :, 0] = 0  # a silent neuron: the NaN and -1 cases go through the transforms too
    s[1, 7, 1] = 1
    return s


def _assert_tree_equal(got, want, rtol=0.0, name=""):
    got_leaves, got_def = jax.tree_util.tree_flatten(got)
    want_leaves, want_def = jax.tree_util.tree_flatten(want)
    assert got_def == want_def, name
    for g, w in zip(got_leaves, want_leaves, strict=True):
        assert np.asarray(g).dtype == np.asarray(w).dtype, name
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=rtol, atol=0, err_msg=name)


@pytest.mark.parametrize("name", list(ANALYSES))
def test_events_equal_dense(name):
    s = _trials()[1]
    _assert_tree_equal(ANALYSES[name](to_events(s, 2000)), ANALYSES[name](jnp.asarray(s)))


def test_jit_vmap_equals_a_loop():
    s = _trials()
    # all analyses in one program: one compilation instead of one per analysis
    everything = lambda x: {name: f(x) for name, f in ANALYSES.items()}
    batched = jax.jit(jax.vmap(everything))(jnp.asarray(s))
    for name, f in ANALYSES.items():
        looped = [f(jnp.asarray(trial)) for trial in s]
        stacked = jax.tree_util.tree_map(lambda *x: jnp.stack(x), *looped)
        # the same operations, batched: equal up to a few ulp of reduction order
        _assert_tree_equal(batched[name], stacked, rtol=1e-6, name=name)


def test_batched_event_lists_vmap():
    s = jnp.asarray(_trials())
    events = jax.jit(jax.vmap(lambda x: from_dense(x, capacity=2000)))(s)
    # every analysis reads spikes through as_dense: two cheap ones cover the event path
    analyse = jax.jit(jax.vmap(lambda x: (A.spike_counts(x), A.first_spike_times(x))))
    _assert_tree_equal(analyse(events), analyse(s))


def test_no_retracing():
    @jax.jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def analyse(s):
        return A.cv_isi(s, dt_ms=DT), A.fano_factor(s, window_ms=5.0, dt_ms=DT)

    for trial in _trials():
        analyse(jnp.asarray(trial))


def test_integer_and_boolean_spikes_are_spikes():
    s = _trials()[2]
    want = A.reservoir_features(jnp.asarray(s))
    _assert_tree_equal(A.reservoir_features(s.astype(np.int8)), want)
    _assert_tree_equal(A.reservoir_features(s > 0), want)


SMOOTH = {
    "cv_isi_differentiable": lambda x: A.cv_isi(x, dt_ms=1.0, differentiable=True),
    "fano_factor": lambda x: A.fano_factor(x, window_ms=5.0, dt_ms=1.0),
    "spike_count_correlation": lambda x: A.spike_count_correlation(x, window_ms=5.0, dt_ms=1.0),
    "mean_spike_count_correlation": lambda x: A.mean_spike_count_correlation(
        x, window_ms=5.0, dt_ms=1.0
    ),
    "spike_synchrony_chi": lambda x: A.spike_synchrony_chi(
        x, dt_ms=1.0, kernel=A.GaussianKernel(2.0)
    ),
    "population_rate_exp": lambda x: A.population_rate(
        x, dt_ms=1.0, kernel=A.ExponentialKernel(3.0)
    ),
    # snnpy's counting features use the entries as they are
    "mean_spike_times": A.mean_spike_times,
    "spike_variances": A.spike_variances,
}


def test_gradients_match_finite_differences():
    """On real-valued spikes in (0, 1) (surrogate-gradient spikes) these measures are
    smooth: for a random projection of each, the gradient's derivative along random
    directions matches central differences."""
    rng = np.random.default_rng(5)
    with jax.enable_x64(True):
        s = jnp.asarray(rng.uniform(0.05, 0.95, size=(20, 3)))
        weights = {
            n: jnp.asarray(rng.normal(size=jax.eval_shape(f, s).shape)) for n, f in SMOOTH.items()
        }
        loss = {n: (lambda x, f=f, n=n: jnp.sum(f(x) * weights[n])) for n, f in SMOOTH.items()}
        # every measure in one program: one compilation rather than one each
        losses = jax.jit(lambda x: jnp.stack([loss[n](x) for n in SMOOTH]))
        grads = jax.jit(lambda x: jnp.stack([jax.grad(loss[n])(x) for n in SMOOTH]))(s)
        directions = jnp.asarray(rng.normal(size=(4, *s.shape)))
        eps = 1e-6
        fd = np.stack([(losses(s + eps * d) - losses(s - eps * d)) / (2 * eps) for d in directions])
        along = np.asarray(jnp.einsum("mtn,dtn->dm", grads, directions))
    # float64 central differences: O(eps²) truncation and ~1e-16/eps rounding
    for i, name in enumerate(SMOOTH):
        np.testing.assert_allclose(along[:, i], fd[:, i], rtol=1e-6, atol=1e-8, err_msg=name)
        assert np.abs(np.asarray(grads[i])).max() > 1e-3, name


def test_cv_gradient_through_surrogate_spikes_and_vmap():
    """Forward 0/1 spikes from `spike` carry the surrogate gradient into the CV; neurons
    with a NaN CV (fewer than 3 spikes) leave a finite gradient once masked; and
    vmap(grad) equals grad(vmap)."""
    rng = np.random.default_rng(6)
    v = jnp.asarray(rng.normal(-1.0, 1.0, size=(3, 60, 5)), jnp.float32)
    v = v.at[:, :, 0].set(-5.0)  # silent

    def loss(v):
        cv = A.cv_isi(spike(v, FastSigmoid()), dt_ms=1.0, differentiable=True)
        return jnp.sum(jnp.where(jnp.isnan(cv), jnp.zeros_like(cv), cv))

    per_trial = np.asarray(jax.jit(jax.vmap(jax.grad(loss)))(v))
    whole = np.asarray(jax.jit(jax.grad(lambda x: jnp.sum(jax.vmap(loss)(x))))(v))
    assert np.all(np.isfinite(per_trial)) and np.abs(per_trial[:, :, 1:]).max() > 0
    np.testing.assert_allclose(per_trial, whole, rtol=1e-6, atol=1e-7)

"""Reservoir readouts: ridge against NumPy least squares, logistic against an independent
loss (monotone decrease, stationarity), accuracy on separable and on random labels,
cross-validation bookkeeping and the Wilson interval, and bad input."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
import pytest

from jaxsnn.reservoir.readout import (
    CrossValidation,
    LogisticReadout,
    RidgeReadout,
    accuracy,
    cross_validate,
    fit_logistic,
    fit_ridge,
)

# All data come from one jitted generator with one shape: on the 2-core CI machine each
# compilation costs ~0.5-1.5 s, more than the fits themselves, and the fits of equal shape
# share theirs.
N = 150


@jax.jit
def blobs(key, spread):
    """`N` samples of 3 unit-variance Gaussian blobs in 5-D whose centres (the same for
    every key) are ~`spread` apart: linearly separable up to a negligible overlap at 4;
    at 0 the labels are independent of the standard-normal features."""
    k_label, k_noise = jr.split(key)
    centres = spread * jr.normal(jr.key(99), (3, 5))
    labels = jr.randint(k_label, (N,), 0, 3)
    return centres[labels] + jr.normal(k_noise, (N, 5)), labels


def numpy_ridge(x, y, alpha):
    """Independent reference: standardise in NumPy, then least squares on the augmented
    system [[Z, 1], [sqrt(alpha) I, 0]] [w; b] = [Y; 0], whose normal equations are those
    of ridge with an unpenalised bias."""
    mean, std = x.mean(0), x.std(0)
    scale = np.where(std > 0, std, 1.0)
    z = (x - mean) / scale
    n, d = z.shape
    a = np.block([[z, np.ones((n, 1))], [np.sqrt(alpha) * np.eye(d), np.zeros((d, 1))]])
    rhs = np.concatenate([y, np.zeros((d, y.shape[1]))])
    sol = np.linalg.lstsq(a, rhs, rcond=None)[0]
    return sol[:d], sol[d], mean, scale


@pytest.mark.parametrize(
    "n, d, alpha, kind",
    [
        (60, 8, 0.5, "labels"),  # d x d (primal) form, one-hot targets
        (60, 8, 0.0, "labels"),  # ordinary least squares
        (12, 30, 2.0, "targets"),  # n x n (dual) form, float targets with 2 outputs
    ],
)
def test_ridge_matches_numpy_least_squares_x64(n, d, alpha, kind):
    with jax.enable_x64(True):
        rng = np.random.default_rng(0)
        x = rng.normal(size=(n, d)) * rng.uniform(0.1, 10.0, size=d) + rng.normal(size=d)
        x_new = rng.normal(size=(7, d))
        labels = rng.integers(0, 3, size=n)
        targets = rng.normal(size=(n, 2))
        y, y_ref = (labels, np.eye(3)[labels]) if kind == "labels" else (targets, targets)
        r = fit_ridge(x, y, alpha=alpha)
        w, b, mean, scale = numpy_ridge(x, y_ref, alpha)
        # float64 with systems of condition number < 1e4: agreement to ~1e-12
        np.testing.assert_allclose(r.weights, w, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(r.bias, b, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(r.mean, mean, rtol=1e-12)
        np.testing.assert_allclose(r.scale, scale, rtol=1e-12)
        ref = ((x_new - mean) / scale) @ w + b
        np.testing.assert_allclose(r.decision(x_new), ref, rtol=1e-10, atol=1e-12)


def test_ridge_float32_close_to_float64_reference():
    x, labels = blobs(jr.key(1), 4.0)
    r = fit_ridge(x, labels, alpha=1.0)
    w, b, _, _ = numpy_ridge(np.asarray(x, np.float64), np.eye(3)[labels], 1.0)
    assert r.weights.dtype == jnp.float32
    # float32: eps (1.2e-7) x condition number ~10 x sums over 150 samples gives absolute
    # errors ~3e-6 on weights of order 1, so atol, not rtol, carries the near-zero ones
    np.testing.assert_allclose(r.weights, w, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(r.bias, b, rtol=1e-5, atol=1e-5)


def test_constant_feature_gets_scale_one_and_weight_zero():
    x, y = blobs(jr.key(0), 4.0)
    x = np.array(x)
    x[:, -1] = -1.0  # snnpy's "undefined" value (a silent neuron's spike time) in every trial
    r = fit_ridge(x, y)
    weights, mean, scale = np.asarray(r.weights), np.asarray(r.mean), np.asarray(r.scale)
    assert np.all(np.isfinite(weights)) and scale[-1] == 1.0 and mean[-1] == -1.0
    # the constant column standardises to exact zeros, so it gets weight exactly 0
    assert np.all(weights[-1] == 0.0)
    w, b, _, _ = numpy_ridge(x.astype(np.float64), np.eye(3)[y], 1.0)
    np.testing.assert_allclose(weights, w, rtol=1e-5, atol=1e-5)  # float32, as above


def test_single_output_is_thresholded_at_one_half():
    x = jnp.linspace(-1.0, 1.0, 40)[:, None]
    y = (x[:, 0] > 0).astype(jnp.float32)  # 0/1 regression target: one output column
    r = fit_ridge(x, y, alpha=1e-3)
    assert r.weights.shape == (1, 1)
    scores = r.decision(x)[:, 0]
    np.testing.assert_array_equal(r.predict(x), (scores > 0.5).astype(jnp.int32))
    assert float(accuracy(r, x, y.astype(jnp.int32))) >= 0.9


def test_high_accuracy_on_separable_blobs():
    x, y = blobs(jr.key(2), 4.0)
    x_test, y_test = blobs(jr.key(21), 4.0)  # same centres, fresh samples
    ridge = fit_ridge(x, y)
    logistic = fit_logistic(jr.key(3), x, y)
    assert isinstance(ridge, RidgeReadout) and isinstance(logistic, LogisticReadout)
    assert float(accuracy(ridge, x_test, y_test)) > 0.95
    assert float(accuracy(logistic, x_test, y_test)) > 0.95
    p = logistic.predict_proba(x_test)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)  # float32 softmax rounding
    cv = cross_validate(lambda a, b: fit_ridge(a, b, alpha=1.0), x, y, key=jr.key(4))
    # 5 folds of 30: every fold trains on 120 samples
    assert cv.accuracy > 0.95 and cv.ci95[0] > 0.9


def test_random_labels_are_near_chance_under_cross_validation():
    x, y = blobs(jr.key(5), 0.0)
    # with no information in x, held-out accuracy is ~Binomial(N, 1/3)/N: 3.5 standard
    # deviations (sqrt(2/9 / 150) = 0.038) bound it to [0.20, 0.47]
    bound = 3.5 * math.sqrt(2 / 9 / N)
    fits = [
        lambda a, b: fit_ridge(a, b, alpha=1.0),
        lambda a, b: fit_logistic(jr.key(7), a, b),
    ]
    for fit in fits:
        cv = cross_validate(fit, x, y, key=jr.key(8))
        assert abs(cv.accuracy - 1 / 3) <= bound, cv


def _logistic_loss(readout, x, y, l2):
    """Independent mean cross-entropy + l2/2 |W|² on features standardised in NumPy."""
    x = np.asarray(x)
    std = x.std(0)
    z = jnp.asarray((x - x.mean(0)) / np.where(std > 0, std, 1.0), jnp.float32)
    onehot = jax.nn.one_hot(y, readout.bias.shape[0], dtype=jnp.float32)

    @jax.jit  # one compilation instead of one per eager operation
    def loss(w, b):
        log_p = jax.nn.log_softmax(z @ w + b, axis=1)
        return -jnp.mean(jnp.sum(onehot * log_p, axis=1)) + 0.5 * l2 * jnp.sum(w**2)

    return loss


def test_logistic_loss_decreases_with_training():
    x, y = blobs(jr.key(9), 1.0)  # overlapping: the loss stays well above 0
    # learning rate 0 leaves the initial weights; 500 steps of a larger rate travel
    # further (the rate is traced, so the three fits share one compilation)
    losses = []
    for learning_rate in (0.0, 0.002, 0.05):
        r = fit_logistic(jr.key(10), x, y, learning_rate=learning_rate)
        losses.append(float(_logistic_loss(r, x, y, 1e-3)(r.weights, r.bias)))
    # the initial weights are 0.01 N(0, 1): the loss starts within ~0.01 of log(3)
    assert losses[0] == pytest.approx(math.log(3), abs=0.02)
    assert losses[0] > losses[1] > losses[2] > 0.1, losses


def test_logistic_optimum_is_stationary():
    x, _ = blobs(jr.key(11), 0.0)
    # two overlapping classes: feature 0 plus label noise from feature 4, left out of x
    y = (x[:, 0] + 0.5 * x[:, 4] > 0).astype(jnp.int32)
    x = x[:, :4]
    l2 = 1e-2
    r = fit_logistic(jr.key(13), x, y, l2=l2)
    loss = _logistic_loss(r, x, y, l2)
    grad_norm = jax.jit(lambda w, b: optax.tree.norm(jax.grad(loss, argnums=(0, 1))(w, b)))
    # the gradient at the start is ~0.5; Adam's optimum leaves ~1e-7 (float32 rounding)
    assert float(grad_norm(jnp.zeros_like(r.weights), jnp.zeros_like(r.bias))) > 0.1
    assert float(grad_norm(r.weights, r.bias)) < 1e-4
    # convex problem: another starting key reaches the same optimum
    other = fit_logistic(jr.key(14), x, y, l2=l2)
    np.testing.assert_allclose(
        other.weights - other.weights.mean(1, keepdims=True),
        r.weights - r.weights.mean(1, keepdims=True),
        atol=1e-3,
    )


def test_fits_under_jit_equal_eager():
    x, y = blobs(jr.key(15), 4.0)

    @eqx.filter_jit  # one compilation for both fits; equinox re-raises error_if cleanly
    def fit_both(key, x, y):
        return fit_ridge(x, y, alpha=0.5, n_classes=3), fit_logistic(key, x, y, n_classes=3)

    ridge, logistic = fit_both(jr.key(16), x, y)
    # same operations, fused differently by XLA: float32 rounding differences only
    np.testing.assert_allclose(
        ridge.weights, fit_ridge(x, y, alpha=0.5).weights, rtol=1e-5, atol=1e-6
    )
    eager = fit_logistic(jr.key(16), x, y)
    np.testing.assert_allclose(logistic.weights, eager.weights, rtol=1e-4, atol=1e-5)
    # under jit the values are unknown at trace time: checked at run time instead
    with pytest.raises(eqx.EquinoxRuntimeError, match="features contains NaN or inf"):
        fit_both(jr.key(16), x.at[0, 0].set(jnp.nan), y)


class _LookupReadout(eqx.Module):
    """Predicts `answers[x[:, 0]]`: a readout with a known number of mistakes."""

    answers: jax.Array

    def predict(self, x):
        return self.answers[jnp.asarray(x)[:, 0].astype(jnp.int32)]


def test_cross_validation_folds_partition_the_data():
    x, y = blobs(jr.key(17), 4.0)
    x = x.at[:, 0].set(jnp.arange(N, dtype=x.dtype))  # sample index, for _LookupReadout
    seen = []

    def fit(train_x, train_y):  # records the training set; fitting is tested elsewhere
        seen.append(np.asarray(train_x))
        return _LookupReadout(y)

    cv = cross_validate(fit, x, y, key=jr.key(18), n_folds=4)
    assert isinstance(cv, CrossValidation) and len(seen) == 4
    sizes = np.bincount(cv.fold, minlength=4)
    assert sizes.sum() == N and sizes.max() - sizes.min() <= 1  # 38, 38, 37, 37
    for k, train_x in enumerate(seen):  # each fold trains on exactly the other folds
        np.testing.assert_array_equal(train_x, np.asarray(x)[cv.fold != k])
    for c in range(3):  # stratified: each class spread evenly over the folds
        per_fold = np.bincount(cv.fold[np.asarray(y) == c], minlength=4)
        assert per_fold.max() - per_fold.min() <= 1
    assert cv.n == N and cv.accuracy == cv.n_correct / cv.n
    assert cv.n_correct == N and cv.accuracy == 1.0 and cv.ci95[1] == 1.0
    assert round(float(np.sum(cv.fold_accuracies * sizes))) == cv.n_correct
    assert cv.ci95[0] <= cv.accuracy <= cv.ci95[1]
    again = cross_validate(fit, x, y, key=jr.key(18), n_folds=4)
    np.testing.assert_array_equal(again.fold, cv.fold)  # seeded


def test_cross_validation_wilson_interval_for_135_of_150():
    x, labels = blobs(jr.key(19), 4.0)
    x = x.at[:, 0].set(jnp.arange(N, dtype=x.dtype))  # sample index, for _LookupReadout
    answers = labels.at[:15].set((labels[:15] + 1) % 3)  # 15 mistakes whatever the folds
    cv = cross_validate(lambda a, b: _LookupReadout(answers), x, labels, key=jr.key(18), n_folds=4)
    assert (cv.n_correct, cv.n, cv.accuracy) == (135, 150, 0.9)
    # by hand, p = 0.9, z = 1.959964 (z² = 3.841459): denominator 1 + z²/150 = 1.025610,
    # centre (0.9 + z²/300) / 1.025610 = 0.890012,
    # half-width z sqrt(0.9 * 0.1 / 150 + z² / 90000) / 1.025610 = 0.048447
    assert cv.ci95 == pytest.approx((0.841565, 0.938459), abs=1e-6)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda x, y: fit_ridge(x.at[3, 1].set(jnp.nan), y), "features contains NaN"),
        (lambda x, y: fit_logistic(jr.key(0), x.at[0, 0].set(jnp.inf), y), "features contains inf"),
        (lambda x, y: fit_ridge(x[:-1], y), r"labels must be integers of shape \(149,\)"),
        (lambda x, y: fit_ridge(x, y[:-1].astype(jnp.float32)), "targets must have 150 rows"),
        (lambda x, y: fit_ridge(x, jnp.where(y == 0, jnp.nan, 1.0)), "targets contains NaN"),
        (lambda x, y: fit_ridge(x[0], y), r"features must have shape \(n_samples, n_features\)"),
        (
            lambda x, y: fit_logistic(jr.key(0), x, y, n_classes=2),
            r"labels must be in \[0, n_classes=2\)",
        ),
        (lambda x, y: fit_logistic(jr.key(0), x, y - 1), r"labels must be in \[0"),
        (lambda x, y: fit_logistic(jr.key(0), x, y.astype(jnp.float32)), "labels must be integers"),
        (lambda x, y: fit_logistic(jr.key(0), x, y, steps=-1), "steps must be >= 0"),
        (lambda x, y: fit_ridge(x, y, alpha=-1.0), "alpha must be >= 0"),
        (
            lambda x, y: fit_ridge(x[:5], y[:5], alpha=0.0),
            "alpha=0 needs n_samples > n_features",
        ),
        (lambda x, y: fit_ridge(x.at[:, 0].set(2.0), y, alpha=0.0), "singular"),
        (
            lambda x, y: cross_validate(fit_ridge, x, y, key=jr.key(0), n_folds=1),
            "n_folds must be >= 2",
        ),
        (
            lambda x, y: cross_validate(fit_ridge, x, y, key=jr.key(0), n_folds=151),
            "n_folds must be <= n_samples=150",
        ),
    ],
)
def test_bad_input_raises(call, match):
    x, y = blobs(jr.key(20), 4.0)
    with pytest.raises(ValueError, match=match):
        call(x, y)

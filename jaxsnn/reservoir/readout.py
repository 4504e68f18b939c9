"""Trained readouts for reservoir computing: feature vectors in, labels or targets out.

A reservoir (a fixed random network) maps each trial to a feature vector (spike counts,
rates, snnpy's features, where -1 marks an undefined value such as a silent neuron's
spike time); only a linear readout on top is trained. Both readouts are pure JAX,
jit-able, with no loop over samples:

- `fit_ridge` -> `RidgeReadout`: closed-form ridge regression, one linear solve with no
  learning rate or iterations: fast, deterministic, the classic reservoir readout and the
  one to try first. Integer labels are one-hot encoded; float targets make it a regressor.
- `fit_logistic` -> `LogisticReadout`: softmax regression, full-batch Adam in one
  `lax.scan`. Prefer it for calibrated class probabilities (ridge scores are not).

Both **standardise** each feature by the training mean and std (ddof=0), stored in the
readout, so that one penalty (`alpha`, `l2`) means the same for features in Hz, counts or
ms and the solve is well conditioned. A feature constant in the training set gets scale 1
and is centred on its value, so it becomes exactly 0, not 0/0 = NaN. The bias is never
penalised.

`accuracy` scores a readout; `cross_validate` estimates held-out accuracy with stratified
k-fold cross-validation and a Wilson 95 % interval on the pooled count.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
from jax.scipy.linalg import cho_factor, cho_solve
from jaxtyping import Array, ArrayLike, Float, Int, PRNGKeyArray

from .._checks import check_int, is_concrete
from ..decision.evaluate import wilson_interval


def _default_float() -> Any:
    return jax.dtypes.canonicalize_dtype(np.float64)  # float32 unless x64 is enabled


class _Standardised(eqx.Module):
    """A linear map of standardised features: `((x - mean) / scale) @ weights + bias`.

    Attributes:
        weights: `(n_features, n_outputs)`, acting on standardised features.
        bias: `(n_outputs,)`, unpenalised.
        mean: `(n_features,)` training mean (a constant feature's value) subtracted first.
        scale: `(n_features,)` training std (1 for a constant feature) divided next.
    """

    weights: Float[Array, "n_features n_outputs"]
    bias: Float[Array, " n_outputs"]
    mean: Float[Array, " n_features"]
    scale: Float[Array, " n_features"]

    @eqx.filter_jit
    def decision(self, x: Float[ArrayLike, "n n_features"]) -> Float[Array, "n n_outputs"]:
        """Scores `(n, n_outputs)` of raw (unstandardised) features `x` `(n, n_features)`."""
        x = jnp.asarray(x, self.mean.dtype)
        return ((x - self.mean) / self.scale) @ self.weights + self.bias


class RidgeReadout(_Standardised):
    """Ridge readout from `fit_ridge`; `decision` gives regression outputs / class scores."""

    @eqx.filter_jit
    def predict(self, x: Float[ArrayLike, "n n_features"]) -> Int[Array, " n"]:
        """Labels `(n,)`: argmax of the scores, or `score > 0.5` for a single 0/1 output."""
        scores = self.decision(x)
        if scores.shape[-1] == 1:
            return (scores[:, 0] > 0.5).astype(jnp.int32)
        return jnp.argmax(scores, axis=-1).astype(jnp.int32)


class LogisticReadout(_Standardised):
    """Softmax readout from `fit_logistic`; `decision` gives logits `(n, n_classes)`."""

    @eqx.filter_jit
    def predict_proba(self, x: Float[ArrayLike, "n n_features"]) -> Float[Array, "n n_classes"]:
        """Class probabilities `(n, n_classes)`, rows summing to 1."""
        return jax.nn.softmax(self.decision(x), axis=-1)

    @eqx.filter_jit
    def predict(self, x: Float[ArrayLike, "n n_features"]) -> Int[Array, " n"]:
        """Most probable class `(n,)`."""
        return jnp.argmax(self.decision(x), axis=-1).astype(jnp.int32)


def _floats(name: str, a: Any) -> Array:
    # NaN/inf raise now if concrete (checked in NumPy: eager JAX ops would compile per
    # shape), at run time if traced
    if not is_concrete(a):
        a = a if jnp.issubdtype(a.dtype, jnp.floating) else a.astype(_default_float())
        return eqx.error_if(a, ~jnp.all(jnp.isfinite(a)), f"{name} contains NaN or inf")
    v = np.asarray(a)
    float_dtype = v.dtype if np.issubdtype(v.dtype, np.floating) else _default_float()
    for what, bad in (("NaN", np.isnan(v)), ("inf", np.isinf(v))):
        if bad.any():
            raise ValueError(f"{name} contains {what} ({int(bad.sum())} of {v.size} values)")
    return jnp.asarray(v, jax.dtypes.canonicalize_dtype(float_dtype))


def _features(features: Any) -> Float[Array, "n d"]:
    if np.ndim(features) != 2 or np.shape(features)[0] < 1:
        raise ValueError(
            f"features must have shape (n_samples, n_features); got {np.shape(features)}"
        )
    return _floats("features", features)


def _labels(labels: Any, n: int, n_classes: int | None) -> tuple[Int[Array, " n"], int]:
    y = jnp.asarray(labels)
    if y.shape != (n,) or not jnp.issubdtype(y.dtype, jnp.integer):
        raise ValueError(
            f"labels must be integers of shape ({n},) like features; got {y.dtype}{y.shape}"
        )
    if not is_concrete(y):
        if n_classes is None:
            raise ValueError("pass n_classes when fitting under jit (labels are traced)")
        check_int("n_classes", n_classes, minimum=1)
        bad = jnp.any((y < 0) | (y >= n_classes))
        return eqx.error_if(y, bad, f"labels must be in [0, n_classes={n_classes})"), n_classes
    v = np.asarray(y)  # NumPy: eager jnp.min would compile per shape
    lo, hi = int(v.min()), int(v.max())
    n_classes = hi + 1 if n_classes is None else n_classes
    check_int("n_classes", n_classes, minimum=1)
    if lo < 0 or hi >= n_classes:
        raise ValueError(f"labels must be in [0, n_classes={n_classes}); got range [{lo}, {hi}]")
    return y, n_classes


def _nonnegative(name: str, v: Any) -> None:
    if isinstance(v, int | float) and not v >= 0:  # NaN fails too
        raise ValueError(f"{name} must be >= 0, got {v}")


def _standardise(x: Float[Array, "n d"]) -> tuple[Array, Array, Array]:
    # max == min is exact, unlike std == 0 in float32 (the mean of 0.1s is not 0.1); a
    # constant feature is centred on its own value so it becomes exactly 0, not noise.
    # std == 0 is kept as a guard: a variance below float32's tiniest value underflows.
    const = jnp.max(x, axis=0) == jnp.min(x, axis=0)
    mean = jnp.where(const, x[0], jnp.mean(x, axis=0))
    std = jnp.std(x, axis=0)
    scale = jnp.where(const | (std == 0), jnp.ones_like(std), std)
    return (x - mean) / scale, mean, scale


@eqx.filter_jit
def _ridge(x: Array, y: Array, alpha: Any, n_classes: int | None) -> RidgeReadout:
    z, mean, scale = _standardise(x)
    if n_classes is None:
        y = y.reshape(z.shape[0], -1).astype(z.dtype)
    else:
        y = jax.nn.one_hot(y, n_classes, dtype=z.dtype)
    # an unpenalised bias is the same as ridge on column-centred z with b = ȳ - z̄ᵀw
    z_bar, y_bar = jnp.mean(z, axis=0), jnp.mean(y, axis=0)
    zc, yc = z - z_bar, y - y_bar
    n, d = z.shape
    if d <= n:  # primal: (ZᵀZ + αI) w = Zᵀy, a d x d system
        w = cho_solve(cho_factor(zc.T @ zc + alpha * jnp.eye(d, dtype=z.dtype)), zc.T @ yc)
    else:  # dual: w = Zᵀ (ZZᵀ + αI)⁻¹ y, an n x n system, cheaper for wide features
        w = zc.T @ cho_solve(cho_factor(zc @ zc.T + alpha * jnp.eye(n, dtype=z.dtype)), yc)
    return RidgeReadout(weights=w, bias=y_bar - z_bar @ w, mean=mean, scale=scale)


def fit_ridge(
    features: Float[ArrayLike, "n n_features"],
    targets: Int[ArrayLike, " n"] | Float[ArrayLike, " n"] | Float[ArrayLike, "n n_outputs"],
    *,
    alpha: float = 1.0,
    n_classes: int | None = None,
) -> RidgeReadout:
    """Closed-form ridge regression on standardised features.

    Minimises `||Z w + b - Y||² + alpha ||w||²` (`Z` the standardised features, bias `b`
    unpenalised) by Cholesky in the d x d form if `n_features <= n_samples`, else n x n.

    Args:
        features: `(n_samples, n_features)` finite values.
        targets: integer labels `(n_samples,)` (one-hot encoded, one output per class) or
            float targets `(n_samples,)` or `(n_samples, n_outputs)` (regression; a single
            0/1 column is classified by `predict` at 0.5).
        alpha: ridge penalty >= 0. `alpha=0` is ordinary least squares and needs
            `n_samples > n_features` and no constant feature.
        n_classes: number of classes for integer labels; default `max(labels) + 1`
            (required under jit).

    Returns:
        The `RidgeReadout`, with `n_outputs` = `n_classes` for labels.

    Raises:
        ValueError: on bad shapes, non-finite values, labels out of range, `alpha < 0`,
            or `alpha=0` with a singular system.
    """
    x = _features(features)
    n, d = x.shape
    _nonnegative("alpha", alpha)
    if isinstance(alpha, int | float) and alpha == 0 and n <= d:
        raise ValueError(f"alpha=0 needs n_samples > n_features; got {n} <= {d}: use alpha > 0")
    if jnp.issubdtype(jnp.asarray(targets).dtype, jnp.integer):
        y, n_classes = _labels(targets, n, n_classes)
    else:
        if np.ndim(targets) not in (1, 2) or np.shape(targets)[0] != n:
            raise ValueError(f"targets must have {n} rows like features; got {np.shape(targets)}")
        y, n_classes = _floats("targets", targets), None
    readout = _ridge(x, y, jnp.asarray(alpha, x.dtype), n_classes)
    if is_concrete(readout.weights) and not np.all(np.isfinite(np.asarray(readout.weights))):
        raise ValueError(
            "ridge system is singular (constant or collinear features?): use alpha > 0"
        )
    return readout


@eqx.filter_jit
def _logistic(w0, x, y, steps, learning_rate, l2) -> LogisticReadout:
    z, mean, scale = _standardise(x)
    onehot = jax.nn.one_hot(y, w0.shape[1], dtype=z.dtype)
    params = (w0, jnp.zeros(w0.shape[1], z.dtype))

    def loss(p):
        w, b = p
        ce = optax.softmax_cross_entropy(z @ w + b, onehot).mean()
        return ce + 0.5 * l2 * jnp.sum(w**2)

    opt = optax.adam(learning_rate)

    def step(carry, _):
        p, state = carry
        grads = jax.grad(loss)(p)
        # optax's Adam mixes its int32 step count with float moments, which strict dtype
        # promotion rejects; scope standard promotion to the optimiser alone
        with jax.numpy_dtype_promotion("standard"):
            updates, state = opt.update(grads, state)
        return (optax.apply_updates(p, updates), state), None

    (params, _), _ = jax.lax.scan(step, (params, opt.init(params)), None, length=steps)
    return LogisticReadout(weights=params[0], bias=params[1], mean=mean, scale=scale)


def fit_logistic(
    key: PRNGKeyArray,
    features: Float[ArrayLike, "n n_features"],
    labels: Int[ArrayLike, " n"],
    *,
    n_classes: int | None = None,
    steps: int = 500,
    learning_rate: float = 0.05,
    l2: float = 1e-3,
) -> LogisticReadout:
    """Softmax regression on standardised features by `steps` full-batch Adam steps.

    Minimises `mean_i CE(softmax(z_i W + b), y_i) + l2/2 ||W||²` (bias unpenalised); the
    steps are one `lax.scan`, so a fit compiles once.

    Args:
        key: PRNG key for the (small, random) initial weights.
        features: `(n_samples, n_features)` finite values.
        labels: `(n_samples,)` integers in `[0, n_classes)`.
        n_classes: number of classes; default `max(labels) + 1` (required under jit).
        steps: number of Adam steps (>= 0).
        learning_rate: Adam step size.
        l2: weight penalty >= 0; > 0 keeps the optimum finite for separable classes.

    Returns:
        The `LogisticReadout`, with `n_classes` outputs.

    Raises:
        ValueError: on bad shapes, non-finite features, labels out of range, or negative
            `steps`, `learning_rate` or `l2`.
    """
    x = _features(features)
    y, n_classes = _labels(labels, x.shape[0], n_classes)
    check_int("steps", steps)
    _nonnegative("learning_rate", learning_rate)
    _nonnegative("l2", l2)
    # the loss is convex: the key only moves the start, not the optimum. Drawn outside
    # `_logistic`, whose compilation it would slow down; the rates are traced there, so
    # a sweep over them compiles once.
    w0 = 0.01 * jr.normal(key, (x.shape[1], n_classes), x.dtype)
    hyper = jnp.asarray(learning_rate, x.dtype), jnp.asarray(l2, x.dtype)
    return _logistic(w0, x, y, steps, *hyper)


@eqx.filter_jit
def _n_correct(readout: Any, x: Array, y: Array) -> Int[Array, ""]:
    predicted = readout.predict(x)
    return jnp.sum(predicted == jnp.asarray(y).astype(predicted.dtype))


def accuracy(
    readout: Any, features: Float[ArrayLike, "n d"], labels: Int[ArrayLike, " n"]
) -> Float[Array, ""]:
    """Fraction (0-d array) of `labels` `(n,)` equal to `readout.predict(features)`."""
    return _n_correct(readout, features, labels) / np.shape(labels)[0]


@dataclasses.dataclass(frozen=True)
class CrossValidation:
    """Result of `cross_validate`.

    Attributes:
        fold_accuracies: `(n_folds,)` accuracy on each held-out fold.
        accuracy: pooled accuracy `n_correct / n` (folds weighted by their size).
        ci95: Wilson score 95 % interval `(low, high)` on the pooled count.
        n_correct: held-out samples classified correctly, over all folds.
        n: number of samples (each is held out exactly once).
        fold: `(n,)` the fold in which each sample was held out.
    """

    fold_accuracies: np.ndarray
    accuracy: float
    ci95: tuple[float, float]
    n_correct: int
    n: int
    fold: np.ndarray


def cross_validate(
    fit: Callable[[Array, Array], Any],
    features: Float[ArrayLike, "n d"],
    labels: Int[ArrayLike, " n"],
    *,
    key: PRNGKeyArray,
    n_folds: int = 5,
) -> CrossValidation:
    """Stratified k-fold cross-validated accuracy of a readout.

    Samples are shuffled with `key`, stably sorted by label and dealt round-robin into
    folds, so each fold has nearly the whole set's class mix and fold sizes differ by at
    most one. Each fold is scored by the readout `fit` on the other folds.

    Args:
        fit: `fit(train_features, train_labels) -> readout` with a `predict` method, e.g.
            `lambda x, y: fit_ridge(x, y, alpha=1.0)`.
        features: `(n_samples, n_features)`.
        labels: `(n_samples,)` integer labels.
        key: PRNG key of the shuffle.
        n_folds: number of folds, in `[2, n_samples]`.

    Returns:
        Per-fold and pooled accuracy with its Wilson interval, as a `CrossValidation`.

    Raises:
        ValueError: if `n_folds` is out of range or the inputs are malformed.
    """
    x = _features(features)
    y, _ = _labels(labels, x.shape[0], None)
    # folds are built and sliced in NumPy: eager JAX indexing would compile per fold shape
    x, y = np.asarray(x), np.asarray(y)
    n = x.shape[0]
    check_int("n_folds", n_folds, minimum=2)
    if n_folds > n:
        raise ValueError(f"n_folds must be <= n_samples={n}, got {n_folds}")
    perm = np.asarray(jr.permutation(key, n))
    order = perm[np.argsort(y[perm], kind="stable")]
    fold = np.empty(n, dtype=np.int64)
    fold[order] = np.arange(n) % n_folds
    correct = np.zeros(n_folds, dtype=np.int64)
    for k in range(n_folds):
        readout = fit(x[fold != k], y[fold != k])
        correct[k] = int(_n_correct(readout, x[fold == k], y[fold == k]))
    n_correct = int(correct.sum())
    # the interval contains the estimate exactly, but at 0 or n of n its edge can round
    # to 0.9999999999999999 < 1
    low, high = wilson_interval(n_correct, n)
    return CrossValidation(
        fold_accuracies=correct / np.bincount(fold, minlength=n_folds),
        accuracy=n_correct / n,
        ci95=(min(low, n_correct / n), max(high, n_correct / n)),
        n_correct=n_correct,
        n=n,
        fold=fold,
    )

"""Evaluation: the Wilson interval against SciPy, the confusion matrix against a direct
count, and a 1000-trial Monte-Carlo evaluation in one call on a small model."""

import jax.random as jr
import numpy as np
import pytest
from scipy.stats import binomtest

from jaxsnn.decision import (
    RatePattern,
    build_decision_model,
    confusion_matrix,
    evaluate,
    wilson_interval,
)


@pytest.mark.parametrize("k, n", [(0, 10), (3, 10), (10, 10), (512, 1000), (999, 1000)])
def test_wilson_interval_matches_scipy(k, n):
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    np.testing.assert_allclose(wilson_interval(k, n), (ci.low, ci.high), rtol=1e-9, atol=1e-12)


def test_wilson_interval_rejects_bad_counts():
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(11, 10)
    with pytest.raises(ValueError, match="n"):
        wilson_interval(0, 0)


def test_confusion_matrix_counts():
    labels = np.array([0, 0, 1, 1, 1, 0])
    answers = np.array([0, 1, 1, 0, 1, 0])
    assert confusion_matrix(labels, answers) == [[2, 1], [1, 2]]


def test_evaluate_1000_trials_in_one_call():
    model = build_decision_model(
        jr.key(0),
        n_exc=40,
        n_inh=10,
        n_out=8,
        n_in=6,
        window_ms=3.0,
        w_in=1.5,
        w_mean=0.8,
        g_inh=1.0,
    )
    res = evaluate(model, RatePattern(low_hz=0.0, high_hz=800.0), jr.key(1), n_trials=1000)
    cm = np.array(res["confusion_matrix"])
    assert cm.sum() == res["n_trials"] == 1000
    assert res["accuracy"] == pytest.approx(np.trace(cm) / 1000)
    lo, hi = res["ci95"]
    assert lo <= res["accuracy"] <= hi
    # silent input (label 0) gives no output spike at all: rate exactly 0, answer '0'
    assert res["mean_rate_hz"]["0"] == 0.0 and cm[0, 1] == 0
    assert res["mean_rate_hz"]["1"] > 0.0
    assert res["trials_per_second"] > 0

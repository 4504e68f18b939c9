"""Evaluation: the Wilson interval against SciPy, the confusion matrix against a direct
count, a 1000-trial Monte-Carlo evaluation in one call on a small model, and compile time
reported apart from run time."""

import time

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


# Timing tolerance: what runs outside the simulating call's clock (drawing the trials,
# counting answers) takes a few milliseconds; 0.1 s is slack for a loaded 2-core machine.
OUTSIDE_CLOCK_S = 0.1


def _timed_evaluate(model, **kwargs):
    t0 = time.perf_counter()
    res = evaluate(model, RatePattern(), jr.key(3), n_trials=64, **kwargs)
    return time.perf_counter() - t0, res


def test_evaluate_reports_compile_apart_from_run():
    # sizes no other test uses, so the first call compiles whatever ran before it
    model = build_decision_model(jr.key(2), n_exc=21, n_inh=5, n_out=3, n_in=5, window_ms=1.9)
    wall, first = _timed_evaluate(model)
    _, second = _timed_evaluate(model)
    assert first["compile_seconds"] > 0.1  # tracing and compiling the vmapped simulation
    # the same program: a compiled-program cache hit fires no compile event at all
    assert second["compile_seconds"] <= 0.01 * first["compile_seconds"]
    spent = first["compile_seconds"] + first["seconds"]
    assert spent <= wall and wall - spent < OUTSIDE_CLOCK_S
    for res in (first, second):
        assert res["seconds"] > 0.0
        assert res["trials_per_second"] == pytest.approx(64 / res["seconds"])


def test_evaluate_with_warmup_counts_its_compile_but_not_its_run():
    model = build_decision_model(jr.key(2), n_exc=21, n_inh=5, n_out=3, n_in=5, window_ms=1.3)
    wall, res = _timed_evaluate(model, warmup=True, progress=True)
    assert res["compile_seconds"] > 0.1  # the warm-up compiled the chunk-sized program
    assert res["compile_seconds"] + res["seconds"] <= wall
    assert res["trials_per_second"] == pytest.approx(64 / res["seconds"])

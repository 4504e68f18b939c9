"""The decision tasks: label balance, the rates each class gets, XOR's truth table, the
hard task's overlap, deterministic and disjoint train/test splits, bad input."""

import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from jaxsnn.decision import XOR, HardRate, RatePattern, get_task


def test_rate_pattern_rates_follow_labels():
    rates, labels = RatePattern().sample(jr.key(0), 2000, 10)
    assert rates.shape == (2000, 10) and labels.shape == (2000,)
    labels = np.asarray(labels)
    # Binomial(2000, 1/2): sd 22; 5 sd bound
    assert abs(labels.sum() - 1000) < 112
    expected = np.where(labels[:, None] > 0, 100.0, 20.0)
    np.testing.assert_array_equal(np.asarray(rates), np.broadcast_to(expected, (2000, 10)))


def test_xor_truth_table():
    rates, labels = XOR(on_hz=80.0, off_hz=2.0).sample(jr.key(1), 400, 6)
    rates, labels = np.asarray(rates), np.asarray(labels)
    a = rates[:, 0] == 80.0
    b = rates[:, 3] == 80.0
    assert np.all(rates[:, :3] == rates[:, :1]) and np.all(rates[:, 3:] == rates[:, 3:4])
    assert np.all(np.isin(rates, [80.0, 2.0]))
    np.testing.assert_array_equal(labels > 0, a ^ b)
    # all four (A, B) combinations occur, each about a quarter of the time (sd 8.7; 5 sd)
    for ca in (False, True):
        for cb in (False, True):
            assert abs(np.sum((a == ca) & (b == cb)) - 100) < 44


def test_hard_task_overlaps_with_the_stated_statistics():
    task = HardRate()
    rates, labels = task.sample(jr.key(2), 4000, 50)
    rates, labels = np.asarray(rates, np.float64), np.asarray(labels) > 0
    assert np.all(rates >= 0)
    means = rates.mean(axis=1)
    # class means of the per-trial mean rate: 30 and 50 Hz (sd of the estimate ~0.3 Hz)
    assert abs(means[~labels].mean() - 30.0) < 1.5 and abs(means[labels].mean() - 50.0) < 1.5
    # the classes overlap: an ideal threshold at 40 Hz on the trial's base rate errs on
    # Phi(-1) = 15.9 % of trials; on the noisy channel mean the error is about that
    error = np.mean((means > 40.0) != labels)
    assert 0.12 < error < 0.20


def test_splits_are_deterministic_and_disjoint():
    task = get_task("hard")
    key = jr.key(3)
    tr1, _ = task.split(key, "train", 8, 5)
    tr2, _ = task.split(key, "train", 8, 5)
    te, _ = task.split(key, "test", 8, 5)
    np.testing.assert_array_equal(tr1, tr2)
    assert not np.any(np.isclose(np.asarray(tr1)[:, None, :], np.asarray(te)[None, :, :]).all(-1))
    assert task.split(key, "train", 4, 5, jnp.float64 if False else None)[
        0
    ].dtype == jnp.result_type(float)


def test_bad_task_arguments():
    with pytest.raises(ValueError, match="task must be one of"):
        get_task("parity")
    with pytest.raises(ValueError, match="split must be"):
        RatePattern().split(jr.key(0), "validation", 4, 4)
    with pytest.raises(ValueError, match="low_hz"):
        RatePattern(low_hz=-1.0)
    with pytest.raises(ValueError, match="n_in >= 2"):
        XOR().sample(jr.key(0), 4, 1)
    with pytest.raises(ValueError, match="batch"):
        RatePattern().sample(jr.key(0), 0, 4)

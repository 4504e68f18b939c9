"""ISI-threshold bursts against a loop over each neuron's spike times."""

import numpy as np
import pytest

import jaxsnn.analysis as A


def _bursts_reference(s, max_isi_steps, min_spikes):
    count, in_bursts = np.zeros(s.shape[1], int), np.zeros(s.shape[1], int)
    for i in range(s.shape[1]):
        runs, run = [], []
        for t in np.flatnonzero(s[:, i] > 0):
            if run and t - run[-1] > max_isi_steps:
                runs.append(run)
                run = []
            run.append(t)
        if run:
            runs.append(run)
        long = [r for r in runs if len(r) >= min_spikes]
        count[i], in_bursts[i] = len(long), sum(len(r) for r in long)
    return count, in_bursts


@pytest.mark.parametrize("max_isi_steps, min_spikes", [(1, 2), (3, 2), (3, 4), (10, 3)])
def test_bursts_equal_a_loop(max_isi_steps, min_spikes):
    rng = np.random.default_rng(max_isi_steps + min_spikes)
    s = (rng.random((300, 10)) < rng.uniform(0, 0.4, 10)).astype(np.float32)
    s[:, 0] = 0
    got = A.detect_bursts(s, dt_ms=0.5, max_isi_ms=max_isi_steps * 0.5, min_spikes=min_spikes)
    count, in_bursts = _bursts_reference(s, max_isi_steps, min_spikes)
    np.testing.assert_array_equal(np.asarray(got.count), count)
    np.testing.assert_array_equal(np.asarray(got.spikes_in_bursts), in_bursts)
    n = s.sum(0)
    with np.errstate(invalid="ignore"):
        np.testing.assert_allclose(np.asarray(got.fraction), in_bursts / n, rtol=1e-6)
    assert np.isnan(got.fraction[0])


def test_a_hand_made_train():
    s = np.zeros((40, 1), np.float32)
    s[[0, 1, 3, 10, 20, 21, 22, 23, 35], 0] = 1  # runs (ISI <= 2): 3, 1, 4, 1 spikes
    got = A.detect_bursts(s, dt_ms=1.0, max_isi_ms=2.0, min_spikes=3)
    assert int(got.count[0]) == 2 and int(got.spikes_in_bursts[0]) == 7
    assert float(got.fraction[0]) == pytest.approx(7 / 9)

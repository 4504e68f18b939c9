"""Accuracy targets of `jaxsnn decide` on its defaults (slow: full 1000-neuron training).

Each runs the command as a user would, on 1000 held-out trials: rate patterns >= 95 %,
XOR >= 90 %, and a clear gain over the untrained network on the hard variant (whose
ideal-observer accuracy is about 84 %, see jaxsnn.decision.tasks).
"""

import json

import pytest

from jaxsnn import cli


def _decide(task, tmp_path, capsys):
    assert cli.main(["decide", "--task", task, "--out", str(tmp_path), "--json", "--quiet"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["n_trials"] >= 1000
    return summary


@pytest.mark.slow
def test_rate_pattern_reaches_95_percent(tmp_path, capsys):
    summary = _decide("rate", tmp_path, capsys)
    assert summary["accuracy_after"] >= 0.95


@pytest.mark.slow
def test_xor_reaches_90_percent(tmp_path, capsys):
    summary = _decide("xor", tmp_path, capsys)
    assert summary["accuracy_after"] >= 0.90


@pytest.mark.slow
def test_hard_variant_gains_clearly(tmp_path, capsys):
    summary = _decide("hard", tmp_path, capsys)
    # 1000 trials: the Wilson half-width is <= 3.1 points, so a 10-point gain is clear
    assert summary["accuracy_after"] >= summary["accuracy_before"] + 0.10
    assert summary["ci95_after"][0] > summary["ci95_before"][1]

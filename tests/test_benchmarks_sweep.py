"""W2-sweep's bookkeeping in benchmarks/run.py and benchmarks/cases.py: ratios against
Brian2 run one after another and in 2 processes, the target, the per-network rate check,
and the Brian2 weights in the order of the synapse pairs it is given."""

import os
import sys

import jax.random as jr
import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))

import cases  # noqa: E402
import run  # noqa: E402


def _rec(tool, mode, run_s, rates, processes=None):
    rec = {
        "workload": "W2-sweep",
        "tool": tool,
        "mode": mode,
        "compile_s": 1.0,
        "run_s": run_s,
        "rate_hz": float(np.mean(rates)),
        "rates_hz": rates,
        "i_ext_mv": list(np.linspace(18, 22, len(rates))),
        "w_exc_scale": [1.0] * len(rates),
    }
    if processes:
        rec["processes"] = processes
    return rec


def test_ratios_target_and_rate_check():
    records = [
        _rec("jaxsnn", "current", 0.5, [20.0, 21.0]),
        _rec("brian2", "current", 2.5, [20.5, 23.5], processes=1),
        _rec("brian2", "current", 1.3, [20.5, 23.5], processes=2),
    ]
    run.add_ratios(records)
    ours = records[0]
    assert ours["ratio"] == {"brian2": 5.0, "brian2-2proc": 2.6}
    assert [t["met"] for t in ours["targets"]] == [True]
    agree = ours["rates_vs_brian2"]
    assert agree["max_abs_rel_diff"] == pytest.approx(2.5 / 23.5, abs=1e-4)
    assert not agree["within_tol"]
    machine = {k: "" for k in ("date", "commit", "cpu", "cores", "device", "jax", "python")}
    md = run.markdown(records, machine, quick=True)
    assert "jaxsnn vs Brian2 sequential: 5.00x; vs Brian2 2 processes: 2.6x" in md
    assert "| 22 | 21.00 | 23.50 | -10.6% | **no** |" in md


def test_missed_target():
    records = [
        _rec("jaxsnn", "weights", 1.0, [20.0]),
        _rec("brian2", "weights", 2.0, [20.0], processes=1),
    ]
    run.add_ratios(records)
    assert records[0]["targets"][0]["met"] is False
    assert records[0]["rates_vs_brian2"]["within_tol"]


def test_cases_selected():
    names = cases.case_names({"W2-sweep"}, quick=True, has_t1=False)
    assert names == ["W2-sweep:jaxsnn:current", "W2-sweep:jaxsnn:weights", "W2-sweep:brian2"]
    assert "W2-sweep" in run.WORKLOADS


def test_pair_weights_follow_pairs():
    from jaxsnn.models import build_ei_coba

    network = build_ei_coba(jr.key(0), 200, layout="sparse")
    scales = np.array([0.5, 2.0])
    ws = cases._sweep_weights(network, scales)
    for pre, g in (("E", 0.6), ("I", 6.7)):
        pre_idx, _ = cases._pairs(network, pre)
        w = cases._pair_weights(network, pre, ws)
        assert w.shape == (2, len(pre_idx))
        factor = scales[:, None] if pre == "E" else np.ones((2, 1))
        np.testing.assert_allclose(w, g * factor * np.ones_like(w), rtol=1e-6)

"""The Wang (2002) decision network: the paper's parameters in jaxsnn's units, the
stimulus statistics, a short run (spontaneous rates in the paper's range, a decision at
high coherence), the psychometric pipeline and the CLI at toy size, bad parameters; the
slow suite measures the psychometric and chronometric curves against the paper."""

import json
import math

import jax
import jax.random as jr
import numpy as np
import pytest

from jaxsnn.models._wang2002_cli import add_wang2002_arguments, run_wang2002
from jaxsnn.models.wang2002 import (
    POOLS,
    Wang2002Parameters,
    Wang2002Protocol,
    build_wang2002,
    stimulus_rates,
    w_minus,
    wang2002_inputs,
)
from jaxsnn.models.wang2002_analysis import (
    PAPER_WEIBULL,
    run_psychometric,
)
from jaxsnn.pooled import PooledLayout


def _weight(net, pre, post, kind):
    for p in net.projections:
        if (p.pre, p.post) == (pre, post) and type(p.synapse).__name__ == kind:
            return float(p.weights[0, 0])
    raise KeyError((pre, post, kind))


def test_parameters_in_jaxsnn_units():
    net = build_wang2002()
    assert [p.name for p in net.populations] == list(POOLS)
    assert [p.n for p in net.populations] == [240, 240, 1120, 400]
    assert all(isinstance(p.layout, PooledLayout) for p in net.projections)
    assert len(net.projections) == 3 * 4 * 2 + 4
    e, i = net.population("A").neuron, net.population("I").neuron
    assert (e.tau_mem_ms, i.tau_mem_ms) == (pytest.approx(20.0), pytest.approx(10.0))
    assert (e.t_ref_ms, i.t_ref_ms) == (2.0, 1.0)
    assert (e.v_rest_mv, e.v_th_mv, e.v_reset_mv) == (-70.0, -50.0, -55.0)
    wm = w_minus(0.15, 1.7)
    assert wm == pytest.approx(1 - 0.15 * 0.7 / 0.85)
    # conductances over the postsynaptic leak conductance (25 nS pyramidal, 20 nS inter.)
    expect = {
        ("A", "A", "ExpConductance"): 0.05 / 25 * 1.7,
        ("A", "B", "ExpConductance"): 0.05 / 25 * wm,
        ("N", "A", "NMDA"): 0.165 / 25 * wm,
        ("B", "B", "NMDA"): 0.165 / 25 * 1.7,
        ("A", "N", "NMDA"): 0.165 / 25,
        ("N", "I", "ExpConductance"): 0.04 / 20,
        ("B", "I", "NMDA"): 0.13 / 20,
    }
    for (pre, post, kind), w in expect.items():
        assert _weight(net, pre, post, kind) == pytest.approx(w, rel=1e-6), (pre, post, kind)
    gaba = [p for p in net.projections if p.pre == "I"]
    assert {p.post: float(p.weights[0, 0]) for p in gaba} == pytest.approx(
        {"A": 0.052, "B": 0.052, "N": 0.052, "I": 0.05}
    )
    assert all(p.delay_ms == 0.5 for p in net.projections)
    ext = {inp.target: inp for inp in net.inputs}
    assert ext["A"].weight == pytest.approx(2.1 / 25) and ext["I"].weight == pytest.approx(
        1.62 / 20
    )
    assert ext["N"].rate_hz == 2400.0
    nmda = next(p.synapse for p in net.projections if type(p.synapse).__name__ == "NMDA")
    assert (nmda.tau_rise_ms, nmda.tau_decay_ms, nmda.alpha_per_ms) == (2.0, 100.0, 0.5)
    assert (nmda.output.mg_mm, nmda.output.e_rev_mv) == (1.0, 0.0)
    # other sizes: recurrent conductances scale as 1600/N_E and 400/N_I
    small = build_wang2002(n_e=400, n_i=100)
    assert _weight(small, "A", "A", "NMDA") == pytest.approx(4 * _weight(net, "A", "A", "NMDA"))
    assert _weight(small, "I", "A", "ExpConductance") == pytest.approx(4 * 0.052)


def test_stimulus_statistics():
    protocol = Wang2002Protocol(onset_ms=100.0, stimulus_ms=2000.0)
    keys = jr.split(jr.key(0), 200)
    rates = np.asarray(jax.vmap(lambda k: stimulus_rates(k, 12.8, protocol))(keys))
    onset = protocol.onset_step
    assert np.all(rates[:, :onset] == 0)
    on = rates[:, onset:]
    per = int(round(50.0 / protocol.dt_ms))
    blocks = on.reshape(200, -1, per, 2)
    # constant within each 50 ms interval, redrawn at its start
    assert np.all(blocks == blocks[:, :, :1])
    values = blocks[:, :, 0]  # (trials, intervals, pool)
    assert np.mean(np.abs(np.diff(values, axis=1)) > 0) > 0.99
    mu_a, mu_b = 40 * (1 + 0.128), 40 * (1 - 0.128)
    n = values[..., 0].size  # 8000 draws per pool: s.e. of the mean 0.045 Hz
    assert values[..., 0].mean() == pytest.approx(mu_a, abs=4 * 4 / math.sqrt(n))
    assert values[..., 1].mean() == pytest.approx(mu_b, abs=4 * 4 / math.sqrt(n))
    assert values[..., 0].std() == pytest.approx(4.0, rel=0.04)
    assert values[..., 1].std() == pytest.approx(4.0, rel=0.04)
    assert abs(np.corrcoef(values[..., 0].ravel(), values[..., 1].ravel())[0, 1]) < 0.05
    # the inputs add the 2.4 kHz background, (n_steps, 1) per selective pool
    inputs = wang2002_inputs(keys[0], 12.8, protocol)
    assert inputs["ext_A"].shape == (protocol.n_steps, 1)
    np.testing.assert_allclose(inputs["ext_B"][:, 0], rates[0, :, 1] + 2400.0, rtol=1e-6)
    # rates are clipped at 0 Hz (c = 100 % leaves pool B at 0 ± 4 Hz)
    assert float(stimulus_rates(keys[1], 100.0, protocol).min()) == 0.0


def test_short_run_spontaneous_rates_and_a_decision_at_high_coherence():
    # the full network, two trials at 51.2 % through the same pipeline as the CLI
    protocol = Wang2002Protocol(onset_ms=400.0, stimulus_ms=1000.0)
    res = run_psychometric(
        jr.key(0), coherences=(51.2,), n_trials=2, protocol=protocol, batch_size=2
    )
    rates = res.example_rates_hz  # (windows of 1 ms, pools A, B, N, I)
    spont = rates[100:400].mean(axis=0)  # after 100 ms of settling
    # Wang 2002: spontaneous ~2 Hz for pyramidal cells, ~8-10 Hz for interneurons
    assert np.all((spont[:3] > 1.0) & (spont[:3] < 4.0)), spont
    assert 5.0 < spont[3] < 15.0, spont
    choice, time_ms = np.asarray(res.decisions.choice), np.asarray(res.decisions.time_ms)
    assert np.all(choice == 0), choice
    assert np.all((time_ms > 50) & (time_ms < 1000)), time_ms
    # the winner ends in the high-activity attractor, the loser is suppressed
    end = rates[-200:].mean(axis=0)
    assert end[0] > 20 and end[1] < 5, end
    assert res.summary()["real_time_factor"] > 0


def test_psychometric_pipeline_on_the_reduced_model():
    res = run_psychometric(
        jr.key(0), coherences=(0.0, 12.8, 51.2), n_trials=200, model="reduced", batch_size=600
    )
    acc = [r["accuracy"] for r in res.rows]
    assert acc[0] == pytest.approx(0.5, abs=0.1) and acc[1] > 0.8 and acc[2] > 0.99
    rt = [r["mean_rt_ms"] for r in res.rows]
    assert rt[0] > rt[1] > rt[2] > 0
    summary = res.summary()
    assert summary["n_trials_per_coherence"] == [200, 200, 200]
    assert 2.0 < summary["weibull_alpha_pct"] < 20.0
    json.dumps(summary)  # JSON-ready
    assert res.example_rates_hz.shape == (2500, 2)


def test_bad_parameters_raise_naming_the_argument():
    with pytest.raises(ValueError, match="f must be"):
        build_wang2002(f=0.6)
    with pytest.raises(ValueError, match="leaves a pool empty"):
        build_wang2002(n_e=10, f=0.01)
    with pytest.raises(ValueError, match="w_plus must be a finite number > 0"):
        build_wang2002(w_plus=-1.0)
    with pytest.raises(ValueError, match="w_minus"):
        build_wang2002(w_plus=7.0)
    with pytest.raises(ValueError, match="n_i must be"):
        build_wang2002(n_i=0)
    with pytest.raises(ValueError, match="params must be"):
        build_wang2002(params={"g_l_e_ns": 25.0})
    with pytest.raises(ValueError, match="Wang2002Parameters.g_l_e_ns"):
        Wang2002Parameters(g_l_e_ns=0.0)
    with pytest.raises(ValueError, match="Wang2002Parameters.v_reset_mv"):
        Wang2002Parameters(v_reset_mv=-40.0)
    with pytest.raises(ValueError, match="Wang2002Protocol.stimulus_ms"):
        Wang2002Protocol(stimulus_ms=0.05)
    with pytest.raises(ValueError, match="coherences must lie in"):
        run_psychometric(jr.key(0), coherences=(120.0,), model="reduced")
    with pytest.raises(ValueError, match="model must be"):
        run_psychometric(jr.key(0), model="mean-field")
    with pytest.raises(ValueError, match="n_trials"):
        run_psychometric(jr.key(0), n_trials=0, model="reduced")


def _cli(argv):
    import argparse

    parser = argparse.ArgumentParser()
    add_wang2002_arguments(parser)
    return run_wang2002(parser.parse_args(argv))


KEYS = [
    "coherence_pct",
    "accuracy",
    "mean_rt_ms",
    "undecided",
    "weibull_alpha_pct",
    "weibull_beta",
    "n_trials_per_coherence",
    "trials_per_second",
    "real_time_factor",
]


def test_cli_json_and_files(tmp_path, capsys):
    # the reduced model keeps this fast; the network's path through run_psychometric
    # is the same (test_short_run_...)
    out = tmp_path / "run"
    argv = ["--reduced", "--stimulus-ms", "400", "--coherences", "0,51.2", "--trials", "3"]
    assert _cli([*argv, "--out", str(out), "--json", "--no-progress"]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    for key in KEYS:
        assert key in summary, key
    assert summary["coherence_pct"] == [0.0, 51.2]
    assert summary["n_trials_per_coherence"] == [3, 3]
    assert len(summary["accuracy"]) == len(summary["mean_rt_ms"]) == 2
    assert summary["trials_per_second"] > 0
    for name in ("psychometric.png", "chronometric.png", "summary.json"):
        assert (out / name).stat().st_size > 0
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    assert json.loads((out / "summary.json").read_text())["coherence_pct"] == [0.0, 51.2]


def test_cli_table_and_bad_flags(tmp_path, capsys):
    argv = ["--reduced", "--stimulus-ms", "400", "--coherences", "0,25.6", "--trials", "4"]
    assert _cli([*argv, "--out", str(tmp_path), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "coh %" in text and "Weibull fit" in text and "trials/s" in text
    import argparse

    parser = argparse.ArgumentParser()
    add_wang2002_arguments(parser)
    for bad in (["--coherences", "0,abc"], ["--coherences", "150"], ["--trials", "0"]):
        with pytest.raises(SystemExit):
            parser.parse_args(bad)
    assert _cli(["--onset-ms", "0.05", "--out", str(tmp_path)]) == 2
    assert "error" in capsys.readouterr().err


# --- slow: the curves against the paper -------------------------------------------


@pytest.mark.slow
def test_network_psychometric_and_chronometric_curves():
    """Wang (2002), Fig. 5 (network): p(c) = 1 − 0.5 exp(−(c/α)^β) with α ≈ 9.2 %,
    β ≈ 1.5 (`PAPER_WEIBULL`); decision times fall with coherence.

    100 trials per coherence (about 10-40 min on a 2-core CPU). Tolerances: at c = 0 the
    99 % Wilson interval must contain 0.5; accuracy rises from 3.2 % to 51.2 % (by more
    than the intervals' widths) and exceeds 0.95 at 51.2 %; the fitted α within a factor
    2 of 9.2 % and β in [0.75, 3] (the paper's protocol differs in details: see
    `jaxsnn.models.wang2002_analysis`); mean decision time at 51.2 % below that at 3.2 %
    and 0 %, and at 0 % between 300 and 1500 ms.
    """
    from jaxsnn.decision.evaluate import wilson_interval

    res = run_psychometric(jr.key(2002), n_trials=100, batch_size=25)
    rows = {r["coherence_pct"]: r for r in res.rows}
    zero = rows[0.0]
    lo, hi = wilson_interval(zero["n_correct"], zero["n_decided"], z=2.5758)
    assert lo <= 0.5 <= hi, zero
    assert rows[51.2]["accuracy"] > 0.95
    assert rows[51.2]["accuracy_ci95"][0] > rows[3.2]["accuracy_ci95"][1]
    assert rows[25.6]["accuracy"] > rows[6.4]["accuracy"]
    fit = res.fit
    assert PAPER_WEIBULL["alpha_pct"] / 2 < fit.alpha < PAPER_WEIBULL["alpha_pct"] * 2, fit
    assert 0.75 < fit.beta < 3.0, fit
    assert rows[51.2]["mean_rt_ms"] < rows[3.2]["mean_rt_ms"]
    assert rows[51.2]["mean_rt_ms"] < rows[0.0]["mean_rt_ms"]
    assert 300 < rows[0.0]["mean_rt_ms"] < 1500
    assert all(r["undecided"] < 0.1 for r in res.rows)


@pytest.mark.slow
def test_reduced_model_psychometric_curve():
    """Wong & Wang (2006): accuracy from chance to ~100 %, decision times falling with
    coherence; 2000 trials per coherence (seconds)."""
    res = run_psychometric(jr.key(2006), n_trials=2000, model="reduced", batch_size=4000)
    rows = res.rows
    from jaxsnn.decision.evaluate import wilson_interval

    lo, hi = wilson_interval(rows[0]["n_correct"], rows[0]["n_decided"], z=2.5758)
    assert lo <= 0.5 <= hi
    acc = [r["accuracy"] for r in rows]
    assert all(b >= a - 0.01 for a, b in zip(acc, acc[1:], strict=False))
    rt = [r["mean_rt_ms"] for r in rows]
    assert all(b < a for a, b in zip(rt[1:], rt[2:], strict=False))
    assert 3.0 < res.fit.alpha < 15.0 and 0.8 < res.fit.beta < 2.5

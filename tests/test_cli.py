"""The `jaxsnn` command line: `decide` end to end at toy size, its files and JSON, the
learning switch, bad flags (exit status 2), and the `demo` subcommand."""

import json
import re

import pytest

from jaxsnn import cli

TINY = ["--n-exc", "24", "--n-inh", "6", "--n-out", "4", "--n-in", "4", "--window-ms", "2"]


def test_decide_json_summary_and_files(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["decide", *TINY, "--steps", "2", "--batch-size", "2", "--trials", "20"]
    code = cli.main([*argv, "--out", str(out), "--json", "--seed", "3"])
    assert code == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)  # stdout holds only the JSON
    for key in [
        "task",
        "accuracy_before",
        "accuracy_after",
        "confusion_matrix",
        "n_trials",
        "train_seconds",
        "train_compile_seconds",
        "train_run_seconds",
        "eval_seconds",
        "eval_compile_seconds",
        "eval_run_seconds",
        "eval_trials_per_second",
    ]:
        assert key in summary
    # the first decide run of these sizes compiles; compile and run add up to the total
    assert summary["train_compile_seconds"] > 0.0 and summary["eval_compile_seconds"] > 0.0
    assert summary["train_run_seconds"] > 0.0 and summary["eval_run_seconds"] > 0.0
    for part in ("train", "eval"):
        total = summary[f"{part}_compile_seconds"] + summary[f"{part}_run_seconds"]
        assert summary[f"{part}_seconds"] == pytest.approx(total, rel=1e-12)
    assert summary["eval_trials_per_second"] == pytest.approx(40 / summary["eval_run_seconds"])
    assert summary["train_seconds"] + summary["eval_seconds"] <= summary["wall_seconds"]
    assert re.search(r"accuracy before training: \S+  \[compile \S+ s, run", captured.err)
    assert summary["task"] == "rate" and summary["n_trials"] == 20
    assert sum(map(sum, summary["confusion_matrix"])) == 20
    assert 0.0 <= summary["accuracy_after"] <= 1.0
    assert summary["model"]["n_neurons"] == 30
    assert "step    2/2" in captured.err  # progress goes to stderr
    for name in ["raster.png", "loss.png", "summary.json"]:
        assert (out / name).stat().st_size > 0
    assert (
        json.loads((out / "summary.json").read_text())["accuracy_after"]
        == summary["accuracy_after"]
    )
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]  # atomic writes

    # the table form, same run (same shapes: compiled code is reused)
    code = cli.main([*argv, "--out", str(out), "--seed", "3", "--quiet"])
    captured = capsys.readouterr()
    assert code == 0 and captured.err == ""
    assert "accuracy after training" in captured.out and "true 1" in captured.out
    assert "trials/s" in captured.out and "wall time" in captured.out
    number = r"\d+\.\d\d"
    assert re.search(
        rf"training +2 steps x 2 trials: compile {number} s, run {number} s \(\S+ s/step\)",
        captured.out,
    )
    assert re.search(
        rf"evaluation +2 x 20 trials of 2 ms: compile {number} s, run {number} s, \d+ trials/s",
        captured.out,
    )


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--task", "parity"], "invalid choice"),
        (["--steps", "0"], "positive integer"),
        (["--trials", "many"], "positive integer"),
        (["--trainable", "input,hidden"], "subset of input,recurrent,readout"),
        (["--lr", "-1"], "positive"),
        (["--learning", "evolution"], "invalid choice"),
        (["--bogus"], "unrecognized arguments"),
    ],
)
def test_bad_flags_exit_2_with_a_message(flags, message, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["decide", *flags])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_bad_sizes_exit_2(tmp_path, capsys):
    code = cli.main(["decide", "--n-exc", "10", "--n-out", "10", "--out", str(tmp_path)])
    assert code == 2
    assert "--n-out" in capsys.readouterr().err


def test_decide_with_hebbian_learning_runs(tmp_path, capsys):
    argv = ["decide", "--learning", "hebbian", *TINY, "--steps", "1", "--trials", "10"]
    assert cli.main([*argv, "--batch-size", "2", "--out", str(tmp_path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["learning"] == "hebbian" and summary["train_steps"] == 1
    assert summary["train_compile_seconds"] > 0.0 and summary["train_run_seconds"] > 0.0


def test_demo_is_still_a_subcommand():
    args = cli.build_parser().parse_args(["demo", "--trials", "2"])
    assert args.command == "demo" and args.trials == 2 and args.func is cli._demo


@pytest.mark.slow  # builds and compiles the full 1000-neuron W1 network (~15 s)
def test_demo_still_works(capsys):
    assert cli.main(["demo", "--trials", "2", "--steps", "10", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["trials"] == 2 and summary["steps"] == 10


def test_stream_is_a_subcommand():
    args = cli.build_parser().parse_args(["stream", "--windows", "3", "--window-ms", "50"])
    assert args.command == "stream" and args.windows == 3 and args.window_ms == 50.0


@pytest.mark.slow  # builds and compiles the full 1000-neuron W1 network (~15 s)
def test_stream_decides_per_window_and_reports_latency(capsys):
    assert cli.main(["stream", "--windows", "4", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert len(summary["latency_ms"]) == len(summary["answers"]) == 4
    assert summary["accuracy"] == 1.0  # 0.2 Hz vs ~30 Hz E rates: far from the 10 Hz threshold
    assert summary["fraction_met"] == sum(summary["met_budget"]) / 4


def test_decide_resumes_from_its_training_checkpoint(tmp_path, capsys):
    import jax
    import numpy as np

    from jaxsnn import saves

    argv = ["decide", *TINY, "--batch-size", "2", "--trials", "20", "--seed", "5", "--json",
            "--quiet", "--train-checkpoint-every", "1"]  # fmt: skip

    def decide(steps, checkpoint):
        out = tmp_path / f"out-{checkpoint}-{steps}"
        code = cli.main([*argv, "--train-steps", str(steps), "--out", str(out),
                         "--train-checkpoint", str(tmp_path / checkpoint)])  # fmt: skip
        assert code == 0
        return json.loads(capsys.readouterr().out)

    whole = decide(4, "whole.ckpt")
    decide(2, "cut.ckpt")  # stopped after 2 of the 4 steps, its checkpoint kept
    resumed = decide(4, "cut.ckpt")  # the same command again continues from step 2
    assert resumed["final_loss"] == whole["final_loss"]
    assert resumed["accuracy_after"] == whole["accuracy_after"]
    a, b = (saves.load(tmp_path / f) for f in ("whole.ckpt", "cut.ckpt"))
    assert int(a.step) == int(b.step) == 4
    for x, y in zip(jax.tree.leaves(a.model), jax.tree.leaves(b.model), strict=True):
        np.testing.assert_array_equal(x, y)
    # another seed does not continue that run
    code = cli.main([*argv, "--seed", "6", "--train-steps", "4", "--out", str(tmp_path / "o"),
                     "--train-checkpoint", str(tmp_path / "cut.ckpt")])  # fmt: skip
    assert code != 0
    assert "another key" in capsys.readouterr().err


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--train-checkpoint", "."], "is not a file"),
        (["--train-checkpoint", "no/such/folder/f"], "does not exist"),
        (["--train-checkpoint", "f", "--learning", "hebbian"], "needs --learning gradient"),
    ],
)
def test_bad_training_checkpoints_exit_2_before_any_work(flags, message, tmp_path, capsys):
    assert cli.main(["decide", *flags, "--out", str(tmp_path / "out")]) == 2
    assert message in capsys.readouterr().err

"""benchmarks/gpu_w3.py (run by benchmarks/gpu.sh): without a GPU it records "not
measured" and why; with --allow-cpu it measures small sizes with the schema a GPU run
writes (rates of the W2 model, ~20 Hz)."""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(__file__)
SCRIPT = os.path.join(HERE, "..", "benchmarks", "gpu_w3.py")


def _run(tmp_path, *args):
    done = subprocess.run(
        [sys.executable, SCRIPT, "--out", str(tmp_path), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads((tmp_path / "gpu_w3.json").read_text())
    return result, (tmp_path / "gpu_w3.md").read_text()


def test_without_a_gpu_it_says_not_measured(tmp_path):
    result, table = _run(tmp_path)
    assert result["records"] == []
    assert "no GPU" in result["not_measured"]
    assert "**Not measured:**" in table
    assert result["machine"]["backend"] == "cpu"


def test_cpu_smoke_run_has_the_gpu_schema(tmp_path):
    result, table = _run(tmp_path, "--allow-cpu", "--sizes", "2000", "--steps", "2000")
    (rec,) = result["records"]
    assert rec["n_neurons"] == 2000 and rec["n_steps"] == 2000
    assert rec["n_synapses"] > 0.9 * 2000 * 80  # fixed in-degree 80
    for key in ("build_s", "compile_s", "run_s", "run_s_per_bio_s"):
        assert rec[key] >= 0
    # W2's asynchronous irregular regime; 0.2 s of simulated time at N = 2000
    assert 10 < rec["rate_hz"] < 35
    assert "| 2000 |" in table

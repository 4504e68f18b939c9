"""R1 (../shared/BENCHMARKS.md): a 1000-neuron small-world reservoir in snnpy's terms,
jaxsnn (`jaxsnn.reservoir`) against snn-reservoir-py 2.0.0 on the identical reservoir.

Cases (run by benchmarks/run.py --only R1, each in its own process):
- `R1:jaxsnn:single`, `R1:jaxsnn:batch64`: one input, and 64 inputs in one vmapped call;
- `R1:snnpy:single`, `R1:snnpy:batch64`: snnpy in its own environment
  (`--snnpy-python`, default benchmarks/.venvs/snnpy/bin/python; install:
  `python -m venv benchmarks/.venvs/snnpy && benchmarks/.venvs/snnpy/bin/pip install
  snn-reservoir-py==2.0.0`), the 64 inputs one after another with `reset()` between, as
  a snnpy user runs a data set (benchmarks/snnpy_reservoir.py `time`).

Both run the reservoir that jaxsnn builds (exported to snnpy as adjacency, initial
potentials and output neurons); the snnpy records say whether its output spikes equal
jaxsnn's, so the two timings are of the same computation.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile

import numpy as np

N, N_IN, N_OUT, STEPS, BATCH = 1000, 100, 50, 1000, 64
PARAMS = {
    "threshold": 1.0,
    "leak_coefficient": 0.05,
    "refractory_steps": 2,
    "current_amplitude": 1.0,
}


def reservoir_and_inputs():
    import jax.random as jr

    import jaxsnn.reservoir as rs

    res = rs.build_reservoir(
        jr.key(1),
        n_neurons=N,
        small_world_k=10,
        small_world_p=0.1,
        mean_weight=0.4,
        n_inputs=N_IN,
        n_outputs=N_OUT,
        **PARAMS,
    )
    inputs = np.asarray(jr.bernoulli(jr.key(2), 0.05, (BATCH, N_IN, STEPS)), np.uint8)
    return res, inputs


def jaxsnn_case(mode: str, repeats: int, time_fn, record) -> dict:
    import jaxsnn.reservoir as rs

    res, inputs = reservoir_and_inputs()
    if mode == "single":
        compile_s, run_s, out = time_fn(lambda r: rs.run(res, inputs[r % BATCH]).outputs, repeats)
        n_trials = 1
    else:
        compile_s, run_s, out = time_fn(lambda r: rs.run(res, inputs).outputs, repeats)
        n_trials = BATCH
    rate = float(np.asarray(out).mean())  # spikes per output neuron per step
    return record(
        "R1",
        "jaxsnn",
        mode,
        compile_s,
        run_s,
        None,
        n_trials,
        repeats,
        spikes_per_output_step=round(rate, 4),
        note=f"{rate:.3f} spikes per output neuron per step; ELL storage, "
        + (
            "Event() propagation"
            if mode == "single"
            else "one neuron-major batched product per step"
        ),
    )


def snnpy_case(mode: str, python: str | None, record) -> dict:
    if not python or not os.path.exists(python):
        note = f"skipped: no snnpy Python at {python!r} (see benchmarks/reservoir_r1.py)"
        return record("R1", "snnpy", mode, None, None, None, 1, 0, note=note)
    import jaxsnn.reservoir as rs

    res, inputs = reservoir_and_inputs()
    batch = inputs if mode == "batch64" else inputs[:3]
    w = res.adjacency()
    with tempfile.TemporaryDirectory() as tmp:
        path, out_path = os.path.join(tmp, "r1.npz"), os.path.join(tmp, "r1.json")
        np.savez(
            path,
            n_neurons=N,
            w_data=w.data,
            w_indices=w.indices,
            w_indptr=w.indptr,
            v0=np.asarray(res.v_init),
            output_neurons=np.asarray(res.output_neurons),
            inputs=batch,
            **PARAMS,
        )
        script = os.path.join(os.path.dirname(__file__), "snnpy_reservoir.py")
        proc = subprocess.run(
            [python, script, "time", path, out_path], capture_output=True, text=True, timeout=1800
        )
        if proc.returncode:
            tail = proc.stderr.strip().splitlines()[-3:]
            return record("R1", "snnpy", mode, None, None, None, 1, 0, note=f"failed: {tail}")
        with open(out_path) as f:
            seconds = json.load(f)["seconds"]
        snnpy_out = np.load(out_path + ".outputs.npy")
    ours = np.asarray(rs.run(res, batch).outputs).astype(np.int8)
    same = bool(np.array_equal(ours, snnpy_out))
    if mode == "single":
        run_s, n_trials = float(np.median(seconds)), 1
    else:
        run_s, n_trials = float(np.sum(seconds)), len(seconds)
    return record(
        "R1",
        "snnpy",
        mode,
        None,
        run_s,
        None,
        n_trials,
        len(seconds),
        cpu_s=None,
        outputs_equal_jaxsnn=same,
        note=(
            "snn-reservoir-py 2.0.0, NumPy; "
            + (
                "median of 3 inputs"
                if mode == "single"
                else "64 inputs one after another, reset() between"
            )
            + f"; output spikes {'identical to' if same else 'DIFFER from'} jaxsnn's"
        ),
    )

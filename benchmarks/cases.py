"""The benchmark cases: each function runs one (workload, tool, mode) and returns a record
in the schema of README.md (without `machine` and `peak_mem_mb`, which run.py fills).

Every case runs in its own subprocess (see run.py), so peak memory is per case.
Timing: `compile_s` = first call - median warm call; `run_s` = median of `repeats` warm
calls, each ended by `jax.block_until_ready`.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

W1_STEPS = 1000
W2_STEPS = 10_000
DT_MS = 0.1


def _cpu_s() -> float:
    """CPU seconds (user + system, all threads) of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


_CPU = {}


def _time(fn, repeats: int):
    """(first-call seconds, median warm seconds, last result); the median CPU seconds of
    the warm calls go to `_CPU["last"]` (less sensitive than wall time to other jobs on
    a shared machine, but counts every thread: a 2-thread run shows up to 2x its wall)."""
    import jax

    t0 = time.perf_counter()
    out = jax.block_until_ready(fn(0))
    first = time.perf_counter() - t0
    runs, cpus = [], []
    for r in range(repeats):
        t0, c0 = time.perf_counter(), _cpu_s()
        out = jax.block_until_ready(fn(r + 1))
        runs.append(time.perf_counter() - t0)
        cpus.append(_cpu_s() - c0)
    run = statistics.median(runs)
    _CPU["last"] = statistics.median(cpus)
    return max(first - run, 0.0), run, out


def _record(workload, tool, mode, compile_s, run_s, rate_hz, n_trials, repeats, **extra):
    rec = {
        "workload": workload,
        "tool": tool,
        "mode": mode,
        "compile_s": None if compile_s is None else round(compile_s, 4),
        "run_s": None if run_s is None else round(run_s, 5),
        "peak_mem_mb": None,
        "rate_hz": None if rate_hz is None else round(float(rate_hz), 3),
        "n_trials": n_trials,
        "repeats": repeats,
        "note": extra.pop("note", ""),
        "cpu_s": extra.pop("cpu_s", _CPU.pop("last", None)),
    }
    if rec["cpu_s"] is not None:
        rec["cpu_s"] = round(rec["cpu_s"], 4)
    rec.update(extra)
    return rec


# ---------------------------------------------------------------- W1 decision-1k


def _w1_network():
    import jax.random as jr

    from jaxsnn.models import build_decision_1k

    return build_decision_1k(jr.key(0))


def _w1_dense_matrix(network) -> np.ndarray:
    n = network.n_neurons
    w = np.zeros((n, n), np.float32)
    for proj in network.projections:
        if proj.pre == "in":
            continue
        rows, cols = network.slice(proj.pre), network.slice(proj.post)
        w[rows, cols] = np.asarray(proj.dense_weights())
    return w


def _w1_rates(batch: int) -> np.ndarray:
    from jaxsnn.models.decision_1k import RATE_0_HZ, RATE_1_HZ

    return np.where(np.arange(batch) % 2 == 1, RATE_1_HZ, RATE_0_HZ).astype(np.float32)


def _w1_events(network, rate_hz: float, batch: int, steps: int) -> int:
    """Expected synaptic events per call: spikes x mean out-degree."""
    n_syn = sum(p.n_synapses for p in network.projections if p.pre != "in")
    return int(rate_hz * network.n_neurons * batch * steps * DT_MS * 1e-3 * n_syn / 1000)


def w1_jaxsnn(
    batch: int, repeats: int, mode: str, workload: str = "W1", tool: str = "jaxsnn"
) -> dict:
    import jax
    import jax.numpy as jnp
    import jax.random as jr

    from jaxsnn import Record, init_state, simulate

    network = _w1_network()
    state = init_state(network)
    n = network.n_neurons

    def trial(rate, key):
        _, rec = simulate(
            network, state, W1_STEPS, dt_ms=DT_MS, key=key, inputs={"in": rate},
            record=Record(counts=True),
        )  # fmt: skip
        return rec.counts["E"].sum() + rec.counts["I"].sum()

    run = jax.jit(jax.vmap(trial))
    rates = jnp.asarray(_w1_rates(batch))
    compile_s, run_s, counts = _time(lambda r: run(rates, jr.split(jr.key(r), batch)), repeats)
    rate = float(jnp.sum(counts)) / (n * batch * W1_STEPS * DT_MS * 1e-3)
    return _record(
        workload,
        tool,
        mode,
        compile_s,
        run_s,
        rate,
        batch,
        repeats,
        n_steps=W1_STEPS,
        n_neurons=n,
        events=_w1_events(network, rate, batch, W1_STEPS),
        propagation=type(network.projections[0].propagation).__name__,
    )


def w1_jax_dense(batch: int, steps: int, repeats: int, mode: str) -> dict:
    import jax.numpy as jnp
    import jax.random as jr
    from jax_dense import w1_dense_fn

    network = _w1_network()
    w = jnp.asarray(_w1_dense_matrix(network))
    rates = jnp.asarray(_w1_rates(batch))
    fn = w1_dense_fn(steps)
    compile_s, run_s, counts = _time(lambda r: fn(w, rates, jr.split(jr.key(r), batch)), repeats)
    rate = float(jnp.sum(counts)) / (w.shape[0] * batch * steps * DT_MS * 1e-3)
    note = "" if steps == W1_STEPS else f"run_s extrapolated from {steps} of {W1_STEPS} steps"
    run_s *= W1_STEPS / steps
    _CPU["last"] = _CPU["last"] * W1_STEPS / steps
    return _record("W1", "jax-dense", mode, compile_s, run_s, rate, batch, repeats, note=note)


def w1_numpy(batch: int, steps: int, mode: str) -> dict:
    from numpy_reference import w1_numpy as sim

    network = _w1_network()
    w = _w1_dense_matrix(network)
    t0, c0 = time.perf_counter(), _cpu_s()
    counts = sim(w, _w1_rates(batch), steps)
    run_s = (time.perf_counter() - t0) * W1_STEPS / steps
    _CPU["last"] = (_cpu_s() - c0) * W1_STEPS / steps
    rate = counts.sum() / (w.shape[0] * batch * steps * DT_MS * 1e-3)
    note = "" if steps == W1_STEPS else f"run_s extrapolated from {steps} of {W1_STEPS} steps"
    return _record("W1", "numpy", mode, None, run_s, rate, batch, 1, note=note)


# ---------------------------------------------------------------- W2 / W3 EI-COBA


def _w2(n: int):
    import jax.random as jr

    from jaxsnn.models import build_ei_coba, ei_coba_state

    network = build_ei_coba(jr.key(0), n)
    return network, ei_coba_state(network, jr.key(1))


def _pairs(network, pre: str):
    """(pre, post) index pairs (global post index) of the projections from `pre`."""
    out_pre, out_post = [], []
    for proj in network.projections:
        if proj.pre != pre:
            continue
        t = np.asarray(proj.targets)
        rows = np.broadcast_to(np.arange(proj.n_pre)[:, None], t.shape)
        keep = t < proj.n_post
        out_pre.append(rows[keep])
        out_post.append(t[keep] + network.slice(proj.post).start)
    return np.concatenate(out_pre), np.concatenate(out_post)


def w2_jaxsnn(
    n: int, steps: int, repeats: int, workload: str, mode: str, tool: str = "jaxsnn"
) -> dict:
    import jax

    from jaxsnn import Record, simulate

    network, state = _w2(n)
    record = Record(counts=True)
    run = jax.jit(lambda st: simulate(network, st, steps, dt_ms=DT_MS, record=record)[1].counts)
    compile_s, run_s, counts = _time(lambda r: run(state), repeats)
    total = sum(float(c.sum()) for c in counts.values())
    bio_s = steps * DT_MS * 1e-3
    rate = total / (n * bio_s)
    n_syn = sum(p.n_synapses for p in network.projections)
    events = int(total * n_syn / n)
    return _record(
        workload,
        tool,
        mode,
        compile_s,
        run_s,
        rate,
        1,
        repeats,
        n_steps=steps,
        n_neurons=n,
        n_synapses=n_syn,
        events=events,
        run_s_per_bio_s=round(run_s / bio_s, 5),
        ns_per_event=round(run_s / max(events, 1) * 1e9, 3),
        ns_per_neuron_step=round(run_s / (n * steps) * 1e9, 4),
    )


def _w2_dense_weights(network) -> np.ndarray:
    n = network.n_neurons
    w = np.zeros((n, n), np.float32)
    for proj in network.projections:
        w[network.slice(proj.pre), network.slice(proj.post)] = np.asarray(proj.dense_weights())
    return w


def w2_jax_dense(steps: int, repeats: int, mode: str) -> dict:
    import jax.numpy as jnp
    from jax_dense import w2_dense_fn

    network, state = _w2(4000)
    w = jnp.asarray(_w2_dense_weights(network))
    n_exc = network.population("E").n
    fn = w2_dense_fn(steps, n_exc)
    compile_s, run_s, counts = _time(lambda r: fn(w, state.v), repeats)
    rate = float(counts.sum()) / (4000 * steps * DT_MS * 1e-3)
    scale = W2_STEPS / steps
    _CPU["last"] = _CPU["last"] * scale
    note = "" if steps == W2_STEPS else f"run_s extrapolated from {steps} of {W2_STEPS} steps"
    return _record("W2", "jax-dense", mode, compile_s, run_s * scale, rate, 1, repeats, note=note)


def w2_numpy(steps: int, mode: str) -> dict:
    from numpy_reference import w2_numpy as sim

    network, state = _w2(4000)
    w = _w2_dense_weights(network)
    n_exc = network.population("E").n
    t0, c0 = time.perf_counter(), _cpu_s()
    counts = sim(w[:n_exc], w[n_exc:], np.asarray(state.v), steps)
    run_s = (time.perf_counter() - t0) * W2_STEPS / steps
    _CPU["last"] = (_cpu_s() - c0) * W2_STEPS / steps
    rate = counts.sum() / (4000 * steps * DT_MS * 1e-3)
    note = "" if steps == W2_STEPS else f"run_s extrapolated from {steps} of {W2_STEPS} steps"
    return _record("W2", "numpy", mode, None, run_s, rate, 1, 1, note=note)


def _w2_arrays(network, state, steps: int) -> dict:
    """W2's exact synapses and initial potentials, as the peers' scripts read them."""
    pre_e, post_e = _pairs(network, "E")
    pre_i, post_i = _pairs(network, "I")
    return dict(
        pre_exc=pre_e,
        post_exc=post_e,
        pre_inh=pre_i,
        post_inh=post_i,
        v0_mv=np.asarray(state.v, np.float64),
        n_exc=network.population("E").n,
        n=network.n_neurons,
        steps=steps,
    )


def _w2_npz(folder: str) -> str:
    """Write W2's arrays for a peer (brian2_w2.py, brainpy_w2.py, brainstate_w2.py) and
    return the path."""
    path = os.path.join(folder, "w2.npz")
    np.savez(path, **_w2_arrays(*_w2(4000), W2_STEPS))
    return path


def _w2_peer(tool: str, python: str | None, script: str, repeats: int, mode: str, note) -> dict:
    """Run a peer's W2 script with its own environment's Python on W2's exact synapses;
    `note(output)` describes the run. A missing peer gives a "skipped" record."""
    name = {"brian2": "Brian2", "brainpy": "BrainPy", "brainstate": "brainstate"}[tool]
    if not python or not os.path.exists(python):
        note = f"skipped: no {name} Python at {python!r} (see README.md to install)"
        return _record("W2", tool, mode, None, None, None, 1, 0, note=note)
    with tempfile.TemporaryDirectory() as tmp:
        path = _w2_npz(tmp)
        script = os.path.join(os.path.dirname(__file__), script)
        proc = subprocess.run(
            [python, script, path, str(repeats)], capture_output=True, text=True, timeout=900
        )
    if proc.returncode:
        tail = proc.stderr.strip().splitlines()[-3:]
        return _record("W2", tool, mode, None, None, None, 1, 0, note=f"failed: {tail}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return _record(
        "W2",
        tool,
        mode,
        out.get("compile_s", out.get("build_s")),
        out["run_s"],
        out["rate_hz"],
        1,
        repeats,
        note=note(out),
        child_peak_mem_mb=round(out["peak_mem_mb"], 1),
        cpu_s=out.get("cpu_s"),
    )


def w2_brian2(python: str | None, repeats: int, mode: str) -> dict:
    return _w2_peer(
        "brian2",
        python,
        "brian2_w2.py",
        repeats,
        mode,
        lambda out: (
            f"Brian2 {out['version']} cpp_standalone, 1 thread; compile_s = code "
            "generation + C++ build + first run; run_s = re-running the built binary"
        ),
    )


def brainpy_w2(python: str | None, repeats: int, mode: str) -> dict:
    return _w2_peer(
        "brainpy",
        python,
        "brainpy_w2.py",
        repeats,
        mode,
        lambda out: (
            f"BrainPy {out['version']} on CPU, jit: {out['method']}; compile_s = "
            "first call minus a warm call"
        ),
    )


def brainstate_w2(python: str | None, repeats: int, mode: str) -> dict:
    return _w2_peer(
        "brainstate",
        python,
        "brainstate_w2.py",
        repeats,
        mode,
        lambda out: (
            f"{out['version']} on CPU, jit: {out['method']}; compile_s = first call minus"
            " a warm call"
        ),
    )


# ---------------------------------------------------------------- W2-sweep

SWEEP_N = 16
SWEEP_STEPS_QUICK = 500


def _sweep_values(mode: str) -> tuple[np.ndarray, np.ndarray]:
    """(I_ext in mV, scale of the excitatory weights) of each of the 16 networks: the
    currents evenly spaced over 18-22 mV (BENCHMARKS.md), or at W2's 20 mV with the
    E weights scaled by 0.9-1.1 (rates stay in W2's asynchronous regime)."""
    if mode == "current":
        return np.linspace(18.0, 22.0, SWEEP_N), np.ones(SWEEP_N)
    return np.full(SWEEP_N, 20.0), np.linspace(0.9, 1.1, SWEEP_N)


def _sweep_weights(network, scales: np.ndarray) -> list[np.ndarray]:
    """Per projection, the batched weights (networks, *weights.shape): one sparsity
    pattern, the excitatory weights scaled per network."""
    out = []
    for proj in network.projections:
        w = np.asarray(proj.weights)
        s = scales if proj.pre == "E" else np.ones_like(scales)
        out.append((s[:, None, None] * w[None]).astype(w.dtype))
    return out


def _pair_weights(network, pre: str, weights: list[np.ndarray]) -> np.ndarray:
    """The batched weights of the projections from `pre`, (networks, synapses) in the
    order of `_pairs(network, pre)`."""
    out = []
    for proj, w in zip(network.projections, weights, strict=True):
        if proj.pre != pre:
            continue
        keep = np.asarray(proj.targets) < proj.n_post
        out.append(w[:, keep])
    return np.concatenate(out, axis=1)


def w2_sweep_jaxsnn(mode: str, steps: int, repeats: int) -> dict:
    """The 16 networks as one vmapped call: connectivity and initial state shared; the
    current a per-trial `inputs` constant, or each projection's weights a batched array."""
    import equinox as eqx
    import jax
    import jax.numpy as jnp

    from jaxsnn import Record, simulate

    network, state = _w2(4000)
    currents, scales = _sweep_values(mode)
    record = Record(counts=True)

    def spikes(net, i_ext):
        inputs = {"ext_E": i_ext, "ext_I": i_ext}
        rec = simulate(net, state, steps, dt_ms=DT_MS, inputs=inputs, record=record)[1]
        return sum(c.sum() for c in rec.counts.values())

    if mode == "current":
        run = jax.jit(jax.vmap(lambda i: spikes(network, i)))
        args = (jnp.asarray(currents, jnp.float32),)
    else:

        def with_weights(ws, i_ext):
            projs = [p.with_weights(w) for p, w in zip(network.projections, ws, strict=True)]
            net = eqx.tree_at(lambda n: n.projections, network, tuple(projs))
            return spikes(net, i_ext)

        run = jax.jit(jax.vmap(with_weights))
        ws = [jnp.asarray(w) for w in _sweep_weights(network, scales)]
        args = (ws, jnp.asarray(currents, jnp.float32))
    compile_s, run_s, counts = _time(lambda r: run(*args), repeats)
    bio_s = steps * DT_MS * 1e-3
    rates = np.asarray(counts, float) / (network.n_neurons * bio_s)
    return _record(
        "W2-sweep",
        "jaxsnn",
        mode,
        compile_s,
        run_s,
        rates.mean(),
        SWEEP_N,
        repeats,
        note=f"one jit(vmap) call for the {SWEEP_N} networks"
        + (
            ""
            if mode == "current"
            else "; batched weights: the native event kernel reads each network's own "
            "weights in the same call"
        ),
        n_steps=steps,
        n_neurons=network.n_neurons,
        i_ext_mv=[round(float(x), 4) for x in currents],
        w_exc_scale=[round(float(x), 4) for x in scales],
        rates_hz=[round(float(x), 3) for x in rates],
    )


def w2_sweep_brian2(python: str | None, steps: int) -> list[dict]:
    """Brian2 built once, then both sweeps' networks one after another and in 2
    processes: per sweep two records (`processes` 1 and 2), the build as `compile_s`."""
    modes = ("current", "weights")
    if not python or not os.path.exists(python):
        note = f"skipped: no Brian2 Python at {python!r} (see README.md to install)"
        return [
            _record("W2-sweep", "brian2", m, None, None, None, SWEEP_N, 0, note=note) for m in modes
        ]
    network, state = _w2(4000)
    arrays = _w2_arrays(network, state, steps) | dict(sweeps=np.array(modes))
    for mode in modes:
        currents, scales = _sweep_values(mode)
        arrays[f"{mode}_i_ext_mv"] = currents
        if mode == "weights":
            ws = _sweep_weights(network, scales)
            arrays[f"{mode}_w_exc"] = _pair_weights(network, "E", ws)
            arrays[f"{mode}_w_inh"] = _pair_weights(network, "I", ws)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "w2_sweep.npz")
        np.savez(path, **arrays)
        script = os.path.join(os.path.dirname(__file__), "brian2_w2_sweep.py")
        proc = subprocess.run([python, script, path], capture_output=True, text=True, timeout=900)
    if proc.returncode:
        note = f"failed: {proc.stderr.strip().splitlines()[-3:]}"
        return [
            _record("W2-sweep", "brian2", m, None, None, None, SWEEP_N, 0, note=note) for m in modes
        ]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    neuron_s = network.n_neurons * steps * DT_MS * 1e-3
    records = []
    for mode in modes:
        res = out["sweeps"][mode]
        currents, scales = _sweep_values(mode)
        for processes, run_s, counts, cpu in (
            (1, res["seq_s"], res["counts"], res["seq_cpu_s"]),
            (2, res["par_s"], res["par_counts"], None),
        ):
            rates = np.asarray(counts, float) / neuron_s
            how = "one after another" if processes == 1 else "in 2 processes"
            records.append(
                _record(
                    "W2-sweep",
                    "brian2",
                    mode,
                    out["build_s"],
                    run_s,
                    rates.mean(),
                    SWEEP_N,
                    1,
                    note=(
                        f"Brian2 {out['version']} cpp_standalone, 1 thread per process; "
                        f"built once, the {SWEEP_N} networks {how} via "
                        "device.run(run_args=...); compile_s = code generation + C++ build"
                    ),
                    cpu_s=cpu,
                    processes=processes,
                    n_steps=steps,
                    i_ext_mv=[round(float(x), 4) for x in currents],
                    w_exc_scale=[round(float(x), 4) for x in scales],
                    rates_hz=[round(float(x), 3) for x in rates],
                    run_s_each=[round(x, 4) for x in res["runs"]] if processes == 1 else None,
                    child_peak_mem_mb=round(out["peak_mem_mb"], 1),
                )
            )
    return records


def run_case(
    name: str,
    quick: bool,
    brian2_python: str | None,
    brainpy_python: str | None = None,
    snnpy_python: str | None = None,
) -> list[dict]:
    """Dispatch one case by name (see `case_names`)."""
    reps = 3 if quick else 5
    w1_batch = {"single": 1, "vmap256": 256}
    if name.startswith("W1:"):
        _, tool, mode = name.split(":")
        batch = w1_batch[mode]
        if tool.startswith("jaxsnn"):
            return [w1_jaxsnn(batch, reps, mode, tool=tool)]
        if tool == "jax-dense":
            steps = 200 if quick and batch > 1 else W1_STEPS
            return [w1_jax_dense(batch, steps, 1 if batch > 1 else reps, mode)]
        steps = W1_STEPS if (not quick or batch == 1) else 100
        return [w1_numpy(batch, steps, mode)]
    if name.startswith("W2:"):
        tool = name.split(":")[1]
        if tool.startswith("jaxsnn"):
            return [w2_jaxsnn(4000, W2_STEPS, reps, "W2", "N=4000", tool=tool)]
        if tool == "jax-dense":
            # dense cost does not depend on activity: time a fifth of the run (full mode)
            return [w2_jax_dense(1000 if quick else 2000, 1, "N=4000")]
        if tool == "numpy":
            return [w2_numpy(2000 if quick else W2_STEPS, "N=4000")]
        if tool == "brian2":
            return [w2_brian2(brian2_python, 3, "N=4000")]
        if tool == "brainstate":
            # run.py passes no interpreter for this peer: peers.py finds it (or
            # JAXSNN_BRAINSTATE_PYTHON)
            from peers import interpreter

            python = interpreter("brainstate")
            return [brainstate_w2(python and str(python), 3, "N=4000")]
        return [brainpy_w2(brainpy_python, 3, "N=4000")]
    if name.startswith("W2-sweep:"):
        tool = name.split(":")[1]
        steps = SWEEP_STEPS_QUICK if quick else W2_STEPS
        if tool == "jaxsnn":
            mode = name.split(":")[2]
            # batched weights take the full product over every synapse: timed once
            return [w2_sweep_jaxsnn(mode, steps, reps if mode == "current" else 1)]
        return w2_sweep_brian2(brian2_python, steps)
    if name.startswith("W3:N="):
        n = int(name.split("=")[1])
        steps = 1000 if quick or n > 40_000 else W2_STEPS
        return [w2_jaxsnn(n, steps, 1 if n > 40_000 else reps, "W3", f"N={n}")]
    if name.startswith("W3:batch"):
        batch = int(name[len("W3:batch") :])
        return [w1_jaxsnn(batch, 1 if batch >= 256 else reps, f"W1 batch{batch}", "W3")]
    if name.startswith("R1:"):
        sys.path.insert(0, os.path.dirname(__file__))
        import reservoir_r1

        _, tool, mode = name.split(":")
        if tool == "jaxsnn":
            return [reservoir_r1.jaxsnn_case(mode, reps, _time, _record)]
        return [reservoir_r1.snnpy_case(mode, snnpy_python, _record)]
    if name == "T1":
        sys.path.insert(0, os.path.dirname(__file__))
        import t1_training

        return list(t1_training.run(quick))
    raise ValueError(f"unknown case {name!r}")


def case_names(only: set[str], quick: bool, has_t1: bool) -> list[str]:
    """The cases of the selected workloads, in run order."""
    names = []
    if "W1" in only:
        names += ["W1:jaxsnn:single", "W1:jaxsnn-1thread:single"]
        names += ["W1:jax-dense:single", "W1:numpy:single"]
        names += ["W1:jaxsnn:vmap256", "W1:jax-dense:vmap256", "W1:numpy:vmap256"]
    if "W2" in only:
        names += [
            "W2:jaxsnn",
            "W2:jaxsnn-1thread",
            "W2:brian2",
            "W2:jax-dense",
            "W2:numpy",
            "W2:brainpy",
            "W2:brainstate",
        ]
    if "W2-sweep" in only:
        names += ["W2-sweep:jaxsnn:current", "W2-sweep:jaxsnn:weights", "W2-sweep:brian2"]
    if "W3" in only:
        sizes = [4000, 40_000] if quick else [4000, 40_000, 400_000]
        names += [f"W3:N={n}" for n in sizes]
        batches = [1, 16] if quick else [1, 16, 256, 1024]
        names += [f"W3:batch{b}" for b in batches]
    if "R1" in only:
        names += ["R1:jaxsnn:single", "R1:snnpy:single", "R1:jaxsnn:batch64", "R1:snnpy:batch64"]
    if "T1" in only and has_t1:
        names.append("T1")
    return names

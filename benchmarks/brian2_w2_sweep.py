"""W2-sweep in Brian2's C++ standalone mode (one thread): W2 built once, then run once per
network with that network's parameters given to the compiled program (`device.run`'s
`run_args`, Brian2 >= 2.7: values of state variables set on the command line, so nothing
is regenerated or recompiled). Run with the Brian2 environment's Python (see README.md):

    benchmarks/.venvs/brian2/bin/python benchmarks/brian2_w2_sweep.py SWEEP.npz

SWEEP.npz holds W2's exact synapses and initial potentials (as for brian2_w2.py), the
names of the sweeps (`sweeps`) and per sweep NAME: NAME_i_ext_mv (one current per
network) and, where its networks differ in weights, NAME_w_exc and NAME_w_inh (networks x
synapses, in the order of pre_exc/post_exc and pre_inh/post_inh). Every sweep runs the
same build. Prints one JSON line: build_s (code generation + C++ compile, no run), per
sweep its networks one after another (seq_s, per-run wall times, spike counts) and in 2
processes (par_s, spike counts), and the version.
"""

import atexit
import json
import multiprocessing
import resource
import shutil
import sys
import tempfile
import time

import numpy as np

_SWEEP = {}


def _child_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run_one(k: int, results: str) -> int:
    """Run the built program for network k, its results in their own folder (parallel
    runs must not share one), and return its spike count."""
    b2, device = _SWEEP["b2"], _SWEEP["device"]
    args = {_SWEEP["group"].I: float(_SWEEP["i_ext_mv"][k]) * b2.mV}
    if _SWEEP["w_exc"] is not None:
        # Brian2 names the file it writes from a hash of the array's buffer
        args[_SWEEP["exc"].w] = np.ascontiguousarray(_SWEEP["w_exc"][k])
        args[_SWEEP["inh"].w] = np.ascontiguousarray(_SWEEP["w_inh"][k])
    device.run(
        directory=_SWEEP["directory"], results_directory=results, with_output=False, run_args=args
    )
    return int(_SWEEP["spikes"].num_spikes)


def _run_parallel(k: int) -> int:
    return _run_one(k, f"results_{k}")


def _sweep(n_nets: int) -> dict:
    """The networks of the sweep in _SWEEP one after another, then in 2 processes."""
    runs, counts = [], []
    c0 = _child_cpu_s()
    t_seq = time.perf_counter()
    for k in range(n_nets):
        t0 = time.perf_counter()
        counts.append(_run_one(k, "results"))
        runs.append(time.perf_counter() - t0)
    seq_s = time.perf_counter() - t_seq
    seq_cpu = _child_cpu_s() - c0
    # fork: each worker inherits the built device and the sweep; the pool starts before
    # the clock
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pool.map(int, [0, 1])
        t0 = time.perf_counter()
        par_counts = pool.map(_run_parallel, range(n_nets), chunksize=1)
        par_s = time.perf_counter() - t0
    return {
        "seq_s": seq_s,
        "seq_cpu_s": seq_cpu,
        "runs": runs,
        "counts": counts,
        "par_s": par_s,
        "par_counts": par_counts,
    }


def main() -> None:
    data = np.load(sys.argv[1])
    import brian2 as b2

    b2.prefs.devices.cpp_standalone.openmp_threads = 0
    directory = tempfile.mkdtemp(prefix="brian2_w2_sweep_")
    # pool workers leave through os._exit, so only this process removes the build
    atexit.register(shutil.rmtree, directory, True)
    b2.set_device("cpp_standalone", directory=directory, build_on_run=False)
    b2.defaultclock.dt = 0.1 * b2.ms
    n, n_exc, steps = int(data["n"]), int(data["n_exc"]), int(data["steps"])
    # I is a shared constant and w a synaptic one so that run_args can set them per run
    eqs = """
    dv/dt = ((El - v) + ge*(Ee - v) + gi*(Ei - v) + I) / taum : volt (unless refractory)
    dge/dt = -ge / taue : 1
    dgi/dt = -gi / taui : 1
    I : volt (shared, constant)
    """
    ns = {
        "El": -60 * b2.mV,
        "Ee": 0 * b2.mV,
        "Ei": -80 * b2.mV,
        "taum": 20 * b2.ms,
        "taue": 5 * b2.ms,
        "taui": 10 * b2.ms,
    }
    group = b2.NeuronGroup(
        n,
        eqs,
        threshold="v > -50*mV",
        reset="v = -60*mV",
        refractory=5 * b2.ms,
        method="euler",
        namespace=ns,
    )
    group.v = data["v0_mv"] * b2.mV
    group.I = 20 * b2.mV
    exc = b2.Synapses(group[:n_exc], group, "w : 1 (constant)", on_pre="ge += w")
    exc.connect(i=data["pre_exc"], j=data["post_exc"])
    exc.w = 0.6
    inh = b2.Synapses(group[n_exc:], group, "w : 1 (constant)", on_pre="gi += w")
    inh.connect(i=data["pre_inh"], j=data["post_inh"])
    inh.w = 6.7
    spikes = b2.SpikeMonitor(group, record=False)
    b2.run(steps * b2.defaultclock.dt)
    t0 = time.perf_counter()
    b2.device.build(directory=directory, compile=True, run=False, debug=False)
    build_s = time.perf_counter() - t0

    _SWEEP.update(
        b2=b2, device=b2.device, directory=directory, group=group, exc=exc, inh=inh,
        spikes=spikes,
    )  # fmt: skip
    sweeps = {}
    for name in [str(x) for x in data["sweeps"]]:
        varies_w = f"{name}_w_exc" in data.files
        _SWEEP.update(
            i_ext_mv=np.asarray(data[f"{name}_i_ext_mv"], float),
            w_exc=np.asarray(data[f"{name}_w_exc"], float) if varies_w else None,
            w_inh=np.asarray(data[f"{name}_w_inh"], float) if varies_w else None,
        )
        sweeps[name] = _sweep(len(_SWEEP["i_ext_mv"]))

    peak = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    print(
        json.dumps(
            {
                "build_s": build_s,
                "sweeps": sweeps,
                "bio_s": steps * 1e-4,
                "n": n,
                "peak_mem_mb": peak / 1024,
                "version": b2.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()

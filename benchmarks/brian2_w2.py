"""W2 in Brian2's C++ standalone mode (one thread). Run with the Brian2 environment's
Python (see README.md), not imported by the rest of the suite:

    benchmarks/.venvs/brian2/bin/python benchmarks/brian2_w2.py CONNECTIVITY.npz REPEATS

CONNECTIVITY.npz holds the exact synapses and initial potentials jaxsnn simulates
(arrays pre_exc, post_exc, pre_inh, post_inh, v0_mv, n_exc, n, steps). Prints one JSON
line: build_s (code generation + C++ compile + first run), run_s (median wall time of
re-running the compiled binary), rate_hz, brian2 version.
"""

import json
import os
import resource
import statistics
import sys
import tempfile
import time

import numpy as np


def _child_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    path, repeats = sys.argv[1], int(sys.argv[2])
    data = np.load(path)
    import brian2 as b2

    b2.prefs.devices.cpp_standalone.openmp_threads = 0
    directory = tempfile.mkdtemp(prefix="brian2_w2_")
    b2.set_device("cpp_standalone", directory=directory, build_on_run=False)
    b2.defaultclock.dt = 0.1 * b2.ms
    n, n_exc = int(data["n"]), int(data["n_exc"])
    eqs = """
    dv/dt = ((El - v) + ge*(Ee - v) + gi*(Ei - v) + I) / taum : volt (unless refractory)
    dge/dt = -ge / taue : 1
    dgi/dt = -gi / taui : 1
    """
    ns = {
        "El": -60 * b2.mV,
        "Ee": 0 * b2.mV,
        "Ei": -80 * b2.mV,
        "I": 20 * b2.mV,
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
    exc = b2.Synapses(group[:n_exc], group, on_pre="ge += 0.6")
    exc.connect(i=data["pre_exc"], j=data["post_exc"])
    inh = b2.Synapses(group[n_exc:], group, on_pre="gi += 6.7")
    inh.connect(i=data["pre_inh"], j=data["post_inh"])
    spikes = b2.SpikeMonitor(group, record=False)
    b2.run(int(data["steps"]) * b2.defaultclock.dt)
    t0 = time.perf_counter()
    b2.device.build(directory=directory, compile=True, run=True, debug=False)
    build_s = time.perf_counter() - t0
    count = int(spikes.num_spikes)
    runs, cpus = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), _child_cpu_s()
        b2.device.run(directory=directory, with_output=False, run_args=[])
        runs.append(time.perf_counter() - t0)
        cpus.append(_child_cpu_s() - c0)
    bio_s = int(data["steps"]) * 1e-4
    peak = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    print(
        json.dumps(
            {
                "build_s": build_s,
                "run_s": statistics.median(runs),
                "cpu_s": statistics.median(cpus),
                "runs": runs,
                "rate_hz": count / n / bio_s,
                "peak_mem_mb": peak / 1024,
                "version": b2.__version__,
                "directory": os.path.basename(directory),
            }
        )
    )


if __name__ == "__main__":
    main()

"""snn-reservoir-py's side of the reservoir comparisons; runs in snnpy's own environment.

    python -m venv benchmarks/.venvs/snnpy
    benchmarks/.venvs/snnpy/bin/pip install snn-reservoir-py==2.0.0

    benchmarks/.venvs/snnpy/bin/python benchmarks/snnpy_reservoir.py reference OUT.npz FILES_DIR
    benchmarks/.venvs/snnpy/bin/python benchmarks/snnpy_reservoir.py time IN.npz OUT.json

`reference`: snnpy builds small reservoirs (its own generators, NumPy seeded), runs
them on sparse random inputs for 1000 steps with STDP off and with each STDP variant
(multiplicative / additive, all pairs / nearest neighbour, lock_A_minus), and stores
what jaxsnn must reproduce: the adjacency (CSR arrays), initial potentials, output
neurons, inputs, all spikes (bit-packed), final weights and potentials, the mean-field
threshold, and the weights after `prune(0.2)` and `rescale_synaptic_weights_to_mean`.
It also writes one reservoir with snnpy's own `save_*` methods into FILES_DIR, to test
that jaxsnn reads snnpy's files. tests/data/snnpy_reservoir.npz and
tests/data/snnpy_files/ were made this way (tests/test_reservoir_snnpy.py).

`time`: runs the reservoir of IN.npz (adjacency, potentials, outputs, parameters, a
batch of inputs) once per input, `reset()` between, and writes the wall times
(benchmarks/reservoir_snnpy.py).
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np
from scipy.sparse import csr_matrix
from snnpy.snn import SNN, SimulationParams, STDPParams

N_STEPS = 1000
CASES = {
    # name: (STDP keyword arguments or None, random-uniform topology)
    "off": (None, False),
    "er_off": (None, True),
    "multiplicative": ({"weight_update_rule": "multiplicative"}, False),
    "additive": ({"weight_update_rule": "additive"}, False),
    "multiplicative_nn": (
        {"weight_update_rule": "multiplicative", "nearest_neighbor": True},
        False,
    ),
    "additive_nn": ({"weight_update_rule": "additive", "nearest_neighbor": True}, False),
    "locked": ({"weight_update_rule": "multiplicative", "lock_A_minus": True}, False),
}
# Time constants of several steps (snnpy's defaults, 0.02 and 0.04 steps, would make
# every trace vanish within a step and STDP a no-op); W_max near the weights so that
# the bounds matter.
STDP_COMMON = {"tau_plus": 4.0, "tau_minus": 8.0, "A_plus": 4e-3, "W_max": 0.3}


def _params(inputs, random_uniform: bool, **extra):
    topo = (
        {"is_random_uniform": True, "connection_prob": 0.045}
        if random_uniform
        else {"small_world_graph_k": 30, "small_world_graph_p": 0.2}
    )
    return SimulationParams(
        num_neurons=300,
        num_output_neurons=30,
        input_spike_times=inputs,
        leak_coefficient=0.05,
        refractory_period=2,
        membrane_threshold=1.0,
        mean_weight=0.1,
        weight_variance=1.0,  # a relative std: about 16 % of the weights are negative
        current_amplitude=1.0,
        **topo,
        **extra,
    )


def _csr(prefix: str, m) -> dict:
    m = csr_matrix(m)
    m.sort_indices()
    return {f"{prefix}_data": m.data, f"{prefix}_indices": m.indices, f"{prefix}_indptr": m.indptr}


def reference(out_path: str, files_dir: str) -> None:
    rng = np.random.default_rng(2025)
    data: dict = {"n_steps": N_STEPS}
    for i, (name, (stdp_kw, er)) in enumerate(CASES.items()):
        np.random.seed(100 + i)  # noqa: NPY002 - snnpy draws from the global generator
        # 30 input neurons firing in 10 % of the steps while the input is on (steps
        # 0-299 and 600-799); activity dies out in between, so some steps see no spike
        # at all, which matters for snnpy's STDP (traces decay only in steps with one).
        on = np.zeros(N_STEPS, bool)
        on[:300] = on[600:800] = True
        inputs = ((rng.random((30, N_STEPS)) < 0.1) & on).astype(np.uint8)
        stdp = None
        if stdp_kw is not None:
            kw = dict(STDP_COMMON, **stdp_kw)
            if not kw.get("lock_A_minus"):
                kw["A_minus"] = 5e-3
            stdp = STDPParams(**kw)
        net = SNN(_params(inputs, er), stdp)
        data |= _csr(f"{name}_w0", net.get_topology())
        data[f"{name}_v0"] = net.get_membrane_potentials()
        data[f"{name}_outputs_idx"] = np.asarray(net.get_output_neurons())
        data[f"{name}_inputs"] = inputs
        data[f"{name}_threshold"] = net.compute_global_scalar_threshold()
        out = net.simulate()
        data[f"{name}_spikes"] = np.packbits(net.spike_matrix.astype(bool), axis=1)
        data[f"{name}_n_neurons"] = net.num_neurons
        assert np.array_equal(out, net.spike_matrix[:, net.output_neurons])
        data |= _csr(f"{name}_w1", net.get_topology())
        data[f"{name}_v1"] = net.get_membrane_potentials()
        if name == "off":
            net.prune(0.2)
            data |= _csr("off_pruned", net.get_topology())
            net.rescale_synaptic_weights_to_mean(0.2)
            data |= _csr("off_rescaled", net.get_topology())
        print(
            f"{name}: {int(net.spike_matrix.sum())} spikes, "
            f"{int((net.spike_matrix.sum(1) == 0).sum())} silent steps"
        )
    np.savez_compressed(out_path, **data)

    np.random.seed(7)  # noqa: NPY002 - snnpy draws from the global generator
    small = SNN(_params((np.random.rand(4, 50) < 0.2).astype(np.uint8), False))  # noqa: NPY002
    os.makedirs(files_dir, exist_ok=True)
    small.save_topology(os.path.join(files_dir, "snn_matrices.npz"))
    small.save_membrane_potentials(os.path.join(files_dir, "membrane_potentials.npy"))
    small.save_output_neurons(os.path.join(files_dir, "output_neurons.npy"))
    print("wrote", out_path, "and", files_dir)


def timing(in_path: str, out_path: str) -> None:
    d = np.load(in_path)
    n = int(d["n_neurons"])
    w = csr_matrix((d["w_data"], d["w_indices"], d["w_indptr"]), shape=(n, n))
    inputs = d["inputs"]  # (B, n_in, T)
    params = SimulationParams(
        adjacency_matrix=w,
        output_neurons=d["output_neurons"].astype(np.int64),
        membrane_potentials=d["v0"].astype(np.float32),
        input_spike_times=inputs[0],
        leak_coefficient=float(d["leak_coefficient"]),
        refractory_period=int(d["refractory_steps"]),
        membrane_threshold=float(d["threshold"]),
        current_amplitude=float(d["current_amplitude"]),
    )
    net = SNN(params)
    times, outputs = [], []
    for x in inputs:
        net.reset()
        net.set_input_spike_times(x)
        t0 = time.perf_counter()
        out = net.simulate()
        times.append(time.perf_counter() - t0)
        outputs.append(out.copy())
    np.save(out_path + ".outputs.npy", np.stack(outputs))
    with open(out_path, "w") as f:
        json.dump({"seconds": times}, f)


if __name__ == "__main__":
    if sys.argv[1] == "reference":
        reference(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "time":
        timing(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(__doc__)

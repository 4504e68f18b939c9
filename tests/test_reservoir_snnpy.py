"""jaxsnn.reservoir against snn-reservoir-py 2.0.0 itself.

tests/data/snnpy_reservoir.npz holds what snnpy computed (benchmarks/snnpy_reservoir.py
`reference`, run in snnpy's own environment): seven 300-neuron reservoirs built by
snnpy (small world and Erdős–Rényi), 1000 steps of input each, STDP off and in each
variant. jaxsnn is given the same adjacency, initial potentials, output neurons and
inputs and must give:

- the same spikes, every neuron and step (exact: both compute in float32 in the same
  order of operations, so a difference would be a modelling difference, not rounding);
- the same final weights to 8 float32 ulps of W_max (XLA may fuse a multiply-add that
  NumPy rounds twice; measured: at most 3 ulps);
- the same final potentials to 1e-5 (sums of the same float32 terms in another order);
- snnpy's mean-field threshold, pruning and rescaling.

The slow test reruns snnpy live when benchmarks/.venvs/snnpy exists.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.sparse import csr_matrix

import jaxsnn.reservoir as rs
from jaxsnn.propagation import Dense, Event, Scatter
from jaxsnn.reservoir import files, homeostasis

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "snnpy_reservoir.npz"
CASES = [
    "off",
    "er_off",
    "multiplicative",
    "additive",
    "multiplicative_nn",
    "additive_nn",
    "locked",
]
STDP_COMMON = {"tau_plus": 4.0, "tau_minus": 8.0, "A_plus": 4e-3, "W_max": 0.3}
STDP_CASES = {
    "multiplicative": {"weight_update_rule": "multiplicative", "A_minus": 5e-3},
    "additive": {"weight_update_rule": "additive", "A_minus": 5e-3},
    "multiplicative_nn": {
        "weight_update_rule": "multiplicative",
        "nearest_neighbor": True,
        "A_minus": 5e-3,
    },
    "additive_nn": {"weight_update_rule": "additive", "nearest_neighbor": True, "A_minus": 5e-3},
    "locked": {"weight_update_rule": "multiplicative", "lock_A_minus": True},
}
PARAMS = {
    "threshold": 1.0,
    "refractory_steps": 2,
    "leak_coefficient": 0.05,
    "current_amplitude": 1.0,
}


def _csr(d, prefix: str, n: int) -> csr_matrix:
    return csr_matrix(
        (d[f"{prefix}_data"], d[f"{prefix}_indices"], d[f"{prefix}_indptr"]), shape=(n, n)
    )


def _case(d, name: str, layout: str = "auto", propagation=None):
    n = int(d[f"{name}_n_neurons"])
    stdp = None
    if name in STDP_CASES:
        stdp = rs.stdp_from_snnpy(**STDP_COMMON, **STDP_CASES[name])
    res = rs.from_adjacency(
        _csr(d, f"{name}_w0", n),
        initial_potentials=d[f"{name}_v0"],
        output_neurons=d[f"{name}_outputs_idx"],
        stdp=stdp,
        layout=layout,
        propagation=Event() if propagation is None else propagation,
        **PARAMS,
    )
    spikes = np.unpackbits(d[f"{name}_spikes"], axis=1)[:, :n].astype(bool)
    return res, d[f"{name}_inputs"], spikes, n


@pytest.fixture(scope="module")
def ref():
    return dict(np.load(DATA))


def _assert_same_run(res, inputs, spikes, d, name, n):
    out = rs.run(res, inputs, record_all=True)
    got = np.asarray(out.spikes).astype(bool)
    assert got.shape == spikes.shape
    bad = np.argwhere(got != spikes)
    assert bad.size == 0, f"{name}: {len(bad)} differing spikes, first at (step, neuron) {bad[0]}"
    np.testing.assert_array_equal(np.asarray(out.outputs), got[:, np.asarray(res.output_neurons)])
    w1 = _csr(d, f"{name}_w1", n).toarray()
    ulp = np.spacing(np.float32(STDP_COMMON["W_max"]))
    np.testing.assert_allclose(np.asarray(out.reservoir.dense_weights()), w1, rtol=0, atol=8 * ulp)
    np.testing.assert_allclose(np.asarray(out.state.v), d[f"{name}_v1"], rtol=0, atol=1e-5)
    return out


# Event() (the default) on two cases, Scatter() (same sum, a third of the compile time)
# on the others; the slow live test runs Event() on all.
PROPAGATION = {"off": Event(), "multiplicative": Event()}


@pytest.mark.parametrize("name", CASES)
def test_same_spikes_weights_and_potentials_as_snnpy(ref, name):
    res, inputs, spikes, n = _case(ref, name, propagation=PROPAGATION.get(name, Scatter()))
    assert spikes.sum() > 1000, "the reference must exercise recurrent activity"
    out = _assert_same_run(res, inputs, spikes, ref, name, n)
    if name in STDP_CASES:  # STDP did change the weights, by more than the tolerance
        w0 = _csr(ref, f"{name}_w0", n).toarray()
        assert np.abs(np.asarray(out.reservoir.dense_weights()) - w0).max() > 1e-4


@pytest.mark.parametrize("name", ["off", "additive_nn"])
def test_dense_storage_gives_the_same_run(ref, name):
    res, inputs, spikes, n = _case(ref, name, layout="dense", propagation=Dense())
    _assert_same_run(res, inputs, spikes, ref, name, n)


def test_a_batch_equals_the_trials_run_one_by_one(ref):
    """vmap over inputs = a loop: spikes identical (each trial's own STDP weights too)."""
    res, inputs, _, _ = _case(ref, "additive", propagation=Scatter())
    other = np.roll(inputs, 137, axis=1)
    batch = rs.run(res, np.stack([inputs, other]))
    for i, x in enumerate([inputs, other]):
        one = rs.run(res, x)
        np.testing.assert_array_equal(np.asarray(batch.outputs[i]), np.asarray(one.outputs))
        np.testing.assert_array_equal(
            np.asarray(batch.reservoir.weights[i]), np.asarray(one.reservoir.weights)
        )


@pytest.mark.parametrize("layout", ["sparse", "dense"])
def test_a_batch_without_stdp_equals_snnpy_and_the_loop(ref, layout):
    """Without STDP a sparse reservoir runs its trials neuron-major (one batched product
    per step), a dense one through vmap: trial 0 must still be snnpy's run exactly."""
    prop = Scatter() if layout == "sparse" else Dense()
    res, inputs, spikes, n = _case(ref, "off", layout=layout, propagation=prop)
    other = np.roll(inputs, 211, axis=1)
    batch = rs.run(res, np.stack([inputs, other, inputs[::-1]]), record_all=True)
    np.testing.assert_array_equal(np.asarray(batch.spikes[0]).astype(bool), spikes)
    np.testing.assert_allclose(np.asarray(batch.state.v[0]), ref["off_v1"], rtol=0, atol=1e-5)
    for i, x in enumerate([other, inputs[::-1]], start=1):
        one = rs.run(res, x)
        np.testing.assert_array_equal(np.asarray(batch.outputs[i]), np.asarray(one.outputs))
    assert batch.reservoir.weights.shape == (3, *res.weights.shape)


def test_mean_field_threshold_prune_and_rescale_match_snnpy(ref):
    res, inputs, _, n = _case(ref, "off")
    theta = homeostasis.mean_field_threshold(res, inputs)
    assert float(theta) == pytest.approx(float(ref["off_threshold"]), rel=1e-6)
    applied = homeostasis.apply_mean_field_threshold(res, inputs)
    assert float(applied.threshold) == pytest.approx(float(ref["off_threshold"]), rel=1e-6)
    # snnpy pruned and rescaled the weights it had after its run (unchanged: no STDP)
    pruned = homeostasis.prune(res, 0.2)
    want = _csr(ref, "off_pruned", n)
    got = pruned.adjacency()
    assert got.nnz == want.nnz
    np.testing.assert_array_equal(got.indptr, want.indptr)
    np.testing.assert_array_equal(got.indices, want.indices)
    np.testing.assert_array_equal(got.data, want.data)
    rescaled = homeostasis.rescale_weights(pruned, 0.2)
    np.testing.assert_allclose(
        rescaled.adjacency().toarray(), _csr(ref, "off_rescaled", n).toarray(), rtol=1e-6
    )


def test_snnpy_files_load_without_a_network_and_round_trip(tmp_path):
    folder = ROOT / "tests" / "data" / "snnpy_files"
    w = files.load_topology(folder / "snn_matrices.npz")
    v = files.load_membrane_potentials(folder / "membrane_potentials.npy")
    out = files.load_output_neurons(folder / "output_neurons.npy")
    assert w.shape == (300, 300) and w.dtype == np.float32 and w.nnz > 0
    assert v.shape == (300,) and np.all((v >= 0) & (v <= 1.0))
    assert out.shape == (30,) and out.min() >= 4  # drawn among the non-input neurons
    res = files.load_reservoir(folder, **PARAMS)
    files.save_reservoir(tmp_path, res)
    again = files.load_reservoir(tmp_path, **PARAMS)
    for name in ("snn_matrices.npz", "membrane_potentials.npy", "output_neurons.npy"):
        assert (tmp_path / name).is_file()
    a, b = res.adjacency(), again.adjacency()
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(np.asarray(res.v_init), np.asarray(again.v_init))
    np.testing.assert_array_equal(np.asarray(res.output_neurons), np.asarray(again.output_neurons))
    np.testing.assert_array_equal(a.toarray(), w.toarray())


def test_stored_zeros_are_synapses_until_pruned():
    """snnpy counts every stored entry as a synapse (its in-degree uses getnnz)."""
    m = csr_matrix((np.array([0.5, 0.0, 0.25], np.float32), ([0, 1, 2], [1, 2, 0])), shape=(3, 3))
    res = rs.from_adjacency(
        m, output_neurons=[0], initial_potentials=np.zeros(3, np.float32), **PARAMS
    )
    assert int(jnp.sum(res.exists())) == 3
    assert res.adjacency().nnz == 3
    pruned = homeostasis.prune(res, 0.3)  # removes the weakest one, which is the zero
    assert pruned.adjacency().nnz == 2


@pytest.mark.slow
def test_against_snnpy_run_live(tmp_path):
    """Regenerate the reference with the installed snnpy and compare (new seeds are not
    needed: this checks that the stored data still is what snnpy computes)."""
    python = ROOT / "benchmarks" / ".venvs" / "snnpy" / "bin" / "python"
    if not python.exists():
        pytest.skip("snnpy's environment is not installed (see benchmarks/snnpy_reservoir.py)")
    out = tmp_path / "ref.npz"
    subprocess.run(
        [
            str(python),
            str(ROOT / "benchmarks" / "snnpy_reservoir.py"),
            "reference",
            str(out),
            str(tmp_path / "files"),
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    fresh = dict(np.load(out))
    for name in CASES:
        res, inputs, spikes, n = _case(fresh, name)
        _assert_same_run(res, inputs, spikes, fresh, name, n)
    assert sys.version_info >= (3, 10)

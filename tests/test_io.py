import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import jaxsnn as snn
from jaxsnn.io import atomic_write, write_json
from jaxsnn.models import build_decision_1k
from jaxsnn.saves import load, save


def _net(seed):
    return build_decision_1k(jr.key(seed), n_exc=40, n_inh=10, n_in=5)


def test_save_load_round_trip_restores_weights_and_state(tmp_path):
    net, other = _net(0), _net(1)
    state = snn.init_state(net, v0_mv=jnp.linspace(0.0, 0.9, 50))
    save(tmp_path / "net.eqx", net)
    save(tmp_path / "state.eqx", state)
    loaded = load(tmp_path / "net.eqx", other)
    for a, b in zip(net.projections, loaded.projections, strict=True):
        np.testing.assert_array_equal(a.weights, b.weights)
    np.testing.assert_array_equal(load(tmp_path / "state.eqx", snn.init_state(net)).v, state.v)


def test_load_rejects_wrong_structure_and_missing_file(tmp_path):
    save(tmp_path / "net.eqx", _net(0))
    bigger = build_decision_1k(jr.key(0), n_exc=80, n_inh=20, n_in=5)
    with pytest.raises(ValueError, match=r"shape \(40, \d+\) float32 in the file and \(80, \d+\)"):
        load(tmp_path / "net.eqx", bigger)
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.eqx", bigger)


def test_failed_write_keeps_previous_file(tmp_path):
    target = tmp_path / "summary.json"
    write_json(target, {"a": 1})

    def interrupted(f):
        f.write(b'{"a": 2, "trunc')
        raise KeyboardInterrupt  # the save is cut off half-way

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, interrupted)
    assert target.read_text().strip().startswith("{") and '"a": 1' in target.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]  # no temp file left


def test_a_save_loads_in_a_fresh_process_without_rebuilding(tmp_path):
    """`load(path)` alone rebuilds the network: the fresh process simulates it and gets
    the spikes of the original (same key)."""
    import subprocess
    import sys

    net = _net(0)
    save(tmp_path / "net.jaxsnn", net)
    _, rec = snn.simulate(
        net, snn.init_state(net), 200, dt_ms=0.1, key=jr.key(5), record=snn.Record(spikes=True)
    )
    np.save(tmp_path / "spikes.npy", np.asarray(rec.spikes["E"]))
    code = (
        "import sys, numpy as np, jax.random as jr, jaxsnn as snn\n"
        "net = snn.load(sys.argv[1])\n"
        "_, rec = snn.simulate(net, snn.init_state(net), 200, dt_ms=0.1, key=jr.key(5),"
        " record=snn.Record(spikes=True))\n"
        "assert np.array_equal(np.asarray(rec.spikes['E']), np.load(sys.argv[2]))\n"
        "print(type(net).__name__, [p.name for p in net.populations])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "net.jaxsnn"), str(tmp_path / "spikes.npy")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "Network ['E', 'I']"


def test_a_training_checkpoint_round_trips(tmp_path):
    """Model, optax state, step and PRNG key come back equal (the key as a typed key)."""
    import equinox as eqx
    import jax
    import optax

    net = _net(0)
    params = eqx.filter(net, eqx.is_inexact_array)
    opt = optax.adam(1e-3)
    opt_state = opt.init(params)
    grads = jax.tree.map(jnp.ones_like, params)
    with jax.numpy_dtype_promotion("standard"):  # optax mixes Python floats and int32 steps
        _, opt_state = opt.update(grads, opt_state, params)
    checkpoint = {"model": net, "opt_state": opt_state, "step": 12, "key": jr.key(7)}
    save(tmp_path / "ck.jaxsnn", checkpoint)
    back = load(tmp_path / "ck.jaxsnn")
    assert back["step"] == 12
    assert jnp.array_equal(jr.key_data(back["key"]), jr.key_data(checkpoint["key"]))
    for a, b in zip(jax.tree.leaves(back["opt_state"]), jax.tree.leaves(opt_state), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert jax.tree.structure(back["model"]) == jax.tree.structure(net)
    # and into a given checkpoint of the same shapes
    again = load(tmp_path / "ck.jaxsnn", checkpoint)
    assert again["step"] == 12


def test_mismatches_are_named(tmp_path):
    save(tmp_path / "net.jaxsnn", _net(0))
    with pytest.raises(ValueError, match="another structure .* NetworkState"):
        load(tmp_path / "net.jaxsnn", snn.init_state(_net(0)))
    # sparse storage: as many columns as the most connected neuron's synapses, which
    # differs between two random draws
    a, b = (build_decision_1k(jr.key(s), n_exc=300, n_inh=60, n_in=5) for s in (0, 1))
    assert a.projections[0].weights.shape != b.projections[0].weights.shape
    save(tmp_path / "sparse.jaxsnn", a)
    with pytest.raises(ValueError, match="another connectivity"):
        load(tmp_path / "sparse.jaxsnn", b)


def test_files_that_name_foreign_classes_are_refused(tmp_path):
    """A structure naming os.system (or any class outside jaxsnn and its libraries) is
    refused unless trusted=True, before anything is called."""
    import io
    import pickle
    import zipfile

    class Evil:
        def __reduce__(self):
            import os

            return (os.system, ("echo pwned",))

    path = tmp_path / "evil.jaxsnn"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("jaxsnn-save.json", '{"format": "jaxsnn-save", "version": 1, "leaf_kinds": {}}')
        buf = io.BytesIO()
        np.savez(buf)
        z.writestr("arrays.npz", buf.getvalue())
        z.writestr("structure.pkl", pickle.dumps(Evil()))
    with pytest.raises(ValueError, match="posix.system|os.system"):
        load(path)
    newer = tmp_path / "newer.jaxsnn"
    with zipfile.ZipFile(newer, "w") as z:
        z.writestr("jaxsnn-save.json", '{"format": "jaxsnn-save", "version": 99}')
    with pytest.raises(ValueError, match="newer jaxsnn"):
        load(newer)


def test_the_previous_arrays_only_format_still_loads(tmp_path):
    import equinox as eqx

    net = _net(0)
    eqx.tree_serialise_leaves(tmp_path / "old.eqx", net)
    back = load(tmp_path / "old.eqx", net)
    np.testing.assert_array_equal(back.projections[0].weights, net.projections[0].weights)
    with pytest.raises(ValueError, match="old arrays-only format"):
        load(tmp_path / "old.eqx")

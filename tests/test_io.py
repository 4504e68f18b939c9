import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import jaxsnn as snn
from jaxsnn.io import atomic_write, load, save, write_json
from jaxsnn.models import build_decision_1k


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
    with pytest.raises(ValueError, match="does not match"):
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

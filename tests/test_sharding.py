"""Sharding trials over devices gives the same spikes as one device.

Two CPU devices are simulated with XLA's host-platform device count, which must be set
before JAX starts, hence the subprocess.
"""

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import os
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
    import jax, jax.numpy as jnp, jax.random as jr, numpy as np
    import jaxsnn as snn
    from jaxsnn.models import build_decision_1k
    from jaxsnn.sharding import sharded_vmap
    assert len(jax.devices()) == 2
    net = build_decision_1k(jr.key(0), n_exc=40, n_inh=10, n_in=10, rate_hz=100.0)
    state = snn.init_state(net)
    def trial(key):
        _, rec = snn.simulate(net, state, 200, dt_ms=0.1, key=key, record=snn.Record(spikes="E"))
        return rec.spikes["E"]
    keys = jr.split(jr.key(1), 4)
    sharded = sharded_vmap(trial)(keys)
    assert len(sharded.sharding.device_set) == 2
    np.testing.assert_array_equal(np.asarray(sharded), np.asarray(jax.vmap(trial)(keys)))
    assert float(sharded.sum()) > 0
    try:
        sharded_vmap(trial)(keys[:3])
    except ValueError as e:
        assert "multiple of the number of devices" in str(e)
    else:
        raise AssertionError("odd batch accepted")
    print("OK")
    """
)


def test_sharded_trials_equal_single_device():
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300
    )
    if out.returncode:
        pytest.fail(out.stderr[-3000:])
    assert out.stdout.strip().endswith("OK")

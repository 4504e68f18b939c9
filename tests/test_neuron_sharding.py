"""A network's neurons split over devices (`jaxsnn.neuron_sharding`) give the result of
one device: on 2 and 4 devices of one process, and on 4 devices of 2 processes
(`jax.distributed`).

Several CPU devices are forced with XLA's host-platform device count, which must be set
before JAX starts, and `jax.distributed` needs processes of its own: those runs are
subprocesses, writing their results (and the one-device result) into a temporary folder
where the tests compare them.

Tolerances: spikes and spike counts must be identical; V (mV) and the other float state
may differ by float32 rounding (XLA fuses the smaller per-device programs differently, a
dense product over fewer columns rounds differently): 1e-4 mV, about 25 ulp at 60 mV.
Rates are means over devices' shares: relative 1e-6.
"""

import os
import re
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import jax
import jax.random as jr
import numpy as np
import pytest

import jaxsnn as snn
from jaxsnn.neuron_sharding import ShardedNetwork, neuron_mesh, shard_network, simulate_sharded

V_ATOL_MV = 1e-4
N_STEPS = 300

# The networks, shared by the subprocesses and the test process: each builder returns
# (network, state, keyword arguments of simulate), `save` writes a run's results.
NETWORKS = textwrap.dedent(
    """
    import jax, jax.numpy as jnp, jax.random as jr, numpy as np
    import jaxsnn as snn
    N_STEPS, DT = 300, 0.1  # N_STEPS as in the test module


    def cuba_sparse():
        # CUBA E/I, sparse storage (Event propagation), Poisson spike input, white noise on
        # I (random per neuron), a delay on E->I
        k = jr.split(jr.key(0), 8)
        lif = snn.LIF(tau_mem_ms=20.0, v_rest_mv=-49.0, v_th_mv=-50.0, v_reset_mv=-60.0,
                      t_ref_ms=2.0)
        e = snn.Population("E", 160, lif, dale="excitatory")
        i = snn.Population("I", 40, lif, dale="inhibitory")
        poisson = snn.PoissonInput("in", 50, 20.0)
        p = snn.FixedProbability(0.05)
        to_e, to_i = snn.ExpCurrent(5.0), snn.ExpCurrent(10.0)
        projections = [
            snn.connect(e, e, p, snn.Constant(1.62), to_e, key=k[0], layout="sparse"),
            snn.connect(e, i, p, snn.Constant(1.62), to_e, key=k[1], layout="sparse",
                        delay_ms=1.0),
            snn.connect(i, e, p, snn.Constant(9.0), to_i, key=k[2], layout="sparse"),
            snn.connect(i, i, p, snn.Constant(9.0), to_i, key=k[3], layout="sparse"),
            snn.connect(poisson, e, snn.FixedProbability(0.2), snn.Constant(2.0), key=k[4],
                        layout="sparse"),
        ]
        net = snn.Network([e, i], projections, [poisson, snn.WhiteNoise("noise", "I", 40, 2.0)])
        v0 = jr.uniform(k[5], (200,), minval=-60.0, maxval=-50.0)
        state = snn.init_state(net, v0_mv=v0, dt_ms=DT)
        record = snn.Record(spikes=True, voltages={"E": [0, 5, 100], "I": None}, rates=True,
                            counts=True, states=["E->I"])
        return net, state, dict(dt_ms=DT, key=k[6], record=record)


    def dense():
        # dense storage (Dense and Event propagation), per-neuron thresholds, two neuron
        # models, a given spike matrix, a per-neuron current time series, a Poisson drive
        # (random per neuron, with a synaptic state)
        k = jr.split(jr.key(1), 8)
        v_th = -50.0 + jr.uniform(k[0], (80,), minval=-1.0, maxval=1.0)
        e = snn.Population("E", 80, snn.LIF(tau_mem_ms=20.0, v_rest_mv=-60.0, v_th_mv=v_th,
                                             v_reset_mv=-60.0), dale="excitatory")
        i = snn.Population("I", 40, snn.AdaptiveLIF(tau_mem_ms=10.0, v_rest_mv=-60.0,
                                                    v_th_mv=-50.0, v_reset_mv=-60.0),
                           dale="inhibitory")
        given = snn.SpikeInput("given", 20)
        p = snn.FixedProbability(0.2)
        projections = [
            snn.connect(e, e, p, snn.Constant(0.5), key=k[1], layout="dense"),
            snn.connect(e, i, p, snn.Constant(0.8), snn.ExpCurrent(5.0), key=k[2],
                        layout="dense", propagation=snn.Event()),
            snn.connect(i, e, p, snn.Constant(2.0), key=k[3], layout="dense"),
            snn.connect(given, e, snn.FixedProbability(0.5), snn.Constant(3.0), key=k[4],
                        layout="dense"),
        ]
        inputs = [given, snn.CurrentInput("drive", "E", 80),
                  snn.PoissonDrive("bg", "I", 40, n_sources=100, rate_hz=20.0, weight=0.5,
                                   synapse=snn.ExpCurrent(3.0))]
        net = snn.Network([e, i], projections, inputs)
        data = {
            "given": (jr.uniform(k[5], (N_STEPS, 20)) < 0.05).astype(jnp.float32),
            "drive": 12.0 + 2.0 * jr.normal(k[6], (N_STEPS, 80)),
        }
        record = snn.Record(spikes=True, voltages=True, voltages_before_reset=True,
                            states=["I.a", "E->I"], every=2)
        return net, snn.init_state(net), dict(dt_ms=DT, key=k[7], inputs=data, record=record)


    def coba():
        # the COBA benchmark network (conductance synapses, constant currents)
        from jaxsnn.models import build_ei_coba, ei_coba_state

        net = build_ei_coba(jr.key(2), 200)
        state = ei_coba_state(net, jr.key(3))
        return net, state, dict(dt_ms=DT, record=snn.Record(spikes=True, voltages=True))


    CASES = {"cuba_sparse": cuba_sparse, "dense": dense, "coba": coba}


    def save(path, state, rec):
        arrays = {f"final.{i}": np.asarray(x) for i, x in enumerate(jax.tree.leaves(state))}
        for field in ("spikes", "v", "rates_hz", "counts", "states"):
            for name, x in getattr(rec, field).items():
                for i, leaf in enumerate(jax.tree.leaves(x)):
                    arrays[f"{field}.{name}.{i}"] = np.asarray(leaf)
        np.savez(path, **arrays)
    """
)


def _script(head: str, body: str) -> str:
    """A subprocess's program: `head` (before JAX starts), the networks, `body`."""
    strict = 'jax.config.update("jax_numpy_dtype_promotion", "strict")\n'
    return textwrap.dedent(head) + NETWORKS + strict + textwrap.dedent(body)


# One process, 4 devices: one network on one device and split over 2 and 4 devices; the
# cuba network also run in two halves from a ShardedNetwork, the state handed back.
DEVICES = _script(
    """
    import os, sys
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
    """,
    """
    from jaxsnn.neuron_sharding import neuron_mesh, shard_network, simulate_sharded

    name, out = sys.argv[1], sys.argv[2]
    assert len(jax.devices()) == 4
    net, state, kw = CASES[name]()
    save(f"{out}/one.npz", *snn.simulate(net, state, N_STEPS, **kw))
    for d in (2, 4):
        mesh = neuron_mesh(jax.devices()[:d])
        save(f"{out}/{d}.npz", *simulate_sharded(net, state, N_STEPS, mesh=mesh, **kw))
    if name == "cuba_sparse":
        sharded = shard_network(net)
        half, _ = simulate_sharded(sharded, state, N_STEPS // 2, **kw)
        save(f"{out}/halves.npz", *simulate_sharded(sharded, half, N_STEPS // 2, **kw))
    """,
)

# One of two processes with 2 devices each: the cuba network over all 4 devices; process
# 0 writes the result, gathered from both processes.
PROCESS = _script(
    """
    import os, sys
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
    import jax
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    process, port, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    jax.distributed.initialize(f"localhost:{port}", num_processes=2, process_id=process)
    """,
    """
    from jax.experimental import multihost_utils
    from jaxsnn.neuron_sharding import simulate_sharded

    assert len(jax.devices()) == 4 and len(jax.local_devices()) == 2
    net, state, kw = cuba_sparse()
    result = simulate_sharded(net, state, N_STEPS, **kw)
    result = multihost_utils.process_allgather(result, tiled=True)
    if process == 0:
        save(f"{out}/processes.npz", *result)
    jax.distributed.shutdown()
    """,
)

# 4 devices: a population of 6 neurons cannot be split.
UNEVEN = """
import os
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
import jaxsnn as snn
from jaxsnn.neuron_sharding import shard_network

lif = snn.LIF()
try:
    shard_network(snn.Network([snn.Population("E", 8, lif), snn.Population("I", 6, lif)]))
except ValueError as e:
    print(e)
"""


def _env() -> dict:
    env = dict(os.environ)
    env.pop("XLA_FLAGS", None)
    return env


def _python(*args: str, timeout: float = 240) -> str:
    run = subprocess.run(
        [sys.executable, "-c", *args], capture_output=True, text=True, timeout=timeout, env=_env()
    )
    if run.returncode:
        pytest.fail(run.stderr[-4000:])
    return run.stdout


def _load(path) -> dict:
    with np.load(path) as f:
        return dict(f)


def _assert_same(one: dict, sharded: dict, what: str) -> None:
    assert sorted(one) == sorted(sharded), what
    for name, x in one.items():
        y, msg = sharded[name], f"{what}: {name}"
        assert x.shape == y.shape, msg
        if name.startswith(("spikes.", "counts.")) or x.dtype.kind in "iub":
            np.testing.assert_array_equal(y, x, err_msg=msg)
        elif name.startswith("rates_hz."):
            np.testing.assert_allclose(y, x, rtol=1e-6, err_msg=msg)
        else:
            np.testing.assert_allclose(y, x, rtol=0, atol=V_ATOL_MV, err_msg=msg)


@pytest.mark.parametrize("case", ["cuba_sparse", "dense", "coba"])
def test_split_over_2_and_4_devices_equals_one_device(tmp_path, case):
    _python(DEVICES, case, str(tmp_path))
    one = _load(tmp_path / "one.npz")
    assert sum(x.sum() for k, x in one.items() if k.startswith("spikes.")) > 50  # it fires
    for devices in (2, 4):
        _assert_same(one, _load(tmp_path / f"{devices}.npz"), f"{case} on {devices} devices")
    if case == "cuba_sparse":
        # two halves from a ShardedNetwork: the final state of one run, and the second
        # half's recording the last windows of the run (its counts are its own)
        for name, x in _load(tmp_path / "halves.npz").items():
            if name.startswith("counts."):
                continue
            ref = one[name] if name.startswith("final.") else one[name][N_STEPS // 2 :]
            if name.startswith("spikes.") or x.dtype.kind in "iub":
                np.testing.assert_array_equal(x, ref, err_msg=name)
            else:
                np.testing.assert_allclose(x, ref, rtol=1e-6, atol=V_ATOL_MV, err_msg=name)


def test_refuses_population_sizes_that_do_not_divide():
    message = _python(UNEVEN)
    assert "multiple of the number of devices (4)" in message
    assert "'I' (6)" in message and "'E'" not in message


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def test_two_processes_equal_one_device(tmp_path):
    """`jax.distributed` with 2 local CPU processes of 2 devices each (gloo collectives):
    the network split over all 4 devices gives the one-device result of this process."""
    port = str(_free_port())
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", PROCESS, str(p), port, str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
        )
        for p in (0, 1)
    ]
    networks: dict = {}
    exec(compile(NETWORKS, "NETWORKS", "exec"), networks)
    net, state, kw = networks["cuba_sparse"]()
    networks["save"](tmp_path / "one.npz", *snn.simulate(net, state, N_STEPS, **kw))
    try:
        outs = [p.communicate(timeout=180) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, (_, err) in zip(procs, outs, strict=True):
        if p.returncode:
            pytest.fail(err[-4000:])
    one = _load(tmp_path / "one.npz")
    _assert_same(one, _load(tmp_path / "processes.npz"), "2 processes")


# Refusals that one device can show (they do not depend on the number of devices).


def _small(**connect_kw) -> snn.Network:
    e = snn.Population("E", 4)
    return snn.Network([e], [snn.connect(e, e, snn.AllToAll(), key=jr.key(0), **connect_kw)])


def test_refuses_per_synapse_delays():
    net = _small(delay_ms=snn.Uniform(0.5, 2.0))
    with pytest.raises(ValueError, match=r"projection E->E has per-synapse delays"):
        shard_network(net, neuron_mesh())


def test_refuses_synapse_parameters_per_neuron():
    net = _small(synapse=snn.ExpCurrent(tau_ms=np.full(4, 5.0, np.float32)))
    with pytest.raises(ValueError, match=r"E->E: synapse parameter ExpCurrent.tau_ms has 4"):
        shard_network(net, neuron_mesh())


def test_refuses_event_records_and_bad_meshes():
    net = _small()
    state = snn.init_state(net)
    with pytest.raises(ValueError, match=r"Record.events \(\['E'\]\) is not supported"):
        simulate_sharded(net, state, 10, dt_ms=0.1, record=snn.Record(events=True))
    with pytest.raises(ValueError, match="1-D jax.sharding.Mesh"):
        shard_network(net, jax.sharding.Mesh(np.array(jax.devices()).reshape(1, -1), ("a", "b")))
    with pytest.raises(ValueError, match="network must be a Network"):
        shard_network(state)
    with pytest.raises(ValueError, match="its own mesh"):
        simulate_sharded(shard_network(net), state, 10, dt_ms=0.1, mesh=neuron_mesh())
    with pytest.raises(ValueError, match="call it outside jit"):
        jax.jit(lambda s: simulate_sharded(net, s, 10, dt_ms=0.1))(state)
    with pytest.raises(ValueError, match="call it outside jit"):
        jax.jit(shard_network)(net)


def test_one_device_mesh_equals_simulate():
    """On one device the split is trivial: `simulate_sharded` is `simulate`."""
    net = _small(init=snn.Constant(0.3))
    net = snn.Network(net.populations, net.projections, [snn.CurrentInput("c", "E", 4, 1.5)])
    state = snn.init_state(net, v0_mv=np.linspace(0.0, 0.9, 4, dtype=np.float32))
    kw = dict(dt_ms=0.1, record=snn.Record(spikes=True, voltages=True))
    sharded = shard_network(net)
    assert isinstance(sharded, ShardedNetwork) and sharded.n_devices == len(jax.devices())
    _, one = snn.simulate(net, state, 200, **kw)
    _, split = simulate_sharded(sharded, state, 200, **kw)
    assert float(one.spikes["E"].sum()) > 0
    np.testing.assert_array_equal(np.asarray(split.spikes["E"]), np.asarray(one.spikes["E"]))
    np.testing.assert_allclose(np.asarray(split.v["E"]), np.asarray(one.v["E"]), atol=V_ATOL_MV)


def test_readme_example_runs(capsys):
    """README, "One network over several devices": the example runs (here on the
    devices of the test process) and the CUBA network fires."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme[readme.index("### One network over several devices") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert "device(s)" in capsys.readouterr().out
    assert all(float(s.sum()) > 0 for s in namespace["rec"].spikes.values())


@pytest.mark.parametrize("layout", ["dense", "sparse"])
def test_split_posts_blocks_hold_every_synapse_once(layout):
    """`AbstractLayout.split_posts`: the blocks' products, side by side, are the full
    product (float32 rounding aside: same synapses, same order), and each block's weights
    hold exactly the synapses onto its posts."""
    pre, post = snn.Population("A", 30), snn.Population("B", 12)
    proj = snn.connect(
        pre, post, snn.FixedProbability(0.3), snn.Normal(0.0, 1.0), key=jr.key(3), layout=layout
    )
    s = (jr.uniform(jr.key(4), (30,)) < 0.5).astype(np.float32)
    blocks = proj.layout.split_posts([proj.weights], 3)
    assert len({tuple(w.shape) for _, (w,) in blocks}) == 1  # they stack
    drives = [lay.product(w, s) for lay, (w,) in blocks]
    np.testing.assert_allclose(np.concatenate(drives), proj.drive(s), rtol=1e-6, atol=1e-6)
    dense = np.concatenate([np.asarray(lay.dense(w)) for lay, (w,) in blocks], axis=1)
    np.testing.assert_array_equal(dense, np.asarray(proj.dense_weights()))
    assert sum(lay.n_synapses for lay, _ in blocks) == proj.n_synapses
    with pytest.raises(ValueError, match="12 postsynaptic neurons cannot be split into 5"):
        proj.layout.split_posts([proj.weights], 5)


def test_refuses_layouts_that_cannot_be_split():
    e = snn.Population("E", 4)
    net = snn.Network([e], [snn.connect_pooled(e, e, 0.1)])
    with pytest.raises(ValueError, match="projection E->E: a PooledLayout cannot be split"):
        shard_network(net, neuron_mesh())

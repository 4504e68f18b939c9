"""The native CPU kernel behind `Event` (jaxsnn.native) equals the pure-JAX path: drives
at every spike count, under vmap (shared, batched and nested), under grad, and whole
simulations (identical spikes); it is chosen automatically on CPU, and without a
compiler jaxsnn says so once and runs the pure-JAX path."""

import json
import os
import subprocess
import sys

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from jaxsnn import Event, Record, simulate
from jaxsnn import native as native_kernels
from jaxsnn.layout import DenseLayout, SparseLayout
from jaxsnn.models import build_ei_coba, ei_coba_state

pytestmark = pytest.mark.skipif(
    not native_kernels.available(), reason="native kernels unavailable (no C++ compiler)"
)

N_PRE, N_POST, K = 257, 61, 7
COUNTS = (0, 1, 2, 5, 17, 64, 65, 128, N_PRE)
# float32 sums of at most N_PRE terms of O(1) in another order: 1e-4 absolute
TOL = dict(rtol=1e-5, atol=1e-4)


def _ell(seed, n_pre=N_PRE, n_post=N_POST, k=K, dtype=np.float32):
    rng = np.random.default_rng(seed)
    targets = rng.integers(0, n_post + 1, (n_pre, k)).astype(np.int32)  # n_post = padding
    weights = rng.normal(size=(n_pre, k)).astype(dtype)
    weights[targets == n_post] = 0.0
    return jnp.asarray(weights), SparseLayout(n_pre, n_post, jnp.asarray(targets))


def _dense(seed, n_pre=N_PRE, n_post=N_POST, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return jnp.asarray(rng.normal(size=(n_pre, n_post)).astype(dtype)), DenseLayout(n_pre, n_post)


def _spikes(count, n=N_PRE, seed=0, batch=None, dtype=np.float32):
    rng = np.random.default_rng(seed + 1000 * count)
    s = np.zeros((batch or 1, n), dtype)
    for row in s:
        row[rng.choice(n, count, replace=False)] = 1.0
    return jnp.asarray(s if batch else s[0])


def _both(fn):
    """fn(Event) jitted with the native kernel and with the pure-JAX path."""
    return jax.jit(fn(Event(native=True))), jax.jit(fn(Event(native=False)))


def _ffi_calls(fn, *args) -> int:
    return str(jax.make_jaxpr(fn)(*args)).count("ffi_call")


@pytest.mark.parametrize("storage", ["sparse", "dense"])
def test_drive_equals_pure_jax_at_every_spike_count(storage):
    w, lay = _ell(0) if storage == "sparse" else _dense(0)
    native, pure = _both(lambda ev: lambda s: ev(w, lay, s))
    for count in COUNTS:
        s = _spikes(count) * 0.5  # graded values are weighted too
        np.testing.assert_allclose(native(s), pure(s), **TOL)


def test_float64_drives():
    with jax.enable_x64(True):
        w, lay = _ell(1, dtype=np.float64)
        native, pure = _both(lambda ev: lambda s: ev(w, lay, s))
        s = _spikes(40, dtype=np.float64)
        got = native(s)
        assert got.dtype == jnp.float64
        np.testing.assert_allclose(got, pure(s), rtol=1e-12, atol=1e-12)


def _groups(seed):
    """Two sources (sizes 257 and 90) with sparse and dense projections onto 61 and 33."""
    w_a, lay_a = _ell(seed)
    w_b, lay_b = _dense(seed + 1, n_post=33)
    w_c, lay_c = _ell(seed + 2, n_pre=90, n_post=33, k=5)
    return [([w_a, w_b], [lay_a, lay_b]), ([w_c], [lay_c])]


def test_every_projection_of_a_step_in_one_call():
    groups = _groups(3)

    def drives(ev):
        return lambda s1, s2: ev.drives_of_signals(
            [(ws, lays, s) for (ws, lays), s in zip(groups, (s1, s2), strict=True)]
        )

    native, pure = _both(drives)
    s1, s2 = _spikes(30), _spikes(12, n=90)
    assert _ffi_calls(drives(Event()), s1, s2) == 1
    assert _ffi_calls(drives(Event(native=False)), s1, s2) == 0
    for got, want in zip(
        jax.tree.leaves(native(s1, s2)), jax.tree.leaves(pure(s1, s2)), strict=True
    ):
        np.testing.assert_allclose(got, want, **TOL)


def test_vmap_shared_batched_and_nested():
    w, lay = _ell(4)
    ws = jnp.stack([w, 2.0 * w, -w])
    s = _spikes(20, batch=3)
    # shared weights: one call for the batch
    native, pure = _both(lambda ev: jax.vmap(lambda x: ev(w, lay, x)))
    np.testing.assert_allclose(native(s), pure(s), **TOL)
    # batched weights (a parameter sweep)
    native, pure = _both(lambda ev: jax.vmap(lambda wi, x: ev(wi, lay, x)))
    np.testing.assert_allclose(native(ws, s), pure(ws, s), **TOL)
    loop = np.stack([np.asarray(Event()(ws[i], lay, s[i])) for i in range(3)])
    np.testing.assert_allclose(native(ws, s), loop, **TOL)
    # batched weights, one shared signal
    native, pure = _both(lambda ev: jax.vmap(lambda wi: ev(wi, lay, s[0])))
    np.testing.assert_allclose(native(ws), pure(ws), **TOL)
    # nested: trials inside sweeps
    s2 = jnp.stack([s, _spikes(90, batch=3)])

    def nested(ev):
        return jax.vmap(jax.vmap(lambda wi, x: ev(wi, lay, x)), in_axes=(None, 0))

    native, pure = _both(nested)
    np.testing.assert_allclose(native(ws, s2), pure(ws, s2), **TOL)


def test_gradients_equal_pure_jax():
    """The derivative stays that of the full product Σ w s (Event's custom_jvp)."""
    w, lay = _ell(5)

    def loss(ev):
        return lambda wi, s: jnp.sum(jnp.sin(jax.vmap(lambda x: ev(wi, lay, x))(s)))

    native, pure = _both(lambda ev: jax.grad(loss(ev), argnums=(0, 1)))
    for count in (0, 3, 100):
        s = _spikes(count, batch=2)
        for a, b in zip(native(w, s), pure(w, s), strict=True):
            np.testing.assert_allclose(a, b, **TOL)


def _coba(native: bool):
    network = build_ei_coba(jr.key(0), 800)
    network = eqx.tree_at(
        lambda n: [p.propagation for p in n.projections],
        network,
        [Event(native=native) for _ in network.projections],
    )
    return network, ei_coba_state(network, jr.key(1))


def test_simulation_spikes_identical_and_v_close():
    """A COBA E/I network (sparse E->E, E->I, I->E, I->I) over 2000 steps."""
    record = Record(spikes=True, voltages=True)
    runs = {}
    for native in (True, False):
        network, state = _coba(native)
        runs[native] = jax.jit(
            lambda st, n=network: simulate(n, st, 2000, dt_ms=0.1, record=record)[1]
        )(state)
        assert _ffi_calls(lambda st, n=network: simulate(n, st, 3, dt_ms=0.1), state) == (
            1 if native else 0
        )
    n_spikes = sum(int(np.asarray(s).sum()) for s in runs[True].spikes.values())
    assert n_spikes > 1000
    for name in runs[True].spikes:
        np.testing.assert_array_equal(runs[True].spikes[name], runs[False].spikes[name])
    # V in mV; float32 drives summed in another order
    for name in runs[True].v:
        np.testing.assert_allclose(runs[True].v[name], runs[False].v[name], rtol=0, atol=1e-3)


def test_kernel_rejects_weights_that_do_not_match_the_batch():
    w, lay = _ell(6)
    s = _spikes(3, batch=4)
    with pytest.raises(Exception, match="does not divide the batch"):
        native_kernels.event_drives([jnp.stack([w] * 3)], [lay.targets], [s], [0], [N_POST])


def test_native_must_be_a_bool():
    with pytest.raises(ValueError, match="Event.native must be True or False"):
        Event(native="yes")


# Runs a small network in a fresh process and reports the warnings, the library files
# and the spikes.
RUN = r"""
import json, warnings
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    import jax.random as jr
    import numpy as np
    from jaxsnn import Record, simulate, native
    from jaxsnn.models import build_ei_coba, ei_coba_state
    network = build_ei_coba(jr.key(0), 200, layout="sparse")  # Event propagation
    state = ei_coba_state(network, jr.key(1))
    spikes = []
    for steps in (300, 301):  # two traces: the warning must come once
        _, rec = simulate(network, state, steps, dt_ms=0.1, record=Record(spikes=True))
        spikes.append(int(sum(np.asarray(s).sum() for s in rec.spikes.values())))
print(json.dumps({
    "warnings": [str(w.message) for w in caught if "native" in str(w.message)],
    "available": native.available(),
    "spikes": spikes,
}))
"""


def _run(tmp_path, **env):
    full = dict(os.environ, JAXSNN_NATIVE_DIR=str(tmp_path / "native"), **env)
    done = subprocess.run(
        [sys.executable, "-c", RUN], env=full, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_fresh_build_cache_and_fallback(tmp_path):
    """First use builds the library into the cache folder; the next process loads it
    (no rebuild); without a compiler the pure-JAX path runs, with one warning, and gives
    the same spikes; JAXSNN_NATIVE=0 switches the kernels off silently."""
    built = _run(tmp_path)
    assert built["available"] and not built["warnings"]
    (lib,) = (tmp_path / "native").glob("event-*.so")
    stamp = lib.stat().st_mtime_ns
    again = _run(tmp_path)
    assert lib.stat().st_mtime_ns == stamp and again["spikes"] == built["spikes"]
    no_compiler = _run(tmp_path / "other", CXX=str(tmp_path / "no-such-compiler"))
    assert not no_compiler["available"]
    assert len(no_compiler["warnings"]) == 1 and "pure-JAX" in no_compiler["warnings"][0]
    assert no_compiler["spikes"] == built["spikes"]
    off = _run(tmp_path / "off", JAXSNN_NATIVE="0")
    assert not off["available"] and not off["warnings"] and off["spikes"] == built["spikes"]
    assert not (tmp_path / "off" / "native").exists()

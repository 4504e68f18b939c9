"""jaxsnn.threads: `set_cpu_threads` sizes XLA:CPU's thread pool.

JAX's CPU backend starts once per process and makes its pool then, so every case that
starts a backend runs in a fresh Python process."""

import json
import os
import subprocess
import sys

import pytest

from jaxsnn.threads import _with_thread_flags, set_cpu_threads

EIGEN = "--xla_cpu_multi_thread_eigen"
# another flag this jaxlib knows, set beforehand: it must survive, the old thread flag not
OTHER = "--xla_cpu_enable_fast_math=false"

# Sets the threads, runs a small network, and reports what the process saw: its
# environment after the call, the size of XLA's intra-op pool (threads named
# tf_XLAEigen) and the spikes.
RUN = r"""
import json, os, sys

from jaxsnn.threads import set_cpu_threads

set_cpu_threads(int(sys.argv[1]))
env = {k: os.environ.get(k) for k in ("PJRT_NPROC", "XLA_FLAGS")}

import jax.random as jr
import numpy as np

from jaxsnn import Record, simulate
from jaxsnn.models import build_ei_coba, ei_coba_state

network = build_ei_coba(jr.key(0), 200)
state = ei_coba_state(network, jr.key(1))
_, rec = simulate(network, state, 500, dt_ms=0.1, record=Record(spikes=True))
spikes = {k: np.asarray(v).astype(int).tolist() for k, v in rec.spikes.items()}


def name(task):
    with open(f"/proc/self/task/{task}/comm") as f:
        return f.read().strip()


pool = sum(name(t) == "tf_XLAEigen" for t in os.listdir("/proc/self/task"))
print(json.dumps({"env": env, "pool": pool, "spikes": spikes}))
"""

TOO_LATE = r"""
import json, os

import jax.numpy as jnp

jnp.zeros(1).block_until_ready()
from jaxsnn.threads import set_cpu_threads

try:
    set_cpu_threads(1)
except RuntimeError as e:
    print(json.dumps({"error": str(e), "nproc": os.environ.get("PJRT_NPROC")}))
"""

IMPORT = r"""
import jaxsnn, jaxsnn.cli, jaxsnn.models, jaxsnn.threads
from jax._src import xla_bridge

print(xla_bridge.backends_are_initialized())
"""


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PJRT_NPROC", "NPROC")}
    env["XLA_FLAGS"] = f"{EIGEN}=true {OTHER}"
    return env


def _python(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def runs():
    """The RUN process with 1 and 2 threads, started together to halve the wait."""
    procs = {
        n: subprocess.Popen(
            [sys.executable, "-c", RUN, str(n)],
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in (1, 2)
    }
    out = {}
    for n, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=300)
        out[n] = (proc.returncode, stdout, stderr)
    return out


def _report(runs, n) -> dict:
    code, stdout, stderr = runs[n]
    assert code == 0, stderr
    return json.loads(stdout.strip().splitlines()[-1])


def test_importing_jaxsnn_leaves_the_backend_alone():
    # set_cpu_threads lives in jaxsnn, so it is usable only if importing jaxsnn starts
    # no backend (a module-level array or a check that computes with jnp would)
    proc = _python(IMPORT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False", "importing jaxsnn started JAX's backend"


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc")
@pytest.mark.parametrize("n", [1, 2])
def test_flags_are_applied_and_accepted(runs, n):
    code, _, stderr = runs[n]
    assert "Unknown flag" not in stderr
    report = _report(runs, n)
    assert report["env"]["PJRT_NPROC"] == str(n)
    assert report["env"]["XLA_FLAGS"] == f"{OTHER} {EIGEN}={'false' if n == 1 else 'true'}"
    assert report["pool"] == n


def test_spikes_do_not_depend_on_the_thread_count(runs):
    one, two = _report(runs, 1)["spikes"], _report(runs, 2)["spikes"]
    assert sum(sum(map(sum, s)) for s in one.values()) > 0, "the network was silent"
    assert one == two


def test_too_late_is_an_error_that_says_what_to_do():
    proc = _python(TOO_LATE)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "already started" in report["error"]
    assert "start of the program" in report["error"]
    assert "--threads" in report["error"]
    assert report["nproc"] is None  # nothing set by the failed call


@pytest.mark.parametrize("n", [0, -1, 2.5, "2", True, None])
def test_bad_n(n):
    # rejected before anything is looked at or set, so it is safe in this process
    before = dict(os.environ)
    with pytest.raises(ValueError, match=r"^n must be a positive int"):
        set_cpu_threads(n)
    assert dict(os.environ) == before


@pytest.mark.parametrize(
    ("flags", "n", "expected"),
    [
        ("", 1, f"{EIGEN}=false"),
        ("", 3, f"{EIGEN}=true"),
        (f"{EIGEN}=true", 1, f"{EIGEN}=false"),
        (f"--a=1 {EIGEN}=false  --b='x y'", 2, f"--a=1  --b='x y' {EIGEN}=true"),
        (f"{EIGEN} --a=1 {EIGEN}=true", 1, f"--a=1 {EIGEN}=false"),
        (f"{EIGEN}_more=1", 1, f"{EIGEN}_more=1 {EIGEN}=false"),
    ],
)
def test_earlier_thread_flags_are_replaced_others_kept(flags, n, expected):
    assert _with_thread_flags(flags, n) == expected

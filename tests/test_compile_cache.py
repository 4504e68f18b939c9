"""The command line's persistent compilation cache: a simulation's program is written
to the cache folder (and so loaded by the next process) once the run-time checks, which
use host callbacks that JAX never caches, are switched off as the CLI does."""

import os
import subprocess
import sys

import pytest

from jaxsnn.compile_cache import default_cache_dir, enable_compile_cache

# The cache keeps programs that took 0.2 s or more to compile; this small network can
# compile faster than that, so the threshold is lifted: what is tested is whether the
# program can be cached at all.
SIMULATE = """
import sys, jax, jax.random as jr, jaxsnn as snn
from jaxsnn.compile_cache import enable_compile_cache
from jaxsnn.models import build_decision_1k
enable_compile_cache(sys.argv[1])
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
net = build_decision_1k(jr.key(0), n_exc=40, n_inh=10, n_in=5)
snn.simulate(net, snn.init_state(net), 50, dt_ms=0.1, key=jr.key(1))
"""


@pytest.mark.parametrize("checks", ["off", pytest.param("on", marks=pytest.mark.slow)])
def test_simulations_are_cached_without_runtime_checks(tmp_path, checks):
    env = {**os.environ, "JAXSNN_RUNTIME_CHECKS": checks}
    cache = tmp_path / "cache"
    proc = subprocess.run(
        [sys.executable, "-c", SIMULATE, str(cache)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    runs = [p.name for p in cache.iterdir() if p.name.startswith("jit__run")]
    assert bool(runs) == (checks == "off"), sorted(p.name for p in cache.iterdir())


def test_cache_folder_options(tmp_path, monkeypatch):
    monkeypatch.setenv("JAXSNN_CACHE_DIR", str(tmp_path / "mine"))
    assert default_cache_dir() == str(tmp_path / "mine")
    monkeypatch.delenv("JAXSNN_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == str(tmp_path / "xdg" / "jaxsnn" / "xla")
    assert enable_compile_cache("off") is None and enable_compile_cache(None) is None

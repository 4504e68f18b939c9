"""Command-line outputs: a bad --out is refused before any work, a run's files appear
together (the previous run's or the new run's, never a mix), modes follow the umask,
nothing a user put in a folder is deleted, and Ctrl-C ends a run within about a second
with one line and exit code 130, even inside a long XLA computation."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from jaxsnn.cli_outputs import MANIFEST, OutputError, RunOutputs

ROOT = Path(__file__).resolve().parents[1]


def _run(out: Path, files: dict[str, str], command: str = "test") -> Path:
    outputs = RunOutputs(out, command)
    for name, text in files.items():
        outputs.path(name).write_text(text)
    return outputs.commit()


def _contents(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(folder.iterdir())}


def test_a_run_appears_whole_and_replaces_the_previous_run(tmp_path):
    out = tmp_path / "results"
    _run(out, {"a.txt": "1", "b.txt": "1"})
    assert json.loads((out / MANIFEST).read_text())["files"] == ["a.txt", "b.txt"]
    _run(out, {"a.txt": "2", "c.txt": "2"})
    got = _contents(out)
    assert got["a.txt"] == "2" and got["c.txt"] == "2" and "b.txt" not in got
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "results"]
    assert leftovers == []  # no staging or old folder left behind


def test_an_unfinished_run_leaves_the_previous_one(tmp_path):
    out = tmp_path / "results"
    _run(out, {"a.txt": "1"})
    outputs = RunOutputs(out, "test")
    outputs.path("a.txt").write_text("2")
    outputs.discard()
    assert _contents(out)["a.txt"] == "1"
    assert [p.name for p in tmp_path.iterdir()] == ["results"]


@pytest.mark.parametrize(
    ("umask", "file_mode", "dir_mode"), [(0o022, 0o644, 0o755), (0o077, 0o600, 0o700)]
)
def test_modes_follow_the_umask(tmp_path, umask, file_mode, dir_mode):
    old = os.umask(umask)
    try:
        out = _run(tmp_path / "results", {"a.txt": "1"})
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == dir_mode
    assert (out / MANIFEST).stat().st_mode & 0o777 == file_mode


def test_bad_folders_are_refused_and_user_files_are_never_replaced(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="not a folder"):
        RunOutputs(tmp_path / "file", "test")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("precious")
    with pytest.raises(OutputError, match="not from a jaxsnn run"):
        RunOutputs(mine, "test")
    # a previous run plus a user's file: refused as well
    out = _run(tmp_path / "results", {"a.txt": "1"})
    (out / "notes.txt").write_text("precious")
    with pytest.raises(OutputError, match="notes.txt"):
        RunOutputs(out, "test")
    assert (out / "notes.txt").read_text() == "precious"
    RunOutputs(tmp_path / "empty-or-new", "test").discard()  # a new folder is fine


def test_cli_refuses_a_bad_out_before_any_work(tmp_path):
    (tmp_path / "file").write_text("x")
    for out in ("/proc/jaxsnn-out",):  # one interpreter start; the cases: RunOutputs tests
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "jaxsnn.cli", "decide", "--out", out],
            capture_output=True,
            text=True,
            timeout=120,
        )
        elapsed = time.perf_counter() - t0
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.count("\n") == 1 and "error: --out" in proc.stderr
        assert "Traceback" not in proc.stderr
        assert elapsed < 30  # interpreter start and imports only (the run itself: ~1 min)


INTERRUPTED = textwrap.dedent(
    """
    import sys
    import jax, jax.numpy as jnp
    from jaxsnn.cli_outputs import RunOutputs, interrupt_exits

    outputs = RunOutputs(sys.argv[1], "test")
    with interrupt_exits("test", outputs):
        outputs.path("a.txt").write_text("new")

        @jax.jit
        def spin(x):  # about a minute inside one XLA call, no return to Python
            return jax.lax.fori_loop(0, 2_000_000_000, lambda i, y: y * 1.0000001 + 1e-9, x)

        print("computing", flush=True)
        spin(jnp.ones(())).block_until_ready()
        outputs.commit()
    """
)


def test_ctrl_c_inside_a_computation_exits_at_once_and_keeps_the_previous_run(tmp_path):
    out = _run(tmp_path / "results", {"a.txt": "old", "b.txt": "old"})
    before = _contents(out)
    script = tmp_path / "spin.py"
    script.write_text(INTERRUPTED)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "computing"
    time.sleep(1.0)  # well inside the XLA loop
    t0 = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    rc = proc.wait(timeout=30)
    elapsed = time.perf_counter() - t0
    err = proc.stderr.read()
    assert rc == 130
    assert elapsed < 1.5, elapsed
    assert err.strip() == f"jaxsnn test: interrupted; {out} unchanged", err
    assert _contents(out) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_ctrl_c_during_a_cli_run(tmp_path):
    """`jaxsnn demo` interrupted while it compiles or simulates."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "jaxsnn.cli", "demo", "--trials", "4", "--no-compile-cache"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    time.sleep(4.0)
    if proc.poll() is not None:
        pytest.skip("the demo finished before the interrupt")
    t0 = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    rc = proc.wait(timeout=30)
    assert rc == 130 and time.perf_counter() - t0 < 1.5
    err = proc.stderr.read()
    assert "Traceback" not in err and err.strip().endswith(
        "jaxsnn demo: interrupted; nothing written"
    )

"""Install the peer simulators that the benchmarks compare against, each in its own
virtual environment under benchmarks/.venvs/<name> (git-ignored), never in jaxsnn's.

    python benchmarks/peers.py install [NAME ...]   # default: every peer
    python benchmarks/peers.py list                 # pins, what is installed, versions
    python benchmarks/peers.py python NAME          # the interpreter's path, for scripts

`install` creates the environment with the Python that runs this script (or `--python
PY`), pip-installs the pinned requirements, runs an import check and records what it
installed in benchmarks/.venvs/<name>/peer.json; pip's whole output goes to
install.log beside it. A peer that fails is reported (the command and the end of pip's
output) and the others are still installed; the exit status is 1 if any failed.
`--fresh` deletes an environment first.

Peers (and the benchmark scripts that use them):

- brian2: Brian2 2.9 with numpy < 2.3 (Brian2 2.9 does not support newer numpy);
  brian2_w2.py, brian2_wang2002.py, brian2_ei_balance.py. Their C++ standalone mode
  also needs a C++ compiler and make on the machine, which pip cannot install: the
  install and `list` say when one is missing.
- brainpy: BrainPy 2.8.2 with its [cpu] extra (numba, which its event-driven CSR
  kernels need on CPU; it brings its own jax); brainpy_w2.py.
- brainstate: brainstate with brainevent[cpu]. brainevent 0.3 needs Python >= 3.12, so
  the pins follow the environment's Python: brainstate 0.6 + brainevent 0.3 on 3.12 and
  later, brainstate 0.5 + brainevent 0.2 on 3.11.
- snntorch: torch 2.13.0 (a CPU build lies on this machine's disk, so pip takes it from
  there instead of downloading the CUDA build), then snnTorch 1.0.0 with nir 1.0.8 and
  nirtorch 2.6 (snnTorch does not require them, but its `export_nir` imports both; the
  versions Norse 1.1.0 resolves to); t1_training.py, nir_peers.py.
- norse: torch 2.13.0, then Norse 1.1.0 (a source distribution). It pulls torchvision
  0.28, whose only build here is made for the CUDA torch: `import torchvision` fails
  ("operator torchvision::nms does not exist"), so Norse's vision models and tasks do not
  load; `norse.torch` (neurons, layers, training) does not need it; t1_norse.py (via
  t1_training.py), nir_peers.py.
- spyx: Spyx 1.0.0 (PyPI name `spyx`; JAX with flax, optax, nir, grain, jax-tqdm);
  t1_spyx.py (via t1_training.py).
- snnpy: snn-reservoir-py 2.0.0 (imported as `snnpy`, with scipy); reservoir_r1.py,
  snnpy_reservoir.py.

Other scripts ask for an interpreter with `interpreter(name)` (None when the peer is
not installed).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENVS = HERE / ".venvs"
RECORD = "peer.json"
LOG = "install.log"
TAIL = 20  # lines of pip's output shown when a step fails


def _fixed(*steps: list[str]) -> Callable[[tuple[int, int]], list[list[str]]]:
    return lambda version: [list(step) for step in steps]


def _brainstate(version: tuple[int, int]) -> list[list[str]]:
    if version >= (3, 12):
        return [["brainstate==0.6.*", "brainevent[cpu]==0.3.*"]]
    return [["brainstate==0.5.*", "brainevent[cpu]==0.2.*"]]


@dataclasses.dataclass(frozen=True)
class Peer:
    """One peer simulator.

    Attributes:
        name: the environment's folder under benchmarks/.venvs.
        what: one line for `list`.
        steps: Python version (major, minor) -> the pip installs to run, in order, each
            a list of requirements. torch comes first on its own, so that pip takes the
            CPU build on disk, and is pinned again beside the packages that need it: a
            dependency such as Norse's torchvision would otherwise pull a newer torch
            (the CUDA build, gigabytes).
        modules: what the import check imports.
        dists: the distributions whose versions peer.json and `list` report.
        tools: programs the peer's benchmark scripts need on the machine: (names, one of
            which must be on PATH, what needs it).
    """

    name: str
    what: str
    steps: Callable[[tuple[int, int]], list[list[str]]]
    modules: tuple[str, ...]
    dists: tuple[str, ...]
    tools: tuple[tuple[tuple[str, ...], str], ...] = ()


_STANDALONE = "Brian2's C++ standalone mode (brian2_w2.py, brian2_wang2002.py)"
_COMPILED = f"{_STANDALONE} and its Cython code generation (brian2_ei_balance.py)"
PEERS = {
    p.name: p
    for p in (
        Peer(
            "brian2",
            "Brian2 2.9 (W2, Wang 2002, E/I balance)",
            _fixed(["brian2==2.9.*", "numpy<2.3"]),
            ("brian2",),
            ("brian2", "numpy", "cython"),
            ((("g++", "c++", "clang++"), _COMPILED), (("make",), _STANDALONE)),
        ),
        Peer(
            "brainpy",
            "BrainPy 2.8.2 (W2)",
            _fixed(["brainpy[cpu]==2.8.2"]),
            ("brainpy", "brainpy.math", "numba"),
            ("brainpy", "brainstate", "brainevent", "jax", "jaxlib", "numba"),
        ),
        Peer(
            "brainstate",
            "brainstate + brainevent (0.3 on Python >= 3.12, 0.2 on 3.11)",
            _brainstate,
            ("brainstate", "brainevent"),
            ("brainstate", "brainevent", "brainunit", "jax", "jaxlib", "numba"),
        ),
        Peer(
            "snntorch",
            "snnTorch 1.0.0 on torch 2.13.0 CPU, with nir and nirtorch (T1, NIR check)",
            _fixed(
                ["torch==2.13.0"],
                ["torch==2.13.0", "snntorch==1.0.0", "nir==1.0.8", "nirtorch==2.6"],
            ),
            ("torch", "snntorch", "snntorch.export_nir"),
            ("torch", "snntorch", "nir", "nirtorch", "numpy"),
        ),
        Peer(
            "norse",
            "Norse 1.1.0 on torch 2.13.0 CPU",
            _fixed(["torch==2.13.0"], ["torch==2.13.0", "norse==1.1.0"]),
            ("torch", "norse.torch"),
            ("torch", "torchvision", "norse"),
        ),
        Peer(
            "spyx",
            "Spyx 1.0.0 (JAX, flax)",
            _fixed(["spyx==1.0.0"]),
            ("spyx",),
            ("spyx", "jax", "jaxlib", "flax", "optax"),
        ),
        Peer(
            "snnpy",
            "snn-reservoir-py 2.0.0 (R1, reservoir reference data)",
            _fixed(["snn-reservoir-py==2.0.0"]),
            ("snnpy.snn", "scipy.sparse"),
            ("snn-reservoir-py", "numpy", "scipy"),
        ),
    )
}

# Run by the environment's own Python: import the peer, then report the versions.
_CHECK = """
import importlib, importlib.metadata as md, json, platform, sys
for module in sys.argv[2].split(","):
    importlib.import_module(module)
versions = {}
for dist in sys.argv[1].split(","):
    try:
        versions[dist] = md.version(dist)
    except md.PackageNotFoundError:
        versions[dist] = None
print(json.dumps({"python": platform.python_version(), "versions": versions}))
"""


def _peer(name: str) -> Peer:
    if name not in PEERS:
        raise ValueError(f"unknown peer {name!r}; peers: {', '.join(PEERS)}")
    return PEERS[name]


def _venv(name: str) -> Path:
    return VENVS / name


def _venv_python(name: str) -> Path:
    if os.name == "nt":
        return _venv(name) / "Scripts" / "python.exe"
    return _venv(name) / "bin" / "python"


def _read_record(name: str) -> dict | None:
    try:
        return json.loads((_venv(name) / RECORD).read_text())
    except (OSError, ValueError):
        return None


def interpreter(name: str) -> Path | None:
    """The Python of peer `name`'s environment, or None if the peer is not installed.

    The environment variable `JAXSNN_<NAME>_PYTHON` (e.g. `JAXSNN_BRIAN2_PYTHON`) points
    at another interpreter and wins when that file exists. An environment made by hand at
    benchmarks/.venvs/<name> (no peer.json) counts as installed; one whose install by this
    script failed or never finished does not.

    Raises:
        ValueError: if `name` is not a known peer.
    """
    _peer(name)
    override = os.environ.get(f"JAXSNN_{name.upper()}_PYTHON")
    if override:
        return Path(override) if Path(override).exists() else None
    python = _venv_python(name)
    if not python.exists():
        return None
    record = _read_record(name)
    if record is not None and record.get("status") != "ok":
        return None
    return python


def _shown(path: Path) -> str:
    """`path` as the user can type it from the current folder (no absolute paths in the
    messages when run from the repository)."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _python_version(python: str) -> tuple[int, int]:
    if Path(python).resolve() == Path(sys.executable).resolve():
        return sys.version_info[:2]
    out = subprocess.run(
        [python, "-c", "import sys; print(*sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    )
    major, minor = out.stdout.split()
    return int(major), int(minor)


def _missing_tools(peer: Peer) -> list[str]:
    return [
        f"{what} needs {' or '.join(names)} on PATH: none found (Debian/Ubuntu: "
        f"apt-get install {'g++' if 'g++' in names else names[0]})"
        for names, what in peer.tools
        if not any(shutil.which(n) for n in names)
    ]


def _write_record(name: str, record: dict) -> None:
    path = _venv(name) / RECORD
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=1) + "\n")
    os.replace(tmp, path)


def _run_logged(cmd: list[str], log) -> tuple[int, list[str]]:
    """Run `cmd`, append its output to `log`, return (exit status, output lines)."""
    log.write(f"$ {' '.join(cmd)}\n")
    log.flush()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log.write(proc.stdout)
    log.flush()
    return proc.returncode, proc.stdout.splitlines()


def check(name: str, python: Path | None = None) -> dict:
    """Import peer `name` in its environment's Python and return {"python": version,
    "versions": {distribution: version}}.

    Raises:
        RuntimeError: if the import fails (with the end of its error output).
    """
    peer = _peer(name)
    python = python or interpreter(name) or _venv_python(name)
    proc = subprocess.run(
        [str(python), "-c", _CHECK, ",".join(peer.dists), ",".join(peer.modules)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode:
        tail = "\n".join(proc.stderr.strip().splitlines()[-TAIL:])
        raise RuntimeError(f"import of {', '.join(peer.modules)} failed:\n{tail}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def install(name: str, base_python: str = sys.executable, fresh: bool = False) -> bool:
    """Install peer `name` into benchmarks/.venvs/<name>; True if it succeeded. Prints
    what it does, and on failure which command failed with the end of its output."""
    peer = _peer(name)
    venv = _venv(name)
    version = _python_version(base_python)
    steps = peer.steps(version)
    print(f"== {name}: {peer.what}", flush=True)
    if fresh and venv.exists():
        shutil.rmtree(venv)
    if venv.exists() and _venv_python(name).exists():
        have = _python_version(str(_venv_python(name)))
        if have != version:
            print(
                f"   FAILED {name}: {_shown(venv)} has Python {have[0]}.{have[1]}, not "
                f"{version[0]}.{version[1]}; rerun with --fresh to recreate it",
                flush=True,
            )
            return False
    venv.mkdir(parents=True, exist_ok=True)
    record = {
        "name": name,
        "status": "installing",
        "python": ".".join(map(str, version)),
        "requirements": steps,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    _write_record(name, record)  # until it says "ok", interpreter() ignores the folder
    commands = []
    if not _venv_python(name).exists():
        commands.append([base_python, "-m", "venv", str(venv)])
    pip = [str(_venv_python(name)), "-m", "pip", "install", "--disable-pip-version-check"]
    commands += [pip + step for step in steps]
    with open(venv / LOG, "w") as log:
        for cmd in commands:
            shown = " ".join(_shown(Path(a)) if os.sep in a else a for a in cmd)
            print(f"   $ {shown}", flush=True)
            code, lines = _run_logged(cmd, log)
            if code:
                return _failed(name, record, f"`{shown}` exited with {code}", lines)
    try:
        found = check(name, _venv_python(name))
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        return _failed(name, record, "the import check failed", str(e).splitlines())
    record.update(status="ok", versions=found["versions"], python=found["python"])
    warnings = _missing_tools(peer)
    if warnings:
        record["warnings"] = warnings
    _write_record(name, record)
    versions = ", ".join(f"{d} {v}" for d, v in found["versions"].items() if v)
    print(f"   ok: Python {found['python']}: {versions}", flush=True)
    for w in warnings:
        print(f"   WARNING: {w}", flush=True)
    return True


def _failed(name: str, record: dict, what: str, lines: list[str]) -> bool:
    record["status"] = "failed"
    record["error"] = what
    _write_record(name, record)
    print(f"   FAILED {name}: {what}; the last lines of its output:", flush=True)
    for line in lines[-TAIL:]:
        print(f"   | {line}", flush=True)
    print(f"   (all of it: {_shown(_venv(name) / LOG)})", flush=True)
    return False


def list_peers(run_check: bool = True) -> None:
    """Print every peer: its pins, whether it is installed, and (with `run_check`) the
    versions its environment imports."""
    version = sys.version_info[:2]
    for name, peer in PEERS.items():
        record = _read_record(name)
        python = interpreter(name)
        pins = record["requirements"] if record else peer.steps(version)
        pins_text = " ; ".join(" ".join(step) for step in pins)
        if python is not None:
            state = "installed" if record else "installed (by hand, no peer.json)"
        elif record is not None and record.get("status") == "failed":
            state = f"FAILED ({record.get('error')}; see {_shown(_venv(name) / LOG)})"
        elif record is not None:
            state = "incomplete (install did not finish)"
        else:
            state = "not installed"
        print(f"{name:11s} {pins_text}")
        print(f"{'':11s} {state}")
        if python is not None and run_check:
            try:
                found = check(name, python)
                versions = ", ".join(f"{d} {v}" for d, v in found["versions"].items() if v)
                print(f"{'':11s} check ok: Python {found['python']}: {versions}")
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                print(f"{'':11s} check FAILED: " + str(e).replace("\n", f"\n{'':11s} | "))
        if python is not None:
            for w in _missing_tools(peer):
                print(f"{'':11s} WARNING: {w}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    inst = sub.add_parser("install", help="install peers (default: all)")
    inst.add_argument("names", nargs="*", metavar="NAME", help=", ".join(PEERS))
    inst.add_argument(
        "--python",
        default=sys.executable,
        help="the Python the environments are made with (default: the one running this)",
    )
    inst.add_argument("--fresh", action="store_true", help="delete an environment first")
    lst = sub.add_parser("list", help="pins, what is installed, and an import check")
    lst.add_argument("--no-check", action="store_true", help="skip the import checks")
    py = sub.add_parser("python", help="print a peer's interpreter path")
    py.add_argument("name", metavar="NAME", choices=list(PEERS))
    args = parser.parse_args(argv)

    if args.command == "list":
        list_peers(not args.no_check)
        return 0
    if args.command == "python":
        python = interpreter(args.name)
        if python is None:
            print(
                f"{args.name} is not installed: python benchmarks/peers.py install {args.name}",
                file=sys.stderr,
            )
            return 1
        print(python)
        return 0
    unknown = [n for n in args.names if n not in PEERS]
    if unknown:
        parser.error(f"unknown peers {unknown}; choose from {', '.join(PEERS)}")
    failed = [
        name
        for name in (args.names or list(PEERS))
        if not install(name, args.python, fresh=args.fresh)
    ]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

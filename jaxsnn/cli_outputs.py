"""The output folder of a command-line run: checked before any work, written as a whole,
and left consistent by Ctrl-C.

`RunOutputs(out, command)`, made before any computation:

- refuses at once (`OutputError`, a one-line message) an `--out` that is a file, that
  cannot be written, or that holds files which are not a previous jaxsnn run's (a folder
  with a `.jaxsnn-run.json` manifest listing every file in it): replacing a folder never
  deletes anything a user put there;
- makes a hidden staging folder beside it (`.NAME.partial-XXXX`, mode per the umask),
  where the run writes its files (`path(name)`);
- `commit()` writes the manifest and puts the staging folder in place of `out` in one
  step: an atomic exchange of the two folders (Linux `renameat2(RENAME_EXCHANGE)`), then
  the old run is removed; elsewhere two renames (a window of microseconds without `out`).

So at any moment `out` holds the previous complete run or the new complete run, never a
mix (a new raster beside an old summary).

`interrupt_exits(command, outputs)`: Ctrl-C (SIGINT) ends the process within
milliseconds, even inside a long XLA compile or computation (which does not return to
the Python interpreter, where `KeyboardInterrupt` would be raised), with one line on
stderr and exit code 130. A watcher thread learns of the signal through Python's wakeup
fd; it removes the staging folder and never interrupts a commit half-way.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from .io import _umask

MANIFEST = ".jaxsnn-run.json"
_RENAME_EXCHANGE = 2


class OutputError(Exception):
    """An output folder that cannot be used; the message is one line for the user."""


def _previous_run_files(out: Path) -> set[str] | None:
    """The files a previous run's manifest lists, or None if `out` is not such a run."""
    try:
        manifest = json.loads((out / MANIFEST).read_text())
        return {str(f) for f in manifest["files"]} | {MANIFEST}
    except (OSError, ValueError, KeyError, TypeError):
        return None


class RunOutputs:
    """The output folder of one run (module docstring).

    Args:
        out: the folder the user asked for (`--out`).
        command: the command's name, for messages and the manifest.

    Raises:
        OutputError: if `out` cannot receive this run's outputs.
    """

    def __init__(self, out: str | os.PathLike, command: str):
        self.out = Path(out).absolute()
        self.command = command
        self.committed = False
        self._lock = threading.Lock()
        self._files: list[str] = []
        if self.out.exists() or self.out.is_symlink():
            if not self.out.is_dir():
                raise OutputError(f"--out {out} exists and is not a folder")
            present = {p.name for p in self.out.iterdir()}
            known = _previous_run_files(self.out)
            if present and (known is None or not present <= known):
                strangers = sorted(present - (known or set()))[:3]
                raise OutputError(
                    f"--out {out} holds files that are not from a jaxsnn run "
                    f"({', '.join(strangers)}{', ...' if len(present - (known or set())) > 3 else ''}); "
                    "give a new or empty folder"
                )
        parent = self.out.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self.staging = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.partial-", dir=parent))
            os.chmod(self.staging, 0o777 & ~_umask())
        except OSError as err:
            raise OutputError(f"--out {out}: cannot write to {parent} ({err.strerror})") from None

    def path(self, name: str) -> Path:
        """Where the run writes its file `name` (inside the staging folder)."""
        if os.sep in name or name in ("", ".", "..", MANIFEST):
            raise ValueError(f"output file names are plain names, got {name!r}")
        self._files.append(name)
        return self.staging / name

    def final(self, name: str) -> Path:
        """Where file `name` will be once the run is committed."""
        return self.out / name

    def commit(self) -> Path:
        """Put the staging folder in place of `out` (module docstring); returns `out`."""
        manifest = {
            "command": self.command,
            "files": sorted(set(self._files)),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        with open(self.staging / MANIFEST, "w") as f:
            json.dump(manifest, f, indent=2)
        os.chmod(self.staging / MANIFEST, 0o666 & ~_umask())
        with self._lock:  # an interrupt waits for the folder swap to finish
            if self.out.exists():
                if not _exchange(self.staging, self.out):
                    old = self.staging.with_name(self.staging.name + ".old")
                    os.rename(self.out, old)
                    os.rename(self.staging, self.out)
                    self.staging = old
                self.committed = True
                shutil.rmtree(self.staging, ignore_errors=True)  # now the previous run
            else:
                os.rename(self.staging, self.out)
                self.committed = True
        return self.out

    def discard(self) -> None:
        """Remove the staging folder (a run that did not finish)."""
        if not self.committed:
            shutil.rmtree(self.staging, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


@contextlib.contextmanager
def interrupt_exits(command: str, outputs: RunOutputs | None = None) -> Iterator[None]:
    """Make Ctrl-C end the process at once with one line and exit code 130 (module
    docstring). Only from the main thread (where Python's signal handling lives)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    # Python's C-level handler writes the signal number to the wakeup fd the moment the
    # signal arrives, in whichever thread it lands; a watcher thread blocked on the pipe
    # acts on it at once, while the main thread may be inside XLA for minutes.
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    old_fd = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    old_handler = signal.signal(signal.SIGINT, lambda signum, frame: None)

    def watch() -> None:
        while True:
            try:
                data = os.read(read_fd, 64)
            except OSError:
                return
            if not data:  # the run ended and closed the pipe
                os.close(read_fd)
                return
            if signal.SIGINT in data:
                break
        if outputs is not None:
            with outputs._lock:
                if outputs.committed:
                    where = f"{outputs.out} holds this run's outputs"
                elif outputs.out.exists():
                    where = f"{outputs.out} unchanged"
                else:
                    where = "nothing written"
                outputs.discard()
        else:
            where = "nothing written"
        print(f"\njaxsnn {command}: interrupted; {where}", file=sys.stderr, flush=True)
        os._exit(130)

    threading.Thread(target=watch, name="jaxsnn-interrupt", daemon=True).start()
    try:
        yield
    finally:
        if outputs is not None and not outputs.committed:
            outputs.discard()
        signal.signal(signal.SIGINT, old_handler)
        signal.set_wakeup_fd(old_fd)
        os.close(write_fd)  # the watcher sees end-of-file, closes its end and stops

"""Writing files atomically: the data goes to a temporary file in the same folder,
which is then renamed over the target, so an interrupted write never leaves a truncated
file and never destroys the previous one. (Saving networks and states: `jaxsnn.saves`.)
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TypeVar

T = TypeVar("T")


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> Path:
    """Write a file atomically: `write(f)` fills a temporary file that then replaces `path`.

    Args:
        path: the target file; its folder is created if missing.
        write: called with a binary file object opened for writing.

    Returns:
        The target path.

    The file gets the mode `open()` would give a new file (0o666 less the umask), not
    the owner-only 0o600 of the temporary file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    # Linux shows the umask without changing it; elsewhere os.umask is the only way to
    # read it, and it sets it too, so it is put back at once.
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_json(path: str | os.PathLike, data: Any) -> Path:
    """Write `data` as indented JSON, atomically."""
    text = json.dumps(data, indent=2, sort_keys=False) + "\n"
    return atomic_write(path, lambda f: f.write(text.encode()))

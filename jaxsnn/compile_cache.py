"""JAX's persistent compilation cache for the command line: a second `jaxsnn decide`
loads its compiled kernels from disk instead of compiling them again.

The cache folder is per user: `$JAXSNN_CACHE_DIR` if set, else
`$XDG_CACHE_HOME/jaxsnn/xla` (`~/.cache/jaxsnn/xla`). `--compile-cache DIR` chooses
another, `--no-compile-cache` (or `JAXSNN_CACHE_DIR=off`) switches it off. The cache is
JAX's own (`jax_compilation_cache_dir`): entries are keyed by the computation, the JAX
version and the device, so a stale entry is never used; deleting the folder is always
safe. From Python, enable it the same way with `enable_compile_cache(folder)`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

OFF = "off"


def default_cache_dir() -> str:
    """`$JAXSNN_CACHE_DIR`, else `$XDG_CACHE_HOME/jaxsnn/xla` (~/.cache/jaxsnn/xla)."""
    env = os.environ.get("JAXSNN_CACHE_DIR")
    if env:
        return env
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "jaxsnn", "xla")


def add_cache_argument(parser: argparse.ArgumentParser) -> None:
    """`--compile-cache DIR` and `--no-compile-cache` (dest `compile_cache`)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--compile-cache",
        metavar="DIR",
        default=default_cache_dir(),
        help="folder of JAX's persistent compilation cache (default $JAXSNN_CACHE_DIR or "
        "~/.cache/jaxsnn/xla): a repeated run loads compiled kernels instead of compiling",
    )
    group.add_argument(
        "--no-compile-cache",
        dest="compile_cache",
        action="store_const",
        const=OFF,
        help="compile everything afresh, read and write no cache",
    )


def enable_compile_cache(folder: str | os.PathLike | None) -> Path | None:
    """Use `folder` as JAX's persistent compilation cache (None or "off": leave the cache
    off). Returns the folder, or None if the cache stays off (also when the folder cannot
    be created: the run then simply compiles)."""
    if folder is None or str(folder) == OFF:
        return None
    import jax

    path = Path(folder).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    jax.config.update("jax_compilation_cache_dir", str(path))
    # cache every kernel that took noticeable time to compile, whatever its size
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return path

"""Native CPU kernels behind `jaxsnn.Event`, called through XLA's FFI (`jax.ffi`).

Why: on XLA:CPU every operation of a step is a "thunk" that costs 0.1-0.2 µs to run,
and event-driven propagation written in JAX is dozens of them (count the spikes, pick a
bucket, list the spiking neurons, gather their rows, scatter-add), plus the control flow
between them. The same work as one C++ loop over the spiking rows is one call.

The kernels (`event.cc` beside this file) are compiled with the system's C++ compiler the
first time they are needed, against the FFI headers shipped with jaxlib, into a per-user
cache folder: `$JAXSNN_NATIVE_DIR`, else `$XDG_CACHE_HOME/jaxsnn/native`
(`~/.cache/jaxsnn/native`). The library's name holds a hash of the source, the compiler
flags, jaxlib's version and the machine, so an edited source or another jaxlib builds a
new one; deleting the folder is always safe. Building takes about 2 s, once.

Nothing has to be installed for this: without a C++ compiler (`$CXX`, else `c++`), or if
the build or the loading fails, `Event` runs its pure-JAX path and a `RuntimeWarning` says
so once per process. `JAXSNN_NATIVE=0` switches the kernels off (pure JAX everywhere);
`Event(native=False)` does so for one projection.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

SOURCE = Path(__file__).with_name("event.cc")
TARGETS = ("jaxsnn_event_drives", "jaxsnn_event_weight_grads")
# Portable code for the machine's architecture (no -march=native): a cache folder shared
# between machines of one architecture stays valid. The loop is memory-bound anyway.
FLAGS = ("-O3", "-std=c++17", "-shared", "-fPIC")
DTYPES = (jnp.float32, jnp.float64)


def native_dir() -> Path:
    """`$JAXSNN_NATIVE_DIR`, else `$XDG_CACHE_HOME/jaxsnn/native` (~/.cache/jaxsnn/native)."""
    env = os.environ.get("JAXSNN_NATIVE_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "jaxsnn" / "native"


def _library_name(compiler: str) -> str:
    import jaxlib

    digest = hashlib.sha256()
    for part in (SOURCE.read_bytes(), " ".join(FLAGS).encode(), compiler.encode()):
        digest.update(part)
    digest.update(f"{jaxlib.__version__} {platform.machine()} {platform.system()}".encode())
    return f"event-{digest.hexdigest()[:16]}.so"


def _build(compiler: str, target: Path) -> None:
    """Compile the kernels into `target`, atomically (concurrent builds, e.g. test
    workers, each write their own file and the last rename wins; all are identical)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=target.parent)
    os.close(fd)
    try:
        cmd = [compiler, *FLAGS, "-isystem", jax.ffi.include_dir(), str(SOURCE), "-o", tmp]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[:2])} ... failed:\n{done.stderr[-2000:]}")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@functools.cache
def _load() -> ctypes.CDLL | str:
    """The kernels' library, registered with XLA; or the reason it is not available."""
    if os.environ.get("JAXSNN_NATIVE", "1") == "0":
        return "switched off by JAXSNN_NATIVE=0"
    compiler = os.environ.get("CXX") or "c++"
    if shutil.which(compiler) is None:
        return f"no C++ compiler found ({compiler!r}; set $CXX)"
    try:
        path = native_dir() / _library_name(compiler)
        if not path.exists():
            _build(compiler, path)
        lib = ctypes.CDLL(str(path))
        for name in TARGETS:
            capsule = jax.ffi.pycapsule(getattr(lib, name))
            jax.ffi.register_ffi_target(name, capsule, platform="cpu")
    except (OSError, RuntimeError, subprocess.SubprocessError, AttributeError) as err:
        return f"{type(err).__name__}: {err}"
    return lib


@functools.cache
def available() -> bool:
    """True when the native kernels are built, loaded and registered (they are built on
    the first call); on failure, warns once with the reason and returns False."""
    loaded = _load()
    if isinstance(loaded, str):
        if not loaded.startswith("switched off"):
            warnings.warn(
                "jaxsnn: native CPU event kernels unavailable, using the pure-JAX path "
                f"(same results, slower on CPU): {loaded}",
                RuntimeWarning,
                stacklevel=2,
            )
        return False
    return True


def usable(dtype) -> bool:
    """Whether the kernels can compute a drive of this dtype on the current default
    backend (CPU only; float32 or float64)."""
    return jnp.dtype(dtype) in DTYPES and jax.default_backend() == "cpu" and available()


def _per_projection_call(target, out, arrays, targets, signals, sources):
    """One call of a kernel walking a step's projections (`ForEachProjection` in
    event.cc): the signals, then per projection its array and, if sparse, its targets."""
    stored = []
    for x, tg in zip(arrays, targets, strict=True):
        stored += [x] if tg is None else [x, tg.astype(jnp.int32)]
    # broadcast_all: a vmap over this call adds its axis in front of every argument, which
    # keeps weights and targets a leading prefix of the signals' batch.
    call = jax.ffi.ffi_call(target, tuple(out), vmap_method="broadcast_all")
    return call(
        *signals,
        *stored,
        source=np.asarray(sources, np.int64),
        sparse=np.asarray([tg is not None for tg in targets], np.int64),
    )


def event_drives(
    weights: Sequence[Float[Array, "*wb n_pre k"]],
    targets: Sequence[Int[Array, "*tb n_pre k"] | None],
    signals: Sequence[Float[Array, "*b n_pre"]],
    sources: Sequence[int],
    n_posts: Sequence[int],
) -> tuple[Float[Array, "*b n_post"], ...]:
    """`Σ_i w_ij s_i` of several projections, over the rows of nonzero `s` only, in one
    native call (check `usable` first).

    Projection p has `weights[p]`, `targets[p]` (None: dense weights (n_pre, n_post);
    else ELL storage, target indices outside [0, n_post) are padding) and reads
    `signals[sources[p]]`. Leading (batch) axes of weights and targets, if any, must be
    leading axes of the signal's batch (vmap's layout). Everything shares one dtype."""
    out = [
        jax.ShapeDtypeStruct((*signals[src].shape[:-1], n), signals[src].dtype)
        for src, n in zip(sources, n_posts, strict=True)
    ]
    return _per_projection_call("jaxsnn_event_drives", out, weights, targets, signals, sources)


def event_weight_grads(
    cotangents: Sequence[Float[Array, "*b n_post"]],
    targets: Sequence[Int[Array, "*tb n_pre k"] | None],
    signals: Sequence[Float[Array, "*b n_pre"]],
    sources: Sequence[int],
    weight_shapes: Sequence[tuple[int, ...]],
) -> tuple[Float[Array, "*wb n_pre k"], ...]:
    """The transpose of `event_drives` in the weights: for projection p,
    `dw[i, m] = Σ_b s_b[i] · ct_b[target(i, m)]` (dense: `Σ_b s_b[i] ct_b[j]`), summed over
    the batch rows that share one weight set, over the rows of nonzero `s` only.

    `weight_shapes[p]` is the shape of projection p's weights, leading batch axes
    included (they must be leading axes of the signal's batch)."""
    out = [
        jax.ShapeDtypeStruct(tuple(shape), signals[src].dtype)
        for src, shape in zip(sources, weight_shapes, strict=True)
    ]
    return _per_projection_call(
        "jaxsnn_event_weight_grads", out, cotangents, targets, signals, sources
    )

"""How many threads XLA:CPU runs a program on.

XLA:CPU runs the independent operations of a step concurrently on a pool of threads,
one per core by default. A step of one small network is a few dozen operations of a
microsecond or less each, and handing them between threads costs more than running them
one after another; large batched steps gain from the pool. So pin a single small network
to one thread, and leave batches of trials on the default.

From Python, before anything creates a JAX array or lists the devices (the pool is
made once, when JAX's CPU backend starts)::

    from jaxsnn.threads import set_cpu_threads

    set_cpu_threads(1)
    import jaxsnn as snn  # importing jaxsnn does not start the backend
    ...

From the command line: `jaxsnn --threads 1 demo`. From a shell, with no code:
`PJRT_NPROC=1 XLA_FLAGS=--xla_cpu_multi_thread_eigen=false python script.py`.

What `set_cpu_threads(n)` sets (checked against jaxlib 0.10.2):

- `PJRT_NPROC=n`: the size of the CPU client's pools (the intra-op pool, threads named
  `tf_XLAEigen`, on which the thunk runtime runs independent operations, and the
  client's dispatch pool), read once when the client is created. No XLA flag sizes
  them; without it they follow the process's CPU affinity mask, which is why
  `taskset -c 0` also gives one thread.
- `--xla_cpu_multi_thread_eigen=false` in `XLA_FLAGS` for n = 1 (`=true` otherwise):
  Eigen's matrix products and convolutions run single-threaded instead of being split
  across the pool. This jaxlib accepts it; in a check with 1024 x 1024 products it made
  no measurable difference, so the pool size is what matters. The other flags in
  `XLA_FLAGS` are kept; an earlier setting of this one is replaced. (The often quoted
  `intra_op_parallelism_threads=1` is not an XLA flag: XLA ignores the bare word, and
  `--intra_op_parallelism_threads=1` stops the process as an unknown flag.)

Measured effect (indicative only: a tiny run on a 2-core machine shared with other jobs,
a few processes of each): the 4000-neuron COBA network (workload W2, event-driven
propagation, 2000 steps) took 16-25 µs per step with `set_cpu_threads(1)`, 28-48 µs with
the default pool (2 threads here) and 35-38 µs with `set_cpu_threads(2)`. Pinning the
whole process to one core (`taskset -c 0`) was a little faster still, 14-19 µs: the one
pool thread and the calling thread then share a core. `set_cpu_threads` does not pin,
as that would bind every thread of the process, and every process pinned the same way,
to one core. The spikes of a run do not depend on the thread count (tests/test_threads.py
checks 1 against 2 threads).
"""

from __future__ import annotations

import numbers
import os
import re
import sys

__all__ = ["set_cpu_threads"]

_NPROC = "PJRT_NPROC"
_EIGEN = "--xla_cpu_multi_thread_eigen"
# The flag as a whole token, with or without a value, wherever it stands in XLA_FLAGS;
# other tokens (quoted values included) are left as they are.
_EIGEN_TOKEN = re.compile(r"(?:^|\s)" + re.escape(_EIGEN) + r"(?:=\S*)?(?=\s|$)")


def set_cpu_threads(n: int) -> None:
    """Make XLA:CPU run this process's programs on `n` threads.

    Must run before JAX's CPU backend starts: before the first JAX array, computation or
    `jax.devices()` call of the process.

    Args:
        n: number of threads, a positive int; 1 for a single small network.

    Raises:
        ValueError: if `n` is not a positive int.
        RuntimeError: if JAX's backend has already started in this process.
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"n must be a positive int (threads of XLA:CPU), got {n!r}")
    n = int(n)
    if _backend_started():
        raise RuntimeError(
            f"set_cpu_threads({n}) came too late: JAX's CPU backend has already started in "
            "this process, and its thread pool is made once, when it starts. Call "
            "set_cpu_threads at the start of the program, before anything creates a JAX "
            f"array or lists the devices; or use the command line's `jaxsnn --threads {n}`; "
            f"or start Python with PJRT_NPROC={n} in the environment."
        )
    os.environ[_NPROC] = str(n)
    os.environ["XLA_FLAGS"] = _with_thread_flags(os.environ.get("XLA_FLAGS", ""), n)


def _with_thread_flags(flags: str, n: int) -> str:
    """`flags` (an XLA_FLAGS string) with the thread flag for `n` threads, replacing an
    earlier one."""
    kept = _EIGEN_TOKEN.sub("", flags).strip()
    own = f"{_EIGEN}={'false' if n == 1 else 'true'}"
    return f"{kept} {own}" if kept else own


def _backend_started() -> bool:
    if "jax" not in sys.modules:
        return False
    from jax._src import xla_bridge

    started = getattr(xla_bridge, "backends_are_initialized", None)
    if started is not None:
        return bool(started())
    # jax versions without the query keep the started backends in this dict
    return bool(getattr(xla_bridge, "_backends", None))

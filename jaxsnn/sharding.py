"""Running a batch of independent trials across several devices.

A model simulates one trial; `jax.vmap` batches trials on one device; `sharded_vmap`
additionally splits the batch axis over every device of a 1-D mesh (`jax.sharding`), so
each device runs its share of the trials. With one device it is plain `jit(vmap(fn))`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec


def trial_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A 1-D mesh named "trials" over `devices` (default: all devices)."""
    devices = jax.devices() if devices is None else list(devices)
    return Mesh(np.array(devices), ("trials",))


def sharded_vmap(fn: Callable[..., Any], mesh: Mesh | None = None) -> Callable[..., Any]:
    """`jit(vmap(fn))` with the leading (trial) axis of every argument and result split
    over the devices of `mesh`.

    Args:
        fn: a single-trial function of arrays (e.g. `lambda key, rate: simulate(...)`).
        mesh: a 1-D mesh with axis "trials" (default: `trial_mesh()`).

    Returns:
        A function taking the same arguments with an extra leading batch axis, whose size
        must be a multiple of the number of devices.
    """
    mesh = trial_mesh() if mesh is None else mesh
    n_devices = mesh.devices.size
    split = NamedSharding(mesh, PartitionSpec("trials"))
    batched = jax.jit(jax.vmap(fn), out_shardings=split)

    def run(*args):
        sizes = {np.shape(leaf)[0] for leaf in jax.tree.leaves(args)}
        if len(sizes) != 1:
            raise ValueError(
                f"all arguments need the same leading (trial) size, got {sorted(sizes)}"
            )
        (size,) = sizes
        if size % n_devices:
            raise ValueError(
                f"the number of trials ({size}) must be a multiple of the number of devices "
                f"({n_devices})"
            )
        return batched(*jax.device_put(args, split))

    return run

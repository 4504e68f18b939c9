"""snnpy's files, read and written by jaxsnn, so a reservoir moves between the libraries.

snnpy (2.0.0) keeps a reservoir in three files (its default names in `SNNPY_FILES`):

- the topology, `scipy.sparse.save_npz` of the (n, n) float32 weight matrix W[pre, post];
- the membrane potentials, `np.save` of an (n,) float32 array;
- the output neurons, `np.save` of an (n_out,) integer array.

The loaders are plain functions that need no reservoir (like snnpy's module-level
`load_topology`, `load_membrane_potentials`, `load_output_neurons`); `load_reservoir`
builds a `Reservoir` from the three. Writers are atomic (a temporary file renamed into
place), so an interrupted save never leaves a truncated file where a good one was.
Output spike matrices (T, n_out) go to `.npy` as int8, snnpy's dtype.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from jaxtyping import ArrayLike

from ..io import atomic_write
from .model import Reservoir, from_adjacency

SNNPY_FILES = {
    "topology": "snn_matrices.npz",
    "potentials": "membrane_potentials.npy",
    "output_neurons": "output_neurons.npy",
}


def _existing(path: str | os.PathLike) -> Path:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no file at {p}")
    return p


def save_topology(path: str | os.PathLike, reservoir_or_matrix) -> Path:
    """Write the weights as snnpy does (`scipy.sparse.save_npz`, CSR, float32); takes a
    `Reservoir` or any scipy.sparse / dense (n, n) matrix."""
    from scipy import sparse

    if isinstance(reservoir_or_matrix, Reservoir):
        m = reservoir_or_matrix.adjacency()
    else:
        m = sparse.csr_matrix(reservoir_or_matrix, dtype=np.float32)
        m.sort_indices()
    return atomic_write(path, lambda f: sparse.save_npz(f, m))


def load_topology(path: str | os.PathLike):
    """The weight matrix of a topology file, a `scipy.sparse.csr_matrix` with sorted
    indices (stored zeros kept: they are synapses)."""
    from scipy import sparse

    m = sparse.load_npz(_existing(path)).tocsr()
    m.sort_indices()
    return m


def save_membrane_potentials(path: str | os.PathLike, v: ArrayLike) -> Path:
    """Write (n,) membrane potentials (float32 `.npy`)."""
    arr = np.asarray(v, np.float32)
    if arr.ndim != 1:
        raise ValueError(f"membrane potentials must be 1-D, got shape {arr.shape}")
    return atomic_write(path, lambda f: np.save(f, arr))


def load_membrane_potentials(path: str | os.PathLike) -> np.ndarray:
    """The (n,) membrane potentials of a `.npy` file."""
    arr = np.load(_existing(path))
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(
            f"{path}: membrane potentials must be a 1-D float array, got {arr.shape} {arr.dtype}"
        )
    return arr


def save_output_neurons(path: str | os.PathLike, indices: ArrayLike) -> Path:
    """Write output-neuron indices (int64 `.npy`, what snnpy's `np.random.choice` gives)."""
    arr = np.asarray(indices)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError("output neurons must be a 1-D integer array")
    return atomic_write(path, lambda f: np.save(f, arr.astype(np.int64)))


def load_output_neurons(path: str | os.PathLike) -> np.ndarray:
    """Output-neuron indices of a `.npy` file; whole-valued floats are accepted as snnpy
    accepts them."""
    arr = np.load(_existing(path))
    if arr.ndim != 1:
        raise ValueError(f"{path}: output neurons must be a 1-D array, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        if np.all(np.isfinite(arr)) and np.all(np.mod(arr, 1) == 0):
            arr = arr.astype(np.int64)
        else:
            raise ValueError(f"{path}: output neurons must be integer indices")
    return arr


def save_outputs(path: str | os.PathLike, outputs: ArrayLike) -> Path:
    """Write a (T, n_out) output spike matrix as int8 `.npy` (snnpy's `simulate()` value)."""
    arr = np.asarray(outputs)
    if arr.ndim != 2:
        raise ValueError(f"outputs must be (T, n_out), got shape {arr.shape}")
    return atomic_write(path, lambda f: np.save(f, (arr > 0).astype(np.int8)))


def load_outputs(path: str | os.PathLike) -> np.ndarray:
    """A (T, n_out) output spike matrix as 0/1 float32 (ready for `jaxsnn.analysis`)."""
    arr = np.load(_existing(path))
    if arr.ndim != 2:
        raise ValueError(f"{path}: outputs must be (T, n_out), got shape {arr.shape}")
    return (arr > 0).astype(np.float32)


def save_reservoir(folder: str | os.PathLike, reservoir: Reservoir, state=None) -> dict[str, Path]:
    """Write the three snnpy files of a reservoir into `folder` under snnpy's names.
    The potentials are `state.v` if a state is given, else the initial potentials."""
    folder = Path(folder)
    v = reservoir.v_init if state is None else state.v
    return {
        "topology": save_topology(folder / SNNPY_FILES["topology"], reservoir),
        "potentials": save_membrane_potentials(folder / SNNPY_FILES["potentials"], v),
        "output_neurons": save_output_neurons(
            folder / SNNPY_FILES["output_neurons"], reservoir.output_neurons
        ),
    }


def load_reservoir(folder: str | os.PathLike, **params) -> Reservoir:
    """A reservoir from the three snnpy files in `folder` (snnpy's names); `params` are
    the neuron parameters snnpy does not save (`threshold`, `refractory_steps`,
    `leak_coefficient` or `tau_steps`, and optionally `current_amplitude`, `stdp`,
    `layout`), as for `from_adjacency`."""
    folder = Path(folder)
    return from_adjacency(
        load_topology(folder / SNNPY_FILES["topology"]),
        initial_potentials=load_membrane_potentials(folder / SNNPY_FILES["potentials"]),
        output_neurons=load_output_neurons(folder / SNNPY_FILES["output_neurons"]),
        **params,
    )

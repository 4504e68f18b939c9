"""Saves that describe themselves: `save(path, tree)` writes a network, a state, a
training checkpoint (model, optimiser state, step, key) or any pytree, with its
structure; `load(path)` rebuilds it in a fresh process without building anything first;
`load(path, like)` loads into a given pytree and says exactly what differs when it
does not match.

File format (version 1): a zip archive with

- `jaxsnn-save.json`: `{"format": "jaxsnn-save", "version": 1, "jaxsnn": ...,
  "kind": <type of the saved object>}`;
- `arrays.npz`: the array leaves, `leaf_0` ... in flattening order (PRNG keys as their
  key data, with the key implementation recorded);
- `structure.pkl`: the pytree with each array leaf replaced by its index (classes are
  referred to by module and name, as pickle does).

Loading unpickles only classes from jaxsnn, Equinox, Optax, JAX and NumPy (and plain
Python containers) unless `trusted=True`: a file from elsewhere cannot run code by
naming an arbitrary class. A model class of your own (the README's "Write your own
neuron model") needs `trusted=True` and must be importable where you load.

Files are written atomically (`jaxsnn.io.atomic_write`). Files written by the previous
format (`equinox.tree_serialise_leaves`, arrays only) still load with `load(path, like)`.
"""

from __future__ import annotations

import io as _io
import json
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any, TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .io import atomic_write

T = TypeVar("T")
FORMAT, VERSION = "jaxsnn-save", 1
_SAFE_ROOTS = ("jaxsnn", "equinox", "optax", "jax", "jaxlib", "numpy", "collections", "jaxtyping")
_SAFE_BUILTINS = {
    "tuple", "list", "dict", "set", "frozenset", "slice", "range", "complex", "float",
    "int", "bool", "str", "bytes", "bytearray", "NoneType", "object", "getattr",
}  # fmt: skip


class _Leaf:
    """Placeholder for array leaf `index` inside the pickled structure."""

    def __init__(self, index: int):
        self.index = index

    def __reduce__(self):
        return (_Leaf, (self.index,))


def _is_key(x) -> bool:
    return isinstance(x, jax.Array) and jnp.issubdtype(x.dtype, jax.dtypes.prng_key)


def save(path: str | os.PathLike, tree: Any) -> Path:
    """Write `tree` (arrays and structure) to `path` atomically; returns the path."""
    leaves, treedef = jax.tree.flatten(tree, is_leaf=_is_key)
    arrays, kinds, skeleton = {}, {}, []
    for i, leaf in enumerate(leaves):
        if _is_key(leaf):
            arrays[f"leaf_{i}"] = np.asarray(jax.random.key_data(leaf))
            kinds[str(i)] = ["key", str(jax.random.key_impl(leaf))]
            skeleton.append(_Leaf(i))
        elif eqx.is_array(leaf):
            arrays[f"leaf_{i}"] = np.asarray(leaf)
            kinds[str(i)] = ["jax" if isinstance(leaf, jax.Array) else "numpy", None]
            skeleton.append(_Leaf(i))
        else:
            skeleton.append(leaf)
    structure = jax.tree.unflatten(treedef, skeleton)
    try:
        pickled = pickle.dumps(structure, protocol=4)
    except (pickle.PicklingError, TypeError, AttributeError) as err:
        raise ValueError(
            f"cannot save the structure of this {type(tree).__name__}: {err} (a lambda or a "
            "local function among its fields? use a module-level function or class)"
        ) from err
    header = {
        "format": FORMAT,
        "version": VERSION,
        "jaxsnn": _version(),
        "kind": type(tree).__name__,
        "leaf_kinds": kinds,
    }

    def write(f):
        buf = _io.BytesIO()
        np.savez(buf, **arrays)
        with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as z:
            z.writestr("jaxsnn-save.json", json.dumps(header, indent=1))
            z.writestr("arrays.npz", buf.getvalue())
            z.writestr("structure.pkl", pickled)

    return atomic_write(path, write)


def _version() -> str:
    from . import __version__

    return __version__


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, trusted: bool):
        super().__init__(file)
        self.trusted = trusted

    def find_class(self, module, name):
        if module == __name__ and name == "_Leaf":
            return _Leaf
        root = module.split(".")[0]
        safe = root in _SAFE_ROOTS or (module == "builtins" and name in _SAFE_BUILTINS)
        if not (self.trusted or safe):
            raise pickle.UnpicklingError(
                f"the file refers to {module}.{name}, outside jaxsnn, Equinox, Optax, JAX "
                "and NumPy; load it with trusted=True if you trust the file (and that "
                "module is importable here)"
            )
        return super().find_class(module, name)


def _read(path: Path, trusted: bool):
    with zipfile.ZipFile(path) as z:
        header = json.loads(z.read("jaxsnn-save.json"))
        if header.get("format") != FORMAT:
            raise ValueError(f"{path} is not a jaxsnn save (format {header.get('format')!r})")
        if header.get("version", 0) > VERSION:
            raise ValueError(
                f"{path} was written by a newer jaxsnn (format version {header['version']}, "
                f"this one reads up to {VERSION}): upgrade jaxsnn to load it"
            )
        with np.load(_io.BytesIO(z.read("arrays.npz"))) as npz:
            arrays = {k: npz[k] for k in npz.files}
        try:
            structure = _Unpickler(_io.BytesIO(z.read("structure.pkl")), trusted).load()
        except pickle.UnpicklingError as err:
            raise ValueError(f"{path}: {err}") from None
        except (ImportError, AttributeError) as err:
            raise ValueError(
                f"{path} refers to a class that cannot be imported here ({err}): import "
                "the module that defines your model first"
            ) from None
    kinds = header["leaf_kinds"]

    def fill(x):
        if not isinstance(x, _Leaf):
            return x
        kind, impl = kinds[str(x.index)]
        a = arrays[f"leaf_{x.index}"]
        if kind == "key":
            return jax.random.wrap_key_data(jnp.asarray(a), impl=impl)
        return jnp.asarray(a) if kind == "jax" else a

    return jax.tree.map(fill, structure, is_leaf=lambda x: isinstance(x, _Leaf))


def load(path: str | os.PathLike, like: T | None = None, *, trusted: bool = False) -> T:
    """Load a pytree saved by `save`.

    Args:
        path: the file.
        like: optional pytree to load into (e.g. a freshly built network): the saved
            structure and every array's shape and dtype must match it, else a ValueError
            names the first difference. Without `like` the saved object is rebuilt as is.
        trusted: allow classes from any module (see the module docstring).

    Raises:
        FileNotFoundError: if `path` does not exist.
        ValueError: if the file is not a jaxsnn save or does not match `like`.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no saved file at {path}")
    if not zipfile.is_zipfile(path):
        if like is None:
            raise ValueError(
                f"{path} is in the old arrays-only format: load it into a pytree of the same "
                "structure, load(path, like)"
            )
        return _load_old(path, like)
    tree = _read(path, trusted)
    if like is None:
        return tree
    check_match(tree, like, path)
    return tree


def _load_old(path: Path, like):
    try:
        with open(path, "rb") as f:
            return eqx.tree_deserialise_leaves(f, like)
    except (RuntimeError, ValueError, EOFError) as err:
        raise ValueError(
            f"{path} does not match the structure of the given pytree "
            f"(was it saved from a network of the same sizes?): {err}"
        ) from err


def _describe(path) -> str:
    return jax.tree_util.keystr(path) or "(the whole object)"


def check_match(tree, like, path: str | os.PathLike) -> None:
    """Raise ValueError naming the first difference of structure, shape or dtype between
    `tree`, loaded from `path`, and `like` (what `load(path, like)` checks)."""
    path = Path(path)
    saved = jax.tree_util.tree_flatten_with_path(tree, is_leaf=_is_key)[0]
    given = jax.tree_util.tree_flatten_with_path(like, is_leaf=_is_key)[0]
    saved_paths = [_describe(p) for p, _ in saved]
    given_paths = [_describe(p) for p, _ in given]
    if saved_paths != given_paths:
        missing = [p for p in given_paths if p not in saved_paths]
        extra = [p for p in saved_paths if p not in given_paths]
        detail = (
            f"the given object has {missing[:3]} that the file lacks"
            if missing
            else f"the file has {extra[:3]} that the given object lacks"
        )
        raise ValueError(
            f"{path} holds a {type(tree).__name__} of another structure than the given "
            f"{type(like).__name__}: {detail} (different populations, projections or "
            "models?)"
        )
    for (p, a), (_, b) in zip(saved, given, strict=True):
        if eqx.is_array(a) != eqx.is_array(b):
            raise ValueError(f"{path}: {_describe(p)} is an array in one and not the other")
        if eqx.is_array(a):
            if a.shape != b.shape or a.dtype != b.dtype:
                hint = ""
                if a.ndim == 2 and b.ndim == 2 and a.shape[0] == b.shape[0]:
                    hint = (
                        " (sparse weights store as many columns as the most connected "
                        "neuron has synapses: another connectivity, e.g. another key?)"
                    )
                raise ValueError(
                    f"{path}: {_describe(p)} has shape {a.shape} {a.dtype} in the file and "
                    f"{b.shape} {b.dtype} in the given object{hint}"
                )
        elif type(a) is not type(b) or (isinstance(a, int | float | str | bool) and a != b):
            raise ValueError(
                f"{path}: {_describe(p)} is {a!r} in the file and {b!r} in the given object"
            )

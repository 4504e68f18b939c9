"""Training checkpoints that resume exactly.

A `Checkpoint` holds everything a training loop needs to continue as if it had never
stopped: the model, the optimiser state, the number of steps done, the run's key, the
per-step history so far and the run's configuration (plain values: sizes, batch size,
learning rate). `save_checkpoint` writes it atomically (`jaxsnn.saves`, a killed run never
leaves half a file); `resume_checkpoint` reads it back into a checkpoint built from the
run being started and refuses, naming the difference, a file from another run (another
structure, shapes, configuration or key). A loop whose step `i` draws from
`fold_in(key, i)` then ends with bit-identical weights whether or not it was interrupted.
"""

from __future__ import annotations

import os
import pickle
import zipfile
import zlib
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray

from . import saves

_DAMAGED = (zipfile.BadZipFile, EOFError, KeyError, OSError, pickle.UnpicklingError, zlib.error)


class Checkpoint(eqx.Module):
    """The state of a training run after `step` optimiser steps.

    Attributes:
        model: the model being trained (weights and constants).
        opt_state: the optax optimiser state.
        step: () int, optimiser steps done.
        key: the run's PRNG key (a resumed run must use the same key).
        losses: (step,) loss of each step done.
        accuracies: (step,) batch accuracy of each step done.
        config: the run's configuration as plain Python values, compared on resume.
    """

    model: Any
    opt_state: Any
    step: Int[Array, ""]
    key: PRNGKeyArray
    losses: Float[Array, " step"]
    accuracies: Float[Array, " step"]
    config: dict = eqx.field(static=True)


def save_checkpoint(path: str | os.PathLike, checkpoint: Checkpoint) -> Path:
    """Write `checkpoint` to `path` atomically; returns the path."""
    if not isinstance(checkpoint, Checkpoint):
        raise ValueError(f"save_checkpoint takes a Checkpoint, got {type(checkpoint).__name__}")
    return saves.save(path, checkpoint)


def resume_checkpoint(
    path: str | os.PathLike, start: Checkpoint, *, name: str = "checkpoint"
) -> Checkpoint:
    """The checkpoint saved at `path`, or `start` when there is no file there yet.

    Args:
        path: the checkpoint file.
        start: the checkpoint of the run being started (step 0, empty history): its
            structure, shapes, configuration and key must match the file's.
        name: what the caller calls the file, to begin error messages with (the
            argument's name).

    Raises:
        ValueError: if the file is not a complete checkpoint or belongs to another run
            (the message names the first difference); it is then never used in part.
    """
    path = Path(path)
    refuse = f"{name} {path}"
    if not path.exists():
        return start
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{refuse} is not a complete checkpoint (cut short, corrupt or another file); it "
            "was not used: move it away to start afresh"
        )
    try:
        saved = saves.load(path)
    except (*_DAMAGED, ValueError) as err:  # a damaged header is json's ValueError
        raise ValueError(f"{refuse} cannot be read ({err}); it was not used") from None
    if not isinstance(saved, Checkpoint):
        raise ValueError(f"{refuse} holds a {type(saved).__name__}, not a training checkpoint")
    for k in sorted(set(saved.config) | set(start.config)):
        there, here = saved.config.get(k), start.config.get(k)
        if there != here:
            what = (
                f"the {k} differ"
                if isinstance(there, str) and len(there) > 40  # a fingerprint
                else f"{k} is {there!r} there and {here!r} here"
            )
            raise ValueError(f"{refuse} belongs to another run: {what}")
    same_key = np.array_equal(_key_data(saved.key), _key_data(start.key))
    if not same_key:
        raise ValueError(
            f"{refuse} belongs to another run: it was trained with another key (seed); "
            "resuming it with this key would not reproduce that run"
        )
    n = int(saved.step)
    # the history grows with the steps: compare against a `start` with the file's length
    like = eqx.tree_at(
        lambda c: (c.losses, c.accuracies),
        start,
        (np.zeros((n,), start.losses.dtype), np.zeros((n,), start.accuracies.dtype)),
    )
    try:
        saves.check_match(saved, like, path)  # the file is read once, above
    except ValueError as err:
        raise ValueError(f"{refuse} does not fit this model and optimiser: {err}") from None
    return saved


def _key_data(key: PRNGKeyArray) -> np.ndarray:
    if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
        return np.asarray(jax.random.key_data(key))
    return np.asarray(key)  # a raw uint32 key (jax.random.PRNGKey)

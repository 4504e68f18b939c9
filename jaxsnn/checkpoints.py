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
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray

from . import saves


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


def resume_checkpoint(path: str | os.PathLike, start: Checkpoint) -> Checkpoint:
    """The checkpoint saved at `path`, or `start` when there is no file there yet.

    Args:
        path: the checkpoint file.
        start: the checkpoint of the run being started (step 0, empty history): its
            structure, shapes, configuration and key must match the file's.

    Raises:
        ValueError: if the file is not a checkpoint of this run (the message names the
            first difference), or has done more steps than it records.
    """
    path = Path(path)
    if not path.exists():
        return start
    # The file's leaves must match `start`'s, except the history, which grows with the
    # steps: compare against a `start` whose history has the file's length.
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{path} is not a jaxsnn checkpoint (not a jaxsnn save: another file, or one cut "
            "short?); move it away to start afresh"
        )
    try:
        saved = saves.load(path)
    except (zipfile.BadZipFile, KeyError, EOFError, pickle.UnpicklingError) as err:
        raise ValueError(f"{path} is a damaged checkpoint ({err}); move it away") from err
    if not isinstance(saved, Checkpoint):
        raise ValueError(f"{path} is a saved {type(saved).__name__}, not a training checkpoint")
    if saved.config != start.config:
        diff = sorted(
            k for k in set(saved.config) | set(start.config)
            if saved.config.get(k) != start.config.get(k)
        )  # fmt: skip
        detail = ", ".join(
            f"{k}: {saved.config.get(k)!r} in the file, {start.config.get(k)!r} now" for k in diff
        )
        raise ValueError(f"{path} is a checkpoint of another run ({detail})")
    n = int(saved.step)
    like = eqx.tree_at(
        lambda c: (c.losses, c.accuracies),
        start,
        (np.zeros((n,), start.losses.dtype), np.zeros((n,), start.accuracies.dtype)),
    )
    saves.load(path, like)  # names the first difference of structure, shape or dtype
    same_key = np.array_equal(
        np.asarray(jax.random.key_data(saved.key)), np.asarray(jax.random.key_data(start.key))
    )
    if not same_key:
        raise ValueError(
            f"{path} was written by a run with another key (seed): resuming it with this "
            "key would not reproduce that run; use the same seed or another checkpoint file"
        )
    if saved.losses.shape != (n,) or saved.accuracies.shape != (n,):
        raise ValueError(f"{path}: the history does not have one entry per step ({n})")
    return saved

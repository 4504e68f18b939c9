"""The three decision tasks, generated in code from a key.

A task turns a key into a batch of trials: per-channel Poisson input rates (Hz) of shape
(batch, n_in) and binary labels (batch,). Input spikes themselves are drawn inside the
simulation from the trial key, so each trial is fresh Poisson noise on top of its rates.

- `RatePattern`: '1' = sustained high rate on every channel, '0' = sparse input
  (W1's patterns: 100 Hz versus 20 Hz by default).
- `XOR`: the channels are split into two groups A (first half) and B (second half), each
  independently on (`on_hz`) or off (`off_hz`); the label is A XOR B. A single rate
  threshold on the total input cannot solve it: the network has to compute it.
- `HardRate`: the rate task with overlapping classes and noise: a trial's base rate is
  N(mean_0_hz or mean_1_hz, spread_hz²), each channel's rate is the base times
  (1 + channel_noise · N(0, 1)), clipped at 0. The classes overlap, so even an ideal
  observer of the rates is wrong on a fraction of trials (about 16 % with the defaults:
  the class means are 2 spreads apart).

Train/test splits are by key: `task.split(key, "train", n)` and `task.split(key, "test", n)`
draw from `fold_in(key, 0)` and `fold_in(key, 1)`, so the two never share a trial.
"""

from __future__ import annotations

import abc
from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import check_int, check_nonnegative

SPLITS = {"train": 0, "test": 1}


class AbstractTask(eqx.Module):
    """A binary decision task over `n_in` Poisson channels.

    Subclasses implement `rates(key, labels, n_in)`; `sample` draws balanced-in-expectation
    labels (each trial '1' with probability 1/2) and their rates.
    """

    name: eqx.AbstractClassVar[str]

    @abc.abstractmethod
    def rates(
        self, key: PRNGKeyArray, labels: Float[Array, " batch"], n_in: int
    ) -> Float[Array, "batch n_in"]:
        """Input rates (Hz) for trials with the given labels (0.0 or 1.0)."""

    def sample(
        self, key: PRNGKeyArray, batch: int, n_in: int, dtype=None
    ) -> tuple[Float[Array, "batch n_in"], Float[Array, " batch"]]:
        """Draw `batch` trials.

        Args:
            key: PRNG key.
            batch: number of trials.
            n_in: number of input channels of the model.
            dtype: float dtype of rates and labels (default float).

        Returns:
            `(rates_hz, labels)`: (batch, n_in) rates in Hz and (batch,) labels 0.0/1.0.
        """
        check_int("batch", batch, minimum=1)
        check_int("n_in", n_in, minimum=1)
        dtype = jnp.result_type(float) if dtype is None else jnp.dtype(dtype)
        k_label, k_rate = jr.split(key)
        labels = jr.bernoulli(k_label, 0.5, (batch,)).astype(dtype)
        return self.rates(k_rate, labels, n_in).astype(dtype), labels

    def split(
        self, key: PRNGKeyArray, split: str, batch: int, n_in: int, dtype=None
    ) -> tuple[Float[Array, "batch n_in"], Float[Array, " batch"]]:
        """`sample` from the "train" or "test" split of `key` (disjoint streams)."""
        if split not in SPLITS:
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        return self.sample(jr.fold_in(key, SPLITS[split]), batch, n_in, dtype)


class RatePattern(AbstractTask):
    """'1' = every channel at `high_hz`, '0' = every channel at `low_hz` (Hz)."""

    name: ClassVar[str] = "rate"
    low_hz: float = 20.0
    high_hz: float = 100.0

    def __check_init__(self):
        check_nonnegative("low_hz", self.low_hz)
        check_nonnegative("high_hz", self.high_hz)

    def rates(self, key, labels, n_in):
        r = jnp.where(labels > 0, self.high_hz, self.low_hz)
        return jnp.broadcast_to(r[:, None], (labels.shape[0], n_in))


class XOR(AbstractTask):
    """Two channel groups A = [0, n_in/2), B = [n_in/2, n_in), each at `on_hz` or
    `off_hz`; label = A XOR B. The four (A, B) combinations are equally likely."""

    name: ClassVar[str] = "xor"
    on_hz: float = 100.0
    off_hz: float = 5.0

    def __check_init__(self):
        check_nonnegative("on_hz", self.on_hz)
        check_nonnegative("off_hz", self.off_hz)

    def rates(self, key, labels, n_in):
        if n_in < 2:
            raise ValueError(f"XOR needs n_in >= 2 channels, got {n_in}")
        a = jr.bernoulli(key, 0.5, labels.shape)
        b = jnp.logical_xor(a, labels > 0)
        group_b = jnp.arange(n_in) >= n_in // 2
        on = jnp.where(group_b[None, :], b[:, None], a[:, None])
        return jnp.where(on, self.on_hz, self.off_hz)


class HardRate(AbstractTask):
    """Overlapping rate classes with trial and channel noise (see the module docstring)."""

    name: ClassVar[str] = "hard"
    mean_0_hz: float = 30.0
    mean_1_hz: float = 50.0
    spread_hz: float = 10.0
    channel_noise: float = 0.5

    def __check_init__(self):
        check_nonnegative("mean_0_hz", self.mean_0_hz)
        check_nonnegative("mean_1_hz", self.mean_1_hz)
        check_nonnegative("spread_hz", self.spread_hz)
        check_nonnegative("channel_noise", self.channel_noise)

    def rates(self, key, labels, n_in):
        k_base, k_chan = jr.split(key)
        mean = jnp.where(labels > 0, self.mean_1_hz, self.mean_0_hz)
        base = mean + self.spread_hz * jr.normal(k_base, labels.shape, labels.dtype)
        jitter = 1.0 + self.channel_noise * jr.normal(k_chan, (labels.shape[0], n_in), labels.dtype)
        return jnp.maximum(base[:, None] * jitter, 0.0)


TASKS: dict[str, type[AbstractTask]] = {"rate": RatePattern, "xor": XOR, "hard": HardRate}


def get_task(name: str) -> AbstractTask:
    """The task called `name` ("rate", "xor" or "hard") with its default parameters."""
    if name not in TASKS:
        raise ValueError(f"task must be one of {sorted(TASKS)}, got {name!r}")
    return TASKS[name]()

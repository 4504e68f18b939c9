"""The input interface: named external inputs and their per-trial data.

Two kinds of input:

- spike sources (`AbstractSpikeInput`: `PoissonInput`, `SpikeInput`): channels whose
  spikes are presynaptic activity for projections; spikes drawn at step t are delivered
  at step t (plus the projection's delay);
- population inputs (`AbstractPopulationInput`: `CurrentInput`, `WhiteNoise`,
  `OrnsteinUhlenbeck`, `PoissonDrive`): act directly on the neurons of one population
  (`target`) through a `NeuronInput`.

Per-trial data is passed to `simulate(..., inputs={name: array})` and vmapped over like
any argument, instead of being written into the network. Its shape says what it is:

- a constant for the whole run: shape () (shared by the channels) or (n,);
- a time series, time on the first axis: shape (n_steps, n), or (n_steps, 1) for a
  value shared by the channels; `simulate` scans over it, so nothing of shape (T, n) is
  built unless the user passes it.

What the data means is the input's business (rates for Poisson inputs, a spike matrix
for `SpikeInput`, a current for `CurrentInput`); each input checks its own data
(`check_data`) at the entry of `simulate`.
"""

from __future__ import annotations

import abc
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import check_int, is_concrete
from ..neuron_input import NeuronInput


class AbstractInput(eqx.Module):
    """A named external input of `n` channels: every input has the (static) fields `name`
    (unique in its network) and `n` (number of channels)."""

    def __check_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"input name must be a non-empty string, got {self.name!r}")
        check_int(f"input '{self.name}' n", self.n, minimum=1)

    def data_shapes(self, n_steps: int) -> tuple[tuple[int, ...], ...]:
        """The shapes of data this input accepts for a run of `n_steps` steps: time
        series (n_steps, n) or (n_steps, 1), constants () or (n,). Empty: no data."""
        return ((n_steps, self.n), (n_steps, 1), (), (self.n,))

    def check_data(self, data: Array | None, n_steps: int, dt_ms: float) -> None:
        """Raise ValueError for data of the wrong shape or dtype, or values (when
        concrete) that are not finite or not valid for this input (`check_values`);
        `data=None` checks the input's own parameters instead."""
        if data is None:
            self.check_values(None, dt_ms)
            return
        shape = tuple(jnp.shape(data))
        allowed = self.data_shapes(n_steps)
        if not allowed:
            raise ValueError(
                f"inputs['{self.name}']: {type(self).__name__} takes no data "
                "(vmap over its fields instead)"
            )
        if shape not in allowed:
            raise ValueError(
                f"inputs['{self.name}'] must have shape {_describe(allowed, n_steps)}; "
                f"got {shape}{_hint(shape, n_steps, self.n)}"
            )
        kind = jnp.result_type(data)
        if not any(jnp.issubdtype(kind, k) for k in (jnp.floating, jnp.integer, jnp.bool_)):
            raise ValueError(f"inputs['{self.name}'] must be numeric, got dtype {kind}")
        if is_concrete(data):
            values = np.asarray(data, dtype=np.float64)
            if not np.all(np.isfinite(values)):
                raise ValueError(f"inputs['{self.name}'] must be finite, found NaN or inf")
            self.check_values(values, dt_ms)

    def check_values(self, values: np.ndarray | None, dt_ms: float) -> None:
        """Raise ValueError if concrete data `values` (None: the input's own parameters)
        are not valid for this input. Default: anything finite."""

    def init(self, dtype) -> Any:
        """The input's state (None: stateless)."""
        return None

    def needs_key(self) -> bool:
        """True when the input draws random numbers (`simulate` then needs a key)."""
        return False

    def time_constants_ms(self) -> tuple:
        """The input's time constants in ms (for the dt check of `simulate`)."""
        return ()


def _describe(allowed, n_steps) -> str:
    series = [s for s in allowed if len(s) == 2]
    fixed = [s for s in allowed if len(s) < 2]
    parts = []
    if series:
        parts.append(" or ".join(map(str, series)) + " (time first)")
    if fixed:
        parts.append(" or ".join(map(str, fixed)) + " (constant)")
    return ", or ".join(parts)


def _hint(shape, n_steps, n) -> str:
    if shape[::-1] == (n_steps, n) or shape == (n,):
        return ": is time the first axis?"
    if shape == (n_steps,):
        return ": a time series shared by all channels has shape (n_steps, 1)"
    return ""


class AbstractSpikeInput(AbstractInput):
    """An input whose channels emit spikes (a presynaptic source for projections)."""

    @abc.abstractmethod
    def spikes(
        self, data: Array | None, key: PRNGKeyArray, dt_ms: float, dtype
    ) -> Float[Array, " n"]:
        """Spikes (0/1, `dtype`) of the n channels at one step, given this step's data
        (the constant, or row t of the time series; None without data)."""


class AbstractPopulationInput(AbstractInput):
    """An input acting directly on the neurons of one population: it has the (static)
    field `target`, the population's name (and `n`, its size)."""

    @abc.abstractmethod
    def step(
        self,
        state: Any,
        data: Array | None,
        key: PRNGKeyArray,
        v: Float[Array, " n"],
        *,
        dt_ms: float,
        dtype,
    ) -> tuple[Any, NeuronInput]:
        """One step: the new state and what the target neurons (potentials `v`, mV, at
        the start of the step) receive; `data` as for `AbstractSpikeInput.spikes`."""

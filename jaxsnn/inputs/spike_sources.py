"""Spike sources: Poisson spike trains and user-given spike matrices."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from .. import _threefry as threefry
from .._checks import check_nonnegative, is_concrete
from .abstract import AbstractSpikeInput


def check_rate(name: str, rate, dt_ms: float, kind: str = "PoissonInput") -> None:
    """Raise ValueError unless concrete rates (Hz) give per-step probabilities in [0, 1]."""
    if rate is None or not is_concrete(rate):
        return
    r = np.asarray(rate, dtype=np.float64)
    if np.any(r < 0) or np.any(r * dt_ms * 1e-3 > 1):
        raise ValueError(
            f"{kind} '{name}': rate_hz · dt_ms / 1000 must be a probability in [0, 1], "
            f"got rates in [{r.min()}, {r.max()}] Hz with dt_ms={dt_ms}"
        )


class PoissonInput(AbstractSpikeInput):
    """Independent Poisson spike trains, drawn inside the scan from the simulation key.

    At each step channel i spikes with probability `rate_hz[i] · dt_ms / 1000` (Bernoulli
    approximation of a Poisson process; this must be <= 1). Per-trial rates (Hz) are data:
    `simulate(..., inputs={name: rates})` with a constant () or (n,), or a time series
    (n_steps, n) or (n_steps, 1); they replace `rate_hz`.

    Attributes:
        name: unique name.
        n: number of channels.
        rate_hz: rate in Hz, scalar or shape (n,).
    """

    name: str = eqx.field(static=True)
    n: int = eqx.field(static=True)
    rate_hz: float | Array = 10.0

    def __check_init__(self):
        check_nonnegative(f"PoissonInput '{self.name}' rate_hz", self.rate_hz)
        shape = jnp.shape(self.rate_hz)
        if shape not in ((), (self.n,)):
            raise ValueError(
                f"PoissonInput '{self.name}' rate_hz must be a scalar or have shape ({self.n},), "
                f"got {shape}"
            )

    def needs_key(self):
        return True

    def check_values(self, values, dt_ms):
        check_rate(self.name, self.rate_hz if values is None else values, dt_ms)

    def spikes(self, data, key, dt_ms, dtype):
        rate = self.rate_hz if data is None else data
        p = jnp.asarray(rate, dtype) * (dt_ms * 1e-3)
        return (threefry.uniform(key, (self.n,), dtype) < p).astype(dtype)


class SpikeInput(AbstractSpikeInput):
    """A user-given binary spike matrix, passed as `inputs={name: spikes}` with shape
    (n_steps, n) (time first) to `simulate`.

    Attributes:
        name: unique name.
        n: number of channels.
    """

    name: str = eqx.field(static=True)
    n: int = eqx.field(static=True)

    def data_shapes(self, n_steps):
        return ((n_steps, self.n),)

    def check_data(self, data, n_steps, dt_ms):
        if data is None:
            raise ValueError(
                f"SpikeInput '{self.name}' needs data: inputs={{'{self.name}': spikes}} of "
                f"shape ({n_steps}, {self.n})"
            )
        super().check_data(data, n_steps, dt_ms)

    def check_values(self, values, dt_ms):
        if not np.all((values == 0) | (values == 1)):
            raise ValueError(f"inputs['{self.name}'] must be a binary spike matrix of 0 and 1")

    def spikes(self, data, key, dt_ms, dtype):
        return jnp.asarray(data, dtype)

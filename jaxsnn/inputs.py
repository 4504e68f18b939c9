"""External inputs: Poisson spike trains, user-given spike matrices, injected currents.

Spike inputs (`PoissonInput`, `SpikeInput`) are presynaptic sources for projections: their
spikes at step t are delivered at step t. `CurrentInput` adds a current (mV, i.e. R·I)
straight to a population's membrane equation.

Time-varying data is passed to `simulate(..., inputs={name: array})` with **time on the
first axis**, shape (n_steps, n) (or (n_steps,) for a current shared by the population);
`simulate` scans over it, so nothing of shape (T, N) is built unless the user passes it.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float, PRNGKeyArray

from ._checks import check_finite, check_int, check_nonnegative


class AbstractInput(eqx.Module):
    """A named external input of `n` channels."""

    name: eqx.AbstractVar[str]
    n: eqx.AbstractVar[int]

    def __check_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"input name must be a non-empty string, got {self.name!r}")
        check_int(f"input '{self.name}' n", self.n, minimum=1)


class AbstractSpikeInput(AbstractInput):
    """An input whose channels emit spikes (a presynaptic source for projections)."""

    def spikes(
        self, data_t: Array | None, key: PRNGKeyArray, dt_ms: float, dtype
    ) -> Float[Array, " n"]:
        """Spikes (0/1, `dtype`) of the n channels at one step."""
        raise NotImplementedError


class PoissonInput(AbstractSpikeInput):
    """Independent Poisson spike trains, drawn inside the scan from the simulation key.

    At each step channel i spikes with probability `rate_hz[i] · dt_ms / 1000` (Bernoulli
    approximation of a Poisson process; this must be <= 1). Pass `inputs={name: rates}`
    with rates of shape (n_steps, n) in Hz to `simulate` for a time-varying rate.

    Attributes:
        name: unique name.
        n: number of channels.
        rate_hz: rate in Hz, scalar or shape (n,); an array to vmap or differentiate over.
    """

    name: str = eqx.field(static=True)
    n: int = eqx.field(static=True)
    rate_hz: float | Array = 10.0

    def __check_init__(self):
        super().__check_init__()
        check_nonnegative(f"PoissonInput '{self.name}' rate_hz", self.rate_hz)
        shape = jnp.shape(self.rate_hz)
        if shape not in ((), (self.n,)):
            raise ValueError(
                f"PoissonInput '{self.name}' rate_hz must be a scalar or have shape ({self.n},), "
                f"got {shape}"
            )

    def spikes(self, data_t, key, dt_ms, dtype):
        rate = self.rate_hz if data_t is None else data_t
        p = jnp.asarray(rate, dtype) * (dt_ms * 1e-3)
        return (jr.uniform(key, (self.n,), dtype) < p).astype(dtype)


class SpikeInput(AbstractSpikeInput):
    """A user-given binary spike matrix, passed as `inputs={name: spikes}` with shape
    (n_steps, n) (time first) to `simulate`.

    Attributes:
        name: unique name.
        n: number of channels.
    """

    name: str = eqx.field(static=True)
    n: int = eqx.field(static=True)

    def spikes(self, data_t, key, dt_ms, dtype):
        return jnp.asarray(data_t, dtype)


class CurrentInput(AbstractInput):
    """A current injected into every neuron of a population (mV, i.e. R·I).

    Constant by default; pass `inputs={name: current}` with shape (n_steps, n) or
    (n_steps,) to `simulate` for a time-varying current (then `amplitude_mv` is ignored).

    Attributes:
        name: unique name.
        target: name of the population it feeds.
        n: size of that population.
        amplitude_mv: constant current in mV, scalar or shape (n,).
    """

    name: str = eqx.field(static=True)
    target: str = eqx.field(static=True)
    n: int = eqx.field(static=True)
    amplitude_mv: float | Array = 0.0

    # Written out so that positional arguments follow the documented order
    # (name, target, n, amplitude_mv); the dataclass order would put n before target.
    def __init__(self, name: str, target: str, n: int, amplitude_mv: float | Array = 0.0):
        self.name = name
        self.target = target
        self.n = n
        self.amplitude_mv = amplitude_mv

    def __check_init__(self):
        super().__check_init__()
        check_finite(f"CurrentInput '{self.name}' amplitude_mv", self.amplitude_mv)
        shape = jnp.shape(self.amplitude_mv)
        if shape not in ((), (self.n,)):
            raise ValueError(
                f"CurrentInput '{self.name}' amplitude_mv must be a scalar or have shape "
                f"({self.n},), got {shape}"
            )

    def current(self, data_t: Array | None, dtype) -> Float[Array, " n"]:
        """The current (mV) into each of the n target neurons at one step."""
        value = self.amplitude_mv if data_t is None else data_t
        return jnp.broadcast_to(jnp.asarray(value, dtype), (self.n,))

"""Strong external drive without thousands of channels: Poisson spike counts per neuron."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from .._checks import check_finite, check_int, check_nonnegative, is_concrete
from ..synapses.abstract import AbstractSynapse
from ..synapses.delta import Delta
from .abstract import AbstractPopulationInput
from .counts import AbstractCounts, PoissonCounts


class PoissonDrive(AbstractPopulationInput):
    """Each target neuron receives spikes from `n_sources` independent Poisson sources of
    rate `rate_hz` (e.g. Brunel 2000's C_ext inputs at ν_ext), through `synapse` with
    weight `weight`, without building a channel per source.

    Per neuron and step the number of arriving spikes k is drawn directly:

    - `PoissonCounts()` (default): k ~ Poisson(n_sources · rate · dt) (the sources are
      Poisson processes; one source may spike more than once per step);
    - `BinomialCounts()`: k ~ Binomial(n_sources, rate · dt) (each source a Bernoulli
      channel, as `PoissonInput` with `n_sources` channels and all-to-one weights).

    The drive `weight · k` then enters `synapse` like any projection's drive (a jump for
    `Delta()`, a current or conductance for the others). Means above 25 per step use the
    normal approximation (`jaxsnn.inputs.counts`). Counts for different neurons, steps and
    inputs are independent; the stream depends on the input's name, as for Poisson inputs.
    Per-trial rates are data (`inputs={name: rates_hz}`, as for `PoissonInput`).

    Attributes:
        name: unique name.
        target: name of the population it feeds.
        n: size of that population.
        n_sources: number of independent sources per neuron (C), >= 1.
        rate_hz: rate of each source (Hz), scalar or (n,).
        weight: weight of each source's synapse (mV for delta/current synapses,
            conductance units for conductances).
        synapse: the synapse model (default `Delta()`).
        counts: `PoissonCounts()` (default) or `BinomialCounts()`.
    """

    name: str = eqx.field(static=True)
    target: str = eqx.field(static=True)
    n: int = eqx.field(static=True)
    n_sources: int = eqx.field(static=True)
    rate_hz: float | Array = 10.0
    weight: float | Array = 0.1
    synapse: AbstractSynapse = Delta()
    counts: AbstractCounts = PoissonCounts()

    def __check_init__(self):
        check_int(f"PoissonDrive '{self.name}' n_sources", self.n_sources, minimum=1)
        check_nonnegative(f"PoissonDrive '{self.name}' rate_hz", self.rate_hz)
        check_finite(f"PoissonDrive '{self.name}' weight", self.weight)
        if jnp.shape(self.rate_hz) not in ((), (self.n,)):
            raise ValueError(
                f"PoissonDrive '{self.name}' rate_hz must be a scalar or have shape "
                f"({self.n},), got {jnp.shape(self.rate_hz)}"
            )
        if not isinstance(self.counts, AbstractCounts):
            raise ValueError(
                f"PoissonDrive.counts must be PoissonCounts() or BinomialCounts(), "
                f"got {self.counts!r}"
            )
        if not isinstance(self.synapse, AbstractSynapse):
            raise ValueError(f"PoissonDrive.synapse must be a synapse, got {self.synapse!r}")

    def needs_key(self):
        return True

    def check_values(self, values, dt_ms):
        if values is None:
            if not is_concrete(self.rate_hz):
                return
            values = np.asarray(self.rate_hz, dtype=np.float64)
        p = values * dt_ms * 1e-3
        if np.any(p < 0) or np.any(p > self.counts.max_probability()):
            raise ValueError(
                f"PoissonDrive '{self.name}': rates must be >= 0 and rate_hz · dt_ms / 1000 "
                f"<= {self.counts.max_probability()}, got rates in [{values.min()}, "
                f"{values.max()}] Hz with dt_ms={dt_ms}"
            )

    def time_constants_ms(self):
        return self.synapse.time_constants_ms()

    def init(self, dtype):
        return self.synapse.init(self.n, dtype)

    def step(self, state, data, key, v, *, dt_ms, dtype):
        rate = jnp.asarray(self.rate_hz if data is None else data, dtype)
        p = rate * (dt_ms * 1e-3)
        k = self.counts.sample(key, self.n_sources, p, (self.n,), dtype)
        return self.synapse.step(state, (self.weight * k).astype(dtype), v, dt_ms=dt_ms)

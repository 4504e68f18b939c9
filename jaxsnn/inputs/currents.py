"""Currents injected into a population: constant or given, white noise, Ornstein-Uhlenbeck."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array

from .. import _threefry as threefry
from .._checks import check_finite, check_nonnegative, check_positive
from .._numerics import exp_decay, sqrt
from ..neuron_input import NeuronInput
from .abstract import AbstractPopulationInput


def _check_amplitude(kind: str, name: str, field: str, value, n: int) -> None:
    check_finite(f"{kind} '{name}' {field}", value)
    shape = jnp.shape(value)
    if shape not in ((), (n,)):
        raise ValueError(
            f"{kind} '{name}' {field} must be a scalar or have shape ({n},), got {shape}"
        )


def _full(value, n: int, dtype) -> Array:
    return jnp.broadcast_to(jnp.asarray(value, dtype), (n,))


class CurrentInput(AbstractPopulationInput):
    """A current injected into every neuron of a population (mV, i.e. R·I).

    Constant by default; `simulate(..., inputs={name: current})` replaces `amplitude_mv`
    per trial: a constant () or (n,), or a time series (n_steps, n) or (n_steps, 1).

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

    def __check_init__(self):
        _check_amplitude("CurrentInput", self.name, "amplitude_mv", self.amplitude_mv, self.n)

    def step(self, state, data, key, v, *, dt_ms, dtype):
        value = self.amplitude_mv if data is None else data
        return state, NeuronInput(current_mv=_full(value, self.n, dtype))


class WhiteNoise(AbstractPopulationInput):
    """Gaussian white-noise current, drawn inside the scan from the simulation key.

    The target neurons receive `mean_mv + σ·sqrt(tau_mem)·ξ(t)` with ξ unit white noise
    (the convention of Brunel 2000, Eq. 3): each neuron model integrates the noise over the
    step with its own time constant (`NeuronInput.noise_mv`), so a free LIF membrane
    (no conductances) settles at mean `v_rest + mean_mv` with variance σ²/2 for every dt
    (exact per step, not only as dt → 0). z ~ N(0, 1) is drawn independently per neuron
    and step.

    Attributes:
        name: unique name.
        target: name of the population it feeds.
        n: size of that population.
        sigma_mv: noise intensity σ (mV), scalar or (n,), >= 0.
        mean_mv: mean current (mV), scalar or (n,).
    """

    name: str = eqx.field(static=True)
    target: str = eqx.field(static=True)
    n: int = eqx.field(static=True)
    sigma_mv: float | Array = 1.0
    mean_mv: float | Array = 0.0

    def __check_init__(self):
        check_nonnegative(f"WhiteNoise '{self.name}' sigma_mv", self.sigma_mv)
        _check_amplitude("WhiteNoise", self.name, "sigma_mv", self.sigma_mv, self.n)
        _check_amplitude("WhiteNoise", self.name, "mean_mv", self.mean_mv, self.n)

    def needs_key(self):
        return True

    def data_shapes(self, n_steps):
        return ()

    def step(self, state, data, key, v, *, dt_ms, dtype):
        z = threefry.normal(key, (self.n,), dtype)
        return state, NeuronInput(
            current_mv=_full(self.mean_mv, self.n, dtype),
            noise_mv=(self.sigma_mv * z).astype(dtype),
        )


class OrnsteinUhlenbeck(AbstractPopulationInput):
    """A coloured-noise current: an Ornstein-Uhlenbeck process per neuron,

        tau · dI/dt = -(I - mean) + sigma·sqrt(2·tau)·ξ(t),

    stationary mean `mean_mv`, standard deviation `sigma_mv` and correlation time `tau_ms`,
    whatever dt. Discrete update per step (exact for the process):
    `I ← mean + (I - mean)·exp(-dt/tau) + sigma·sqrt(1 - exp(-2dt/tau))·z`, z ~ N(0, 1),
    then I is held over the step. The state starts at the mean (no key at `init_state`),
    so allow a few tau of burn-in before measuring.

    Attributes:
        name: unique name.
        target: name of the population it feeds.
        n: size of that population.
        mean_mv: mean current (mV), scalar or (n,).
        sigma_mv: stationary standard deviation (mV), scalar or (n,), >= 0.
        tau_ms: correlation time (ms), > 0.
    """

    name: str = eqx.field(static=True)
    target: str = eqx.field(static=True)
    n: int = eqx.field(static=True)
    mean_mv: float | Array = 0.0
    sigma_mv: float | Array = 1.0
    tau_ms: float | Array = 5.0

    def __check_init__(self):
        check_nonnegative(f"OrnsteinUhlenbeck '{self.name}' sigma_mv", self.sigma_mv)
        check_positive(f"OrnsteinUhlenbeck '{self.name}' tau_ms", self.tau_ms)
        _check_amplitude("OrnsteinUhlenbeck", self.name, "mean_mv", self.mean_mv, self.n)
        _check_amplitude("OrnsteinUhlenbeck", self.name, "sigma_mv", self.sigma_mv, self.n)

    def needs_key(self):
        return True

    def data_shapes(self, n_steps):
        return ()

    def time_constants_ms(self):
        return (self.tau_ms,)

    def init(self, dtype):
        return _full(self.mean_mv, self.n, dtype)

    def step(self, state, data, key, v, *, dt_ms, dtype):
        decay = exp_decay(dt_ms / self.tau_ms)
        z = threefry.normal(key, (self.n,), dtype)
        current = self.mean_mv + (state - self.mean_mv) * decay
        current = (current + self.sigma_mv * sqrt(1.0 - decay * decay) * z).astype(dtype)
        return current, NeuronInput(current_mv=current)

"""The spike nonlinearity and its surrogate derivatives.

`spike(x, surrogate)` is an exact Heaviside step in the forward pass,
`H(x) = 1 if x > 0 else 0` (so exactly 0 at threshold, `x = v - v_th`), in the dtype of
`x`. Its derivative, zero almost everywhere, is replaced by `surrogate.derivative(x)`.
The rule is a `jax.custom_jvp`, so forward mode (`jax.jvp`, `jax.jacfwd`) and reverse
mode (`jax.grad`) both see the surrogate.

Each surrogate below states `g(x)` and the smooth step it differentiates (all but
`FastSigmoid`, which keeps the peers' scaling, integrate to one); `x` is in the units of the
membrane potential (mV, or units of threshold in normalised models), so the slope and
width parameters are in 1/mV and mV.
"""

from __future__ import annotations

import abc
import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ._checks import check_positive


class AbstractSurrogate(eqx.Module):
    """A surrogate derivative for the Heaviside spike function.

    Subclasses implement `derivative(x)`, the pseudo-derivative dS/dx evaluated at
    `x = v - v_th`. Parameters are Python floats by default (constants); pass a JAX
    array to make one traced (vmappable or trainable).
    """

    @abc.abstractmethod
    def derivative(self, x: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
        """Pseudo-derivative dS/dx at `x` (same shape and dtype as `x`)."""


class FastSigmoid(AbstractSurrogate):
    """SuperSpike / fast sigmoid (Zenke & Ganguli 2018), in the form snnTorch and SpyTorch use.

    `g(x) = 1 / (slope·|x| + 1)²`, i.e. `g = (2/slope)·S'` for the smooth step
    `S(x) = 1/2 + slope·x / (2(1 + slope·|x|))`, so `g(0) = 1` and `∫g = 2/slope`.
    The peers' normalisation is kept so that learning rates carry over from them.

    Attributes:
        slope: steepness in 1/mV (25 by default, as in snnTorch).
    """

    slope: float | Array = 25.0

    def __check_init__(self):
        check_positive("FastSigmoid.slope", self.slope)

    def derivative(self, x):
        return 1.0 / (self.slope * jnp.abs(x) + 1.0) ** 2


class ArcTan(AbstractSurrogate):
    """Arc-tangent surrogate (Fang et al. 2021, as in snnTorch/SpikingJelly).

    `S(x) = 1/2 + arctan(π·alpha·x/2)/π`, `g(x) = (alpha/2) / (1 + (π·alpha·x/2)²)`.

    Attributes:
        alpha: steepness in 1/mV (2 by default); `g(0) = alpha/2`.
    """

    alpha: float | Array = 2.0

    def __check_init__(self):
        check_positive("ArcTan.alpha", self.alpha)

    def derivative(self, x):
        return (self.alpha / 2.0) / (1.0 + (math.pi / 2.0 * self.alpha * x) ** 2)


class Triangle(AbstractSurrogate):
    """Triangular (piecewise-linear) surrogate (Bellec et al. 2018, Esser et al. 2016).

    `g(x) = max(0, 1 - |x|/width) / width`: a tent of half-width `width` with unit area.

    Attributes:
        width: half-width of the tent in mV (1 by default).
    """

    width: float | Array = 1.0

    def __check_init__(self):
        check_positive("Triangle.width", self.width)

    def derivative(self, x):
        return jnp.maximum(0.0, 1.0 - jnp.abs(x) / self.width) / self.width


class Boxcar(AbstractSurrogate):
    """Rectangular (straight-through window) surrogate.

    `g(x) = 1/width if |x| < width/2 else 0`: unit area over a window of `width` mV.

    Attributes:
        width: full width of the window in mV (1 by default).
    """

    width: float | Array = 1.0

    def __check_init__(self):
        check_positive("Boxcar.width", self.width)

    def derivative(self, x):
        inside = jnp.abs(x) < self.width / 2.0
        return jnp.where(inside, 1.0 / self.width, 0.0).astype(x.dtype)


class Sigmoid(AbstractSurrogate):
    """Logistic surrogate: `S(x) = σ(slope·x)`, `g(x) = slope·σ(slope·x)·(1 - σ(slope·x))`.

    Attributes:
        slope: steepness in 1/mV (5 by default); `g(0) = slope/4`.
    """

    slope: float | Array = 5.0

    def __check_init__(self):
        check_positive("Sigmoid.slope", self.slope)

    def derivative(self, x):
        z = self.slope * x
        # σ(-z) instead of 1 - σ(z): no cancellation in the tails, where σ(z) rounds to 1.
        return self.slope * jax.nn.sigmoid(z) * jax.nn.sigmoid(-z)


class TrueGradient(AbstractSurrogate):
    """No surrogate: the Heaviside's own derivative, `g(x) = 0` (a Dirac delta at 0, which
    a floating-point `x` never hits).

    Nothing upstream of a spike learns with it; it is the control of SpyTorch's first
    tutorial, in which the true gradient leaves a network at chance where a surrogate
    trains it (tests/test_surrogate_training.py).
    """

    def derivative(self, x):
        return jnp.zeros_like(x)


@jax.custom_jvp
def spike(x: Float[ArrayLike, "*shape"], surrogate: AbstractSurrogate) -> Float[Array, "*shape"]:
    """Heaviside spike `x > 0` with a surrogate derivative.

    Args:
        x: distance to threshold, `v - v_th` (mV); any shape, floating dtype.
        surrogate: the pseudo-derivative used by `jax.grad`/`jax.jvp`.

    Returns:
        1.0 where `x > 0`, 0.0 elsewhere (exactly 0 at `x = 0`), in the dtype of `x`.
    """
    x = jnp.asarray(x)
    return (x > 0).astype(x.dtype)


@spike.defjvp
def _spike_jvp(primals, tangents):
    x, surrogate = primals
    dx, _ = tangents  # surrogate parameters get no gradient through the step itself
    x = jnp.asarray(x)
    out = (x > 0).astype(x.dtype)
    return out, (surrogate.derivative(x) * dx).astype(x.dtype)

"""Randman: spike-timing classification on random smooth manifolds (Zenke & Vogels 2021).

Zenke, F., Vogels, T. P. (2021). "The remarkable robustness of surrogate gradient learning
for instilling complex function in spiking neural networks". Neural Computation 33(4),
899–925, doi:10.1162/neco_a_01367. Reference implementation: GitHub fzenke/randman; the
manifold is `randman/torch_randman.py` (`TorchRandman`, the package's default `Randman`),
the spiking data set is `make_spiking_dataset` in the repository's notebook
`notebooks/Spiking dataset generation example.ipynb` (it is not part of the package).

The manifold. A random manifold of dimension D embedded in U dimensions (one per input
unit) maps a point x ∈ [0, 1)^D to

    y_j(x) = Π_{d=1..D} Σ_{i=0..F-1} a_{jdi} · s_i · sin(2π (i · x_d · f_{jdi} + φ_{jdi})),

with amplitudes a, frequency factors f and phases φ all drawn uniformly from [0, 1), the
spectrum s_i = 1 / (|i + 1 - β|^α + 1) (note the frequency multiplier i starts at 0 and
the spectrum index at i + 1, as in the reference) and F = min(ceil(prec^(-1/α)),
max_f_cutoff) components (F = 32 for α = 2 and the reference's prec = 1e-3). Unless
`use_bias`, a_{jd0} = 0, which removes the constant i = 0 term. Larger α gives smoother
manifolds.

The spiking data set (`make_spiking_dataset`). Each class c has its own `n_spikes`
manifolds (all with the same U = n_units, D = dim_manifold, α). A sample of class c is a
point x ~ U[0, 1)^D; unit j's k-th spike is the value of manifold (c, k) at x,
standardised per class, manifold and unit over that class's samples,

    v = (y - min) / (max - min + 1e-7) ∈ [0, 1),

and placed at time t = v · n_steps · step_frac (in steps): a larger value spikes later.
Every unit fires exactly `n_spikes` spikes per sample, so spike counts carry no
information; the class is in the relative timing. The reference returns these event
times as floats; the raster here puts a spike at time t into step floor(t) (step k
covers [k, k + 1)), the integer cast its users apply.

Randomness (the layout is part of the contract, so a data set can be rebuilt from its
key): `k_manifold, k_points, k_order = jr.split(key, 3)`; manifold (c, k) is
`random_manifold(jr.fold_in(k_manifold, c * n_spikes + k), ...)`; class c's points are
`jr.uniform(jr.fold_in(k_points, c), (n_samples_per_class, dim_manifold), dtype)`; the
shuffle is `jr.permutation(k_order, n)`. The reference draws the same quantities from
NumPy and torch generators, so for the same seed the numbers differ; the distribution
does not.
"""

from __future__ import annotations

import functools
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float, Int, PRNGKeyArray

from .._checks import check_finite, check_int, check_positive

N_PARAMS = 3  # amplitude, frequency factor, phase
STANDARDIZE_EPS = 1e-7


def n_frequencies(alpha: float, prec: float = 1e-3, max_f_cutoff: int = 1000) -> int:
    """Number of sinusoidal components F = min(ceil(prec^(-1/α)), max_f_cutoff): the
    first frequency whose spectral weight 1/(r^α + 1) falls to about `prec`."""
    check_positive("alpha", alpha)
    check_positive("prec", prec)
    if not prec < 1:
        raise ValueError(f"prec must be < 1, got {prec}")
    check_int("max_f_cutoff", max_f_cutoff, minimum=1)
    return int(min(math.ceil(math.pow(prec, -1.0 / alpha)), max_f_cutoff))


class RandomManifold(eqx.Module):
    """A random smooth manifold (see the module docstring for the formula).

    Attributes:
        params: (n_units, dim_manifold, 3, n_freq): amplitudes a, frequency factors f and
            phases φ (in periods) along axis 2, in that order.
        spectrum: (n_freq,) spectral weights s_i = 1 / (|i + 1 - β|^α + 1).
    """

    params: Float[Array, "n_units dim_manifold 3 n_freq"]
    spectrum: Float[Array, " n_freq"]

    def __check_init__(self):
        shape = jnp.shape(self.params)
        if len(shape) != 4 or shape[2] != N_PARAMS:
            raise ValueError(
                f"RandomManifold.params must have shape (n_units, dim_manifold, 3, n_freq), "
                f"got {shape}"
            )
        if jnp.shape(self.spectrum) != (shape[3],):
            raise ValueError(
                f"RandomManifold.spectrum must have shape ({shape[3]},) to match params, "
                f"got {jnp.shape(self.spectrum)}"
            )

    def __call__(
        self, x: Float[Array, "n_points dim_manifold"]
    ) -> Float[Array, "n_points n_units"]:
        """The manifold at points `x` (n_points, dim_manifold), coordinates in [0, 1)."""
        dim = self.params.shape[1]
        if x.ndim != 2 or x.shape[1] != dim:
            raise ValueError(f"x must have shape (n_points, {dim}), got {x.shape}")
        amplitude, frequency, phase = (self.params[:, :, k] for k in range(N_PARAMS))
        i = jnp.arange(self.spectrum.shape[0], dtype=x.dtype)
        # (n_points, n_units, dim, n_freq)
        argument = i * x[:, None, :, None] * frequency + phase
        terms = amplitude * self.spectrum * jnp.sin(2 * jnp.pi * argument)
        return jnp.prod(jnp.sum(terms, axis=-1), axis=-1)


def random_manifold(
    key: PRNGKeyArray,
    n_units: int,
    dim_manifold: int,
    *,
    alpha: float = 2.0,
    beta: float = 0.0,
    prec: float = 1e-3,
    max_f_cutoff: int = 1000,
    use_bias: bool = False,
    dtype=None,
) -> RandomManifold:
    """Draw a random manifold as the reference's `TorchRandman(n_units, dim_manifold, ...)`.

    Args:
        key: JAX PRNG key.
        n_units: embedding dimension U (one coordinate per input unit), >= 1.
        dim_manifold: intrinsic dimension D, >= 1.
        alpha: power-law exponent of the spectrum (dimensionless, > 0; larger: smoother).
        beta: position of the spectrum's peak (dimensionless; the reference's default 0).
        prec: spectral weight below which components are cut off, in (0, 1).
        max_f_cutoff: upper bound on the number of components.
        use_bias: keep the constant i = 0 component (a random offset per unit).
        dtype: float dtype (None: the default float).

    Returns:
        The manifold; call it on points of shape (n_points, dim_manifold).
    """
    check_int("n_units", n_units, minimum=1)
    check_int("dim_manifold", dim_manifold, minimum=1)
    check_finite("beta", beta)
    n_freq = n_frequencies(alpha, prec, max_f_cutoff)
    dtype = jnp.result_type(float) if dtype is None else jnp.dtype(dtype)
    return _random_manifold(
        key, n_units, dim_manifold, n_freq, float(alpha), float(beta), bool(use_bias), dtype
    )


@functools.partial(jax.jit, static_argnums=tuple(range(1, 8)))
def _random_manifold(key, n_units, dim_manifold, n_freq, alpha, beta, use_bias, dtype):
    params = jr.uniform(key, (n_units, dim_manifold, N_PARAMS, n_freq), dtype)
    if not use_bias:
        params = params.at[:, :, 0, 0].set(0.0)
    r = jnp.arange(1, n_freq + 1, dtype=dtype)
    spectrum = 1.0 / (jnp.abs(r - beta) ** alpha + 1.0)
    return RandomManifold(params, spectrum)


def _standardize(y: Float[Array, "n_points n_units"]) -> Float[Array, "n_points n_units"]:
    lo, hi = jnp.min(y, axis=0), jnp.max(y, axis=0)
    return (y - lo) / (hi - lo + STANDARDIZE_EPS)


def _check_dataset_args(n_classes, n_units, n_steps, dim_manifold, n_spikes, n_per, step_frac):
    check_int("n_classes", n_classes, minimum=1)
    check_int("n_units", n_units, minimum=1)
    check_int("n_steps", n_steps, minimum=1)
    check_int("dim_manifold", dim_manifold, minimum=1)
    check_int("n_spikes", n_spikes, minimum=1)
    # min and max over a class's samples standardise it: one sample would divide 0 by eps
    check_int("n_samples_per_class", n_per, minimum=2)
    check_positive("step_frac", step_frac)
    if not step_frac <= 1:
        raise ValueError(f"step_frac must be in (0, 1], got {step_frac}")


def randman_times(
    key: PRNGKeyArray,
    *,
    n_classes: int = 2,
    n_units: int = 30,
    n_steps: int = 100,
    dim_manifold: int = 1,
    n_spikes: int = 1,
    n_samples_per_class: int = 1000,
    alpha: float = 2.0,
    step_frac: float = 1.0,
    shuffle: bool = True,
    dtype=None,
) -> tuple[Float[Array, "n n_spikes n_units"], Int[Array, " n"]]:
    """Spike times of the Randman spiking data set (the reference's `make_spiking_dataset`).

    Defaults are the reference notebook's example call (2 classes, 30 units, 100 steps,
    1-dimensional manifolds) with its function's defaults for the rest (1 spike per
    unit, 1000 samples per class, α = 2, step_frac 1, shuffled). Jit-compatible with every
    argument but `key` static.

    Args:
        key: JAX PRNG key (its use is laid out in the module docstring).
        n_classes: number of classes (one set of manifolds each), >= 1.
        n_units: number of input units (embedding dimension), >= 1.
        n_steps: length of a trial in time steps, >= 1.
        dim_manifold: intrinsic dimension of each manifold, >= 1.
        n_spikes: spikes per unit per sample (one manifold each), >= 1.
        n_samples_per_class: samples per class, >= 2.
        alpha: spectral exponent of the manifolds (dimensionless, > 0).
        step_frac: fraction of the trial, from its start, that holds spikes, in (0, 1].
        shuffle: shuffle the samples (else class 0's samples come first, then class 1's...).
        dtype: float dtype of the times (None: the default float).

    Returns:
        times: (n, n_spikes, n_units) spike times in steps, in [0, n_steps · step_frac]
            (the upper end is excluded in exact arithmetic; float rounding of a
            standardised value just below 1 can reach it); times[b, k, j] is unit j's k-th
            spike in sample b. n = n_classes · n_samples_per_class.
        labels: (n,) int32 class of each sample.
    """
    _check_dataset_args(
        n_classes, n_units, n_steps, dim_manifold, n_spikes, n_samples_per_class, step_frac
    )
    dtype = jnp.result_type(float) if dtype is None else jnp.dtype(dtype)
    return _randman_times(
        key,
        n_classes,
        n_units,
        n_steps,
        dim_manifold,
        n_spikes,
        n_samples_per_class,
        float(alpha),
        float(step_frac),
        bool(shuffle),
        dtype,
    )


@functools.partial(jax.jit, static_argnums=tuple(range(1, 11)))
def _randman_times(
    key,
    n_classes,
    n_units,
    n_steps,
    dim_manifold,
    n_spikes,
    n_samples_per_class,
    alpha,
    step_frac,
    shuffle,
    dtype,
):
    k_manifold, k_points, k_order = jr.split(key, 3)

    def one_class(c):
        x = jr.uniform(jr.fold_in(k_points, c), (n_samples_per_class, dim_manifold), dtype)

        def one_spike(k):
            manifold = random_manifold(
                jr.fold_in(k_manifold, c * n_spikes + k),
                n_units,
                dim_manifold,
                alpha=alpha,
                dtype=dtype,
            )
            return _standardize(manifold(x))

        return jax.vmap(one_spike)(jnp.arange(n_spikes))

    # one class at a time: the sinusoids of all classes at once would be n_classes times
    # the memory (samples × units × dims × components each)
    values = jax.lax.map(one_class, jnp.arange(n_classes))  # (class, spike, sample, unit)
    times = jnp.transpose(values, (0, 2, 1, 3)).reshape(-1, n_spikes, n_units)
    times = times * (n_steps * step_frac)
    labels = jnp.repeat(jnp.arange(n_classes, dtype=jnp.int32), n_samples_per_class)
    if shuffle:
        order = jr.permutation(k_order, labels.shape[0])
        times, labels = times[order], labels[order]
    return times, labels


def times_to_raster(
    times: Float[Array, "n n_spikes n_units"], n_steps: int, dtype=None
) -> Float[Array, "n n_steps n_units"]:
    """Rasters from `randman_times`'s spike times: entry [b, t, j] counts unit j's spikes of
    sample b in step t, the step floor(time) (a time equal to n_steps, which float
    rounding of a value just below 1 can give, goes to the last step)."""
    check_int("n_steps", n_steps, minimum=1)
    dtype = jnp.result_type(float) if dtype is None else jnp.dtype(dtype)
    return _times_to_raster(jnp.asarray(times), n_steps, dtype)


@functools.partial(jax.jit, static_argnums=(1, 2))
def _times_to_raster(times, n_steps, dtype):
    n, n_spikes, n_units = times.shape
    step = jnp.clip(jnp.floor(times).astype(jnp.int32), 0, n_steps - 1)
    sample = jnp.broadcast_to(jnp.arange(n)[:, None, None], times.shape)
    unit = jnp.broadcast_to(jnp.arange(n_units)[None, None, :], times.shape)
    return jnp.zeros((n, n_steps, n_units), dtype).at[sample, step, unit].add(1.0)


def randman(
    key: PRNGKeyArray,
    *,
    n_classes: int = 2,
    n_units: int = 30,
    n_steps: int = 100,
    dim_manifold: int = 1,
    n_spikes: int = 1,
    n_samples_per_class: int = 1000,
    alpha: float = 2.0,
    step_frac: float = 1.0,
    shuffle: bool = True,
    dtype=None,
) -> tuple[Float[Array, "n n_steps n_units"], Int[Array, " n"]]:
    """The Randman spiking data set as spike rasters, time first within each sample.

    Arguments as in `randman_times`; the same key gives the same samples there and here.

    Returns:
        spikes: (n, n_steps, n_units) spike counts per step, in `dtype`: with n_spikes = 1
            exactly one 1 per unit and sample, at step floor(time); with n_spikes > 1 two
            spikes of one unit in the same step add up to 2 (they are not merged).
        labels: (n,) int32 class of each sample.
    """
    times, labels = randman_times(
        key,
        n_classes=n_classes,
        n_units=n_units,
        n_steps=n_steps,
        dim_manifold=dim_manifold,
        n_spikes=n_spikes,
        n_samples_per_class=n_samples_per_class,
        alpha=alpha,
        step_frac=step_frac,
        shuffle=shuffle,
        dtype=dtype,
    )
    return times_to_raster(times, n_steps, dtype=times.dtype), labels

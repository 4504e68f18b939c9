"""Encoders: values to spike rasters, time first.

- `latency` / `latency_times`: one spike per channel at most, a larger value spiking
  earlier (time-to-first-spike coding), by a linear map or by the charging time of a
  leaky integrator;
- `poisson`: rate coding, independent Bernoulli spikes per step.

Rasters have shape (n_steps, *channels) and hold 0 or 1 in the requested float dtype, so
they can be passed as a `SpikeInput`'s data. Times are in ms, rates in Hz.

Bad arguments raise `ValueError` naming the argument. Values known only under `jit`
(tracers) are checked at run time with `eqx.error_if` instead, unless the environment
sets `JAXSNN_RUNTIME_CHECKS=off` (as for `simulate`).
"""

from __future__ import annotations

import os

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .._checks import check_int, check_nonnegative, check_positive, check_probability, is_concrete
from ..simulation import RUNTIME_CHECKS_ENV


def _runtime_check(x: Array, bad: Array, message: str) -> Array:
    if os.environ.get(RUNTIME_CHECKS_ENV, "on").lower() == "off":
        return x
    return eqx.error_if(x, bad, message)


def _check_unit_interval(name: str, x: Array) -> Array:
    if is_concrete(x):
        check_probability(name, x)
        return x
    # NaN fails both comparisons, so it is caught too
    return _runtime_check(x, ~((x >= 0) & (x <= 1)), f"{name} must lie in [0, 1] (and not NaN)")


def _check_scalar(name: str, value, *, positive: bool) -> float:
    if not is_concrete(value) or np.ndim(value) != 0:
        raise ValueError(f"{name} must be a Python number, got {value!r}")
    (check_positive if positive else check_nonnegative)(name, value)
    return float(value)


def latency_times(
    x: ArrayLike,
    *,
    t_max_ms: float | None = None,
    tau_ms: float | None = None,
    t_min_ms: float = 0.0,
    threshold: float = 0.2,
) -> Float[Array, "*shape"]:
    """Spike time (ms) of each value of `x` in [0, 1]; +inf where a value does not spike.

    Exactly one of two codes, both decreasing in x (a larger value spikes earlier):

    - linear (`t_max_ms` given): t = t_min_ms + (1 - x) · (t_max_ms - t_min_ms), so x = 1
      spikes at t_min_ms and x = 0 at t_max_ms. This is the linear map of Göltz et al.
      (2021, Nat. Mach. Intell. 3, 823; code `fastAndDeep`, `src/datasets.py`) for the
      Yin-Yang data set, mirrored: they use t = t_early + x · (t_late - t_early), a larger
      value later. Pass `1 - x` to reproduce theirs; with Yin-Yang's mirrored inputs
      (x, y, 1 - x, 1 - y) both directions carry the same information.
    - charging time (`tau_ms` given): t = t_min_ms + tau_ms · ln(x / (x - threshold)) for
      x > threshold, +inf otherwise: the time at which a leaky integrator
      τ dV/dt = -V + x, V(0) = 0, reaches `threshold` (as `current2firing_time` in Zenke's
      SpyTorch tutorials, which use τ = 20 ms, threshold 0.2).

    Args:
        x: values in [0, 1], any shape.
        t_max_ms: latest time of the linear code (ms), >= t_min_ms.
        tau_ms: time constant of the charging-time code (ms), > 0.
        t_min_ms: earliest spike time (ms), >= 0.
        threshold: threshold of the charging-time code, in [0, 1).

    Returns:
        Spike times in ms, shape of x, float.

    Raises:
        ValueError: x outside [0, 1] or NaN; neither or both of t_max_ms and tau_ms;
            a time or threshold out of range.
    """
    x = _check_unit_interval("x", jnp.asarray(x))
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.result_type(float))
    t_min = _check_scalar("t_min_ms", t_min_ms, positive=False)
    if (t_max_ms is None) == (tau_ms is None):
        raise ValueError(
            "give exactly one of t_max_ms (linear code) and tau_ms (charging-time code), "
            f"got t_max_ms={t_max_ms}, tau_ms={tau_ms}"
        )
    if tau_ms is None:
        t_max = _check_scalar("t_max_ms", t_max_ms, positive=False)
        if t_max < t_min:
            raise ValueError(f"t_max_ms must be >= t_min_ms={t_min}, got {t_max}")
        return t_min + (1 - x) * (t_max - t_min)
    tau = _check_scalar("tau_ms", tau_ms, positive=True)
    theta = _check_scalar("threshold", threshold, positive=False)
    if not theta < 1:
        raise ValueError(f"threshold must be in [0, 1), got {theta}")
    spikes = x > theta
    # the safe denominator keeps the untaken branch finite, so gradients stay NaN-free
    safe = jnp.where(spikes, x, 1.0)
    t = t_min + tau * jnp.log(safe / (safe - theta))
    return jnp.where(spikes, t, jnp.inf)


def latency(
    x: ArrayLike,
    *,
    n_steps: int,
    dt_ms: float,
    t_max_ms: float | None = None,
    tau_ms: float | None = None,
    t_min_ms: float = 0.0,
    threshold: float = 0.2,
    dtype=None,
) -> Float[Array, "n_steps ..."]:
    """Latency code as a raster: each value of `x` spikes once, at the step nearest to its
    time from `latency_times`, or not at all.

    The spike of time t goes to step round(t / dt_ms) (ties to even), as a synaptic delay
    is rounded: a floor would move a spike a whole step early whenever float rounding puts
    t / dt_ms just below an integer. The code is linear unless `tau_ms` is given; the
    linear code's `t_max_ms` defaults to the last step, (n_steps - 1) · dt_ms, and may not
    exceed it, so every value spikes. With `tau_ms`, values at or below `threshold` and
    times past the last step give no spike.

    Args:
        x: values in [0, 1], any shape.
        n_steps: number of time steps, >= 1.
        dt_ms: time step (ms), > 0.
        t_max_ms, tau_ms, t_min_ms, threshold: as in `latency_times` (ms; threshold
            dimensionless).
        dtype: float dtype of the raster (None: the default float).

    Returns:
        (n_steps, *x.shape) raster of 0/1.

    Raises:
        ValueError: as `latency_times`, and for n_steps < 1, dt_ms <= 0, or a linear
            code that does not fit in the window.
    """
    check_int("n_steps", n_steps, minimum=1)
    dt = _check_scalar("dt_ms", dt_ms, positive=True)
    dtype = jnp.result_type(float) if dtype is None else jnp.dtype(dtype)
    if tau_ms is None:
        last_ms = (n_steps - 1) * dt
        if t_max_ms is None:
            t_max_ms = last_ms
        # a relative slack, so that a t_max_ms computed another way (99 * 0.1 against
        # 9.9) is not refused over its last bit
        elif t_max_ms > last_ms * (1 + 1e-12):
            raise ValueError(
                f"t_max_ms must be <= (n_steps - 1) · dt_ms = {last_ms} so that every value "
                f"spikes inside the window, got {t_max_ms}"
            )
    elif t_max_ms is not None:
        raise ValueError("t_max_ms is for the linear code; with tau_ms give no t_max_ms")
    t = latency_times(x, t_max_ms=t_max_ms, tau_ms=tau_ms, t_min_ms=t_min_ms, threshold=threshold)
    # no spike (+inf) and times past the window match no step
    step = jnp.round(t / dt)
    steps = jnp.arange(n_steps, dtype=step.dtype).reshape((n_steps,) + (1,) * step.ndim)
    return (steps == step).astype(dtype)


def poisson(
    key: PRNGKeyArray,
    rates_hz: ArrayLike,
    *,
    n_steps: int,
    dt_ms: float,
    dtype=None,
) -> Float[Array, "n_steps ..."]:
    """Rate code: channel i spikes in each step independently with probability
    p_i = rates_hz[i] · dt_ms / 1000 (the Bernoulli approximation of a Poisson process, as
    `PoissonInput`), so its count over the trial is Binomial(n_steps, p_i), of mean
    n_steps · p_i and variance n_steps · p_i · (1 - p_i).

    Args:
        key: JAX PRNG key.
        rates_hz: rates (Hz), any shape, >= 0 and with p <= 1.
        n_steps: number of time steps, >= 1.
        dt_ms: time step (ms), > 0.
        dtype: float dtype of the raster (None: the default float).

    Returns:
        (n_steps, *rates_hz.shape) raster of 0/1.

    Raises:
        ValueError: negative or NaN rates, p > 1, n_steps < 1, dt_ms <= 0.
    """
    check_int("n_steps", n_steps, minimum=1)
    dt = _check_scalar("dt_ms", dt_ms, positive=True)
    dtype = jnp.result_type(float) if dtype is None else jnp.dtype(dtype)
    rates = jnp.asarray(rates_hz)
    if is_concrete(rates):
        check_nonnegative("rates_hz", rates)
        r = np.asarray(rates, dtype=np.float64)
        if np.any(r * dt * 1e-3 > 1):
            raise ValueError(
                f"rates_hz · dt_ms / 1000 must be <= 1 (a spike probability per step), got "
                f"rates up to {r.max()} Hz with dt_ms={dt}"
            )
    else:
        p_traced = rates * (dt * 1e-3)
        rates = _runtime_check(
            rates,
            ~((p_traced >= 0) & (p_traced <= 1)),
            "rates_hz must be >= 0 (not NaN) with rates_hz · dt_ms / 1000 <= 1",
        )
    p = rates.astype(dtype) * (dt * 1e-3)
    return (jr.uniform(key, (n_steps,) + p.shape, dtype) < p).astype(dtype)

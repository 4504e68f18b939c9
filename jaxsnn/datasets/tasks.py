"""The benchmark tasks as spike rasters ready for a `Classifier`: Yin-Yang, latency coded
with a bias channel, and Randman.

Each function returns `{"train": (spikes, labels), "test": (spikes, labels)}` (Yin-Yang
also "validation") with spikes of shape (n, n_steps, channels), time first within each
sample, and int32 labels.
"""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, Float, Int, PRNGKeyArray

from .._checks import check_int, check_positive
from .encoders import latency
from .randman import randman
from .yin_yang import yin_yang_split

Split = tuple[Float[Array, "n n_steps channels"], Int[Array, " n"]]

# Göltz et al. (2021) give the network one extra input that spikes at a fixed time in
# every sample, so that a hidden neuron has a reference against which the data spikes
# are early or late (fastAndDeep's yin_yang config: bias at 0.9 of a code window
# 0.15 .. 2.0, i.e. about 40 % into it). In this mirrored code a value v spikes at
# (1 - v) of the window, so 0.6 puts the bias spike 40 % into the window.
YIN_YANG_BIAS_VALUE = 0.6


def yin_yang_task(
    key: PRNGKeyArray,
    *,
    n_steps: int = 30,
    dt_ms: float = 1.0,
    t_max_ms: float = 15.0,
    bias: bool = True,
    dtype=None,
) -> dict[str, Split]:
    """The standard Yin-Yang split (`jaxsnn.datasets.yin_yang_split`: 5000 train, 1000
    validation, 1000 test samples), each input value latency coded.

    The four inputs (x, y, 1 - x, 1 - y) in [0, 1] spike once each, value v at
    (1 - v) · t_max_ms (a larger value earlier, `jaxsnn.datasets.latency`), so every
    sample has exactly four data spikes in [0, t_max_ms]; with `bias` a fifth channel
    spikes at (1 - 0.6) · t_max_ms in every sample (as the bias spike of Göltz et al.).

    Args:
        key: PRNG key of the data set.
        n_steps: steps per sample, >= 1; the window (n_steps - 1) · dt_ms must hold t_max_ms.
        dt_ms: simulation step (ms), > 0.
        t_max_ms: latest spike time of the code (ms), > 0.
        bias: add the bias channel (5 channels instead of 4).
        dtype: float dtype of the rasters (None: the default float).

    Returns:
        `{"train", "validation", "test"}` -> (spikes (n, n_steps, 4 or 5), labels (n,)).
    """
    check_int("n_steps", n_steps, minimum=1)
    check_positive("dt_ms", dt_ms)
    check_positive("t_max_ms", t_max_ms)
    out = {}
    for name, (x, labels) in yin_yang_split(key, dtype=dtype).items():
        if bias:
            x = jnp.concatenate([x, jnp.full((x.shape[0], 1), YIN_YANG_BIAS_VALUE, x.dtype)], 1)
        raster = latency(x, n_steps=n_steps, dt_ms=dt_ms, t_max_ms=t_max_ms, dtype=x.dtype)
        out[name] = (jnp.moveaxis(raster, 0, 1), labels)
    return out


def randman_task(
    key: PRNGKeyArray,
    *,
    n_classes: int = 10,
    n_units: int = 20,
    n_steps: int = 50,
    dim_manifold: int = 1,
    alpha: float = 2.0,
    n_samples_per_class: int = 200,
    test_fraction: float = 0.2,
    dtype=None,
) -> dict[str, Split]:
    """A Randman data set (`jaxsnn.datasets.randman`, one spike per unit and sample at
    1-ms steps) split into train and test samples.

    Args:
        key: PRNG key of the data set.
        n_classes, n_units, n_steps, dim_manifold, alpha, n_samples_per_class: as in
            `jaxsnn.datasets.randman`.
        test_fraction: share of the (shuffled) samples held out for testing, in (0, 1).
        dtype: float dtype of the rasters (None: the default float).

    Returns:
        `{"train", "test"}` -> (spikes (n, n_steps, n_units), labels (n,)).
    """
    check_positive("test_fraction", test_fraction)
    if not test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    spikes, labels = randman(
        key,
        n_classes=n_classes,
        n_units=n_units,
        n_steps=n_steps,
        dim_manifold=dim_manifold,
        n_samples_per_class=n_samples_per_class,
        alpha=alpha,
        dtype=dtype,
    )
    n_test = max(1, round(test_fraction * labels.shape[0]))
    return {"train": (spikes[n_test:], labels[n_test:]), "test": (spikes[:n_test], labels[:n_test])}

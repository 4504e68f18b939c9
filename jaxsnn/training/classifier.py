"""Spiking classifiers built from jaxsnn blocks, their readout and their loss.

A `Classifier` is a `jaxsnn.Network` of three stages, simulated for one trial:

    SpikeInput "in" (n_in channels)
      -> ExpCurrent -> "hidden" (n_hidden LIF or AdaptiveLIF neurons)
                       [-> ExpCurrent -> "hidden": optional recurrent projection]
      -> ExpCurrent -> "out" (n_out LeakyIntegrator readouts, never spiking)

and a readout convention (`MeanOverTime`, `MaxOverTime`) that turns the readout
potentials V_out(t) into one logit per class. Every projection is dense and all-to-all
(the recurrent one includes self-connections, so no synapse is absent and gradients need
no mask).

Units: time in ms, potentials in mV. The default neurons rest at 0 mV with threshold
1 mV and reset to 0 mV, so potentials and weights read as fractions of the threshold
(the normalised convention of SpyTorch, snnTorch and Norse). A weight w is the jump of
the synaptic current (mV, i.e. already times the membrane resistance) per presynaptic
spike; the current then decays with `tau_syn_ms` and drives the membrane.
"""

from __future__ import annotations

import abc
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import optax
from jaxtyping import Array, Float, Int, PRNGKeyArray

import jaxsnn as snn

from .._checks import check_int, check_positive
from ..simulation import check_dt

INPUT, HIDDEN, OUTPUT = "in", "hidden", "out"


class AbstractReadout(eqx.Module):
    """How the readout potentials of one trial become the logits."""

    @abc.abstractmethod
    def __call__(self, v_mv: Float[Array, "n_steps n_out"]) -> Float[Array, " n_out"]:
        """Logits (mV) from the readout potentials (n_steps, n_out), time first."""


class MaxOverTime(AbstractReadout):
    """logit_k = max_t V_k(t), as in SpyTorch (Zenke & Vogels 2021).

    A readout whose potential never rises above rest has its maximum at the resting
    value, which no weight moves: it gets no gradient and its class can die for good.
    On Yin-Yang (Adam, learning rate 1e-2) this happened to the "dot" readout in 2 of 10
    seeds, which then ended near 65 % accuracy; `MeanOverTime` always passes gradient.
    """

    def __call__(self, v_mv):
        return jnp.max(v_mv, axis=0)


class MeanOverTime(AbstractReadout):
    """logit_k = (1/T) Σ_t V_k(t), T the number of steps (the default readout: every
    hidden spike moves every logit, so no readout can fall silent to the gradient)."""

    def __call__(self, v_mv):
        return jnp.mean(v_mv, axis=0)


class Classifier(eqx.Module):
    """A spiking network and the way its readout is read (module docstring).

    Attributes:
        network: the network, with a `SpikeInput` "in", a population "hidden" and a
            `LeakyIntegrator` population "out".
        readout: an `AbstractReadout`: `MeanOverTime()`, `MaxOverTime()` or your own.
        dt_ms: simulation step (ms), > 0; input rasters must be sampled at it.
        allow_large_dt: allow a step above a tenth of the smallest time constant (as
            `jaxsnn.simulate`'s argument of that name).
    """

    network: snn.Network
    readout: AbstractReadout = MeanOverTime()
    dt_ms: float = 1.0
    allow_large_dt: bool = False

    def __check_init__(self):
        check_dt(self.network, self.dt_ms, self.allow_large_dt)
        if not isinstance(self.readout, AbstractReadout):
            raise ValueError(
                f"readout must be an AbstractReadout, e.g. MeanOverTime(), got {self.readout!r}"
            )
        names = {p.name for p in self.network.populations}
        names |= {i.name for i in self.network.spike_inputs}
        missing = sorted({INPUT, HIDDEN, OUTPUT} - names)
        if missing:
            raise ValueError(f"network must have the stages {INPUT!r}, {HIDDEN!r}, "
                             f"{OUTPUT!r}; it lacks {missing}")  # fmt: skip

    @property
    def n_in(self) -> int:
        return self.network.input(INPUT).n

    @property
    def n_out(self) -> int:
        return self.network.population(OUTPUT).n


def feedforward(
    key: PRNGKeyArray,
    n_in: int,
    n_hidden: int,
    n_out: int,
    *,
    neuron: snn.AbstractNeuron = snn.LIF(tau_mem_ms=20.0, v_th_mv=1.0, v_reset_mv=0.0),
    recurrent: bool = False,
    tau_syn_ms: float = 10.0,
    tau_readout_ms: float = 20.0,
    input_scale: float = 10.0,
    recurrent_scale: float = 0.5,
    output_scale: float = 1.0,
    readout: AbstractReadout = MeanOverTime(),
    dt_ms: float = 1.0,
    allow_large_dt: bool = False,
    dtype=None,
) -> Classifier:
    """A classifier with one hidden layer (module docstring).

    Initial weights are drawn from Normal(0, scale / sqrt(fan_in)) per projection, so
    that when every presynaptic neuron spikes once the summed weight onto a neuron has
    standard deviation `scale` (mV) whatever the fan-in. With the default time constants
    one input spike of weight w raises V by at most about w/4 (the peak of
    (e^{-t/20} - e^{-t/10}) · w), so the default input_scale of 10 makes some hidden
    neurons cross the 1-mV threshold for latency-coded inputs (one spike per channel)
    from the start; smaller scales leave most of them silent and untrainable.

    Args:
        key: PRNG key for the initial weights.
        n_in: input channels, >= 1.
        n_hidden: hidden neurons, >= 1.
        n_out: classes (readout neurons), >= 2.
        neuron: the hidden neuron model, e.g. `snn.LIF(...)` or `snn.AdaptiveLIF(...)`.
        recurrent: add an all-to-all hidden -> hidden projection.
        tau_syn_ms: decay time of every synaptic current (ms), > 0.
        tau_readout_ms: membrane time constant of the readout (ms), > 0.
        input_scale, recurrent_scale, output_scale: weight scales (mV per spike, times
            sqrt(fan_in)) of the input, recurrent and output projections, > 0.
        readout: `MeanOverTime()` (default) or `MaxOverTime()` (see there).
        dt_ms: simulation step (ms), > 0 and at most a tenth of every time constant...
        allow_large_dt: ...unless this is True (e.g. SpyTorch's 1-ms step with a 5-ms
            synapse).
        dtype: float dtype of the weights (None: the default float).

    Returns:
        The `Classifier`.

    Raises:
        ValueError: naming the argument that is out of range.
    """
    check_int("n_in", n_in, minimum=1)
    check_int("n_hidden", n_hidden, minimum=1)
    check_int("n_out", n_out, minimum=2)
    if not isinstance(recurrent, bool):
        raise ValueError(f"recurrent must be True or False, got {recurrent!r}")
    if not isinstance(neuron, snn.AbstractNeuron):
        raise ValueError(f"neuron must be a jaxsnn neuron model, got {neuron!r}")
    for name, value in (
        ("tau_syn_ms", tau_syn_ms),
        ("tau_readout_ms", tau_readout_ms),
        ("input_scale", input_scale),
        ("recurrent_scale", recurrent_scale),
        ("output_scale", output_scale),
        ("dt_ms", dt_ms),
    ):
        check_positive(name, value)
    k_in, k_rec, k_out = jr.split(key, 3)
    source = snn.SpikeInput(INPUT, n_in)
    hidden = snn.Population(HIDDEN, n_hidden, neuron)
    out = snn.Population(OUTPUT, n_out, snn.LeakyIntegrator(tau_mem_ms=tau_readout_ms))
    synapse = snn.ExpCurrent(tau_ms=tau_syn_ms)

    def dense(pre, post, fan_in, scale, k):
        init = snn.Normal(0.0, scale / math.sqrt(fan_in))
        return snn.connect(
            pre, post, snn.AllToAll(allow_self=True), init, synapse,
            key=k, layout="dense", dtype=dtype,
        )  # fmt: skip

    projections = [dense(source, hidden, n_in, input_scale, k_in)]
    if recurrent:
        projections.append(dense(hidden, hidden, n_hidden, recurrent_scale, k_rec))
    projections.append(dense(hidden, out, n_hidden, output_scale, k_out))
    network = snn.Network([hidden, out], projections, [source])
    return Classifier(network, readout, float(dt_ms), bool(allow_large_dt))


def logits(classifier: Classifier, spikes: Float[Array, "n_steps n_in"]) -> Float[Array, " n_out"]:
    """The logits of one trial: simulate it and apply the readout convention.

    Args:
        classifier: the classifier.
        spikes: (n_steps, n_in) input raster (0/1), time first, in the weights' dtype.

    Returns:
        (n_out,) logits (mV). Batch with `jax.vmap`.
    """
    net = classifier.network
    if spikes.ndim != 2 or spikes.shape[1] != classifier.n_in:
        raise ValueError(
            f"spikes must have shape (n_steps, {classifier.n_in}) for one trial, got "
            f"{spikes.shape} (vmap over a batch)"
        )
    _, rec = snn.simulate(
        net,
        snn.init_state(net, dtype=spikes.dtype),
        spikes.shape[0],
        dt_ms=classifier.dt_ms,
        inputs={INPUT: spikes},
        record=snn.Record(voltages=OUTPUT),
        allow_large_dt=classifier.allow_large_dt,
    )
    return classifier.readout(rec.v[OUTPUT])


def _check_batch(classifier: Classifier, spikes: Array, labels: Array) -> None:
    if spikes.ndim != 3 or spikes.shape[2] != classifier.n_in:
        raise ValueError(
            f"spikes must have shape (batch, n_steps, {classifier.n_in}), got {spikes.shape}"
        )
    if labels.shape != spikes.shape[:1] or not jnp.issubdtype(labels.dtype, jnp.integer):
        raise ValueError(
            f"labels must be integers of shape ({spikes.shape[0]},), got {labels.shape} "
            f"{labels.dtype}"
        )


def cross_entropy(
    classifier: Classifier,
    spikes: Float[Array, "batch n_steps n_in"],
    labels: Int[Array, " batch"],
) -> tuple[Float[Array, ""], Float[Array, "batch n_out"]]:
    """Mean softmax cross-entropy of a batch, and the batch's logits.

    Args:
        classifier: the classifier.
        spikes: (batch, n_steps, n_in) input rasters.
        labels: (batch,) integer classes in [0, n_out).

    Returns:
        `(loss, logits)`: the mean loss (nats) and the (batch, n_out) logits.
    """
    _check_batch(classifier, spikes, labels)
    z = jax.vmap(logits, in_axes=(None, 0))(classifier, spikes)
    return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(z, labels)), z


def accuracy(
    classifier: Classifier,
    spikes: Float[Array, "batch n_steps n_in"],
    labels: Int[Array, " batch"],
) -> Float[Array, ""]:
    """Fraction of the batch whose largest logit is its label (ties to the lower class)."""
    _check_batch(classifier, spikes, labels)
    z = jax.vmap(logits, in_axes=(None, 0))(classifier, spikes)
    return jnp.mean((jnp.argmax(z, axis=1) == labels).astype(z.dtype))

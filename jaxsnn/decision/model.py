"""The ready-made binary-decision network: 1000 LIF neurons that answer '0' or '1'.

Architecture (defaults; every size is an argument of `build_decision_model`):

- 1000 LIF neurons (tau_mem 20 ms, threshold 1 mV, reset to 0 mV, refractory 2 ms, delta
  synapses), 800 excitatory and 200 inhibitory, laid out as three populations:
  "E" (700 excitatory hidden neurons), "out" (100 excitatory output neurons, the designated
  output population) and "I" (200 inhibitory neurons). So the excitatory pool of W1 is
  "E" + "out".
- Recurrent connectivity: every ordered pair of distinct neurons is connected with
  probability p = 0.1 (nine projections between the three populations), weights
  |N(0.1, 0.05)| mV, inhibitory ones ×(−4): Dale's law (E and "out" rows >= 0, I rows <= 0).
- A Poisson input "in" of 100 channels projects onto "E" and "I" with probability
  `p_in` = 0.2 (weights |N(w_in, (w_in/2)²)| mV with w_in = 0.2, which puts the untrained
  output rate near the threshold over the tasks' input range; not sign-constrained:
  inputs are not neurons, and signed input weights let hidden neurons compute XOR).
  The output population sees the inputs only through the network, so every decision is
  computed by the recurrent network.
- dt = 0.1 ms, trial window 100 ms (1000 steps).

Decision and training logit:

- `rate = (spikes of "out" in the window) / (n_out · window)` in Hz; the decision is
  `rate > threshold_hz` (50 Hz): answer '1' when the output population fires faster than
  the threshold, exactly what a rate-threshold user expects.
- The differentiable logit is `(rate − threshold_hz) / logit_scale_hz`. It is computed
  from the same spikes, so `logit > 0` is exactly the decision (no gap between the trained
  quantity and the reported answer); its gradient flows through the surrogate derivative
  of every spike (`jaxsnn.spike`) by backpropagation through the whole `lax.scan`.
  `logit_scale_hz` (10 Hz) sets how many Hz away from threshold count as a confident
  answer for the binary cross-entropy.

API for users of the model (gradient training, Hebbian rules, evaluation):

- `model.logit(rates_hz, key)`, `model.output_rate_hz(rates_hz, key)`,
  `model.decide(rates_hz, key)`: one trial with per-channel input rates `rates_hz` (n_in,)
  Hz and a trial key; batch with `jax.vmap` over rates and keys.
- `model.network` is the `Network`; `model.with_network(net)` swaps it (e.g. after a
  plasticity update); `model.constrained()` re-imposes sparsity and Dale's law.
- `model.trial_inputs(rates_hz)` is the per-trial data of `jaxsnn.simulate` (the input
  rates), for running `model.network` yourself (raster plots, plasticity).
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, PRNGKeyArray

from .._checks import check_int, check_positive
from ..connectivity import FixedProbability, numpy_rng
from ..initializers import AbstractInitializer
from ..inputs import PoissonInput
from ..network import Network, NetworkState, init_state
from ..neurons import LIF
from ..population import Population
from ..projection import connect
from ..record import Recording
from ..simulation import Record, check_dt, simulate

OUTPUT = "out"
INPUT = "in"


class _FoldedNormal(AbstractInitializer):
    """|N(mean, std²)| weights drawn with NumPy (seeded from the key).

    Same distribution as `jaxsnn.AbsNormal`; drawn in NumPy because `jax.random.normal`
    compiles once per distinct synapse count, which made building the eleven projections
    take seconds of compilation.
    """

    mean: float
    std: float

    def __call__(self, key, n, dtype):
        draws = numpy_rng(key).normal(self.mean, self.std, n)
        return np.abs(draws).astype(jnp.dtype(dtype))


class DecisionModel(eqx.Module):
    """A spiking network with a designated output population and a rate-threshold decision.

    Attributes:
        network: the `Network` (populations "E", "out", "I"; Poisson input "in").
        dt_ms: step length (ms).
        n_steps: steps per trial (the decision window is `n_steps · dt_ms` ms).
        threshold_hz: decision threshold on the output population's mean rate (Hz).
        logit_scale_hz: rate difference (Hz) that counts as one unit of logit.
        checkpoint: if True, `jax.checkpoint` wraps the scan step, so reverse-mode
            gradients store only the state per step and recompute the rest (memory
            O(n_steps · N) instead of O(n_steps · N · intermediates), about 1.3x the
            compute).
        output: name of the output population.
        input: name of the Poisson input whose rates encode the stimulus.
    """

    network: Network
    dt_ms: float = eqx.field(static=True)
    n_steps: int = eqx.field(static=True)
    threshold_hz: float = 50.0
    logit_scale_hz: float = 10.0
    checkpoint: bool = eqx.field(default=False, static=True)
    output: str = eqx.field(default=OUTPUT, static=True)
    input: str = eqx.field(default=INPUT, static=True)

    def __check_init__(self):
        check_positive("dt_ms", self.dt_ms)
        check_int("n_steps", self.n_steps, minimum=1)
        check_positive("logit_scale_hz", self.logit_scale_hz)
        self.network.slice(self.output)  # raises KeyError naming the populations
        if not isinstance(self.network.input(self.input), PoissonInput):
            raise ValueError(f"input '{self.input}' must be a PoissonInput")

    @property
    def n_in(self) -> int:
        """Number of input channels."""
        return self.network.input(self.input).n

    @property
    def n_out(self) -> int:
        """Number of output neurons."""
        return self.network.population(self.output).n

    @property
    def window_ms(self) -> float:
        """Length of the decision window (ms)."""
        return self.n_steps * self.dt_ms

    @property
    def dtype(self):
        """Float dtype of the weights (and of the simulation state)."""
        return self.network.projections[0].weights.dtype

    def trial_inputs(self, rates_hz: Float[ArrayLike, " n_in"]) -> dict[str, Array]:
        """The per-trial data of one trial for `simulate`: the input rates (Hz, (n_in,))."""
        rates = jnp.asarray(rates_hz, self.dtype)
        if rates.shape != (self.n_in,):
            raise ValueError(
                f"rates_hz must have shape ({self.n_in},) for one trial, got {rates.shape}; "
                "use jax.vmap for a batch"
            )
        return {self.input: rates}

    def with_network(self, network: Network) -> DecisionModel:
        """A copy with another network of the same structure (e.g. new weights)."""
        return eqx.tree_at(lambda m: m.network, self, network)

    def constrained(self) -> DecisionModel:
        """Sparsity and Dale's law re-imposed on every projection (after an update)."""
        return self.with_network(self.network.constrained())

    def run(
        self, rates_hz: Float[ArrayLike, " n_in"], key: PRNGKeyArray
    ) -> tuple[NetworkState, Float[Array, ""]]:
        """Simulate one trial from rest (`simulate`, checkpointed if `checkpoint`).

        Args:
            rates_hz: (n_in,) input rates (Hz).
            key: the trial key (Poisson draws of step t use `fold_in(key, t)`).

        Returns:
            `(final_state, count)`: the state after `n_steps` steps and the total number of
            output-population spikes (a float carrying the spikes' surrogate derivatives).
        """
        state, rec = self._trial(rates_hz, key, Record(counts=(self.output,)))
        return state, jnp.sum(rec.counts[self.output])

    def _trial(self, rates_hz, key, record: Record) -> tuple[NetworkState, Recording]:
        return simulate(
            self.network,
            init_state(self.network, dtype=self.dtype),
            self.n_steps,
            dt_ms=self.dt_ms,
            key=key,
            inputs=self.trial_inputs(rates_hz),
            record=record,
            checkpoint=self.checkpoint,
        )

    def output_count(
        self, rates_hz: Float[ArrayLike, " n_in"], key: PRNGKeyArray
    ) -> Float[Array, ""]:
        """Total number of output-population spikes in one trial (see `run`)."""
        return self.run(rates_hz, key)[1]

    def output_rate_hz(
        self, rates_hz: Float[ArrayLike, " n_in"], key: PRNGKeyArray
    ) -> Float[Array, ""]:
        """Mean rate (Hz) of the output population over the trial window."""
        return self.output_count(rates_hz, key) * (1000.0 / (self.n_out * self.window_ms))

    def logit(self, rates_hz: Float[ArrayLike, " n_in"], key: PRNGKeyArray) -> Float[Array, ""]:
        """Decision logit `(rate − threshold_hz) / logit_scale_hz` (> 0 means '1')."""
        return (self.output_rate_hz(rates_hz, key) - self.threshold_hz) / self.logit_scale_hz

    def decide(self, rates_hz: Float[ArrayLike, " n_in"], key: PRNGKeyArray) -> Bool[Array, ""]:
        """The answer of one trial: True ('1') when the output rate exceeds the threshold."""
        return self.output_rate_hz(rates_hz, key) > self.threshold_hz

    def raster(self, rates_hz: Float[ArrayLike, " n_in"], key: PRNGKeyArray) -> dict:
        """Spikes of every population in one trial, for plotting.

        Returns:
            Dict population name -> (n_steps, n) 0/1 spikes (same trial as `logit` with
            the same rates and key).
        """
        return self._trial(rates_hz, key, Record(spikes=True))[1].spikes


def build_decision_model(
    key: PRNGKeyArray,
    *,
    n_exc: int = 800,
    n_inh: int = 200,
    n_out: int = 100,
    n_in: int = 100,
    p: float = 0.1,
    p_in: float = 0.2,
    w_mean: float = 0.1,
    w_std: float = 0.05,
    g_inh: float = 4.0,
    w_in: float = 0.2,
    dt_ms: float = 0.1,
    window_ms: float = 100.0,
    threshold_hz: float = 50.0,
    logit_scale_hz: float = 10.0,
    neuron: LIF | None = None,
    layout: str = "dense",
    checkpoint: bool = False,
    dtype=None,
) -> DecisionModel:
    """Build the decision network (architecture in the module docstring).

    Args:
        key: PRNG key for connectivity and weights.
        n_exc: excitatory neurons in total, including the `n_out` output neurons.
        n_inh: inhibitory neurons.
        n_out: size of the output population "out" (taken from the excitatory pool).
        n_in: Poisson input channels.
        p: recurrent connection probability between every ordered pair of distinct neurons.
        p_in: connection probability from each input channel to each "E" and "I" neuron.
        w_mean, w_std: recurrent weight magnitudes |N(w_mean, w_std²)| (mV jumps).
        g_inh: inhibitory weights are scaled by −g_inh.
        w_in: mean input weight (mV); input weights are |N(w_in, (w_in/2)²)|.
        dt_ms: step length (ms).
        window_ms: decision window (ms); must be a whole number of steps.
        threshold_hz: decision threshold on the output rate (Hz).
        logit_scale_hz: Hz per unit of logit.
        neuron: the LIF parameters (default: tau 20 ms, threshold 1 mV, reset 0 mV,
            refractory 2 ms, fast-sigmoid surrogate of slope 25/mV).
        layout: storage of the recurrent projections, "dense" (default: fastest on CPU for
            batched training), "sparse" or "auto".
        checkpoint: `jax.checkpoint` the scan step (see `DecisionModel.checkpoint`).
        dtype: weight and state dtype (default float).

    Returns:
        The `DecisionModel`.

    Raises:
        ValueError: on bad sizes or parameters.
    """
    check_int("n_exc", n_exc, minimum=2)
    check_int("n_inh", n_inh, minimum=1)
    check_int("n_out", n_out, minimum=1)
    check_int("n_in", n_in, minimum=1)
    if n_out >= n_exc:
        raise ValueError(f"n_out must be smaller than n_exc={n_exc}, got {n_out}")
    check_positive("window_ms", window_ms)
    n_steps = int(round(window_ms / dt_ms))
    if n_steps < 1 or abs(n_steps * dt_ms - window_ms) > 1e-9 * window_ms:
        raise ValueError(
            f"window_ms must be a whole number of steps of dt_ms={dt_ms}, got {window_ms}"
        )
    if neuron is None:
        neuron = LIF(tau_mem_ms=20.0, v_rest_mv=0.0, v_th_mv=1.0, v_reset_mv=0.0, t_ref_ms=2.0)
    hidden = Population("E", n_exc - n_out, neuron, dale="excitatory")
    out = Population(OUTPUT, n_out, neuron, dale="excitatory")
    inh = Population("I", n_inh, neuron, dale="inhibitory")
    inp = PoissonInput(INPUT, n_in, rate_hz=0.0)
    pops = (hidden, out, inh)
    pairs = [(a, b) for a in pops for b in pops]
    keys = jr.split(key, len(pairs) + 2)
    projections = [
        connect(
            a,
            b,
            FixedProbability(p),
            _FoldedNormal(w_mean, w_std),
            key=k,
            scale=g_inh if a is inh else 1.0,
            layout=layout,
            dtype=dtype,
        )
        for (a, b), k in zip(pairs, keys, strict=False)
    ]
    for target, k in zip((hidden, inh), keys[-2:], strict=True):
        projections.append(
            connect(
                inp,
                target,
                FixedProbability(p_in),
                _FoldedNormal(w_in, w_in / 2),
                key=k,
                layout="dense",
                dtype=dtype,
            )
        )
    network = Network(list(pops), projections, [inp])
    check_dt(network, dt_ms, allow_large_dt=False)
    return DecisionModel(
        network,
        dt_ms=float(dt_ms),
        n_steps=n_steps,
        threshold_hz=float(threshold_hz),
        logit_scale_hz=float(logit_scale_hz),
        checkpoint=checkpoint,
    )

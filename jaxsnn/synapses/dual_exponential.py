"""The dual-exponential synapse: a rise and a decay time constant."""

from __future__ import annotations

import math

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._checks import check_positive
from .._numerics import exp_decay
from .abstract import AbstractSynapse
from .output import AbstractOutput, Current


class DualExponentialState(eqx.Module):
    """The two exponentials of each postsynaptic neuron.

    Attributes:
        slow: (n_post,) component decaying with tau_decay.
        fast: (n_post,) component decaying with tau_rise.
    """

    slow: Float[Array, " n_post"]
    fast: Float[Array, " n_post"]


class DualExponential(AbstractSynapse):
    """Dual-exponential (difference of exponentials) synapse, peak-normalised.

    A presynaptic spike through a synapse of weight w makes the synaptic variable follow

        x(t) = w·N·(exp(-t/tau_decay) - exp(-t/tau_rise)),   t >= 0,

    which rises from 0 to its peak w at t_peak = tau_d·tau_r/(tau_d - tau_r)·ln(tau_d/tau_r)
    (N is the normalisation making the peak w) and decays with tau_decay; its integral is
    w·N·(tau_decay - tau_rise). Discrete update per step (exact for spikes at step
    boundaries): `slow ← slow·exp(-dt/tau_decay) + d`, `fast ← fast·exp(-dt/tau_rise) + d`,
    `x = N·(slow - fast)`, x held over the step; so x is 0 in the step the spike arrives.
    The output says what x does: a current (`Current()`, default, weights in mV) or a
    conductance (`Conductance(e_rev_mv)`, weights >= 0).

    Attributes:
        tau_rise_ms: rise time constant (ms), > 0 and < tau_decay_ms.
        tau_decay_ms: decay time constant (ms).
        output: `Current()`, `Conductance(e_rev_mv)` or `MgBlock(...)`.
    """

    tau_rise_ms: float | Array = 1.0
    tau_decay_ms: float | Array = 5.0
    output: AbstractOutput = Current()

    def __check_init__(self):
        check_positive("DualExponential.tau_rise_ms", self.tau_rise_ms)
        check_positive("DualExponential.tau_decay_ms", self.tau_decay_ms)
        if isinstance(self.tau_rise_ms, int | float) and isinstance(self.tau_decay_ms, int | float):
            if not self.tau_rise_ms < self.tau_decay_ms:
                raise ValueError(
                    "DualExponential.tau_rise_ms must be < tau_decay_ms, got "
                    f"{self.tau_rise_ms} and {self.tau_decay_ms}"
                )
        if not isinstance(self.output, AbstractOutput):
            raise ValueError(f"DualExponential.output must be an output, got {self.output!r}")

    @property
    def normalisation(self) -> float | Array:
        """N = 1 / (exp(-t_peak/tau_decay) - exp(-t_peak/tau_rise))."""
        tr, td = self.tau_rise_ms, self.tau_decay_ms
        log = math.log if isinstance(tr, int | float) and isinstance(td, int | float) else jnp.log
        t_peak = td * tr / (td - tr) * log(td / tr)
        return 1.0 / (exp_decay(t_peak / td) - exp_decay(t_peak / tr))

    def init(self, n_post, dtype):
        zeros = jnp.zeros((n_post,), dtype)
        return DualExponentialState(zeros, zeros)

    def step(self, state, drive, v_post, *, dt_ms):
        slow = (state.slow * exp_decay(dt_ms / self.tau_decay_ms) + drive).astype(drive.dtype)
        fast = (state.fast * exp_decay(dt_ms / self.tau_rise_ms) + drive).astype(drive.dtype)
        x = (self.normalisation * (slow - fast)).astype(drive.dtype)
        return DualExponentialState(slow, fast), self.output(x, v_post)

    def weight_sign(self, presynaptic_sign):
        return self.output.weight_sign(presynaptic_sign)

    def time_constants_ms(self):
        return (self.tau_rise_ms, self.tau_decay_ms)

"""The E-I balanced network with current synapses: CUBA (Vogels & Abbott 2005, J.
Neurosci. 25:10786; benchmark 2 of Brette et al. 2007, J. Comput. Neurosci. 23:349, as
in Brian2's example `examples/CUBA.py`).

N = n LIF neurons, 80 % excitatory ("E") and 20 % inhibitory ("I"), driven by nothing
but each other (the rest potential E_L = -49 mV lies above the threshold, so a lone
neuron fires regularly and the recurrent inhibition holds the network down):

    tau_m · dV/dt = (E_L - V) + g_e + g_i
    tau_e · dg_e/dt = -g_e,   tau_i · dg_i/dt = -g_i

with tau_m = 20 ms, E_L = -49 mV, V_th = -50 mV, V_reset = -60 mV, refractory 5 ms
(V held at V_reset), tau_e = 5 ms, tau_i = 10 ms. g_e and g_i are currents in mV (Brian2
names them so; they are R·I): an excitatory spike adds w_e = 1.62 mV to g_e of its targets,
an inhibitory one w_i = -9 mV to g_i (Brian2's `ge += we`, `gi += wi`, with
we = 60·0.27/10 mV and wi = -20·4.5/10 mV: the COBA conductances 0.27 and 4.5 nS times the
driving forces 60 and 20 mV, over the leak conductance 10 nS). Every ordered pair (pre,
post), pre != post, is connected with probability p = 0.02. V(0) ~ U(V_reset, V_th)
(`cuba_state`), g_e = g_i = 0. dt = 0.1 ms.

Discrete update (jaxsnn's `ExpCurrent` and `LIF`): a spike emitted at step t reaches its
targets at step t + 1, where `g ← g·exp(-dt/tau) + Σ w` and V is integrated exactly over
the step with g held: `V' = V_inf + (V - V_inf)·exp(-dt/tau_m)`,
`V_inf = E_L + g_e + g_i`. Brian2 also adds a spike's weight at the end of its step; it
integrates V and g jointly (`method="exact"`), which differs from holding g by O(dt/tau_e).

The four projections (E→E, E→I, I→E, I→I) each carry their own current; as all excitatory
ones decay with tau_e, their sum is exactly g_e (and likewise g_i).

Rates (population mean over the first second, N = 4000): on the network of
`build_cuba(jr.key(0))` with `cuba_state(network, jr.key(1))` Brian2 2.9 gives 5.61 Hz and
jaxsnn 5.73 Hz, and 5.54-5.70 Hz when started from V(0) moved by 0.1 mV (8 runs: the
spread of a chaotic network's trajectories; benchmarks/results/ei_balance.md). The published run of this benchmark
in ANNarchy's notebook "COBA and CUBA networks" (annarchy.github.io, notebooks/COBA.ipynb,
ANNarchy 5.0.3, another realisation) reports 5.61 Hz; neither Brette et al. (2007) nor
Brian2's example states a rate.
"""

from __future__ import annotations

import jax.numpy as jnp
import jax.random as jr
from jaxtyping import PRNGKeyArray

from .._checks import check_float_dtype, check_key, for_argument, real_number
from ..connectivity import FixedProbability
from ..initializers import Constant
from ..network import Network, NetworkState, init_state
from ..neurons import LIF
from ..population import Population
from ..projection import connect
from ..propagation import AbstractPropagation
from ..synapses import ExpCurrent

DT_MS = 0.1


def build_cuba(
    key: PRNGKeyArray,
    n: int = 4000,
    *,
    p: float = 0.02,
    frac_exc: float = 0.8,
    w_exc_mv: float = 60 * 0.27 / 10,
    w_inh_mv: float = -20 * 4.5 / 10,
    tau_mem_ms: float = 20.0,
    v_rest_mv: float = -49.0,
    v_th_mv: float = -50.0,
    v_reset_mv: float = -60.0,
    t_ref_ms: float = 5.0,
    tau_exc_ms: float = 5.0,
    tau_inh_ms: float = 10.0,
    layout: str = "auto",
    propagation: AbstractPropagation | None = None,
) -> Network:
    """Build the CUBA network of the module docstring (defaults: Brian2's CUBA example).

    Args:
        key: PRNG key for the connectivity.
        n: total number of neurons (E = round(frac_exc·n), I = the rest), >= 5.
        p: connection probability of every ordered pair (pre != post), in [0, 1].
        frac_exc: fraction of excitatory neurons.
        w_exc_mv: jump of g_e per excitatory spike (mV), >= 0 (1.62 = 60·0.27/10).
        w_inh_mv: jump of g_i per inhibitory spike (mV), <= 0 (-9 = -20·4.5/10).
        tau_mem_ms: membrane time constant (ms).
        v_rest_mv: rest (leak reversal) potential E_L (mV); above v_th_mv by default.
        v_th_mv: threshold (mV): a neuron spikes when V > v_th_mv.
        v_reset_mv: reset potential (mV), < v_th_mv.
        t_ref_ms: absolute refractory period (ms), V held at v_reset_mv.
        tau_exc_ms, tau_inh_ms: decay time constants of g_e and g_i (ms).
        layout: storage of the projections ("auto", "dense", "sparse"; see `connect`).
        propagation: propagation of every projection (default: `connect`'s choice).

    Returns:
        The `Network` (populations "E" and "I", no inputs).

    Raises:
        ValueError: if key is not a PRNG key, n is not an int >= 5, frac_exc leaves a
            population empty, p is not in [0, 1], a weight is not finite or has the wrong
            sign, a number is a bool or a string, or a neuron or synapse constant is
            invalid (from `LIF` and `ExpCurrent`; the message names the argument).
    """
    check_key("key", key)
    if isinstance(n, bool) or not isinstance(n, int) or n < 5:
        raise ValueError(f"n must be an int >= 5, got {n!r}")
    frac_exc = real_number("frac_exc", frac_exc)
    if not 0 < frac_exc < 1:
        raise ValueError(f"frac_exc must be in (0, 1), got {frac_exc}")
    n_exc = int(round(frac_exc * n))
    if not 0 < n_exc < n:
        raise ValueError(f"frac_exc={frac_exc} leaves a population empty for n={n}")
    p = real_number("p", p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be a probability in [0, 1], got {p}")
    w_exc_mv = real_number("w_exc_mv", w_exc_mv)
    w_inh_mv = real_number("w_inh_mv", w_inh_mv)
    if w_exc_mv < 0:
        raise ValueError(f"w_exc_mv must be >= 0 (excitatory), got {w_exc_mv}")
    if w_inh_mv > 0:
        raise ValueError(f"w_inh_mv must be <= 0 (inhibitory), got {w_inh_mv}")
    neuron = LIF(
        tau_mem_ms=tau_mem_ms,
        v_rest_mv=v_rest_mv,
        v_th_mv=v_th_mv,
        v_reset_mv=v_reset_mv,
        t_ref_ms=t_ref_ms,
    )
    exc = Population("E", n_exc, neuron, dale="excitatory")
    inh = Population("I", n - n_exc, neuron, dale="inhibitory")
    with for_argument("tau_exc_ms"):
        syn_e = ExpCurrent(tau_ms=tau_exc_ms)
    with for_argument("tau_inh_ms"):
        syn_i = ExpCurrent(tau_ms=tau_inh_ms)
    keys = jr.split(key, 4)
    # connect negates the weights of an inhibitory population's current synapses, so
    # both are given as magnitudes
    pairs = [(exc, exc, syn_e, w_exc_mv), (exc, inh, syn_e, w_exc_mv)]
    pairs += [(inh, exc, syn_i, -w_inh_mv), (inh, inh, syn_i, -w_inh_mv)]
    projections = [
        connect(
            a,
            b,
            FixedProbability(p),
            Constant(w),
            syn,
            key=k,
            layout=layout,
            propagation=propagation,
        )
        for (a, b, syn, w), k in zip(pairs, keys, strict=True)
    ]
    return Network([exc, inh], projections, [])


def cuba_state(network: Network, key: PRNGKeyArray, *, dtype=None) -> NetworkState:
    """Initial state with V(0) ~ U(v_reset, v_th) (Brian2's `Vr + rand()·(Vt - Vr)`, with
    the network's own reset and threshold), no synaptic current, no refractoriness.

    Args:
        network: a network from `build_cuba`.
        key: PRNG key for the potentials.
        dtype: float dtype of the state (default: JAX's default float).

    Returns:
        The `NetworkState`.

    Raises:
        ValueError: if `key` is not a PRNG key or `dtype` is not a float dtype.
    """
    check_key("key", key)
    check_float_dtype("dtype", dtype)
    dtype = jnp.result_type(float) if dtype is None else jnp.dtype(dtype)
    neuron = network.populations[0].neuron
    v0 = jr.uniform(
        key,
        (network.n_neurons,),
        dtype,
        minval=neuron.v_reset_mv,
        maxval=neuron.v_th_mv,
    )
    return init_state(network, v0_mv=v0, dtype=dtype)

"""The E-I balanced network with conductance synapses (workloads W2 and W3 of
benchmarks/README.md; the COBA network of Brette et al. 2007 as run by Brian2).

N = n LIF neurons, 80 % excitatory ("E") and 20 % inhibitory ("I"):

    tau · dV/dt = (v_rest - V) + g_e·(E_e - V) + g_i·(E_i - V) + I_ext
    tau_e · dg_e/dt = -g_e,   tau_i · dg_i/dt = -g_i

with tau = 20 ms, v_rest = v_reset = -60 mV, v_th = -50 mV, refractory 5 ms,
I_ext = 20 mV, E_e = 0 mV, E_i = -80 mV, tau_e = 5 ms, tau_i = 10 ms, conductances in units
of the leak conductance. Every ordered pair (pre, post), pre != post, is connected with
probability p (0.02 at n = 4000; W3 keeps p·n = 80); an excitatory spike adds 0.6 to g_e of
its targets, an inhibitory one 6.7 to g_i. V(0) ~ N(-60, 2²) mV (`ei_coba_state`).
dt = 0.1 ms. Brian2 gives a mean rate of about 21-22 Hz at n = 4000.

The four projections (E→E, E→I, I→E, I→I) each carry their own conductance; as all
excitatory ones decay with the same tau_e, their sum is exactly the g_e of the equations
above (and likewise for g_i).
"""

from __future__ import annotations

import jax.numpy as jnp
import jax.random as jr
from jaxtyping import PRNGKeyArray

from .._checks import check_finite, check_float_dtype, check_key, check_nonnegative, real_number
from ..connectivity import FixedProbability
from ..initializers import Constant
from ..inputs import CurrentInput
from ..network import Network, NetworkState, init_state
from ..neurons import LIF
from ..population import Population
from ..projection import connect
from ..propagation import AbstractPropagation
from ..synapses import ExpConductance

DT_MS = 0.1
V_REST_MV = -60.0


def build_ei_coba(
    key: PRNGKeyArray,
    n: int = 4000,
    *,
    p: float | None = None,
    frac_exc: float = 0.8,
    g_exc: float = 0.6,
    g_inh: float = 6.7,
    i_ext_mv: float = 20.0,
    layout: str = "auto",
    propagation: AbstractPropagation | None = None,
) -> Network:
    """Build the COBA network of the module docstring (defaults: workload W2).

    Args:
        key: PRNG key for the connectivity.
        n: total number of neurons (E = round(frac_exc·n), I = the rest).
        p: connection probability; default 80 / n (0.02 at n = 4000, W3's fixed in-degree).
        frac_exc: fraction of excitatory neurons.
        g_exc, g_inh: conductance increment per E / I spike (units of leak conductance).
        i_ext_mv: constant input current (mV) into every neuron.
        layout: storage of the projections ("auto", "dense", "sparse"; see `connect`).
        propagation: propagation of every projection (default: `connect`'s choice).

    Returns:
        The `Network` (populations "E", "I"; current inputs "ext_E", "ext_I").

    Raises:
        ValueError: if key is not a PRNG key, n is not an int >= 2, frac_exc leaves a
            population empty, p (or its default 80 / n) is not in [0, 1], g_exc or g_inh
            is negative, or a number is not finite (or is a bool or a string).
    """
    check_key("key", key)
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be an int >= 2, got {n!r}")
    frac_exc = real_number("frac_exc", frac_exc)
    if not 0 < frac_exc < 1:
        raise ValueError(f"frac_exc must be in (0, 1), got {frac_exc}")
    n_exc = int(round(frac_exc * n))
    if not 0 < n_exc < n:
        raise ValueError(f"frac_exc={frac_exc} leaves a population empty for n={n}")
    if p is None:
        p = 80.0 / n
        if p > 1.0:
            raise ValueError(
                f"p must be a probability in [0, 1]: its default 80 / n is {p:g} for n={n}; "
                "pass p= or use n >= 80"
            )
    p = real_number("p", p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be a probability in [0, 1], got {p} (n={n})")
    check_nonnegative("g_exc", g_exc)
    check_nonnegative("g_inh", g_inh)
    check_finite("i_ext_mv", i_ext_mv)
    neuron = LIF(
        tau_mem_ms=20.0,
        v_rest_mv=V_REST_MV,
        v_th_mv=-50.0,
        v_reset_mv=-60.0,
        t_ref_ms=5.0,
    )
    exc = Population("E", n_exc, neuron, dale="excitatory")
    inh = Population("I", n - n_exc, neuron, dale="inhibitory")
    syn_e = ExpConductance(tau_ms=5.0, e_rev_mv=0.0)
    syn_i = ExpConductance(tau_ms=10.0, e_rev_mv=-80.0)
    keys = jr.split(key, 4)
    pairs = [(exc, exc, syn_e, g_exc), (exc, inh, syn_e, g_exc)]
    pairs += [(inh, exc, syn_i, g_inh), (inh, inh, syn_i, g_inh)]
    projections = [
        connect(
            a,
            b,
            FixedProbability(p),
            Constant(g),
            syn,
            key=k,
            layout=layout,
            propagation=propagation,
        )
        for (a, b, syn, g), k in zip(pairs, keys, strict=True)
    ]
    inputs = [
        CurrentInput("ext_E", "E", exc.n, i_ext_mv),
        CurrentInput("ext_I", "I", inh.n, i_ext_mv),
    ]
    return Network([exc, inh], projections, inputs)


def ei_coba_state(
    network: Network, key: PRNGKeyArray, *, v_std_mv: float = 2.0, dtype=None
) -> NetworkState:
    """Initial state with V(0) ~ N(-60, v_std_mv²) mV, no conductance, no refractoriness.

    Raises:
        ValueError: if `key` is not a PRNG key, `v_std_mv` is negative or not finite, or
            `dtype` is not a float dtype.
    """
    check_key("key", key)
    check_nonnegative("v_std_mv", v_std_mv)
    check_float_dtype("dtype", dtype)
    dtype = jnp.result_type(float) if dtype is None else jnp.dtype(dtype)
    v0 = V_REST_MV + v_std_mv * jr.normal(key, (network.n_neurons,), dtype)
    return init_state(network, v0_mv=v0, dtype=dtype)

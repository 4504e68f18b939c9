"""Brunel's (2000) sparse network of excitatory and inhibitory LIF neurons, model A.

Brunel N (2000), "Dynamics of sparsely connected networks of excitatory and inhibitory
spiking neurons", J Comput Neurosci 8:183-208, doi:10.1023/A:1008925309027.

Model (time in ms, voltages in mV, rates in Hz). N_E excitatory ("E") and N_I inhibitory
("I") identical LIF neurons,

    tau · dV_i/dt = -V_i + tau · Σ_j J_ij Σ_k δ(t - t_j^k - D),

threshold theta, reset V_r, absolute refractory period tau_rp during which V stays at V_r
and input is ignored. Every neuron receives C_E = epsilon·N_E excitatory synapses of
weight J, C_I = epsilon·N_I inhibitory ones of weight -g·J (fixed in-degree, distinct
presynaptic neurons, no self-connections), and C_ext = C_E excitatory synapses of weight J
from independent external Poisson neurons at rate nu_ext = eta·nu_thr, where

    nu_thr = theta / (J·C_E·tau)

is the external rate that alone brings the mean input to threshold (10 Hz for the
defaults). A spike makes the potential of its targets jump by J (or -g·J) after the delay
D. Defaults: the paper's network (N_E = 10 000, N_I = 2500, epsilon = 0.1, tau = 20 ms,
theta = 20 mV, V_r = 10 mV, tau_rp = 2 ms, J = 0.1 mV, D = 1.5 ms), as in Brian2's
reproduction of Fig. 8 (`examples/frompapers/Brunel_2000.py`) and NEST's
`brunel_delta_nest.py`.

Discrete update (`jaxsnn.LIF` with `Delta()` synapses, step dt; 0.1 ms here, as in
Brian2's reproduction): V decays exactly by exp(-dt/tau), then the jumps of the spikes
that arrive in the step are added, then V > theta is checked. The external drive is a
`PoissonDrive` (per neuron and step, a Poisson count of the C_ext sources' spikes,
Poisson(C_ext·nu_ext·dt), times J), which is exactly C_ext independent Poisson processes
without C_ext channels. Delays are whole steps (D/dt = 15).

Regimes (Fig. 8 of the paper; `BRUNEL_REGIMES`, the (g, eta) of its four panels, the
same as `jaxsnn.theory.BRUNEL_FIG8`): A "SR" (g = 3, eta = 2), almost fully synchronised
network, neurons firing regularly at high rates; B "SI-fast" (6, 4), fast oscillation of
the global activity, neurons firing irregularly at a rate lower than the global frequency;
C "AI" (5, 2), stationary global activity, irregularly firing neurons; D "SI-slow"
(4.5, 0.9), slow oscillation of the global activity, neurons firing irregularly at very
low rates. `jaxsnn.models.classify_brunel_regime` tells them apart from spikes.

Scaled-down networks (`scale < 1`, for CPU runs): N_E, N_I, and with them C_E, C_I and
C_ext, are multiplied by `scale` (rounded) and J is divided by it (exactly: J·C_E is kept
at its full-size value), so that the mean input

    mu = C_E·J·tau·(nu_ext + nu·(1 - g·gamma)),  gamma = C_I/C_E,

and nu_thr, nu_ext are the paper's at every scale. The fluctuations are not:

    sigma² = J²·C_E·tau·(nu_ext + nu·(1 + g²·gamma))   grows as 1/scale,

so sigma grows as 1/sqrt(scale) (x3.2 at scale 0.1), and each jump J is a larger
fraction of theta - V_r (1 mV, a tenth, at scale 0.1). A smaller network is a noisier,
different network: in the AI preset the stationary state moves from 37.95 Hz, CV 0.675,
mu = 21.0 mV > theta (mean-driven) at full size to 41.3 Hz, CV 0.85 at scale 0.5 and
60.4 Hz, CV 1.40, mu = 9.8 mV (fluctuation-driven) at 0.1. The noise also damps the
oscillatory instabilities (at scale <= 0.2 the SI-fast preset no longer oscillates,
`classify_brunel_regime`), and the network's collective rate fluctuations grow. Compare a
scaled simulation with the theory of the *same* scaled parameters
(`brunel2000_params(scale=...)`), not with the full-size numbers.

Simulation against the mean-field theory (AI preset, 1 s after 200 ms;
tests/test_brunel2000.py). Rate: 37.8 Hz at full size (theory 37.95), 40.2-40.6 at
scale 0.5 (41.25), 56.7-66.0 over 14 seeds at 0.1 (60.43; there the slow collective
fluctuations leave a standard error of 2-3.5 Hz on a 1 s mean): within a few per cent,
or the statistical error. Two effects of opposite sign lie under that agreement. The
step dt checks the threshold once per step, after the step's summed jumps, and so misses
crossings within it: for unconnected neurons with Poisson input this lowers the rate by
4 % at full size and 12 % at scale 0.1, as `jaxsnn.theory.discrete_threshold_shift_mv`
predicts. And the network's input is not the Poisson input the theory assumes. CV: 0.40
at full size (theory 0.675), 0.65 at 0.5 (0.85), 1.67-1.96 at 0.1 (1.40): the stationary
theory with Poisson input does not predict the network's ISI variability, which its
non-Poisson input trains and collective fluctuations shape (Dummer, Wieland & Lindner
2014, Front Comput Neurosci 8:104); a single neuron with Poisson input at the same rates
follows it to within a few per cent.
"""

from __future__ import annotations

import jax.numpy as jnp
import jax.random as jr
from jaxtyping import PRNGKeyArray

from .._checks import (
    check_finite,
    check_float_dtype,
    check_int,
    check_key,
    check_nonnegative,
    check_positive,
)
from ..connectivity import FixedInDegree
from ..initializers import Constant
from ..inputs import AbstractCounts, PoissonCounts, PoissonDrive
from ..network import Network, NetworkState, init_state
from ..neurons import LIF
from ..population import Population
from ..projection import connect
from ..propagation import AbstractPropagation
from ..theory import BRUNEL_FIG8, BrunelParams

DT_MS = 0.1
"""The time step (ms) of the runs documented here (and of Brian2's reproduction)."""

BRUNEL_REGIMES: dict[str, tuple[float, float]] = {
    "SR": BRUNEL_FIG8["A"],
    "SI-fast": BRUNEL_FIG8["B"],
    "AI": BRUNEL_FIG8["C"],
    "SI-slow": BRUNEL_FIG8["D"],
}
"""(g, eta) of the four regimes of Brunel (2000), Fig. 8 (panels A-D): synchronous regular
(3, 2), synchronous irregular with a fast oscillation (6, 4), asynchronous irregular
(5, 2), synchronous irregular with a slow oscillation (4.5, 0.9)."""


def _regime_g_eta(regime: str | None, g: float | None, eta: float | None) -> tuple[float, float]:
    if regime is not None:
        if g is not None or eta is not None:
            raise ValueError(
                f"pass either regime= or g= and eta=, not both (got regime={regime!r}, "
                f"g={g!r}, eta={eta!r})"
            )
        if regime not in BRUNEL_REGIMES:
            raise ValueError(f"regime must be one of {list(BRUNEL_REGIMES)}, got {regime!r}")
        return BRUNEL_REGIMES[regime]
    if g is None or eta is None:
        raise ValueError(
            f"pass g= and eta= (or regime= one of {list(BRUNEL_REGIMES)}), got g={g!r}, eta={eta!r}"
        )
    check_nonnegative("g", g)
    check_positive("eta", eta)
    return float(g), float(eta)


def _scaled_sizes(n_e: int, n_i: int, epsilon: float, scale: float) -> tuple[int, int, int, int]:
    """(N_E, N_I, C_E, C_I) of the network at `scale`, each rounded to an integer."""
    check_int("n_e", n_e, minimum=1)
    check_int("n_i", n_i, minimum=1)
    check_positive("epsilon", epsilon)
    if not epsilon <= 1:
        raise ValueError(f"epsilon must be in (0, 1], got {epsilon}")
    check_positive("scale", scale)
    n_e_s, n_i_s = round(n_e * scale), round(n_i * scale)
    c_e, c_i = round(epsilon * n_e_s), round(epsilon * n_i_s)
    if min(c_e, c_i) < 1:
        raise ValueError(
            f"scale={scale} leaves C_E={c_e}, C_I={c_i} synapses per neuron (N_E={n_e_s}, "
            f"N_I={n_i_s}, epsilon={epsilon}); need at least 1 of each: use a larger scale"
        )
    if c_e > n_e_s - 1 or c_i > n_i_s - 1:
        raise ValueError(
            f"C_E={c_e} and C_I={c_i} must be below N_E={n_e_s} and N_I={n_i_s} (distinct "
            f"presynaptic neurons, no self-connections): lower epsilon={epsilon}"
        )
    return n_e_s, n_i_s, c_e, c_i


def brunel2000_params(
    *,
    n_e: int = 10_000,
    n_i: int = 2_500,
    epsilon: float = 0.1,
    j_mv: float = 0.1,
    delay_ms: float = 1.5,
    theta_mv: float = 20.0,
    v_reset_mv: float = 10.0,
    tau_m_ms: float = 20.0,
    tau_ref_ms: float = 2.0,
    scale: float = 1.0,
) -> BrunelParams:
    """The `jaxsnn.theory.BrunelParams` of the network `build_brunel2000` builds with the
    same arguments: its (scaled) sizes and J, for the mean-field rate and CV
    (`jaxsnn.theory.brunel_stationary_state(g, eta, brunel2000_params(scale=...))`).

    The returned epsilon is C_E/N_E of the built network, so that the theory's C_E is the
    network's exactly; its gamma = N_I/N_E may differ from the network's C_I/C_E by the
    rounding of C_I (less than half a synapse; none at the paper's sizes or at scales
    0.1, 0.2, 0.4, 0.5).

    Raises:
        ValueError: as `build_brunel2000`.
    """
    n_e_s, n_i_s, c_e, _ = _scaled_sizes(n_e, n_i, epsilon, scale)
    j_scaled = _scaled_j(j_mv, epsilon * n_e, c_e)
    return BrunelParams(
        n_e=n_e_s,
        n_i=n_i_s,
        epsilon=c_e / n_e_s,
        j_mv=j_scaled,
        delay_ms=delay_ms,
        tau_m_ms=tau_m_ms,
        theta_mv=theta_mv,
        v_reset_mv=v_reset_mv,
        tau_ref_ms=tau_ref_ms,
    )


def _scaled_j(j_mv: float, c_e_full: float, c_e: int) -> float:
    check_positive("j_mv", j_mv)
    return float(j_mv) * c_e_full / c_e


def build_brunel2000(
    key: PRNGKeyArray,
    *,
    regime: str | None = None,
    g: float | None = None,
    eta: float | None = None,
    n_e: int = 10_000,
    n_i: int = 2_500,
    epsilon: float = 0.1,
    j_mv: float = 0.1,
    delay_ms: float = 1.5,
    theta_mv: float = 20.0,
    v_reset_mv: float = 10.0,
    tau_m_ms: float = 20.0,
    tau_ref_ms: float = 2.0,
    scale: float = 1.0,
    counts: AbstractCounts = PoissonCounts(),
    layout: str = "auto",
    propagation: AbstractPropagation | None = None,
) -> Network:
    """Build Brunel's (2000) model A (module docstring), the paper's network by default.

    Either `regime` (a key of `BRUNEL_REGIMES`: "SR", "SI-fast", "AI", "SI-slow") or both
    `g` and `eta` choose the point of the phase diagram, e.g.
    `build_brunel2000(key, regime="AI")` or `build_brunel2000(key, g=5.0, eta=2.0)`.

    Args:
        key: PRNG key for the connectivity.
        regime: one of the four presets of Fig. 8, or None to give `g` and `eta`.
        g: relative strength of inhibition (inhibitory weight -g·J), >= 0.
        eta: nu_ext/nu_thr, the external rate in units of nu_thr, > 0.
        n_e, n_i: full-size numbers of excitatory and inhibitory neurons (N_E, N_I).
        epsilon: connection probability, in (0, 1]: C_E = epsilon·N_E, C_I = epsilon·N_I.
        j_mv: full-size excitatory jump J (mV), > 0.
        delay_ms: the delay D (ms) of every recurrent synapse, >= 0.
        theta_mv, v_reset_mv: threshold and reset (mV), relative to rest (0 mV).
        tau_m_ms: membrane time constant tau (ms).
        tau_ref_ms: absolute refractory period tau_rp (ms).
        scale: size factor (module docstring): N_E, N_I, C_E, C_I, C_ext are multiplied by
            it (rounded), J divided by it (J·C_E fixed), so the mean input is the paper's.
        counts: `PoissonCounts()` (default: C_ext Poisson sources) or `BinomialCounts()`
            (C_ext Bernoulli channels) for the external drive (`PoissonDrive`).
        layout, propagation: storage and propagation of the recurrent projections (as in
            `jaxsnn.connect`; "auto" stores the paper's 10 % connectivity sparse and
            propagates it event by event).

    Returns:
        The `Network`: populations "E" (N_E) and "I" (N_I), projections E->E, E->I, I->E,
        I->I (`FixedInDegree`, `Delta()`, delay D), drives "ext_E" and "ext_I"
        (`PoissonDrive`, C_ext sources at nu_ext, weight J). Simulate it from
        `brunel2000_state` with dt = 0.1 ms (`DT_MS`) and a key.

    Raises:
        ValueError: for a key that is not a PRNG key, g < 0, eta <= 0, an unknown regime
            or both a regime and g/eta, epsilon outside (0, 1], scale <= 0 or so small
            that C_E or C_I < 1, J <= 0, D < 0, v_reset >= theta, tau <= 0, tau_rp <= 0,
            sizes that are not integers >= 1, or numbers that are bools or strings.
    """
    check_key("key", key)
    g, eta = _regime_g_eta(regime, g, eta)
    params = brunel2000_params(
        n_e=n_e,
        n_i=n_i,
        epsilon=epsilon,
        j_mv=j_mv,
        delay_ms=delay_ms,
        theta_mv=theta_mv,
        v_reset_mv=v_reset_mv,
        tau_m_ms=tau_m_ms,
        tau_ref_ms=tau_ref_ms,
        scale=scale,
    )
    n_e_s, n_i_s, c_e, c_i = _scaled_sizes(n_e, n_i, epsilon, scale)
    check_finite("delay_ms", delay_ms)
    j = float(params.j_mv)
    # nu_thr = theta/(J·C_E·tau) with the network's own C_E and J (= the full-size value)
    nu_ext_hz = eta * 1000.0 * theta_mv / (j * c_e * tau_m_ms)
    neuron = LIF(
        tau_mem_ms=tau_m_ms,
        v_rest_mv=0.0,
        v_th_mv=theta_mv,
        v_reset_mv=v_reset_mv,
        t_ref_ms=tau_ref_ms,
    )
    exc = Population("E", n_e_s, neuron, dale="excitatory")
    inh = Population("I", n_i_s, neuron, dale="inhibitory")
    keys = jr.split(key, 4)
    plan = [(exc, exc, c_e, 1.0), (exc, inh, c_e, 1.0), (inh, exc, c_i, g), (inh, inh, c_i, g)]
    projections = [
        # weight scale·J, negated by Dale's law for the inhibitory population: -g·J
        connect(
            pre,
            post,
            FixedInDegree(k),
            Constant(j),
            key=kk,
            scale=w,
            layout=layout,
            propagation=propagation,
            delay_ms=float(delay_ms),
        )
        for (pre, post, k, w), kk in zip(plan, keys, strict=True)
        if w > 0  # g = 0: no inhibitory synapses at all
    ]
    # an array, not a Python float: networks that differ only in g and eta then share
    # one compiled simulation (simulate traces arrays and specialises on Python numbers)
    rate = jnp.asarray(nu_ext_hz, jnp.result_type(float))
    drives = [
        PoissonDrive(f"ext_{pop.name}", pop.name, pop.n, c_e, rate, j, counts=counts)
        for pop in (exc, inh)
    ]
    return Network([exc, inh], projections, drives)


def brunel2000_state(
    network: Network,
    key: PRNGKeyArray,
    *,
    dt_ms: float = DT_MS,
    dtype=None,
) -> NetworkState:
    """Initial state: every V drawn independently and uniformly in [V_r, theta), nothing
    in flight in the delay lines, no neuron refractory.

    Starting every neuron at rest would send them to threshold together (the external
    drive alone pushes V towards mu_ext = eta·theta, so every neuron crosses theta after
    about the same tau·ln(eta/(eta - 1)) when eta > 1), a synchronous volley; spreading V
    over [V_r, theta) starts the network closer to its stationary state. Discard the
    first ~200 ms (10 tau) either way before measuring stationary statistics.

    Args:
        network: a network from `build_brunel2000` (the neuron constants are read from
            its populations).
        key: PRNG key for the potentials.
        dt_ms: the step the state will be simulated with (sizes the delay buffers).
        dtype: float dtype of the state (default: JAX's default float).

    Returns:
        The `NetworkState`.

    Raises:
        ValueError: if `key` is not a PRNG key, `dt_ms` is not a finite number > 0, or
            `dtype` is not a float dtype.
    """
    check_key("key", key)
    check_positive("dt_ms", dt_ms)
    check_float_dtype("dtype", dtype)
    dtype = jnp.result_type(float) if dtype is None else jnp.dtype(dtype)
    lows, highs = [], []
    for pop in network.populations:
        lows.append(jnp.full((pop.n,), pop.neuron.v_reset_mv, dtype))
        highs.append(jnp.full((pop.n,), pop.neuron.v_th_mv, dtype))
    low, high = jnp.concatenate(lows), jnp.concatenate(highs)
    v0 = low + (high - low) * jr.uniform(key, low.shape, dtype)
    return init_state(network, dt_ms=dt_ms, v0_mv=v0, dtype=dtype)


__all__ = [
    "BRUNEL_REGIMES",
    "DT_MS",
    "brunel2000_params",
    "brunel2000_state",
    "build_brunel2000",
]

"""Decisions, psychometric and chronometric curves of Wang (2002) and Wong & Wang (2006).

Many trials per coherence run in one jitted, vmapped call per chunk of trials; each
trial returns its pools' rates per recording window; `decide` smooths them (a causal
kernel, as a downstream reader would) and reads the choice and the reaction time with
`jaxsnn.psychophysics.threshold_decisions`; `run_psychometric` tabulates accuracy with
Wilson intervals, mean reaction times and undecided fractions per coherence and fits the
Weibull psychometric function.

Published values to compare with (Wang 2002, Neuron 36:955, Fig. 5 and its text: the
network's psychometric function fitted by p(c) = 1 − 0.5·exp(−(c/α)^β)):
α ≈ 9.2 % coherence, β ≈ 1.5 (`PAPER_WEIBULL`), as the network model's fit is usually
cited. The paper itself could not be consulted while this was written, so page and
panel are unchecked: treat the two numbers as indicative. Our protocol differs in details
the paper leaves open or sets otherwise (reaction-time readout at 15 Hz on rates
smoothed by a 20 ms causal exponential, stimulus on until the end of a 2 s window,
0.1 ms exact integration), so agreement is expected in range and trend (accuracy from
chance at c = 0 to ~100 % at 51.2 %, α of order 10 %, reaction times falling with
coherence from several hundred ms), not to the digit.

Reaction times: Wang (2002) reports decision times falling from roughly 600–800 ms at
low coherence to ~300–400 ms at 51.2 % (figure of decision time vs coherence), the
monkeys' (Roitman & Shadlen 2002) from ~800 ms to ~400 ms (including ~300 ms of
non-decision time); only the trend and order of magnitude are compared.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .._checks import check_int, check_positive
from ..analysis.kernels import AbstractKernel, ExponentialKernel
from ..decision.evaluate import wilson_interval
from ..network import Network
from ..progress import bar, compile_timer
from ..psychophysics import (
    Decisions,
    PsychometricPoint,
    WeibullFit,
    fit_weibull,
    psychometric_points,
    threshold_decisions,
    weibull_accuracy,
)
from ..record import Record
from ..simulation import simulate
from .wang2002 import (
    POOLS,
    Wang2002Parameters,
    Wang2002Protocol,
    build_wang2002,
    check_coherence,
    wang2002_inputs,
    wang2002_state,
)
from .wong_wang2006 import WongWang2006, WongWangProtocol, simulate_wong_wang

PAPER_WEIBULL = {"alpha_pct": 9.2, "beta": 1.5}
DEFAULT_COHERENCES = (0.0, 3.2, 6.4, 12.8, 25.6, 51.2)
THRESHOLD_HZ = 15.0
DEFAULT_KERNEL = ExponentialKernel(tau_ms=20.0)


def wang2002_trial_rates(
    network: Network,
    coherence_pct: float | Float[Array, ""],
    key: PRNGKeyArray,
    protocol: Wang2002Protocol = Wang2002Protocol(),
    params: Wang2002Parameters = Wang2002Parameters(),
    *,
    progress: bool = False,
) -> Float[Array, "windows 4"]:
    """One trial of the network: the pool rates (Hz) of A, B, N, I (columns, in
    `POOLS` order) per recording window of `protocol.record_ms`. Vmap over coherences
    and keys for many trials."""
    k_state, k_sim, k_stim = jr.split(key, 3)
    state = wang2002_state(network, k_state, dt_ms=protocol.dt_ms, params=params)
    _, rec = simulate(
        network,
        state,
        protocol.n_steps,
        dt_ms=protocol.dt_ms,
        key=k_sim,
        inputs=wang2002_inputs(k_stim, coherence_pct, protocol, params=params),
        record=Record(rates=POOLS, every=protocol.record_every),
        progress=progress,
    )
    return jnp.stack([rec.rates_hz[p] for p in POOLS], axis=-1)


def reduced_trial_rates(
    model: WongWang2006,
    coherence_pct: float | Float[Array, ""],
    key: PRNGKeyArray,
    protocol: WongWangProtocol = WongWangProtocol(),
) -> Float[Array, "windows 2"]:
    """One trial of the reduced model: H(x_1), H(x_2) (Hz) per recording window."""
    return simulate_wong_wang(model, coherence_pct, key, protocol)[0]


@dataclasses.dataclass(frozen=True)
class Timing:
    """How long a batch of trials took.

    Attributes:
        n_trials: trials simulated.
        simulated_ms: simulated time per trial (ms).
        compile_s: tracing and compilation (s).
        run_s: wall time minus compile time (s).
    """

    n_trials: int
    simulated_ms: float
    compile_s: float
    run_s: float

    @property
    def trials_per_second(self) -> float:
        return self.n_trials / max(self.run_s, 1e-12)

    @property
    def real_time_factor(self) -> float:
        """Simulated time of all trials over run time (> 1: faster than real time)."""
        return self.n_trials * self.simulated_ms * 1e-3 / max(self.run_s, 1e-12)


def run_trials(
    trial: Callable[[Float[Array, ""], PRNGKeyArray], Array],
    coherence_pct: Float[Array, " trials"],
    keys: PRNGKeyArray,
    *,
    simulated_ms: float,
    batch_size: int = 32,
    progress: bool = False,
) -> tuple[np.ndarray, Timing]:
    """Run `trial(c, key)` for every (coherence, key) pair: one jitted `vmap` per chunk
    of `batch_size` trials (the last chunk padded, so one program serves every chunk).

    Returns:
        `(outputs, timing)`: the stacked outputs as NumPy (trials first) and a `Timing`.
    """
    check_int("batch_size", batch_size, minimum=1)
    c = jnp.asarray(coherence_pct, jnp.result_type(float))
    n = int(c.shape[0])
    run = jax.jit(jax.vmap(trial))
    size = min(batch_size, n)
    outs = []
    pbar = bar(n, desc="trials", unit="trial", disable=not progress)
    with compile_timer() as compiled:
        start = time.perf_counter()
        for i in range(0, n, size):
            idx = np.minimum(np.arange(i, i + size), n - 1)
            out = jax.block_until_ready(run(c[idx], keys[idx]))
            outs.append(np.asarray(out)[: min(size, n - i)])
            pbar.update(min(size, n - i))
        wall = time.perf_counter() - start
    pbar.close()
    timing = Timing(n, float(simulated_ms), compiled[0], max(wall - compiled[0], 1e-9))
    return np.concatenate(outs), timing


def decide(
    rates_hz: Float[Array, "... windows 2"],
    *,
    dt_ms: float,
    onset_ms: float,
    threshold_hz: float = THRESHOLD_HZ,
    kernel: AbstractKernel | None = DEFAULT_KERNEL,
) -> Decisions:
    """Smooth two pools' rates along time with `kernel` (None: as they are) and read the
    first threshold crossing after the onset (`threshold_decisions`)."""
    r = jnp.asarray(rates_hz)
    if kernel is not None:
        r = jnp.moveaxis(kernel.apply(jnp.moveaxis(r, -2, 0), dt_ms=dt_ms), 0, -2)
    return threshold_decisions(r, dt_ms=dt_ms, threshold_hz=threshold_hz, onset_ms=onset_ms)


def table_rows(points: Sequence[PsychometricPoint]) -> list[dict]:
    """The psychometric table: per coherence, accuracy among decided trials with its 95 %
    Wilson interval, mean (and s.d.) reaction time, undecided fraction."""
    rows = []
    for p in points:
        low, high = wilson_interval(p.n_correct, p.n_decided) if p.n_decided else (math.nan,) * 2
        rows.append(
            {
                "coherence_pct": p.coherence,
                "n_trials": p.n_trials,
                "n_decided": p.n_decided,
                "n_correct": p.n_correct,
                "accuracy": p.accuracy,
                "accuracy_ci95": [low, high],
                "mean_rt_ms": p.mean_time_ms,
                "sd_rt_ms": p.sd_time_ms,
                "mean_rt_correct_ms": p.mean_time_correct_ms,
                "undecided": p.undecided,
            }
        )
    return rows


def format_table(rows: Sequence[dict]) -> str:
    """The table of `table_rows` as aligned text."""
    lines = [
        f"{'coh %':>6} {'trials':>6} {'accuracy':>8} {'95% Wilson':>15} {'mean RT ms':>10} "
        f"{'sd RT':>7} {'undecided':>9}"
    ]
    for r in rows:
        lo, hi = r["accuracy_ci95"]
        lines.append(
            f"{r['coherence_pct']:6.1f} {r['n_trials']:6d} {r['accuracy']:8.3f} "
            f"  [{lo:5.3f}, {hi:5.3f}] {r['mean_rt_ms']:10.0f} {r['sd_rt_ms']:7.0f} "
            f"{r['undecided']:9.3f}"
        )
    return "\n".join(lines)


@dataclasses.dataclass(frozen=True)
class PsychometricResult:
    """A psychometric experiment.

    Attributes:
        model: "network" (Wang 2002) or "reduced" (Wong & Wang 2006).
        coherence_pct: (trials,) coherence of every trial.
        decisions: every trial's `Decisions` (choice 0 = A/pool 1 correct for c >= 0).
        points: per coherence level, a `PsychometricPoint`.
        rows: the table (`table_rows`).
        fit: the Weibull fit (None when it could not be made).
        timing: the simulation's `Timing`.
        example_rates_hz: (windows, pools) rates of the first trial of the largest
            coherence (A, B, N, I for the network; pools 1, 2 for the reduced model).
        record_ms: recording window (ms).
        onset_ms: stimulus onset (ms).
        threshold_hz: decision threshold (Hz).
    """

    model: str
    coherence_pct: np.ndarray
    decisions: Decisions
    points: list[PsychometricPoint]
    rows: list[dict]
    fit: WeibullFit | None
    timing: Timing
    example_rates_hz: np.ndarray
    record_ms: float
    onset_ms: float
    threshold_hz: float

    def summary(self) -> dict:
        """The JSON-ready summary (lists per coherence, the fit, timing)."""
        fit = self.fit
        nan = lambda x: None if x is None or (isinstance(x, float) and not math.isfinite(x)) else x
        return {
            "model": self.model,
            "coherence_pct": [r["coherence_pct"] for r in self.rows],
            "n_trials_per_coherence": [r["n_trials"] for r in self.rows],
            "accuracy": [nan(r["accuracy"]) for r in self.rows],
            "accuracy_ci95": [[nan(v) for v in r["accuracy_ci95"]] for r in self.rows],
            "mean_rt_ms": [nan(r["mean_rt_ms"]) for r in self.rows],
            "sd_rt_ms": [nan(r["sd_rt_ms"]) for r in self.rows],
            "undecided": [nan(r["undecided"]) for r in self.rows],
            "weibull_alpha_pct": None if fit is None else fit.alpha,
            "weibull_alpha_ci95": None if fit is None else [nan(v) for v in fit.alpha_ci],
            "weibull_beta": None if fit is None else fit.beta,
            "weibull_beta_ci95": None if fit is None else [nan(v) for v in fit.beta_ci],
            "paper_weibull": PAPER_WEIBULL,
            "threshold_hz": self.threshold_hz,
            "trials": self.timing.n_trials,
            "simulated_ms_per_trial": self.timing.simulated_ms,
            "compile_s": self.timing.compile_s,
            "run_s": self.timing.run_s,
            "trials_per_second": self.timing.trials_per_second,
            "real_time_factor": self.timing.real_time_factor,
        }


def run_psychometric(
    key: PRNGKeyArray,
    *,
    coherences: Sequence[float] = DEFAULT_COHERENCES,
    n_trials: int = 100,
    model: str = "network",
    network: Network | None = None,
    params: Wang2002Parameters = Wang2002Parameters(),
    protocol: Wang2002Protocol | WongWangProtocol | None = None,
    reduced: WongWang2006 = WongWang2006(),
    threshold_hz: float = THRESHOLD_HZ,
    kernel: AbstractKernel | None | str = "default",
    batch_size: int = 32,
    progress: bool = False,
) -> PsychometricResult:
    """Run `n_trials` trials at each coherence, read the decisions, tabulate and fit.

    Args:
        key: PRNG key of the whole experiment (trial t uses `split(key)[t]`).
        coherences: coherence levels (%), >= 0 (pool A / pool 1 is correct).
        n_trials: trials per coherence.
        model: "network" (Wang 2002 spiking network) or "reduced" (Wong & Wang 2006).
        network: the network (default `build_wang2002(params=params)`).
        params: the network's constants.
        protocol: trial timing (default `Wang2002Protocol()` / `WongWangProtocol()`).
        reduced: the reduced model's parameters.
        threshold_hz: decision threshold (Hz).
        kernel: smoothing of the rates before the readout: "default" (a 20 ms causal
            exponential for the network, none for the reduced model, whose rates are
            already smooth), a kernel, or None.
        batch_size: trials per vmapped call.
        progress: a progress bar over trials on stderr.

    Returns:
        A `PsychometricResult`.

    Raises:
        ValueError: bad model name, coherences, counts or threshold.
    """
    if model not in ("network", "reduced"):
        raise ValueError(f"model must be 'network' or 'reduced', got {model!r}")
    check_int("n_trials", n_trials, minimum=1)
    check_positive("threshold_hz", threshold_hz)
    levels = np.asarray(coherences, np.float64).ravel()
    if levels.size == 0:
        raise ValueError("coherences must not be empty")
    check_coherence("coherences", levels)
    if np.any(levels < 0):
        raise ValueError(f"coherences must be >= 0 (pool A correct), got {levels.tolist()}")
    c = jnp.asarray(np.repeat(levels, n_trials), jnp.result_type(float))
    keys = jr.split(key, c.shape[0])
    if model == "network":
        protocol = Wang2002Protocol() if protocol is None else protocol
        if not isinstance(protocol, Wang2002Protocol):
            raise ValueError(f"protocol must be a Wang2002Protocol, got {type(protocol).__name__}")
        net = build_wang2002(params=params) if network is None else network
        trial = lambda ci, ki: wang2002_trial_rates(net, ci, ki, protocol, params)
        kernel = DEFAULT_KERNEL if kernel == "default" else kernel
    else:
        protocol = WongWangProtocol() if protocol is None else protocol
        if not isinstance(protocol, WongWangProtocol):
            raise ValueError(f"protocol must be a WongWangProtocol, got {type(protocol).__name__}")
        trial = lambda ci, ki: reduced_trial_rates(reduced, ci, ki, protocol)
        kernel = None if kernel == "default" else kernel
    rates, timing = run_trials(
        trial,
        c,
        keys,
        simulated_ms=protocol.duration_ms,
        batch_size=batch_size,
        progress=progress,
    )
    decisions = jax.tree.map(
        np.asarray,
        decide(
            rates[..., :2],
            dt_ms=protocol.record_ms,
            onset_ms=protocol.onset_ms,
            threshold_hz=threshold_hz,
            kernel=kernel,
        ),
    )
    points = psychometric_points(np.repeat(levels, n_trials), decisions, levels=levels)
    rows = table_rows(points)
    fit = _fit(points)
    example = rates[int(np.argmax(np.asarray(c)))]
    return PsychometricResult(
        model=model,
        coherence_pct=np.repeat(levels, n_trials),
        decisions=decisions,
        points=points,
        rows=rows,
        fit=fit,
        timing=timing,
        example_rates_hz=example,
        record_ms=float(protocol.record_ms),
        onset_ms=float(protocol.onset_ms),
        threshold_hz=float(threshold_hz),
    )


def _fit(points: Sequence[PsychometricPoint]) -> WeibullFit | None:
    c = np.array([p.coherence for p in points])
    k = np.array([p.n_correct for p in points])
    n = np.array([p.n_decided for p in points])
    if not np.any((c > 0) & (n > 0)):
        return None
    return fit_weibull(c, k, n)


def chronometric(points: Sequence[PsychometricPoint]) -> tuple[np.ndarray, np.ndarray]:
    """(coherences, mean reaction times in ms) of the decided trials."""
    return (
        np.array([p.coherence for p in points]),
        np.array([p.mean_time_ms for p in points]),
    )


__all__ = [
    "DEFAULT_COHERENCES",
    "PAPER_WEIBULL",
    "PsychometricResult",
    "Timing",
    "chronometric",
    "decide",
    "format_table",
    "reduced_trial_rates",
    "run_psychometric",
    "run_trials",
    "table_rows",
    "wang2002_trial_rates",
    "weibull_reference",
]


def weibull_reference(c: ArrayLike) -> np.ndarray:
    """The published Weibull curve of the network (`PAPER_WEIBULL`) at coherences c (%)."""
    return weibull_accuracy(c, PAPER_WEIBULL["alpha_pct"], PAPER_WEIBULL["beta"])

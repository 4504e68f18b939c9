"""Real-time streaming: consume input in windows (100 ms by default), carry the state,
return an answer per window with its compute latency and whether it met the real-time
budget (a window of 100 ms must be computed in under 100 ms of wall time).

This is how a live source (a sensor, a microphone) is served: each window of input goes
through one compiled call of `simulate` plus a readout, continuing from the state the
previous window left. The program is compiled before the first window (its compile time
is reported apart), so every window's latency is compute only.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import equinox as eqx
import jax
import numpy as np
from jaxtyping import Array, PRNGKeyArray

from ._checks import check_positive
from .network import Network, NetworkState
from .progress import compile_timer
from .record import Record, Recording
from .simulation import check_simulation, simulate


@dataclasses.dataclass(frozen=True)
class WindowResult:
    """One window of a stream.

    Attributes:
        index: the window's number (0, 1, ...).
        output: what the readout returned for this window (host arrays).
        latency_s: wall time to compute the window (simulation and readout), seconds.
        budget_s: the window's length in real time, seconds.
    """

    index: int
    output: Any
    latency_s: float
    budget_s: float

    @property
    def met_budget(self) -> bool:
        """Whether the window was computed faster than it lasts."""
        return self.latency_s <= self.budget_s


@dataclasses.dataclass(frozen=True)
class StreamReport:
    """Latencies of a whole stream; `str()` gives a one-line summary."""

    windows: tuple[WindowResult, ...]
    compile_s: float

    @property
    def latencies_s(self) -> np.ndarray:
        return np.array([w.latency_s for w in self.windows])

    @property
    def fraction_met(self) -> float:
        """Fraction of windows computed within their real-time budget."""
        return float(np.mean([w.met_budget for w in self.windows])) if self.windows else 1.0

    def __str__(self) -> str:
        if not self.windows:
            return f"no windows (compiled in {self.compile_s:.2f} s)"
        lat = self.latencies_s * 1e3
        budget = self.windows[0].budget_s * 1e3
        return (
            f"{len(self.windows)} windows of {budget:g} ms: latency median "
            f"{np.median(lat):.2f} ms, p95 {np.percentile(lat, 95):.2f} ms, max "
            f"{lat.max():.2f} ms; {100 * self.fraction_met:.0f} % within budget "
            f"(compiled in {self.compile_s:.2f} s)"
        )


def stream(
    network: Network,
    state: NetworkState,
    windows: Iterable[Mapping[str, Array]],
    *,
    readout: Callable[[NetworkState, Recording], Any],
    dt_ms: float,
    window_ms: float = 100.0,
    key: PRNGKeyArray | None = None,
    record: Record = Record(counts=True),
) -> Iterator[tuple[NetworkState, WindowResult]]:
    """Run `network` window by window on the input data that `windows` yields.

    Args:
        network: the network.
        state: the state to start from; each window continues from the last.
        windows: an iterable of per-window input data, each a mapping input name -> data
            as `simulate` takes it (a constant, or a series of window_ms/dt_ms steps). It
            may block while a live source fills the next window: waiting is not latency.
        readout: `readout(state, recording) -> answer`, traced into the compiled window
            (e.g. a decision from the output population's spike count in `recording`).
        dt_ms: step (ms).
        window_ms: window length (ms); a multiple of dt_ms.
        key: PRNG key of the random inputs; window w draws what one long run would.
        record: what each window records for the readout (default: spike counts).

    Yields:
        `(state, result)` after each window: the state to continue from and its
        `WindowResult`. `StreamReport(tuple(results), compile_s)` summarises a stream;
        `run_stream` collects one.
    """
    check_positive("window_ms", window_ms)
    n_steps = int(round(window_ms / dt_ms))
    if n_steps < 1 or abs(n_steps * dt_ms - window_ms) > 1e-9 * window_ms:
        raise ValueError(f"window_ms={window_ms} must be a whole number of dt_ms={dt_ms} steps")
    if not callable(readout):
        raise ValueError(
            f"readout must be a function (state, recording) -> answer, got {readout!r}"
        )

    for index, data in enumerate(windows):
        data = dict(data)
        check_simulation(network, state, n_steps, dt_ms, key, data, record, None, False)
        start = time.perf_counter()
        state, output = _window(network, state, data, key, n_steps, dt_ms, record, readout)
        output = jax.device_get(jax.block_until_ready(output))
        latency = time.perf_counter() - start
        yield state, WindowResult(index, output, latency, window_ms * 1e-3)


@eqx.filter_jit
def _window(network, state, data, key, n_steps, dt_ms, record, readout):
    # module level, so every stream with the same readout reuses one compiled program
    state, recording = simulate(
        network, state, n_steps, dt_ms=dt_ms, key=key, inputs=data, record=record
    )
    return state, readout(state, recording)


def run_stream(
    network: Network,
    state: NetworkState,
    windows: Iterable[Mapping[str, Array]],
    **kwargs: Any,
) -> tuple[NetworkState, StreamReport]:
    """`stream` to the end: the final state and a `StreamReport`.

    The first window's data is used once beforehand, on a copy of the state, to compile
    the window program; its compile time is `StreamReport.compile_s`.
    """
    windows = iter(windows)
    try:
        first = next(windows)
    except StopIteration:
        return state, StreamReport((), 0.0)
    with compile_timer() as compile_s:
        for _ in stream(network, state, [first], **kwargs):
            pass  # warm-up: compiles; its state and answer are discarded
    results, final = [], state
    for final, result in stream(network, state, _chain(first, windows), **kwargs):  # noqa: B007
        results.append(result)
    return final, StreamReport(tuple(results), compile_s[0])


def _chain(first, rest):
    yield first
    yield from rest

"""`simulate`: run a network for n steps as one `lax.scan`, the one loop of jaxsnn.

Everything a run can do is an option of `simulate`: what to record (`Record`, every k
steps: a scan of windows, each a scan of `every` steps, so memory grows with
n_steps/every, not with n_steps), per-trial input data (`inputs`), plasticity rules
running in the same scan (`plasticity`), gradient checkpointing of the step
(`checkpoint`). A simulation continues from a returned state: running 10 windows of
1000 steps with the same key gives the same spikes as one run of 10 000 steps.

Every argument is checked once, here, at the entry (`check_simulation`): shapes, dtypes
and concrete values at trace time; weights and potentials that are NaN or infinite at
run time, under `jit`, with `eqx.error_if`.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import warnings
from collections.abc import Callable, Mapping, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, PRNGKeyArray

from . import progress as progress_lib
from ._checks import check_int, check_key, check_positive, check_real, is_concrete
from ._delays import buffer_name, ring_name
from .events import SpikeEvents, concat_events
from .network import Network, NetworkState, prepare, step_prepared
from .plasticity.learning import Plasticity, weight_means
from .progress import RunReport
from .record import Record, Recording


def check_dt(network: Network, dt_ms: float, allow_large_dt: bool) -> None:
    """Raise ValueError if dt is not positive, or larger than a tenth of the smallest
    time constant (unless `allow_large_dt`)."""
    check_positive("dt_ms", dt_ms)
    if allow_large_dt:
        return
    concrete = [np.min(np.asarray(t)) for t in network.time_constants_ms() if is_concrete(t)]
    if concrete and dt_ms > 0.1 * min(concrete):
        raise ValueError(
            f"dt_ms={dt_ms} is larger than a tenth of the smallest time constant "
            f"({min(concrete)} ms); pass allow_large_dt=True if this is intended"
        )


def _check_state(network: Network, state: NetworkState, dt_ms: float, plasticity) -> None:
    n = network.n_neurons
    if not isinstance(state, NetworkState) or state.spikes.shape[-1:] != (n,):
        got = state.spikes.shape if isinstance(state, NetworkState) else type(state).__name__
        raise ValueError(f"state must be a NetworkState for {n} neurons, got {got}")
    if len(state.neurons) != len(network.groups) or len(state.synapses) != len(network.projections):
        raise ValueError(
            "state does not match the network (its neuron blocks or projections differ): "
            "make it with init_state(network)"
        )
    expected = {}
    for proj in network.projections:
        steps = proj.delay_steps(dt_ms)
        if proj.per_synapse_delays:
            expected[buffer_name(proj.name)] = None
        elif steps:
            expected[ring_name(proj.pre, steps)] = (steps, proj.n_pre)
    have = {k: tuple(v.shape[-2:]) for k, v in state.delays.items()}
    if set(have) != set(expected) or any(
        shape is not None and have[k] != shape for k, shape in expected.items()
    ):
        raise ValueError(
            f"the state's delay buffers {sorted(have)} do not match the network's delays at "
            f"dt_ms={dt_ms} ({sorted(expected)}): make the state with "
            f"init_state(network, dt_ms={dt_ms})"
        )
    for proj in network.projections:
        if proj.per_synapse_delays:
            longest = proj.max_delay_steps(dt_ms)
            rows = state.delays[buffer_name(proj.name)].shape[-2]
            if longest is not None and longest >= rows:
                raise ValueError(
                    f"projection {proj.name}: a delay of {longest} steps does not fit the "
                    f"state's buffer of {rows} rows: make the state with "
                    f"init_state(network, dt_ms={dt_ms}) after setting the delays"
                )
    if plasticity is not None and state.plasticity is not None:
        if len(state.plasticity) != len(plasticity.rules):
            raise ValueError(
                f"state.plasticity holds traces of {len(state.plasticity)} rules, the "
                f"plasticity has {len(plasticity.rules)}"
            )


def _placeholder(x):
    return jax.ShapeDtypeStruct(x.shape, x.dtype) if eqx.is_array(x) else x


def recheck_modules(module: eqx.Module) -> None:
    """Run again every construction check (`__check_init__`) of `module` and of the
    modules inside it: weights replaced with `eqx.tree_at` or by an optax update skip
    construction, and must meet the same checks (shapes, dtypes, constants) before they
    are simulated."""
    for cls in type(module).__mro__:
        check = cls.__dict__.get("__check_init__")
        if check is not None:
            try:
                check(module)
            except (AttributeError, TypeError):
                pass  # a check that needs array values, which placeholders lack
    for field in dataclasses.fields(module):
        value = getattr(module, field.name, None)
        for item in value if isinstance(value, list | tuple) else (value,):
            if isinstance(item, eqx.Module):
                recheck_modules(item)


def check_simulation(
    network: Network,
    state: NetworkState,
    n_steps: int,
    dt_ms: float,
    key: PRNGKeyArray | None,
    inputs: Mapping[str, Array],
    record: Record,
    plasticity: Plasticity | None,
    allow_large_dt: bool,
) -> None:
    """Every check of `simulate`'s arguments (see `simulate`, "Raises")."""
    check_int("n_steps", n_steps, minimum=1)
    # On shape placeholders: shapes, dtypes and constants are checked here, without
    # tracing anything; the values of the arrays (NaN weights) inside the compiled run
    # (`eqx.error_if`), without a copy to the host on every call.
    recheck_modules(jax.tree.map(_placeholder, network))
    if isinstance(dt_ms, bool) or not isinstance(dt_ms, int | float):
        raise ValueError(f"dt_ms must be a Python float, got {type(dt_ms).__name__}")
    check_dt(network, float(dt_ms), allow_large_dt)
    if not isinstance(record, Record):
        raise ValueError(f"record must be a Record, got {type(record).__name__}")
    if n_steps % record.every:
        raise ValueError(f"n_steps={n_steps} must be a multiple of Record.every={record.every}")
    known = {i.name for i in network.inputs}
    for name in inputs:
        if name not in known:
            raise ValueError(
                f"inputs has unknown name {name!r}; the network's inputs are {sorted(known)}"
            )
    for inp in network.inputs:
        inp.check_data(inputs.get(inp.name), n_steps, float(dt_ms))
    _check_state(network, state, float(dt_ms), plasticity)
    if plasticity is not None:
        if not isinstance(plasticity, Plasticity):
            raise ValueError(f"plasticity must be a Plasticity, got {type(plasticity).__name__}")
        plasticity.indices(network)
        plasticity.differentiable_indices(network)
    if key is not None:
        check_key("key", key)
    random = [i for i in network.inputs if i.needs_key()]
    if key is None and random:
        raise ValueError(
            f"this network has random inputs ({type(random[0]).__name__} '{random[0].name}'): "
            "pass key=jax.random.key(...)"
        )


def simulate(
    network: Network,
    state: NetworkState,
    n_steps: int,
    *,
    dt_ms: float,
    key: PRNGKeyArray | None = None,
    inputs: Mapping[str, Array] | None = None,
    record: Record = Record(),
    plasticity: Plasticity | None = None,
    checkpoint: bool = False,
    allow_large_dt: bool = False,
    progress: bool = False,
    report: bool | Callable[[RunReport], object] = False,
    chunk_steps: int | None = None,
) -> tuple[NetworkState, Recording]:
    """Simulate `n_steps` steps of `dt_ms` as one JIT-compiled `lax.scan`.

    Args:
        network: the network.
        state: the state to start from (`init_state`, or one returned by `simulate`).
        n_steps: number of steps (a Python int).
        dt_ms: step length in ms (a Python float); must be <= a tenth of the smallest time
            constant unless `allow_large_dt=True`.
        key: PRNG key for random inputs (required when the network has any); step t
            draws from `fold_in(key, t)` with t = `state.t + step`, so a run continued from a
            returned state with the same key draws what one long run would.
        inputs: per-trial data of the inputs, by name (see `jaxsnn.inputs`): a constant,
            shape () or (n,), or a time series with time first, (n_steps, n) or
            (n_steps, 1): spikes for a `SpikeInput`, rates (Hz) for Poisson inputs and
            drives, currents (mV) for a `CurrentInput`.
        record: what to record (default nothing).
        plasticity: plasticity rules run in the same scan (`jaxsnn.plasticity.Plasticity`);
            their update comes back as `recording.updates`, their traces in the state.
        checkpoint: `jax.checkpoint` the step, so reverse-mode gradients store only the
            state per step and recompute the rest (memory O(n_steps · N) instead of
            O(n_steps · N · intermediates), about 1.3x the compute).
        allow_large_dt: skip the dt check.
        progress: show a progress bar on stderr (steps, simulated ms, speed as a multiple
            of real time, time left). The scan is cut into about 100 chunks with a host
            callback between them; this works under `jit` and `vmap` (one bar per call,
            simulated time per trial). Overhead: see benchmarks/README.md. It is part of
            the compiled program: switching it on or off compiles anew.
        report: print a `jaxsnn.progress.RunReport` (compile time, run time, real-time
            factor) on stderr when the run ends, or pass a function to receive it. Needs
            concrete arrays (not inside `jit`/`vmap`).
        chunk_steps: run the steps in chunks of this many steps (a multiple of
            `Record.every`), each continuing from the state the last left, so runs of
            any length reuse two compiled programs: one for whole chunks, one for a
            last, shorter chunk (which skips its extra steps). The spikes are those of
            one run (same keys, same order of operations). Use it when the length
            changes from call to call; one length compiles once anyway (None, the
            default). Not with `plasticity` (its weights change within a run). Each
            chunk has its own progress bar and, with an explicit
            `Record.event_capacity`, its own event capacity.

    Returns:
        `(final_state, recording)`: the state after the run and a `Recording`.

    Raises:
        ValueError: bad dt, steps, record or plasticity; missing, mis-shaped, non-finite or
            invalid input data; unknown names; a state that does not fit the network; a
            missing key. At run time (under jit too), `eqx.EquinoxRuntimeError` for
            weights or potentials that are NaN or infinite.
    """
    if not isinstance(network, Network):
        raise ValueError(f"network must be a Network, got {type(network).__name__}")
    if inputs is not None and not isinstance(inputs, Mapping):
        raise ValueError(
            f"inputs must be a mapping of input names to data, got {type(inputs).__name__}"
        )
    for name, x in (inputs or {}).items():
        check_real(f"inputs[{name!r}]", x)
    # arrays, not Python numbers: jit would take a number as a constant of the program
    # and compile anew for every value
    inputs = {name: jnp.asarray(x) for name, x in (inputs or {}).items()}
    check_simulation(
        network, state, n_steps, dt_ms, key, inputs, record, plasticity, allow_large_dt
    )
    n_steps = int(n_steps)  # a NumPy integer would be traced by jit
    _check_chunks(chunk_steps, record.every, plasticity)
    key = jr.key(0) if key is None else key
    record = record.resolve(network)
    run_part = lambda state, inputs, n, active=None: _run(
        network, state, inputs, key, n, float(dt_ms), record, plasticity, checkpoint,
        bool(progress), active,
    )  # fmt: skip

    def run():
        if chunk_steps is None:
            return run_part(state, inputs, n_steps)
        return _run_chunks(run_part, state, inputs, n_steps, chunk_steps, record.every)

    if not report:
        state, recording = run()
    else:
        if not is_concrete(state.spikes):
            raise ValueError(
                "report=True times the run, which needs concrete arrays: call simulate "
                "outside jit/vmap (progress=True works inside them)"
            )
        (state, recording), compile_s, run_s = progress_lib.timed(run)
        trials = int(np.prod(state.spikes.shape[:-1]))
        progress_lib.show_report(
            progress_lib.RunReport(compile_s, run_s, n_steps * float(dt_ms), n_steps, trials),
            report,
        )
    _warn_overflow(recording)
    return state, recording


def _check_chunks(chunk_steps: int | None, every: int, plasticity: Plasticity | None) -> None:
    if chunk_steps is None:
        return
    check_int("chunk_steps", chunk_steps, minimum=1)
    if chunk_steps % every:
        raise ValueError(f"chunk_steps={chunk_steps} must be a multiple of Record.every={every}")
    if plasticity is not None:
        raise ValueError(
            "chunk_steps does not combine with plasticity: the plastic weights change "
            "within the run, and each chunk would start again from the network's weights"
        )


def _run_chunks(run_part, state, inputs, n_steps: int, chunk_steps: int, every: int):
    """`n_steps` steps as chunks of `chunk_steps`: two compiled programs at most, one for
    whole chunks and one for a last, shorter chunk, which is told how many of its steps
    to take (the steps it skips leave the state as it is, what they would have recorded
    is cut off). A skipped-step test in every chunk would cost about as much as a small
    network's step on a CPU, so whole chunks run without it."""
    current, recordings = state, []
    for start in range(0, n_steps, chunk_steps):  # a loop over chunks, never over steps
        n = min(chunk_steps, n_steps - start)
        part = {}
        for name, x in inputs.items():
            if x.ndim == 2:  # time series: this chunk's rows, padded to the chunk's length
                x = x[start : start + n]
                x = jnp.pad(x, ((0, chunk_steps - n), (0, 0))) if n < chunk_steps else x
            part[name] = x
        if n == chunk_steps:
            current, recording = run_part(current, part, chunk_steps)
        else:
            active = jnp.asarray(n, jnp.int32)
            current, recording = run_part(current, part, chunk_steps, active)
            recording = _first_steps(recording, n, every)
        recordings.append(recording)
    return current, concat_recordings(recordings) if len(recordings) > 1 else recordings[0]


def _first_steps(recording: Recording, n: int, every: int) -> Recording:
    """`recording` of a chunk that took only its first `n` steps."""
    windows = lambda d: jax.tree.map(lambda x: x[: n // every], d)
    return dataclasses.replace(
        recording,
        spikes=windows(recording.spikes),
        v=windows(recording.v),
        rates_hz=windows(recording.rates_hz),
        states=windows(recording.states),
        events={k: dataclasses.replace(e, n_steps=n) for k, e in recording.events.items()},
    )


def _warn_overflow(recording: Recording) -> None:
    for name, events in recording.events.items():
        if is_concrete(events.overflow):
            lost = int(np.max(np.asarray(events.overflow)))
            if lost:
                warnings.warn(
                    f"Record.events: {lost} spikes of '{name}' did not fit the capacity of "
                    f"{events.capacity} events and are not in the event list (see "
                    "SpikeEvents.overflow): pass a larger Record.event_capacity",
                    RuntimeWarning,
                    stacklevel=3,
                )


def _all_finite(x: Array) -> Array:
    # The barrier keeps XLA from evaluating the check at compile time on weights closed
    # over as constants (constant folding a 6 M-entry isfinite took 10 s of compile).
    return jnp.all(jnp.isfinite(jax.lax.optimization_barrier(x)))


RUNTIME_CHECKS_ENV = "JAXSNN_RUNTIME_CHECKS"


def _checked_values(network: Network, state: NetworkState) -> tuple[Network, NetworkState]:
    """The network and state with run-time finiteness checks attached (`eqx.error_if`).

    `JAXSNN_RUNTIME_CHECKS=off` (read when a run is traced) leaves them out: Equinox
    raises through a host callback, and JAX's persistent compilation cache does not store
    programs with host callbacks. The command line sets it, since it builds its networks
    itself and checks trained weights on the host once (`jaxsnn decide`)."""
    if os.environ.get(RUNTIME_CHECKS_ENV, "on").lower() == "off":
        return network, state
    weights = [
        eqx.error_if(
            p.weights,
            ~_all_finite(p.weights),
            f"projection {p.name} weights must be finite (NaN or inf found)",
        )
        for p in network.projections
    ]
    if weights:
        network = eqx.tree_at(lambda n: [p.weights for p in n.projections], network, weights)
    blocks = [
        eqx.tree_at(
            lambda s: s.v,
            block,
            eqx.error_if(block.v, ~_all_finite(block.v), "state.v must be finite"),
        )
        for block in state.neurons
    ]
    return network, eqx.tree_at(lambda s: s.neurons, state, tuple(blocks))


def _windows(n_steps: int, record: Record, per_window: bool, progress: bool):
    """(steps per window, windows, tail steps after the last window)."""
    if per_window:
        return record.every, n_steps // record.every, 0
    if progress:  # about a hundred chunks to report between
        every = max(n_steps // 100, 1)
        return every, n_steps // every, n_steps % every
    return n_steps, 1, 0


@eqx.filter_jit
def _run(
    network, state, inputs, key, n_steps, dt_ms, record, plasticity, checkpoint, progress,
    active=None, exchange=None,
):  # fmt: skip
    """The compiled run; `active` (a traced count, or None for all) is the number of the
    `n_steps` steps to take, so one program serves every length up to `n_steps`;
    `exchange` goes to `step_prepared` (neurons split over devices)."""
    network, state = _checked_values(network, state)
    per_window = record.per_window or plasticity is not None
    every, windows, tail = _windows(n_steps, record, per_window, progress)
    series = {k: v for k, v in inputs.items() if jnp.ndim(v) == 2}
    fixed = {k: v for k, v in inputs.items() if jnp.ndim(v) < 2}
    head = windows * every
    xs = {k: jnp.reshape(v[:head], (windows, every) + jnp.shape(v)[1:]) for k, v in series.items()}
    xs_tail = {k: v[head:] for k, v in series.items()}
    slices = {p.name: network.slice(p.name) for p in network.populations}
    prepared = prepare(network, state, dt_ms)
    weights0 = [p.weights for p in network.projections]
    t_start = state.t
    if plasticity is None:
        plastic, start = (), ()
    else:
        plastic = plasticity.indices(network)
        start = tuple(weights0[i] for i in plastic)
        if state.plasticity is None:
            state = eqx.tree_at(
                lambda s: s.plasticity,
                state,
                plasticity.init(network, state.spikes.dtype),
                is_leaf=lambda x: x is None,
            )
    events0 = {
        n: SpikeEvents.empty(record.capacity(slices[n].stop - slices[n].start, n_steps, dt_ms),
                             n_steps, slices[n].stop - slices[n].start)
        for n in record.events
    }  # fmt: skip

    before_reset = record.voltages_before_reset

    def one_step(carry, data_t):
        state, current, summed, counts, events, v_seen = carry
        weights = list(weights0)
        for i, w in zip(plastic, current, strict=True):
            weights[i] = w
        step = state.t - t_start
        state, out = step_prepared(
            prepared, state, fixed | data_t, key, weights, before_reset, exchange
        )
        # V as the recording shows it: before the reset when asked, else the state's
        v_seen = out.v_before_reset if before_reset else ()
        if plasticity is not None:
            seen = current if plasticity.mode == "online" else start
            dws, traces = plasticity.learn(
                network, seen, state.plasticity, out.arrivals, out.spikes, dt_ms=dt_ms
            )
            if plasticity.mode == "online":
                dws = plasticity.bound(current, dws)
                current = tuple(w + d for w, d in zip(current, dws, strict=True))
            summed = tuple(t + d for t, d in zip(summed, dws, strict=True))
            state = eqx.tree_at(lambda s: s.plasticity, state, traces)
        events = {n: e.append(step, state.spikes[slices[n]]) for n, e in events.items()}
        return (state, current, summed, counts + state.spikes, events, v_seen), None

    if checkpoint:
        one_step = jax.checkpoint(one_step)
    if active is not None:
        take_step = one_step

        def one_step(carry, data_t):
            # the step count since the start decides; skipped steps keep the carry
            go = carry[0].t - t_start < active
            return jax.lax.cond(go, take_step, lambda c, _: (c, None), carry, data_t)

    # The token is drawn at trace time: one per compiled program, so repeated calls of
    # one program share a bar slot and concurrent programs do not.
    tick = functools.partial(
        progress_lib.tick, progress_lib.new_token(), n_steps=n_steps, dt_ms=dt_ms
    )

    v_none = state.v if before_reset else ()

    def voltages(state, v_seen, name, idx):
        v = v_seen[slices[name]] if before_reset else network.neuron_state(state, name).v
        return v if idx is None else v[jnp.asarray(idx)]

    def one_window(carry, data_w):
        state, current, summed, totals, events = carry
        zero = jnp.zeros_like(state.spikes)
        (state, current, summed, counts, events, v_seen), _ = jax.lax.scan(
            one_step, (state, current, summed, zero, events, v_none), data_w, length=every
        )
        out = {
            "spikes": {n: counts[slices[n]] for n in record.spikes},
            "v": {n: voltages(state, v_seen, n, idx) for n, idx in record.voltages},
            "rates_hz": {
                n: jnp.mean(counts[slices[n]]) * (1000.0 / (every * dt_ms)) for n in record.rates
            },
            "states": {p.key: p.read(network, state) for p in record.states},
        }
        if plasticity is not None:
            out["weights_mean"] = weight_means(network, plasticity, current)
        return (state, current, summed, totals + counts, events), out

    zeros = tuple(jnp.zeros_like(w) for w in start)
    carry = (state, start, zeros, jnp.zeros_like(state.spikes), events0)
    if progress:
        carry, rec = _scan_with_ticks(
            one_window, carry, xs, windows, lambda c: _tick_carry(tick, c, t_start)
        )
    else:
        carry, rec = jax.lax.scan(one_window, carry, xs, length=windows)
    if tail:
        state, current, summed, totals, events = carry
        (state, current, summed, counts, events, _), _ = jax.lax.scan(
            one_step, (state, current, summed, jnp.zeros_like(totals), events, v_none),
            xs_tail, length=tail,
        )  # fmt: skip
        carry = (state, current, summed, totals + counts, events)
    state, _, summed, totals, events = carry
    if progress:
        state = _tick(tick, state, state.t - t_start)
    updates = None
    if plasticity is not None:
        updates = plasticity.updates(network, plasticity.total(start, summed))
    recording = Recording(
        spikes=rec["spikes"],
        v=rec["v"],
        rates_hz=rec["rates_hz"],
        counts={n: totals[slices[n]] for n in record.counts},
        weights_mean=rec.get("weights_mean", {}),
        updates=updates,
        states=rec["states"],
        events=events,
    )
    return state, recording


def _scan_with_ticks(one_window, carry, xs, windows, tick):
    """`lax.scan(one_window, carry, xs)` with `tick(carry)` after every chunk of about a
    hundredth of the windows: a scan of chunks, each a scan of windows, so no test runs
    per window; the windows left over run after the chunks, without a tick."""
    size = max(windows // 100, 1)
    chunks, rest = divmod(windows, size)

    def chunk(carry, xs_c):
        carry, out = jax.lax.scan(one_window, carry, xs_c, length=size)
        return tick(carry), out

    head = jax.tree.map(lambda x: x[: chunks * size].reshape((chunks, size) + x.shape[1:]), xs)
    carry, out = jax.lax.scan(chunk, carry, head, length=chunks)
    out = jax.tree.map(lambda x: x.reshape((chunks * size,) + x.shape[2:]), out)
    if rest:
        tail = jax.tree.map(lambda x: x[chunks * size :], xs)
        carry, out_rest = jax.lax.scan(one_window, carry, tail, length=rest)
        out = jax.tree.map(lambda a, b: jnp.concatenate([a, b]), out, out_rest)
    return carry, out


def _tick_carry(callback, carry, t_start):
    state, *rest = carry
    return (_tick(callback, state, state.t - t_start), *rest)


def _tick(callback, state, done):
    # A pure_callback with vmap_method="expand_dims" is called once per batch, with the
    # batch dimensions on `probe` (so the bar can count trials); its result, always 0,
    # is added to the step counter so the callback is neither dropped nor reordered.
    probe = jax.lax.stop_gradient(state.spikes[..., :1])
    result = jax.ShapeDtypeStruct((), jnp.int32)
    r = jax.pure_callback(callback, result, done, probe, vmap_method="expand_dims")
    return eqx.tree_at(lambda s: s.t, state, state.t + r)


def run_in_windows(
    network: Network,
    state: NetworkState,
    n_windows: int,
    window_steps: int,
    *,
    dt_ms: float,
    key: PRNGKeyArray | None = None,
    record: Record = Record(),
) -> tuple[NetworkState, list[Recording]]:
    """Streaming: simulate `n_windows` consecutive windows of `window_steps` steps,
    continuing from each returned state (one compiled kernel reused for every window).

    Returns the final state and the list of per-window recordings. Equals one call of
    `simulate` with `n_windows * window_steps` steps (same key, same spikes).
    """
    recordings: list[Recording] = []
    for _ in range(n_windows):  # one Python iteration per window, not per time step
        state, rec = simulate(network, state, window_steps, dt_ms=dt_ms, key=key, record=record)
        recordings.append(rec)
    return state, recordings


def concat_recordings(recordings: Sequence[Recording]) -> Recording:
    """Join per-window recordings along time (counts and updates are summed)."""

    def join(*xs):
        return jnp.concatenate([jnp.atleast_1d(x) for x in xs])

    def add(*xs):
        return sum(xs[1:], xs[0])

    first = recordings[0]
    return Recording(
        spikes=jax.tree.map(join, *[r.spikes for r in recordings]),
        v=jax.tree.map(join, *[r.v for r in recordings]),
        rates_hz=jax.tree.map(join, *[r.rates_hz for r in recordings]),
        counts=jax.tree.map(add, *[r.counts for r in recordings]),
        weights_mean=jax.tree.map(join, *[r.weights_mean for r in recordings]),
        states=jax.tree.map(join, *[r.states for r in recordings]),
        events={name: concat_events([r.events[name] for r in recordings]) for name in first.events},
        updates=None
        if first.updates is None
        else jax.tree.map(add, *[r.updates for r in recordings]),
    )

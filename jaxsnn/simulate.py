"""`simulate`: run a network for n steps as one `lax.scan`, recording what was asked.

Recording is chosen with a `Record` and happens every `every` steps (a scan of windows,
each a scan of `every` steps), so memory grows with n_steps/every, not with n_steps.
A simulation continues from a returned state: running 10 windows of 1000 steps with
the same key gives the same spikes as one run of 10 000 steps (the streaming mode).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, PRNGKeyArray

from ._checks import check_finite, check_int, check_positive, is_concrete
from .inputs import PoissonInput, SpikeInput
from .network import Network, NetworkState, network_step


def _names(x) -> tuple[str, ...] | bool:
    if isinstance(x, bool):
        return x
    if isinstance(x, str):
        return (x,)
    return tuple(x)


def _voltages(x) -> tuple | bool:
    if x is None or x is False:
        return ()
    if x is True:
        return True
    if isinstance(x, str):
        return ((x, None),)
    if isinstance(x, Mapping):
        return tuple(
            (name, None if idx is None else tuple(int(i) for i in np.atleast_1d(idx)))
            for name, idx in x.items()
        )
    return tuple((name, None) for name in x)


class Record(eqx.Module):
    """What `simulate` records, every `every` steps.

    Attributes:
        spikes: population names (or True for all) whose spikes are recorded: per window,
            the spike count of each neuron, shape (n_steps/every, n) (0/1 spikes when
            every=1). Spikes keep the state's float dtype so gradients flow through them.
        voltages: population names (all neurons; True for all populations) or a mapping
            name -> neuron indices within that population; V (mV) at the end of each
            window, shape (n_steps/every, k).
        rates: population names (or True for all); population-mean rate (Hz) over each
            window, shape (n_steps/every,).
        counts: population names (or True for all); total spike count of each neuron over
            the whole run, shape (n,).
        every: recording interval in steps (n_steps must be a multiple of it).
    """

    spikes: tuple[str, ...] | bool = eqx.field(default=False, static=True, converter=_names)
    voltages: tuple | bool = eqx.field(default=(), static=True, converter=_voltages)
    rates: tuple[str, ...] | bool = eqx.field(default=False, static=True, converter=_names)
    counts: tuple[str, ...] | bool = eqx.field(default=False, static=True, converter=_names)
    every: int = eqx.field(default=1, static=True)

    def __check_init__(self):
        check_int("Record.every", self.every, minimum=1)

    def resolve(self, network: Network) -> Record:
        """Replace True by every population name and check the names exist."""
        all_names = tuple(p.name for p in network.populations)

        def check(field, name):
            if name not in all_names:
                raise ValueError(
                    f"Record.{field} names unknown population {name!r}; have {list(all_names)}"
                )

        def expand(field, x):
            names = all_names if x is True else () if x is False else x
            for name in names:
                check(field, name)
            return names

        voltages = tuple((n, None) for n in all_names) if self.voltages is True else self.voltages
        for name, idx in voltages:
            check("voltages", name)
            n = network.population(name).n
            if idx is not None and any(not 0 <= i < n for i in idx):
                raise ValueError(
                    f"Record.voltages indices for '{name}' must lie in [0, {n}), got {idx}"
                )
        return Record(
            expand("spikes", self.spikes),
            dict(voltages),
            expand("rates", self.rates),
            expand("counts", self.counts),
            self.every,
        )


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


def check_inputs(network: Network, inputs: Mapping[str, Array], n_steps: int, dt_ms: float) -> None:
    """Raise ValueError for unknown names, missing spike matrices, shapes other than
    (n_steps, n) with time first, non-finite or non-binary data, and Poisson rates whose
    per-step probability leaves [0, 1] (values are checked when concrete)."""
    known = {i.name: i for i in network.inputs}
    for name in inputs:
        if name not in known:
            raise ValueError(
                f"inputs has unknown name {name!r}; the network's inputs are {sorted(known)}"
            )
    for inp in network.inputs:
        data = inputs.get(inp.name)
        if data is None:
            if isinstance(inp, SpikeInput):
                raise ValueError(
                    f"SpikeInput '{inp.name}' needs data: inputs={{'{inp.name}': spikes}} of shape ({n_steps}, {inp.n})"
                )
            if isinstance(inp, PoissonInput):
                _check_rate(inp.name, inp.rate_hz, dt_ms)
            continue
        shape = jnp.shape(data)
        allowed = [(n_steps, inp.n)] + ([(n_steps,)] if not isinstance(inp, SpikeInput) else [])
        if shape not in allowed:
            hint = (
                ": is time the first axis?"
                if shape[::-1] == (n_steps, inp.n) or shape == (inp.n,)
                else ""
            )
            raise ValueError(
                f"inputs['{inp.name}'] must have shape {' or '.join(map(str, allowed))} "
                f"(time first); got {shape}{hint}"
            )
        if (
            not jnp.issubdtype(jnp.result_type(data), jnp.floating)
            and not jnp.issubdtype(jnp.result_type(data), jnp.integer)
            and jnp.result_type(data) != jnp.bool_
        ):
            raise ValueError(
                f"inputs['{inp.name}'] must be numeric, got dtype {jnp.result_type(data)}"
            )
        if is_concrete(data):
            values = np.asarray(data, dtype=np.float64)
            if not np.all(np.isfinite(values)):
                raise ValueError(f"inputs['{inp.name}'] must be finite, found NaN or inf")
            if isinstance(inp, SpikeInput) and not np.all((values == 0) | (values == 1)):
                raise ValueError(f"inputs['{inp.name}'] must be a binary spike matrix of 0 and 1")
            if isinstance(inp, PoissonInput):
                _check_rate(inp.name, values, dt_ms)


def _check_rate(name: str, rate, dt_ms: float) -> None:
    if not is_concrete(rate):
        return
    r = np.asarray(rate, dtype=np.float64)
    if np.any(r < 0) or np.any(r * dt_ms * 1e-3 > 1):
        raise ValueError(
            f"PoissonInput '{name}': rate_hz · dt_ms / 1000 must be a probability in [0, 1], "
            f"got rates in [{r.min()}, {r.max()}] Hz with dt_ms={dt_ms}"
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
    allow_large_dt: bool = False,
) -> tuple[NetworkState, dict]:
    """Simulate `n_steps` steps of `dt_ms` as one JIT-compiled `lax.scan`.

    Args:
        network: the network.
        state: the state to start from (`init_state`, or one returned by `simulate`).
        n_steps: number of steps (a Python int).
        dt_ms: step length in ms (a Python float); must be <= a tenth of the smallest time
            constant unless `allow_large_dt=True`.
        key: PRNG key for Poisson inputs (required when the network has any); step t
            draws from `fold_in(key, t)` with t = `state.t + step`, so a run continued from a
            returned state with the same key draws what one long run would.
        inputs: user data for inputs, name -> array with time first: (n_steps, n) spikes
            for a `SpikeInput`, rates (Hz) for a `PoissonInput`, currents (mV) for a
            `CurrentInput` ((n_steps,) also allowed for rates and currents).
        record: what to record (default nothing).
        allow_large_dt: skip the dt check.

    Returns:
        `(final_state, recording)`; `recording` is a dict with the keys asked for in
        `record`: "spikes", "v", "rates_hz", "counts", each a dict by population name.

    Raises:
        ValueError: bad dt, missing/mis-shaped/non-finite inputs, unknown names.
    """
    check_int("n_steps", n_steps, minimum=1)
    if not isinstance(dt_ms, int | float):
        raise ValueError(f"dt_ms must be a Python float, got {type(dt_ms).__name__}")
    dt_ms = float(dt_ms)
    check_dt(network, dt_ms, allow_large_dt)
    if not isinstance(record, Record):
        raise ValueError(f"record must be a Record, got {type(record).__name__}")
    if n_steps % record.every:
        raise ValueError(f"n_steps={n_steps} must be a multiple of Record.every={record.every}")
    inputs = dict(inputs or {})
    check_inputs(network, inputs, n_steps, dt_ms)
    for proj in network.projections:  # weights changed by tree_at/optax skip construction checks
        check_finite(f"projection {proj.pre}->{proj.post} weights", proj.weights)
    if not isinstance(state, NetworkState) or state.v.shape != (network.n_neurons,):
        got = state.v.shape if isinstance(state, NetworkState) else type(state).__name__
        raise ValueError(f"state must be a NetworkState for {network.n_neurons} neurons, got {got}")
    if key is None:
        if any(isinstance(i, PoissonInput) for i in network.inputs):
            raise ValueError("this network has Poisson inputs: pass key=jax.random.key(...)")
        key = jr.key(0)
    return _simulate(network, state, inputs, key, n_steps, dt_ms, record.resolve(network))


@eqx.filter_jit
def _simulate(network, state, inputs, key, n_steps, dt_ms, record):
    every = record.every
    windows = n_steps // every
    xs = {k: jnp.reshape(v, (windows, every) + jnp.shape(v)[1:]) for k, v in inputs.items()}
    slices = {p.name: network.slice(p.name) for p in network.populations}

    def one_step(carry, data_t):
        state, counts = carry
        state, _ = network_step(network, state, data_t, dt_ms=dt_ms, key=key)
        return (state, counts + state.spikes), None

    def one_window(carry, data_w):
        state, totals = carry
        zero = jnp.zeros_like(state.spikes)
        (state, counts), _ = jax.lax.scan(one_step, (state, zero), data_w, length=every)
        out = {}
        if record.spikes:
            out["spikes"] = {n: counts[slices[n]] for n in record.spikes}
        if record.voltages:
            out["v"] = {
                n: state.v[slices[n]] if idx is None else state.v[slices[n]][jnp.asarray(idx)]
                for n, idx in record.voltages
            }
        if record.rates:
            scale = 1000.0 / (every * dt_ms)
            out["rates_hz"] = {n: jnp.mean(counts[slices[n]]) * scale for n in record.rates}
        return (state, totals + counts), out

    totals0 = jnp.zeros_like(state.spikes)
    (state, totals), rec = jax.lax.scan(one_window, (state, totals0), xs, length=windows)
    if record.counts:
        rec["counts"] = {n: totals[slices[n]] for n in record.counts}
    return state, rec


def run_in_windows(
    network: Network,
    state: NetworkState,
    n_windows: int,
    window_steps: int,
    *,
    dt_ms: float,
    key: PRNGKeyArray | None = None,
    record: Record = Record(),
) -> tuple[NetworkState, list[dict]]:
    """Streaming: simulate `n_windows` consecutive windows of `window_steps` steps,
    continuing from each returned state (one compiled kernel reused for every window).

    Returns the final state and the list of per-window recordings. Equals one call of
    `simulate` with `n_windows * window_steps` steps (same key, same spikes).
    """
    recordings: list[dict] = []
    for _ in range(n_windows):  # one Python iteration per window, not per time step
        state, rec = simulate(network, state, window_steps, dt_ms=dt_ms, key=key, record=record)
        recordings.append(rec)
    return state, recordings


def concat_recordings(recordings: Sequence[dict]) -> dict:
    """Join per-window recordings along time (counts are summed)."""
    out = jax.tree.map(lambda *xs: jnp.concatenate([jnp.atleast_1d(x) for x in xs]), *recordings)
    if "counts" in recordings[0]:
        out["counts"] = jax.tree.map(lambda *xs: sum(xs), *[r["counts"] for r in recordings])
    return out

"""jaxsnn against Brian2 on the two E-I balanced networks, COBA (workload W2,
jaxsnn.models.ei_coba) and CUBA (jaxsnn.models.cuba), on identical synapses and initial
potentials: jaxsnn draws the network, its exact synapses and V(0) go to Brian2
(benchmarks/brian2_ei_balance.py, run with the Brian2 environment's Python), and both
simulate the same 1 s (after an optional transient) at dt = 0.1 ms.

The networks are chaotic, so the two tools' spike trains part after some tens of ms
whatever the precision; what must agree are the statistics:

- the population mean rate (within 10 %), and the E and I rates;
- the distribution of the per-neuron rates: the two-sample Kolmogorov-Smirnov statistic
  D (largest distance between the two empirical CDFs) with its p-value, and the
  differences of the distributions' 10/25/50/75/90 % quantiles; and, as the neurons and
  their synapses are the same, the Pearson correlation of the two tools' per-neuron rates
  (a neuron's rate is largely set by its in-degrees);
- the CV of the inter-spike intervals (jaxsnn.analysis.cv_isi on both tools' spikes),
  mean over the neurons with at least 3 spikes, and the KS statistic of its distribution.

Every statistic of a 1 s window also fluctuates between two trajectories of the same
network, so each is set beside its null: jaxsnn against jaxsnn started from V(0) moved by
0.1 mV·N(0, 1) (--null-runs runs). A tool difference shows as a distance beyond the null's.
Both tools then continue for --windows windows in all (default 5 s), for the long-run
rates and CVs.

Prints a table, writes benchmarks/results/ei_balance.md, and saves Brian2's per-neuron
spike counts and CVs with the seeds and parameters that regenerate the identical jaxsnn
networks to tests/data/brian2_ei_balance.npz (read by tests/test_ei_balance.py, which
needs no Brian2). To regenerate both (a few minutes; Cython compiles Brian2's code on
the first run):

    . .venv/bin/activate
    python benchmarks/ei_balance_brian2.py          # --help for the options

The stored reference is the published protocol (no transient, 1 s); a run with
--transient-ms leaves it alone unless --reference is given.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import io
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from cases import _pairs  # noqa: E402

DT_MS = 0.1
N = 4000
NET_SEED, STATE_SEED = 0, 1  # W2's seeds (cases._w2), used for CUBA too
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
# V(0) perturbation of the null runs. Not infinitesimal: inhibition-dominated LIF networks
# are stable to tiny perturbations (Monteforte & Wolf 2012, Phys. Rev. X 2:041007); at
# 1e-3 mV two of four perturbed COBA runs here reproduced the unperturbed one bit for bit.
PERTURB_MV = 0.1
MODELS = ("coba", "cuba")
# Published population rates of the same models (Brette et al. 2007 benchmarks 1 and 2)
# in ANNarchy's notebook "COBA and CUBA networks" (annarchy.github.io, notebooks/
# COBA.ipynb, run with ANNarchy 5.0.3; 1 s, 4000 neurons, p = 0.02): its own random
# network, V(0) and (for COBA) initial conductances, so a different realisation.
PUBLISHED_HZ = {"coba": 20.477, "cuba": 5.61475}
PUBLISHED_SOURCE = (
    "ANNarchy 5.0.3, 'COBA and CUBA networks' notebook (annarchy.github.io, "
    "notebooks/COBA.ipynb), reproducing Brette et al. (2007) benchmarks 1 and 2"
)


def build(model: str, net_seed: int = NET_SEED, state_seed: int = STATE_SEED):
    """The jaxsnn network and initial state of `model` ("coba" or "cuba") at N = 4000."""
    import jax.random as jr

    from jaxsnn.models import build_cuba, build_ei_coba, cuba_state, ei_coba_state

    if model == "coba":
        network = build_ei_coba(jr.key(net_seed), N)
        return network, ei_coba_state(network, jr.key(state_seed))
    network = build_cuba(jr.key(net_seed), N)
    return network, cuba_state(network, jr.key(state_seed))


def synapse_arrays(network) -> dict[str, np.ndarray]:
    """The exact synapses as (pre within its population, global post) pairs."""
    pre_e, post_e = _pairs(network, "E")
    pre_i, post_i = _pairs(network, "I")
    return {"pre_exc": pre_e, "post_exc": post_e, "pre_inh": pre_i, "post_inh": post_i}


def fingerprint(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 of the synapse list (order-independent): the same network or not."""
    h = hashlib.sha256()
    for name in ("exc", "inh"):
        pre = arrays[f"pre_{name}"].astype(np.int64)
        post = arrays[f"post_{name}"].astype(np.int64)
        h.update(np.sort(pre * N + post).tobytes())
    return h.hexdigest()


def jaxsnn_runner(network, steps: int, transient: int):
    """A function (state, n_windows) -> [(per-neuron spike counts (N,), per-neuron CV of
    ISI (N,)) of each window of `steps` after the transient] (compiled once per network)."""
    import jax

    from jaxsnn import Record, simulate
    from jaxsnn.analysis import cv_isi

    record = Record(counts=True, events=True, event_rate_hz=60.0)
    skip = jax.jit(lambda s: simulate(network, s, transient, dt_ms=DT_MS)[0])
    window = jax.jit(lambda s: simulate(network, s, steps, dt_ms=DT_MS, record=record))

    def run(state, n_windows: int = 1):
        if transient:
            state = skip(state)
        out = []
        for _ in range(n_windows):
            state, rec = window(state)
            counts = np.concatenate([np.asarray(rec.counts[p]) for p in ("E", "I")])
            cv = [np.asarray(cv_isi(rec.events[p], dt_ms=DT_MS)) for p in ("E", "I")]
            out.append((counts.astype(np.int64), np.concatenate(cv)))
        return out

    return run


def perturbed(network, state, seed: int):
    """The same state with V(0) moved by PERTURB_MV·N(0, 1): a trajectory of the same
    network that chaos soon takes apart from the first (the null of the comparison)."""
    import jax.random as jr

    from jaxsnn import init_state

    v = state.v + PERTURB_MV * jr.normal(jr.key(1000 + seed), state.v.shape, state.v.dtype)
    return init_state(network, v0_mv=v, dtype=state.v.dtype)


def brian2_cv(steps_arr, neurons, n_steps: int, n_exc: int) -> np.ndarray:
    """CV of ISI of Brian2's spikes, through the same jaxsnn.analysis.cv_isi."""
    from jaxsnn.analysis import cv_isi

    out = []
    for lo, hi in ((0, n_exc), (n_exc, N)):
        dense = np.zeros((n_steps, hi - lo), np.float32)
        sel = (neurons >= lo) & (neurons < hi)
        np.add.at(dense, (steps_arr[sel], neurons[sel] - lo), 1.0)
        out.append(np.asarray(cv_isi(dense, dt_ms=DT_MS)))
    return np.concatenate(out)


def describe(counts, cv, seconds: float, n_exc: int) -> dict:
    """Rates (Hz), quantiles of the per-neuron rates, mean CV of one run."""
    rates = counts / seconds
    ok = np.isfinite(cv)
    return {
        "rates": rates,
        "cv_values": cv[ok],
        "rate": rates.mean(),
        "rate_e": rates[:n_exc].mean(),
        "rate_i": rates[n_exc:].mean(),
        "quantiles": np.quantile(rates, QUANTILES),
        "cv": float(np.mean(cv[ok])),
        "cv_n": int(ok.sum()),
    }


def compare(a: dict, b: dict) -> dict:
    """The statistics of the module docstring between runs a and b (of `describe`)."""
    from scipy import stats

    ks = stats.ks_2samp(a["rates"], b["rates"])
    ks_cv = stats.ks_2samp(a["cv_values"], b["cv_values"])
    dq = a["quantiles"] - b["quantiles"]
    return {
        "rate_rel": a["rate"] / b["rate"] - 1.0,
        "ks": float(ks.statistic),
        "ks_p": float(ks.pvalue),
        "dq_max": float(np.max(np.abs(dq))),
        "q_rel_upper": float(np.max(np.abs(dq[2:] / b["quantiles"][2:]))),
        "pearson": float(np.corrcoef(a["rates"], b["rates"])[0, 1]),
        "cv_rel": a["cv"] / b["cv"] - 1.0,
        "ks_cv": float(ks_cv.statistic),
        "ks_cv_p": float(ks_cv.pvalue),
    }


def _range(values, fmt: str) -> str:
    lo, hi = min(values), max(values)
    return format(lo, fmt) if lo == hi else f"{format(lo, fmt)} .. {format(hi, fmt)}"


def report(results: dict, args, version: str, target: str, commit: str) -> str:
    lines = [
        "# E-I balanced networks: jaxsnn against Brian2 on identical synapses",
        "",
        f"Generated by `benchmarks/ei_balance_brian2.py` on "
        f"{datetime.date.today().isoformat()}, commit {commit}; Brian2 {version} "
        f"(runtime, {target} code generation; COBA `exponential_euler`, CUBA `exact`). "
        f"N = {N} (3200 E + 800 I), p = 0.02, dt = {DT_MS} ms, seeds: network "
        f"{NET_SEED}, V(0) {STATE_SEED}; transient {args.transient_ms:g} ms discarded, "
        f"statistics over the following {args.duration_ms:g} ms. Both tools simulate the "
        "network jaxsnn drew (its synapse list and V(0) exported to Brian2).",
        "",
        "Rates in Hz; q10..q90: quantiles of the per-neuron rates (spike counts over the "
        "window, so they move in steps of 1 Hz over 1 s); CV: mean CV of ISI over the "
        "neurons with >= 3 spikes in the window (jaxsnn.analysis.cv_isi on both tools' "
        "spikes), their number in brackets.",
        "",
        "| model | tool | rate | E | I | q10 | q25 | q50 | q75 | q90 | CV (n) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for model, r in results.items():
        for tool, d in (("jaxsnn", r["ours"]), ("Brian2", r["brian2"])):
            lines.append(
                f"| {model.upper()} | {tool} | {d['rate']:.2f} | {d['rate_e']:.2f} | "
                f"{d['rate_i']:.2f} | "
                + " | ".join(f"{x:.1f}" for x in d["quantiles"])
                + f" | {d['cv']:.3f} ({d['cv_n']}) |"
            )
    k = len(next(iter(results.values()))["null"])
    lines += [
        "",
        "The networks are chaotic: two trajectories of the same network part after some "
        "tens of ms, and every statistic of a 1 s window fluctuates from one trajectory "
        "to the next. The scale of those fluctuations is the null: jaxsnn against itself "
        f"started from V(0) moved by {PERTURB_MV:g} mV·N(0, 1) ({k} such runs, range "
        "shown). Columns: relative difference of the population mean rate; two-sample "
        "Kolmogorov-Smirnov statistic D of the per-neuron rates (p-value in brackets; "
        "the neurons of one run share the network's fluctuations, so the p-value assumes "
        "an independence the samples lack and is only indicative: compare D with the "
        "null); largest absolute quantile difference (q10..q90, Hz) and largest relative "
        "difference of q50..q90; Pearson r of the per-neuron rates (same neurons); "
        "relative difference of the mean CV and the KS D of the CV distributions.",
        "",
        "| model | pair | mean rate | KS D (p) rates | max abs. dq (Hz) | max rel. dq50..90 "
        "| r | mean CV | KS D (p) CV |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for model, r in results.items():
        c = r["vs_brian2"]
        lines.append(
            f"| {model.upper()} | jaxsnn vs Brian2 | {c['rate_rel']:+.1%} | {c['ks']:.3f} "
            f"({c['ks_p']:.2g}) | {c['dq_max']:.1f} | {c['q_rel_upper']:.1%} | "
            f"{c['pearson']:.3f} | {c['cv_rel']:+.1%} | {c['ks_cv']:.3f} ({c['ks_cv_p']:.2g}) |"
        )
        cells = [
            _range([x[key] for x in r["null"]], fmt)
            for key, fmt in (
                ("rate_rel", "+.1%"),
                ("ks", ".3f"),
                ("dq_max", ".1f"),
                ("q_rel_upper", ".1%"),
                ("pearson", ".3f"),
                ("cv_rel", "+.1%"),
                ("ks_cv", ".3f"),
            )
        ]
        lines.append(f"| {model.upper()} | jaxsnn vs jaxsnn (null) | " + " | ".join(cells) + " |")
    n_win = len(next(iter(results.values()))["windows"][0])
    lines += [
        "",
        f"Long run: both tools continue for {n_win} consecutive windows of "
        f"{args.duration_ms:g} ms; population mean rate (Hz) and mean CV of ISI per window.",
        "",
        "| model | tool | " + " | ".join(f"window {w + 1}" for w in range(n_win)) + " |",
        "|---|---|" + "---|" * n_win,
    ]
    for model, r in results.items():
        for tool, runs in zip(("jaxsnn", "Brian2"), r["windows"], strict=True):
            cells = " | ".join(f"{d['rate']:.2f} / {d['cv']:.2f}" for d in runs)
            lines.append(f"| {model.upper()} | {tool} | {cells} |")
    lines += ["", "| model | jaxsnn vs Brian2 mean rate within 10 % | published rate |"]
    lines += ["|---|---|---|"]
    for model, r in results.items():
        ok = "yes" if abs(r["vs_brian2"]["rate_rel"]) <= 0.10 else "NO"
        lines.append(f"| {model.upper()} | {ok} | {PUBLISHED_HZ[model]:.2f} Hz |")
    lines += [
        "",
        f"Published rates: {PUBLISHED_SOURCE}; a different network realisation, V(0) "
        "(and, for COBA, initial conductances). Brette et al. (2007) and Brian2's CUBA "
        "example (examples/CUBA.py) state no rate; BENCHMARKS.md gives 20-21 Hz for W2 "
        "(COBA) in every tool.",
        "",
        "Known differences in the discretisation (O(dt), about 1 %): jaxsnn holds a "
        "synaptic variable at its end-of-step value over the step, Brian2's `exact` (CUBA) "
        "integrates it with V (Brian2's `exponential_euler` for COBA holds the "
        "conductances as jaxsnn does); jaxsnn holds V for round(5 ms / dt) = 50 steps "
        "after a spike, Brian2 for 49 (it releases V in the step that starts 5 ms after "
        "the spike's). Brian2's example also allows self-connections; jaxsnn's networks "
        "have none (here both simulate jaxsnn's). Wall times are not reported: this "
        "comparison is about the dynamics (see benchmarks/run.py for speed).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transient-ms", type=float, default=0.0)
    parser.add_argument("--duration-ms", type=float, default=1000.0)
    parser.add_argument(
        "--brian2-python",
        default=os.path.join(HERE, ".venvs", "brian2", "bin", "python"),
        help="the Brian2 environment's Python",
    )
    parser.add_argument(
        "--windows",
        type=int,
        default=5,
        help="consecutive windows of --duration-ms simulated by both tools for the long-run "
        "table (the first window is the one compared in detail)",
    )
    parser.add_argument("--target", default="cython", help="Brian2 codegen target")
    parser.add_argument(
        "--null-runs", type=int, default=8, help="jaxsnn runs from perturbed V(0) (>= 1)"
    )
    parser.add_argument("--out", default=os.path.join(HERE, "results", "ei_balance.md"))
    parser.add_argument(
        "--reference",
        default=None,
        help="where to save Brian2's rates (default tests/data/brian2_ei_balance.npz for the "
        "published protocol, none otherwise)",
    )
    args = parser.parse_args()
    if args.null_runs < 1 or args.windows < 1:
        parser.error("--null-runs and --windows must be >= 1")
    steps = int(round(args.duration_ms / DT_MS))
    transient = int(round(args.transient_ms / DT_MS))
    reference = args.reference
    if reference is None and transient == 0 and steps == 10_000 and args.windows == 5:
        reference = os.path.join(ROOT, "tests", "data", "brian2_ei_balance.npz")

    from jaxsnn.io import atomic_write

    nets, export = {}, {"steps": steps, "transient_steps": transient, "dt_ms": DT_MS}
    export["windows"] = args.windows
    for model in MODELS:
        network, state = build(model)
        arrays = synapse_arrays(network)
        nets[model] = (network, state, fingerprint(arrays))
        export.update({f"{model}_{k}": v for k, v in arrays.items()})
        export[f"{model}_v0_mv"] = np.asarray(state.v, np.float64)
        export[f"{model}_n_exc"] = network.population("E").n
        export[f"{model}_n"] = network.n_neurons
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "in.npz"), os.path.join(tmp, "out.npz")
        np.savez(src, **export)
        proc = subprocess.run(
            [args.brian2_python, os.path.join(HERE, "brian2_ei_balance.py"), src, dst, args.target],
            capture_output=True,
            text=True,
        )
        if proc.returncode:
            sys.exit(f"Brian2 failed:\n{proc.stderr[-3000:]}")
        b2 = dict(np.load(dst))
    version, target = str(b2["brian2_version"]), str(b2["codegen_target"])
    seconds = steps * DT_MS * 1e-3
    results, saved = {}, {}
    for model in MODELS:
        network, state, fp = nets[model]
        n_exc = network.population("E").n
        run = jaxsnn_runner(network, steps, transient)
        long_ours = [describe(*w, seconds, n_exc) for w in run(state, args.windows)]
        ours = long_ours[0]
        null = [
            compare(ours, describe(*run(perturbed(network, state, k))[0], seconds, n_exc))
            for k in range(args.null_runs)
        ]
        all_steps, all_neurons = b2[f"{model}_steps"], b2[f"{model}_neurons"]
        long_b2 = []
        for w in range(args.windows):
            sel = (all_steps >= w * steps) & (all_steps < (w + 1) * steps)
            ref_steps, ref_neurons = all_steps[sel] - w * steps, all_neurons[sel]
            ref_counts = np.bincount(ref_neurons, minlength=N)
            ref_cv = brian2_cv(ref_steps, ref_neurons, steps, n_exc)
            long_b2.append(describe(ref_counts, ref_cv, seconds, n_exc))
            if w == 0:
                first = ref_counts, ref_cv
        brian2 = long_b2[0]
        results[model] = {
            "ours": ours,
            "brian2": brian2,
            "vs_brian2": compare(ours, brian2),
            "null": null,
            "windows": (long_ours, long_b2),
        }
        ref_counts, ref_cv = first
        saved[f"{model}_counts"] = ref_counts.astype(np.int16)
        saved[f"{model}_cv"] = ref_cv.astype(np.float32)
        saved[f"{model}_fingerprint"] = np.array(fp)
        saved[f"{model}_n_synapses"] = sum(p.n_synapses for p in network.projections)
        saved[f"{model}_window_rates_hz"] = np.array([d["rate"] for d in long_b2])
        saved[f"{model}_window_cv"] = np.array([d["cv"] for d in long_b2])
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        commit = "unknown"
    text = report(results, args, version, target, commit or "unknown")
    print(text)
    atomic_write(args.out, lambda f: f.write(text.encode()))
    if reference:
        saved.update(
            n=N,
            net_seed=NET_SEED,
            state_seed=STATE_SEED,
            steps=steps,
            windows=args.windows,
            transient_steps=transient,
            dt_ms=DT_MS,
            brian2_version=np.array(version),
            brian2_target=np.array(target),
        )

        def write(f):
            buf = io.BytesIO()
            np.savez_compressed(buf, **saved)
            f.write(buf.getvalue())

        atomic_write(reference, write)
        print(f"saved Brian2's per-neuron counts and CVs to {reference}")


if __name__ == "__main__":
    main()

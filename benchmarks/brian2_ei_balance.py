"""The E-I balanced networks COBA (W2) and CUBA in Brian2, on synapses and initial
potentials exported from jaxsnn (run by ei_balance_brian2.py with the Brian2
environment's Python, never imported by the rest of the suite):

    benchmarks/.venvs/brian2/bin/python benchmarks/brian2_ei_balance.py IN.npz OUT.npz

IN.npz holds, for each model M in ("coba", "cuba"), the arrays M_pre_exc, M_post_exc,
M_pre_inh, M_post_inh (presynaptic indices within the E or I population, postsynaptic
ones global, as benchmarks/cases.py's `_pairs` gives them), M_v0_mv, M_n_exc, M_n, and the run's
steps (of one analysis window), windows (their number), transient_steps and dt_ms.
OUT.npz gets, per model, the spikes after the transient as M_steps (step counted from the
end of the transient) and M_neurons, plus
brian2_version and codegen_target. Runtime mode (Cython code generation), one thread.

The equations are those of jaxsnn.models.ei_coba (COBA: `exponential_euler`, V
integrated exactly with the conductances held over the step, as jaxsnn does) and
jaxsnn.models.cuba (CUBA: `exact`, as Brian2's examples/CUBA.py).
"""

import json
import sys

import numpy as np

COBA_EQS = """
dv/dt = ((El - v) + ge*(Ee - v) + gi*(Ei - v) + I) / taum : volt (unless refractory)
dge/dt = -ge / taue : 1
dgi/dt = -gi / taui : 1
"""

CUBA_EQS = """
dv/dt = (ge + gi - (v - El)) / taum : volt (unless refractory)
dge/dt = -ge / taue : volt
dgi/dt = -gi / taui : volt
"""


def run_model(b2, data, model: str, target: str) -> tuple[np.ndarray, np.ndarray]:
    """Simulate one model; return the spikes after the transient as (steps, neurons)."""
    b2.start_scope()
    b2.prefs.codegen.target = target
    dt_ms = float(data["dt_ms"])
    b2.defaultclock.dt = dt_ms * b2.ms
    n, n_exc = int(data[f"{model}_n"]), int(data[f"{model}_n_exc"])
    if model == "coba":
        eqs, method = COBA_EQS, "exponential_euler"
        ns = {"El": -60 * b2.mV, "Ee": 0 * b2.mV, "Ei": -80 * b2.mV, "I": 20 * b2.mV}
        on_exc, on_inh = "ge += 0.6", "gi += 6.7"
    else:
        eqs, method = CUBA_EQS, "exact"
        ns = {"El": -49 * b2.mV}
        on_exc, on_inh = "ge += 1.62*mV", "gi += -9*mV"
    ns.update(taum=20 * b2.ms, taue=5 * b2.ms, taui=10 * b2.ms)
    group = b2.NeuronGroup(
        n,
        eqs,
        threshold="v > -50*mV",
        reset="v = -60*mV",
        refractory=5 * b2.ms,
        method=method,
        namespace=ns,
    )
    group.v = data[f"{model}_v0_mv"] * b2.mV
    exc = b2.Synapses(group[:n_exc], group, on_pre=on_exc)
    exc.connect(i=data[f"{model}_pre_exc"], j=data[f"{model}_post_exc"])
    inh = b2.Synapses(group[n_exc:], group, on_pre=on_inh)
    inh.connect(i=data[f"{model}_pre_inh"], j=data[f"{model}_post_inh"])
    spikes = b2.SpikeMonitor(group)
    steps, transient = int(data["steps"]) * int(data["windows"]), int(data["transient_steps"])
    b2.run((transient + steps) * b2.defaultclock.dt)
    step = np.round(np.asarray(spikes.t / b2.ms) / dt_ms).astype(np.int64) - transient
    keep = step >= 0
    return step[keep].astype(np.int32), np.asarray(spikes.i)[keep].astype(np.int32)


def main() -> None:
    src, dst = sys.argv[1], sys.argv[2]
    target = sys.argv[3] if len(sys.argv) > 3 else "cython"
    data = np.load(src)
    import brian2 as b2

    out = {"brian2_version": b2.__version__, "codegen_target": target}
    for model in ("coba", "cuba"):
        out[f"{model}_steps"], out[f"{model}_neurons"] = run_model(b2, data, model, target)
    np.savez(dst, **out)
    print(json.dumps({m: int(out[f"{m}_steps"].size) for m in ("coba", "cuba")}))


if __name__ == "__main__":
    main()

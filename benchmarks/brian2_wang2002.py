"""Brian2's own Wang (2002) example, adapted to run N trials and print timing as JSON.

Run with the Brian2 environment's Python (see README.md), not imported by the rest of the
suite (benchmarks/wang2002.py calls it):

    benchmarks/.venvs/brian2/bin/python benchmarks/brian2_wang2002.py TRIALS DURATION_MS \
        [--onset-ms 500] [--coherence 25.6] [--mode standalone|runtime]

The model is `examples/frompapers/Wang_2002.py` of Brian2 (Klaus Wimmer and Marcel
Stimberg; BSD-style licence of Brian2), with its parameters and equations unchanged:
all-to-all `Synapses` for AMPA and GABA (event-driven, 0.5 ms delay), the NMDA gating
per presynaptic neuron summed per pool through a 3-neuron helper group, `PoissonInput`
for the 2.4 kHz background, `PoissonGroup` stimuli redrawn every 50 ms, forward Euler
at dt = 0.1 ms. Changes: the stimulus is on from `--onset-ms` to the end of the run (a
reaction-time trial, as jaxsnn's protocol), no monitors but two population-rate
monitors, no plots, and the run is repeated `TRIALS` times.

Modes: `standalone` (default; C++ standalone, one thread, built once, the binary re-run
for each trial: no seed is set, so each run draws its own random numbers) or `runtime`
(Brian2's runtime code generation, `store()`/`restore()` between trials). Prints one
JSON line: build_s (standalone: code generation + C++ build + first run; runtime: the
first trial, which includes code generation), run_s (median wall time of one trial
after the first), trials, duration_ms, the final rates of pools 1 and 2 of the last
trial, and the Brian2 version.
"""

import argparse
import json
import statistics
import tempfile
import time


def build(b2, duration_ms: float, onset_ms: float, coherence: float):
    ms, mV, Hz, nS, nF = b2.ms, b2.mV, b2.Hz, b2.nS, b2.nF
    sigma = 4.0 * Hz
    mu0 = 40.0 * Hz
    mu1 = 40.0 * Hz
    stim_on = onset_ms * ms
    N_ext = 1000
    rate_ext = 2400 * Hz / N_ext
    NE, NI = 1600, 400
    fE = 0.15
    subN = int(fE * NE)
    El, Vt, Vr = -70.0 * mV, -50.0 * mV, -55.0 * mV
    CmE, CmI = 0.5 * nF, 0.2 * nF
    gLeakE, gLeakI = 25.0 * nS, 20.0 * nS
    refE, refI = 2.0 * ms, 1.0 * ms
    V_E, V_I = 0.0 * mV, -70.0 * mV
    tau_AMPA, tau_NMDA_rise, tau_NMDA_decay, tau_GABA = 2.0 * ms, 2.0 * ms, 100.0 * ms, 5.0 * ms
    alpha = 0.5 * b2.kHz
    C = 1 * b2.mmole
    gextE, gextI = 2.1 * nS, 1.62 * nS
    gEEA, gEIA = 0.05 * nS, 0.04 * nS
    gEEN, gEIN = 0.165 * nS, 0.13 * nS
    gIE, gII = 1.3 * nS, 1.0 * nS
    Jp = 1.7
    Jm = 1.0 - fE * (Jp - 1.0) / (1.0 - fE)
    ns = {k: v for k, v in locals().items() if k not in ("b2",)}

    eqsE = """
       label : integer (constant)
       dV/dt = (- gLeakE * (V - El) - I_AMPA - I_NMDA - I_GABA - I_AMPA_ext) / CmE : volt (unless refractory)
       I_AMPA = s_AMPA * (V - V_E) : amp
       ds_AMPA / dt = - s_AMPA / tau_AMPA : siemens
       I_NMDA = gEEN * s_NMDA_tot * (V - V_E) / ( 1 + exp(-0.062 * V/mvolt) * (C/mmole / 3.57) ) : amp
       s_NMDA_tot : 1
       I_GABA = s_GABA * (V - V_I) : amp
       ds_GABA / dt = - s_GABA / tau_GABA : siemens
       I_AMPA_ext = s_AMPA_ext * (V - V_E) : amp
       ds_AMPA_ext / dt = - s_AMPA_ext / tau_AMPA : siemens
       ds_NMDA / dt = - s_NMDA / tau_NMDA_decay + alpha * x * (1 - s_NMDA) : 1
       dx / dt = - x / tau_NMDA_rise : 1
    """
    eqsI = """
       dV/dt = (- gLeakI * (V - El) - I_AMPA - I_NMDA - I_GABA - I_AMPA_ext) / CmI : volt (unless refractory)
       I_AMPA = s_AMPA * (V - V_E) : amp
       ds_AMPA / dt = - s_AMPA / tau_AMPA : siemens
       I_NMDA = gEIN * s_NMDA_tot * (V - V_E) / ( 1 + exp(-0.062 * V/mvolt) * (C/mmole / 3.57) ): amp
       s_NMDA_tot : 1
       I_GABA = s_GABA * (V - V_I) : amp
       ds_GABA / dt = - s_GABA / tau_GABA : siemens
       I_AMPA_ext = s_AMPA_ext * (V - V_E) : amp
       ds_AMPA_ext / dt = - s_AMPA_ext / tau_AMPA : siemens
    """
    popE = b2.NeuronGroup(
        NE, eqsE, threshold="V > Vt", reset="V = Vr", refractory=refE, method="euler",
        namespace=ns, name="popE",
    )  # fmt: skip
    popI = b2.NeuronGroup(
        NI, eqsI, threshold="V > Vt", reset="V = Vr", refractory=refI, method="euler",
        namespace=ns, name="popI",
    )  # fmt: skip
    popE1, popE2 = popE[:subN], popE[subN : 2 * subN]
    popE.label = 2
    popE1.label = 0
    popE2.label = 1
    C_EE_AMPA = b2.Synapses(
        popE, popE, "w : siemens", on_pre="s_AMPA += w", delay=0.5 * ms, method="euler",
        name="C_EE_AMPA",
    )  # fmt: skip
    C_EE_AMPA.connect()
    C_EE_AMPA.w[:] = gEEA
    C_EE_AMPA.w["label_pre == label_post and label_pre < 2"] = gEEA * Jp
    C_EE_AMPA.w["label_pre != label_post and label_post < 2"] = gEEA * Jm
    C_EI_AMPA = b2.Synapses(
        popE, popI, on_pre="s_AMPA += gEIA", delay=0.5 * ms, method="euler", namespace=ns,
        name="C_EI_AMPA",
    )  # fmt: skip
    C_EI_AMPA.connect()
    C_EE_NMDA = b2.Synapses(
        popE, popE, on_pre="x_pre += 1", delay=0.5 * ms, method="euler", name="C_EE_NMDA"
    )
    C_EE_NMDA.connect(j="i")
    NMDA_sum_group = b2.NeuronGroup(3, "s : 1", name="NMDA_sum_group")
    NMDA_sum = b2.Synapses(
        popE, NMDA_sum_group, "s_post = s_NMDA_pre : 1 (summed)", name="NMDA_sum"
    )
    NMDA_sum.connect(j="label_pre")
    NMDA_set_total_E = b2.Synapses(
        NMDA_sum_group, popE, "w : 1 (constant)\ns_NMDA_tot_post = w*s_pre : 1 (summed)",
        name="NMDA_set_total_E",
    )  # fmt: skip
    NMDA_set_total_E.connect()
    NMDA_set_total_E.w = 1
    NMDA_set_total_E.w["i == label_post and label_post < 2"] = Jp
    NMDA_set_total_E.w["i != label_post and label_post < 2"] = Jm
    NMDA_set_total_I = b2.Synapses(
        NMDA_sum_group, popI, "s_NMDA_tot_post = s_pre : 1 (summed)", name="NMDA_set_total_I"
    )
    NMDA_set_total_I.connect()
    C_IE = b2.Synapses(
        popI, popE, on_pre="s_GABA += gIE", delay=0.5 * ms, method="euler", namespace=ns,
        name="C_IE",
    )  # fmt: skip
    C_IE.connect()
    C_II = b2.Synapses(
        popI, popI, on_pre="s_GABA += gII", delay=0.5 * ms, method="euler", namespace=ns,
        name="C_II",
    )  # fmt: skip
    C_II.connect()
    extE = b2.PoissonInput(popE, "s_AMPA_ext", N_ext, rate_ext, gextE)
    extI = b2.PoissonInput(popI, "s_AMPA_ext", N_ext, rate_ext, gextI)
    stim_ns = {"stim_on": stim_on, "mu0": mu0, "mu1": mu1, "sigma": sigma, "coh": coherence}
    stim1 = b2.PoissonGroup(subN, rates=0 * Hz, name="stim1", namespace=stim_ns)
    stim2 = b2.PoissonGroup(subN, rates=0 * Hz, name="stim2", namespace=stim_ns)
    stim1.run_regularly(
        "rates = int(t >= stim_on) * clip(mu0 + coh / 100.0 * mu1 + sigma*randn(), 0*Hz, inf*Hz)",
        dt=50 * ms,
    )
    stim2.run_regularly(
        "rates = int(t >= stim_on) * clip(mu0 - coh / 100.0 * mu1 + sigma*randn(), 0*Hz, inf*Hz)",
        dt=50 * ms,
    )
    C_stim1 = b2.Synapses(stim1, popE1, on_pre="s_AMPA_ext += gextE", namespace=ns, name="Cs1")
    C_stim1.connect(j="i")
    C_stim2 = b2.Synapses(stim2, popE2, on_pre="s_AMPA_ext += gextE", namespace=ns, name="Cs2")
    C_stim2.connect(j="i")
    popE.V = "El + rand() * (Vt - El)"
    popI.V = "El + rand() * (Vt - El)"
    R1 = b2.PopulationRateMonitor(popE1)
    R2 = b2.PopulationRateMonitor(popE2)
    objects = [
        popE, popI, C_EE_AMPA, C_EI_AMPA, C_EE_NMDA, NMDA_sum_group, NMDA_sum,
        NMDA_set_total_E, NMDA_set_total_I, C_IE, C_II, extE, extI, stim1, stim2, C_stim1,
        C_stim2, R1, R2,
    ]  # fmt: skip
    return b2.Network(*objects), R1, R2


def final_rates(b2, r1, r2) -> list[float]:
    import numpy as np

    last = int(200 * b2.ms / b2.defaultclock.dt)
    return [float(np.mean(np.asarray(r.rate[-last:]))) for r in (r1, r2)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("trials", type=int)
    parser.add_argument("duration_ms", type=float)
    parser.add_argument("--onset-ms", type=float, default=500.0)
    parser.add_argument("--coherence", type=float, default=25.6)
    parser.add_argument("--mode", choices=("standalone", "runtime"), default="standalone")
    args = parser.parse_args()
    import brian2 as b2

    b2.defaultclock.dt = 0.1 * b2.ms
    if args.mode == "standalone":
        b2.prefs.devices.cpp_standalone.openmp_threads = 0
        directory = tempfile.mkdtemp(prefix="brian2_wang2002_")
        b2.set_device("cpp_standalone", directory=directory, build_on_run=False)
    net, r1, r2 = build(b2, args.duration_ms, args.onset_ms, args.coherence)
    runs = []
    if args.mode == "standalone":
        net.run(args.duration_ms * b2.ms)
        t0 = time.perf_counter()
        b2.device.build(directory=directory, compile=True, run=True, debug=False)
        build_s = time.perf_counter() - t0
        for _ in range(max(args.trials - 1, 0)):
            t0 = time.perf_counter()
            b2.device.run(directory=directory, with_output=False, run_args=[])
            runs.append(time.perf_counter() - t0)
    else:
        net.store()
        t0 = time.perf_counter()
        net.run(args.duration_ms * b2.ms)
        build_s = time.perf_counter() - t0
        for _ in range(max(args.trials - 1, 0)):
            net.restore()
            t0 = time.perf_counter()
            net.run(args.duration_ms * b2.ms)
            runs.append(time.perf_counter() - t0)
    print(
        json.dumps(
            {
                "mode": args.mode,
                "build_s": build_s,
                "run_s": statistics.median(runs) if runs else build_s,
                "trials": args.trials,
                "duration_ms": args.duration_ms,
                "coherence": args.coherence,
                "final_rates_hz": final_rates(b2, r1, r2),
                "brian2": b2.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()

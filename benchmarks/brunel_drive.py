"""What strong external drive costs: Brunel's (2000) model A with its C_ext Poisson inputs.

    python benchmarks/brunel_drive.py [--scale 1.0] [--ms 200] [--repeats 3]

Brunel (2000), model A, regime AI (g = 5, η = 2): N_E = 10 000 and N_I = 2500 LIF neurons
(τ = 20 ms, θ = 20 mV, V_r = 10 mV, refractory 2 ms), each receiving C_E = 1000 excitatory
and C_I = 250 inhibitory synapses (J = 0.1 mV, −g·J), delay D = 1.5 ms, and C_ext = C_E
external Poisson inputs at ν_ext = η·ν_thr = η·θ/(J·C_E·τ) = 20 Hz each; dt = 0.1 ms.
`--scale` multiplies the sizes (C·J kept constant).

The external drive is built four ways, each timed in the same process (median of warm
runs, compile apart):

- none: the recurrent network alone (silent without drive: the cost of stepping it);
- diffusion: Brunel's diffusion approximation of the drive, a current
  μ_ext = C_ext·J·ν_ext·τ = 40 mV plus white noise σ_ext = J·sqrt(C_ext·ν_ext·τ) = 2 mV
  (`CurrentInput` + `WhiteNoise`, whose convention is Brunel's);
- PoissonDrive with Poisson counts (one count per neuron and step);
- PoissonDrive with binomial counts;
- channels: 10 Bernoulli channels per neuron (a PoissonInput of 10·N channels at
  C_ext·ν_ext/10 each, one-to-one onto the neurons), the way it had to be built before;
- poisson-only, channels-only: the drive into the neurons without the recurrent
  synapses (the cost of the drive itself, the network's activity left out).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import jax
import jax.random as jr
import numpy as np

import jaxsnn as snn

DRIVES = (
    "none",
    "diffusion",
    "poisson",
    "binomial",
    "channels",
    "poisson-only",
    "channels-only",
)


def brunel(scale: float, drive: str) -> snn.Network:
    n_e, n_i = int(10_000 * scale), int(2500 * scale)
    c_e, c_i = int(1000 * scale), int(250 * scale)
    j = 0.1 / scale  # C·J constant
    nu_ext = 20.0  # η·θ/(J·C_E·τ) with η = 2 (Hz), the same at every scale
    lif = snn.LIF(tau_mem_ms=20.0, v_th_mv=20.0, v_reset_mv=10.0, t_ref_ms=2.0)
    exc = snn.Population("E", n_e, lif, dale="excitatory")
    inh = snn.Population("I", n_i, lif, dale="inhibitory")
    k = jr.split(jr.key(0), 6)
    w = snn.Constant(j)
    projections = []
    if not drive.endswith("-only"):
        projections = [
            snn.connect(exc, exc, snn.FixedInDegree(c_e), w, key=k[0], delay_ms=1.5),
            snn.connect(exc, inh, snn.FixedInDegree(c_e), w, key=k[1], delay_ms=1.5),
            snn.connect(inh, exc, snn.FixedInDegree(c_i), w, key=k[2], scale=5.0, delay_ms=1.5),
            snn.connect(inh, inh, snn.FixedInDegree(c_i), w, key=k[3], scale=5.0, delay_ms=1.5),
        ]
    drive = drive.removesuffix("-only")
    inputs = []
    if drive == "diffusion":
        mu = c_e * j * nu_ext * 1e-3 * 20.0
        sigma = j * float(np.sqrt(c_e * nu_ext * 1e-3 * 20.0))
        for pop in (exc, inh):
            inputs.append(snn.CurrentInput(f"mu_{pop.name}", pop.name, pop.n, mu))
            inputs.append(snn.WhiteNoise(f"xi_{pop.name}", pop.name, pop.n, sigma))
    elif drive in ("poisson", "binomial"):
        counts = snn.PoissonCounts() if drive == "poisson" else snn.BinomialCounts()
        for pop in (exc, inh):
            inputs.append(
                snn.PoissonDrive(f"ext_{pop.name}", pop.name, pop.n, c_e, nu_ext, j, counts=counts)
            )
    elif drive == "channels":
        for pop, key in ((exc, k[4]), (inh, k[5])):
            chan = snn.PoissonInput(f"ext_{pop.name}", 10 * pop.n, rate_hz=c_e * nu_ext / 10)
            pre = np.arange(10 * pop.n)
            wiring = snn.FromPairs(pre, pre // 10)
            projections.append(snn.connect(chan, pop, wiring, w, key=key, layout="sparse"))
            inputs.append(chan)
    return snn.Network([exc, inh], projections, inputs)


def measure(scale: float, ms: float, repeats: int, drive: str) -> dict:
    dt = 0.1
    t0 = time.perf_counter()
    net = brunel(scale, drive)
    build = time.perf_counter() - t0
    steps = int(round(ms / dt))
    state = snn.init_state(net, dt_ms=dt)
    run = jax.jit(
        lambda s, key: (
            snn.simulate(net, s, steps, dt_ms=dt, key=key, record=snn.Record(counts=True))[1].counts
        )
    )
    t0 = time.perf_counter()
    jax.block_until_ready(run(state, jr.key(0)))
    first = time.perf_counter() - t0
    times = []
    for r in range(repeats):
        t0 = time.perf_counter()
        counts = jax.block_until_ready(run(state, jr.key(r + 1)))
        times.append(time.perf_counter() - t0)
    run_s = statistics.median(times)
    rates = {name: float(c.mean()) * 1000.0 / ms for name, c in counts.items()}
    return {
        "drive": drive,
        "build_s": build,
        "compile_s": max(first - run_s, 0.0),
        "run_s": run_s,
        "rate_E_hz": rates["E"],
        "rate_I_hz": rates["I"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="size factor (1: 12 500)")
    parser.add_argument("--ms", type=float, default=200.0, help="simulated time (ms)")
    parser.add_argument("--repeats", type=int, default=3, help="warm runs (median)")
    args = parser.parse_args(argv)
    rows = [measure(args.scale, args.ms, args.repeats, d) for d in DRIVES]
    base = rows[0]["run_s"]
    print(
        f"Brunel model A (AI), scale {args.scale}, {args.ms:g} ms at dt 0.1 ms; "
        f"{platform.processor() or platform.machine()}, JAX {jax.__version__}, {jax.devices()[0].device_kind}"
    )
    print("| external drive | build s | compile s | run s | run / network alone | E Hz | I Hz |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(
            f"| {r['drive']} | {r['build_s']:.2f} | {r['compile_s']:.2f} | {r['run_s']:.3f} | "
            f"{r['run_s'] / base:.2f} | {r['rate_E_hz']:.1f} | {r['rate_I_hz']:.1f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

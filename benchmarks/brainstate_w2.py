"""W2 in brainstate + brainevent (CPU, jit, one thread). Run with the brainstate
environment's Python (see README.md), not imported by the rest of the suite:

    benchmarks/.venvs/brainstate/bin/python benchmarks/brainstate_w2.py CONNECTIVITY.npz REPEATS

CONNECTIVITY.npz holds the exact synapses and initial potentials jaxsnn simulates
(arrays pre_exc, post_exc, pre_inh, post_inh, v0_mv, n_exc, n, steps), as for
brainpy_w2.py. brainstate 0.5 ships no neuron or synapse models (BrainPy provides them
as `brainpy.state`, not in this environment), so the network is a `brainstate.nn.Module`
written here: one group of n neurons whose V, g_e, g_i, refractory counter and spikes
are `brainstate.HiddenState`s; the two projections (E rows, I rows) are
`brainevent.CSR` matrices with one homogeneous weight each, multiplied by the previous
step's spikes as a `brainevent.BinaryArray` (event-driven: brainevent's numba kernel
walks only the rows of neurons that spiked); the 10 000 steps are one
`brainstate.transform.for_loop` (a `lax.scan`) under `brainstate.transform.jit`.

What matches jaxsnn's `build_ei_coba` + `simulate`, step by step:
- g_x <- g_x·exp(-dt/tau_x) + Σ_pre w·s_pre(t-1): the previous step's spikes reach the
  conductances undecayed, before V sees them (BrainPy 2.8's runner decays them once).
- V is integrated over the step with g_e, g_i held constant, with the conductances in
  the time constant: V' = V_inf + (V - V_inf)·exp(-(dt/tau)·(1 + g_e + g_i)).
- Refractoriness as a step counter: a neuron that spikes is held (V kept at v_reset,
  inputs ignored, conductances still decay and receive spikes) for round(5 ms / dt) =
  50 steps; spike = V' - v_th > 0 (strict) for non-refractory neurons; reset to v_reset.
- float32 throughout, as jaxsnn's default.

What differs: the V and g updates go through brainstate's integrator
`brainstate.nn.exp_euler_step`, x + dt·phi(dt·J)·f(x) with the Jacobian J found by
autodiff and phi(z) = (e^z - 1)/z. The equations are linear in their own variable, so
this is the exact update above algebraically, but it is computed differently (a phi
function and a drift rather than V_inf and a decay factor): results agree to rounding,
and spike times drift apart once a rounding difference decides a threshold crossing, as
between any two implementations of a chaotic network. On W2's network (brainstate 0.5.4,
brainevent 0.2.1, JAX 0.10.2, CPU) the spike raster equalled jaxsnn's spike for spike
for the first 9 460 of the 10 000 steps, and the spike count of the whole second was the
same; the rate is the check the suite records.

The process pins itself to one core before JAX starts (XLA sizes its thread pool from the
affinity mask; numba's kernel for this product is serial anyway), as jaxsnn-1thread and
Brian2 (one OpenMP thread) run.

Prints one JSON line: compile_s (first call minus a warm call), run_s (median wall time
of REPEATS warm calls), cpu_s (process CPU seconds, median over the warm calls),
rate_hz, peak_mem_mb, version (brainstate and brainevent), method.
"""

import json
import os
import sys

import numpy as np
from peer_process import peak_mb, time_warm

DT_MS = 0.1
TAU_MS, V_REST_MV, V_TH_MV, V_RESET_MV, T_REF_MS, I_EXT_MV = 20.0, -60.0, -50.0, -60.0, 5.0, 20.0
# (weight, tau_ms, e_rev_mv) of the E and I projections
EXC, INH = (0.6, 5.0, 0.0), (6.7, 10.0, -80.0)


def _csr(pre, post, n_pre: int, n_post: int, weight: float):
    """A (n_pre, n_post) brainevent.CSR with one weight shared by every synapse."""
    import brainevent
    import jax.numpy as jnp

    order = np.lexsort((post, pre))
    indptr = np.concatenate([[0], np.cumsum(np.bincount(pre, minlength=n_pre))])
    return brainevent.CSR(
        (
            jnp.asarray([weight], jnp.float32),
            jnp.asarray(post[order], jnp.int32),
            jnp.asarray(indptr, jnp.int32),
        ),
        shape=(n_pre, n_post),
    )


def _build(data):
    import brainevent
    import brainstate
    import jax.numpy as jnp

    n, n_exc = int(data["n"]), int(data["n_exc"])
    v0 = jnp.asarray(np.asarray(data["v0_mv"], np.float32))
    n_ref = int(round(T_REF_MS / DT_MS))
    exc = _csr(np.asarray(data["pre_exc"]), np.asarray(data["post_exc"]), n_exc, n, EXC[0])
    inh = _csr(np.asarray(data["pre_inh"]), np.asarray(data["post_inh"]), n - n_exc, n, INH[0])

    class EINet(brainstate.nn.Module):
        def __init__(self):
            super().__init__()
            self.v = brainstate.HiddenState(v0)
            self.g_e = brainstate.HiddenState(jnp.zeros(n, jnp.float32))
            self.g_i = brainstate.HiddenState(jnp.zeros(n, jnp.float32))
            self.refractory = brainstate.HiddenState(jnp.zeros(n, jnp.int32))
            self.spike = brainstate.HiddenState(jnp.zeros(n, bool))

        def reset(self):
            self.v.value = v0
            self.g_e.value = jnp.zeros(n, jnp.float32)
            self.g_i.value = jnp.zeros(n, jnp.float32)
            self.refractory.value = jnp.zeros(n, jnp.int32)
            self.spike.value = jnp.zeros(n, bool)

        def update(self):
            s = self.spike.value
            g_e = brainstate.nn.exp_euler_step(lambda g: -g / EXC[1], self.g_e.value)
            g_i = brainstate.nn.exp_euler_step(lambda g: -g / INH[1], self.g_i.value)
            g_e = g_e + brainevent.BinaryArray(s[:n_exc]) @ exc
            g_i = g_i + brainevent.BinaryArray(s[n_exc:]) @ inh

            def dv(v):
                leak = V_REST_MV - v + I_EXT_MV
                return (leak + g_e * (EXC[2] - v) + g_i * (INH[2] - v)) / TAU_MS

            v = self.v.value
            held = self.refractory.value > 0
            v_new = jnp.where(held, v, brainstate.nn.exp_euler_step(dv, v))
            spike = (v_new - V_TH_MV > 0) & ~held
            self.v.value = jnp.where(spike, V_RESET_MV, v_new)
            self.refractory.value = jnp.where(
                spike, n_ref, jnp.maximum(self.refractory.value - 1, 0)
            )
            self.g_e.value, self.g_i.value, self.spike.value = g_e, g_i, spike
            return spike.sum(dtype=jnp.int32)

    return EINet()


def main() -> None:
    path, repeats = sys.argv[1], int(sys.argv[2])
    data = np.load(path)
    # Before JAX is first imported: CPU, and one core (see the module docstring).
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    import brainevent
    import brainstate
    import jax

    brainstate.environ.set(dt=DT_MS)
    n, steps = int(data["n"]), int(data["steps"])
    net = _build(data)

    # Compiled once; the warm calls reuse it with the states as inputs and outputs.
    loop = brainstate.transform.jit(
        lambda: brainstate.transform.for_loop(lambda i: net.update(), np.arange(steps))
    )

    def reset():
        # Each call starts from the same state (V0 from the file, zero conductances,
        # nobody refractory), so every timed call simulates the identical second; the
        # reset stays outside the timing, as the initial state does for jaxsnn.
        net.reset()
        jax.block_until_ready(net.v.value)

    def call():
        return jax.block_until_ready(loop())

    timing = time_warm(call, repeats, prepare=reset)
    total = int(np.asarray(timing.pop("result")).sum())
    print(
        json.dumps(
            {
                **timing,
                "rate_hz": total / n / (steps * DT_MS * 1e-3),
                "peak_mem_mb": peak_mb(),
                "version": f"brainstate {brainstate.__version__}, brainevent "
                f"{brainevent.__version__}",
                "method": "exponential Euler (brainstate.nn.exp_euler_step; conductances in"
                " the time constant, exact for these linear equations), event-driven CSR"
                " matvec (brainevent.CSR x BinaryArray, numba), one thread",
            }
        )
    )


if __name__ == "__main__":
    main()

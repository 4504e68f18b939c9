"""W2 in BrainPy (CPU, jit). Run with the BrainPy environment's Python (see README.md),
not imported by the rest of the suite:

    benchmarks/.venvs/brainpy/bin/python benchmarks/brainpy_w2.py CONNECTIVITY.npz REPEATS

CONNECTIVITY.npz holds the exact synapses and initial potentials jaxsnn simulates
(arrays pre_exc, post_exc, pre_inh, post_inh, v0_mv, n_exc, n, steps). The network is
written as in BrainPy's own COBA E/I example (LifRefLTC neurons, FullProjAlignPostMg
projections: event-driven CSR matvec into Expon conductances with COBA outputs, stepped
by bm.for_loop under bm.jit), but with one group and two projections (see `_build`).
Prints one JSON line: compile_s (first call minus a warm call), run_s (median wall time
of REPEATS warm calls), cpu_s (process CPU seconds, median over the warm calls),
rate_hz, peak_mem_mb, version (brainpy), method (integrator and spike propagation).
"""

import json
import os
import sys

import numpy as np
from peer_process import peak_mb, time_warm

DT_MS = 0.1


def _build(data):
    import brainpy as bp
    import brainpy.math as bm

    n, n_exc = int(data["n"]), int(data["n_exc"])
    v0 = bm.asarray(np.asarray(data["v0_mv"], np.float32))

    class EINet(bp.DynSysGroup):
        def __init__(self):
            super().__init__()
            # One group of all n neurons, as in the Brian2 runner. BrainPy's COBA example
            # splits E and I into two groups with four projections, but on CPU every
            # event CSR matvec is a numba kernel entered through a Python FFI callback
            # (~35 us each on a 2-core CPU), so two projections over one group run in about half the
            # time of four, with the same spikes.
            self.N = bp.dyn.LifRefLTC(
                n,
                V_rest=-60.0,
                V_th=-50.0,
                V_reset=-60.0,
                tau=20.0,
                tau_ref=5.0,
                V_initializer=v0,
            )
            self.projs = []
            for key, offset, weight, tau, e_rev in (
                ("exc", 0, 0.6, 5.0, 0.0),
                ("inh", n_exc, 6.7, 10.0, -80.0),
            ):
                # pre_inh counts from the first I neuron; the group counts from 0.
                pre = np.asarray(data[f"pre_{key}"], np.int64) + offset
                post = np.asarray(data[f"post_{key}"], np.int64)
                conn = bp.conn.IJConn(i=pre, j=post)(pre_size=n, post_size=n)
                self.projs.append(
                    bp.dyn.FullProjAlignPostMg(
                        pre=self.N,
                        delay=None,
                        comm=bp.dnn.EventCSRLinear(conn, weight),
                        syn=bp.dyn.Expon.desc(size=n, tau=tau),
                        out=bp.dyn.COBA.desc(E=e_rev),
                        post=self.N,
                    )
                )

        def update(self, inp):
            # Projections read the previous step's spikes, so a spike reaches its
            # targets' conductances one step later, as in the Brian2 runner. The group's
            # update then decays g before integrating V, so V first sees an increment
            # already decayed by one step (x0.980 for E, x0.990 for I), where Brian2 and
            # jaxsnn use it undecayed.
            for proj in self.projs:
                proj()
            self.N(inp)
            return self.N.spike.sum()

    return EINet()


def main() -> None:
    path, repeats = sys.argv[1], int(sys.argv[2])
    data = np.load(path)
    # CPU before JAX is first imported: this runner is a CPU peer of the other W2 entries.
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import brainpy as bp
    import brainpy.math as bm
    import jax

    bm.set_dt(DT_MS)
    n, steps = int(data["n"]), int(data["steps"])
    net = _build(data)
    indices = np.arange(steps)

    # bm.for_loop alone is a lax.scan traced afresh on every call; under bm.jit the
    # traced loop is compiled once and reused by the warm calls.
    loop = bm.jit(lambda: bm.for_loop(lambda i: net.step_run(i, 20.0), indices))

    def reset():
        # Each call starts from the same state (V0 from the file, zero conductances,
        # nobody refractory), so every timed call simulates the identical second. The
        # reset is eager Python over the group's variables and stays outside the timing,
        # as the initial state does for jaxsnn.
        net.reset()

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
                "version": bp.__version__,
                "method": "exponential Euler (exp_auto; conductances in the time constant,"
                " LifRefLTC), event-driven CSR matvec (EventCSRLinear, FullProjAlignPostMg)",
            }
        )
    )


if __name__ == "__main__":
    main()

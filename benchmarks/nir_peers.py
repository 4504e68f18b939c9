"""Cross-tool NIR check: a peer exports a small feed-forward network to a .nir file,
jaxsnn imports it (`jaxsnn.nir_graph.from_nir`) and both run the same input spikes.

    python benchmarks/nir_peers.py [--peer norse|snntorch] [--steps 500]

The peer part runs in the peer's own environment (`peers.py python NAME`, whose pins
include `nir` and `nirtorch`): this script calls itself there with `--in-peer`, which
builds Linear -> LIF -> Linear -> LIF (20 -> 30 -> 5; Norse: `LIFBoxCell` in
`SequentialState`; snnTorch: `Leaky(init_hidden=True, reset_mechanism="zero")` in
`nn.Sequential`), exports it with the peer's NIR export (`norse.torch.to_nir`,
`snntorch.export_nir.export_to_nir`) into a temporary folder, runs it on Bernoulli input
spikes made in code (p = 0.1 per channel and step, 500 steps of 0.1 ms) and saves the
inputs and both layers' spikes in an .npz beside the graph. jaxsnn then reads the file,
builds the network with `from_nir`, simulates it on the same input and compares, per
layer: spike counts, spikes in the same step, the fraction of (step, neuron) entries
that are equal, and the first step that differs.

What is true for this network (measured with snnTorch 1.0.0, Norse 1.1.0, nir 1.0.8):
- Timing: input spikes act within their own step in both tools, so the hidden layer is
  compared step for step. The peers' `Sequential` passes the hidden spikes of step t to
  the output layer in step t, jaxsnn delivers a population's spikes at step t + 1, so
  jaxsnn's output at t + 1 is compared with the peer's at t (`lag_steps`: 1). The same
  spike counts at other lags (`same_step_by_lag`) show that this shift, and no other, is
  the one.
- Reset: snnTorch's export writes v_reset = 0 for every mechanism; with
  `reset_mechanism="zero"` (which zeroes the potential before the next step's decay
  and input) that is what snnTorch runs, so this network uses it. Its default
  "subtract" would be exported as a reset to zero all the same, and no importer could
  tell.
- Discretisation: the peers integrate with forward Euler (decay 1 - dt/tau, input gain
  r dt/tau) where jaxsnn integrates the NIR equations exactly (exp(-dt/tau), gain
  r (1 - exp(-dt/tau))), so the graph as written gives close, not equal, spikes. The
  variant "Euler-matched" sets each LIF node's tau to -dt / ln(1 - dt/tau), the time
  constant whose exact decay is the peer's Euler factor (and whose gain is then the
  peer's too); with it jaxsnn's spikes equal the peer's, every step and neuron.
- Norse 1.1.0 writes tau = dt / tau_mem_inv (= dt·tau) instead of 1 / tau_mem_inv, so
  its graphs carry a membrane time constant dt times too small; the check reports the
  graph as written, with tau divided by dt, and that corrected and Euler-matched.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
N_IN, N_HID, N_OUT = 20, 30, 5
DT_S = 1e-4  # snnTorch's export assumes this step; Norse takes it as an argument
TAU_S = 5e-3
P_IN = 0.1


def _peer_main(peer: str, folder: Path, steps: int) -> None:
    """Build, export and run the peer's network (inside the peer's environment)."""
    import torch

    torch.manual_seed(0)
    w1 = torch.rand(N_HID, N_IN) * 0.1 / (N_IN * P_IN)  # about 0.05 per step vs 1/50 leak
    w2 = torch.rand(N_OUT, N_HID) * 0.12
    x = (torch.rand(steps, 1, N_IN) < P_IN).float()
    if peer == "norse":
        import norse.torch as norse

        def lif(n):
            # per-neuron parameters: nir.write cannot store the 0-d ones Norse's defaults give
            p = norse.LIFBoxParameters(
                tau_mem_inv=torch.full((n,), 1 / TAU_S),
                v_leak=torch.zeros(n),
                v_th=torch.ones(n),
                v_reset=torch.zeros(n),
            )
            return norse.LIFBoxCell(p, dt=DT_S)

        fc1, fc2 = (
            torch.nn.Linear(N_IN, N_HID, bias=False),
            torch.nn.Linear(N_HID, N_OUT, bias=False),
        )
        fc1.weight.data, fc2.weight.data = w1 / (DT_S / TAU_S), w2 / (DT_S / TAU_S)
        model = norse.SequentialState(fc1, lif(N_HID), fc2, lif(N_OUT))
        graph = norse.to_nir(model, x[0, 0], dt=DT_S)  # no batch axis in the Input node
        hidden = []
        model[1].register_forward_hook(lambda m, i, o: hidden.append(o[0][0].numpy().copy()))
        state, out = None, []
        with torch.no_grad():
            for t in range(steps):
                z, state = model(x[t], state)
                out.append(z[0].numpy())
    else:
        import snntorch
        from snntorch import utils
        from snntorch.export_nir import export_to_nir

        beta = 1 - DT_S / TAU_S

        def leaky(n):
            # per-neuron beta and threshold: the export's type inference rejects 0-d
            # parameters and nir.LIF wants all of them the same shape. Reset to zero:
            # the export writes v_reset = 0 whatever the mechanism, so only this one
            # is what the graph says
            return snntorch.Leaky(
                beta=torch.full((n,), beta),
                threshold=torch.ones(n),
                init_hidden=True,
                reset_mechanism="zero",
            )

        fc1, fc2 = (
            torch.nn.Linear(N_IN, N_HID, bias=False),
            torch.nn.Linear(N_HID, N_OUT, bias=False),
        )
        fc1.weight.data, fc2.weight.data = w1, w2
        model = torch.nn.Sequential(fc1, leaky(N_HID), fc2, leaky(N_OUT))
        graph = export_to_nir(model, x[0, 0])  # no batch axis in the Input node
        hidden = []
        model[1].register_forward_hook(lambda m, i, o: hidden.append(o[0].numpy().copy()))
        utils.reset(model)  # the export ran the model once
        with torch.no_grad():
            out = [model(x[t])[0].numpy() for t in range(steps)]
    import nir

    for node in graph.nodes.values():  # the exports leave torch tensors and floats
        for field, value in vars(node).items():
            if isinstance(value, torch.Tensor):
                setattr(node, field, value.detach().numpy())
        if isinstance(node, nir.LIF):
            node.v_reset = np.broadcast_to(np.asarray(node.v_reset), node.v_threshold.shape).copy()
    nir.write(folder / "peer.nir", graph)
    np.savez(folder / "run.npz", x=x[:, 0].numpy(), hidden=np.array(hidden), out=np.array(out))


def _agreement(ours: np.ndarray, theirs: np.ndarray, lag: int) -> dict:
    """Spike rasters (steps, n) compared with jaxsnn's `lag` steps behind the peer's."""
    a, b = ours[lag:], theirs[: len(theirs) - lag]
    differ = np.flatnonzero(np.any(a != b, axis=1))
    return {
        "lag_steps": lag,
        "peer_spikes": int(b.sum()),
        "jaxsnn_spikes": int(a.sum()),
        "same_step": int(np.sum(a * b)),
        "exact_match_fraction": float(np.mean(a == b)),
        "identical": bool(differ.size == 0),
        "first_differing_step": None if differ.size == 0 else int(differ[0]),
        "same_step_by_lag": {
            k: int(np.sum(ours[k:] * theirs[: len(theirs) - k])) for k in range(3)
        },
    }


def _euler_tau(graph) -> None:
    """Set each LIF node's tau so that jaxsnn's exact step decays by the peer's forward
    Euler factor, exp(-dt/tau') = 1 - dt/tau; its input gain r (1 - exp(-dt/tau')) is
    then Euler's r dt/tau as well (1 for snnTorch's r = tau/dt)."""
    import nir

    for node in graph.nodes.values():
        if isinstance(node, nir.LIF):
            node.tau = -DT_S / np.log1p(-DT_S / np.asarray(node.tau, np.float64))


def _jaxsnn_side(peer: str, folder: Path) -> dict:
    import jax.numpy as jnp
    import nir

    import jaxsnn as snn
    from jaxsnn.nir_graph import from_nir, output_populations

    graph = nir.read(folder / "peer.nir")
    run = np.load(folder / "run.npz")
    x = run["x"]
    report = {"peer": peer, "nodes": {k: type(v).__name__ for k, v in graph.nodes.items()}}
    variants = {"as written": lambda g: None}
    if peer == "norse":

        def tau_over_dt(g):
            for node in g.nodes.values():
                if isinstance(node, nir.LIF):
                    node.tau = np.asarray(node.tau) / DT_S

        variants["tau / dt"] = tau_over_dt
        variants["tau / dt, Euler-matched"] = lambda g: (tau_over_dt(g), _euler_tau(g))
    else:
        variants["Euler-matched"] = _euler_tau
    for label, change in variants.items():
        g = nir.read(folder / "peer.nir")
        change(g)
        taus = [float(np.mean(n.tau)) for n in g.nodes.values() if isinstance(n, nir.LIF)]
        entry: dict = {"tau_s": taus}
        try:
            net = from_nir(g, dt_ms=DT_S * 1000)
            inp = net.spike_inputs[0].name
            out = next(iter(output_populations(g).values()))
            hid = next(p.name for p in net.populations if p.name != out)
            _, rec = snn.simulate(
                net,
                snn.init_state(net),
                x.shape[0],
                dt_ms=DT_S * 1000,
                inputs={inp: jnp.asarray(x, jnp.float32)},
                record=snn.Record(spikes=[hid, out]),
                allow_large_dt=True,
            )
            # input spikes act in their own step in both tools; the peer's Sequential
            # passes spikes through both layers within a step where jaxsnn delivers a
            # population's spikes at the next step, so the output is one step behind
            entry["hidden"] = _agreement(np.asarray(rec.spikes[hid]), run["hidden"], lag=0)
            entry["output"] = _agreement(np.asarray(rec.spikes[out]), run["out"], lag=1)
        except ValueError as err:
            entry["error"] = str(err)
        report[label] = entry
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", choices=["norse", "snntorch"], default="norse")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--in-peer", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_peer is not None:
        _peer_main(args.peer, args.in_peer, args.steps)
        return
    sys.path.insert(0, str(HERE))
    from peers import interpreter

    python = interpreter(args.peer)
    if python is None:
        sys.exit(f"{args.peer} is not installed: python benchmarks/peers.py install {args.peer}")
    check = subprocess.run([str(python), "-c", "import nir, nirtorch, numpy"], capture_output=True)
    if check.returncode != 0:
        # an environment installed before nir and nirtorch joined the peer's pins
        sys.exit(
            f"{args.peer}'s environment lacks nir, nirtorch or numpy: "
            f"python benchmarks/peers.py install {args.peer}"
        )
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [str(python), __file__, "--peer", args.peer, "--steps", str(args.steps)]
        proc = subprocess.run([*cmd, "--in-peer", tmp], capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"the {args.peer} side failed:\n{proc.stderr[-3000:]}")
        print(json.dumps(_jaxsnn_side(args.peer, Path(tmp)), indent=2))


if __name__ == "__main__":
    main()

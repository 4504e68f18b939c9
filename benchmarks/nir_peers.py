"""Cross-tool NIR check: a peer exports a small feed-forward network to a .nir file,
jaxsnn imports it (`jaxsnn.nir_graph.from_nir`) and both run the same input spikes.

    python benchmarks/nir_peers.py [--peer norse|snntorch] [--steps 500]

The peer part runs in the peer's own environment (`peers.py python NAME`): this script
calls itself there with `--in-peer`, which builds Linear -> LIF -> Linear -> LIF
(Norse: `LIFBoxCell`; snnTorch: `Leaky(reset_mechanism="zero")`), exports it with the
peer's NIR export into a temporary folder, runs it on Bernoulli input spikes and saves
inputs and output spikes beside the graph. jaxsnn then reads the file and compares.

What to expect (jaxsnn.nir_graph's docstring): the peers integrate with forward Euler
(decay 1 - dt/tau) where jaxsnn integrates exactly (exp(-dt/tau)), so spikes agree only
as far as the two discretisations do (closely for dt << tau); and a peer's `Sequential`
passes spikes through both layers within one step where jaxsnn delivers a population's
spikes one step later, so jaxsnn's output at step t + 1 is compared with the peer's at t.
Norse 1.1.0 writes tau = dt / tau_mem_inv (= dt·tau) instead of 1 / tau_mem_inv, so its
graphs carry a membrane time constant dt times too small; the check reports the graph as
written and, separately, with tau divided by dt.
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
        state, out = None, []
        with torch.no_grad():
            for t in range(steps):
                z, state = model(x[t], state)
                out.append(z[0].numpy())
    else:
        import snntorch as snntorch
        from snntorch.export_nir import export_to_nir

        beta = 1 - DT_S / TAU_S

        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = torch.nn.Linear(N_IN, N_HID, bias=False)
                self.lif1 = snntorch.Leaky(beta=torch.full((N_HID,), beta), reset_mechanism="zero")
                self.fc2 = torch.nn.Linear(N_HID, N_OUT, bias=False)
                self.lif2 = snntorch.Leaky(beta=torch.full((N_OUT,), beta), reset_mechanism="zero")
                self.fc1.weight.data, self.fc2.weight.data = w1, w2

            def forward(self, x):
                return self.lif2(self.fc2(self.lif1(self.fc1(x))))

        model = Net()
        graph = export_to_nir(model, x[0])
        out = []
        with torch.no_grad():
            model.lif1.reset_mem()
            model.lif2.reset_mem()
            for t in range(steps):
                out.append(model(x[t])[0].numpy())
    import nir

    for node in graph.nodes.values():  # the exports leave torch tensors and floats
        for field, value in vars(node).items():
            if isinstance(value, torch.Tensor):
                setattr(node, field, value.detach().numpy())
        if isinstance(node, nir.LIF):
            node.v_reset = np.broadcast_to(np.asarray(node.v_reset), node.v_threshold.shape).copy()
    nir.write(folder / "peer.nir", graph)
    np.savez(folder / "run.npz", x=x[:, 0].numpy(), out=np.array(out))


def _jaxsnn_side(peer: str, folder: Path) -> dict:
    import jax.numpy as jnp
    import nir

    import jaxsnn as snn
    from jaxsnn.nir_graph import from_nir, output_populations

    graph = nir.read(folder / "peer.nir")
    run = np.load(folder / "run.npz")
    x, peer_out = run["x"], run["out"]
    report = {"peer": peer, "nodes": {k: type(v).__name__ for k, v in graph.nodes.items()}}
    variants = {"as written": graph}
    if peer == "norse":
        fixed = nir.read(folder / "peer.nir")
        for node in fixed.nodes.values():
            if isinstance(node, nir.LIF):
                node.tau = np.asarray(node.tau) / DT_S
        variants["tau / dt"] = fixed
    for label, g in variants.items():
        taus = [float(np.mean(n.tau)) for n in g.nodes.values() if isinstance(n, nir.LIF)]
        entry: dict = {"tau_s": taus}
        try:
            net = from_nir(g, dt_ms=DT_S * 1000)
            inp = net.spike_inputs[0].name
            out = next(iter(output_populations(g).values()))
            _, rec = snn.simulate(
                net,
                snn.init_state(net),
                x.shape[0],
                dt_ms=DT_S * 1000,
                inputs={inp: jnp.asarray(x, jnp.float32)},
                record=snn.Record(spikes=[out]),
                allow_large_dt=True,
            )
            ours = np.asarray(rec.spikes[out])
            # one step of latency per population-to-population projection
            a, b = ours[1:], peer_out[:-1]
            near = np.zeros_like(b)  # peer spikes with a jaxsnn spike within 2 steps
            for shift in range(-2, 3):
                near = np.maximum(near, np.roll(a, shift, axis=0) * b)
            entry |= {
                "peer_spikes": int(peer_out.sum()),
                "jaxsnn_spikes": int(ours.sum()),
                "same_step": int(np.sum(a * b)),
                "within_2_steps": int(near.sum()),
                "same_step_by_lag": {
                    lag: int(np.sum(ours[lag:] * peer_out[: len(peer_out) - lag]))
                    for lag in range(3)
                },
            }
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
        # snnTorch's pinned environment has no NIR support installed (its export needs both)
        sys.exit(
            f"{args.peer}'s environment lacks nir, nirtorch or numpy: "
            f"{python} -m pip install nir nirtorch"
        )
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [str(python), __file__, "--peer", args.peer, "--steps", str(args.steps)]
        proc = subprocess.run([*cmd, "--in-peer", tmp], capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"the {args.peer} side failed:\n{proc.stderr[-3000:]}")
        print(json.dumps(_jaxsnn_side(args.peer, Path(tmp)), indent=2))


if __name__ == "__main__":
    main()

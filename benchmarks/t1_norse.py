"""T1's Norse side, run by `t1_training.py` in Norse's own environment (`python
benchmarks/peers.py install norse`); it does not import jaxsnn.

    <norse python> benchmarks/t1_norse.py PROBLEM.npz REPEATS LEARNING_RATE N_CHECK

It trains T1's network (see t1_training.py) on the problem in PROBLEM.npz and prints one
JSON line: seconds per step (median of REPEATS after two warm-up steps), the first and
second step's times, spike rate, peak memory, test accuracy, final loss, the initial
logits of the first N_CHECK test samples and the norms of the first step's gradients
(input, recurrent, output weights).

What is Norse's and what is written here: the spike and its surrogate gradient are
Norse's `threshold(x, "super", alpha)` (its SuperSpike autograd function, Heaviside
forward); the rest of the step is plain torch written here (nn.Linear layers without
bias, the membrane update and the readout), as Norse's own cells cannot give T1's
dynamics: `LIFBoxCell` integrates with forward Euler towards `v_leak` (its decay
1 - dt/tau would match exp(-dt/tau) only by rescaling every input by tau/dt, which
changes the rounding), resets to a value (or, with Norse's `reset_subtract`, subtracts
the threshold before the next decay instead of after it) and lets the gradient through
the reset; `LIFCell` / `LIFRecurrentCell` add a synaptic current and reset to a value.
The step here is snnTorch's `RLeaky` in the same floating-point order:
V <- beta V + W_in x + W_rec s - s.detach(), s = H(V - 1); readout U <- beta U + W_out s,
logits = U averaged over time.

Norse's SuperSpike backward is 1 / (|x| + 1)^2 whatever `alpha` says (Norse 1.1.0 stores
alpha and never uses it), so the slope 25 goes into its argument: x = d + 24 d.detach()
with d = V - 1 is 25 d in the forward pass (same sign, so the same spike) and has
derivative 1 in the backward pass, which makes ds/dV = 1 / (25 |V - 1| + 1)^2, T1's
fast sigmoid.
"""

from __future__ import annotations

import json
import sys
import time

import norse
import numpy as np
import torch
import torch.nn as nn
from norse.torch.functional.threshold import threshold
from peer_process import step_timing

SLOPE = 25.0


class Net(nn.Module):
    """Recurrent LIF (snnTorch's order, Norse's spike function) and a leaky readout."""

    def __init__(self, p: dict[str, np.ndarray], beta: float):
        super().__init__()
        n_in, n_hidden = p["w_in"].shape
        n_out = p["w_out"].shape[1]
        self.beta = beta
        self.fc1 = nn.Linear(n_in, n_hidden, bias=False)
        self.rec = nn.Linear(n_hidden, n_hidden, bias=False)
        self.fc2 = nn.Linear(n_hidden, n_out, bias=False)
        with torch.no_grad():
            # torch's Linear stores (out, in); the problem stores (in, out)
            self.fc1.weight.copy_(torch.from_numpy(p["w_in"].T.copy()))
            self.rec.weight.copy_(torch.from_numpy(p["w_rec"].T.copy()))
            self.fc2.weight.copy_(torch.from_numpy(p["w_out"].T.copy()))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits (batch, n_out) and the hidden spike count for x (T, batch, n_in)."""
        batch = x.shape[1]
        v = x.new_zeros(batch, self.rec.weight.shape[0])
        s = torch.zeros_like(v)
        u = x.new_zeros(batch, self.fc2.weight.shape[0])
        total, count = 0.0, 0.0
        for t in range(x.shape[0]):
            v = self.beta * v + self.fc1(x[t]) + self.rec(s) - s.detach()
            d = v - 1.0
            s = threshold(d + (SLOPE - 1.0) * d.detach(), "super", SLOPE)
            u = self.beta * u + self.fc2(s)
            total = total + u
            count = count + s.detach().sum()
        return total / x.shape[0], count


def main() -> None:
    path, repeats, lr, n_check = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    p = dict(np.load(path))
    beta = float(np.exp(-1.0 / 20.0))
    net = Net(p, beta)
    test_x = torch.from_numpy(p["test_x"])
    test_y = torch.from_numpy(p["test_y"])
    with torch.no_grad():
        initial = net(test_x[:n_check].float().transpose(0, 1))[0].tolist()
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    lossf = nn.CrossEntropyLoss()
    train_x, train_y = torch.from_numpy(p["train_x"]), torch.from_numpy(p["train_y"])
    batches = torch.from_numpy(p["batches"])
    n_hidden = p["w_rec"].shape[0]
    times, rates = [], []
    for i in range(batches.shape[0]):
        t0 = time.perf_counter()
        idx = batches[i]
        x = train_x[idx].float().transpose(0, 1)
        out, count = net(x)
        loss = lossf(out, train_y[idx])
        opt.zero_grad()
        loss.backward()
        if i == 0:
            grad_norms = [
                float(w.grad.norm()) for w in (net.fc1.weight, net.rec.weight, net.fc2.weight)
            ]
        opt.step()
        times.append(time.perf_counter() - t0)
        rates.append(float(count) / (n_hidden * x.shape[1] * x.shape[0] * 1e-3))
    with torch.no_grad():
        hits = 0
        for j in range(0, test_y.shape[0], 100):
            z, _ = net(test_x[j : j + 100].float().transpose(0, 1))
            hits += int((z.argmax(1) == test_y[j : j + 100]).sum())
    print(
        json.dumps(
            {
                **step_timing(times, rates, repeats),
                "accuracy": hits / test_y.shape[0],
                "final_loss": float(loss),
                "initial_logits": initial,
                "initial_grad_norms": grad_norms,
                "versions": f"Norse {norse.__version__}, torch {torch.__version__} "
                f"({torch.get_num_threads()} threads)",
            }
        )
    )


if __name__ == "__main__":
    main()

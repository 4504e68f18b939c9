"""T1's Spyx side, run by `t1_training.py` in Spyx's own environment (`python
benchmarks/peers.py install spyx`); it does not import jaxsnn.

    <spyx python> benchmarks/t1_spyx.py PROBLEM.npz REPEATS LEARNING_RATE N_CHECK

It trains T1's network (see t1_training.py) on the problem in PROBLEM.npz and prints one
JSON line: seconds per step (median of REPEATS after two warm-up steps), the first and
second step's times (the first includes JIT compilation), spike rate, peak memory, test
accuracy, final loss, the initial logits of the first N_CHECK test samples and the norms
of the first step's gradients (input, recurrent, output weights).

What is Spyx's: Spyx 1.0 is built on flax.nnx (not Haiku any more). The network is
`flax.nnx.Linear(use_bias=False)` -> Spyx's `RLIF` -> `nnx.Linear` -> Spyx's `LI`
(readout), stepped by `spyx.nn.run` (one `lax.scan`), with Spyx's `superspike(k=25)`
activation, whose surrogate is 1 / (1 + 25 |x|)^2, T1's fast sigmoid; optax's Adam, the
whole training step (batch gather, forward, backward, Adam) in one `jax.jit`.

Written here: `RLIF.__call__` is Spyx's with one change, the reset is
`stop_gradient(spikes) * threshold` (Spyx lets the gradient through it; T1 does not).
The two betas are held constant (Spyx makes a given beta a trainable `nnx.Param`; only
the three weight matrices are trained, as in the other tools).

Timing of the spikes: a Spyx neuron emits the spike of the potential it had *before* the
step, s_out(t) = H(V(t-1) - 1), then updates V(t) = beta V(t-1) + x(t) + W_rec s_out(t)
- s_out(t). Its potentials are snnTorch's exactly, but each layer's spikes come out one
step later, so the readout sees the hidden spikes of step t at step t + 1. The script
therefore appends one step of zero input (T + 1 steps) and averages the readout over the
last T steps, which gives the same logits as snnTorch's mean over its T steps.
"""

from __future__ import annotations

import json
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
import spyx
from flax import nnx
from peer_process import step_timing


class RLIFDetachedReset(spyx.nn.RLIF):
    """Spyx's recurrent LIF with the reset outside the gradient (snnTorch's, T1's)."""

    def __call__(self, x, V):
        beta = jnp.clip(self.beta[...], 0, 1)
        spikes = self.spike(V - self.threshold)
        feedback = spikes @ self.recurrent_w[...]
        V = beta * V + x + feedback - jax.lax.stop_gradient(spikes) * self.threshold
        return spikes, V


class Net(nnx.Module):
    """One step of T1's network in Spyx's (x_t, state) -> (out, state) contract; out is
    (readout potentials, hidden spikes)."""

    def __init__(self, p: dict[str, np.ndarray], beta: float):
        n_in, n_hidden = p["w_in"].shape
        n_out = p["w_out"].shape[1]
        rngs = nnx.Rngs(0)  # every weight is replaced by the problem's below
        self.fc1 = nnx.Linear(n_in, n_hidden, use_bias=False, rngs=rngs)
        self.lif = RLIFDetachedReset(
            (n_hidden,), beta=beta, activation=spyx.axn.superspike(k=25.0), rngs=rngs
        )
        self.fc2 = nnx.Linear(n_hidden, n_out, use_bias=False, rngs=rngs)
        self.out = spyx.nn.LI((n_out,), beta=beta, rngs=rngs)
        # nnx.Linear's kernel is (in, out), as the problem stores it
        self.fc1.kernel = nnx.Param(jnp.asarray(p["w_in"]))
        self.lif.recurrent_w = nnx.Param(jnp.asarray(p["w_rec"]))
        self.fc2.kernel = nnx.Param(jnp.asarray(p["w_out"]))

    def initial_state(self, batch_size):
        return (self.lif.initial_state(batch_size), self.out.initial_state(batch_size))

    def __call__(self, x, state):
        v, u = state
        s, v = self.lif(self.fc1(x), v)
        u, _ = self.out(self.fc2(s), u)
        return (u, s), (v, u)


def _weights(path, value) -> bool:
    return isinstance(value, nnx.Param) and path[-1] != "beta"


def main() -> None:
    path, repeats, lr, n_check = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    p = dict(np.load(path))
    beta = float(np.exp(-1.0 / 20.0))
    graphdef, params, rest = nnx.split(Net(p, beta), _weights, ...)

    def logits(params, x):
        """Logits (batch, n_out) and hidden spike count for x (batch, T, n_in) uint8."""
        x = jnp.swapaxes(x.astype(jnp.float32), 0, 1)
        x = jnp.concatenate([x, jnp.zeros_like(x[:1])])  # one step for Spyx's lag
        (u, s), _ = spyx.nn.run(nnx.merge(graphdef, params, rest), x)
        return jnp.mean(u[1:], axis=0), jnp.sum(s)

    optimizer = optax.adam(lr)

    @jax.jit
    def step(params, opt_state, train_x, train_y, idx):
        def loss_fn(params):
            z, count = logits(params, train_x[idx])
            loss = optax.softmax_cross_entropy_with_integer_labels(z, train_y[idx]).mean()
            return loss, count

        (loss, count), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        norms = [
            jnp.linalg.norm(w) for w in (grads.fc1.kernel, grads.lif.recurrent_w, grads.fc2.kernel)
        ]
        return optax.apply_updates(params, updates), opt_state, loss, count, jnp.stack(norms)

    predict = jax.jit(lambda params, x: logits(params, x)[0])
    initial = np.asarray(predict(params, jnp.asarray(p["test_x"][:n_check]))).tolist()
    opt_state = optimizer.init(params)
    train_x, train_y = jnp.asarray(p["train_x"]), jnp.asarray(p["train_y"])
    batches = jnp.asarray(p["batches"])
    n_steps, n_hidden = p["train_x"].shape[1], p["w_rec"].shape[0]
    times, rates = [], []
    for i in range(batches.shape[0]):
        t0 = time.perf_counter()
        params, opt_state, loss, count, norms = step(
            params, opt_state, train_x, train_y, batches[i]
        )
        jax.block_until_ready(loss)
        times.append(time.perf_counter() - t0)
        if i == 0:
            grad_norms = np.asarray(norms).tolist()
        rates.append(float(count) / (n_hidden * batches.shape[1] * n_steps * 1e-3))
    hits = 0
    for j in range(0, p["test_y"].shape[0], 100):
        z = predict(params, jnp.asarray(p["test_x"][j : j + 100]))
        hits += int(np.sum(np.argmax(np.asarray(z), -1) == p["test_y"][j : j + 100]))
    print(
        json.dumps(
            {
                **step_timing(times, rates, repeats),
                "accuracy": hits / p["test_y"].shape[0],
                "final_loss": float(loss),
                "initial_logits": initial,
                "initial_grad_norms": grad_norms,
                "versions": f"Spyx {spyx.__version__}, JAX {jax.__version__}, "
                f"{jax.devices()[0].platform}",
            }
        )
    )


if __name__ == "__main__":
    main()

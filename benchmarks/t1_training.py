"""T1 gradient training: seconds per training step and test accuracy, jaxsnn versus snnTorch,
Norse and Spyx.

T1 was redefined because its first version (a two-class Poisson rate task, max-over-time
readout) did not learn in any tool: the hidden rates ran away after early convergence and
the test accuracy ended near 0.5. Now it is a standard task on which every tool learns,
with one network that is identical in every tool down to its initial weights and the
order of the minibatches.

Task: Randman (`jaxsnn.datasets.randman_task`, key 0): 10 classes, 100 units, 1-D
manifolds, T = 200 steps of dt = 1 ms, one spike per unit and sample, 200 samples per
class, 20 % held out (1600 train, 400 test). It is generated once and written to an
`.npz` in a temporary folder together with the initial weights and the minibatch indices
of every step; each peer reads that file, so every tool trains on the same data from
the same start.

Network: 100 inputs -> 512 recurrent LIF (dense input and all-to-all recurrent weights,
self-connections included, no biases, delta synapses: a spike adds its weight to V) ->
10 leaky non-spiking readouts. Hidden, in snnTorch's order:
V(t) = exp(-dt/tau) V(t-1) + W_in x(t) + W_rec s(t-1) - s(t-1), tau = 20 ms; spike
s(t) = H(V(t) - 1), so the reset subtracts the threshold after the decay (jaxsnn's own
`ResetBySubtraction` subtracts it before; `SubtractAfterDecay` below gives snnTorch's);
no gradient through the reset; fast-sigmoid surrogate 1 / (25 |V - 1| + 1)^2. Readout:
U <- exp(-dt/tau) U + W_out s(t), same tau. Logits: U averaged over the T steps (as
`jaxsnn.training`'s default `MeanOverTime`). Loss: softmax cross-entropy; Adam (b1 0.9,
b2 0.999, eps 1e-8), learning rate 2e-3, batch 64, a fixed number of steps. Initial
weights: Normal(0, scale/sqrt(fan_in)) with scales 3 (input), 0.5 (recurrent), 1
(output), drawn once with NumPy.

Reported per tool: seconds per training step (forward + backward + Adam, batch gather
included; median after two warm-up steps), the first step minus a warm one (`compile_s`:
jaxsnn's and Spyx's XLA compilation; snnTorch and Norse are eager, theirs is PyTorch's
first-call set-up), peak memory (the VmHWM of the tool's own process) and the accuracy on
the 400 test samples after the fixed number of steps (`test_accuracy`; also under the
older key `accuracy`). A tool whose test accuracy stays below `LEARNED` is reported as
not learning and is not used as a timing peer (no ratio against it). As a check that the
networks are the same, every tool computes the initial logits of the first 8 test
samples and the gradient norms of the first step (input, recurrent, output weights); a
peer's record holds the largest logit difference from jaxsnn's
(`initial_logit_max_diff`) and the largest relative difference of the gradient norms
(`initial_grad_norm_max_rel_diff`), jaxsnn's record a dict of both per peer.

jaxsnn side: the hidden layer is a jaxsnn `Network` (a `SpikeInput` and one LIF
`Population`, dense weight matrices, delta synapses) advanced by `jaxsnn.network_step` in
one `lax.scan`, with the readout in the same scan; a training step (gather, vmap over the
batch, BPTT, Adam) is one `eqx.filter_jit`. Propagation is event-driven (`Event()`: on CPU
the native kernel reads only the rows of the neurons that spiked, in the forward pass and
for the weight gradient; the surrogate path `ct @ W.T` stays a dense product); the full
run also trains with `Dense()` (BLAS products throughout) as an ablation, recorded with
mode suffix `-dense` and `event_vs_dense` on the main record.

snnTorch side (installed by `python benchmarks/peers.py install snntorch`), in a
subprocess: nn.Linear(100, 512, bias=False) -> snn.RLeaky(beta, all-to-all recurrent
with its bias fixed at zero, subtract reset, fast_sigmoid(slope=25)) -> nn.Linear(512, 10,
bias=False) -> snn.Leaky(beta, reset_mechanism="none") membrane, mean over time,
CrossEntropyLoss, torch.optim.Adam. It reads the `.npz` with the standard library (the
environment it was written for had no NumPy).

Norse side (`python benchmarks/peers.py install norse`; `t1_norse.py`, whose docstring
says exactly what is Norse's): Norse's cells do not have T1's dynamics (`LIFBoxCell`
integrates with forward Euler and resets to a value or subtracts the threshold before the
decay, with the gradient through the reset; `LIFCell` has a synaptic current), so
the step is plain torch in snnTorch's order and the spike with its surrogate is Norse's
`threshold(x, "super", ...)` (SuperSpike). Norse 1.1.0's SuperSpike ignores its alpha
(its derivative is 1 / (|x| + 1)^2), so the slope 25 enters through the argument with a
unit derivative, which gives exactly 1 / (25 |V - 1| + 1)^2. torch.optim.Adam.

Spyx side (`python benchmarks/peers.py install spyx`; `t1_spyx.py`): Spyx 1.0 on
flax.nnx: `nnx.Linear` -> Spyx's `RLIF` (its step with the reset taken out of the
gradient) -> `nnx.Linear` -> Spyx's `LI`, run by `spyx.nn.run` (one `lax.scan`) with
`spyx.axn.superspike(k=25)`, whose surrogate is T1's fast sigmoid; optax's Adam; one
`jax.jit` per training step. A Spyx neuron emits the spike of its potential before the
step, one step after snnTorch would, so the script runs T + 1 steps (one of zero input)
and averages the readout over the last T, which are snnTorch's T readout values.

Sizes: full: 400 training steps (20 timed), plus the jaxsnn-only timing and memory case
T = 1000, 1000 hidden, batch 64 (Randman with 1000 steps, 20 samples per class), with and
without `jax.checkpoint`, each in its own process; it takes 5 steps, so its
`test_accuracy` is that of a barely trained network. quick: 128 hidden, T = 100, batch
32, 150 steps (5 timed), no T = 1000 case: about 25 s on 2 cores for all four tools.

Usage: `python benchmarks/t1_training.py [--quick]`; `run(quick)` returns records in the
schema of benchmarks/README.md (`run.py` imports this module).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
from peer_process import peak_mb

import jaxsnn
from jaxsnn.datasets import randman_task

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402

DT_MS = 1.0
TAU_MS = 20.0
N_CLASSES = 10
N_IN = 100
LEARNING_RATE = 2e-3
SCALES = {"w_in": 3.0, "w_rec": 0.5, "w_out": 1.0}
# three times chance: below this a tool is said not to learn
LEARNED = 3.0 / N_CLASSES
N_CHECK = 8  # test samples whose initial logits both tools compute


@dataclass(frozen=True)
class Size:
    n_hidden: int
    n_steps: int
    batch: int
    train_steps: int
    repeats: int
    samples_per_class: int = 200

    @property
    def mode(self) -> str:
        return f"randman-T{self.n_steps}-h{self.n_hidden}-b{self.batch}"


FULL = Size(n_hidden=512, n_steps=200, batch=64, train_steps=400, repeats=20)
QUICK = Size(n_hidden=128, n_steps=100, batch=32, train_steps=150, repeats=5)
LONG = Size(n_hidden=1000, n_steps=1000, batch=64, train_steps=5, repeats=3, samples_per_class=20)


def make_problem(size: Size, seed: int = 0) -> dict[str, np.ndarray]:
    """Data, initial weights and minibatch indices, shared by every tool."""
    data = randman_task(
        jr.key(0),
        n_classes=N_CLASSES,
        n_units=N_IN,
        n_steps=size.n_steps,
        dim_manifold=1,
        n_samples_per_class=size.samples_per_class,
    )
    rng = np.random.default_rng(seed)
    fan_in = {"w_in": N_IN, "w_rec": size.n_hidden, "w_out": size.n_hidden}
    shapes = {
        "w_in": (N_IN, size.n_hidden),
        "w_rec": (size.n_hidden, size.n_hidden),
        "w_out": (size.n_hidden, N_CLASSES),
    }
    problem = {
        name: (rng.standard_normal(shapes[name]) * SCALES[name] / np.sqrt(fan_in[name])).astype(
            np.float32
        )
        for name in shapes
    }
    # uint8 rasters keep the file small; both tools convert to float32
    for split in ("train", "test"):
        x, y = data[split]
        problem[f"{split}_x"] = np.asarray(x).astype(np.uint8)
        problem[f"{split}_y"] = np.asarray(y).astype(np.int64)
    n_train = problem["train_y"].shape[0]
    per_epoch = n_train // size.batch
    epochs = -(-size.train_steps // per_epoch)
    order = np.concatenate(
        [rng.permutation(n_train)[: per_epoch * size.batch] for _ in range(epochs)]
    )
    problem["batches"] = order.reshape(-1, size.batch)[: size.train_steps].astype(np.int64)
    return problem


class SubtractAfterDecay(jaxsnn.AbstractReset):
    """Reset by subtraction in snnTorch's order: the threshold is subtracted at the next
    step, after the decay, so V(t+1) = beta V(t) + input - v_th s(t). Subtracting
    v_th / beta right after the spike gives the same V after the next decay (jaxsnn's
    `ResetBySubtraction` subtracts before the decay, i.e. only beta v_th)."""

    decay: float

    def __call__(self, v, spikes, spikes_reset, *, v_th_mv, v_reset_mv):
        return v - spikes_reset * (v_th_mv - v_reset_mv) / self.decay


class T1Model(eqx.Module):
    """Recurrent LIF hidden layer (a jaxsnn Network) and a leaky non-spiking readout."""

    network: jaxsnn.Network
    w_out: jax.Array
    checkpoint: bool = eqx.field(static=True, default=False)

    def logits(self, spikes_in: jax.Array) -> tuple[jax.Array, jax.Array]:
        """Readout potentials averaged over time for input spikes (T, N_IN); also the
        hidden layer's spike count."""
        beta = float(np.exp(-DT_MS / TAU_MS))
        net = self.network
        state = jaxsnn.init_state(net, dtype=self.w_out.dtype)

        def step(carry, x_t):
            state, u, count = carry
            state, _ = jaxsnn.network_step(net, state, {"in": x_t}, dt_ms=DT_MS, key=jr.key(0))
            u = beta * u + state.spikes @ self.w_out
            return (state, u, count + jnp.sum(state.spikes)), u

        if self.checkpoint:
            step = jax.checkpoint(step)
        zero = jnp.zeros((), self.w_out.dtype)
        carry = (state, jnp.zeros((self.w_out.shape[1],), self.w_out.dtype), zero)
        (_, _, count), us = jax.lax.scan(step, carry, spikes_in)
        return jnp.mean(us, axis=0), count


def build_t1(
    problem: dict[str, np.ndarray], checkpoint: bool = False, dense: bool = False
) -> T1Model:
    """The T1 network with the problem's initial weights; event-driven propagation
    (`Event()`), or with `dense` the BLAS matrix products (`Dense()`)."""
    propagation = jaxsnn.Dense() if dense else jaxsnn.Event()
    n_hidden = problem["w_rec"].shape[0]
    neuron = jaxsnn.LIF(
        tau_mem_ms=TAU_MS,
        v_th_mv=1.0,
        v_reset_mv=0.0,
        reset=SubtractAfterDecay(float(np.exp(-DT_MS / TAU_MS))),
        surrogate=jaxsnn.FastSigmoid(25.0),
    )
    hidden = jaxsnn.Population("H", n_hidden, neuron)
    inp = jaxsnn.SpikeInput("in", N_IN)
    zero = jaxsnn.Constant(0.0)  # replaced by the shared weights below
    projections = [
        jaxsnn.connect(
            inp,
            hidden,
            jaxsnn.AllToAll(),
            zero,
            key=jr.key(0),
            layout="dense",
            propagation=propagation,
        ),
        jaxsnn.connect(
            hidden,
            hidden,
            jaxsnn.AllToAll(allow_self=True),
            zero,
            key=jr.key(0),
            layout="dense",
            propagation=propagation,
        ),
    ]
    net = jaxsnn.Network([hidden], projections, [inp])
    net = eqx.tree_at(
        lambda n: (n.projections[0].weights, n.projections[1].weights),
        net,
        (jnp.asarray(problem["w_in"]), jnp.asarray(problem["w_rec"])),
    )
    return T1Model(net, jnp.asarray(problem["w_out"]), checkpoint)


def _loss(model, x, y):
    logits, counts = jax.vmap(model.logits)(x)
    loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    return loss, counts


@eqx.filter_jit
def t1_step(model, opt_state, train_x, train_y, idx, *, optimizer):
    """One training step: gather the batch, vmapped forward, BPTT, Adam (one JIT region)."""
    x = train_x[idx].astype(model.w_out.dtype)
    y = train_y[idx]
    params, static = eqx.partition(model, eqx.is_inexact_array)

    def loss_fn(params):
        return _loss(eqx.combine(params, static), x, y)

    (loss, counts), grads = eqx.filter_value_and_grad(loss_fn, has_aux=True)(params)
    with jax.numpy_dtype_promotion("standard"):
        updates, opt_state = optimizer.update(grads, opt_state, params)
    model = eqx.combine(eqx.apply_updates(params, updates), static)
    rate_hz = jnp.mean(counts) / (model.network.n_neurons * x.shape[1] * DT_MS * 1e-3)
    return model, opt_state, loss, rate_hz


@eqx.filter_jit
def _logits(model, x):
    return jax.vmap(model.logits)(x.astype(model.w_out.dtype))[0]


@eqx.filter_jit
def _grad_norms(model, x, y):
    """Norms of the loss gradient for the input, recurrent and output weights."""
    grads = eqx.filter_grad(lambda m: _loss(m, x.astype(m.w_out.dtype), y)[0])(model)
    w_in, w_rec = (p.weights for p in grads.network.projections)
    return jnp.stack([jnp.linalg.norm(w) for w in (w_in, w_rec, grads.w_out)])


def held_out_accuracy(model, test_x: np.ndarray, test_y: np.ndarray, chunk: int = 100) -> float:
    hits = 0
    for i in range(0, len(test_y), chunk):
        z = _logits(model, jnp.asarray(test_x[i : i + chunk]))
        hits += int(jnp.sum(jnp.argmax(z, -1) == jnp.asarray(test_y[i : i + chunk])))
    return hits / len(test_y)


def _record(tool: str, size: Size, **extra) -> dict:
    return {
        "workload": "T1",
        "tool": tool,
        "mode": size.mode,
        "compile_s": None,
        "run_s": None,
        "peak_mem_mb": None,
        "rate_hz": None,
        "n_trials": size.batch,
        "repeats": size.repeats,
        "n_steps": size.n_steps,
        "n_neurons": size.n_hidden,
        "train_steps": size.train_steps,
        "learning_rate": LEARNING_RATE,
        "test_accuracy": None,
        "accuracy": None,
        "learned": None,
        **extra,
    }


def bench_jaxsnn(
    problem: dict[str, np.ndarray],
    size: Size,
    checkpoint: bool = False,
    grads: bool = True,
    dense: bool = False,
) -> dict:
    """Train jaxsnn's T1 network for `size.train_steps` steps, timing `size.repeats`;
    with `grads`, also the first batch's gradient norms that the peers are checked
    against."""
    model = build_t1(problem, checkpoint, dense)
    initial = np.asarray(_logits(model, jnp.asarray(problem["test_x"][:N_CHECK])))
    grad_norms = None
    if grads:
        first = problem["batches"][0]
        x0, y0 = jnp.asarray(problem["train_x"][first]), jnp.asarray(problem["train_y"][first])
        grad_norms = np.asarray(_grad_norms(model, x0, y0)).tolist()
    optimizer = optax.adam(LEARNING_RATE)
    with jax.numpy_dtype_promotion("standard"):
        opt_state = optimizer.init(eqx.filter(model, eqx.is_inexact_array))
    train_x, train_y = jnp.asarray(problem["train_x"]), jnp.asarray(problem["train_y"])
    batches = jnp.asarray(problem["batches"])
    times, rates = [], []
    for i in range(size.train_steps):
        t0 = time.perf_counter()
        model, opt_state, loss, rate = t1_step(
            model, opt_state, train_x, train_y, batches[i], optimizer=optimizer
        )
        jax.block_until_ready(loss)
        times.append(time.perf_counter() - t0)
        rates.append(float(rate))
    timed = times[2 : 2 + size.repeats]
    acc = held_out_accuracy(model, problem["test_x"], problem["test_y"])
    mode = size.mode + ("-checkpoint" if checkpoint else "") + ("-dense" if dense else "")
    return _record(
        "jaxsnn",
        size,
        mode=mode,
        compile_s=times[0] - times[1],
        run_s=statistics.median(timed),
        repeats=len(timed),
        peak_mem_mb=peak_mb(),
        rate_hz=float(np.mean(rates[2 : 2 + size.repeats])),
        test_accuracy=acc,
        accuracy=acc,
        learned=acc >= LEARNED,
        final_loss=float(loss),
        initial_logits=initial.tolist(),
        initial_grad_norms=grad_norms,
        note=f"seconds per training step (forward+backward+Adam), median; test accuracy "
        f"on {len(problem['test_y'])} samples after {size.train_steps} steps",
    )


SNNTORCH_SCRIPT = r"""
import ast, json, resource, statistics, sys, time, zipfile
import torch, torch.nn as nn
import snntorch as snn
from snntorch import surrogate

path, repeats, lr, n_check = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
DTYPES = {"<f4": torch.float32, "<i8": torch.int64, "|u1": torch.uint8}

def load_npz(path):
    # .npy: magic, version, header length, a dict literal, then C-order data
    out = {}
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            raw = z.read(name)
            major = raw[6]
            n = int.from_bytes(raw[8:10] if major == 1 else raw[8:12], "little")
            start = (10 if major == 1 else 12) + n
            head = ast.literal_eval(raw[(10 if major == 1 else 12):start].decode("latin1"))
            assert not head["fortran_order"], name
            t = torch.frombuffer(bytearray(raw[start:]), dtype=DTYPES[head["descr"]])
            out[name[:-4]] = t.reshape(head["shape"])
    return out

p = load_npz(path)
n_in, n_hidden = p["w_in"].shape
n_out = p["w_out"].shape[1]
beta = float(torch.exp(torch.tensor(-1.0 / 20.0, dtype=torch.float64)))

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(n_in, n_hidden, bias=False)
        self.lif = snn.RLeaky(beta=beta, linear_features=n_hidden, threshold=1.0,
                              spike_grad=surrogate.fast_sigmoid(slope=25),
                              reset_mechanism="subtract")
        self.fc2 = nn.Linear(n_hidden, n_out, bias=False)
        self.out = snn.Leaky(beta=beta, reset_mechanism="none")
        with torch.no_grad():
            self.fc1.weight.copy_(p["w_in"].T)
            self.lif.recurrent.weight.copy_(p["w_rec"].T)
            self.lif.recurrent.bias.zero_()
            self.fc2.weight.copy_(p["w_out"].T)
        self.lif.recurrent.bias.requires_grad_(False)
    def forward(self, x):  # x: (T, batch, n_in)
        spk, mem = self.lif.init_rleaky()
        mem2 = self.out.init_leaky()
        total, count = 0.0, 0.0
        for t in range(x.shape[0]):
            spk, mem = self.lif(self.fc1(x[t]), spk, mem)
            _, mem2 = self.out(self.fc2(spk), mem2)
            total = total + mem2
            count = count + spk.detach().sum()
        return total / x.shape[0], count

def peak_mb():
    # VmHWM, not ru_maxrss: the latter is inherited from the parent across fork and exec
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

net = Net()
with torch.no_grad():
    initial = net(p["test_x"][:n_check].float().transpose(0, 1))[0].tolist()
opt = torch.optim.Adam([q for q in net.parameters() if q.requires_grad], lr=lr)
lossf = nn.CrossEntropyLoss()
train_x, train_y, batches = p["train_x"], p["train_y"], p["batches"]
times, rates = [], []
for i in range(batches.shape[0]):
    t0 = time.perf_counter()
    idx = batches[i]
    x = train_x[idx].float().transpose(0, 1)
    out, count = net(x)
    loss = lossf(out, train_y[idx])
    opt.zero_grad(); loss.backward()
    if i == 0:
        grad_norms = [float(w.grad.norm()) for w in
                      (net.fc1.weight, net.lif.recurrent.weight, net.fc2.weight)]
    opt.step()
    times.append(time.perf_counter() - t0)
    rates.append(float(count) / (n_hidden * x.shape[1] * x.shape[0] * 1e-3))
with torch.no_grad():
    hits = 0
    for j in range(0, p["test_y"].shape[0], 100):
        z, _ = net(p["test_x"][j:j + 100].float().transpose(0, 1))
        hits += int((z.argmax(1) == p["test_y"][j:j + 100]).sum())
timed = times[2:2 + repeats]
print(json.dumps({"run_s": statistics.median(timed), "first_s": times[0], "warm_s": times[1],
                  "repeats": len(timed), "rate_hz": sum(rates[2:2 + repeats]) / len(timed),
                  "peak_mem_mb": peak_mb(),
                  "accuracy": hits / p["test_y"].shape[0], "final_loss": float(loss),
                  "initial_logits": initial, "initial_grad_norms": grad_norms,
                  "versions": f"snnTorch {snn.__version__}, torch {torch.__version__} "
                              f"({torch.get_num_threads()} threads)"}))
"""


HERE = os.path.dirname(os.path.abspath(__file__))
# tool -> its script beside this file (None: SNNTORCH_SCRIPT, written to a temporary
# file), run by the tool's own interpreter as `script NPZ REPEATS LEARNING_RATE N_CHECK`
PEER_SCRIPTS = {
    "snntorch": None,
    "norse": os.path.join(HERE, "t1_norse.py"),
    "spyx": os.path.join(HERE, "t1_spyx.py"),
}
# what the first step holds beyond a warm one, per tool
FIRST_STEP = {
    "snntorch": "eager: the first step has only PyTorch's first-call set-up",
    "norse": "eager: the first step has only PyTorch's first-call set-up",
    "spyx": "the first step includes XLA compilation of the jitted training step",
}


def bench_peer(tool: str, python: str | None, npz: str, size: Size) -> dict:
    """A peer's T1 run in a subprocess (its own environment) on the shared problem."""
    record = _record(tool, size)
    if not python or not os.path.exists(python):
        record["note"] = (
            f"skipped: {tool} not installed (python benchmarks/peers.py install {tool})"
        )
        return record
    script = PEER_SCRIPTS[tool]
    inline = script is None
    if inline:
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
            f.write(SNNTORCH_SCRIPT)
            script = f.name
    try:
        args = [python, "-W", "ignore", script, npz, str(size.repeats), str(LEARNING_RATE)]
        proc = subprocess.run([*args, str(N_CHECK)], capture_output=True, text=True, timeout=7200)
    finally:
        if inline:
            os.unlink(script)
    if proc.returncode != 0:
        record["note"] = f"failed: {proc.stderr.strip().splitlines()[-1:]}"
        return record
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    acc = out["accuracy"]
    record.update(
        run_s=out["run_s"],
        compile_s=out["first_s"] - out["warm_s"],
        repeats=out["repeats"],
        peak_mem_mb=out["peak_mem_mb"],
        rate_hz=out["rate_hz"],
        test_accuracy=acc,
        accuracy=acc,
        learned=acc >= LEARNED,
        final_loss=out["final_loss"],
        initial_logits=out["initial_logits"],
        initial_grad_norms=out["initial_grad_norms"],
        note=f"{out['versions']}; seconds per training step, median; test accuracy after "
        f"{size.train_steps} steps; compile_s: {FIRST_STEP[tool]}",
    )
    return record


def _default_python(tool: str) -> str | None:
    python = peers.interpreter(tool)
    return None if python is None else str(python)


def _agreement(ours: dict, peer: dict) -> None:
    """Record how far a peer's initial logits and first gradients are from jaxsnn's."""
    theirs = peer.pop("initial_logits", None)
    if theirs is not None:
        diff = float(np.max(np.abs(np.asarray(ours["initial_logits"]) - np.asarray(theirs))))
        peer["initial_logit_max_diff"] = diff
        ours.setdefault("initial_logit_max_diff", {})[peer["tool"]] = diff
    norms = peer.get("initial_grad_norms")
    if norms is not None:
        a, b = np.asarray(ours["initial_grad_norms"]), np.asarray(norms)
        rel = float(np.max(np.abs(a - b) / np.abs(a)))
        peer["initial_grad_norm_max_rel_diff"] = rel
        ours.setdefault("initial_grad_norm_max_rel_diff", {})[peer["tool"]] = rel


def run(quick: bool, pythons: dict[str, str] | None = None) -> list[dict]:
    """All T1 records (benchmarks/README.md schema): jaxsnn, snnTorch, Norse and Spyx in one
    invocation. `pythons` maps a peer to its interpreter (default: peers.interpreter)."""
    size = QUICK if quick else FULL
    pythons = pythons or {}
    with tempfile.TemporaryDirectory() as tmp:
        problem = make_problem(size)
        npz = os.path.join(tmp, "t1_randman.npz")
        np.savez(npz, **problem)
        ours = bench_jaxsnn(problem, size)
        # what event-driven propagation buys: the same training with Dense() products
        ablation = None if quick else bench_jaxsnn(problem, size, grads=False, dense=True)
        del problem
        others = [
            bench_peer(tool, pythons.get(tool) or _default_python(tool), npz, size)
            for tool in PEER_SCRIPTS
        ]
    for peer in others:
        _agreement(ours, peer)
    ours.pop("initial_logits")
    for r in (ours, *others):
        if r["learned"] is False:
            r["note"] += (
                f"; DID NOT LEARN (test accuracy {r['test_accuracy']:.3f} < {LEARNED:.2f}, "
                f"chance {1 / N_CLASSES:.2f}): not a timing peer"
            )
    if ours["learned"]:
        ours["ratio"] = {
            peer["tool"]: peer["run_s"] / ours["run_s"]
            for peer in others
            if peer["run_s"] and peer["learned"]
        }
        goals = {"snntorch": 3.0, "spyx": 1.5}
        met = [ours["ratio"][t] >= g for t, g in goals.items() if t in ours["ratio"]]
        if met:
            ours["target"] = ">= 3x faster per step than snnTorch and >= 1.5x than Spyx"
            ours["target_met"] = all(met)
    records = [ours, *others]
    if ablation is not None:
        ablation.pop("initial_logits")
        ablation["note"] += "; ablation: Dense() propagation (BLAS products) instead of Event()"
        ours["event_vs_dense"] = ablation["run_s"] / ours["run_s"]
        records.append(ablation)
    if not quick:
        for checkpoint in (False, True):
            records.append(_long_in_subprocess(checkpoint))
    return records


def _long_in_subprocess(checkpoint: bool) -> dict:
    """T = 1000, 1000 hidden, batch 64 in a fresh process, so its peak memory is its own."""
    cmd = [sys.executable, os.path.abspath(__file__), "--long"]
    if checkpoint:
        cmd.append("--checkpoint")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        mode = LONG.mode + ("-checkpoint" if checkpoint else "")
        return _record(
            "jaxsnn",
            LONG,
            mode=mode,
            repeats=0,
            note=f"failed: {proc.stderr.strip().splitlines()[-1:]}",
        )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _long(checkpoint: bool) -> dict:
    record = bench_jaxsnn(make_problem(LONG), LONG, checkpoint, grads=False)
    record.pop("initial_logits")
    record.pop("initial_grad_norms")
    record["learned"] = None  # too few steps to say
    record["note"] = (
        f"timing and memory only: {LONG.train_steps} steps, so test_accuracy is that of an "
        "untrained network; seconds per training step, median"
    )
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the small size (well under a minute)")
    for tool in PEER_SCRIPTS:
        parser.add_argument(
            f"--{tool}-python", default=None, help=f"{tool}'s Python (default: peers.py's)"
        )
    parser.add_argument("--long", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--checkpoint", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.long:  # one record as JSON (used by run() in a subprocess)
        print(json.dumps(_long(args.checkpoint)))
        return 0
    pythons = {tool: getattr(args, f"{tool}_python") for tool in PEER_SCRIPTS}
    records = run(args.quick, pythons={k: v for k, v in pythons.items() if v})
    for r in records:
        run_s = "-" if r["run_s"] is None else f"{r['run_s']:.4f} s/step"
        acc = "" if r["test_accuracy"] is None else f"  test accuracy {r['test_accuracy']:.3f}"
        extra = f"  ratio {r['ratio']}" if "ratio" in r else ""
        print(f"{r['tool']:>9} {r['mode']:<36} {run_s}{acc}{extra}  {r.get('note', '')}")
    print(json.dumps(records, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

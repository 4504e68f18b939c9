"""T1 (benchmarks/t1_training.py): the jaxsnn network follows snnTorch's equations exactly,
the shared problem is well formed, and a training step lowers the loss."""

import os
import sys

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import optax

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))

import t1_training as t1  # noqa: E402

TINY = t1.Size(n_hidden=32, n_steps=40, batch=8, train_steps=6, repeats=2, samples_per_class=6)


def _snntorch_equations(problem, x):
    """RLeaky (subtract reset after the decay) -> Leaky readout, mean over time, in NumPy."""
    beta = np.exp(-t1.DT_MS / t1.TAU_MS)
    b, n_steps, _ = x.shape
    mem = np.zeros((b, TINY.n_hidden))
    spk = np.zeros_like(mem)
    u = np.zeros((b, t1.N_CLASSES))
    total = np.zeros_like(u)
    for t in range(n_steps):
        mem = beta * mem + x[:, t] @ problem["w_in"] + spk @ problem["w_rec"] - spk
        spk = (mem > 1.0).astype(float)
        u = beta * u + spk @ problem["w_out"]
        total += u
    return total / n_steps


def test_problem_shapes():
    p = t1.make_problem(TINY)
    n_train = p["train_y"].shape[0]
    assert p["train_x"].shape == (n_train, TINY.n_steps, t1.N_IN)
    assert p["train_x"].dtype == np.uint8 and set(np.unique(p["train_x"])) <= {0, 1}
    assert p["batches"].shape == (TINY.train_steps, TINY.batch)
    assert p["batches"].max() < n_train
    assert p["w_rec"].shape == (TINY.n_hidden, TINY.n_hidden)


def test_network_matches_snntorch_equations():
    p = t1.make_problem(TINY)
    model = t1.build_t1(p)
    x = p["test_x"][:4].astype(np.float32)
    ours = np.asarray(t1._logits(model, jnp.asarray(x)))
    np.testing.assert_allclose(ours, _snntorch_equations(p, x), atol=1e-5)


def test_training_steps_lower_loss():
    p = t1.make_problem(TINY)
    model = t1.build_t1(p)
    optimizer = optax.adam(t1.LEARNING_RATE)
    opt_state = optimizer.init(eqx.filter(model, eqx.is_inexact_array))
    x, y = jnp.asarray(p["train_x"]), jnp.asarray(p["train_y"])
    idx = jnp.asarray(p["batches"][0])
    losses = []
    for _ in range(5):  # the same batch: the loss must fall
        model, opt_state, loss, rate = t1.t1_step(model, opt_state, x, y, idx, optimizer=optimizer)
        losses.append(float(loss))
    assert losses[-1] < losses[0]
    assert float(rate) >= 0.0

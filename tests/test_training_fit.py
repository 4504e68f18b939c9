"""`jaxsnn.training.fit`: the schedule, exact resumption from a checkpoint after a kill,
refusal of corrupt and foreign checkpoints, and argument errors that name the argument.

A toy task keeps every test fast: 48 random rasters of 20 steps and 5 channels, 3
classes, a hidden layer of 12 LIF neurons, batches of 16 (3 steps per epoch, so 10 steps
cross three epoch boundaries and their reshuffles).
"""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
import pytest

import jaxsnn as snn
from jaxsnn.checkpoints import Checkpoint
from jaxsnn.training import feedforward, fit

N, T, N_IN, N_HIDDEN, N_OUT, BATCH = 48, 20, 5, 12, 3, 16
STEPS, EVERY, KILLED_AT = 10, 3, 7
OPTIMIZER = optax.adam(1e-2)  # one object: the compiled step is reused across calls


def toy_data(key=jr.key(0)):
    k1, k2 = jr.split(key)
    spikes = jr.bernoulli(k1, 0.1, (N, T, N_IN)).astype(jnp.float32)
    return spikes, jr.randint(k2, (N,), 0, N_OUT, dtype=jnp.int32)


def toy_classifier(n_hidden=N_HIDDEN, neuron=None):
    kw = {} if neuron is None else {"neuron": neuron}
    return feedforward(jr.key(1), N_IN, n_hidden, N_OUT, **kw)


class Killed(Exception):
    pass


def kill_at(step):
    def callback(done, loss, accuracy):
        if done == step:
            raise Killed(step)

    return callback


def run(path=None, **kw):
    args = dict(key=jr.key(2), optimizer=OPTIMIZER, batch_size=BATCH, steps=STEPS)
    args.update(kw)
    classifier = args.pop("classifier", toy_classifier())
    data = args.pop("data", toy_data())
    return fit(classifier, data, checkpoint_path=path, **args)


def leaves_equal(a, b):
    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    assert len(la) == len(lb)
    for x, y in zip(la, lb, strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


@pytest.fixture(scope="module")
def uninterrupted():
    return run()


@pytest.fixture()
def killed_checkpoint(tmp_path):
    """A run killed after KILLED_AT steps, checkpointing every EVERY steps."""
    path = tmp_path / "run.jaxsnn"
    with pytest.raises(Killed):
        run(path, checkpoint_every=EVERY, callback=kill_at(KILLED_AT))
    return path


def test_the_loss_falls_and_every_step_is_recorded(uninterrupted):
    assert uninterrupted.losses.shape == uninterrupted.accuracies.shape == (STEPS,)
    assert np.all(np.asarray(uninterrupted.losses) > 0)
    assert uninterrupted.resumed_from == 0
    # random labels, but 48 samples and 12 neurons: ten Adam steps fit some of them
    assert float(uninterrupted.losses[-3:].mean()) < float(uninterrupted.losses[:3].mean())


def test_epochs_count_whole_passes():
    result = run(steps=None, epochs=2)
    assert result.losses.shape == (2 * (N // BATCH),)


def test_a_killed_run_resumed_ends_bit_identical(uninterrupted, killed_checkpoint):
    saved = snn.load(killed_checkpoint)
    assert isinstance(saved, Checkpoint)
    # the kill came after step 7, the last checkpoint before it is step 6
    assert int(saved.step) == (KILLED_AT // EVERY) * EVERY
    # a fresh call, with a classifier and optimiser built anew as a new process would
    resumed = fit(
        toy_classifier(),
        toy_data(),
        key=jr.key(2),
        optimizer=optax.adam(1e-2),
        batch_size=BATCH,
        steps=STEPS,
        checkpoint_path=killed_checkpoint,
        checkpoint_every=EVERY,
    )
    assert resumed.resumed_from == int(saved.step)
    leaves_equal(resumed.classifier, uninterrupted.classifier)
    leaves_equal(resumed.opt_state, uninterrupted.opt_state)
    np.testing.assert_array_equal(resumed.losses, uninterrupted.losses)
    np.testing.assert_array_equal(resumed.accuracies, uninterrupted.accuracies)
    # and the final checkpoint holds the finished run
    final = snn.load(killed_checkpoint)
    assert int(final.step) == STEPS
    leaves_equal(final.model, uninterrupted.classifier)


def test_a_finished_checkpoint_returns_without_training(uninterrupted, tmp_path):
    path = tmp_path / "done.jaxsnn"
    run(path)
    again = run(path, callback=kill_at(1))  # a step would raise
    assert again.resumed_from == STEPS
    leaves_equal(again.classifier, uninterrupted.classifier)


def test_resume_false_starts_afresh(uninterrupted, killed_checkpoint):
    killed_checkpoint.write_bytes(b"not a checkpoint")
    result = run(killed_checkpoint, resume=False)
    assert result.resumed_from == 0
    leaves_equal(result.classifier, uninterrupted.classifier)
    assert int(snn.load(killed_checkpoint).step) == STEPS


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[: len(b) // 2],  # a partial write (of a copy: ours are atomic)
        lambda b: b"",
        lambda b: b[: len(b) // 2] + bytes([b[len(b) // 2] ^ 0xFF]) + b[len(b) // 2 + 1 :],
    ],
    ids=["truncated", "empty", "bit-flipped"],
)
def test_a_corrupt_checkpoint_is_refused(killed_checkpoint, damage):
    killed_checkpoint.write_bytes(damage(killed_checkpoint.read_bytes()))
    with pytest.raises(ValueError, match="checkpoint_path .* (not a complete|cannot be read)"):
        run(killed_checkpoint, checkpoint_every=EVERY)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"classifier": toy_classifier(n_hidden=N_HIDDEN + 4)}, r"weights.*\(5, 12\).*\(5, 16\)"),
        ({"classifier": toy_classifier(neuron=snn.AdaptiveLIF())}, "does not fit this model"),
        ({"optimizer": optax.sgd(1e-2)}, "does not fit this model and optimiser"),
        ({"batch_size": 8}, "batch_size is 16 there and 8 here"),
        ({"steps": 12}, "steps is 10 there and 12 here"),
        ({"key": jr.key(3)}, "another key"),
        ({"data": toy_data(jr.key(9))}, "the training data differ"),
    ],
    ids=["hidden-size", "neuron-model", "optimizer", "batch-size", "steps", "key", "data"],
)
def test_a_checkpoint_of_another_run_is_refused(killed_checkpoint, change, message):
    with pytest.raises(ValueError, match=message):
        run(killed_checkpoint, checkpoint_every=EVERY, **change)


@pytest.mark.parametrize(
    ("change", "name"),
    [
        ({"steps": 5, "epochs": 1}, "exactly one of epochs and steps"),
        ({"steps": None}, "exactly one of epochs and steps"),
        ({"steps": 0}, "steps must be >= 1"),
        ({"steps": None, "epochs": 1.5}, "epochs must be an integer"),
        ({"batch_size": 0}, "batch_size must be >= 1"),
        ({"batch_size": N + 1}, "batch_size must be <= the 48"),
        ({"checkpoint_every": 2}, "checkpoint_every needs a checkpoint_path"),
        ({"optimizer": "adam"}, "optimizer must be an optax"),
        ({"key": 0}, "key must be one PRNG key"),
        ({"resume": "yes"}, "resume must be True or False"),
        ({"callback": 3}, "callback must be callable"),
        ({"classifier": "net"}, "classifier must be a Classifier"),
        ({"data": toy_data()[0]}, "train_data must be a pair"),
        ({"data": (toy_data()[0][:, :, :4], toy_data()[1])}, r"spikes must have shape"),
        ({"data": (toy_data()[0], toy_data()[1][:10])}, r"labels must be integers of shape"),
        ({"data": (toy_data()[0], toy_data()[1] + 3)}, r"labels must lie in \[0, 3\)"),
        ({"data": (toy_data()[0][:0], toy_data()[1][:0])}, "at least one sample"),
    ],
)
def test_bad_arguments_are_named(change, name):
    with pytest.raises(ValueError, match=name):
        run(**change)

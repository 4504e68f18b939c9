"""`jaxsnn.training.classifier` and the tasks it is trained on: the builder's network,
the readout conventions against closed forms, batching and unit-scaling equivalences,
the gradient against finite differences, bad input, and training to accuracy on
Yin-Yang and Randman (short runs here, five seeds in the slow suite).

Published figures for Yin-Yang (test accuracy, mean ± std; lkriener/yin_yang_data_set
README, "Reference results", 20 trainings, 300 epochs): ANN 4-30-3 97.6 ± 1.5 %, ANN
with frozen lower weights 85.5 ± 5.8 %, shallow network (no hidden layer) 63.8 ± 1.0 %.
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
import pytest

import jaxsnn as snn
from jaxsnn.datasets import randman_task, yin_yang_task
from jaxsnn.training import (
    Classifier,
    MaxOverTime,
    MeanOverTime,
    accuracy,
    cross_entropy,
    feedforward,
    fit,
    logits,
    seeds_summary,
)

SHALLOW_YIN_YANG = 0.638  # published shallow (linear) baseline, see the module docstring
ANN_YIN_YANG = 0.976  # published ANN 4-30-3, std 0.015
# Yin-Yang setting: a 0.5-ms step so that the 15-ms latency code has 31 levels per value
# (at 1 ms the 16 levels cost about two points of accuracy)
YY = {"n_steps": 60, "dt_ms": 0.5, "t_max_ms": 15.0}
N_SEEDS = 5


def small(n_in=4, n_hidden=6, n_out=3, **kw):
    return feedforward(jr.key(0), n_in, n_hidden, n_out, **kw)


def raster(key, shape, p=0.2):
    return jr.bernoulli(key, p, shape).astype(jnp.float32)


# --- the network and the readout -------------------------------------------------------


@pytest.mark.parametrize("recurrent", [False, True])
def test_feedforward_builds_the_stated_network(recurrent):
    clf = small(recurrent=recurrent, neuron=snn.AdaptiveLIF(), input_scale=2.0)
    net = clf.network
    assert [p.name for p in net.populations] == ["hidden", "out"]
    assert isinstance(net.population("hidden").neuron, snn.AdaptiveLIF)
    assert isinstance(net.population("out").neuron, snn.LeakyIntegrator)
    pairs = [(p.pre, p.post) for p in net.projections]
    expected = [("in", "hidden")] + [("hidden", "hidden")] * recurrent + [("hidden", "out")]
    assert pairs == expected
    # every synapse exists, so no gradient needs a mask
    assert all(bool(jnp.all(p.layout.exists())) for p in net.projections)
    assert all(isinstance(p.synapse, snn.ExpCurrent) for p in net.projections)
    trainable = jax.tree.leaves(eqx.filter(clf, eqx.is_inexact_array))
    assert len(trainable) == len(expected)  # the weights, nothing else


def test_initial_weights_have_the_stated_spread():
    clf = feedforward(jr.key(0), 400, 300, 3, input_scale=10.0)
    w = np.asarray(clf.network.projection("in", "hidden").weights)
    # 120 000 draws: the sample std is within 1 % of 10 / sqrt(400) = 0.5 (4 sigma)
    assert abs(w.std() - 0.5) < 0.005 and abs(w.mean()) < 0.01


def test_readouts_are_the_closed_forms():
    v = jnp.asarray([[0.0, 2.0], [3.0, -1.0], [1.0, 0.5]])
    np.testing.assert_array_equal(MaxOverTime()(v), [3.0, 2.0])
    np.testing.assert_allclose(MeanOverTime()(v), [4.0 / 3.0, 1.5 / 3.0], rtol=1e-6)


def test_logits_are_the_readout_of_the_simulated_potential():
    clf = small(readout=MeanOverTime())
    x = raster(jr.key(1), (30, 4))
    _, rec = snn.simulate(
        clf.network,
        snn.init_state(clf.network),
        30,
        dt_ms=1.0,
        inputs={"in": x},
        record=snn.Record(voltages="out"),
    )
    np.testing.assert_array_equal(logits(clf, x), jnp.mean(rec.v["out"], axis=0))


def test_a_batch_is_a_stack_of_single_trials():
    clf = small(recurrent=True)
    xs = raster(jr.key(2), (5, 30, 4))
    batch = jax.vmap(logits, in_axes=(None, 0))(clf, xs)
    single = jnp.stack([logits(clf, x) for x in xs])
    np.testing.assert_allclose(batch, single, rtol=1e-6, atol=1e-6)  # vmap may reorder sums
    labels = jnp.asarray([0, 1, 2, 0, 1], jnp.int32)
    expected = float(np.mean(np.argmax(np.asarray(batch), 1) == np.asarray(labels)))
    assert float(accuracy(clf, xs, labels)) == pytest.approx(expected)


def test_scaling_dt_and_every_time_constant_by_1024_changes_nothing():
    # 1024 is a power of two, so every ratio dt / tau is the same float: a hidden unit
    # (a constant in ms somewhere) would show as a difference
    def build(s):
        lif = snn.LIF(tau_mem_ms=20.0 * s, v_th_mv=1.0, v_reset_mv=0.0, t_ref_ms=2.0 * s)
        return feedforward(
            jr.key(0), 4, 6, 3, neuron=lif, recurrent=True, tau_syn_ms=10.0 * s,
            tau_readout_ms=20.0 * s, dt_ms=1.0 * s, input_scale=20.0,
        )  # fmt: skip

    x = raster(jr.key(3), (40, 4))
    np.testing.assert_array_equal(logits(build(1), x), logits(build(1024), x))


def test_the_gradient_of_the_readout_weights_matches_finite_differences():
    # The readout weights act after the last spiking layer, so the loss is smooth in
    # them (no surrogate involved): central differences of step 1e-2 in float32 agree
    # to about 1e-4 relative (truncation ~ eps², rounding ~ 1e-7 / eps).
    clf = small(n_hidden=8, input_scale=20.0)
    xs = raster(jr.key(4), (6, 30, 4))
    labels = jnp.asarray([0, 1, 2, 2, 1, 0], jnp.int32)
    out = [p.post for p in clf.network.projections].index("out")

    def loss(w):
        c = eqx.tree_at(lambda c: c.network.projections[out].weights, clf, w)
        return cross_entropy(c, xs, labels)[0]

    w = clf.network.projections[out].weights
    grad = jax.grad(loss)(w)
    assert float(jnp.abs(grad).max()) > 1e-3  # the hidden layer spikes: not a zero test
    eps = 1e-2
    for i, j in [(0, 0), (3, 1), (7, 2)]:
        e = jnp.zeros_like(w).at[i, j].set(eps)
        fd = (loss(w + e) - loss(w - e)) / (2 * eps)
        np.testing.assert_allclose(grad[i, j], fd, rtol=2e-3, atol=1e-5)


def test_the_hidden_weights_get_a_surrogate_gradient():
    clf = small(n_hidden=8, input_scale=20.0, recurrent=True)
    xs = raster(jr.key(5), (4, 30, 4))
    labels = jnp.asarray([0, 1, 2, 0], jnp.int32)
    params, static = eqx.partition(clf, eqx.is_inexact_array)
    grads = jax.grad(lambda p: cross_entropy(eqx.combine(p, static), xs, labels)[0])(params)
    for g in jax.tree.leaves(grads):
        assert np.all(np.isfinite(g)) and float(jnp.abs(g).max()) > 0


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"n_in": 0}, "n_in must be >= 1"),
        ({"n_hidden": 2.0}, "n_hidden must be an integer"),
        ({"n_out": 1}, "n_out must be >= 2"),
        ({"neuron": "lif"}, "neuron must be a jaxsnn neuron model"),
        ({"tau_syn_ms": 0.0}, "tau_syn_ms must be > 0"),
        ({"tau_readout_ms": -1.0}, "tau_readout_ms must be > 0"),
        ({"input_scale": float("nan")}, "input_scale must be finite"),
        ({"dt_ms": 0.0}, "dt_ms must be > 0"),
        ({"dt_ms": 2.0}, "dt_ms=2.0 is larger than a tenth"),
        ({"recurrent": 1}, "recurrent must be True or False"),
        ({"readout": "max"}, "readout must be an AbstractReadout"),
    ],
)
def test_bad_builder_arguments_are_named(kw, message):
    with pytest.raises(ValueError, match=message):
        small(**kw)


def test_a_large_step_is_allowed_when_asked():
    clf = small(tau_syn_ms=5.0, allow_large_dt=True)  # SpyTorch's 1-ms step, 5-ms synapse
    assert logits(clf, raster(jr.key(6), (20, 4))).shape == (3,)


def test_a_network_without_the_stages_is_refused():
    net = snn.Network([snn.Population("hidden", 3, snn.LIF())])
    with pytest.raises(ValueError, match=r"it lacks \['in', 'out'\]"):
        Classifier(net)


def test_bad_shapes_are_explained():
    clf = small()
    with pytest.raises(ValueError, match=r"spikes must have shape \(n_steps, 4\)"):
        logits(clf, jnp.zeros((5, 30, 4)))
    with pytest.raises(ValueError, match=r"spikes must have shape \(batch, n_steps, 4\)"):
        accuracy(clf, jnp.zeros((30, 4)), jnp.zeros((30,), jnp.int32))
    with pytest.raises(ValueError, match="labels must be integers"):
        cross_entropy(clf, jnp.zeros((2, 30, 4)), jnp.zeros((2,)))


# --- the tasks -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def yin_yang_data():
    return yin_yang_task(jr.key(0), **YY)


def test_yin_yang_task_codes_each_value_with_one_spike(yin_yang_data):
    data = yin_yang_data
    spikes, labels = data["train"]
    assert spikes.shape == (5000, 60, 5) and labels.shape == (5000,)
    assert data["validation"][0].shape[0] == data["test"][0].shape[0] == 1000
    np.testing.assert_array_equal(spikes.sum(axis=1), 1.0)
    # the bias channel spikes at (1 - 0.6) · 15 ms = 6 ms, step 12, in every sample
    assert bool(jnp.all(spikes[:, 12, 4] == 1.0))
    x = yin_yang_task(jr.key(0), bias=False, **YY)["train"][0]
    assert x.shape[2] == 4


def test_randman_task_holds_out_the_test_fraction():
    data = randman_task(jr.key(0), n_classes=3, n_units=5, n_steps=20, n_samples_per_class=10)
    assert data["train"][0].shape == (24, 20, 5) and data["test"][0].shape == (6, 20, 5)
    with pytest.raises(ValueError, match="test_fraction"):
        randman_task(jr.key(0), test_fraction=1.0)


# --- training to accuracy --------------------------------------------------------------


def train_yin_yang(data, seed, epochs, n_hidden=120):
    """Adam with a cosine decay from 1e-2, batches of 50, the builder's defaults otherwise
    (mean-over-time readout); returns the test accuracy."""
    clf = feedforward(jr.key(seed), 5, n_hidden, 3, dt_ms=YY["dt_ms"])
    schedule = optax.cosine_decay_schedule(1e-2, epochs * (5000 // 50), alpha=0.05)
    result = fit(
        clf, data["train"], key=jr.key(1000 + seed), optimizer=optax.adam(schedule),
        batch_size=50, epochs=epochs,
    )  # fmt: skip
    return float(eqx.filter_jit(accuracy)(result.classifier, *data["test"]))


def test_yin_yang_beats_the_shallow_baseline(yin_yang_data):
    # 15 epochs, 120 hidden LIF neurons: measured 0.947, 0.944, 0.950, 0.941, 0.936 for
    # seeds 1-5, about 10 s on one core (with the data, 15 s). The bound 0.90 is 26 points
    # above the best a network without a hidden layer reaches (0.638 ± 0.010) and leaves
    # the 1000-sample test set's binomial spread (±0.008) and the seeds' spread room.
    acc = train_yin_yang(yin_yang_data, seed=1, epochs=15)
    assert acc > 0.90, acc
    assert acc > SHALLOW_YIN_YANG + 0.25


@pytest.mark.slow
def test_yin_yang_over_five_seeds_approaches_the_ann(yin_yang_data):
    # 40 epochs, 120 hidden LIF neurons (the hidden size of Göltz et al.), seeds 0-4:
    # about 20 s each on one core. Measured 0.962 ± 0.003 (95 % interval of the mean;
    # std 0.002). The interval of the mean must lie above 0.93 and the mean within two published standard deviations
    # (2 · 1.5 %) of the ANN's 97.6 %: a spiking network fed a latency code is expected
    # to come close to the ANN on the same data, not to pass it.
    accs = [train_yin_yang(yin_yang_data, seed, epochs=40) for seed in range(N_SEEDS)]
    summary = seeds_summary(accs)
    print(f"Yin-Yang, LIF 5-120-3, 40 epochs: {summary} (ANN 97.6 ± 1.5 %)")
    assert summary.ci_low > 0.93, (accs, summary)
    assert summary.mean > ANN_YIN_YANG - 2 * 0.015, (accs, summary)


RANDMAN_SMALL = {"n_classes": 10, "n_units": 20, "n_steps": 50, "n_samples_per_class": 100}
RANDMAN_LARGE = {
    "n_classes": 10, "n_units": 20, "n_steps": 100, "n_samples_per_class": 200, "dim_manifold": 2,
}  # fmt: skip
NEURONS = {
    "recurrent-LIF": snn.LIF(tau_mem_ms=20.0, v_th_mv=1.0, v_reset_mv=0.0),
    "recurrent-AdaptiveLIF": snn.AdaptiveLIF(tau_mem_ms=20.0, tau_adapt_ms=100.0, beta_mv=0.2),
}


def train_randman(task, neuron, seed, epochs, n_hidden, batch_size, lr):
    data = randman_task(jr.key(0), **task)
    clf = feedforward(
        jr.key(seed), task["n_units"], n_hidden, task["n_classes"], neuron=neuron,
        recurrent=True,
    )  # fmt: skip
    result = fit(
        clf, data["train"], key=jr.key(1000 + seed), optimizer=optax.adam(lr),
        batch_size=batch_size, epochs=epochs,
    )  # fmt: skip
    return float(eqx.filter_jit(accuracy)(result.classifier, *data["test"]))


@pytest.mark.parametrize("name", NEURONS)
def test_randman_is_learned_by_recurrent_networks(name):
    # 10 classes (chance 0.1), 160 test samples. Measured 1.000 (LIF) and 0.995
    # (AdaptiveLIF) after 10 epochs, a few seconds each. The bound, chance + 0.5, is over
    # 8 binomial standard deviations of the test set (sqrt(0.25/160) = 0.04) away from
    # chance and far below what was measured: it catches a network that does not learn.
    acc = train_randman(RANDMAN_SMALL, NEURONS[name], 1, epochs=10, n_hidden=64,
                        batch_size=25, lr=1e-2)  # fmt: skip
    assert acc > 0.1 + 0.5, acc


@pytest.mark.slow
@pytest.mark.parametrize("name", NEURONS)
def test_randman_over_five_seeds(name):
    # 2-dimensional manifolds, 100 steps, 2000 samples, 20 epochs, seeds 0-4: measured
    # 0.883 ± 0.027 (LIF) and 0.874 ± 0.007 (AdaptiveLIF), 95 % intervals of the mean,
    # about 8 s per seed. The interval of the mean must clear chance (0.1) by 0.5.
    accs = [
        train_randman(
            RANDMAN_LARGE, NEURONS[name], seed, epochs=20, n_hidden=128, batch_size=50, lr=5e-3
        )  # fmt: skip
        for seed in range(N_SEEDS)
    ]
    summary = seeds_summary(accs)
    print(f"Randman (10 classes, 2-D), {name}, 20 epochs: {summary}")
    assert summary.ci_low > 0.6, (accs, summary)
    assert math.isfinite(summary.std)

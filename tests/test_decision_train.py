"""Gradient training of the decision model: gradients against finite differences,
vmap/grad commutation, checkpointing, no retracing, constraints kept by training, compile
time reported apart from run time."""

import time

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
import pytest

from jaxsnn import LIF, Triangle, saves
from jaxsnn.decision import RatePattern, bce_loss, build_decision_model, train, trainable_filter
from jaxsnn.decision.train import run_steps, train_step_impl

TINY = dict(n_exc=16, n_inh=4, n_out=4, n_in=4, window_ms=2.0)


def _tiny(key=0, **kw):
    return build_decision_model(jr.key(key), **(TINY | kw))


def test_grad_matches_central_differences_float64():
    # Smooth quantity: the final sub-threshold voltages of the output population, as a
    # function of the input weights. Inputs are weak (no neuron comes within 0.3 mV of
    # threshold, checked below) and the surrogate is a Triangle of half-width 0.05 mV, so
    # every surrogate derivative is exactly 0 and the true derivative exists: V is linear in
    # the weights through the exact leak, delta jumps and one-step recurrent delay.
    with jax.enable_x64(True):
        neuron = LIF(tau_mem_ms=20.0, v_th_mv=1.0, t_ref_ms=2.0, surrogate=Triangle(0.05))
        model = _tiny(1, neuron=neuron, w_in=0.01, p_in=0.5, dtype=jnp.float64)
        rates = jnp.full((model.n_in,), 400.0, jnp.float64)
        key = jr.key(3)
        idx = [i for i, p in enumerate(model.network.projections) if p.pre == model.input]
        out = model.network.slice(model.output)

        def quantity(ws):
            net = eqx.tree_at(
                lambda n: [n.projections[i].weights for i in idx], model.network, list(ws)
            )
            state, _ = model.with_network(net).run(rates, key)
            return jnp.sum(state.v[out] ** 2) + jnp.sum(state.v)

        ws = [model.network.projections[i].weights for i in idx]
        state, count = model.run(rates, key)
        assert float(count) == 0.0 and float(jnp.max(state.v)) < 0.7
        assert float(jnp.max(state.v)) > 0.0  # the inputs did drive the network
        quantity = jax.jit(quantity)
        grads = jax.grad(quantity)(ws)
        eps = 1e-6
        for j, w in enumerate(ws):
            rows, cols = np.nonzero(np.asarray(w))
            for r, c in list(zip(rows, cols, strict=True))[:6]:
                plus = [x.at[r, c].add(eps) if k == j else x for k, x in enumerate(ws)]
                minus = [x.at[r, c].add(-eps) if k == j else x for k, x in enumerate(ws)]
                fd = (quantity(plus) - quantity(minus)) / (2 * eps)
                # float64 central differences of a quadratic: error ~ 1e-10 relative.
                np.testing.assert_allclose(grads[j][r, c], fd, rtol=1e-6, atol=1e-9)


def _loss_grads(model, rates, labels, keys):
    spec = trainable_filter(model)
    params, static = eqx.partition(model, spec)
    return eqx.filter_grad(lambda p: bce_loss(eqx.combine(p, static), rates, labels, keys))(params)


_loss_grads_jit = eqx.filter_jit(_loss_grads)


def test_vmap_of_grad_equals_grad_of_batch_mean():
    model = _tiny(2, w_in=1.0)
    rates, labels = RatePattern().sample(jr.key(4), 4, model.n_in)
    keys = jr.split(jr.key(5), 4)
    batch = _loss_grads_jit(model, rates, labels, keys)
    one = lambda r, y, k: _loss_grads(model, r[None], y[None], k[None])
    per_example = eqx.filter_jit(jax.vmap(one))(rates, labels, keys)
    mean = jax.tree.map(lambda g: jnp.mean(g, axis=0), per_example)
    leaves_b = jax.tree.leaves(batch)
    leaves_m = jax.tree.leaves(mean)
    assert len(leaves_b) == len(leaves_m) > 0
    assert any(float(jnp.max(jnp.abs(g))) > 0 for g in leaves_b)  # a real gradient
    for gb, gm in zip(leaves_b, leaves_m, strict=True):
        # float32, same operations in a different reduction order: a few ulps.
        np.testing.assert_allclose(gb, gm, rtol=1e-5, atol=1e-7)


def test_checkpoint_on_and_off_give_equal_gradients():
    # same shapes as the vmap test above, so the un-checkpointed gradient is compiled once
    plain = _tiny(2, w_in=1.0)
    ckpt = _tiny(2, w_in=1.0, checkpoint=True)
    assert ckpt.checkpoint and not plain.checkpoint
    rates, labels = RatePattern().sample(jr.key(7), 4, plain.n_in)
    keys = jr.split(jr.key(8), 4)
    g_plain = jax.tree.leaves(_loss_grads_jit(plain, rates, labels, keys))
    g_ckpt = jax.tree.leaves(_loss_grads_jit(ckpt, rates, labels, keys))
    for a, b in zip(g_plain, g_ckpt, strict=True):
        # recomputation repeats the same float32 operations: equal up to fusion differences.
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)


def test_train_step_traces_once_and_keeps_dale_and_sparsity():
    model = _tiny(9, w_in=1.0)
    optimizer = optax.adam(0.5)  # a huge step, so the constraints have work to do
    spec = trainable_filter(model, ["input", "readout"])
    with jax.numpy_dtype_promotion("standard"):  # optax mixes its int32 count with floats
        opt_state = optimizer.init(eqx.filter(model, spec))
    counted = eqx.filter_jit(eqx.debug.assert_max_traces(train_step_impl, max_traces=1))
    before = model
    for i in range(3):
        model, opt_state, loss, acc = counted(
            model,
            opt_state,
            jr.key(i),
            task=RatePattern(),
            optimizer=optimizer,
            filter_spec=spec,
            batch_size=4,
        )
        assert np.isfinite(float(loss)) and 0.0 <= float(acc) <= 1.0
    moved = []
    for p0, p in zip(before.network.projections, model.network.projections, strict=True):
        w = np.asarray(p.weights)
        assert np.all(w[~np.asarray(p0.mask)] == 0.0)  # no synapse appears
        if p.sign > 0:
            assert np.all(w >= 0.0)
        elif p.sign < 0:
            assert np.all(w <= 0.0)
        same = np.array_equal(w, np.asarray(p0.weights))
        if p.pre == "in" or p.post == "out":
            moved.append(not same)
        else:
            assert same, (p.pre, p.post)  # not selected: bit-identical
    # the selected groups moved (a projection whose presynaptic neurons never spiked in
    # these tiny trials has a zero gradient and may legitimately stay)
    assert any(moved)


def test_trainable_groups_select_projections():
    model = _tiny(10)
    spec = trainable_filter(model, ["readout"])
    flags = {
        (p.pre, p.post): s.weights
        for p, s in zip(model.network.projections, spec.network.projections, strict=True)
    }
    assert flags[("E", "out")] and flags[("I", "out")] and flags[("out", "out")]
    assert not flags[("E", "E")] and not flags[("in", "E")] and not flags[("out", "I")]
    assert sum(jax.tree.leaves(spec)) == 3  # nothing but those three weight arrays


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(trainable=["hidden"]), "trainable groups"),
        (dict(steps=0), "steps"),
        (dict(optimizer="adam"), "GradientTransformation"),
    ],
)
def test_train_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        train(_tiny(), RatePattern(), jr.key(0), **kwargs)


# Timing tolerance: what runs outside a function's own clock (argument checks, building
# the result) takes about a millisecond; 0.1 s is slack for a loaded 2-core machine.
OUTSIDE_CLOCK_S = 0.1


def test_train_reports_compile_apart_from_run_and_compiles_once():
    # sizes no other test uses, so the first call compiles whatever ran before it
    model = build_decision_model(jr.key(11), n_exc=19, n_inh=5, n_out=3, n_in=5, window_ms=1.7)
    calls = []
    for _ in range(2):
        t0 = time.perf_counter()
        result = train(model, RatePattern(), jr.key(12), steps=2, batch_size=2)
        calls.append((time.perf_counter() - t0, result))
    (_, first), (_, second) = calls
    assert first.compile_seconds > 0.1  # tracing and compiling the training step
    # the same program (one default optimiser object per learning rate, so the static
    # arguments match): a compiled-program cache hit fires no compile event at all
    assert second.compile_seconds <= 0.01 * first.compile_seconds
    for wall, result in calls:
        assert result.seconds > 0.0
        spent = result.compile_seconds + result.seconds
        assert spent <= wall and wall - spent < OUTSIDE_CLOCK_S


def test_run_steps_counts_each_recompile_as_compile_and_the_rest_as_run():
    pause_s = 0.02
    double = jax.jit(lambda x: 2.0 * x)

    def step(i):
        time.sleep(pause_s)  # run time that no compile event covers
        x = double(jnp.ones(i + 1))  # a new shape on every step: a compile every step
        return jnp.sum(x), jnp.mean(x)

    t0 = time.perf_counter()
    losses, _, seconds, compile_s = run_steps(step, 3)
    wall = time.perf_counter() - t0
    np.testing.assert_allclose(losses, [2.0, 4.0, 6.0])
    assert compile_s > 0.0 and seconds >= 3 * pause_s
    assert compile_s + seconds <= wall and wall - (compile_s + seconds) < OUTSIDE_CLOCK_S


class _Killed(Exception):
    pass


def _kill_after(n):
    def callback(i, loss, accuracy):
        if i + 1 == n:
            raise _Killed  # as if the process died right after step n and its checkpoint

    return callback


def test_a_killed_run_resumed_from_its_checkpoint_ends_with_the_same_weights(tmp_path):
    kwargs = dict(steps=5, batch_size=2, checkpoint_every=2)
    whole = train(_tiny(), RatePattern(), jr.key(3), **kwargs)
    path = tmp_path / "run.ckpt"
    with pytest.raises(_Killed):  # killed after step 3: the file holds step 2
        train(_tiny(), RatePattern(), jr.key(3), checkpoint=path, callback=_kill_after(3),
              **kwargs)  # fmt: skip
    resumed = train(_tiny(), RatePattern(), jr.key(3), checkpoint=path, **kwargs)
    for a, b in zip(jax.tree.leaves(eqx.filter(whole.model, eqx.is_array)),
                    jax.tree.leaves(eqx.filter(resumed.model, eqx.is_array)), strict=True):  # fmt: skip
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(whole.losses, resumed.losses)
    assert resumed.losses.shape == (5,)
    # the finished file holds the final state: a longer run continues from it
    longer = train(_tiny(), RatePattern(), jr.key(3), checkpoint=path, **(kwargs | dict(steps=6)))
    np.testing.assert_array_equal(longer.losses[:5], whole.losses)


@pytest.mark.parametrize(
    "change, match",
    [
        (dict(key=jr.key(4)), "another key"),
        (dict(batch_size=3), "batch_size is 2 there and 3 here"),
        (dict(learning_rate=1e-2), "learning_rate"),
        (dict(model=_tiny(n_exc=20)), "shape"),
        (dict(steps=1), "more than steps=1"),
    ],
)
def test_a_checkpoint_of_another_run_is_refused(tmp_path, change, match):
    path = tmp_path / "run.ckpt"
    base = dict(model=_tiny(), key=jr.key(3), steps=2, batch_size=2)
    train(base["model"], RatePattern(), base["key"], steps=2, batch_size=2, checkpoint=path)
    args = base | change
    with pytest.raises(ValueError, match=match):
        train(args.pop("model"), RatePattern(), args.pop("key"), checkpoint=path, **args)


def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path):
    path = tmp_path / "run.ckpt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a complete checkpoint"):
        train(_tiny(), RatePattern(), jr.key(3), steps=2, batch_size=2, checkpoint=path)
    train(
        _tiny(), RatePattern(), jr.key(3), steps=2, batch_size=2, checkpoint=path.with_suffix(".ok")
    )
    damaged = path.with_suffix(".ok").read_bytes()
    path.write_bytes(damaged[: len(damaged) // 2])  # cut short
    with pytest.raises(ValueError, match="not a complete checkpoint|cannot be read"):
        train(_tiny(), RatePattern(), jr.key(3), steps=2, batch_size=2, checkpoint=path)
    saves.save(path, _tiny())  # a save, but of a model
    with pytest.raises(ValueError, match="not a training checkpoint"):
        train(_tiny(), RatePattern(), jr.key(3), steps=2, batch_size=2, checkpoint=path)

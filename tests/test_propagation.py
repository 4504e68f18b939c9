"""Propagation strategies: Event() equals the full product (Dense / Scatter) in value,
under vmap and in its derivatives, at spike counts that hit every bucket."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from jaxsnn import (
    AbsNormal,
    Dense,
    Event,
    FixedProbability,
    Network,
    Population,
    Record,
    Scatter,
    SpikeInput,
    connect,
    init_state,
    simulate,
)
from jaxsnn._event import _compact
from jaxsnn.layout import DenseLayout, SparseLayout
from jaxsnn.neurons import LIF

N_PRE, N_POST = 300, 70
# Small buckets so that small arrays reach every branch: 0 events, each bucket
# (1-2, 3-8, 9-32, 33-64) and the full product (> 64).
BUCKETS = (2, 8, 32, 64)
COUNTS = (0, 1, 2, 3, 8, 9, 32, 33, 64, 65, N_PRE)


def event_drive(weights, targets, s, n_post, buckets, native=True):
    """`Event` on raw arrays: ELL weights with targets, or dense weights (targets None)."""
    n_pre = weights.shape[0]
    layout = DenseLayout(n_pre, n_post) if targets is None else SparseLayout(n_pre, n_post, targets)
    return Event(buckets, native)(weights, layout, s)


@pytest.fixture(params=[True, False], ids=["native", "pure-jax"])
def native(request):
    """Each `Event` test runs on the native CPU kernel and on the pure-JAX path (which
    GPUs use): both must equal the independent truth."""
    return request.param


def drives(event, projections, s):
    """`Event.drives` of projections sharing the signal s (as the engine calls it)."""
    return event.drives([p.weights for p in projections], [p.layout for p in projections], s)


def _ell(seed=0, k=9):
    rng = np.random.default_rng(seed)
    targets = rng.integers(0, N_POST + 1, (N_PRE, k)).astype(np.int32)  # N_POST = padding
    weights = rng.normal(size=(N_PRE, k)).astype(np.float32)
    weights[targets == N_POST] = 0.0
    return jnp.asarray(weights), jnp.asarray(targets)


def _dense_of(weights, targets):
    """Independent truth: the (N_PRE, N_POST) matrix built in NumPy."""
    w = np.zeros((N_PRE, N_POST + 1), np.float64)
    np.add.at(w, (np.arange(N_PRE)[:, None], np.asarray(targets)), np.asarray(weights))
    return w[:, :N_POST]


def _spikes(count, seed=0, batch=None):
    rng = np.random.default_rng(seed + count)
    shape = (N_PRE,) if batch is None else (batch, N_PRE)
    s = np.zeros(shape, np.float32)
    for row in s.reshape(-1, N_PRE):
        row[rng.choice(N_PRE, count, replace=False)] = 1.0
    return jnp.asarray(s)


# float32 sums of up to ~10 terms of O(1): 1e-5 absolute covers reordering.
TOL = dict(rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("sparse", [True, False])
def test_forward_equals_dense_at_every_bucket(sparse, native):
    weights, targets = _ell()
    truth = _dense_of(weights, targets)
    w_arg, t_arg = (weights, targets) if sparse else (jnp.asarray(truth, jnp.float32), None)
    fn = jax.jit(lambda s: event_drive(w_arg, t_arg, s, N_POST, BUCKETS, native))
    for count in COUNTS:
        s = _spikes(count)
        np.testing.assert_allclose(fn(s), np.asarray(s, np.float64) @ truth, **TOL)


def test_graded_spike_values_are_weighted(native):
    weights, targets = _ell()
    s = _spikes(5) * 0.25
    got = jax.jit(lambda x: event_drive(weights, targets, x, N_POST, BUCKETS, native))(s)
    np.testing.assert_allclose(got, np.asarray(s) @ _dense_of(weights, targets), **TOL)


@pytest.mark.parametrize("sparse", [True, False])
def test_vmap_pools_the_batch_and_equals_dense(sparse, native):
    weights, targets = _ell(1)
    truth = _dense_of(weights, targets)
    w_arg, t_arg = (weights, targets) if sparse else (jnp.asarray(truth, jnp.float32), None)
    fn = jax.jit(jax.vmap(lambda s: event_drive(w_arg, t_arg, s, N_POST, BUCKETS, native)))
    # totals over a batch of 4: 0, 4, 12 (bucket 32), 36, 132, 260, all (> pooled buckets)
    for count in (0, 1, 3, 9, 33, 65, N_PRE):
        s = _spikes(count, batch=4)
        np.testing.assert_allclose(fn(s), np.asarray(s, np.float64) @ truth, **TOL)
    # batches of 8 (pooled buckets continue 128, 256, 512): 303 events fill bucket 512,
    # 246 events bucket 256
    s = jnp.concatenate([_spikes(40, batch=7), _spikes(23)[None]])
    s8 = jnp.concatenate([_spikes(40, batch=7)[:6], _spikes(3, batch=2)])
    for batch in (s, s8):
        np.testing.assert_allclose(fn(batch), np.asarray(batch, np.float64) @ truth, **TOL)


def test_vmap_with_batched_weights(native):
    weights, targets = _ell(2)
    ws = jnp.stack([weights, 2 * weights])
    s = _spikes(5, batch=2)
    got = jax.vmap(lambda w, x: event_drive(w, targets, x, N_POST, BUCKETS, native))(ws, s)
    truth = _dense_of(weights, targets)
    want = np.stack([np.asarray(s[0]) @ truth, 2 * np.asarray(s[1]) @ truth])
    np.testing.assert_allclose(got, want, **TOL)


def _loss(drive_fn):
    return lambda w, s: jnp.sum(jnp.sin(drive_fn(w, s)))


def test_gradients_equal_full_product(native):
    """The derivative is that of Σ w s: the spike gradient reaches neurons that did not
    spike (the surrogate path), the weight gradient is weighted by the spikes."""
    weights, targets = _ell(3)

    def full(w, s):
        contrib = s[:, None] * w
        return jnp.zeros((N_POST,), w.dtype).at[targets].add(contrib, mode="drop")

    event = lambda w, s: event_drive(w, targets, s, N_POST, BUCKETS, native)
    grads = {f: jax.jit(jax.grad(_loss(f), argnums=(0, 1))) for f in (event, full)}
    jvps = {f: jax.jit(lambda w, s, t, f=f: jax.jvp(f, (w, s), t)[1]) for f in (event, full)}
    tangents = (jnp.ones_like(weights), jnp.linspace(-1.0, 1.0, N_PRE))
    for count in (0, 3, 65):
        s = _spikes(count)
        g_event, g_full = grads[event](weights, s), grads[full](weights, s)
        for a, b in zip(g_event, g_full, strict=True):
            np.testing.assert_allclose(a, b, **TOL)
        assert np.count_nonzero(np.asarray(g_event[1])) > count  # silent neurons too
        np.testing.assert_allclose(
            jvps[event](weights, s, tangents), jvps[full](weights, s, tangents), **TOL
        )


def test_vmap_of_grad_equals_grad_of_vmap(native):
    weights, targets = _ell(4)
    s = _spikes(4, batch=3)
    loss = _loss(lambda w, x: event_drive(w, targets, x, N_POST, BUCKETS, native))
    per_trial = jax.jit(jax.vmap(jax.grad(loss), in_axes=(None, 0)))(weights, s).sum(0)
    pooled = jax.jit(jax.grad(lambda w: jax.vmap(lambda x: loss(w, x))(s).sum()))(weights)
    np.testing.assert_allclose(per_trial, pooled, **TOL)


@pytest.mark.parametrize("n", [5, 65, 5000])
def test_compact_lists_exactly_the_true_entries(n):
    rng = np.random.default_rng(n)
    size = min(n, 40)
    compact = jax.jit(lambda m: _compact(m, size))
    for count in sorted({0, 1, size // 2, size}):
        mask = np.zeros(n, bool)
        mask[rng.choice(n, count, replace=False)] = True
        got = np.asarray(compact(jnp.asarray(mask)))
        want = np.full(size, n)
        want[:count] = np.flatnonzero(mask)
        np.testing.assert_array_equal(np.sort(got), np.sort(want))


def _network(propagation, layout):
    neuron = LIF(tau_mem_ms=10.0, v_th_mv=1.0, t_ref_ms=1.0)
    pop = Population("E", 120, neuron)
    inp = SpikeInput("in", 40)
    keys = jr.split(jr.key(0), 2)
    rec = connect(pop, pop, FixedProbability(0.2), AbsNormal(0.15, 0.05), key=keys[0],
                  layout=layout, propagation=propagation)  # fmt: skip
    feed = connect(inp, pop, FixedProbability(0.3), AbsNormal(0.6, 0.1), key=keys[1],
                   layout=layout, propagation=propagation)  # fmt: skip
    return Network([pop], [rec, feed], [inp])


def test_simulation_with_event_equals_scatter_and_dense():
    """Same network, three propagations: identical spike trains, single and vmapped."""
    spikes_in = (jr.uniform(jr.key(1), (3, 200, 40)) < 0.05).astype(jnp.float32)
    runs = {}
    for name, prop, layout in [
        ("event", Event(buckets=(2, 8)), "sparse"),
        ("scatter", Scatter(), "sparse"),
        ("dense", Dense(), "dense"),
    ]:
        net = _network(prop, layout)
        state = init_state(net)
        sim = lambda x, net=net, state=state: simulate(
            net, state, 200, dt_ms=0.1, inputs={"in": x}, record=Record(spikes=True)
        )[1].spikes["E"]
        runs[name] = np.asarray(jax.vmap(sim)(spikes_in))
        if name == "event":  # single trial (lax.switch) vs pooled batch (custom_vmap)
            np.testing.assert_array_equal(np.asarray(sim(spikes_in[0])), runs[name][0])
    assert runs["event"].sum() > 50  # the network is active, the comparison means something
    np.testing.assert_array_equal(runs["event"], runs["scatter"])
    np.testing.assert_array_equal(runs["event"], runs["dense"])


def test_connect_chooses_event_for_sparse_and_dense_for_dense():
    pre, post = Population("A", 400, LIF()), Population("B", 400, LIF())
    sparse = connect(pre, post, FixedProbability(0.02), key=jr.key(0))
    dense = connect(pre, post, FixedProbability(0.5), key=jr.key(0))
    assert sparse.is_sparse and isinstance(sparse.propagation, Event)
    assert not dense.is_sparse and isinstance(dense.propagation, Dense)
    forced = connect(pre, post, FixedProbability(0.5), key=jr.key(0), propagation=Event())
    assert isinstance(forced.propagation, Event) and not forced.is_sparse


def test_event_in_a_projection_is_not_retraced():
    proj = connect(Population("A", 100, LIF()), Population("B", 50, LIF()),
                   FixedProbability(0.1), key=jr.key(0))  # fmt: skip

    @eqx.filter_jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def drive(p, s):
        return p.drive(s)

    for count in (0, 5, 100):
        drive(proj, _spikes(count)[:100])


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="buckets"):
        Event(buckets=(8, 4))
    with pytest.raises(ValueError, match="buckets"):
        Event(buckets=(0,))
    pre, post = Population("A", 100, LIF()), Population("B", 50, LIF())
    with pytest.raises(ValueError, match="propagation"):
        connect(pre, post, FixedProbability(0.1), key=jr.key(0), propagation="event")
    with pytest.raises(ValueError, match="Scatter"):
        connect(pre, post, FixedProbability(0.5), key=jr.key(0), propagation=Scatter())
    proj = connect(pre, post, FixedProbability(0.1), key=jr.key(0), layout="sparse")
    with pytest.raises(ValueError, match=r"signal must have shape \(100,\)"):
        proj.drive(jnp.zeros((99,)))


def _group():
    """Three projections from one source: two sparse (different out-degrees and n_post)
    and one dense."""
    rng = np.random.default_rng(7)
    projections, truths = [], []
    for n_post, k, sparse in ((70, 9, True), (31, 4, True), (20, None, False)):
        if sparse:
            targets = rng.integers(0, n_post + 1, (N_PRE, k)).astype(np.int32)
            weights = rng.normal(size=(N_PRE, k)).astype(np.float32)
            weights[targets == n_post] = 0.0
            truth = np.zeros((N_PRE, n_post + 1))
            np.add.at(truth, (np.arange(N_PRE)[:, None], targets), weights)
            truth = truth[:, :n_post]
            proj = eqx.tree_at(
                lambda p: (p.weights, p.layout.targets),
                _projection(n_post, sparse=True, k=k),
                (jnp.asarray(weights), jnp.asarray(targets)),
            )
        else:
            truth = rng.normal(size=(N_PRE, n_post)).astype(np.float32)
            proj = eqx.tree_at(
                lambda p: p.weights, _projection(n_post, sparse=False), jnp.asarray(truth)
            )
        projections.append(proj)
        truths.append(np.asarray(truth, np.float64))
    return projections, truths


def _projection(n_post, sparse, k=None):
    """A projection of the right shapes (weights replaced by the caller)."""
    from jaxsnn.projection import Projection
    from jaxsnn.synapses import Delta

    shape = (N_PRE, k) if sparse else (N_PRE, n_post)
    layout = (
        SparseLayout(N_PRE, n_post, jnp.full(shape, n_post, jnp.int32))
        if sparse
        else DenseLayout(N_PRE, n_post, jnp.ones(shape, bool))
    )
    return Projection(
        pre="src",
        post=f"p{n_post}",
        synapse=Delta(),
        weights=jnp.zeros(shape, jnp.float32),
        layout=layout,
        propagation=Event(BUCKETS),
    )


def test_one_event_list_serves_every_projection_of_a_source(native):
    """`Event.drives` (one compaction shared by all projections of a source, as
    `network_step` uses it) equals each projection's full product, at every bucket, in a
    single trial and pooled over a batch."""
    projections, truths = _group()
    event = Event(BUCKETS, native)
    single = jax.jit(lambda s: drives(event, projections, s))
    batched = jax.jit(jax.vmap(lambda s: drives(event, projections, s)))
    for count in COUNTS:
        s = _spikes(count)
        for got, truth in zip(single(s), truths, strict=True):
            np.testing.assert_allclose(got, np.asarray(s, np.float64) @ truth, **TOL)
    for count in (0, 1, 9, 65):
        s = _spikes(count, batch=4)
        for got, truth in zip(batched(s), truths, strict=True):
            np.testing.assert_allclose(got, np.asarray(s, np.float64) @ truth, **TOL)


def test_grouped_gradients_equal_full_products(native):
    projections, truths = _group()
    event = Event(BUCKETS, native)
    mats = [jnp.asarray(t, jnp.float32) for t in truths]

    def loss_event(s):
        return sum(jnp.sum(jnp.sin(d)) for d in drives(event, projections, s))

    def loss_dense(s):
        return sum(jnp.sum(jnp.sin(s @ m)) for m in mats)

    for count in (0, 3, 65):
        s = _spikes(count)
        np.testing.assert_allclose(
            jax.jit(jax.grad(loss_event))(s), jax.jit(jax.grad(loss_dense))(s), **TOL
        )

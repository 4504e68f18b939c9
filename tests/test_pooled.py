"""`jaxsnn.pooled`: the O(N) all-to-all projection with one weight equals the dense
all-to-all projection (spikes and potentials, with delays, NMDA gating and autapses),
under vmap and grad; bad inputs raise."""

import dataclasses

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import jaxsnn as snn
from jaxsnn.pooled import Pooled, PooledLayout, connect_pooled

LIF = snn.LIF(tau_mem_ms=10.0, v_rest_mv=-70.0, v_th_mv=-50.0, v_reset_mv=-55.0, t_ref_ms=1.0)
AMPA = snn.ExpConductance(tau_ms=2.0, e_rev_mv=0.0)
GABA = snn.ExpConductance(tau_ms=5.0, e_rev_mv=-70.0)
NMDA = snn.NMDA()


def _network(pooled: bool, *, autapses: bool = True, delay_ms=0.5, w_scale=1.0):
    a = snn.Population("A", 6, LIF, dale="excitatory")
    b = snn.Population("B", 9, LIF, dale="inhibitory")
    plan = [
        (a, a, AMPA, 0.05), (a, a, NMDA, 0.02), (a, b, AMPA, 0.04), (a, b, NMDA, 0.03),
        (b, a, GABA, 0.05), (b, b, GABA, 0.05), (a, b, snn.Delta(), 0.5),
    ]  # fmt: skip
    projections = []
    for i, (pre, post, syn, w) in enumerate(plan):
        w = w * w_scale
        if pooled:
            projections.append(
                connect_pooled(pre, post, w, syn, autapses=autapses, delay_ms=delay_ms)
            )
        else:
            projections.append(
                snn.connect(
                    pre,
                    post,
                    snn.AllToAll(allow_self=autapses),
                    snn.Constant(w),
                    syn,
                    key=jr.key(i),
                    layout="dense",
                    delay_ms=delay_ms,
                )
            )
    inputs = [
        snn.PoissonDrive("dA", "A", 6, n_sources=1, rate_hz=2400.0, weight=0.12, synapse=AMPA),
        snn.PoissonDrive("dB", "B", 9, n_sources=1, rate_hz=2400.0, weight=0.12, synapse=AMPA),
    ]
    return snn.Network([a, b], projections, inputs)


def _run(net, key, n=1000):
    state = snn.init_state(net, dt_ms=0.1, v0_mv=-60.0)
    final, rec = snn.simulate(
        net, state, n, dt_ms=0.1, key=key, record=snn.Record(spikes=True, voltages=True)
    )
    return final, rec


@pytest.mark.parametrize("autapses, delay_ms", [(True, 0.5), (False, None)])
def test_pooled_equals_dense(autapses, delay_ms):
    key = jr.key(3)
    _, dense = _run(_network(False, autapses=autapses, delay_ms=delay_ms), key)
    _, pooled = _run(_network(True, autapses=autapses, delay_ms=delay_ms), key)
    for name in ("A", "B"):
        s_dense, s_pooled = np.asarray(dense.spikes[name]), np.asarray(pooled.spikes[name])
        assert s_dense.sum() > 20, (
            s_dense.sum()
        )  # the network is active, the comparison means something
        np.testing.assert_array_equal(s_pooled, s_dense)
        # float32 summation order differs (sum then scale vs scale then sum): 1e-4 mV
        np.testing.assert_allclose(pooled.v[name], dense.v[name], atol=1e-3)


def test_drive_formula_and_layout_queries():
    layout = PooledLayout(4, 3)
    w = jnp.full((1, 1), 0.5)
    s = jnp.array([1.0, 0.0, 2.0, 1.0])
    np.testing.assert_allclose(Pooled()(w, layout, s), [2.0, 2.0, 2.0])
    np.testing.assert_allclose(layout.dense(w), np.full((4, 3), 0.5))
    assert layout.n_synapses == 12
    self_layout = PooledLayout(3, 3, autapses=False)
    s3 = jnp.array([1.0, 2.0, 4.0])
    dense = self_layout.dense(w)
    np.testing.assert_allclose(Pooled()(w, self_layout, s3), s3 @ dense)
    assert self_layout.n_synapses == 6
    # the tied weight's summed update: Σ_ij a_i b_j over existing synapses
    a, b = jnp.array([1.0, 2.0, 3.0]), jnp.array([1.0, 0.0, 1.0])
    np.testing.assert_allclose(
        self_layout.outer(a, b), [[np.sum(np.outer(a, b) * (np.asarray(dense) > 0))]]
    )
    np.testing.assert_allclose(self_layout.post_sum(w), jnp.full((3,), 1.0))


def test_vmap_equals_stack_of_trials():
    net = _network(True)
    keys = jr.split(jr.key(5), 3)
    run = jax.jit(jax.vmap(lambda k: _run(net, k, n=400)[1].spikes["A"]))
    batched = np.asarray(run(keys))
    one = jax.jit(lambda k: _run(net, k, n=400)[1].spikes["A"])
    single = np.stack([np.asarray(one(k)) for k in keys])
    np.testing.assert_array_equal(batched, single)
    assert batched.sum() > 0


def test_gradient_is_the_sum_of_dense_gradients():
    # the tied weight's derivative is the sum of the derivatives of the dense weights
    # it stands for: compare on a smooth quantity (final potentials, surrogate spikes)
    key = jr.key(7)
    pooled, dense = _network(True), _network(False)

    def loss(weights, net):
        import equinox as eqx

        net = eqx.tree_at(lambda n: [p.weights for p in n.projections], net, weights)
        final, _ = _run(net, key, n=120)
        return jnp.sum(final.v)

    gp = jax.grad(loss)([p.weights for p in pooled.projections], pooled)
    gd = jax.grad(loss)([p.weights for p in dense.projections], dense)
    for i, (a, b) in enumerate(zip(gp, gd, strict=True)):
        want = float(jnp.sum(b))
        assert np.isfinite(float(a[0, 0]))
        # float32 over 120 steps of a spiking network: agree to 1 % of the scale
        assert abs(float(a[0, 0]) - want) <= 1e-2 * max(abs(want), 1e-3), (i, a, want)


def test_bad_inputs():
    a = snn.Population("A", 4, LIF, dale="excitatory")
    b = snn.Population("B", 5, LIF, dale="inhibitory")
    with pytest.raises(ValueError, match="autapses=False"):
        PooledLayout(4, 5, autapses=False)
    with pytest.raises(ValueError, match="must be >= 0"):
        connect_pooled(a, b, -0.1, AMPA)
    with pytest.raises(ValueError, match="weight must be a scalar"):
        connect_pooled(a, b, jnp.ones(3), AMPA)
    with pytest.raises(ValueError, match="delay_ms must be one number"):
        connect_pooled(a, b, 0.1, AMPA, delay_ms=np.ones(3))
    with pytest.raises(ValueError, match="delay_ms must be >= 0"):
        connect_pooled(a, b, 0.1, AMPA, delay_ms=-1.0)
    with pytest.raises(ValueError, match="weight must be finite"):
        connect_pooled(a, b, float("nan"), AMPA)
    with pytest.raises(ValueError, match="post must be a Population"):
        connect_pooled(a, "B", 0.1, AMPA)
    layout = PooledLayout(4, 5)
    with pytest.raises(ValueError, match="one delay_ms"):
        layout.delayed(jnp.ones((1, 1)), jnp.ones((1, 1), jnp.int32), 3)
    with pytest.raises(ValueError, match="cannot be pruned"):
        layout.keep(jnp.ones((1, 1), bool))
    with pytest.raises(ValueError, match="tied weight"):
        layout.post(jnp.ones(5))
    dense = snn.connect(a, b, snn.AllToAll(), snn.Constant(0.1), AMPA, key=jr.key(0))
    with pytest.raises(ValueError, match="needs a PooledLayout"):
        Pooled().check_layout(dense.layout, "A->B")
    pooled = connect_pooled(a, b, 0.1, AMPA)
    with pytest.raises(ValueError, match="Event\\(\\) propagation needs per-synapse"):
        dataclasses.replace(pooled, propagation=snn.Event())
    # inhibitory delta weights are given as magnitudes and negated, as connect does
    proj = connect_pooled(b, a, 0.3, snn.Delta())
    assert float(proj.weights[0, 0]) == pytest.approx(-0.3)

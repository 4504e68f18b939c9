"""Weights changed after construction (eqx.tree_at, an optax update) meet the same
checks as at construction when they are simulated: a clear error naming the projection,
never a raw XLA error or a silent NaN. Shapes and constants are checked at the call
(ValueError); array values inside the compiled run (tests/test_errors.py), so a call
never copies the weights to the host."""

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
import pytest

import jaxsnn as snn
from jaxsnn.models import build_decision_1k


@pytest.fixture(scope="module")
def net():
    return build_decision_1k(jr.key(0), n_exc=40, n_inh=10, n_in=5)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (
            lambda w: jnp.ones((3, 3), w.dtype),
            r"projection E->E: weights must have shape \(40, 40\)",
        ),
        (lambda w: w.at[0, 0].set(jnp.nan), "E->E weights must be finite"),
        (lambda w: w.at[0, 0].set(jnp.inf), "E->E weights must be finite"),
    ],
)
def test_changed_weights_are_checked_when_simulated(net, change, match):
    bad = eqx.tree_at(lambda n: n.projections[0].weights, net, change(net.projections[0].weights))
    with pytest.raises((ValueError, eqx.EquinoxRuntimeError), match=match):
        snn.simulate(bad, snn.init_state(net), 10, dt_ms=0.1, key=jr.key(0))


def test_a_changed_neuron_constant_is_checked(net):
    bad = eqx.tree_at(lambda n: n.populations[0].neuron.tau_mem_ms, net, -5.0)
    with pytest.raises(ValueError, match="tau_mem_ms"):
        snn.simulate(bad, snn.init_state(net), 10, dt_ms=0.1, key=jr.key(0))


def test_valid_changes_still_run(net):
    ok = eqx.tree_at(lambda n: n.projections[0].weights, net, net.projections[0].weights * 0.5)
    state, _ = snn.simulate(ok, snn.init_state(net), 10, dt_ms=0.1, key=jr.key(0))
    assert bool(jnp.all(jnp.isfinite(state.v)))

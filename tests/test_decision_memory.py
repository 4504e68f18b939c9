"""The training-memory estimate against XLA's own accounting, and the CLI refusing a
batch that cannot fit."""

import equinox as eqx
import jax
import jax.random as jr
import optax
import pytest

from jaxsnn import cli
from jaxsnn.decision.memory import BYTES_PER_NEURON_STEP, check_training_fits
from jaxsnn.decision.model import build_decision_model
from jaxsnn.decision.tasks import get_task
from jaxsnn.decision.train import train_step_impl, trainable_filter


def _temp_bytes(model, batch_size):
    spec = trainable_filter(model, ("input", "readout"))
    opt = optax.adam(1e-2)
    dyn, static = eqx.partition((model, opt.init(eqx.filter(model, spec))), eqx.is_array)

    def step(dyn, key):
        m, s = eqx.combine(dyn, static)
        return train_step_impl(
            m,
            s,
            key,
            task=get_task("rate"),
            optimizer=opt,
            filter_spec=spec,
            batch_size=batch_size,
        )

    return jax.jit(step).lower(dyn, jr.key(0)).compile().memory_analysis().temp_size_in_bytes


@pytest.mark.slow  # 12 s of compiles; the constants come from this measurement
def test_bytes_per_neuron_step_match_xla_on_another_size():
    """A network of another size and length (400 neurons, 50 ms): XLA's temporary
    buffers grow per trial by the rule's bytes per neuron-step, within 25 %."""
    model = build_decision_model(jr.key(0), n_exc=320, n_inh=80, n_out=40, n_in=40, window_ms=50.0)
    per_trial = _temp_bytes(model, 4) - _temp_bytes(model, 2)
    per_trial /= 2
    rule = BYTES_PER_NEURON_STEP[False] * model.network.n_neurons * model.n_steps
    assert per_trial == pytest.approx(rule, rel=0.25), (per_trial, rule)


def test_an_impossible_batch_is_refused_clearly(capsys, tmp_path):
    with pytest.raises(ValueError, match=r"use --batch-size \d+ or less"):
        check_training_fits(1000, 1000, 100_000, False, available=24e9)
    check_training_fits(1000, 1000, 16, False, available=24e9)  # the default fits
    code = cli.main(["decide", "--batch-size", "10000000", "--out", str(tmp_path / "o")])
    assert code == 2
    err = capsys.readouterr().err
    assert "error: --batch-size 10000000 needs about" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()

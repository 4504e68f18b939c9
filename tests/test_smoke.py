import jax.random as jr

import jaxsnn as snn
from jaxsnn.models import build_decision_1k


def test_decision_1k_runs_and_input_raises_rate():
    net = build_decision_1k(jr.key(0), n_exc=80, n_inh=20, n_in=10, rate_hz=100.0)
    state = snn.init_state(net)
    _, rec = snn.simulate(net, state, 500, dt_ms=0.1, key=jr.key(1), record=snn.Record(counts=True))
    assert rec.counts["E"][:10].sum() > 0


def test_public_api_names_exist():
    names = """LIF Population Network NetworkState init_state network_step simulate Record
    connect Projection Delta ExpCurrent ExpConductance ResetToValue ResetBySubtraction
    FixedProbability FixedInDegree SmallWorld AllToAll OneToOne FromMatrix FromPairs
    Constant Normal AbsNormal LogNormal Uniform PoissonInput SpikeInput CurrentInput
    FastSigmoid ArcTan Triangle Boxcar Sigmoid spike Dense Scatter run_in_windows
    concat_recordings""".split()
    missing = [n for n in names if not hasattr(snn, n)]
    assert not missing

"""How tests/data/*_4178ad7.npz were made: these scripts ran against the package at commit
4178ad7 (before the open engine), `PYTHONPATH=<checkout of 4178ad7> python make_references_4178ad7.py`,
so the tests compare the current engine with the results of the old one. They use the
old API (plastic_simulate, dict recordings) and do not run against the current package."""

# ---- plastic_simulate_4178ad7.npz
import jax, jax.numpy as jnp, jax.random as jr, numpy as np
import jaxsnn as snn
from jaxsnn.plasticity import STDP, Hebbian, NearestSpike, Multiplicative, plastic_simulate, plastic_simulate_batch

DT, STEPS = 0.1, 300

def small_network(layout):
    keys = jr.split(jr.key(0), 2)
    neuron = snn.LIF(tau_mem_ms=10.0, v_th_mv=1.0, t_ref_ms=1.0)
    pop = snn.Population("E", 30, neuron, dale="excitatory")
    inp = snn.PoissonInput("in", 20, rate_hz=80.0)
    proj_in = snn.connect(inp, pop, snn.FixedProbability(0.3), snn.Uniform(0.2, 0.6), key=keys[0], layout=layout)
    proj_rec = snn.connect(pop, pop, snn.FixedProbability(0.2), snn.Uniform(0.0, 0.2), key=keys[1], layout=layout)
    return snn.Network([pop], [proj_in, proj_rec], [inp])

def rules(kind):
    if kind == "stdp":
        return {("in", "E"): STDP(a_plus=0.01, a_minus=0.012, w_max=1.0), ("E", "E"): STDP(a_plus=0.005, a_minus=0.006, w_max=0.5)}
    if kind == "nearest":
        return {("in", "E"): STDP(a_plus=0.01, a_minus=0.012, w_max=1.0, pairing=NearestSpike(), weight_dependence=Multiplicative())}
    return {("E", "E"): Hebbian(eta=1e-3, on="traces", normalise=True, decay_per_ms=1e-3)}

out = {}
rec = snn.Record(spikes=True)
for layout in ("dense", "sparse"):
    net = small_network(layout)
    for kind in ("stdp", "nearest", "hebbian"):
        for mode in ("online", "accumulate"):
            _, ps, r = plastic_simulate(net, snn.init_state(net), STEPS, rules=rules(kind), dt_ms=DT, key=jr.key(3), record=rec, mode=mode)
            tag = f"{layout}_{kind}_{mode}"
            for i, d in enumerate(ps.dw):
                out[f"{tag}_dw{i}"] = np.asarray(d)
            out[f"{tag}_spikes"] = np.asarray(r["spikes"]["E"])
    # shared weights over a batch of 3 trials
    keys = jr.split(jr.key(5), 3)
    states = jax.vmap(lambda _: snn.init_state(net))(jnp.arange(3))
    for mode in ("online", "accumulate"):
        _, ps, r = plastic_simulate_batch(net, states, STEPS, rules=rules("stdp"), dt_ms=DT, keys=keys, record=rec, mode=mode, average=True)
        tag = f"{layout}_batch_{mode}"
        for i, d in enumerate(ps.dw):
            out[f"{tag}_dw{i}"] = np.asarray(d)
        out[f"{tag}_spikes"] = np.asarray(r["spikes"]["E"])
np.savez_compressed("tests/data/plastic_simulate_4178ad7.npz", **out)
print(len(out), {k: v.shape for k, v in list(out.items())[:4]})

# ---- reference_networks_4178ad7.npz
import sys
import jax, jax.numpy as jnp, jax.random as jr, numpy as np
import jaxsnn as snn
from jaxsnn.models import build_decision_1k, build_ei_coba, ei_coba_state
out = {}
net = build_decision_1k(jr.key(0))
net1 = snn.Network(net.populations, net.projections, [snn.PoissonInput("in", 100, 100.0)])
_, rec = snn.simulate(net1, snn.init_state(net1), 1000, dt_ms=0.1, key=jr.key(1), record=snn.Record(spikes=True, every=10))
out["w1_E"] = np.asarray(rec["spikes"]["E"]); out["w1_I"] = np.asarray(rec["spikes"]["I"])
net = build_ei_coba(jr.key(0), 4000)
st = ei_coba_state(net, jr.key(1))
_, rec = snn.simulate(net, st, 2000, dt_ms=0.1, record=snn.Record(spikes=True, every=10, voltages={"E": [0, 1, 2]}))
out["w2_E"] = np.asarray(rec["spikes"]["E"]); out["w2_I"] = np.asarray(rec["spikes"]["I"]); out["w2_v"] = np.asarray(rec["v"]["E"])
np.savez_compressed("tests/data/reference_networks_4178ad7.npz", **out)
print({k: (v.shape, v.sum()) for k, v in out.items()})

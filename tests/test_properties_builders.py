"""Property-based tests of the model builders (`jaxsnn.models`): random valid arguments
build a network of the stated sizes, with finite weights of the signs Dale's law gives,
that simulates to finite potentials; a random invalid argument is refused, at the
builder's entry, with a ValueError or TypeError whose message names that argument.

An invalid argument must be refused by jaxsnn's own checks: an error raised from inside
JAX or NumPy fails the property even when its type is right.

Every property runs with `properties.examples` (derandomized: the same examples on every
run and machine, so a CI failure reproduces locally). A builder compiles its small array
operations once per new shape, so sizes come from short lists; the simulations vary only
what `simulate` receives as arrays (weights, rates, potentials) and keep sizes and
Python-float constants fixed, so each builder compiles one program.
"""

import functools
import re

import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from hypothesis import assume, event, example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from properties import examples, raised_in_jaxsnn

import jaxsnn as snn
from jaxsnn.models import (
    BRUNEL_REGIMES,
    brunel2000_state,
    build_brunel2000,
    build_cuba,
    build_decision_1k,
    build_ei_coba,
    build_wang2002,
    cuba_state,
    ei_coba_state,
    wang2002_state,
)
from jaxsnn.models.wang2002 import pool_sizes, w_minus

NAN, INF = float("nan"), float("inf")


def _f32(x) -> float:
    """`x` rounded to float32, as the weights are stored."""
    return float(np.float32(x))


def _dense(net, pre, post) -> np.ndarray:
    """The (n_pre, n_post) weights, 0 where there is no synapse, in NumPy: the layouts'
    own `dense` compiles a scatter for every new sparse shape, seconds per test."""
    proj = net.projection(pre, post)
    w = np.asarray(proj.weights)
    if proj.targets is None:
        return np.where(np.asarray(proj.mask), w, 0).astype(w.dtype)
    targets = np.asarray(proj.targets)
    rows = np.broadcast_to(np.arange(proj.n_pre)[:, None], targets.shape)
    keep = targets < proj.n_post
    out = np.zeros((proj.n_pre, proj.n_post), w.dtype)
    np.add.at(out, (rows[keep], targets[keep]), w[keep])
    return out


def _check_projections(net, dale: dict[str, int]):
    """Every weight finite, of its population's sign (Dale's law), none on the diagonal
    of a recurrent projection (no self-connections)."""
    for proj in net.projections:
        w = _dense(net, proj.pre, proj.post)
        assert w.shape == (proj.n_pre, proj.n_post)
        assert np.all(np.isfinite(w)), proj.name
        sign = dale.get(proj.pre, 0)
        if sign > 0:
            assert np.all(w >= 0), proj.name
        elif sign < 0:
            assert np.all(w <= 0), proj.name
        if proj.pre == proj.post and w.shape[0] > 1:
            assert np.all(np.diag(w) == 0), proj.name


# ----- random valid arguments ----------------------------------------------------------

seeds = st.integers(0, 2**31 - 1)
probabilities = st.floats(0.0, 1.0)
taus = st.floats(0.5, 200.0)


@examples(10)
@given(
    n=st.sampled_from([5, 40]),
    p=probabilities,
    frac_exc=st.floats(0.05, 0.95),
    w_exc=st.floats(0.0, 20.0),
    w_inh=st.floats(-20.0, 0.0),
    tau_mem=taus,
    tau_exc=taus,
    tau_inh=taus,
    v_th=st.floats(-70.0, 0.0),
    below=st.floats(0.01, 30.0),
    v_rest=st.floats(-90.0, 10.0),
    t_ref=st.floats(0.0, 10.0),
    layout=st.sampled_from(["auto", "dense", "sparse"]),
    seed=seeds,
)
def test_cuba_valid_arguments_build_the_stated_network(
    n,
    p,
    frac_exc,
    w_exc,
    w_inh,
    tau_mem,
    tau_exc,
    tau_inh,
    v_th,
    below,
    v_rest,
    t_ref,
    layout,
    seed,
):
    n_exc = round(frac_exc * n)
    assume(0 < n_exc < n)
    net = build_cuba(
        jr.key(seed), n, p=p, frac_exc=frac_exc, w_exc_mv=w_exc, w_inh_mv=w_inh,
        tau_mem_ms=tau_mem, tau_exc_ms=tau_exc, tau_inh_ms=tau_inh, v_th_mv=v_th,
        v_reset_mv=v_th - below, v_rest_mv=v_rest, t_ref_ms=t_ref, layout=layout,
    )  # fmt: skip
    assert net.n_neurons == n
    assert [pop.n for pop in net.populations] == [n_exc, n - n_exc]
    _check_projections(net, {"E": 1, "I": -1})
    # every existing synapse carries the given jump; p = 1 connects every pair but i -> i
    for pre, w in (("E", w_exc), ("I", w_inh)):
        for post in ("E", "I"):
            dense = _dense(net, pre, post)
            assert np.all((dense == 0) | (dense == _f32(w)))
            if p == 1.0 and _f32(w) != 0:
                off_diagonal = dense.size - (min(dense.shape) if pre == post else 0)
                assert np.count_nonzero(dense) == off_diagonal
            if p == 0.0:
                assert not np.any(dense)


@examples(10)
@given(
    n=st.sampled_from([10, 30]),
    p=probabilities,
    frac_exc=st.floats(0.05, 0.95),
    g_exc=st.floats(0.0, 5.0),
    g_inh=st.floats(0.0, 20.0),
    i_ext=st.floats(-50.0, 50.0),
    seed=seeds,
)
def test_ei_coba_valid_arguments_build_the_stated_network(
    n, p, frac_exc, g_exc, g_inh, i_ext, seed
):
    n_exc = round(frac_exc * n)
    assume(0 < n_exc < n)
    net = build_ei_coba(
        jr.key(seed), n, p=p, frac_exc=frac_exc, g_exc=g_exc, g_inh=g_inh, i_ext_mv=i_ext
    )
    assert [pop.n for pop in net.populations] == [n_exc, n - n_exc]
    # conductances are >= 0 from both populations (the reversal potential sets the sign)
    _check_projections(net, {"E": 1, "I": 1})
    for pre, g in (("E", g_exc), ("I", g_inh)):
        assert np.all(np.isin(_dense(net, pre, "E"), [0.0, _f32(g)]))
    state = ei_coba_state(net, jr.key(seed + 1))
    assert np.all(np.isfinite(np.asarray(state.v)))


@examples(10)
@given(
    # few sizes: every new shape compiles the builder's array operations anew
    n_exc=st.sampled_from([1, 5, 16]),
    n_inh=st.sampled_from([1, 4]),
    in_frac=st.floats(0.0, 1.0),
    p=probabilities,
    w_mean=st.floats(-1.0, 1.0),
    w_std=st.floats(0.0, 1.0),
    g_inh=st.floats(0.01, 10.0),
    w_in=st.floats(-2.0, 2.0),
    rate=st.floats(0.0, 1000.0),
    layout=st.sampled_from(["auto", "dense", "sparse"]),
    seed=seeds,
)
def test_decision_1k_valid_arguments_build_the_stated_network(
    n_exc, n_inh, in_frac, p, w_mean, w_std, g_inh, w_in, rate, layout, seed
):
    n_in = max(1, round(in_frac * n_exc))
    net = build_decision_1k(
        jr.key(seed), n_exc=n_exc, n_inh=n_inh, n_in=n_in, p=p, w_mean=w_mean, w_std=w_std,
        g_inh=g_inh, w_in=w_in, layout=layout, rate_hz=rate,
    )  # fmt: skip
    assert [pop.n for pop in net.populations] == [n_exc, n_inh]
    _check_projections(net, {"E": 1, "I": -1})
    # channel i drives E neuron i, and only it
    w = _dense(net, "in", "E")
    expected = np.zeros((n_in, n_exc), np.float32)
    expected[np.arange(n_in), np.arange(n_in)] = w_in
    np.testing.assert_array_equal(w, expected)


@examples(10)
@given(
    n_e=st.sampled_from([40, 80]),
    n_i=st.sampled_from([10, 20]),
    epsilon=st.floats(0.05, 0.5),
    g=st.one_of(st.just(0.0), st.floats(0.01, 8.0)),  # no g·J that underflows float32
    eta=st.floats(0.1, 5.0),
    j_mv=st.floats(0.01, 1.0),
    delay=st.floats(0.0, 3.0),
    theta=st.floats(5.0, 30.0),
    below=st.floats(0.1, 5.0),
    tau_m=st.floats(5.0, 40.0),
    tau_ref=st.floats(0.1, 5.0),
    scale=st.sampled_from([0.5, 1.0]),
    seed=seeds,
)
def test_brunel2000_valid_arguments_build_the_stated_network(
    n_e, n_i, epsilon, g, eta, j_mv, delay, theta, below, tau_m, tau_ref, scale, seed
):
    n_e_s, n_i_s = round(n_e * scale), round(n_i * scale)
    c_e, c_i = round(epsilon * n_e_s), round(epsilon * n_i_s)
    assume(1 <= c_e < n_e_s and 1 <= c_i < n_i_s)
    net = build_brunel2000(
        jr.key(seed), g=g, eta=eta, n_e=n_e, n_i=n_i, epsilon=epsilon, j_mv=j_mv,
        delay_ms=delay, theta_mv=theta, v_reset_mv=theta - below, tau_m_ms=tau_m,
        tau_ref_ms=tau_ref, scale=scale,
    )  # fmt: skip
    assert [pop.n for pop in net.populations] == [n_e_s, n_i_s]
    _check_projections(net, {"E": 1, "I": -1})
    # fixed in-degree: C_E excitatory and C_I inhibitory inputs per neuron, J and -g·J,
    # with J scaled so that J·C_E is the full-size value
    j = j_mv * epsilon * n_e / c_e
    for post in ("E", "I"):
        exc = _dense(net, "E", post)
        assert np.all(np.count_nonzero(exc, axis=0) == c_e)
        np.testing.assert_allclose(exc[exc != 0], j, rtol=1e-6)
        if g > 0:
            inh = _dense(net, "I", post)
            assert np.all(np.count_nonzero(inh, axis=0) == c_i)
            np.testing.assert_allclose(inh[inh != 0], -g * j, rtol=1e-6)
    for drive in net.inputs:
        assert np.isfinite(float(drive.rate_hz)) and float(drive.rate_hz) > 0


@examples(10)
@given(
    n_e=st.integers(3, 120),
    n_i=st.integers(1, 40),
    f=st.floats(0.01, 0.49),
    w_frac=st.floats(0.0, 1.0, exclude_min=True),
)
def test_wang2002_valid_arguments_build_the_stated_network(n_e, n_i, f, w_frac):
    sizes = pool_sizes(n_e, f)
    assume(sizes["A"] >= 1 and sizes["N"] >= 1)
    w_plus = w_frac * (1 + (1 - f) / f)  # up to the largest w+ that keeps w- >= 0
    assume(w_minus(f, w_plus) >= 0)
    net = build_wang2002(n_e=n_e, n_i=n_i, f=f, w_plus=w_plus)
    assert {pop.name: pop.n for pop in net.populations} == sizes | {"I": n_i}
    for proj in net.projections:
        w = np.asarray(proj.weights)
        assert np.all(np.isfinite(w)) and np.all(w >= 0), proj.name


@examples(30)
@example(p=5e-324, n_pre=40, n_post=40, same=True, seed=0)  # NumPy's geometric saturates
@example(p=1e-19, n_pre=3, n_post=5, same=False, seed=1)
@given(
    p=probabilities,
    n_pre=st.integers(0, 60),
    n_post=st.integers(0, 60),
    same=st.booleans(),
    seed=seeds,
)
def test_fixed_probability_draws_sorted_distinct_pairs_for_any_p(p, n_pre, n_post, same, seed):
    """Every p in [0, 1], down to the smallest subnormal, gives pairs inside the index
    space, sorted, without repeats (and without i -> i within one population)."""
    if same:
        n_post = n_pre
    pre, post = snn.FixedProbability(p).pairs(jr.key(seed), n_pre, n_post, same=same)
    assert pre.dtype == post.dtype == np.int64
    assert np.all((0 <= pre) & (pre < n_pre)) and np.all((0 <= post) & (post < n_post))
    flat = pre * max(n_post, 1) + post
    assert np.all(np.diff(flat) > 0)  # sorted by pre then post, no pair twice
    if same:
        assert not np.any(pre == post)
    if p == 1.0:
        assert len(pre) == n_pre * n_post - (n_pre if same else 0)


# ----- built networks simulate to finite potentials ------------------------------------

N_STEPS = 20


def potentials(n: int, low: float, high: float):
    """V(0) (mV) of n neurons, spread across the threshold so that some spike at once and
    the recurrent weights act within the short run."""
    return hnp.arrays(np.float32, (n,), elements=st.floats(low, high, width=32))


def _simulate(net, v0, inputs=None):
    state = snn.init_state(net, dt_ms=0.1, v0_mv=v0)
    _, rec = snn.simulate(
        net, state, N_STEPS, dt_ms=0.1, key=jr.key(7), inputs=inputs,
        record=snn.Record(spikes=True, voltages=True),
    )  # fmt: skip
    for name, v in rec.v.items():
        assert v.shape == (N_STEPS, net.population(name).n)
        assert np.all(np.isfinite(np.asarray(v))), name
    for name, s in rec.spikes.items():
        assert np.all(np.isin(np.asarray(s), [0.0, 1.0])), name
    # shown by --hypothesis-show-statistics: the weights act only once neurons spike
    event("spiking" if any(np.any(s) for s in rec.spikes.values()) else "silent")


@examples(4)
@given(
    p=probabilities,
    w_exc=st.floats(0.0, 20.0),
    w_inh=st.floats(-20.0, 0.0),
    seed=seeds,
    v0=potentials(20, -65.0, -40.0),  # threshold -50 mV
)
def test_cuba_simulates_to_finite_potentials(p, w_exc, w_inh, seed, v0):
    net = build_cuba(jr.key(seed), 20, p=p, w_exc_mv=w_exc, w_inh_mv=w_inh, layout="dense")
    _simulate(net, v0)


@examples(4)
@given(
    p=probabilities,
    g_exc=st.floats(0.0, 5.0),
    g_inh=st.floats(0.0, 20.0),
    seed=seeds,
    v0=potentials(20, -70.0, -40.0),  # threshold -50 mV
)
def test_ei_coba_simulates_to_finite_potentials(p, g_exc, g_inh, seed, v0):
    net = build_ei_coba(jr.key(seed), 20, p=p, g_exc=g_exc, g_inh=g_inh, layout="dense")
    _simulate(net, v0)


@examples(4)
@given(
    p=probabilities,
    w_mean=st.floats(-1.0, 1.0),
    w_std=st.floats(0.0, 1.0),
    g_inh=st.floats(0.01, 10.0),
    rate=st.floats(0.0, 1000.0),
    seed=seeds,
    v0=potentials(20, -1.0, 2.0),  # threshold 1 mV
)
def test_decision_1k_simulates_to_finite_potentials(p, w_mean, w_std, g_inh, rate, seed, v0):
    net = build_decision_1k(
        jr.key(seed), n_exc=16, n_inh=4, n_in=4, p=p, w_mean=w_mean, w_std=w_std,
        g_inh=g_inh, layout="dense",
    )  # fmt: skip
    _simulate(net, v0, {"in": jnp.full((4,), rate, jnp.float32)})


@examples(4)
@given(
    g=st.floats(0.1, 8.0),
    eta=st.floats(0.1, 5.0),
    seed=seeds,
    v0=potentials(50, 0.0, 30.0),  # threshold 20 mV
)
def test_brunel2000_simulates_to_finite_potentials(g, eta, seed, v0):
    net = build_brunel2000(jr.key(seed), g=g, eta=eta, n_e=40, n_i=10, layout="dense")
    _simulate(net, v0)


@examples(3)
@given(
    w_frac=st.floats(0.0, 1.0, exclude_min=True),
    v0=potentials(50, -75.0, -40.0),  # threshold -50 mV
)
def test_wang2002_simulates_to_finite_potentials(w_frac, v0):
    w_plus = w_frac * (1 + 0.85 / 0.15)
    assume(w_minus(0.15, w_plus) >= 0)
    net = build_wang2002(n_e=40, n_i=10, w_plus=w_plus)
    _simulate(net, v0)


# ----- random invalid arguments --------------------------------------------------------

# values that are no number at all: NumPy would turn "20" into 20.0 and None into NaN
NOT_NUMBERS = st.sampled_from(["20", None, True, 1j, {}, b"1"])
NOT_FINITE = st.one_of(st.sampled_from([NAN, INF, -INF]), NOT_NUMBERS)


def not_positive():
    """Time constants, rates of change, scales: <= 0, NaN, inf or no number."""
    return st.one_of(st.floats(max_value=0.0), NOT_FINITE)


def negative():
    return st.one_of(st.floats(max_value=-1e-9), NOT_FINITE)


def not_probability(none_is_default: bool = False):
    """Outside [0, 1] or no number (None too, unless it asks for the default)."""
    not_finite = NOT_FINITE.filter(lambda x: x is not None) if none_is_default else NOT_FINITE
    return st.one_of(
        st.floats(min_value=1.0, exclude_min=True), st.floats(max_value=-1e-9), not_finite
    )


def not_size(minimum: int):
    """Not an int >= minimum: too small, a float (even 20.0), a string, None, a bool."""
    return st.one_of(
        st.integers(max_value=minimum - 1),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from(["20", None, True, False, 2.0**40]),
    )


NOT_KEYS = st.sampled_from([0, 42, None, "key", np.zeros(2, np.float32), jnp.uint32(3)])
BAD_LAYOUTS = st.text(max_size=8).filter(lambda s: s not in ("auto", "dense", "sparse"))
BAD_DTYPES = st.sampled_from([jnp.int32, "int8", np.bool_, jnp.complex64, "banana", 3])

K = jr.key(0)


@functools.cache
def _network(builder: str):
    """The valid network the state functions are called with, built once."""
    return {
        "cuba": lambda: build_cuba(K, 20),
        "ei_coba": lambda: build_ei_coba(K, 100),
        "brunel2000": lambda: build_brunel2000(K, regime="AI", n_e=400, n_i=100, scale=0.1),
        "wang2002": lambda: build_wang2002(n_e=40, n_i=10),
    }[builder]()


# builder -> (its call with everything else valid and small, {argument: bad values})
INVALID = {
    "cuba": (
        lambda **kw: build_cuba(kw.pop("key", K), kw.pop("n", 20), **kw),
        {
            "key": NOT_KEYS,
            "n": not_size(5),
            "p": not_probability(),
            "frac_exc": st.one_of(st.floats(max_value=0.0), st.floats(min_value=1.0), NOT_FINITE),
            "w_exc_mv": negative(),
            "w_inh_mv": st.one_of(st.floats(min_value=1e-9), NOT_FINITE),
            "tau_mem_ms": not_positive(),
            "tau_exc_ms": not_positive(),
            "tau_inh_ms": not_positive(),
            "t_ref_ms": negative(),
            "v_rest_mv": NOT_FINITE,
            "v_th_mv": st.one_of(st.floats(max_value=-60.0), NOT_FINITE),  # reset is -60
            "v_reset_mv": st.one_of(st.floats(min_value=-50.0), NOT_FINITE),  # th is -50
            "layout": BAD_LAYOUTS,
        },
    ),
    "cuba_state": (
        lambda **kw: cuba_state(_network("cuba"), kw.pop("key", K), **kw),
        {"key": NOT_KEYS, "dtype": BAD_DTYPES},
    ),
    "ei_coba": (
        lambda **kw: build_ei_coba(kw.pop("key", K), kw.pop("n", 100), **kw),
        {
            "key": NOT_KEYS,
            "n": not_size(2),
            "p": not_probability(none_is_default=True),  # p=None: 80 / n
            "frac_exc": st.one_of(st.floats(max_value=0.0), st.floats(min_value=1.0), NOT_FINITE),
            "g_exc": negative(),
            "g_inh": negative(),
            "i_ext_mv": NOT_FINITE,
            "layout": BAD_LAYOUTS,
        },
    ),
    "ei_coba_state": (
        lambda **kw: ei_coba_state(_network("ei_coba"), kw.pop("key", K), **kw),
        {"key": NOT_KEYS, "v_std_mv": negative(), "dtype": BAD_DTYPES},
    ),
    "decision_1k": (
        lambda **kw: build_decision_1k(
            kw.pop("key", K), **{"n_exc": 16, "n_inh": 4, "n_in": 4} | kw
        ),
        {
            "key": NOT_KEYS,
            "n_exc": not_size(4),  # n_in = 4 channels need 4 E neurons
            "n_inh": not_size(1),
            "n_in": st.one_of(not_size(1), st.integers(17, 10**6)),  # > n_exc = 16
            "p": not_probability(),
            "w_mean": NOT_FINITE,
            "w_std": negative(),
            "g_inh": not_positive(),
            "w_in": NOT_FINITE,
            "rate_hz": st.one_of(negative(), st.just(jnp.ones(3))),  # 3 != n_in
            "layout": BAD_LAYOUTS,
        },
    ),
    "brunel2000": (
        lambda **kw: build_brunel2000(
            kw.pop("key", K),
            **({} if "regime" in kw else {"g": 5.0, "eta": 2.0})
            | {"n_e": 400, "n_i": 100, "scale": 0.1}
            | kw,
        ),
        {
            "key": NOT_KEYS,
            "g": negative(),
            "eta": not_positive(),
            "n_e": not_size(1),
            "n_i": not_size(1),
            "epsilon": st.one_of(not_positive(), st.floats(min_value=1.0, exclude_min=True)),
            "j_mv": not_positive(),
            "delay_ms": negative(),
            "theta_mv": st.one_of(st.floats(max_value=10.0), NOT_FINITE),  # reset is 10
            "v_reset_mv": st.one_of(st.floats(min_value=20.0), NOT_FINITE),  # theta is 20
            "tau_m_ms": not_positive(),
            "tau_ref_ms": not_positive(),
            "scale": st.one_of(not_positive(), st.floats(0.0, 0.01, exclude_min=True)),
            "regime": st.text(max_size=8).filter(lambda s: s not in BRUNEL_REGIMES),
        },
    ),
    "brunel2000_state": (
        lambda **kw: brunel2000_state(_network("brunel2000"), kw.pop("key", K), **kw),
        {"key": NOT_KEYS, "dt_ms": not_positive(), "dtype": BAD_DTYPES},
    ),
    "wang2002": (
        lambda **kw: build_wang2002(**{"n_e": 40, "n_i": 10} | kw),
        {
            "n_e": not_size(3),
            "n_i": not_size(1),
            "f": st.one_of(st.floats(max_value=0.0), st.floats(min_value=0.5), NOT_FINITE),
            "w_plus": st.one_of(not_positive(), st.floats(min_value=6.67)),  # w- < 0 above
            "params": st.sampled_from([None, {}, {"g_l_e_ns": 25.0}, 1.0]),
            "dtype": BAD_DTYPES,
        },
    ),
    "wang2002_state": (
        lambda **kw: wang2002_state(_network("wang2002"), kw.pop("key", K), **kw),
        {"key": NOT_KEYS, "dt_ms": not_positive(), "dtype": BAD_DTYPES},
    ),
}


def _names(message: str, argument: str) -> bool:
    """`argument` appears as a word of its own, not as a field of another object
    (`FixedProbability.p` does not name the builder's `p`)."""
    return re.search(rf"(?<![\w.]){re.escape(argument)}(?!\w)", message) is not None


@pytest.mark.parametrize("builder", sorted(INVALID))
@examples(40)
@given(data=st.data())
def test_invalid_argument_is_refused_naming_it(builder, data):
    make, table = INVALID[builder]
    argument = data.draw(st.sampled_from(sorted(table)), label="argument")
    value = data.draw(table[argument], label="value")
    with pytest.raises((ValueError, TypeError)) as info:
        make(**{argument: value})
    message = str(info.value)
    assert _names(message, argument), message
    if argument == "key":
        assert "key must be a PRNG key" in message, message
    assert raised_in_jaxsnn(info), info.getrepr(style="short")

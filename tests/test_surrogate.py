"""The spike function: exact Heaviside forward, surrogate derivatives equal their formulas."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsnn as snn

X = np.concatenate([np.linspace(-3.0, 3.0, 601), [0.0, 0.5, -0.5, 1.0, -1.0, 1e-3, -1e-3]])


def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


# Closed forms from the docstrings of jaxsnn.surrogate, in float64 NumPy.
CASES = [
    (snn.FastSigmoid(), lambda x: 1.0 / (25.0 * np.abs(x) + 1.0) ** 2),
    (snn.FastSigmoid(slope=3.0), lambda x: 1.0 / (3.0 * np.abs(x) + 1.0) ** 2),
    (snn.ArcTan(), lambda x: 1.0 / (1.0 + (np.pi * x) ** 2)),
    (snn.ArcTan(alpha=0.7), lambda x: 0.35 / (1.0 + (np.pi / 2 * 0.7 * x) ** 2)),
    (snn.Triangle(), lambda x: np.maximum(0.0, 1.0 - np.abs(x))),
    (snn.Triangle(width=0.5), lambda x: np.maximum(0.0, 1.0 - np.abs(x) / 0.5) / 0.5),
    (snn.Boxcar(), lambda x: np.where(np.abs(x) < 0.5, 1.0, 0.0)),
    (snn.Boxcar(width=2.0), lambda x: np.where(np.abs(x) < 1.0, 0.5, 0.0)),
    (snn.Sigmoid(), lambda x: 5.0 * _sig(5.0 * x) * _sig(-5.0 * x)),
    (snn.Sigmoid(slope=10.0), lambda x: 10.0 * _sig(10.0 * x) * _sig(-10.0 * x)),
    (snn.TrueGradient(), lambda x: np.zeros_like(x)),
]
IDS = [f"{type(s).__name__}-{i}" for i, (s, _) in enumerate(CASES)]


def _grad(surrogate, x):
    return jax.vmap(jax.grad(lambda v: snn.spike(v, surrogate)))(x)


@pytest.mark.parametrize("surrogate, formula", CASES, ids=IDS)
def test_derivative_equals_closed_form(surrogate, formula):
    with jax.enable_x64(True):
        got64 = np.asarray(_grad(surrogate, jnp.asarray(X)))
    # float64: the same formula evaluated in the same precision, up to a few ulp.
    np.testing.assert_allclose(got64, formula(X), rtol=1e-12, atol=1e-15)
    got32 = _grad(surrogate, jnp.asarray(X, jnp.float32))
    assert got32.dtype == jnp.float32
    # float32: a few ulp of relative error, also in the tails (no cancellation).
    np.testing.assert_allclose(got32, formula(X.astype(np.float32)), rtol=2e-6, atol=1e-30)


def test_values_at_zero_as_documented():
    zero = jnp.float32(0.0)
    assert _grad(snn.FastSigmoid(slope=7.0), zero[None])[0] == 1.0
    assert _grad(snn.ArcTan(alpha=3.0), zero[None])[0] == 1.5
    assert _grad(snn.Triangle(width=0.25), zero[None])[0] == 4.0
    assert _grad(snn.Boxcar(width=0.25), zero[None])[0] == 4.0
    assert _grad(snn.Sigmoid(slope=8.0), zero[None])[0] == 2.0


@pytest.mark.parametrize(
    "surrogate, integral",
    [
        # Integrals over [-L, L] of the documented g, L = 40.
        (snn.FastSigmoid(slope=2.0), 2 / 2.0 * (1 - 1 / (1 + 2.0 * 40))),
        (snn.ArcTan(alpha=2.0), 2 / math.pi * math.atan(math.pi * 40)),
        (snn.Triangle(width=0.7), 1.0),
        (snn.Boxcar(width=0.7), 1.0),
        (snn.Sigmoid(slope=5.0), 1.0),
    ],
    ids=lambda x: type(x).__name__ if isinstance(x, snn.AbstractSurrogate) else "",
)
def test_integrals_as_documented(surrogate, integral):
    """All but FastSigmoid integrate to one (ArcTan up to its slowly decaying tails)."""
    with jax.enable_x64(True):
        x = np.linspace(-40.0, 40.0, 800_001)  # step 1e-4
        g = np.asarray(_grad(surrogate, jnp.asarray(x)))
    # Trapezoid rule; the Boxcar's jumps cost at most one step of 1e-4 · height.
    assert np.trapezoid(g, x) == pytest.approx(integral, abs=5e-4)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16, jnp.float16])
def test_forward_is_exact_heaviside_in_input_dtype(dtype):
    tiny = jnp.finfo(dtype).tiny  # smallest normal number: XLA flushes subnormals to zero
    x = jnp.asarray([0.0, -0.0, tiny, -tiny, 1.0, -1.0, 1e-3], dtype)
    out = snn.spike(x, snn.FastSigmoid())
    assert out.dtype == dtype
    np.testing.assert_array_equal(np.asarray(out, np.float32), [0, 0, 1, 0, 1, 0, 1])


def test_forward_matches_comparison_on_random_values():
    x = jax.random.normal(jax.random.key(0), (10_000,))
    np.testing.assert_array_equal(snn.spike(x, snn.ArcTan()), (np.asarray(x) > 0))


def test_float64_forward_at_threshold():
    with jax.enable_x64(True):
        v, v_th = jnp.float64(1.0), 1.0
        assert snn.spike(v - v_th, snn.Triangle()) == 0.0
        assert snn.spike(jnp.nextafter(v, 2.0) - v_th, snn.Triangle()) == 1.0


def test_jvp_jacfwd_and_vmap_see_the_surrogate():
    sur = snn.ArcTan(alpha=2.0)
    x = jnp.asarray([-0.4, 0.0, 0.3], jnp.float32)
    dx = jnp.asarray([1.0, 2.0, -1.0], jnp.float32)
    primal, tangent = jax.jvp(lambda v: snn.spike(v, sur), (x,), (dx,))
    g = np.asarray(_grad(sur, x))
    np.testing.assert_array_equal(primal, [0.0, 0.0, 1.0])
    # float32: one product apart.
    np.testing.assert_allclose(tangent, g * np.asarray(dx), rtol=1e-6)
    np.testing.assert_allclose(jax.jacfwd(lambda v: snn.spike(v, sur))(x), np.diag(g), rtol=1e-6)
    np.testing.assert_allclose(jax.jacrev(lambda v: snn.spike(v, sur))(x), np.diag(g), rtol=1e-6)


def test_traced_surrogate_parameter_can_be_vmapped():
    slopes = jnp.asarray([1.0, 2.0, 4.0], jnp.float32)
    x = jnp.float32(0.3)
    got = jax.vmap(lambda s: jax.grad(lambda v: snn.spike(v, snn.FastSigmoid(s)))(x))(slopes)
    # float32 evaluation of the same formula.
    np.testing.assert_allclose(got, 1.0 / (np.asarray(slopes) * 0.3 + 1.0) ** 2, rtol=1e-6)


@pytest.mark.parametrize(
    "cls", [snn.FastSigmoid, snn.ArcTan, snn.Triangle, snn.Boxcar, snn.Sigmoid]
)
@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan")])
def test_bad_parameter_is_rejected(cls, bad):
    with pytest.raises(ValueError, match=r"must be|finite"):
        cls(bad)

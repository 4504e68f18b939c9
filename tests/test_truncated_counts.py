"""`TruncatedPoissonCounts`: the law of the counts against the Poisson pmf (SciPy), the
tail bound, no count above K, per-neuron means, and the bad-input checks; it drops into
`PoissonDrive` as its counts model."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from scipy import stats

import jaxsnn as snn
from jaxsnn.inputs.truncated_counts import TruncatedPoissonCounts, tail_mass


@pytest.mark.parametrize("mean", [0.05, 0.24, 0.9])
def test_counts_follow_the_poisson_law(mean):
    counts = TruncatedPoissonCounts()
    n = 400_000
    k = np.asarray(counts.sample(jr.key(0), 1, jnp.float32(mean), (n,), jnp.float32))
    assert k.max() <= 8 and k.min() >= 0 and np.all(k == np.round(k))
    observed = np.bincount(k.astype(int), minlength=9)[:5] / n
    expected = stats.poisson.pmf(np.arange(5), mean)
    # binomial standard errors of the frequencies, 5 sigma
    se = np.sqrt(expected * (1 - expected) / n)
    np.testing.assert_allclose(observed, expected, atol=5 * se.max() + 1e-6)
    assert k.mean() == pytest.approx(mean, abs=5 * np.sqrt(mean / n))


def test_tail_mass_and_truncation():
    assert tail_mass(0.5, 8) == pytest.approx(stats.poisson.sf(8, 0.5), rel=1e-9)
    assert tail_mass(0.5, 8) < 3.5e-9
    assert tail_mass(1.0, 8) < 1.2e-6
    assert tail_mass(0.0, 8) == 0.0
    assert tail_mass(0.24, 1) == pytest.approx(1 - stats.poisson.cdf(1, 0.24))
    # with K = 1 the counts are 0/1 with P(1) = P(X = 1) of the Poisson law
    k = TruncatedPoissonCounts(max_count=1).sample(jr.key(1), 1, 0.5, (200_000,), jnp.float32)
    assert float(k.max()) == 1.0
    assert float(k.mean()) == pytest.approx(stats.poisson.pmf(1, 0.5), abs=0.005)


def test_per_neuron_means_and_vmap():
    counts = TruncatedPoissonCounts()
    p = jnp.array([0.0, 0.1, 0.5], jnp.float32)
    draw = jax.vmap(lambda k: counts.sample(k, 2, p, (3,), jnp.float32))
    k = np.asarray(draw(jr.split(jr.key(2), 100_000)))
    assert np.all(k[:, 0] == 0)
    np.testing.assert_allclose(k.mean(0), [0.0, 0.2, 1.0], atol=0.01)


def test_in_a_poisson_drive_and_bad_inputs():
    drive = snn.PoissonDrive(
        "d", "P", 10, n_sources=1, rate_hz=2400.0, counts=TruncatedPoissonCounts()
    )
    with pytest.raises(ValueError, match="rate_hz · dt_ms / 1000"):
        drive.check_data(jnp.asarray(20_000.0), 10, 0.1)  # a mean of 2 per step
    with pytest.raises(ValueError, match="max_count"):
        TruncatedPoissonCounts(max_count=0)
    with pytest.raises(ValueError, match="max_mean"):
        TruncatedPoissonCounts(max_mean=-1.0)

"""`jaxsnn.training.report`: the Student-t quantile and the confidence interval over
seeds against SciPy, and bad input."""

import math

import numpy as np
import pytest
from scipy import stats

from jaxsnn.training import seeds_summary, student_t_quantile
from jaxsnn.training.report import regularized_beta, student_t_cdf


@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 9, 19, 30, 100, 1000, 2.5])
@pytest.mark.parametrize("q", [0.5, 0.6, 0.9, 0.975, 0.995, 0.025])
def test_quantile_matches_scipy(q, df):
    # both are float64 computations of the same function: agreement to 1e-10 relative
    np.testing.assert_allclose(student_t_quantile(q, df), stats.t.ppf(q, df), rtol=1e-10,
                               atol=1e-12)  # fmt: skip


@pytest.mark.parametrize("t", [-30.0, -2.0, -0.1, 0.0, 0.7, 3.0, 50.0])
@pytest.mark.parametrize("df", [1, 4, 25])
def test_cdf_matches_scipy(t, df):
    np.testing.assert_allclose(student_t_cdf(t, df), stats.t.cdf(t, df), rtol=1e-12, atol=1e-15)


def test_regularized_beta_matches_scipy():
    for a, b, x in [(0.5, 0.5, 0.3), (2.0, 0.5, 0.9), (10.0, 3.0, 0.5), (0.5, 20.0, 0.01)]:
        np.testing.assert_allclose(regularized_beta(a, b, x), stats.beta.cdf(x, a, b), rtol=1e-12)
    assert regularized_beta(2.0, 3.0, 0.0) == 0.0 and regularized_beta(2.0, 3.0, 1.0) == 1.0


def test_known_value():
    # the 97.5 % point with 4 degrees of freedom, from any table: 2.776445
    assert student_t_quantile(0.975, 4) == pytest.approx(2.7764451051977987, rel=1e-12)


def test_summary_matches_scipy_interval():
    accs = [0.962, 0.955, 0.971, 0.949, 0.966]
    s = seeds_summary(accs)
    a = np.asarray(accs)
    lo, hi = stats.t.interval(0.95, len(a) - 1, loc=a.mean(), scale=stats.sem(a))
    assert s.n == 5 and s.level == 0.95
    np.testing.assert_allclose([s.mean, s.std], [a.mean(), a.std(ddof=1)], rtol=1e-14)
    np.testing.assert_allclose([s.ci_low, s.ci_high], [lo, hi], rtol=1e-12)
    assert s.half_width == pytest.approx((hi - lo) / 2, rel=1e-10)
    assert "± 0.0" in str(s) and "5 seeds" in str(s)


def test_other_levels():
    a = np.asarray([1.0, 2.0, 4.0])
    s = seeds_summary(a, level=0.9)
    lo, hi = stats.t.interval(0.9, 2, loc=a.mean(), scale=stats.sem(a))
    np.testing.assert_allclose([s.ci_low, s.ci_high], [lo, hi], rtol=1e-12)


def test_identical_seeds_give_a_zero_width_interval():
    s = seeds_summary([0.9, 0.9, 0.9])
    assert s.std == 0.0 and s.ci_low == s.ci_high == pytest.approx(0.9)


@pytest.mark.parametrize(
    ("accs", "kw", "message"),
    [
        ([0.9], {}, "at least 2 values"),
        ([[0.9, 0.8]], {}, "1-D sequence"),
        ([0.9, math.nan], {}, "must be finite"),
        ([0.9, 0.8], {"level": 1.0}, r"level must be in \(0, 1\)"),
    ],
)
def test_bad_input_is_named(accs, kw, message):
    with pytest.raises(ValueError, match=message):
        seeds_summary(accs, **kw)


def test_bad_quantile_arguments():
    with pytest.raises(ValueError, match="q must be in"):
        student_t_quantile(1.0, 3)
    with pytest.raises(ValueError, match="df must be > 0"):
        student_t_quantile(0.9, 0)

"""jaxsnn.plot's psychometric and chronometric curves and the phase plane: what is drawn
(points, error bars, fitted and reference curves, nullclines, fixed points), labels,
drawing on a given Axes, no file written, and bad input."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import jaxsnn.plot as jp  # noqa: E402
from jaxsnn.psychophysics import weibull_accuracy  # noqa: E402

C = np.array([0.0, 3.2, 6.4, 12.8, 25.6, 51.2])
ACC = np.array([0.5, 0.6, 0.72, 0.9, 0.98, 1.0])


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_psychometric_points_fit_reference_and_labels(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ci = np.stack([ACC - 0.05, np.minimum(ACC + 0.05, 1.0)], -1)
    fit = lambda c: weibull_accuracy(c, 9.0, 1.4)
    ref = lambda c: weibull_accuracy(c, 9.2, 1.5)
    ax = jp.psychometric(C, ACC, ci=ci, fit=fit, fit_label="fit", reference=ref)
    assert ax.get_xscale() == "log"
    assert ax.get_ylabel() == "fraction correct" and ax.get_xlabel() == "coherence (%)"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["fit", "reference", "model"]
    # zero coherence is drawn at half the smallest positive one and labelled "0"
    line = ax.containers[0].lines[0]
    assert line.get_xdata()[0] == pytest.approx(1.6)
    assert ax.get_xticklabels()[0].get_text() == "0"
    fit_line = next(line for line in ax.get_lines() if line.get_label() == "fit")
    np.testing.assert_allclose(fit_line.get_ydata(), fit(fit_line.get_xdata()))
    assert not list(tmp_path.iterdir())  # plots write nothing


def test_chronometric_on_a_given_axes_skips_nan():
    fig, ax = plt.subplots()
    rt = np.array([800.0, 750.0, np.nan, 600.0, 450.0, 350.0])
    out = jp.chronometric(C, rt, error_ms=np.full(6, 50.0), ax=ax, log_x=False)
    assert out is ax and ax.get_xscale() == "linear"
    assert ax.get_ylabel() == "decision time (ms)"
    assert len(ax.get_lines()[0].get_xdata()) == 5


def test_phase_plane_draws_nullclines_points_and_trajectories():
    one = np.stack([np.linspace(0, 1, 50), np.linspace(1, 0, 50)], -1)
    two = np.stack([np.linspace(0, 1, 50), np.linspace(0, 1, 50)], -1)
    fps = np.array([[0.1, 0.6], [0.4, 0.4], [0.6, 0.1]])
    traj = np.stack([np.linspace(0.1, 0.6, 20), np.linspace(0.1, 0.1, 20)], -1)
    xy = np.stack(np.meshgrid(np.linspace(0, 1, 5), np.linspace(0, 1, 5)), -1).reshape(-1, 2)
    ax = jp.phase_plane(
        [one, two],
        fixed_points=fps,
        stable=[True, False, True],
        trajectories=[traj],
        vector_field=(xy, -xy),
    )
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["d$S_1$/dt = 0", "d$S_2$/dt = 0", "stable", "unstable / saddle"]
    assert ax.get_xlim() == (0.0, 1.0) and ax.get_xlabel() == "$S_1$"


def test_bad_input():
    with pytest.raises(ValueError, match="accuracy must have shape"):
        jp.psychometric(C, ACC[:3])
    with pytest.raises(ValueError, match="accuracy must lie in"):
        jp.psychometric(C, ACC + 0.5)
    with pytest.raises(ValueError, match="coherence must be finite and >= 0"):
        jp.psychometric(-C, ACC)
    with pytest.raises(ValueError, match="ci must have shape"):
        jp.psychometric(C, ACC, ci=np.zeros((6, 3)))
    with pytest.raises(ValueError, match="error_ms must have shape"):
        jp.chronometric(C, ACC, error_ms=[1.0])
    with pytest.raises(ValueError, match=r"nullclines\[0\] must be a \(points, 2\)"):
        jp.phase_plane([np.zeros((5, 3))])
    with pytest.raises(ValueError, match="stable must have shape"):
        jp.phase_plane([], fixed_points=np.zeros((2, 2)), stable=[True])
    with pytest.raises(ValueError, match="nullcline_labels"):
        jp.phase_plane([np.zeros((5, 2))], nullcline_labels=["a", "b"])

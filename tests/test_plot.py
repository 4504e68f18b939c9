"""jaxsnn.plot: one mark per spike, closed-form rates and intervals, unit labels, drawing on
a given Axes, no file written except by `save`, atomic umask-respecting writes, bad input,
and the decision CLI's figures drawn on top of it."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import jax.random as jr
import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

import jaxsnn as snn  # noqa: E402
import jaxsnn.plot as jp  # noqa: E402
from jaxsnn.events import from_dense  # noqa: E402

DT = 0.5


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _spikes(seed=0, shape=(200, 30), p=0.05):
    rng = np.random.default_rng(seed)
    return (rng.random(shape) < p).astype(np.float32)


def _marks(ax):
    return sum(len(c.get_offsets()) for c in ax.collections)


def _projection(layout):
    pre = snn.Population("a", 12, dale="inhibitory")
    post = snn.Population("b", 9)
    return snn.connect(
        pre, post, snn.FixedProbability(0.3), snn.Normal(1.0, 0.2), key=jr.key(0), layout=layout
    )


# --- raster -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["numpy", "jax", "events", "bool"])
def test_raster_draws_one_mark_per_spike(kind):
    s = _spikes()
    x = {
        "numpy": s,
        "jax": jnp.asarray(s),
        "events": from_dense(jnp.asarray(s)),
        "bool": s > 0,
    }[kind]
    ax = jp.raster(x, dt_ms=DT)
    assert _marks(ax) == int(s.sum()) > 0
    # a spike of step i sits at the end of the step, as SpikeEvents.times_ms has it
    t, n = np.nonzero(s)
    np.testing.assert_allclose(
        np.sort(ax.collections[0].get_offsets()[:, 0]), np.sort((t + 1) * DT)
    )
    assert ax.get_xlim() == (0.0, s.shape[0] * DT)


def test_raster_counts_per_window_give_one_mark_per_spike():
    counts = np.zeros((4, 3))
    counts[1, 2] = 3  # three spikes in one recording window (Record(every=...))
    counts[3, 0] = 1
    assert _marks(jp.raster(counts, dt_ms=10.0)) == 4


def test_raster_stacks_populations_first_at_the_bottom():
    exc, inh = _spikes(0, (100, 20)), _spikes(1, (100, 5), p=0.2)
    ax = jp.raster({"exc": exc, "inh": from_dense(jnp.asarray(inh))}, dt_ms=DT)
    assert _marks(ax) == int(exc.sum() + inh.sum())
    y_exc = ax.collections[0].get_offsets()[:, 1]
    y_inh = ax.collections[1].get_offsets()[:, 1]
    assert y_exc.max() < 20 <= y_inh.min() and y_inh.max() < 25
    assert [t.get_text() for t in ax.get_yticklabels()] == ["exc", "inh"]
    colors = [tuple(c.get_facecolor()[0]) for c in ax.collections[:2]]
    assert colors[0] != colors[1]


def test_raster_max_neurons_draws_the_first_neurons():
    s = _spikes(p=0.2)
    ax = jp.raster(s, dt_ms=DT, max_neurons=10)
    assert _marks(ax) == int(s[:, :10].sum())
    assert ax.collections[0].get_offsets()[:, 1].max() < 10


def test_raster_rate_histogram_is_the_population_rate_in_hz():
    # neuron 0 fires every step, neuron 1 never: 1000/dt/2 Hz per step for the population
    s = np.zeros((40, 2), np.float32)
    s[:, 0] = 1
    axes = jp.raster(s, dt_ms=1.0, rate_histogram=True, bin_ms=10.0)
    assert isinstance(axes, jp.RasterAxes)
    assert axes.raster.get_shared_x_axes().joined(axes.raster, axes.rate)
    (stairs,) = axes.rate.patches
    np.testing.assert_allclose(stairs.get_data().values, 500.0)
    np.testing.assert_allclose(stairs.get_data().edges, [0, 10, 20, 30, 40])
    assert axes.rate.get_xlabel() == "time (ms)" and axes.rate.get_ylabel() == "rate (Hz)"


def test_raster_rate_histogram_on_given_axes():
    s = _spikes()
    fig, (a, b) = plt.subplots(2, 1, sharex=True)
    out = jp.raster({"p": s}, dt_ms=DT, ax=a, rate_histogram=b)
    assert out == (a, b) and len(b.patches) == 1


# --- rates, intervals, traces -----------------------------------------------------------


def test_population_rate_from_spikes_and_from_rates_hz():
    s = np.zeros((30, 4), np.float32)
    s[::3, :] = 1  # every neuron every 3rd step of 2 ms: 1000 / 6 Hz
    ax = jp.population_rate(s, dt_ms=2.0, bin_ms=6.0)
    np.testing.assert_allclose(ax.patches[0].get_data().values, 1000.0 / 6.0)
    # Recording.rates_hz: a rate per window, drawn as is or averaged over bins
    rates = np.array([10.0, 20.0, 30.0, 40.0, 50.0])
    ax = jp.population_rate({"exc": rates}, dt_ms=5.0)
    np.testing.assert_allclose(ax.patches[0].get_data().values, rates)
    ax = jp.population_rate({"exc": rates}, dt_ms=5.0, bin_ms=10.0)
    np.testing.assert_allclose(ax.patches[0].get_data().values, [15.0, 35.0, 50.0])
    assert ax.get_ylabel() == "rate (Hz)"


def test_isi_histogram_closed_form():
    s = np.zeros((31, 3), np.float32)
    s[::3, 0] = 1  # 11 spikes, 10 intervals of 3 steps
    s[::5, 1] = 1  # 7 spikes, 6 intervals of 5 steps
    ax = jp.isi_histogram(from_dense(jnp.asarray(s)), dt_ms=DT, bins=[0.0, 2.0, 4.0])
    np.testing.assert_array_equal([p.get_height() for p in ax.patches], [10, 6])
    assert ax.get_xlabel() == "ISI (ms)"


def test_rate_histogram_from_spikes_equals_from_counts():
    s = _spikes(p=0.1)
    a = jp.rate_histogram(s, dt_ms=DT, bins=np.linspace(0, 400, 9))
    b = jp.rate_histogram(s.sum(0), duration_ms=s.shape[0] * DT, bins=np.linspace(0, 400, 9))
    heights = [p.get_height() for p in a.patches]
    assert heights == [p.get_height() for p in b.patches] and sum(heights) == s.shape[1]
    assert a.get_xlabel() == "rate (Hz)"


def test_membrane_traces_threshold_and_spike_marks():
    v = np.linspace(-70.0, -50.0, 40)[:, None] * np.ones((1, 3))
    s = np.zeros((40, 3))
    s[[5, 17, 30], [0, 1, 2]] = 1
    ax = jp.membrane_traces(v, dt_ms=DT, threshold_mv=-50.0, spikes=s)
    assert len(ax.lines) == 4  # three traces, one threshold
    threshold = ax.lines[-1]
    assert threshold.get_linestyle() == "--" and threshold.get_ydata()[0] == -50.0
    assert _marks(ax) == 3
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("time (ms)", "V (mV)")
    # one threshold per trace: one dashed line each
    ax = jp.membrane_traces({"exc": v}, dt_ms=DT, threshold_mv={"exc": [-50.0, -51.0, -52.0]})
    assert sum(line.get_linestyle() == "--" for line in ax.lines) == 3


# --- weights, features, training --------------------------------------------------------


@pytest.mark.parametrize("layout", ["dense", "sparse"])
def test_weight_matrix_of_a_projection(layout):
    proj = _projection(layout)
    ax = jp.weight_matrix(proj, units="mV")
    image = ax.images[0]
    shown = image.get_array()
    assert shown.shape == (12, 9)
    assert int(np.sum(~np.ma.getmaskarray(shown))) == proj.n_synapses  # absent: blank
    assert image.get_cmap().name.startswith("viridis")  # all inhibitory: one sign
    assert ax.figure.axes[-1].get_ylabel() == "weight (mV)"  # the colour bar


def test_weight_matrix_signed_is_centred_at_zero():
    w = np.array([[-1.0, 0.5], [0.2, 0.0]])
    image = jp.weight_matrix(w).images[0]
    assert image.get_clim() == (-1.0, 1.0) and image.get_cmap().name.startswith("RdBu_r")


def test_weight_histogram_counts_existing_synapses():
    proj = _projection("sparse")
    ax = jp.weight_histogram(proj, units="mV")
    assert sum(p.get_height() for p in ax.patches) == proj.n_synapses
    assert ax.get_xlabel() == "weight (mV)"


def test_feature_summary_one_histogram_per_feature():
    rng = np.random.default_rng(0)
    cv = rng.random(20)
    cv[:4] = np.nan  # silent neurons have no CV
    fig = plt.figure()
    axes = jp.feature_summary(
        {"rate": rng.random(20), "cv": cv, "fano": rng.random(20)},
        fig=fig,
        ncols=2,
        units={"rate": "Hz"},
    )
    assert len(axes) == 3 and all(a.figure is fig for a in axes) and len(fig.axes) == 3
    assert axes[0].get_xlabel() == "rate (Hz)" and "16 of 20" in axes[1].get_title()


def test_training_curves():
    ax = jp.training_curves(np.exp(-np.arange(10.0)), log_scale=True)
    assert isinstance(ax, Axes) and ax.get_yscale() == "log" and ax.get_xlabel() == "step"
    axes = jp.training_curves([1.0, 0.5, 0.2], [0.5, 0.7, 0.9])
    assert isinstance(axes, jp.TrainingAxes) and axes.accuracy.get_ylabel() == "accuracy"


# --- every function: draws on a given Axes, writes nothing ------------------------------

_S = _spikes(shape=(40, 6), p=0.3)
CALLS = {
    "raster": lambda ax: jp.raster(_S, dt_ms=DT, ax=ax),
    "membrane_traces": lambda ax: jp.membrane_traces(-60 + _S[:, :2], dt_ms=DT, ax=ax),
    "population_rate": lambda ax: jp.population_rate(_S, dt_ms=DT, ax=ax),
    "isi_histogram": lambda ax: jp.isi_histogram(_S, dt_ms=DT, ax=ax),
    "rate_histogram": lambda ax: jp.rate_histogram(_S, dt_ms=DT, ax=ax),
    "weight_matrix": lambda ax: jp.weight_matrix(_S[:5], ax=ax),
    "weight_histogram": lambda ax: jp.weight_histogram(_S, ax=ax),
    "training_curves": lambda ax: jp.training_curves([3.0, 2.0, 1.0], ax=ax),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_draws_on_the_given_axes_and_writes_nothing(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fig, ax = plt.subplots()
    assert CALLS[name](ax) is ax
    assert isinstance(CALLS[name](None), Axes)  # a new figure
    assert ax.get_xlabel() and ax.get_ylabel()
    fig.canvas.draw()
    assert list(tmp_path.iterdir()) == []


def test_import_loads_no_matplotlib_and_agg_only_without_a_chosen_backend():
    script = (
        "import sys, numpy as np\n"
        "import jaxsnn, jaxsnn.plot as jp\n"
        "assert 'matplotlib' not in sys.modules\n"
        "jp.raster(np.eye(3), dt_ms=1.0)\n"
        "import matplotlib; print(matplotlib.get_backend().lower())\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    run = lambda env: subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert run(env).stdout.split()[-1] == "agg"
    assert run({**env, "MPLBACKEND": "svg"}).stdout.split()[-1] == "svg"


# --- save ---------------------------------------------------------------------------------


@pytest.fixture
def umask():
    def set_mask(mask):
        os.umask(mask)

    old = os.umask(0o022)
    yield set_mask
    os.umask(old)


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_save_writes_atomically_with_the_umask_mode(tmp_path, umask, mask):
    umask(mask)
    ax = jp.raster(_S, dt_ms=DT)
    path = jp.save(ax, tmp_path / "sub" / "raster.png", dpi=50)
    assert path == tmp_path / "sub" / "raster.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask
    assert [p.name for p in path.parent.iterdir()] == ["raster.png"]  # no temp file left


def test_save_formats_and_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    axes = jp.training_curves([1.0, 0.5], [0.4, 0.6])
    assert jp.save(axes, tmp_path / "c.svg").read_text().lstrip().startswith("<?xml")
    jp.save(axes.loss.figure, tmp_path / "c.pdf")
    assert (tmp_path / "c.pdf").read_bytes()[:4] == b"%PDF"
    before = (tmp_path / "c.pdf").read_bytes()

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        jp.save(jp.raster(_S, dt_ms=DT), tmp_path / "c.pdf")
    assert (tmp_path / "c.pdf").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.pdf", "c.svg"]


def test_save_rejects_unknown_format_and_non_figures(tmp_path):
    ax = jp.raster(_S, dt_ms=DT)
    with pytest.raises(ValueError, match="format"):
        jp.save(ax, tmp_path / "raster")
    with pytest.raises(ValueError, match="format"):
        jp.save(ax, tmp_path / "raster.xyz")
    with pytest.raises(ValueError, match="figure"):
        jp.save("raster", tmp_path / "raster.png")
    assert list(tmp_path.iterdir()) == []


# --- bad input ----------------------------------------------------------------------------


BAD = [
    (lambda: jp.raster(np.zeros((2, 3, 4)), dt_ms=DT), "spikes must be a \\(time, neuron\\)"),
    (lambda: jp.raster(np.zeros(5), dt_ms=DT), "spikes must be a \\(time, neuron\\)"),
    (lambda: jp.raster(_S, dt_ms=-1.0), "dt_ms must be > 0"),
    (lambda: jp.raster(_S, dt_ms=[1.0, 2.0]), "dt_ms must be one number"),
    (lambda: jp.raster(_S * 0.5, dt_ms=DT), "spikes must hold whole spike counts"),
    (lambda: jp.raster({"a": _S, "b": _S[:10]}, dt_ms=DT), "same samples"),
    (lambda: jp.raster({}, dt_ms=DT), "spikes must hold at least one population"),
    (lambda: jp.raster(_S, dt_ms=DT, rate_histogram=True, bin_ms=0.7), "bin_ms must be a whole"),
    (lambda: jp.raster(_S, dt_ms=DT, max_neurons=0), "max_neurons must be >= 1"),
    (lambda: jp.raster(_S, dt_ms=DT, ax="left"), "ax must be a matplotlib Axes"),
    (lambda: jp.raster({"a": _S}, dt_ms=DT, colors={"b": "r"}), "colors"),
    (lambda: jp.membrane_traces(np.zeros((2, 3, 4)), dt_ms=DT), "v must be \\(time,\\)"),
    (
        lambda: jp.membrane_traces(np.zeros((40, 2)), dt_ms=DT, spikes=_S),
        "spikes must match v's shape",
    ),
    (
        lambda: jp.membrane_traces(np.zeros((40, 2)), dt_ms=DT, threshold_mv=[1.0, 2.0, 3.0]),
        "threshold_mv must be a number or one per trace",
    ),
    (
        lambda: jp.membrane_traces({"a": np.zeros((40, 6))}, dt_ms=DT, spikes={"b": _S}),
        "spikes names populations that v does not hold",
    ),
    (lambda: jp.population_rate(np.zeros((2, 3, 4)), dt_ms=DT), "data must be"),
    (lambda: jp.population_rate(_S, dt_ms=0.0), "dt_ms must be > 0"),
    (lambda: jp.isi_histogram(np.zeros((2, 3, 4)), dt_ms=DT), "spikes must be"),
    (lambda: jp.rate_histogram(_S), "give dt_ms"),
    (lambda: jp.rate_histogram(_S.sum(0)), "give duration_ms"),
    (lambda: jp.rate_histogram(_S.sum(0), duration_ms=-5.0), "duration_ms must be > 0"),
    (lambda: jp.weight_matrix(np.zeros(5)), "weights must be a \\(pre, post\\) matrix"),
    (lambda: jp.weight_matrix(np.eye(2), cmap="nope"), "cmap must name"),
    (lambda: jp.weight_histogram(np.array([np.nan])), "weights holds no finite weight"),
    (lambda: jp.feature_summary({}), "features must be a non-empty dict"),
    (lambda: jp.feature_summary({"r": np.zeros((3, 2))}), "features\\['r'\\] must be \\(n,\\)"),
    (lambda: jp.training_curves(np.zeros((2, 2))), "losses must be \\(steps,\\)"),
    (lambda: jp.training_curves([1.0, 2.0], [1.0]), "accuracies must be shaped like losses"),
]


@pytest.mark.parametrize("call, message", BAD, ids=range(len(BAD)))
def test_bad_input_raises_value_error_naming_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_batched_or_overflowed_event_lists():
    events = from_dense(jnp.asarray(_S))
    batched = jax.tree.map(lambda a: jnp.stack([a, a]), events)
    with pytest.raises(ValueError, match="spikes must be one SpikeEvents list.*index a trial"):
        jp.raster(batched, dt_ms=DT)
    short = from_dense(jnp.asarray(_S), capacity=5)
    with pytest.warns(UserWarning, match="overflowed"):
        assert _marks(jp.raster(short, dt_ms=DT)) == 5


# --- the decision CLI's figures -----------------------------------------------------------


def test_decision_figures_use_jaxsnn_plot(tmp_path, umask):
    from jaxsnn.decision.plots import plot_loss, plot_raster, write_summary

    umask(0o027)
    panels = [("label 0", {"exc": _S, "inh": _S[:, :3]}), ("label 1", {"exc": _S, "inh": _S})]
    files = [
        plot_raster(tmp_path / "raster.png", panels, dt_ms=DT, window_ms=20.0),
        plot_loss(tmp_path / "loss.png", [1.0, 0.5], [0.5, 0.75], title="t"),
        write_summary(tmp_path / "summary.json", {"a": 1}),
    ]
    for path in files:
        assert Path(path).stat().st_size > 0
        assert stat.S_IMODE(Path(path).stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loss.png", "raster.png", "summary.json"]
    assert plt.get_fignums() == []  # closed after writing

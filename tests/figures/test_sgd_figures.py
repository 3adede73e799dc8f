"""SGD figures built from tiny results: traces, axes, titles."""

from __future__ import annotations

import numpy as np
import pytest

from regopt_core import sgd
from regopt_core.figures import sgd as figs


@pytest.fixture(scope="module")
def ls():
    X, y, _ = sgd.diabetes_pair()
    return sgd.least_squares(X, y)


@pytest.fixture(scope="module")
def runs(ls):
    return sgd.compare_batch_sizes(ls, np.array([-1.0, 2.0]), (1, 16, 442), lr=0.1, n_epochs=2, n_record=None,
                                   keep_path=True, rng=np.random.default_rng(0))


def test_loss_curves_one_chart_per_clock_same_runs(runs):
    figs3 = figs.fig_loss_clocks(runs)
    assert [f.layout.title.text for f in figs3] == ["per update", "per epoch", "per example processed"]
    for k, fig in enumerate(figs3):
        lines = [t for t in fig.data if t.mode == "lines"]
        assert [t.name for t in lines] == ["B = 1", "B = 16", "B = 442 (full)"]
        assert all(bool(t.showlegend) == (k == 0) for t in lines)  # one legend, in the first chart
    upd, ep, ex = figs3
    assert upd.layout.xaxis.type == "log" and ex.layout.xaxis.type == "log" and ep.layout.xaxis.type != "log"
    assert upd.layout.xaxis.dtick == 1  # theme.log_axis: labels at powers of ten only
    assert "epoch" in ep.layout.xaxis.title.text
    # the epoch chart of the full-batch run: x = 0, 1, 2 epochs; examples chart: multiples of N
    full_ep = [t for t in ep.data if t.name == "B = 442 (full)"][0]
    full_ex = [t for t in ex.data if t.name == "B = 442 (full)"][0]
    np.testing.assert_allclose(full_ep.x, [0, 1, 2])
    np.testing.assert_allclose(full_ex.x, [442, 884])
    # no figure title collides with subplot titles: there are none
    assert all(not f.layout.annotations for f in figs3)


def test_loss_clocks_row_is_one_wide_figure_with_the_same_runs(runs):
    """Presentation mode: the three clocks in one figure, same curves, one legend, no figure title."""
    row = figs.fig_loss_clocks_row(runs, y_title="loss")
    assert [a.text for a in row.layout.annotations] == ["per update", "per epoch", "per example processed"]
    assert not row.layout.title.text
    by_axis = {}
    for t in row.data:
        by_axis.setdefault(t.xaxis, []).append(t)
    assert sorted(by_axis) == ["x", "x2", "x3"]
    for ref, clock in zip(("x", "x2", "x3"), figs.CLOCKS):
        ref_fig = figs.fig_loss_clock(runs, clock)
        for a, b in zip(by_axis[ref], ref_fig.data, strict=True):
            np.testing.assert_array_equal(a.x, b.x)
            np.testing.assert_array_equal(a.y, b.y)
    assert row.layout.xaxis.type == "log" and row.layout.xaxis3.type == "log" and row.layout.xaxis2.type != "log"
    assert sum(bool(t.showlegend) for t in row.data if t.mode == "lines") == 3
    assert row.layout.legend.orientation == "v" and row.layout.legend.x > 1  # beside the panels, not over titles
    assert row.layout.yaxis.title.text == "loss"


def test_loss_curves_mark_divergence(ls):
    res = sgd.compare_batch_sizes(ls, np.zeros(2), (1,), lr=2.5, n_epochs=2, rng=np.random.default_rng(0))
    fig = figs.fig_loss_clock(res, "updates")
    assert any("diverged at step" in (t.name or "") for t in fig.data)
    assert any(t.mode == "markers" and t.marker.symbol == "x" for t in fig.data)


def test_trajectories(ls, runs):
    w1 = np.linspace(-1.5, 2.5, 41)
    w2 = np.linspace(-1.5, 2.5, 31)
    grid = ls.loss_grid(w1, w2)
    assert grid.shape == (31, 41)
    # grid agrees with the loss at a grid point
    assert grid[5, 7] == pytest.approx(ls.loss(np.array([w1[7], w2[5]])), rel=1e-12)
    fig = figs.fig_trajectories(runs, w1, w2, grid, ls.minimizer(), names=("BMI weight", "s5 weight"))
    assert fig.data[0].type == "contour"
    paths = [t for t in fig.data if t.type == "scatter" and t.mode == "lines"]
    assert len(paths) == 3 and len(paths[0].x) == len(runs.traces[0].path)  # 885 points: not thinned
    assert fig.layout.yaxis.scaleanchor == "x"
    assert fig.layout.xaxis.title.text == "BMI weight"
    assert any(t.name == "minimum θ*" for t in fig.data)


def test_gradient_noise_figures(ls):
    g = ls.per_example_grads(np.array([-1.0, 2.0]))
    a = sgd.measure_gradient_noise(g, n_draws=200, cloud_batch_sizes=(1, 16), rng=np.random.default_rng(0))
    b = sgd.measure_gradient_noise(g, n_draws=200, replace=True, rng=np.random.default_rng(1))
    cloud = figs.fig_gradient_cloud(a)
    assert [t.name for t in cloud.data][:2] == ["B = 1", "B = 16"] and len(cloud.data[0].x) == 300
    assert cloud.data[-1].name == "full gradient ∇L"
    var = figs.fig_gradient_variance(a, b)
    assert var.layout.xaxis.type == "log" and var.layout.yaxis.type == "log"
    measured = [t for t in var.data if t.mode == "markers"]
    assert len(measured) == 2
    assert len(measured[0].x) == len(a.batch_sizes) - 1  # B = N (zero variance) left off the log axis
    assert any("(N−B)/(N−1)" in t.name for t in var.data)


def test_noise_floor_figure(ls):
    floor = sgd.measure_noise_floor(ls, lrs=(0.05, 0.1), batch_sizes=(1, 4), n_steps=100, n_replicas=4,
                                    rng=np.random.default_rng(0))
    fig = figs.fig_noise_floor(floor)
    pts = [t for t in fig.data if t.name and t.name.startswith("B = ")]
    assert [t.name for t in pts] == ["B = 1", "B = 4"]
    assert fig.layout.xaxis.title.text == "η / B" and fig.layout.xaxis.type == "log"
    np.testing.assert_allclose(sorted(np.concatenate([t.x for t in pts])), sorted([0.05, 0.1, 0.0125, 0.025]))
    assert [t.name for t in fig.data if t.name and t.name.startswith("η")] == ["η = 0.05", "η = 0.1"]
    theory = [t for t in fig.data if t.name == "exact theory"][0]
    np.testing.assert_allclose(theory.y, floor.theory)


def test_accuracy_and_critical_batch_figures(ls):
    fig = figs.fig_accuracy_vs_batch(np.array([1, 16, 442]), np.array([0.9, 0.8, 0.7]), np.array([0.5, 0.6, 0.7]),
                                     n_samples=442, n_epochs=5, n_steps=200)
    assert list(fig.layout.xaxis.ticktext) == ["1", "16", "442 (full)"]
    np.testing.assert_allclose(fig.data[0].y, [90, 80, 70])
    assert "equal epochs" in fig.data[0].name and "equal updates" in fig.data[1].name
    cb = sgd.critical_batch(ls, np.array([-1.0, 2.0]), n_draws=100, rng=np.random.default_rng(0))
    fig2 = figs.fig_critical_batch(cb, n_samples=442)
    assert fig2.layout.xaxis.type == "log"
    assert fig2.data[0].y[-1] == pytest.approx(cb.eps_max / (1 + cb.b_noise / 442))


def test_legends_stay_out_of_the_plot_width_and_log_axes_use_the_theme(ls):
    g = ls.per_example_grads(np.array([-1.0, 2.0]))
    a = sgd.measure_gradient_noise(g, n_draws=50, cloud_batch_sizes=(1, 4, 16, 64, 256, 442),
                                   rng=np.random.default_rng(0))
    floor = sgd.measure_noise_floor(ls, lrs=(0.05,), batch_sizes=(1,), n_steps=20, n_replicas=2,
                                    rng=np.random.default_rng(0))
    cb = sgd.critical_batch(ls, np.array([-1.0, 2.0]), n_draws=20, rng=np.random.default_rng(0))
    for fig in (figs.fig_gradient_cloud(a), figs.fig_gradient_variance(a), figs.fig_noise_floor(floor),
                figs.fig_critical_batch(cb, n_samples=442)):
        # no per-figure legend placement beside the plot: the template's row above the plot applies
        assert fig.layout.legend.x is None or fig.layout.legend.x <= 1.0
        assert fig.layout.legend.orientation in (None, "h")
    for fig in (figs.fig_gradient_variance(a), figs.fig_noise_floor(floor)):
        assert fig.layout.xaxis.type == "log" and fig.layout.xaxis.dtick == 1 and fig.layout.yaxis.dtick == 1

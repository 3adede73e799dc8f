"""Figure builders of the splits page on tiny results: traces, axes, titles and the lines they mark."""

from __future__ import annotations

import numpy as np
import pytest

from regopt_core import splits as S
from regopt_core.figures import splits as F


@pytest.fixture(scope="module")
def curves():
    return S.error_curves("sine", n_samples=12, n_models=6, n_folds=3, rng=np.random.default_rng(0))


@pytest.fixture(scope="module")
def comparison():
    return S.compare_approaches("sine", n_samples=12, n_models=6, n_folds=3, n_repeats=8,
                                rng=np.random.default_rng(1))


def _shape_xs(fig):
    return [s.x0 for s in fig.layout.shapes]


def test_error_curves_has_five_series_on_a_log_lambda_axis(curves):
    fig = F.fig_error_curves(curves, chosen={"CV": curves.lams[2]})
    names = [t.name for t in fig.data]
    assert len(names) == 5 and any("true" in n for n in names) and any("training" in n for n in names)
    assert fig.layout.xaxis.type == "log"
    assert "λ" in fig.layout.xaxis.title.text
    np.testing.assert_allclose(fig.data[0].y, curves.train)
    assert curves.lams[2] in _shape_xs(fig)
    # the label of a line on a log axis is placed in log10 units
    assert any(abs(a.x - np.log10(curves.lams[2])) < 1e-12 for a in fig.layout.annotations)


def test_fits_show_data_truth_and_each_pick(curves):
    fig = F.fig_fits(curves, {"a": 0, "b": 5})
    assert len(fig.data) == 4
    np.testing.assert_allclose(fig.data[1].y, np.sin(2 * np.pi * curves.x_plot))
    np.testing.assert_allclose(fig.data[3].y, curves.fits_plot[:, 5])


def test_reported_vs_true_marks_both_means_per_approach(comparison):
    fig = F.fig_reported_vs_true(comparison)
    rep = [t for t in fig.data if t.name and "reports" in t.name][0]
    tru = [t for t in fig.data if t.name and "true error" in t.name][0]
    np.testing.assert_allclose(rep.x, comparison.reported.mean(axis=1))
    np.testing.assert_allclose(tru.x, comparison.true.mean(axis=1))
    assert list(rep.y) == list(S.APPROACHES)
    assert "mean squared error" in fig.layout.xaxis.title.text
    _assert_rows_named_in_the_plot(fig, comparison.names)


def test_optimism_boxes_one_per_approach_with_zero_line(comparison):
    fig = F.fig_optimism_boxes(comparison)
    assert [t.type for t in fig.data] == ["box"] * 5
    np.testing.assert_allclose(fig.data[0].x, comparison.optimism[0])
    assert 0 in _shape_xs(fig)
    _assert_rows_named_in_the_plot(fig, comparison.names)


def _assert_rows_named_in_the_plot(fig, names):
    """Issue 13 (phone): row names sit above their rows in the plot, not in a wide left margin."""
    assert fig.layout.yaxis.showticklabels is False and (fig.layout.margin.l or 0) < 100
    notes = [a for a in fig.layout.annotations if a.text in names]
    assert [a.text for a in notes] == list(names)
    assert [a.y for a in notes] == [i - 0.5 for i in range(len(names))]


def test_tuning_histogram_marks_zero_mean_and_theory(comparison):
    fig = F.fig_test_tuning_histogram(comparison)
    xs = _shape_xs(fig)
    assert 0.0 in xs
    assert comparison.theory_optimism in xs
    assert float(comparison.optimism[1].mean()) in xs


def test_best_of_k_histograms_and_theory_line():
    res = S.simulate_best_of_k(200, 0.8, 20, n_repeats=50, rng=np.random.default_rng(0))
    fig = F.fig_best_of_k(res)
    assert [t.type for t in fig.data] == ["histogram", "histogram"]
    assert res.expected_best_normal in _shape_xs(fig) and res.accuracy in _shape_xs(fig)
    assert fig.layout.xaxis.title.text == "test accuracy"
    assert "20" in fig.layout.title.text


def test_optimism_vs_k_theory_curve_matches_expected_max():
    res = S.simulate_best_of_k(500, 0.7, 50, n_repeats=50, rng=np.random.default_rng(0))
    fig = F.fig_optimism_vs_k(n_test=500, accuracy=0.7, k_max=1000, mark=res)
    theory = fig.data[0]
    s = np.sqrt(0.7 * 0.3 / 500)
    for k, y in zip(theory.x, theory.y):
        assert y == pytest.approx(s * S.expected_max_normal(int(k)))
    assert theory.x[0] == 1 and theory.x[-1] == 1000
    assert fig.layout.xaxis.type == "log"


def test_early_stopping_figure_downsamples_and_marks_the_stop():
    res = S.early_stopping(n_epochs=5000, rng=np.random.default_rng(0))
    fig = F.fig_early_stopping(res, show_ridge=True)
    assert len(fig.data) == 5
    assert len(fig.data[0].x) <= 401
    assert max(1, res.stop_epoch) in list(fig.data[0].x)
    assert max(1, res.stop_epoch) in _shape_xs(fig)
    # the plotted points are the result's values at those epochs
    t = np.asarray(fig.data[3].x, dtype=int)
    np.testing.assert_allclose(fig.data[3].y, res.true[t])
    np.testing.assert_allclose(fig.data[4].y, res.ridge_true[t - 1])
    assert len(F.fig_early_stopping(res, show_ridge=False).data) == 4


def test_leak_figure_boxes_and_true_markers():
    res = S.patient_leak(8, 2, n_repeats=4, n_fresh=100, rng=np.random.default_rng(0))
    fig = F.fig_leak(res, title="groups")
    assert [t.type for t in fig.data] == ["box", "box", "scatter"]
    np.testing.assert_allclose(fig.data[2].x, res.true.mean(axis=1))
    assert fig.layout.title.text == "groups"
    _assert_rows_named_in_the_plot(fig, res.names)

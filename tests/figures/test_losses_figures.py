"""Figure builders of the losses page, inspected as plotly objects (no browser)."""

import numpy as np

from regopt_core import datasets, linear_models as lm, losses
from regopt_core.figures import losses as figs
from regopt_core.figures.theme import BASE_FONT, PALETTE, scale_text


def test_hinge_terms_stack_to_the_per_example_loss():
    terms = losses.hinge_margins(losses.LECTURE_SCORES, losses.LECTURE_LABELS)
    fig = figs.fig_hinge_terms(terms, losses.LECTURE_LABELS, losses.LECTURE_CLASSES, ("a", "b", "c"))
    bars = [t for t in fig.data if t.type == "bar"]
    assert len(bars) == 3 and fig.layout.barmode == "stack"
    np.testing.assert_allclose(np.sum([b.y for b in bars], axis=0), [2.9, 0, 12.9])
    assert fig.layout.yaxis.title.text and fig.layout.xaxis.title.text and fig.layout.title.text


def test_scale_scan_marks_the_minimum():
    s = np.array([[3.2, 1.3, 2.2], [1.3, 4.9, 2.0], [-1.7, 2.0, 3.1]])
    scan = lm.scale_scan(s, losses.LECTURE_LABELS, np.linspace(0, 4, 81), lam=1e-3)
    fig = figs.fig_scale_scan(scan, 2.0)
    names = [t.name for t in fig.data]
    assert any("minimum" in (n or "") for n in names)
    star = [t for t in fig.data if t.name and "minimum" in t.name][0]
    assert star.x[0] == scan.c_best


def test_geometry_figure_has_contours_ball_path_and_equal_axes():
    d = datasets.correlated_regression(40, rng=np.random.default_rng(0))
    lams = np.concatenate([[0.0], np.geomspace(1e-3, 10, 10)])
    path = lm.regularization_path(d.X, d.y, lams, reg="l1")
    w1 = w2 = np.linspace(-2, 2, 21)
    grid = lm.loss_grid(d.X, d.y, w1, w2)
    fig = figs.fig_regularizer_geometry(w1, w2, grid, path, path.x[3], "l1", 0.5, path.x[0])
    types = [t.type for t in fig.data]
    assert "contour" in types
    assert any(t.name == "L1 diamond" for t in fig.data)
    assert fig.layout.yaxis.scaleanchor == "x", "equal aspect so the L2 ball looks round"
    diamond = [t for t in fig.data if t.name == "L1 diamond"][0]
    r = np.abs(diamond.x) + np.abs(diamond.y)
    np.testing.assert_allclose(r, np.abs(path.x[3]).sum(), rtol=1e-9)


def test_templates_grid_has_one_image_per_class_with_a_symmetric_colour_range():
    d = datasets.load_digits()
    res = lm.train_linear_classifier(d.X[:300], d.y[:300], d.X[300:400], d.y[300:400], n_steps=20, n_classes=10)
    fig = figs.fig_templates(res, tuple(str(i) for i in range(10)))
    heat = [t for t in fig.data if t.type == "heatmap"]
    assert len(heat) == 1
    z = np.asarray(heat[0].z, dtype=float)
    assert np.sum(np.isfinite(z)) == 10 * 64, "ten 8x8 tiles, NaN gutters between them"
    np.testing.assert_allclose(z[1:9, 1:9], res.W[:, 0].reshape(8, 8)), "tile 0 is class 0's weights"
    assert heat[0].zmin == -heat[0].zmax
    assert [a.text for a in fig.layout.annotations] == [f"<b>{i}</b>" for i in range(10)]


def test_presentation_scaling_enlarges_every_font():
    fig = figs.fig_training_curve(lm.train_linear_classifier(
        datasets.load_digits().X[:100], datasets.load_digits().y[:100], datasets.load_digits().X[:10],
        datasets.load_digits().y[:10], n_steps=5, n_classes=10))
    assert fig.layout.font.size is None  # the template's size applies
    d = scale_text(fig.to_dict(), 1.5)
    assert d["layout"]["font"]["size"] == round(BASE_FONT * 1.5)
    assert d["layout"]["title"]["font"]["size"] > BASE_FONT * 1.5
    assert d["layout"]["xaxis"]["tickfont"]["size"] > BASE_FONT  # the template's 14 px ticks, scaled
    assert tuple(d["layout"]["template"]["layout"]["colorway"]) == PALETTE


def test_phone_friendly_axes_legends_and_colorbar():
    """issue 13: log axes via theme.log_axis (decade labels only), legends in the theme's row above the plot
    (not a bottom/side legend eating the plot), the templates' colorbar laid flat."""
    g = lm.geometry(lm.GEOMETRY_DEFAULT)
    geo = figs.fig_regularizer_geometry(g.w1, g.w2, g.loss_grid, g.path, g.path.x[5], "l1", 0.5, g.path.x[0])
    assert geo.layout.legend.y is None, "the geometry figure keeps the template's legend row"
    paths = figs.fig_coefficient_paths(g.path, 1.4)
    assert paths.layout.xaxis.type == "log" and paths.layout.xaxis.dtick == 1
    res = lm.train_linear_classifier(datasets.load_digits().X[:100], datasets.load_digits().y[:100],
                                     datasets.load_digits().X[:10], datasets.load_digits().y[:10], n_steps=5,
                                     n_classes=10)
    curve = figs.fig_training_curve(res)
    assert curve.layout.yaxis.type == "log" and curve.layout.yaxis.dtick == 1
    assert figs.fig_templates(res, tuple("0123456789")).data[0].colorbar.orientation == "h"


def test_default_lambda_lies_between_the_first_zero_and_all_zero():
    """Lasso theory: all weights are 0 for λ ≥ max|Xᵀy|/N; the default λ sits past the first exact zero
    and below that point, so exactly one of the two weights is 0 at the default."""
    d = lm.geometry_data(lm.GEOMETRY_DEFAULT)
    lam_max = np.max(np.abs(d.X.T @ d.y)) / len(d.y)
    assert lm.first_zero_lambda(d.X, d.y) < lm.GEOMETRY_DEFAULT.lam < lam_max
    w = lm.geometry_solution(lm.GEOMETRY_DEFAULT).x[0]
    assert int(np.sum(w == 0.0)) == 1

"""Bias–variance figures built from tiny results: traces, axes, titles, and the data they carry."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from regopt_core import bias_variance as bv
from regopt_core.figures import bias_variance as figs
from regopt_core.figures.theme import COLORS


@pytest.fixture(autouse=True)
def validated(monkeypatch):
    """Build every figure with plotly's property validation on: a misspelt property fails here."""
    monkeypatch.setattr(figs, "VALIDATE", True)


@pytest.fixture(scope="module")
def res():
    exp = replace(bv.LECTURE, n_samples=12, n_grid=40, spread=0.2, n_draws=50)
    return bv.experiment(exp)


@pytest.fixture(scope="module")
def family(res):
    return bv.fits_family(res.config.family_key())


@pytest.fixture(scope="module")
def sweeps(res):
    x, xe, ft, fe = res.x_train, res.x_eval, res.f_train, res.f_eval
    s = bv.sweep_spread(x, xe, ft, fe, spreads=np.geomspace(0.01, 10, 15), lam=1e-3, sigma=0.3)
    lam = bv.sweep_lam(x, xe, ft, fe, lams=np.geomspace(1e-6, 1e2, 15), spread=0.2, sigma=0.3)
    return s, lam


def test_fits_figure_carries_every_spread_as_frames_with_its_own_slider(family):
    fig = figs.fig_fits(family, spread=0.2)
    fits = fig.data[0]
    assert np.isnan(np.asarray(fits.y, float)).sum() == bv.N_SHOWN  # curves separated by NaN gaps
    truth = next(t for t in fig.data if t.name == "true function f(x)")
    assert truth.line.color == COLORS["truth"]
    np.testing.assert_allclose(truth.y, family.f_eval, rtol=1e-6)
    assert len(fig.frames) == len(bv.SPREADS) and 10 <= len(fig.frames) <= 30
    slider = fig.layout.sliders[0]
    assert slider.steps[slider.active].label == "0.2" and "spread 0.2" in fig.layout.title.text
    assert all(s.method == "animate" for s in slider.steps)  # drawn in the browser, no rerun
    assert "spread 0.01" in fig.frames[0].layout.title.text


def test_fits_figure_payload_is_under_1_5_MB():
    fam = bv.fits_family(replace(bv.DEFAULT, n_samples=200).family_key())
    assert len(figs.fig_fits(fam, spread=5.0).to_json()) <= 1_500_000


def test_decomposition_along_x_sums_to_expected_error(res):
    fig = figs.fig_decomposition_x(res)
    by_name = {t.name: np.asarray(t.y) for t in fig.data}
    total = by_name["expected test error at x (sum)"]
    np.testing.assert_allclose(total, by_name["bias² (exact)"] + by_name["variance (exact)"] + 0.09, rtol=1e-12)
    np.testing.assert_allclose(total.mean(), res.exact.mse, rtol=1e-12)
    np.testing.assert_allclose(by_name["variance, Monte Carlo (K = 50)"], res.mc.var_x)
    assert fig.layout.yaxis.title.text == "squared error at x"


def test_bars_show_both_ways_with_numbers(res):
    fig = figs.fig_decomposition_bars(res)
    exact, sim = fig.data
    assert list(exact.y) == ["bias²", "variance", "noise σ²", "test MSE"]
    assert exact.x[3] == pytest.approx(exact.x[0] + exact.x[1] + exact.x[2])
    assert sim.x[3] == pytest.approx(sim.x[0] + sim.x[1] + sim.x[2])
    assert exact.text[1] == f"{res.exact.var:.4f}"
    assert "K = 50" in sim.name
    m = fig.layout.margin
    assert m.l + m.r <= 88  # a 390 px phone keeps a plot area of >= 300 px (issue 13)


def test_convergence_axes_are_log(res):
    fig = figs.fig_mc_convergence(res)
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"
    assert fig.data[0].x[-1] == 50
    assert fig.layout.xaxis.dtick == 1  # theme.log_axis: powers of ten only


def test_u_curves_mark_current_and_minimum(sweeps):
    s, lam = sweeps
    fig = figs.fig_u_curve(s, 0.2)
    star = next(t for t in fig.data if t.marker.symbol == "star")
    assert star.y[0] == pytest.approx(s.mse.min())
    assert fig.layout.xaxis.type == "log" and "spread" in fig.layout.xaxis.title.text
    current = next(t for t in fig.data if t.name.startswith("current"))
    assert current.x[0] == pytest.approx(0.193, rel=0.05)  # nearest sweep point to 0.2
    fig2 = figs.fig_u_curve(lam, 1e-3)
    assert "λ" in fig2.layout.title.text


def test_train_test_df_gap_is_the_optimism(sweeps, res):
    _, lam = sweeps
    fig = figs.fig_train_test_df(lam, 3, n_samples=res.x_train.size)
    tr = next(t for t in fig.data if t.name.startswith("training error ("))
    te = next(t for t in fig.data if t.name.startswith("test error at the same"))
    marks = next(t for t in fig.data if t.name == "training error + 2σ²·df/n")
    np.testing.assert_allclose(marks.y, te.y, rtol=1e-9)  # ESL eq. 7.21, exactly in expectation
    assert np.all(np.diff(tr.x) >= 0)
    assert "df" in fig.layout.xaxis.title.text


def test_double_descent_figure_marks_threshold(res):
    x, xe = res.x_train, res.x_eval
    dd = bv.double_descent(x, xe, res.f_train, res.f_eval, n_features=np.array([2, 6, 12, 24, 60]), sigma=0.3,
                           n_repeats=2, rng=np.random.default_rng(1))
    fig = figs.fig_double_descent(dd)
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"
    assert any(f"p = n = {x.size}" in (a.text or "") for a in fig.layout.annotations)
    cols = figs.table_double_descent(dd)
    assert len(cols["n_features"]) == 5


def test_tables_hold_the_plotted_data(res, sweeps):
    cols = figs.table_fits(bv.fits_family(res.config.family_key()), 0.2)
    assert {"x", "f_true", "mean_fit_exact", "sd_exact", "fit_1", f"fit_{bv.N_SHOWN}"} <= set(cols)
    cols_s = figs.table_sweep(sweeps[0])
    assert len(cols_s["spread"]) == 15 and np.allclose(cols_s["test_mse"], cols_s["bias2"] + cols_s["variance"] + 0.09)


def test_validation_switch_catches_bad_properties():
    with pytest.raises(ValueError):
        figs._figure([dict(type="scatter", x=[0], y=[0], colour="red")], {}, title="t", x_title="x", y_title="y",
                     height=300)


def test_u_curve_shades_ill_conditioned_settings(res):
    x, xe = res.x_train, res.x_eval
    s = bv.sweep_spread(x, xe, res.f_train, res.f_eval, spreads=np.geomspace(0.01, 10, 31), lam=0.0, sigma=0.3,
                        centres=np.linspace(0, 1, 6))
    bad = s.cond > 1e8
    assert bad.any() and not bad.all()  # wide bumps are nearly collinear, narrow ones are not
    fig = figs.fig_u_curve(s, 0.1)
    rects = [sh for sh in fig.layout.shapes if sh.type == "rect"]
    assert rects
    shaded = np.zeros_like(bad)
    for r in rects:
        shaded |= (s.values >= r.x0) & (s.values <= r.x1)
    np.testing.assert_array_equal(shaded, bad)
    assert any("ill-conditioned" in (t.name or "") for t in fig.data)


# ------------------------------------------------------------------------------------------ your own points
@pytest.fixture(scope="module")
def own():
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(10, 50, 40))
    y = np.sin(2 * np.pi * (x - 10) / 40) + 0.3 * rng.standard_normal(40)
    text = "hours,score\n" + "\n".join(f"{a!r},{b!r}" for a, b in zip(x.tolist(), y.tolist()))
    cfg = bv.OwnData(bv.points_ref(text), spread=0.2, lam=0.01, n_boot=30)
    return bv.own_fit(cfg), bv.own_cv(cfg.cv_key())


def test_own_fit_figure_shows_points_fit_band_and_resamples_in_the_users_units(own):
    fit, _ = own
    fig = figs.fig_own_fit(fit)
    names = [t.name for t in fig.data]
    assert names[-1] == "your points" and "fit to all your points" in names and "fit ± 2 bootstrap sd" in names
    np.testing.assert_allclose(fig.data[-1].x, fit.x)
    assert fig.layout.xaxis.title.text == "hours" and fig.layout.yaxis.title.text == "score"
    band = next(t for t in fig.data if t.name == "fit ± 2 bootstrap sd")
    m = fit.x_eval.size
    np.testing.assert_allclose(np.asarray(band.y[:m], float), fit.fit_x + 2 * np.sqrt(fit.boot_var_x), rtol=1e-5, atol=1e-6)
    assert np.isnan(np.asarray(fig.data[0].y, float)).sum() == fit.boot_fits.shape[0]
    assert "spread 0.2" in fig.layout.title.text and "λ = 0.01" in fig.layout.title.text


def test_cv_surface_marks_the_minimum_and_the_setting(own):
    _, cv = own
    fig = figs.fig_cv_surface(cv, spread=0.2, lam=0.01)
    heat, star, mine = fig.data
    z = np.asarray(heat.z, float)
    assert z.shape == cv.mse.shape and z[cv.best] == pytest.approx(0.0, abs=1e-6) and z.min() >= 0
    assert star.x[0] == pytest.approx(np.log10(cv.best_lam)) and star.y[0] == pytest.approx(np.log10(cv.best_spread))
    assert f"{cv.best_mse:.4g}" in star.name
    i, j = cv.index(0.2, 0.01)
    assert mine.y[0] == pytest.approx(np.log10(cv.spreads[i])) and mine.x[0] == pytest.approx(np.log10(cv.lams[j]))
    assert heat.colorbar.orientation == "h"


@pytest.mark.parametrize("knob", ["spread", "lam"])
def test_cv_curves_carry_the_surface_row_and_its_minimum(own, knob):
    _, cv = own
    fig = figs.fig_cv_curve(cv, knob, spread=0.2, lam=0.01)
    i, j = cv.index(0.2, 0.01)
    row = cv.mse[:, j] if knob == "spread" else cv.mse[i]
    line = next(t for t in fig.data if t.name.endswith("CV error"))
    np.testing.assert_allclose(line.y, row)
    star = next(t for t in fig.data if t.name.startswith("minimum"))
    assert star.y[0] == pytest.approx(row.min())
    assert fig.layout.xaxis.type == "log"


def test_own_tables_have_one_row_per_cell(own):
    fit, cv = own
    t = figs.table_cv(cv)
    assert all(len(v) == cv.mse.size for v in t.values())
    assert min(t["cv_mse"]) == pytest.approx(cv.best_mse)
    assert len(figs.table_own_fit(fit)["x"]) == fit.x_eval.size

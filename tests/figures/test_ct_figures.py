"""CT figure builders on tiny inputs: traces, axes, titles, and the 8-bit image encoding."""

import numpy as np
import plotly.graph_objects as go
import pytest

from regopt_core.figures import ct as figs


def _img(n=16, v=0.5):
    return np.full((n, n), v)


def test_quantize_window_and_clipping():
    q = figs.quantize(np.array([-1.0, 0.0, 0.5, 1.0, 2.0]), 0.0, 1.0)
    assert q.dtype == np.uint8
    assert q.tolist() == [0, 0, 128, 255, 255]


def test_strip_has_one_image_per_panel_and_titles():
    fig = figs.fig_strip([("TV · 20 views", _img()), ("TV · 40 views", _img()), ("FBP · 40 views", _img())], cols=3)
    assert isinstance(fig, go.Figure)
    assert len(fig.data) == 3 and all(t.type == "heatmap" for t in fig.data)
    assert [a.text for a in fig.layout.annotations] == ["TV · 20 views", "TV · 40 views", "FBP · 40 views"]
    assert sum(bool(t.showscale) for t in fig.data) == 1
    assert fig.data[0].z.dtype == np.uint8
    assert fig.layout.yaxis.scaleanchor == "x"  # square pixels
    grid = figs.fig_strip([("a", _img()), ("b", _img()), ("c", _img()), ("d", _img())], cols=2)
    assert grid.data[3].xaxis == "x4" and grid.layout.height > fig.layout.height  # 2 x 2 grid, taller


def test_comparison_has_images_and_difference_maps():
    truth = _img(12, 0.4)
    panels = [("FBP<br>20.1 dB", _img(12, 0.5)), ("TV<br>35.0 dB", _img(12, 0.4))]
    fig = figs.fig_comparison(truth, panels, diff_window=0.2)
    assert len(fig.data) == 2 * len(panels)
    assert "error of FBP" in [a.text for a in fig.layout.annotations]
    err = fig.data[1]  # FBP error: +0.1 on a ±0.2 window -> 3/4 of the grey range
    assert err.colorscale is not None and int(err.z[0, 0]) == round(0.75 * 255)


def test_metrics_vs_views_lines_and_axes():
    views = [10, 20, 40]
    scores = {m: {"psnr": [20, 25, 30], "ssim": [0.5, 0.6, 0.7], "rmse": [0.1, 0.05, 0.02]} for m in ("fbp", "tv")}
    fig = figs.fig_metrics_vs_views(views, scores, current=20)
    assert len(fig.data) == 6
    assert {t.name for t in fig.data} == {"FBP", "TV (PDHG)"}
    assert fig.layout.xaxis.type == "log" and fig.layout.xaxis.title.text == "number of views"
    assert "PSNR" in fig.layout.annotations[0].text


def test_sinogram_axes_are_labelled():
    fig = figs.fig_sinogram(np.random.default_rng(0).uniform(0, 2, (8, 20)), np.linspace(-1, 1, 20), np.arange(8) * 22.5)
    assert fig.data[0].type == "heatmap"
    assert "detector" in fig.layout.xaxis.title.text and "angle" in fig.layout.yaxis.title.text


def test_convergence_three_panels_log_scale():
    it = np.arange(1, 11)
    fig = figs.fig_convergence(it, 1.0 / it, 1.0 / it, 20 + np.log(it))
    assert len(fig.data) == 3
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis2.type == "log"


def test_profile_lines():
    truth = np.zeros((10, 10))
    fig = figs.fig_profile(truth, [("fbp", "FBP", truth + 0.1), ("tv", "TV", truth)], row=5)
    assert [t.name for t in fig.data] == ["phantom", "FBP", "TV"]
    assert np.allclose(fig.data[1].y, 0.1)
    assert "y = -0.10" in fig.layout.title.text


@pytest.mark.parametrize("kind", ["parallel", "fan"])
def test_geometry_diagram(kind):
    fig = figs.fig_geometry(kind, dso=3.0, dsd=6.0, n_views=8)
    names = {t.name for t in fig.data if t.name}
    assert any("detector" in n for n in names)
    if kind == "fan":
        assert any("orbit" in n for n in names)
        assert "DSO = 3" in fig.layout.title.text


def test_crime_curves_mark_each_best_lambda():
    lams = [1e-4, 1e-3, 1e-2]
    fig = figs.fig_crime_curves(lams, [30.0, 34.0, 28.0], [45.0, 33.0, 27.0], lam_now=5e-4)
    stars = [t for t in fig.data if t.marker.symbol == "star"]
    assert [(s.x[0], s.y[0]) for s in stars] == [(1e-3, 34.0), (1e-4, 45.0)]
    assert fig.layout.xaxis.type == "log" and "λ" in fig.layout.xaxis.title.text
    assert len(fig.layout.shapes) == 1  # the sidebar's λ


def test_views_family_has_one_frame_per_view_count_and_a_small_payload():
    views = [8, 10, 15, 20, 30, 40, 60, 90, 120, 180]
    rng = np.random.default_rng(0)
    tv = rng.uniform(0, 1, (10, 128, 128)).astype(np.float32)
    fb = rng.uniform(0, 1, (10, 128, 128)).astype(np.float32)
    fig = figs.fig_views_family(views, tv, fb, np.arange(10) + 20.0, np.arange(10) + 10.0, current=40)
    assert [f.name for f in fig.frames] == [str(v) for v in views]
    assert fig.layout.sliders[0].active == 5 and "40 views" in fig.layout.title.text
    assert [s.label for s in fig.layout.sliders[0].steps] == [str(v) for v in views]
    assert all(s.method == "animate" for s in fig.layout.sliders[0].steps)
    assert len(fig.to_json()) <= 1_500_000


def test_image_figure_is_one_square_panel_with_its_bar_below():
    truth = _img(v=0.5)
    fig = figs.fig_image(_img(v=0.6), caption="TV<br>20 views", window=(0.0, 1.0), colorbar=True)
    assert len(fig.data) == 1 and fig.data[0].showscale and fig.data[0].colorbar.orientation == "h"
    assert fig.layout.title.text == "TV<br>20 views" and fig.layout.yaxis.scaleanchor == "x"
    assert int(fig.data[0].z[0][0]) == round(0.6 * 255)
    err = figs.fig_image(_img(v=0.6), caption="error", minus=truth, window=(-0.2, 0.2))
    # the signed error 0.1 on the window [-0.2, 0.2] is grey level 0.75 * 255, on a diverging map
    assert int(err.data[0].z[0][0]) == round(0.75 * 255) and not err.data[0].showscale
    assert err.data[0].colorscale[0][1] != fig.data[0].colorscale[0][1]


def test_convergence_and_quality_panels_alone_match_the_row():
    it = np.arange(1, 11)
    row = figs.fig_convergence(it, 1.0 / it, 2.0 / it, 20 + np.log(it))
    for j in range(3):
        one = figs.fig_convergence(it, 1.0 / it, 2.0 / it, 20 + np.log(it), panel=j)
        assert len(one.data) == 1
        np.testing.assert_allclose(one.data[0].y, row.data[j].y)
        assert one.layout.title.text == row.layout.annotations[j].text
    assert figs.fig_convergence(it, 1.0 / it, 2.0 / it, 20 + np.log(it), panel=0).layout.yaxis.type == "log"
    views = [10, 20, 40]
    scores = {"fbp": {"psnr": [20, 24, 28], "ssim": [0.5, 0.6, 0.7], "rmse": [0.1, 0.08, 0.05]}}
    for m, title in (("psnr", "PSNR"), ("ssim", "SSIM"), ("rmse", "RMSE")):
        one = figs.fig_metrics_vs_views(views, scores, current=20, metric=m)
        assert len(one.data) == 1 and list(one.data[0].y) == scores["fbp"][m]
        assert one.layout.title.text.startswith(title)


def test_views_family_stacked_is_tv_over_fbp():
    views = [10, 20]
    tv, fb = np.zeros((2, 16, 16)), np.ones((2, 16, 16))
    fig = figs.fig_views_family(views, tv, fb, [20.0, 25.0], [10.0, 12.0], current=20, stacked=True)
    assert fig.layout.xaxis.domain == fig.layout.xaxis2.domain  # one column
    assert fig.layout.yaxis.domain[0] > fig.layout.yaxis2.domain[1]  # TV on top
    assert [f.name for f in fig.frames] == ["10", "20"]


def test_sinogram_colour_bar_lies_across_not_beside():
    fig = figs.fig_sinogram(np.random.default_rng(0).uniform(0, 2, (8, 20)), np.linspace(-1, 1, 20), np.arange(8) * 22.5)
    assert fig.data[0].colorbar.orientation == "h"


# ---------------------------------------------------------------------------------------------------------------
# The figures a page-wide move redraws are filled into a cached skeleton without plotly's validation (issue 12):
# the dict Streamlit sends must be exactly the validated builder's.
def _sent(fig: go.Figure) -> dict:
    import json

    import plotly.io as pio

    return json.loads(pio.to_json(fig.to_dict(), validate=False))


@pytest.mark.parametrize("n", [16, 64])
@pytest.mark.parametrize("kw", [dict(caption="TV<br>20 views · 31.2 dB", window=(0.0, 1.02), colorbar=True),
                                dict(caption="FBP", window=(0.1, 0.45)),
                                dict(caption="error of TV", window=(-0.2, 0.2), colorbar=True, colorbar_title="error",
                                     signed=True),
                                dict(caption="x", window=(0.0, 2.0), height=300)])
def test_fast_image_sends_exactly_the_validated_figure(n, kw):
    rng = np.random.default_rng(n)
    kw = dict(kw)
    if kw.pop("signed", False):
        kw["minus"] = rng.random((n, n))
    img = rng.random((n, n)) * 1.3 - 0.1
    fast = figs.fig_image(img, **kw)
    assert _sent(fast) == _sent(figs._fig_image_validated(img, **kw))
    # a second image with the same layout reuses the skeleton but carries its own numbers and caption
    other = figs.fig_image(1.0 - img, **{**kw, "caption": "other"})
    assert other.layout.title.text == "other" and _sent(other) != _sent(fast)
    assert _sent(other) == _sent(figs._fig_image_validated(1.0 - img, **{**kw, "caption": "other"}))


@pytest.mark.parametrize("panel", [None, 0, 1, 2])
@pytest.mark.parametrize("nit", [0, 1, 85])
def test_fast_convergence_sends_exactly_the_validated_figure(panel, nit):
    it = np.arange(1, nit + 1)
    args = (it, 1.0 / it, 2.0 / it, 20 + np.log(it))
    for label in ("TV(x)", "½‖Ax−b‖² + λ·TV(x)"):
        fast = figs.fig_convergence(*args, objective_label=label, panel=panel)
        assert _sent(fast) == _sent(figs._fig_convergence_validated(*args, objective_label=label, panel=panel))
    if nit and panel in (None, 2):  # the "final − 0.5 dB" line follows the run's final PSNR
        assert fast.layout.shapes[0].y0 == pytest.approx(20 + np.log(nit) - 0.5)


@pytest.mark.parametrize("row", [0, 7, 15])
def test_fast_profile_and_sinogram_send_exactly_the_validated_figures(row):
    rng = np.random.default_rng(row)
    truth = rng.random((16, 16))
    panels = [("fbp", "FBP", rng.random((16, 16))), ("sart", "SART", rng.random((16, 16))), ("tv", "TV", truth)]
    assert _sent(figs.fig_profile(truth, panels, row=row)) == _sent(figs._fig_profile_validated(truth, panels, row=row))
    sino, det, ang = rng.uniform(0, 3, (8, 20)), np.linspace(-1, 1, 20), np.arange(8) * 22.5
    for title in ("Sinogram: 8 views, noise-free", "Sinogram: 8 views, I₀ = 1e4"):
        assert _sent(figs.fig_sinogram(sino, det, ang, title=title)) == _sent(
            figs._fig_sinogram_validated(sino, det, ang, title=title))


@pytest.mark.parametrize("metric", [None, "psnr", "rmse"])
@pytest.mark.parametrize("current", [None, 40, 17])
def test_fast_metrics_vs_views_sends_exactly_the_validated_figure(metric, current):
    rng = np.random.default_rng(3)
    views = (10, 20, 30, 40, 60, 90, 120, 180)
    scores = {m: {k: np.r_[rng.random(6), np.nan, np.nan] for k in ("psnr", "ssim", "rmse")}
              for m in ("fdk", "sart", "tv", "asd_pocs")}
    fast = figs.fig_metrics_vs_views(views, scores, current=current, metric=metric)
    assert _sent(fast) == _sent(figs._fig_metrics_vs_views_validated(views, scores, current=current, metric=metric))


@pytest.mark.parametrize(("k", "cols", "colorbar"), [(1, 1, False), (4, 2, True), (4, 4, True), (3, 3, True)])
def test_fast_strip_sends_exactly_the_validated_figure(k, cols, colorbar):
    rng = np.random.default_rng(k)
    panels = [(f"TV · {j}<br>{30 + j:.1f} dB", rng.random((16, 16))) for j in range(k)]
    kw = dict(window=(0.1, 0.9), cols=cols, colorbar=colorbar, title="The object")
    assert _sent(figs.fig_strip(panels, **kw)) == _sent(figs._fig_strip_validated(panels, **kw))

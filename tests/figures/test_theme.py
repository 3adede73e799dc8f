"""The shared figure theme: log axes label decades only, and never more than a handful of them; presentation
scaling; legends clear of titles. The styling functions edit plotly figure dicts (``Figure.to_dict()``), as the
page layer sends them."""

import numpy as np
import plotly.graph_objects as go

from regopt_core.figures.theme import log_axis, scale_text, tidy_log_axes


def _fig(lo, hi):
    f = go.Figure(go.Scatter(x=np.arange(20), y=np.logspace(lo, hi, 20)))
    f.update_layout(yaxis=log_axis(title_text="loss"))
    return tidy_log_axes(f.to_dict())


def test_short_log_axis_labels_every_decade_and_no_minor_labels():
    ax = _fig(-2, 1)["layout"]["yaxis"]
    assert ax["type"] == "log" and ax["dtick"] == 1 and ax["exponentformat"] == "power"


def test_long_log_axis_is_thinned_to_at_most_eight_labels():
    ax = _fig(-16, 1)["layout"]["yaxis"]
    assert ax["dtick"] >= 3 and 17 / ax["dtick"] <= 8


def test_eight_decades_read_as_float32_are_still_eight():
    # the page layer reads the numbers as sent (float32): 1e-6 becomes 9.99999997e-7, which must not turn
    # eight decades into "more than eight" (every other decade labelled)
    f = go.Figure(go.Scatter(x=np.logspace(-6, 2, 30).astype(np.float32), y=np.arange(30)))
    f.update_layout(xaxis_type="log")
    assert tidy_log_axes(f.to_dict())["layout"]["xaxis"]["dtick"] == 1


def test_presentation_scaling_grows_margins_with_the_text():
    f = go.Figure(go.Scatter(x=[1, 2], y=[1, 2]))
    f.update_layout(margin=dict(l=70, r=30, t=60, b=60), font_size=16, height=400,
                    annotations=[dict(text="a", x=1, y=1, font=dict(size=10))])
    d = scale_text(f.to_dict(), 1.5)["layout"]
    assert d["margin"] == {"l": 105, "r": 45, "t": 90, "b": 90} and d["font"]["size"] == 24
    assert d["annotations"][0]["font"]["size"] == 15 and d["height"] == 520  # height grows at most 1.3x
    assert d["xaxis"]["tickfont"]["size"] == 21 and d["yaxis"]["tickfont"]["size"] == 21  # 14 px ticks
    assert d["legend"]["font"]["size"] == 24 and d["title"]["font"]["size"] == 30  # 20 px titles


def test_presentation_scaling_reaches_colorbars_and_leaves_the_source_alone():
    f = go.Figure(go.Heatmap(z=[[1, 2], [3, 4]], colorbar=dict(title=dict(text="c", font=dict(size=12)))))
    src = f.to_dict()
    d = scale_text(dict(src, data=[dict(t) for t in src["data"]]), 2.0)
    cb = d["data"][0]["colorbar"]
    assert cb["tickfont"]["size"] == 28 and cb["title"]["font"]["size"] == 24
    assert "tickfont" not in src["data"][0]["colorbar"]  # the colorbar dict was copied, not edited


def test_a_titled_figure_with_the_template_legend_gets_it_under_the_plot():
    from regopt_core.figures.theme import LEGEND_BELOW, legend_clear_of_title, styled

    f = styled(go.Figure(go.Scatter(x=[1, 2], y=[1, 2], name="a")), title="T").to_dict()
    legend_clear_of_title(f)
    assert f["layout"]["legend"]["yref"] == "container" and f["layout"]["legend"]["y"] == LEGEND_BELOW["y"]
    g = styled(go.Figure(go.Scatter(x=[1, 2], y=[1, 2], name="a")), title="T")
    g.update_layout(legend=dict(y=-0.3))  # placed by its builder: left alone
    assert legend_clear_of_title(g.to_dict())["layout"]["legend"]["y"] == -0.3
    h = styled(go.Figure(go.Scatter(x=[1, 2], y=[1, 2], name="a"))).to_dict()  # no title: the row above stays
    assert "legend" not in legend_clear_of_title(h)["layout"]
    k = styled(go.Figure(go.Scatter(x=[1, 2], y=[1, 2])), title="T").to_dict()  # no named trace: no legend
    assert "legend" not in legend_clear_of_title(k)["layout"]


def test_log_axis_without_dtick_gets_decade_labels():
    f = go.Figure(go.Scatter(x=np.logspace(-3, 2, 30), y=np.arange(30)))
    f.update_layout(xaxis_type="log")
    ax = tidy_log_axes(f.to_dict())["layout"]["xaxis"]
    assert ax["dtick"] == 1 and ax["exponentformat"] == "power"
    assert ax["minor"] == {"ticks": "inside", "showgrid": False}


def test_log_axes_are_read_from_typed_arrays_and_from_raw_arrays_alike():
    # to_dict() sends numpy data as plotly's base64 typed arrays; the page layer's own copy may still hold
    # arrays: both must be read (else long axes keep 17 labels)
    from pages._ui import figures

    for lo, hi, axis in ((-16, 1, "y"), (-3, 2, "x")):
        f = go.Figure(go.Scatter(x=np.logspace(lo, hi, 30), y=np.logspace(lo, hi, 30)))
        f.update_layout(**{f"{axis}axis_type": "log"})
        typed = tidy_log_axes(f.to_dict())["layout"][f"{axis}axis"]
        plain = tidy_log_axes(figures.plain(f))["layout"][f"{axis}axis"]
        assert typed == plain and typed["dtick"] == (1 if hi - lo <= 8 else 3)

"""The shared figure theme: log axes label decades only, and never more than a handful of them."""

import numpy as np
import plotly.graph_objects as go

from regopt_core.figures.theme import log_axis, scale_text, tidy_log_axes


def _fig(lo, hi):
    f = go.Figure(go.Scatter(x=np.arange(20), y=np.logspace(lo, hi, 20)))
    f.update_layout(yaxis=log_axis(title_text="loss"))
    return tidy_log_axes(f)


def test_short_log_axis_labels_every_decade_and_no_minor_labels():
    ax = _fig(-2, 1).layout.yaxis
    assert ax.type == "log" and ax.dtick == 1 and ax.exponentformat == "power"


def test_long_log_axis_is_thinned_to_at_most_eight_labels():
    ax = _fig(-16, 1).layout.yaxis
    assert ax.dtick >= 3 and 17 / ax.dtick <= 8


def test_presentation_scaling_grows_margins_with_the_text():
    f = go.Figure(go.Scatter(x=[1, 2], y=[1, 2]))
    f.update_layout(margin=dict(l=70, r=30, t=60, b=60), font_size=16)
    scale_text(f, 1.5)
    assert f.layout.margin.l == 105 and f.layout.font.size == 24


def test_a_titled_figure_with_the_template_legend_gets_it_under_the_plot():
    from regopt_core.figures.theme import LEGEND_BELOW, legend_clear_of_title, styled

    f = styled(go.Figure(go.Scatter(x=[1, 2], y=[1, 2], name="a")), title="T")
    legend_clear_of_title(f)
    assert f.layout.legend.yref == "container" and f.layout.legend.y == LEGEND_BELOW["y"]
    g = styled(go.Figure(go.Scatter(x=[1, 2], y=[1, 2], name="a")), title="T")
    g.update_layout(legend=dict(y=-0.3))  # placed by its builder: left alone
    assert legend_clear_of_title(g).layout.legend.y == -0.3
    h = styled(go.Figure(go.Scatter(x=[1, 2], y=[1, 2], name="a")))  # no title: the row above stays
    assert legend_clear_of_title(h).layout.legend.yref is None


def test_log_axis_without_dtick_gets_decade_labels():
    f = go.Figure(go.Scatter(x=np.logspace(-3, 2, 30), y=np.arange(30)))
    f.update_layout(xaxis_type="log")
    ax = tidy_log_axes(f).layout.xaxis
    assert ax.dtick == 1 and ax.exponentformat == "power"


def test_log_axes_are_tidied_the_same_on_a_figure_rebuilt_from_its_dict_without_validation():
    # the page layer styles a copy made with go.Figure(fig.to_dict(), _validate=False): there a trace's numbers
    # are plotly's base64 typed arrays, which the tidying must still read (else long axes keep 17 labels)
    for lo, hi, axis in ((-16, 1, "y"), (-3, 2, "x")):
        f = go.Figure(go.Scatter(x=np.logspace(lo, hi, 30), y=np.logspace(lo, hi, 30)))
        f.update_layout(**{f"{axis}axis_type": "log"})
        fast = tidy_log_axes(go.Figure(f.to_dict(), _validate=False)).to_dict()["layout"][f"{axis}axis"]
        slow = tidy_log_axes(go.Figure(f)).to_dict()["layout"][f"{axis}axis"]
        assert fast == slow and fast["dtick"] == (1 if hi - lo <= 8 else 3)

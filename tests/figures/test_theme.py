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

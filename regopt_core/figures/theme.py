"""The one look of every RegOpt Lab figure: colour-blind-safe colours, projector-legible text.

Colours are the Okabe–Ito palette (Okabe & Ito 2008, "Color Universal Design"), distinguishable
under the common colour-vision deficiencies. Continuous maps: ``viridis`` for magnitudes, ``RdBu``
(reversed so that red is positive) for signed values, ``gray`` for CT images.

Use :func:`styled` on every figure; :func:`scale_text` enlarges all text for presentation mode.
"""

from __future__ import annotations

import plotly.graph_objects as go

# Okabe–Ito, in an order that keeps neighbouring series far apart.
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)
COLORS = {
    "blue": PALETTE[0],
    "vermillion": PALETTE[1],
    "green": PALETTE[2],
    "purple": PALETTE[3],
    "orange": PALETTE[4],
    "sky": PALETTE[5],
    "yellow": PALETTE[6],
    "black": PALETTE[7],
    "grey": "#7F7F7F",
    # semantic roles used across pages
    "truth": PALETTE[1],  # the true function / ground truth (the lecture's red curve)
    "fit": PALETTE[0],  # fitted models (the lecture's blue curves)
    "train": PALETTE[0],
    "validation": PALETTE[4],
    "test": PALETTE[1],
    "bias": PALETTE[3],
    "variance": PALETTE[2],
    "noise": "#7F7F7F",
}
SEQUENTIAL = "Viridis"
DIVERGING = "RdBu_r"
IMAGE = "gray"

BASE_FONT = 16
TITLE_FONT = 20

TEMPLATE = go.layout.Template(
    layout=go.Layout(
        font=dict(family="Source Sans Pro, Helvetica, Arial, sans-serif", size=BASE_FONT, color="#222"),
        title=dict(font=dict(size=TITLE_FONT), x=0.0, xanchor="left"),
        colorway=list(PALETTE),
        paper_bgcolor="white",
        plot_bgcolor="white",
        xaxis=dict(showgrid=True, gridcolor="#E5E5E5", zeroline=False, linecolor="#444", ticks="outside",
                   showline=True, title=dict(standoff=8)),
        yaxis=dict(showgrid=True, gridcolor="#E5E5E5", zeroline=False, linecolor="#444", ticks="outside",
                   showline=True, title=dict(standoff=8)),
        # legends sit in a row above the plot: they never eat the plot's width (a phone is 390 px wide)
        legend=dict(bgcolor="rgba(255,255,255,0.8)", bordercolor="#CCC", borderwidth=1, orientation="h",
                    x=0.0, xanchor="left", y=1.02, yanchor="bottom"),
        margin=dict(l=70, r=30, t=60, b=60),
        hoverlabel=dict(font=dict(size=BASE_FONT)),
    )
)


def styled(
    fig: go.Figure,
    *,
    title: str | None = None,
    x_title: str | None = None,
    y_title: str | None = None,
    height: int | None = 420,
) -> go.Figure:
    """Apply the project template and the common labels in one layout update; returns the same figure.

    (One ``update_layout`` call: each plotly update validates its arguments, which costs milliseconds
    per call and adds up on every rerun.)
    """
    update: dict = {"template": TEMPLATE}
    if title is not None:
        update["title_text"] = title
    if x_title is not None:
        update["xaxis_title_text"] = x_title
    if y_title is not None:
        update["yaxis_title_text"] = y_title
    if height is not None:
        update["height"] = height
    fig.update_layout(**update)
    return fig


def vline(x: float, *, color: str = "#7F7F7F", dash: str = "dot", label: str | None = None) -> tuple[dict, dict | None]:
    """A vertical line over the whole plot as a (shape, annotation) pair of plain dicts.

    Cheaper than ``fig.add_vline`` (which validates per call); pass the lists to a single
    ``fig.update_layout(shapes=[...], annotations=[...])``.
    """
    shape = dict(type="line", xref="x", yref="paper", x0=x, x1=x, y0=0, y1=1, line=dict(color=color, dash=dash, width=2))
    note = None if label is None else dict(x=x, y=1.0, xref="x", yref="paper", text=label, showarrow=False,
                                           yanchor="bottom", font=dict(color=color))
    return shape, note


def log_axis(**extra) -> dict:
    """Axis settings for a log axis: labels only at powers of ten (no "2 5 2 5" minor labels), 10ⁿ form.

    Use as ``fig.update_layout(xaxis=log_axis(title_text="λ"))``.
    """
    return dict(type="log", dtick=1, exponentformat="power", minor=dict(ticks="inside", showgrid=False), **extra)


def tidy_log_axes(fig: go.Figure, *, max_labels: int = 8) -> go.Figure:
    """Thin the decade labels of every :func:`log_axis` (``dtick=1``) that spans more than ``max_labels``
    decades of its data (17 decades labelled one by one overlap): label every k-th decade instead."""
    import math

    import numpy as np

    for axis_name in [k for k in fig.layout.to_plotly_json() if k.startswith(("xaxis", "yaxis"))]:
        axis = fig.layout[axis_name]
        if axis.type != "log" or axis.dtick != 1:
            continue
        letter, suffix = axis_name[0], axis_name[5:]
        ref = letter + suffix  # "x", "x2", ...
        values = []
        for tr in fig.data:
            if (getattr(tr, f"{letter}axis", None) or letter) != ref:
                continue
            v = getattr(tr, letter, None)
            if v is None:
                continue
            with np.errstate(all="ignore"):
                a = np.asarray(v, dtype=float).ravel()
            a = a[np.isfinite(a) & (a > 0)]
            if a.size:
                values += [a.min(), a.max()]
        if axis.range is not None and len(axis.range) == 2:
            decades = abs(axis.range[1] - axis.range[0])
        elif values:
            decades = math.log10(max(values) / min(values))
        else:
            continue
        if decades > max_labels:
            axis.dtick = math.ceil(decades / max_labels)
    return fig


def horizontal_colorbar(title: str = "", **extra) -> dict:
    """A colorbar laid flat under the plot, so it does not narrow a plot on a phone."""
    return dict(orientation="h", x=0.5, xanchor="center", y=-0.18, yanchor="top", thickness=12, len=0.9,
                title=dict(text=title, side="top"), **extra)


def scale_text(fig: go.Figure, factor: float) -> go.Figure:
    """Scale every font size in the layout by ``factor`` (presentation mode), and the margins with them,
    so axis titles are neither clipped nor drawn over tick labels. Returns the figure."""
    base = fig.layout.font.size or BASE_FONT
    m = fig.layout.margin
    fig.update_layout(margin=dict(l=round((m.l if m.l is not None else 70) * factor),
                                  r=round((m.r if m.r is not None else 30) * factor),
                                  t=round((m.t if m.t is not None else 60) * factor),
                                  b=round((m.b if m.b is not None else 60) * factor)))
    fig.update_layout(font_size=round(base * factor))
    title_size = fig.layout.title.font.size or TITLE_FONT
    fig.update_layout(title_font_size=round(title_size * factor))
    fig.update_layout(legend_font_size=round(base * factor))
    for ann in fig.layout.annotations or ():
        ann.font.size = round((ann.font.size or base) * factor)
    fig.for_each_xaxis(lambda ax: ax.update(tickfont_size=round(base * factor * 0.95)))
    fig.for_each_yaxis(lambda ax: ax.update(tickfont_size=round(base * factor * 0.95)))
    if fig.layout.height:
        fig.update_layout(height=round(fig.layout.height * min(factor, 1.3)))
    return fig

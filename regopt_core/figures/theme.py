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
TICK_FONT = 14
#: the template's margins: minima, grown by plotly's automargin to fit what the axes draw
MARGIN = {"l": 8, "r": 10, "t": 60, "b": 12}

TEMPLATE = go.layout.Template(
    layout=go.Layout(
        font=dict(family="Source Sans Pro, Helvetica, Arial, sans-serif", size=BASE_FONT, color="#222"),
        title=dict(font=dict(size=TITLE_FONT), x=0.0, xanchor="left"),
        colorway=list(PALETTE),
        paper_bgcolor="white",
        plot_bgcolor="white",
        # automargin: the margins grow to fit tick labels and axis titles (a title never lands on a tick
        # label, at any font size), and start small so that a phone's 380 px keep a ≥ 300 px plot area
        xaxis=dict(showgrid=True, gridcolor="#E5E5E5", zeroline=False, linecolor="#444", ticks="outside",
                   showline=True, automargin=True, tickfont=dict(size=TICK_FONT), title=dict(standoff=8)),
        yaxis=dict(showgrid=True, gridcolor="#E5E5E5", zeroline=False, linecolor="#444", ticks="outside",
                   showline=True, automargin=True, tickfont=dict(size=TICK_FONT), title=dict(standoff=4)),
        # legends sit in a row above the plot: they never eat the plot's width (a phone is 390 px wide)
        legend=dict(bgcolor="rgba(255,255,255,0.8)", bordercolor="#CCC", borderwidth=1, orientation="h",
                    x=0.0, xanchor="left", y=1.02, yanchor="bottom"),
        margin=dict(l=MARGIN["l"], r=MARGIN["r"], t=MARGIN["t"], b=MARGIN["b"]),
        hoverlabel=dict(font=dict(size=BASE_FONT)),
    )
)


#: a horizontal legend at the bottom of the figure, under the x-axis title (plotly grows the bottom margin to
#: fit its rows, however many a narrow screen needs); see :func:`legend_clear_of_title`
LEGEND_BELOW = dict(orientation="h", x=0.0, xanchor="left", yref="container", y=0.0, yanchor="bottom")


def legend_clear_of_title(fig: go.Figure) -> go.Figure:
    """Move the template's legend (a row above the plot) under the plot when the figure also has a title:
    on a narrow screen the legend wraps into several rows that grow upwards into the title. Figures that
    place their legend themselves, or carry an in-figure slider at the bottom, are left alone."""
    lay = fig.layout
    if lay.legend.y is not None or lay.sliders or not (lay.title.text or "").strip():
        return fig
    if lay.showlegend is False or not any(t.showlegend is not False for t in fig.data if t.name):
        return fig
    fig.update_layout(legend=LEGEND_BELOW)
    return fig


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
    """Label log axes at decades only, and never more than ``max_labels`` of them.

    Every log axis that spans at least one decade of its data (or range) and has no explicit tick
    values gets :func:`log_axis`'s decade labels (``dtick=1``, 10ⁿ form) — plotly's own labels on such an
    axis include minor ticks ("2 5 2 5"); an axis spanning more than ``max_labels`` decades (17 decades
    labelled one by one overlap) gets every k-th decade instead. Shorter log axes keep plotly's labels
    (there every label is a plain number). Called by the page layer on every figure it shows.
    """
    import math

    import numpy as np

    for axis_name in [k for k in fig.layout.to_plotly_json() if k.startswith(("xaxis", "yaxis"))]:
        axis = fig.layout[axis_name]
        if axis.type != "log" or axis.tickvals is not None:
            continue
        if axis.dtick not in (None, 1, "D1", "D2"):
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
                try:
                    a = _numbers(v)
                except (TypeError, ValueError):
                    continue
            a = a[np.isfinite(a) & (a > 0)]
            if a.size:
                values += [a.min(), a.max()]
        if axis.range is not None and len(axis.range) == 2 and None not in axis.range:
            decades = abs(axis.range[1] - axis.range[0])
        elif values:
            decades = math.log10(max(values) / min(values))
        else:
            decades = None
        if axis.dtick is None or axis.dtick in ("D1", "D2"):
            if decades is None or decades < 1:
                continue
            axis.update(dtick=1, exponentformat="power", minor=dict(ticks="inside", showgrid=False))
        if decades is not None and decades > max_labels:
            axis.dtick = math.ceil(decades / max_labels)
    return fig


def _numbers(v) -> "np.ndarray":
    """A trace's coordinates as a flat float array — also when they are plotly's base64 typed array
    (``{"dtype": "f8", "bdata": ...}``), as in a figure rebuilt from its dict without validation."""
    import base64

    import numpy as np

    if isinstance(v, dict) and isinstance(v.get("bdata"), str) and "dtype" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"]).astype(float)
    return np.asarray(v, dtype=float).ravel()


def horizontal_colorbar(title: str = "", **extra) -> dict:
    """A colorbar laid flat under the plot, so it does not narrow a plot on a phone."""
    return dict(orientation="h", x=0.5, xanchor="center", y=-0.18, yanchor="top", thickness=12, len=0.9,
                title=dict(text=title, side="top"), **extra)


def scale_text(fig: go.Figure, factor: float) -> go.Figure:
    """Scale every font size of the figure by ``factor`` (presentation mode) — text, titles, ticks, legend,
    annotations, colorbars — and the minimum margins with them (plotly's automargin adds what the larger
    tick labels and titles need, so an axis title never lands on a tick label). Returns the figure."""
    lay = fig.layout
    base = lay.font.size or BASE_FONT
    m = lay.margin

    def grow(v, default):
        return round((v if v is not None else default) * factor)

    title_size = lay.title.font.size or TITLE_FONT
    update: dict = {
        "margin": dict(l=grow(m.l, MARGIN["l"]), r=grow(m.r, MARGIN["r"]), t=grow(m.t, MARGIN["t"]),
                       b=grow(m.b, MARGIN["b"])),
        "font_size": round(base * factor),
        "title_font_size": round(title_size * factor),
        "legend_font_size": round((lay.legend.font.size or base) * factor),
        "hoverlabel_font_size": round(base * factor),
    }
    if lay.height:
        update["height"] = round(lay.height * min(factor, 1.3))
    fig.update_layout(**update)
    for ann in lay.annotations or ():
        ann.font.size = round((ann.font.size or base) * factor)

    def axis(ax):
        ax.tickfont.size = round((ax.tickfont.size or TICK_FONT) * factor)
        if ax.title.font.size:
            ax.title.font.size = round(ax.title.font.size * factor)

    fig.for_each_xaxis(axis)
    fig.for_each_yaxis(axis)
    for tr in fig.data:
        cb = getattr(tr, "colorbar", None) or getattr(getattr(tr, "marker", None), "colorbar", None)
        if cb is not None and cb.to_plotly_json():
            cb.tickfont.size = round((cb.tickfont.size or TICK_FONT) * factor)
            if cb.title.font.size:
                cb.title.font.size = round(cb.title.font.size * factor)
    return fig

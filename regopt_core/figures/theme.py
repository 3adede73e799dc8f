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


def _node(parent: dict, key: str) -> dict:
    """``parent[key]`` as a dict that may be modified: created when missing, copied otherwise (the figure dicts
    styled here share their unchanged parts with the figure they were made from)."""
    node = parent.get(key)
    node = dict(node) if isinstance(node, dict) else ({"text": node} if key == "title" and node else {})
    parent[key] = node
    return node


def _get(d, *keys):
    """``d[k1][k2]...``, or None where a level is missing (a plotly property that was never set)."""
    for k in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


def legend_clear_of_title(fig: dict) -> dict:
    """Move the template's legend (a row above the plot) under the plot when the figure also has a title:
    on a narrow screen the legend wraps into several rows that grow upwards into the title. Figures that
    place their legend themselves, or carry an in-figure slider at the bottom, are left alone.

    ``fig`` is a plotly figure dict (``Figure.to_dict()``, or the page layer's copy); modified and returned."""
    lay = fig.setdefault("layout", {})
    title = lay.get("title")
    title_text = title.get("text") if isinstance(title, dict) else title
    if _get(lay, "legend", "y") is not None or lay.get("sliders") or not (title_text or "").strip():
        return fig
    if lay.get("showlegend") is False or not any(t.get("showlegend") is not False
                                                 for t in fig.get("data") or () if t.get("name")):
        return fig
    _node(lay, "legend").update(LEGEND_BELOW)
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


def tidy_log_axes(fig: dict, *, max_labels: int = 8) -> dict:
    """Label log axes at decades only, and never more than ``max_labels`` of them.

    Every log axis that spans at least one decade of its data (or range) and has no explicit tick
    values gets :func:`log_axis`'s decade labels (``dtick=1``, 10ⁿ form) — plotly's own labels on such an
    axis include minor ticks ("2 5 2 5"); an axis spanning more than ``max_labels`` decades (17 decades
    labelled one by one overlap) gets every k-th decade instead. Shorter log axes keep plotly's labels
    (there every label is a plain number). Called by the page layer on every figure it shows.

    ``fig`` is a plotly figure dict (``Figure.to_dict()``, or the page layer's copy); modified and returned.
    """
    import math

    import numpy as np

    lay = fig.setdefault("layout", {})
    for axis_name in [k for k in lay if k.startswith(("xaxis", "yaxis"))]:
        axis = lay[axis_name]
        if not isinstance(axis, dict) or axis.get("type") != "log" or axis.get("tickvals") is not None:
            continue
        dtick = axis.get("dtick")
        if dtick not in (None, 1, "D1", "D2"):
            continue
        letter, suffix = axis_name[0], axis_name[5:]
        ref = letter + suffix  # "x", "x2", ...
        values = []
        for tr in fig.get("data") or ():
            if (tr.get(f"{letter}axis") or letter) != ref:
                continue
            v = tr.get(letter)
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
        rng = axis.get("range")
        if rng is not None and len(rng) == 2 and None not in rng:
            decades = abs(rng[1] - rng[0])
        elif values:
            # rounded: the page layer reads the numbers as sent (float32), and 1e-6 in float32 is 9.99999997e-7
            decades = round(math.log10(max(values) / min(values)), 5)
        else:
            decades = None
        axis = _node(lay, axis_name)
        if dtick is None or dtick in ("D1", "D2"):
            if decades is None or decades < 1:
                continue
            axis.update(dtick=1, exponentformat="power")
            _node(axis, "minor").update(ticks="inside", showgrid=False)
        if decades is not None and decades > max_labels:
            axis["dtick"] = math.ceil(decades / max_labels)
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


def scale_text(fig: dict, factor: float) -> dict:
    """Scale every font size of the figure by ``factor`` (presentation mode) — text, titles, ticks, legend,
    annotations, colorbars — and the minimum margins with them (plotly's automargin adds what the larger
    tick labels and titles need, so an axis title never lands on a tick label).

    ``fig`` is a plotly figure dict (``Figure.to_dict()``, or the page layer's copy); modified and returned."""
    lay = fig.setdefault("layout", {})
    base = _get(lay, "font", "size") or BASE_FONT
    m = lay.get("margin") or {}

    def grow(v, default):
        return round((v if v is not None else default) * factor)

    title_size = _get(lay, "title", "font", "size") or TITLE_FONT
    legend_size = _get(lay, "legend", "font", "size") or base
    _node(lay, "margin").update(l=grow(m.get("l"), MARGIN["l"]), r=grow(m.get("r"), MARGIN["r"]),
                                t=grow(m.get("t"), MARGIN["t"]), b=grow(m.get("b"), MARGIN["b"]))
    _node(lay, "font")["size"] = round(base * factor)
    _node(_node(lay, "title"), "font")["size"] = round(title_size * factor)
    _node(_node(lay, "legend"), "font")["size"] = round(legend_size * factor)
    _node(_node(lay, "hoverlabel"), "font")["size"] = round(base * factor)
    if lay.get("height"):
        lay["height"] = round(lay["height"] * min(factor, 1.3))
    if lay.get("annotations"):
        lay["annotations"] = [dict(a) for a in lay["annotations"]]
        for ann in lay["annotations"]:
            _node(ann, "font")["size"] = round((_get(ann, "font", "size") or base) * factor)

    def axis(ax: dict) -> None:
        _node(ax, "tickfont")["size"] = round((_get(ax, "tickfont", "size") or TICK_FONT) * factor)
        if _get(ax, "title", "font", "size"):
            _node(_node(ax, "title"), "font")["size"] = round(ax["title"]["font"]["size"] * factor)

    for name in sorted({"xaxis", "yaxis"} | {k for k in lay if k.startswith(("xaxis", "yaxis"))}):
        axis(_node(lay, name))
    data = fig.get("data") or []
    for i, tr in enumerate(data):
        where = "colorbar" if tr.get("colorbar") else ("marker" if _get(tr, "marker", "colorbar") else None)
        if where is None:
            continue
        tr = data[i] = dict(tr)
        cb = _node(_node(tr, "marker"), "colorbar") if where == "marker" else _node(tr, "colorbar")
        axis(cb)
    return fig

"""Figures of the sparse-view CT page.

Images are sent as 8-bit heatmaps (grey levels over a stated window, colour bar labelled in
attenuation units): a 256² image costs ~100 KB instead of ~450 KB as float32, which matters when a
whole class loads the page at once.

The figures a page-wide move redraws (every image, the sinogram, the convergence panels, the line profile) are
filled into a *skeleton*: the figure's plotly dict built once per layout (size, colour bar, panel ...) by the
validated builder from placeholder data, then copied with the new numbers, title and colour-bar labels and wrapped
without plotly's validation (``go.Figure(dict, _validate=False)``, as the views family's frames). Validating a
figure's layout and template was ~10 ms of server CPU per figure, the numbers ~0.1 ms; the dict out is the same
(tests/figures/test_ct_figures.py compares it with the validated builder's for every figure built this way).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from regopt_core.figures.theme import COLORS, IMAGE, LEGEND_BELOW, PALETTE, log_axis, styled

__all__ = [
    "METHOD_COLORS",
    "METHOD_LABELS",
    "fig_comparison",
    "fig_convergence",
    "fig_crime_curves",
    "fig_views_family",
    "fig_geometry",
    "fig_image",
    "fig_metrics_vs_views",
    "fig_profile",
    "fig_sinogram",
    "fig_strip",
    "quantize",
]

METHOD_LABELS = {"fbp": "FBP", "fdk": "FDK (fan FBP)", "sart": "SART", "tv": "TV (PDHG)", "asd_pocs": "TV (ASD-POCS)",
                 "truth": "phantom"}
METHOD_COLORS = {"fbp": COLORS["vermillion"], "fdk": COLORS["vermillion"], "sart": COLORS["orange"],
                 "tv": COLORS["blue"], "asd_pocs": COLORS["green"], "truth": COLORS["black"]}


def quantize(image: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Map ``[lo, hi]`` linearly to grey levels 0..255 (uint8), clipping outside the window."""
    span = hi - lo if hi > lo else 1.0
    return np.clip(np.round((np.asarray(image, dtype=np.float64) - lo) / span * 255.0), 0, 255).astype(np.uint8)


def _coords(n: int) -> np.ndarray:
    return -1.0 + (np.arange(n) + 0.5) * (2.0 / n)


#: a colour bar under the plot, across it (a vertical one beside a phone-wide image took ~80 px of its width)
_BAR_BELOW = dict(orientation="h", x=0.5, xanchor="center", y=-0.04, yanchor="top", len=0.9, thickness=14,
                  title=dict(side="right"))


_TICKS = np.linspace(0, 255, 5)


def _ticktext(lo: float, hi: float) -> list[str]:
    """Colour-bar labels of the grey levels ``_TICKS`` in the window's units."""
    return [f"{lo + t / 255 * (hi - lo):.2g}" for t in _TICKS]


def _filled(skeleton: dict) -> dict:
    """A private copy of a cached skeleton dict, to fill in."""
    return copy.deepcopy(skeleton)


def _unvalidated(d: dict) -> go.Figure:
    """Wrap a filled skeleton: its layout was validated when the skeleton was built, its numbers are plain arrays."""
    return go.Figure(d, _validate=False)


def _image_trace(image: np.ndarray, lo: float, hi: float, *, colorscale: str = "gray", showscale: bool = False,
                 colorbar_title: str = "μ", colorbar_y: float = 0.5, colorbar_len: float = 0.8,
                 bar_below: bool = False) -> go.Heatmap:
    n = image.shape[0]
    c = _coords(n)
    bar = dict(title=dict(text=colorbar_title), tickvals=_TICKS, ticktext=_ticktext(lo, hi))
    bar.update(_BAR_BELOW if bar_below else dict(len=colorbar_len, y=colorbar_y))
    return go.Heatmap(
        z=quantize(image, lo, hi), x=c, y=c[::-1], zmin=0, zmax=255, colorscale=colorscale, showscale=showscale,
        colorbar=bar,
        hovertemplate="x = %{x:.2f}, y = %{y:.2f}<extra></extra>",
    )


def _square_axes(fig: go.Figure, n_axes: int) -> None:
    for i in range(1, n_axes + 1):
        sx = "" if i == 1 else str(i)
        fig.update_layout({f"xaxis{sx}": dict(visible=False, constrain="domain"),
                           f"yaxis{sx}": dict(visible=False, scaleanchor=f"x{sx}", constrain="domain")})


def fig_strip(panels: Sequence[tuple[str, np.ndarray]], *, window: tuple[float, float] = (0.0, 1.0),
              title: str = "TV from few views vs filtered back-projection", cols: int = 2,
              colorbar: bool = True) -> go.Figure:
    """A grid of images with their captions (the lecture's figure: TV at 20/30/40 views, FBP/FDK).

    Captions may contain ``<br>``; ``cols`` images per row (2 keeps each image large in a narrow column).
    """
    images = [np.asarray(img) for _, img in panels]
    shapes = {im.shape for im in images}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2 or images[0].shape[0] != images[0].shape[1]:
        return _fig_strip_validated(panels, window=window, title=title, cols=cols, colorbar=colorbar)
    lo, hi = (float(v) for v in window)
    d = _filled(_strip_skeleton(len(panels), images[0].shape[0], int(cols), bool(colorbar)))
    for trace, img in zip(d["data"], images, strict=True):
        trace["z"] = quantize(img, lo, hi)
        trace["colorbar"]["ticktext"] = _ticktext(lo, hi)
    for note, (caption, _) in zip(d["layout"]["annotations"], panels, strict=True):
        note["text"] = caption
    d["layout"]["title"]["text"] = title
    return _unvalidated(d)


@functools.lru_cache(maxsize=32)
def _strip_skeleton(k: int, n: int, cols: int, colorbar: bool) -> dict:
    blank = np.zeros((n, n))
    return _fig_strip_validated([(f"·{j}", blank) for j in range(k)], title="·", cols=cols,
                                colorbar=colorbar).to_dict()


def _fig_strip_validated(panels: Sequence[tuple[str, np.ndarray]], *, window: tuple[float, float] = (0.0, 1.0),
                         title: str = "TV from few views vs filtered back-projection", cols: int = 2,
                         colorbar: bool = True) -> go.Figure:
    """:func:`fig_strip` built and validated by plotly (the skeleton's source, and the tests' reference)."""
    k = len(panels)
    cols = max(1, min(cols, k))
    rows = -(-k // cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[p[0] for p in panels], horizontal_spacing=0.02,
                        vertical_spacing=0.1)
    for j, (_, img) in enumerate(panels):
        fig.add_trace(_image_trace(img, *window, showscale=colorbar and (j == k - 1)), row=j // cols + 1,
                      col=j % cols + 1)
    _square_axes(fig, rows * cols)
    fig.update_annotations(font_size=17)
    fig = styled(fig, title=title, height=140 + 340 * rows)
    fig.update_layout(margin=dict(t=120))
    return fig


def fig_image(image: np.ndarray, *, caption: str, window: tuple[float, float] = (0.0, 1.0),
              minus: np.ndarray | None = None, colorbar: bool = False, colorbar_title: str = "μ",
              height: int = 430) -> go.Figure:
    """One image with its caption (``<br>`` allowed) and, when ``colorbar``, its colour bar under it.

    ``minus``: draw ``image - minus`` as a signed error map on ``window`` (red = too bright) instead of a grey
    image. The page puts several of these in ``st.columns``: a row on a wide screen, one under the other on a
    phone, where one multi-panel figure would shrink every panel below 150 px.
    """
    img = np.asarray(image) if minus is None else np.asarray(image) - np.asarray(minus)
    if img.ndim != 2 or img.shape[0] != img.shape[1]:
        return _fig_image_validated(image, caption=caption, window=window, minus=minus, colorbar=colorbar,
                                    colorbar_title=colorbar_title, height=height)
    lo, hi = (float(v) for v in window)
    d = _filled(_image_skeleton(img.shape[0], minus is not None, bool(colorbar), str(colorbar_title), int(height)))
    trace = d["data"][0]
    trace["z"] = quantize(img, lo, hi)
    trace["colorbar"]["ticktext"] = _ticktext(lo, hi)
    d["layout"]["title"]["text"] = caption
    return _unvalidated(d)


@functools.lru_cache(maxsize=64)
def _image_skeleton(n: int, signed: bool, colorbar: bool, colorbar_title: str, height: int) -> dict:
    blank = np.zeros((n, n))
    return _fig_image_validated(blank, caption="·", window=(0.0, 1.0), minus=blank if signed else None,
                                colorbar=colorbar, colorbar_title=colorbar_title, height=height).to_dict()


def _fig_image_validated(image: np.ndarray, *, caption: str, window: tuple[float, float] = (0.0, 1.0),
                         minus: np.ndarray | None = None, colorbar: bool = False, colorbar_title: str = "μ",
                         height: int = 430) -> go.Figure:
    """:func:`fig_image` built and validated by plotly (the skeleton's source, and the reference of the tests)."""
    signed = minus is not None
    img = image - minus if signed else image
    fig = go.Figure(_image_trace(img, *window, colorscale="RdBu_r" if signed else IMAGE, showscale=colorbar,
                                 colorbar_title=colorbar_title, bar_below=True))
    _square_axes(fig, 1)
    fig.update_yaxes(constraintoward="top")  # the image right under its caption, in every column of a row
    fig = styled(fig, title=caption, height=height + (50 if colorbar else 0))
    fig.update_layout(title=dict(x=0.5, xanchor="center", font=dict(size=17)),
                      margin=dict(t=64, b=70 if colorbar else 8, l=4, r=4))
    return fig


def fig_comparison(truth: np.ndarray, panels: Sequence[tuple[str, np.ndarray]], *, window: tuple[float, float] = (0.0, 1.0),
                   diff_window: float = 0.2) -> go.Figure:
    """Top row: the reconstructions; bottom row: reconstruction minus phantom (signed, red = too bright)."""
    k = len(panels)
    titles = [p[0] for p in panels] + [f"error of {p[0].split('<br>')[0].strip()}" for p in panels]
    fig = make_subplots(rows=2, cols=k, subplot_titles=titles, horizontal_spacing=0.02, vertical_spacing=0.1)
    for j, (_, img) in enumerate(panels):
        fig.add_trace(_image_trace(img, *window, showscale=(j == k - 1), colorbar_y=0.77, colorbar_len=0.42),
                      row=1, col=j + 1)
        fig.add_trace(_image_trace(img - truth, -diff_window, diff_window, colorscale="RdBu_r", showscale=(j == k - 1),
                                   colorbar_title="error", colorbar_y=0.23, colorbar_len=0.42), row=2, col=j + 1)
    _square_axes(fig, 2 * k)
    fig.update_annotations(font_size=16)
    fig = styled(fig, title="Reconstructions (top) and their errors (bottom; red = too bright)", height=720)
    fig.update_layout(margin=dict(t=120))
    return fig


def fig_metrics_vs_views(views: Sequence[int], scores: dict[str, dict[str, Sequence[float]]], *,
                         current: int | None = None, metric: str | None = None) -> go.Figure:
    """PSNR, SSIM and RMSE against the number of views, one line per method: three panels in a row, or only
    ``metric`` ("psnr", "ssim" or "rmse") as a figure of its own (the page stacks those on a phone).

    ``scores[method][metric]`` is a sequence aligned with ``views`` (NaN where not computed).
    """
    which = ["psnr", "ssim", "rmse"] if metric is None else [metric]
    d = _filled(_metrics_skeleton(tuple(int(v) for v in views), tuple(scores), metric, current is not None))
    traces = iter(d["data"])
    for vals in scores.values():
        for m in which:
            next(traces)["y"] = list(vals[m])
    for shape in d["layout"].get("shapes", ()):
        shape["x0"] = shape["x1"] = current
    return _unvalidated(d)


@functools.lru_cache(maxsize=32)
def _metrics_skeleton(views: tuple[int, ...], methods: tuple[str, ...], metric: str | None, current: bool) -> dict:
    blank = [0.0] * len(views)
    return _fig_metrics_vs_views_validated(views, {m: {k: blank for k in ("psnr", "ssim", "rmse")} for m in methods},
                                           current=views[0] if current else None, metric=metric).to_dict()


def _fig_metrics_vs_views_validated(views: Sequence[int], scores: dict[str, dict[str, Sequence[float]]], *,
                                    current: int | None = None, metric: str | None = None) -> go.Figure:
    """:func:`fig_metrics_vs_views` built and validated by plotly (the skeleton's source, and the tests' reference)."""
    titles = {"psnr": "PSNR (dB, higher is better)", "ssim": "SSIM (higher is better)", "rmse": "RMSE (lower is better)"}
    which = list(titles) if metric is None else [metric]
    fig = make_subplots(rows=1, cols=len(which), subplot_titles=[titles[m] for m in which] if metric is None else None,
                        horizontal_spacing=0.08)
    for method, vals in scores.items():
        for j, m in enumerate(which):
            fig.add_scatter(x=list(views), y=list(vals[m]), mode="lines+markers", name=METHOD_LABELS.get(method, method),
                            legendgroup=method, showlegend=(j == 0),
                            line=dict(color=METHOD_COLORS.get(method, PALETTE[0]), width=3), marker=dict(size=8),
                            row=1, col=j + 1)
    if current is not None:
        for j in range(len(which)):
            fig.add_vline(x=current, line=dict(color=COLORS["grey"], dash="dot"), row=1, col=j + 1)
    fig.update_xaxes(type="log", title_text="number of views", tickvals=list(views), ticktext=[str(v) for v in views],
                     tickangle=0, minor=dict(showgrid=False))
    fig.update_layout(legend=LEGEND_BELOW)  # under the x-axis title, however many rows a narrow column needs
    title = "Image quality against the number of views (dose ∝ views)" if metric is None else titles[metric]
    return styled(fig, title=title, height=440)


def fig_sinogram(sinogram: np.ndarray, det_positions: np.ndarray, angles_deg: np.ndarray, *,
                 title: str = "Sinogram: one row per view") -> go.Figure:
    """The measured line integrals, detector position across, view angle down."""
    sino = np.asarray(sinogram)
    lo, hi = float(np.min(sino)), float(np.max(sino))
    d = _filled(_sinogram_skeleton(sino.shape))
    trace = d["data"][0]
    trace["z"], trace["x"], trace["y"] = quantize(sino, lo, hi), np.asarray(det_positions), np.asarray(angles_deg)
    trace["colorbar"]["ticktext"] = [f"{lo:.2g}", f"{hi:.2g}"]
    d["layout"]["title"]["text"] = title
    return _unvalidated(d)


@functools.lru_cache(maxsize=32)
def _sinogram_skeleton(shape: tuple[int, int]) -> dict:
    return _fig_sinogram_validated(np.zeros(shape), np.zeros(shape[1]), np.zeros(shape[0]), title="·").to_dict()


def _fig_sinogram_validated(sinogram: np.ndarray, det_positions: np.ndarray, angles_deg: np.ndarray, *,
                            title: str = "Sinogram: one row per view") -> go.Figure:
    """:func:`fig_sinogram` built and validated by plotly (the skeleton's source, and the tests' reference)."""
    lo, hi = float(np.min(sinogram)), float(np.max(sinogram))
    fig = go.Figure(go.Heatmap(
        z=quantize(sinogram, lo, hi), x=det_positions, y=angles_deg, colorscale="gray", zmin=0, zmax=255,
        # the colour bar lies across the top right, not beside the plot (on a phone it took ~80 px of its width)
        colorbar=dict(title=dict(text="∫μ ds", side="top"), tickvals=[0, 255], ticktext=[f"{lo:.2g}", f"{hi:.2g}"],
                      orientation="h", x=1.0, xanchor="right", y=1.02, yanchor="bottom", len=0.45, thickness=12),
        hovertemplate="detector %{x:.2f}, angle %{y:.1f}°<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    fig = styled(fig, title=title, x_title="detector position (FOV half-widths)", y_title="view angle (degrees)",
                 height=460)
    fig.update_layout(margin=dict(t=110))
    return fig


_FINAL_NOTE = "final − 0.5 dB"


def fig_convergence(iterations: np.ndarray, objective: np.ndarray, residual: np.ndarray, psnr_trace: np.ndarray, *,
                    objective_label: str = "½‖s(Ax−b)‖² + λ·TV(x)", panel: int | None = None) -> go.Figure:
    """Objective, data residual and PSNR against the iteration number: three panels in a row, or only panel
    ``panel`` (0, 1, 2) as a figure of its own (the page stacks those on a phone)."""
    series = (objective, residual, psnr_trace)
    which = [0, 1, 2] if panel is None else [int(panel)]
    has_psnr = len(psnr_trace) > 0
    d = _filled(_convergence_skeleton(objective_label, panel, has_psnr))
    for trace, j in zip(d["data"], which, strict=True):
        trace["x"], trace["y"] = iterations, series[j]
    if has_psnr and 2 in which:
        level = float(psnr_trace[-1]) - 0.5
        for shape in d["layout"]["shapes"]:
            shape["y0"] = shape["y1"] = level
        for note in d["layout"]["annotations"]:
            if note.get("text") == _FINAL_NOTE:
                note["y"] = level
    return _unvalidated(d)


@functools.lru_cache(maxsize=16)
def _convergence_skeleton(objective_label: str, panel: int | None, has_psnr: bool) -> dict:
    one = np.ones(1)
    return _fig_convergence_validated(one, one, one, one if has_psnr else np.zeros(0), objective_label=objective_label,
                                      panel=panel).to_dict()


def _fig_convergence_validated(iterations: np.ndarray, objective: np.ndarray, residual: np.ndarray,
                               psnr_trace: np.ndarray, *, objective_label: str = "½‖s(Ax−b)‖² + λ·TV(x)",
                               panel: int | None = None) -> go.Figure:
    """:func:`fig_convergence` built and validated by plotly (the skeleton's source, and the tests' reference)."""
    titles = ["objective", "data residual ‖Ax − b‖", "PSNR (dB)"]
    which = [0, 1, 2] if panel is None else [int(panel)]
    fig = make_subplots(rows=1, cols=len(which), subplot_titles=[titles[j] for j in which] if panel is None else None,
                        horizontal_spacing=0.08)
    it = np.asarray(iterations)
    series = [(objective, objective_label, COLORS["blue"]), (residual, "‖Ax − b‖₂", COLORS["orange"]),
              (psnr_trace, "PSNR", COLORS["green"])]
    for col, j in enumerate(which, start=1):
        ys, name, color = series[j]
        fig.add_scatter(x=it, y=ys, name=name, line=dict(color=color, width=3), row=1, col=col)
        if j == 2 and len(psnr_trace):
            final = float(psnr_trace[-1])
            fig.add_hline(y=final - 0.5, line=dict(color=COLORS["grey"], dash="dot"), row=1, col=col,
                          annotation_text=_FINAL_NOTE, annotation_position="bottom right")
        if j < 2:
            fig.update_yaxes(type="log", row=1, col=col)
    fig.update_xaxes(title_text="iteration")
    fig.update_layout(showlegend=False)
    title = "Convergence of the iterative reconstruction" if panel is None else titles[which[0]]
    return styled(fig, title=title, height=400)


def fig_profile(truth: np.ndarray, panels: Sequence[tuple[str, str, np.ndarray]], *, row: int) -> go.Figure:
    """Values along one image row: the phantom and each reconstruction ``(method, label, image)``."""
    n = truth.shape[0]
    d = _filled(_profile_skeleton(n, tuple((m, label) for m, label, _ in panels)))
    for trace, img in zip(d["data"], [truth] + [p[2] for p in panels], strict=True):
        trace["y"] = np.asarray(img)[row]
    d["layout"]["title"]["text"] = _profile_title(n, row)
    return _unvalidated(d)


def _profile_title(n: int, row: int) -> str:
    return f"Line profile at y = {1.0 - (row + 0.5) * 2.0 / n:.2f}"


@functools.lru_cache(maxsize=32)
def _profile_skeleton(n: int, methods: tuple[tuple[str, str], ...]) -> dict:
    blank = np.zeros((1, n))
    return _fig_profile_validated(blank, [(m, label, blank) for m, label in methods], row=0).to_dict()


def _fig_profile_validated(truth: np.ndarray, panels: Sequence[tuple[str, str, np.ndarray]], *,
                           row: int) -> go.Figure:
    """:func:`fig_profile` built and validated by plotly (the skeleton's source, and the tests' reference)."""
    n = truth.shape[1]
    x = _coords(n)
    fig = go.Figure()
    fig.add_scatter(x=x, y=truth[row], name="phantom", line=dict(color=COLORS["black"], width=3, shape="hv"))
    dashes = ("solid", "dash", "dot", "dashdot")
    for j, (method, label, img) in enumerate(panels):
        fig.add_scatter(x=x, y=img[row], name=label, line=dict(color=METHOD_COLORS.get(method, PALETTE[j]), width=2.5,
                                                                 dash=dashes[j % len(dashes)]))
    return styled(fig, title=_profile_title(n, row), x_title="x (FOV half-widths)",
                  y_title="attenuation μ (a.u.)", height=400)


def fig_geometry(kind: str, *, dso: float = 3.0, dsd: float = 6.0, n_views: int = 8, n_rays: int = 9) -> go.Figure:
    """A small diagram of the acquisition: image square, source orbit or beam, detector and a few rays."""
    fig = go.Figure()
    fig.add_shape(type="rect", x0=-1, y0=-1, x1=1, y1=1, line=dict(color=COLORS["grey"], width=2))
    fig.add_shape(type="circle", x0=-1, y0=-1, x1=1, y1=1, line=dict(color=COLORS["grey"], dash="dot"))
    if kind == "fan":
        beta = np.pi / 2  # one source position drawn in full
        es, eu = np.array([np.cos(beta), np.sin(beta)]), np.array([-np.sin(beta), np.cos(beta)])
        src = dso * es
        det_c = -(dsd - dso) * es
        half = dsd * np.tan(np.arcsin(min(np.sqrt(2) / dso, 0.999)))
        u = np.linspace(-half, half, n_rays)
        ends = det_c[None, :] + u[:, None] * eu[None, :]
        for e in ends:
            fig.add_scatter(x=[src[0], e[0]], y=[src[1], e[1]], mode="lines", line=dict(color=COLORS["sky"], width=1.5),
                            showlegend=False, hoverinfo="skip")
        d0, d1 = det_c - half * eu, det_c + half * eu
        fig.add_scatter(x=[d0[0], d1[0]], y=[d0[1], d1[1]], mode="lines", line=dict(color=COLORS["black"], width=6),
                        name="flat detector")
        t = np.linspace(0, 2 * np.pi, 200)
        fig.add_scatter(x=dso * np.cos(t), y=dso * np.sin(t), mode="lines", line=dict(color=COLORS["orange"], dash="dash"),
                        name=f"source orbit (DSO = {dso:g})")
        b = np.arange(n_views) * 2 * np.pi / n_views + np.pi / 2
        fig.add_scatter(x=dso * np.cos(b), y=dso * np.sin(b), mode="markers", marker=dict(size=10, color=COLORS["vermillion"]),
                        name="source positions")
        lim = max(dso, dsd - dso + 0.2, half) * 1.1
        title = f"Fan beam: DSO = {dso:g}, DSD = {dsd:g} (FOV half-widths)"
    else:
        theta = np.pi / 6
        nrm, dirv = np.array([np.cos(theta), np.sin(theta)]), np.array([-np.sin(theta), np.cos(theta)])
        s = np.linspace(-1.4, 1.4, n_rays)
        for si in s:
            a, bpt = si * nrm - 2.0 * dirv, si * nrm + 1.8 * dirv
            fig.add_scatter(x=[a[0], bpt[0]], y=[a[1], bpt[1]], mode="lines", line=dict(color=COLORS["sky"], width=1.5),
                            showlegend=False, hoverinfo="skip")
        d0, d1 = -1.45 * nrm + 1.9 * dirv, 1.45 * nrm + 1.9 * dirv
        fig.add_scatter(x=[d0[0], d1[0]], y=[d0[1], d1[1]], mode="lines", line=dict(color=COLORS["black"], width=6),
                        name="detector (rotates over 180°)")
        lim = 2.3
        title = "Parallel beam over 180°"
    fig.update_xaxes(range=[-lim, lim], visible=False)
    fig.update_yaxes(range=[-lim, lim], visible=False, scaleanchor="x")
    fig.update_layout(legend=dict(orientation="h", y=-0.05, x=0))
    return styled(fig, title=title, height=360)


def fig_crime_curves(lams: Sequence[float], psnr_honest: Sequence[float], psnr_crime: Sequence[float], *,
                     lam_now: float | None = None) -> go.Figure:
    """TV's PSNR against λ on honest data and on inverse-crime data, each curve's best λ marked (a star)."""
    lams = np.asarray(lams, dtype=float)
    fig = go.Figure()
    for name, ys, color, dash in (("honest data (exact line integrals)", psnr_honest, COLORS["blue"], "solid"),
                                  ("inverse crime (data = A·x)", psnr_crime, COLORS["vermillion"], "dash")):
        ys = np.asarray(ys, dtype=float)
        i = int(np.nanargmax(ys))
        fig.add_scatter(x=lams, y=ys, mode="lines+markers", name=name, legendgroup=name,
                        line=dict(color=color, width=3, dash=dash), marker=dict(size=8))
        fig.add_scatter(x=[lams[i]], y=[ys[i]], mode="markers+text", name=f"best λ = {lams[i]:g}", legendgroup=name,
                        showlegend=False, marker=dict(symbol="star", size=18, color=color),
                        text=[f"best λ = {lams[i]:g}"], textposition="top center")
    if lam_now is not None and lam_now > 0:
        fig.add_vline(x=lam_now, line=dict(color=COLORS["grey"], dash="dot"))
    fig.update_layout(xaxis=log_axis(title_text="λ (the formula's λ)"), yaxis=dict(title_text="PSNR of TV (dB)"),
                      legend=LEGEND_BELOW)  # (at paper y = -0.25 it covered the x-axis title)
    return styled(fig, title="TV's PSNR over λ: honest data vs inverse crime", height=440)


def fig_views_family(views: Sequence[int], tv: np.ndarray, fbp: np.ndarray, tv_psnr: Sequence[float],
                     fbp_psnr: Sequence[float], *, window: tuple[float, float] = (0.0, 1.0), current: int = 40,
                     fbp_name: str = "FBP", stacked: bool = False) -> go.Figure:
    """TV and FBP/FDK side by side (``stacked``: TV above FBP, for a column a phone can show at full width) with
    plotly's own slider over the precomputed view counts (frames): dragging redraws in the browser, with no
    server round trip. Opens at the view count closest to ``current``."""
    views = [int(v) for v in views]
    i0 = int(np.argmin([abs(v - current) for v in views]))

    def title(j: int) -> str:
        return (f"{views[j]} views — TV {float(tv_psnr[j]):.1f} dB · {fbp_name} {float(fbp_psnr[j]):.1f} dB"
                + ("<br>" if stacked else " ") + "(drag the slider under the images)")

    rows, cols = (2, 1) if stacked else (1, 2)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=["TV (PDHG)", fbp_name], horizontal_spacing=0.02,
                        vertical_spacing=0.08)
    fig.add_trace(_image_trace(tv[i0], *window), row=1, col=1)
    fig.add_trace(_image_trace(fbp[i0], *window, showscale=not stacked), row=rows, col=cols)
    _square_axes(fig, 2)
    # frames as plain dicts, added unvalidated (plotly validates every frame's z array otherwise: ~10x the cost)
    frames = [dict(name=str(v), data=[dict(type="heatmap", z=quantize(tv[j], *window)),
                                      dict(type="heatmap", z=quantize(fbp[j], *window))],
                   traces=[0, 1], layout=dict(title=dict(text=title(j))))
              for j, v in enumerate(views)]
    steps = [dict(method="animate", label=str(v),
                  args=[[str(v)], dict(mode="immediate", frame=dict(duration=0, redraw=True), transition=dict(duration=0))])
             for v in views]
    slider = dict(active=i0, steps=steps, x=0.0, len=1.0, y=-0.02, yanchor="top", pad=dict(t=10, b=0),
                  currentvalue=dict(prefix="views in this figure: ", font=dict(size=14)), font=dict(size=11))
    fig.update_layout(sliders=[slider], margin=dict(t=130 if stacked else 100, b=110))  # (a two-line title)
    fig = styled(fig, title=title(i0), height=990 if stacked else 560).to_dict()
    fig["frames"] = frames
    return go.Figure(fig, _validate=False)

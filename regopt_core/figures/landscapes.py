"""Figures of the loss-landscape page: contour race (client-side animation), a family of step sizes
across a threshold (a plotly slider inside the figure, no rerun while dragging), 3-D surface,
convergence curves, the step-size ruler with stability thresholds, gradient-check error vs h, and
random search vs gradient descent. All builders are pure: results in, ``go.Figure`` out.

Layout rules (three screens): figures with a legend carry no plotly title (the page heads them), so
a legend row above the plot never meets a title; colour bars lie flat under the plot and margins stay
small, so a 390 px phone keeps a plot area of at least 300 px; log axes use ``theme.log_axis()``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from regopt_core.figures.theme import COLORS, PALETTE, TEMPLATE, horizontal_colorbar, log_axis, styled
from regopt_core.functions import Surface
from regopt_core.gradients import StepSweep
from regopt_core.landscapes import DimensionSweep, Grid, Race, Racer, SearchComparison, StepFamily

__all__ = [
    "racer_color",
    "racer_name",
    "contour_levels",
    "fig_race_contour",
    "fig_step_family",
    "fig_surface_3d",
    "fig_convergence",
    "fig_step_ruler",
    "fig_gradient_check",
    "fig_search_vs_evals",
    "fig_search_vs_dimension",
]

# Racer colours: Okabe-Ito without yellow (unreadable on white), in a fixed order.
RACER_COLORS = (PALETTE[0], PALETTE[1], PALETTE[2], PALETTE[3], PALETTE[4], PALETTE[7])
MAX_PATH_POINTS = 1200
N_FRAMES = 24
MAX_TRAIL_POINTS = 80  # per racer and frame: keeps the animation's frames small


def racer_color(i: int) -> str:
    return RACER_COLORS[i % len(RACER_COLORS)]


def racer_name(r: Racer) -> str:
    """Legend text: the optimizer, its step size and the hyper-parameters it uses (β, ρ, β₁/β₂)."""
    hyper = "".join(f", {sym}={v:g}" for sym, v in r.entry.hyper())
    return f"{r.label} (η={r.learning_rate:g}{hyper})"


def _path_indices(n: int, max_points: int = MAX_PATH_POINTS) -> np.ndarray:
    """Indices 0..n-1 to draw: every early step, then evenly thinned (always keeps the last)."""
    if n <= max_points:
        return np.arange(n)
    head = np.arange(min(200, max_points // 4))
    tail = np.linspace(head[-1] + 1, n - 1, max_points - head.size).round().astype(int)
    return np.unique(np.concatenate([head, tail]))


def contour_levels(grid: Grid, f_min: float) -> tuple[np.ndarray, float]:
    """The contour's colour value log10(f - f* + floor) and the floor used.

    The floor is the 0.5 % quantile of f - f* on the grid (at least 1e-12), so the levels resolve the
    bottom of the valley without being swamped by the walls.
    """
    gap = grid.z - f_min
    finite = gap[np.isfinite(gap)]
    pos = finite[finite > 0]
    floor = float(max(np.quantile(pos, 0.005), 1e-12)) if pos.size else 1e-12
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.log10(np.clip(gap, 0.0, None) + floor)
    z[~np.isfinite(z)] = np.nan
    return z, floor


def _f32(v: np.ndarray) -> np.ndarray:
    """Single precision for drawing (halves what is sent to the browser); huge values saturate."""
    with np.errstate(over="ignore"):
        return np.clip(np.asarray(v, dtype=float), -1e30, 1e30).astype(np.float32)


def _in_window(surface: Surface, p: np.ndarray) -> bool:
    (x0, x1), (y0, y1) = surface.bounds
    return bool(x0 <= p[0] <= x1 and y0 <= p[1] <= y1)


def _assemble(data: list[dict], layout: dict, *, title: str | None, x_title: str | None = None,
              y_title: str | None = None, height: int, frames: list[dict] | None = None) -> go.Figure:
    """A figure from plain dicts in the project's look, skipping plotly's per-property validation.

    The same look as :func:`regopt_core.figures.theme.styled` (template, title, axis titles,
    height), but several times faster for figures with many traces or animation frames -- these
    are rebuilt on every slider move. Data and layout are built from known-good keys here.
    """
    lay = {"template": _template(), "height": height}
    if title:
        lay["title"] = {"text": title}
    for axis, text in (("xaxis", x_title), ("yaxis", y_title)):
        if text is not None:
            lay[axis] = {"title": {"text": text}}
    for key, value in layout.items():
        if isinstance(value, dict) and isinstance(lay.get(key), dict):
            lay[key] = {**lay[key], **value}
        else:
            lay[key] = value
    fig = go.Figure({"data": data, "layout": lay}, _validate=False)
    if frames:
        fig.frames = frames  # the public API (plotly validates frames: ~1 ms each)
    return fig


_TEMPLATE_JSON: dict | None = None


def _template() -> dict:
    global _TEMPLATE_JSON  # noqa: PLW0603 -- computed once: the shared template as a plain dict
    if _TEMPLATE_JSON is None:
        _TEMPLATE_JSON = TEMPLATE.to_plotly_json()
    return _TEMPLATE_JSON


def _contour_line_traces(grid: Grid, f_min: float, n_levels: int = 16) -> list[dict]:
    """Level lines of log10(f - f*) as scatter traces (darker = lower; the hover text gives f − f*).

    Drawn as scatter lines rather than a plotly ``contour`` trace because plotly.js drops contour
    and heatmap traces while a client-side animation (``Plotly.animate``) is running; scatter
    lines stay. The level lines come from marching squares (``skimage.measure.find_contours``).
    """
    from skimage.measure import find_contours

    z, _ = contour_levels(grid, f_min)
    finite = z[np.isfinite(z)]
    if finite.size == 0:
        return []
    z = np.where(np.isfinite(z), z, finite.max())
    zmin, zmax = float(finite.min()), float(finite.max())
    if zmax <= zmin:
        return []
    levels = np.linspace(zmin, zmax, n_levels + 2)[1:-1]
    x0, dx = grid.x[0], (grid.x[-1] - grid.x[0]) / (len(grid.x) - 1)
    y0, dy = grid.y[0], (grid.y[-1] - grid.y[0]) / (len(grid.y) - 1)
    traces = []
    for j, level in enumerate(levels):
        xs, ys = [], []
        for seg in find_contours(z, level):
            xs += [x0 + dx * seg[:, 1], [np.nan]]
            ys += [y0 + dy * seg[:, 0], [np.nan]]
        if not xs:
            continue
        t = j / max(1, len(levels) - 1)
        grey = int(70 + 130 * t)
        traces.append(dict(type="scatter", x=_f32(np.concatenate(xs)), y=_f32(np.concatenate(ys)), mode="lines",
                           line=dict(color=f"rgb({grey},{grey},{grey})", width=1.3), showlegend=False,
                           name=f"level {level:.2f}", legendgroup="contours",
                           hovertemplate=f"f − f* ≈ {10 ** level:.3g}<extra></extra>"))
    return traces


def fig_race_contour(race: Race, grid: Grid, surface: Surface, *, clickable: bool = True, n_click: int = 31,
                     extra_points: Sequence[tuple[float, float, str, str]] = (), animate: bool = True,
                     height: int = 720) -> go.Figure:
    """Contours of log10(f - f*) with every racer's path, animated on the client (play / step slider).

    Trace order: level lines (scatter) and their colour bar, [click grid], one line per racer, trail
    (animated), heads (animated), minimizers, start, [extra points], [divergence marks]. ``extra_points`` are (x, y, label, symbol).
    With ``clickable`` an invisible grid of points lets a click (``on_select``) pick a new start.
    """
    data = _contour_line_traces(grid, surface.f_min)
    n_contour = len(data)
    if clickable:
        px, py = np.meshgrid(np.linspace(*surface.bounds[0], n_click), np.linspace(*surface.bounds[1], n_click))
        data.append(dict(type="scatter", x=px.ravel(), y=py.ravel(), mode="markers", name="start picker",
                         marker=dict(size=16, opacity=0.0, color="#000"), showlegend=False,
                         unselected=dict(marker=dict(opacity=0.0)), selected=dict(marker=dict(opacity=0.0)),
                         hovertemplate="click: start here (%{x:.2f}, %{y:.2f})<extra></extra>"))
    paths = []
    for i, r in enumerate(race.racers):
        xs = r.trace.xs
        idx = _path_indices(len(xs))
        paths.append((xs, _path_indices(len(xs), MAX_TRAIL_POINTS)))
        data.append(dict(type="scatter", x=_f32(xs[idx, 0]), y=_f32(xs[idx, 1]), mode="lines", name=racer_name(r),
                         legendgroup=str(i), line=dict(color=racer_color(i), width=3),
                         hovertemplate=f"{r.label}<br>(%{{x:.3g}}, %{{y:.3g}})<extra></extra>"))
    n_max = max((len(xs) for xs, _ in paths), default=1)
    ks = np.unique(np.round(np.geomspace(1, n_max, N_FRAMES)).astype(int) - 1) if n_max > 1 else np.array([0])
    ks = np.unique(np.concatenate([[0], ks]))
    gap = np.array([np.nan])

    def trail_and_heads(k: int) -> tuple[dict, dict]:
        # numpy arrays (NaN separates the racers' trails): plotly encodes them compactly as binary.
        tx, ty, hx, hy = [gap], [gap], [], []
        for xs, idx in paths:
            upto = idx[idx <= k]
            tx += [xs[upto, 0], gap]
            ty += [xs[upto, 1], gap]
            j = min(k, len(xs) - 1)
            hx.append(xs[j, 0])
            hy.append(xs[j, 1])
        return (dict(type="scatter", x=_f32(np.concatenate(tx)), y=_f32(np.concatenate(ty))),
                dict(type="scatter", x=np.array(hx), y=np.array(hy)))

    trail, heads = trail_and_heads(int(ks[-1]))
    keep = dict(unselected=dict(marker=dict(opacity=1.0)))
    data.append(dict(trail, mode="lines", line=dict(color="#222", width=1.2), opacity=0.55, showlegend=False,
                     hoverinfo="skip", name="trail"))
    data.append(dict(heads, mode="markers", showlegend=False, hoverinfo="skip", name="current", **keep,
                     marker=dict(size=15, color=[racer_color(i) for i in range(len(paths))],
                                 line=dict(color="white", width=2))))
    mins = np.asarray(surface.minimizers)
    data.append(dict(type="scatter", x=mins[:, 0], y=mins[:, 1], mode="markers", name="global minimum", **keep,
                     marker=dict(symbol="star", size=20, color=COLORS["yellow"], line=dict(color="black", width=1.5)),
                     hovertemplate="minimum (%{x:.3g}, %{y:.3g})<extra></extra>"))
    data.append(dict(type="scatter", x=[float(race.x0[0])], y=[float(race.x0[1])], mode="markers", name="start",
                     marker=dict(symbol="circle-open", size=18, color="black", line=dict(width=3)), **keep,
                     hovertemplate="start (%{x:.3g}, %{y:.3g})<extra></extra>"))
    for x, y, label, symbol in extra_points:
        data.append(dict(type="scatter", x=[float(x)], y=[float(y)], mode="markers", name=label, **keep,
                         marker=dict(symbol=symbol, size=16, color=COLORS["grey"], line=dict(color="black", width=1.5))))
    for i, r in enumerate(race.racers):
        if r.trace.diverged and _in_window(surface, r.trace.x):
            data.append(dict(type="scatter", x=[float(r.trace.x[0])], y=[float(r.trace.x[1])], mode="markers",
                             showlegend=False, **keep,
                             marker=dict(symbol="x", size=18, color=racer_color(i), line=dict(width=2)),
                             hovertemplate=f"{r.label}: diverged at step {r.trace.diverged_at}<extra></extra>"))
    n_before = n_contour + int(clickable) + len(race.racers)
    (x_lo, x_hi), (y_lo, y_hi) = surface.bounds
    # equal scales on both axes: the gradient is then visibly perpendicular to the contour lines.
    # No plotly title: the legend is a row above the plot (template) and the page heads the figure.
    layout = dict(xaxis=dict(range=[x_lo, x_hi], constrain="domain"),
                  yaxis=dict(range=[y_lo, y_hi], scaleanchor="x", scaleratio=1, constrain="domain"),
                  margin=dict(l=52, r=8, t=30, b=170 if animate else 60), clickmode="event+select",
                  dragmode="pan", hovermode="closest")
    frames = None
    if animate and len(ks) > 1:
        frames = []
        for k in ks:
            t, h = trail_and_heads(int(k))
            frames.append(dict(data=[t, h], traces=[n_before, n_before + 1], name=str(int(k))))
        step_args = dict(mode="immediate", frame=dict(duration=0, redraw=False), transition=dict(duration=0))
        layout["updatemenus"] = [_play_buttons(y=-0.13)]
        layout["sliders"] = [dict(active=len(ks) - 1, x=0.27, y=-0.11, len=0.73, xanchor="left", yanchor="top",
                                  currentvalue=dict(prefix="step ", font=dict(size=16), xanchor="right"), pad=dict(t=8),
                                  steps=[dict(label=str(int(k)), method="animate", args=[[str(int(k))], step_args])
                                         for k in ks])]
    names = _axis_names(surface)
    return _assemble(data, layout, title=None, x_title=names[0], y_title=names[1], height=height, frames=frames)


def _axis_names(surface: Surface) -> tuple[str, str]:
    return ("weight w₁", "weight w₂") if surface.key == "logistic" else ("x", "y")


def _play_buttons(*, y: float) -> dict:
    return dict(type="buttons", direction="left", x=0.0, y=y, xanchor="left", yanchor="top", pad=dict(t=8, r=8),
                showactive=False,
                buttons=[dict(label="▶ Play", method="animate",
                              args=[None, dict(frame=dict(duration=180, redraw=False), transition=dict(duration=0),
                                               fromcurrent=False, mode="immediate")]),
                         dict(label="❚❚ Pause", method="animate",
                              args=[[None], dict(frame=dict(duration=0, redraw=False), mode="immediate",
                                                 transition=dict(duration=0))])])


def family_label(fam: StepFamily, i: int) -> str:
    """What frame ``i`` of the live figure shows, in words: its η, as a multiple of the limit, and the outcome."""
    r = fam.racers[i]
    fac = fam.config.factors[i]
    if r.trace.diverged:
        what = f"diverged at step {r.trace.diverged_at}"
    else:
        gap = r.trace.fun - fam.surface.f_min
        what = f"after {r.trace.nit} steps f − f* = {gap:.1e}"
    return f"η = {fam.etas[i]:.3g} = {fac:g} × {fam.formula}: {what}"


def fig_step_family(fam: StepFamily, *, active: int = 0, height: int = 640, max_points: int = 200) -> go.Figure:
    """One optimizer's path at each step size of ``fam`` as plotly frames, chosen by a slider *inside* the
    figure: dragging it redraws in the browser, with no rerun. The slider's current value names the
    frame shown (η, its multiple of the limit, and the outcome); frame ``active`` is drawn first.

    Trace order: level lines, path (animated), end point (animated), minimizers, start.
    """
    surface = fam.surface
    data = _contour_line_traces(fam.grid, surface.f_min)
    n_contour = len(data)
    color = racer_color(0)

    def path_and_head(i: int) -> tuple[dict, dict]:
        xs = fam.racers[i].trace.xs
        idx = _path_indices(len(xs), max_points)
        return (dict(type="scatter", x=_f32(xs[idx, 0]), y=_f32(xs[idx, 1])),
                dict(type="scatter", x=[float(xs[-1, 0])], y=[float(xs[-1, 1])],
                     marker=dict(symbol="x" if fam.racers[i].trace.diverged else "circle", size=16, color=color,
                                 line=dict(color="white", width=1.5))))

    active = int(min(max(active, 0), len(fam.racers) - 1))
    path, head = path_and_head(active)
    data.append(dict(path, mode="lines+markers", name=OPTIMIZER_PATH_NAME, line=dict(color=color, width=2.5),
                     marker=dict(size=4, color=color), hoverinfo="skip", showlegend=False))
    data.append(dict(head, mode="markers", name="last iterate", showlegend=False, hoverinfo="skip"))
    mins = np.asarray(surface.minimizers)
    data.append(dict(type="scatter", x=mins[:, 0], y=mins[:, 1], mode="markers", name="global minimum",
                     marker=dict(symbol="star", size=18, color=COLORS["yellow"], line=dict(color="black", width=1.5)),
                     showlegend=False, hovertemplate="minimum (%{x:.3g}, %{y:.3g})<extra></extra>"))
    x0 = fam.racers[0].trace.xs[0]
    data.append(dict(type="scatter", x=[float(x0[0])], y=[float(x0[1])], mode="markers", name="start",
                     showlegend=False, marker=dict(symbol="circle-open", size=16, color="black", line=dict(width=3)),
                     hovertemplate="start (%{x:.3g}, %{y:.3g})<extra></extra>"))
    frames = []
    for i in range(len(fam.racers)):
        p, h = path_and_head(i)
        frames.append(dict(data=[p, h], traces=[n_contour, n_contour + 1], name=f"f{i}"))
    step_args = dict(mode="immediate", frame=dict(duration=0, redraw=False), transition=dict(duration=0))
    (x_lo, x_hi), (y_lo, y_hi) = surface.bounds
    layout = dict(
        xaxis=dict(range=[x_lo, x_hi], constrain="domain"),
        yaxis=dict(range=[y_lo, y_hi], scaleanchor="x", scaleratio=1, constrain="domain"),
        margin=dict(l=52, r=8, t=20, b=130), hovermode="closest", dragmode="pan", showlegend=False,
        # tick labels of the slider are hidden (transparent): the current value names the frame in full
        sliders=[dict(active=active, x=0.0, y=-0.1, len=1.0, xanchor="left", yanchor="top", pad=dict(t=40),
                      font=dict(color="rgba(0,0,0,0)"), ticklen=3,
                      currentvalue=dict(prefix="", font=dict(size=15), xanchor="left", offset=12),
                      steps=[dict(label=family_label(fam, i), method="animate", args=[[f"f{i}"], step_args])
                             for i in range(len(fam.racers))])])
    names = _axis_names(surface)
    return _assemble(data, layout, title=None, x_title=names[0], y_title=names[1], height=height, frames=frames)


OPTIMIZER_PATH_NAME = "path"


def fig_surface_3d(grid: Grid, race: Race, surface: Surface, *, max_grid: int = 81, height: int = 560) -> go.Figure:
    """The surface in 3-D (one WebGL view) with the paths lifted onto it (no title: the legend is above).

    Heights are f - f*, clipped at the grid's 90 % quantile so the steep walls do not flatten the
    valley; clipped parts show as a flat plateau.
    """
    step = max(1, int(np.ceil(len(grid.x) / max_grid)))
    gx, gy, gz = grid.x[::step], grid.y[::step], grid.z[::step, ::step] - surface.f_min
    finite = gz[np.isfinite(gz)]
    cap = float(np.quantile(finite, 0.9)) if finite.size else 1.0
    cap = cap if cap > 0 else 1.0
    fig = go.Figure()
    fig.add_surface(x=gx, y=gy, z=np.clip(gz, None, cap), colorscale="Viridis", opacity=0.8, showscale=False,
                    contours=dict(z=dict(show=True, usecolormap=False, color="white", width=1, project=dict(z=False))),
                    hovertemplate="x=%{x:.3g}, y=%{y:.3g}<br>f − f* = %{z:.3g}<extra></extra>", name="f − f*")
    for i, r in enumerate(race.racers):
        xs = r.trace.xs
        idx = _path_indices(len(xs), 400)
        inside = ((xs[idx, 0] >= gx[0]) & (xs[idx, 0] <= gx[-1]) & (xs[idx, 1] >= gy[0]) & (xs[idx, 1] <= gy[-1]))
        idx = idx[inside]
        zz = np.clip(r.trace.fs[idx] - surface.f_min, None, cap) + 0.03 * cap  # lifted: stays visible above the surface
        fig.add_scatter3d(x=xs[idx, 0], y=xs[idx, 1], z=zz, mode="lines", name=racer_name(r),
                          line=dict(color=racer_color(i), width=6))
    fig.update_layout(scene=dict(xaxis_title="x", yaxis_title="y", zaxis_title="f − f*",
                                 zaxis=dict(range=[0, 1.02 * cap], nticks=5), aspectmode="manual",
                                 aspectratio=dict(x=1, y=1, z=0.6), camera=dict(eye=dict(x=1.4, y=-1.5, z=1.0))),
                      margin=dict(l=0, r=0, t=40, b=0))
    return styled(fig, title=None, height=height)


def _floor_positive(v: np.ndarray, floor: float) -> np.ndarray:
    return np.maximum(np.asarray(v, dtype=float), floor)


def fig_convergence(race: Race, surface: Surface, *, quantity: str = "gap", height: int = 400) -> go.Figure:
    """f - f* (``quantity="gap"``) or the distance to the nearest global minimizer (``"distance"``) against
    the step, on a log y-axis; one chart (the page puts the two side by side in columns).

    A straight line on these axes is linear (geometric) convergence; its slope is the log of the
    contraction factor per step. Values below 1e-16 (relative) are drawn at that floor.
    """
    if quantity not in ("gap", "distance"):
        raise ValueError(f"quantity must be 'gap' or 'distance', got {quantity!r}")
    floor = 1e-16 * max(1.0, abs(surface.f_min)) if quantity == "gap" else 1e-16
    data: list[dict] = []
    for i, r in enumerate(race.racers):
        name, col = racer_name(r), racer_color(i)
        y = r.trace.fs - surface.f_min if quantity == "gap" else r.distance
        # x is the step k = 0, 1, 2, ... (x0/dx: no array to send)
        data.append(dict(type="scatter", x0=0, dx=1, y=_floor_positive(y, floor), mode="lines", name=name,
                         legendgroup=str(i), line=dict(color=col, width=3),
                         hovertemplate=f"{r.label}<br>step %{{x}}: %{{y:.3g}}<extra></extra>"))
        if r.trace.diverged:
            data.append(dict(type="scatter", x=[r.trace.nit], y=[max(float(y[-1]), floor)], mode="markers+text",
                             showlegend=False, text=[f"diverged at {r.trace.diverged_at}"],
                             textposition="middle left", marker=dict(symbol="x", size=16, color=col),
                             cliponaxis=False,
                             hovertemplate=f"{r.label}: diverged at step {r.trace.diverged_at}<extra></extra>"))
    y_title = "loss gap f(x_k) − f*" if quantity == "gap" else "distance ‖x_k − x*‖"
    layout = dict(yaxis=log_axis(), margin=dict(l=64, r=10, t=30, b=55))
    return _assemble(data, layout, title=None, x_title="step k", y_title=y_title, height=height)


def fig_step_ruler(racers: Sequence[tuple[str, str, float, float | None, str | None]], lo: float, hi: float,
                   *, lipschitz: float | None = None, height: int | None = None) -> go.Figure:
    """The step-size slider's log scale with each racer's η and, where defined, its stability threshold.

    ``racers`` are (label, colour, eta, threshold or None, threshold formula or None). Right of a
    threshold (shaded) the method diverges on a quadratic with this curvature.
    """
    data: list[dict] = []
    labels = [r[0] for r in racers]
    for label, color, eta, thr, formula in racers:
        if thr is not None:
            data.append(dict(type="scatter", x=[thr, hi], y=[label, label], mode="lines", showlegend=False,
                             line=dict(color="rgba(213,94,0,0.25)", width=22), hoverinfo="skip"))
            # the label sits above the threshold mark, on the side with more room
            room_right = np.log10(hi) - np.log10(thr) > 1.5
            data.append(dict(type="scatter", x=[thr], y=[label], mode="markers+text", text=[f"{formula} = {thr:.3g}"],
                             textposition="top right" if room_right else "top left", showlegend=False,
                             textfont=dict(color=COLORS["vermillion"]), cliponaxis=False,
                             marker=dict(symbol="line-ns", size=30, line=dict(width=3, color=COLORS["vermillion"])),
                             hovertemplate=f"stability limit {formula} = {thr:.4g}<extra></extra>"))
        stable = thr is None or eta < thr
        data.append(dict(type="scatter", x=[eta], y=[label], mode="markers", showlegend=False,
                         marker=dict(size=18, color=color, symbol="circle" if stable else "x",
                                     line=dict(color="black", width=1)),
                         hovertemplate=f"{label}: η = {eta:g}<extra></extra>"))
    title = "Step sizes on the slider's log scale"
    if lipschitz is not None:  # (a second line: one line was cut off at a phone's right edge)
        title += f"<br><span style='font-size:0.8em'>shaded: unstable (L = {lipschitz:.3g})</span>"
    # each row's name is written inside the plot, above its row at the left edge: as tick labels, names like
    # "Momentum (heavy ball)" took a third of a phone's width from the plot
    names = [dict(text=label, x=0.0, xref="paper", xanchor="left", y=label, yref="y", yanchor="bottom", yshift=10,
                  showarrow=False, font=dict(color=color)) for label, color, *_ in racers]
    layout = dict(xaxis=log_axis(range=[float(np.log10(lo)), float(np.log10(hi))]),
                  yaxis=dict(categoryorder="array", categoryarray=labels[::-1], showgrid=False, automargin=True,
                             showticklabels=False, range=[-0.5, len(labels) - 0.1]),  # room above the top row
                  annotations=names, margin=dict(l=12, r=20, t=84 if lipschitz is not None else 60, b=55),
                  showlegend=False)
    return _assemble(data, layout, title=title, x_title="step size η (log scale)",
                     height=height or 110 + 76 * max(1, len(racers)))


def _scatter(x, y, **kw) -> dict:
    return dict(type="scatter", x=x, y=y, **kw)


def fig_gradient_check(sweep: StepSweep, *, height: int = 460) -> go.Figure:
    """Relative error of forward and central differences vs h (log-log), with O(h), O(h²) guides
    and the round-off model eps|f|/(h‖∇f‖)."""
    hs = sweep.hs
    floor = 1e-18
    data = [
        _scatter(hs, np.maximum(sweep.err_forward, floor), mode="lines+markers", name="forward difference",
                 line=dict(color=COLORS["blue"], width=3), marker=dict(size=6)),
        _scatter(hs, np.maximum(sweep.err_central, floor), mode="lines+markers", name="central difference",
                 line=dict(color=COLORS["vermillion"], width=3), marker=dict(size=6)),
    ]
    anchor = np.argmin(np.abs(np.log10(hs) + 3))  # h = 1e-3
    ref = hs[hs >= 1e-7]
    for power, err, dash, name in ((1, sweep.err_forward, "dash", "O(h) slope 1"), (2, sweep.err_central, "dot", "O(h²) slope 2")):
        if err[anchor] > 0:
            # drawn a decade above the curve so the guide and the data do not hide each other
            data.append(_scatter(ref, 10 * err[anchor] * (ref / hs[anchor]) ** power, mode="lines", name=name,
                                 line=dict(color=COLORS["grey"], width=2, dash=dash)))
    data.append(_scatter(hs, sweep.roundoff, mode="lines", name="round-off ε|f|/(h‖∇f‖)",
                         line=dict(color=COLORS["green"], width=2, dash="dashdot")))
    for h, e, color in ((sweep.h_best_forward, sweep.min_err_forward, COLORS["blue"]),
                        (sweep.h_best_central, sweep.min_err_central, COLORS["vermillion"])):
        data.append(_scatter([h], [max(e, floor)], mode="markers", showlegend=False,
                             marker=dict(symbol="star", size=16, color=color, line=dict(color="black", width=1)),
                             hovertemplate="best h = %{x:.1e}, error %{y:.1e}<extra></extra>"))
    for window, color in ((sweep.window_forward, COLORS["blue"]), (sweep.window_central, COLORS["vermillion"])):
        if window is not None:  # the h-window the slope was fitted on, as a band along the bottom
            data.append(_scatter(list(window), [3e-16, 3e-16], mode="lines", showlegend=False, hoverinfo="skip",
                                 line=dict(color=color, width=8), opacity=0.5))
    # the quantity is named in the title, not in a rotated y-axis title: on a phone that title and the 10⁻¹⁵
    # labels left the plot under 300 px
    layout = dict(xaxis=log_axis(autorange="reversed"), yaxis=log_axis(range=[-16, 1]),
                  margin=dict(l=12, r=10, t=60, b=55))
    return _assemble(data, layout, title="Relative error ‖g_h − ∇f‖ / ‖∇f‖", x_title="step h (smaller to the right)",
                     height=height)


def fig_search_vs_evals(c: SearchComparison, *, height: int = 430) -> go.Figure:
    """Best loss found (relative to the start) vs number of evaluations of f, log y."""
    floor = 1e-16
    data = [
        _scatter(c.evals, np.maximum(c.random, floor), mode="lines", name="random search",
                 line=dict(color=COLORS["vermillion"], width=3)),
        _scatter(c.evals, np.maximum(c.gd, floor), mode="lines", name="GD, analytic ∇f (1 eval/step)",
                 line=dict(color=COLORS["blue"], width=3)),
        _scatter(c.evals, np.maximum(c.gd_numeric, floor), mode="lines", name=f"GD, numerical ∇f ({c.d + 1} evals/step)",
                 line=dict(color=COLORS["green"], width=3, dash="dash")),
    ]
    layout = dict(yaxis=log_axis(range=[-16, 0.3]), margin=dict(l=64, r=10, t=30, b=55))
    return _assemble(data, layout, title=None, x_title=f"evaluations of f (d = {c.d})", y_title="best f / f(x₀)",
                     height=height)


def fig_search_vs_dimension(s: DimensionSweep, *, d_now: int | None = None, height: int = 430) -> go.Figure:
    """Best relative loss after the same budget, against the dimension d (log-log)."""
    floor = 1e-16
    data = [
        _scatter(s.dims, np.maximum(s.random, floor), mode="lines+markers", name="random search",
                 line=dict(color=COLORS["vermillion"], width=3), marker=dict(size=9)),
        _scatter(s.dims, np.maximum(s.gd, floor), mode="lines+markers", name="GD, analytic ∇f",
                 line=dict(color=COLORS["blue"], width=3), marker=dict(size=9)),
        _scatter(s.dims, np.maximum(s.gd_numeric, floor), mode="lines+markers", name="GD, numerical ∇f",
                 line=dict(color=COLORS["green"], width=3, dash="dash"), marker=dict(size=9)),
    ]
    if d_now is not None:
        data.append(_scatter([d_now, d_now], [1e-16, 2.0], mode="lines+text", text=["", f"d = {d_now}"],
                             textposition="bottom right", line=dict(color=COLORS["grey"], dash="dot"),
                             showlegend=False, hoverinfo="skip"))
    lo = min(float(np.min(s.dims)), float(d_now or np.inf))
    hi = max(float(np.max(s.dims)), float(d_now or 0))
    layout = dict(xaxis=log_axis(range=[np.log10(lo) - 0.1, np.log10(hi) + 0.1]),
                  yaxis=log_axis(range=[-16, 0.3]), margin=dict(l=64, r=10, t=30, b=55))
    return _assemble(data, layout, title=None, x_title=f"dimension d ({s.n_evals} evaluations each)",
                     y_title="best f / f(x₀)", height=height)

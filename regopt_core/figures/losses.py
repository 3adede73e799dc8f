"""Figures of the losses & regularizers page."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from regopt_core.figures.theme import COLORS, DIVERGING, PALETTE, horizontal_colorbar, log_axis, styled, vline
from regopt_core.linear_models import ClassifierResult, PathResult, ScaleScan


def fig_hinge_terms(terms: np.ndarray, labels: np.ndarray, class_names: tuple[str, ...],
                    example_names: tuple[str, ...]) -> go.Figure:
    """Stacked bars: each example's hinge loss split into the classes that violate the margin."""
    fig = go.Figure()
    for j, name in enumerate(class_names):
        fig.add_bar(x=list(example_names), y=terms[:, j], name=f"from class '{name}'", marker_color=PALETTE[j % len(PALETTE)],
                    text=[f"{v:.2f}" if v > 0 else "" for v in terms[:, j]], textposition="inside")
    totals = terms.sum(axis=1)
    fig.add_scatter(x=list(example_names), y=totals, mode="text", text=[f"L = {t:.2f}" for t in totals],
                    textposition="top center", showlegend=False, textfont=dict(size=18))
    fig.update_layout(barmode="stack", yaxis_range=[0, max(1.0, float(totals.max()) * 1.25)])
    return styled(fig, title="Hinge loss of each example, by offending class", x_title="example (true class)",
                  y_title="hinge loss L_i", height=380)


def fig_scale_scan(scan: ScaleScan, c_now: float) -> go.Figure:
    """Data loss, penalty and their sum as the weights are scaled by c."""
    i_best = int(np.argmin(scan.objective))
    fig = go.Figure([
        go.Scatter(x=scan.c, y=scan.data_loss, name="hinge data loss", line=dict(color=COLORS["blue"], width=3)),
        go.Scatter(x=scan.c, y=scan.penalty, name="λ·R(cW), L2", line=dict(color=COLORS["green"], width=3, dash="dash")),
        go.Scatter(x=scan.c, y=scan.objective, name="data loss + λR", line=dict(color=COLORS["black"], width=3)),
        go.Scatter(x=[scan.c[i_best]], y=[scan.objective[i_best]], mode="markers", name=f"minimum at c = {scan.c_best:.2f}",
                   marker=dict(size=14, symbol="star", color=COLORS["vermillion"])),
    ])
    shape, note = vline(c_now, label=f"c = {c_now:g}")
    shapes, notes = [shape], [note]
    if np.isfinite(scan.c_zero):
        shapes.append(dict(type="rect", xref="x", yref="paper", x0=scan.c_zero, x1=float(scan.c[-1]), y0=0, y1=1,
                           fillcolor=COLORS["sky"], opacity=0.12, line_width=0))
        notes.append(dict(x=float(scan.c[-1]), y=0.92, xref="x", yref="paper", xanchor="right", showarrow=False,
                          text="data loss = 0 for every c here"))
    ymax = float(np.max(scan.data_loss[np.isfinite(scan.data_loss)]) * 1.2 + 0.5)
    fig.update_layout(shapes=shapes, annotations=notes, yaxis_range=[0, ymax])
    return styled(fig, title="Scaling W by c", x_title="scale factor c (weights c·W)", y_title="loss", height=420)


def _ball(reg: str, radius: float, alpha: float, n: int = 361) -> tuple[np.ndarray, np.ndarray]:
    """Boundary {w : R(w) = radius} of the L2 disc, the L1 diamond or the elastic-net blend."""
    theta = np.linspace(0, 2 * np.pi, n)
    u = np.column_stack([np.cos(theta), np.sin(theta)])
    if reg == "l2":
        r = np.sqrt(radius) * np.ones(n)
    elif reg == "l1":
        r = radius / np.abs(u).sum(axis=1)
    else:  # elastic net: solve a (|u|_1) r + (1 - a) r^2 = radius for r > 0
        a1 = alpha * np.abs(u).sum(axis=1)
        a2 = 1 - alpha
        r = radius / a1 if a2 == 0 else (-a1 + np.sqrt(a1**2 + 4 * a2 * radius)) / (2 * a2)
    return r * u[:, 0], r * u[:, 1]


def fig_regularizer_geometry(w1: np.ndarray, w2: np.ndarray, loss_values: np.ndarray, path: PathResult,
                             w_now: np.ndarray, reg: str, alpha: float, w_unreg: np.ndarray) -> go.Figure:
    """Data-loss contours, the regularizer's level set through the current solution, and the path."""
    fig = go.Figure()
    levels = np.quantile(loss_values, np.linspace(0.0, 0.9, 16) ** 2)
    fig.add_contour(x=w1, y=w2, z=loss_values, colorscale="Blues", reversescale=True, showscale=False,
                    contours=dict(coloring="lines", start=float(levels[1]), end=float(levels[-1]),
                                  size=float((levels[-1] - levels[1]) / 14)), line=dict(width=1.5),
                    name="data loss contours", hoverinfo="skip")
    if reg != "none":
        from regopt_core.linear_models import penalty_value
        radius = float(penalty_value(reg, w_now[None, :], alpha=alpha)[0])
        if radius > 0:
            bx, by = _ball(reg, radius, alpha)
            fig.add_scatter(x=bx, y=by, mode="lines", line=dict(color=COLORS["green"], width=3),
                            name={"l2": "L2 ball", "l1": "L1 diamond", "elastic_net": "elastic-net ball"}[reg],
                            fill="toself", fillcolor="rgba(0,158,115,0.12)")
    fig.add_scatter(x=path.x[:, 0], y=path.x[:, 1], mode="lines+markers", name="minimiser as λ grows",
                    line=dict(color=COLORS["vermillion"], width=3), marker=dict(size=5))
    fig.add_scatter(x=[w_unreg[0]], y=[w_unreg[1]], mode="markers", name="no regularization (λ = 0)",
                    marker=dict(size=14, symbol="x", color=COLORS["black"]))
    fig.add_scatter(x=[w_now[0]], y=[w_now[1]], mode="markers", name="current λ",
                    marker=dict(size=16, symbol="star", color=COLORS["orange"], line=dict(color="black", width=1)))
    axes_lines = [dict(type="line", xref="paper", yref="y", x0=0, x1=1, y0=0, y1=0, line=dict(color="#999", width=1)),
                  dict(type="line", xref="x", yref="paper", x0=0, x1=0, y0=0, y1=1, line=dict(color="#999", width=1))]
    fig.update_layout(shapes=axes_lines,
                      xaxis=dict(range=[float(w1[0]), float(w1[-1])], constrain="domain"),
                      yaxis=dict(range=[float(w2[0]), float(w2[-1])], scaleanchor="x", scaleratio=1))
    return styled(fig, title="Contours meet the ball", x_title="weight w₁",
                  y_title="weight w₂", height=560)


def fig_coefficient_paths(path: PathResult, lam_now: float) -> go.Figure:
    """Each weight against λ (log axis): L1 sends weights to exactly zero, L2 shrinks them smoothly."""
    fig = go.Figure([go.Scatter(x=path.lams, y=path.x[:, j], name=f"w{'₁₂'[j] if j < 2 else j + 1}", mode="lines",
                                line=dict(width=3, color=PALETTE[j])) for j in range(path.x.shape[1])])
    shape, note = vline(lam_now, label=f"λ = {lam_now:g}")
    zero = dict(type="line", xref="paper", yref="y", x0=0, x1=1, y0=0, y1=0, line=dict(color="#999", width=1))
    fig.update_layout(shapes=[shape, zero], annotations=[note], xaxis=log_axis())
    return styled(fig, title="Weights along the path", x_title="regularization strength λ (log)",
                  y_title="weight value", height=400)


def fig_templates(result: ClassifierResult, class_names: tuple[str, ...], *, n_cols: int = 5) -> go.Figure:
    """Each class's weight row as an 8x8 image, tiled in one heatmap: what the classifier 'looks for'.

    One heatmap with NaN gutters instead of ten subplots: the same picture at a fraction of the
    cost of building (and sending) ten axes.
    """
    n_classes = result.W.shape[1]
    side = int(round(np.sqrt(result.W.shape[0])))
    n_rows = int(np.ceil(n_classes / n_cols))
    gap = 1
    mosaic = np.full((n_rows * (side + gap) + gap, n_cols * (side + gap) + gap), np.nan)
    notes = []
    for k in range(n_classes):
        r, c = divmod(k, n_cols)
        top, left = gap + r * (side + gap), gap + c * (side + gap)
        mosaic[top:top + side, left:left + side] = result.W[:, k].reshape(side, side)
        notes.append(dict(x=left + (side - 1) / 2, y=top - 0.55, text=f"<b>{class_names[k]}</b>", showarrow=False,
                          xref="x", yref="y", font=dict(size=18), yanchor="bottom"))
    vmax = float(np.nanmax(np.abs(mosaic))) or 1.0
    fig = go.Figure(go.Heatmap(z=mosaic, colorscale=DIVERGING, zmin=-vmax, zmax=vmax, colorbar=horizontal_colorbar("weight"),
                               hovertemplate="weight %{z:.3f}<extra></extra>", hoverongaps=False))
    fig.update_layout(
        annotations=notes,
        xaxis=dict(showticklabels=False, showgrid=False, showline=False, ticks="", constrain="domain"),
        yaxis=dict(showticklabels=False, showgrid=False, showline=False, ticks="", autorange="reversed",
                   scaleanchor="x", scaleratio=1),
    )
    return styled(fig, title="Each class's weights as an 8×8 image (red: ink here raises the score)", height=460)


def fig_training_curve(result: ClassifierResult) -> go.Figure:
    fig = go.Figure()
    steps = np.arange(1, result.nit + 1)
    fig.add_scatter(x=steps, y=result.objective, name="data loss + λR", line=dict(width=3, color=COLORS["black"]))
    fig.add_scatter(x=steps, y=result.data_loss, name="data loss", line=dict(width=3, color=COLORS["blue"], dash="dash"))
    fig.update_layout(yaxis=log_axis())
    return styled(fig, title="Training objective", x_title="gradient step", y_title="loss (log)", height=330)

"""Figures of the SGD page: loss curves on three x-axes, trajectories, gradient noise, noise floor,
accuracy versus batch size and the critical batch size. Pure builders: result -> ``go.Figure``.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from regopt_core.figures.theme import COLORS, PALETTE, log_axis, styled
from regopt_core.sgd import BatchComparison, CriticalBatch, GradientNoise, NoiseFloor

__all__ = [
    "batch_label",
    "batch_color",
    "CLOCKS",
    "fig_loss_clock",
    "fig_loss_clocks",
    "fig_loss_clocks_row",
    "fig_trajectories",
    "fig_gradient_cloud",
    "fig_gradient_variance",
    "fig_noise_floor",
    "fig_accuracy_vs_batch",
    "fig_critical_batch",
]

# Okabe-Ito without yellow (too light on white for thin lines on a projector).
_SERIES = tuple(c for c in PALETTE if c not in (COLORS["yellow"], COLORS["black"]))
_FULL = COLORS["black"]  # the full batch (gradient descent) is always black
_DASHES = ("solid", "dash", "dot")
_MAX_PATH_POINTS = 1500


def batch_label(batch_size: int, n_samples: int) -> str:
    """Legend text of one batch size: ``"B = 16"`` or ``"B = 1438 (full)"``."""
    return f"B = {batch_size} (full)" if batch_size >= n_samples else f"B = {batch_size}"


def batch_color(rank: int, *, full: bool = False) -> str:
    """Colour of the ``rank``-th smallest batch size shown (same rank, same colour in every figure);
    the full batch is always black."""
    return _FULL if full else _SERIES[rank % len(_SERIES)]


def _vline(x: float, *, color: str = COLORS["grey"]) -> dict:
    """A vertical line on a log x-axis as a layout shape (cheaper than ``add_vline``)."""
    return dict(type="line", yref="paper", y0=0, y1=1, x0=x, x1=x, line=dict(color=color, dash="dot", width=2))


def _vlabel(x: float, text: str) -> dict:
    return dict(text=text, x=float(np.log10(x)), y=1.0, yref="paper", xanchor="right", yanchor="top",
                showarrow=False)


def _dash(rank: int) -> str:
    return _DASHES[(rank // len(_SERIES)) % len(_DASHES)]


CLOCKS = {
    "updates": ("per update", "updates (iterations)"),
    "epochs": ("per epoch", "epochs (passes over the data)"),
    "examples": ("per example processed", "examples processed (= epochs × N)"),
}


def fig_loss_clock(runs: BatchComparison, clock: str, *, y_title: str = "training loss", log_y: bool = False,
                   show_legend: bool = True, height: int = 420) -> go.Figure:
    """Full training loss of every run against one clock: ``"updates"``, ``"epochs"`` or ``"examples"``.

    One chart per clock (the page puts the three in columns, which stack on a phone); updates and
    examples are on log axes (:func:`theme.log_axis`; step 0 is left off them). A diverged run ends in an ✕.
    """
    if clock not in CLOCKS:
        raise ValueError(f"clock must be one of {tuple(CLOCKS)}, got {clock!r}")
    title, x_title = CLOCKS[clock]
    data = []
    for rank, tr in enumerate(runs.traces):
        label = batch_label(tr.batch_size, tr.n_samples)
        name = label
        if tr.diverged:
            name += f" — diverged at step {tr.diverged_at}"
        elif tr.capped:
            name += " — capped"
        color = batch_color(rank, full=tr.batch_size >= tr.n_samples)
        x = {"updates": tr.steps, "epochs": tr.epochs, "examples": tr.grad_evals}[clock]
        keep = x > 0 if clock != "epochs" else np.ones(len(x), dtype=bool)
        data.append(dict(type="scatter", x=x[keep], y=tr.losses[keep], mode="lines",
                         line=dict(color=color, width=2.5, dash=_dash(rank)), name=name, legendgroup=label,
                         showlegend=show_legend,
                         hovertemplate=f"{label}<br>x=%{{x:.4g}}<br>loss=%{{y:.4f}}<extra></extra>"))
        if tr.diverged:
            data.append(dict(type="scatter", x=[x[-1]], y=[tr.losses[-1]], mode="markers", legendgroup=label,
                             marker=dict(symbol="x", size=14, color=color), showlegend=False, hoverinfo="skip"))
    xaxis = log_axis(title_text=x_title) if clock != "epochs" else dict(title_text=x_title)
    yaxis = log_axis(title_text=y_title) if log_y else dict(title_text=y_title)
    fig = go.Figure(data=data, layout=dict(xaxis=xaxis, yaxis=yaxis))
    styled(fig, title=title, height=height)
    return fig


def fig_loss_clocks(runs: BatchComparison, *, y_title: str = "training loss", log_y: bool = False
                    ) -> tuple[go.Figure, go.Figure, go.Figure]:
    """The same runs against the three clocks, one chart each (the legend on the first)."""
    return tuple(fig_loss_clock(runs, c, y_title=y_title, log_y=log_y, show_legend=k == 0)
                 for k, c in enumerate(CLOCKS))


_SHORT_CLOCK_TITLES = {"updates": "updates", "epochs": "epochs", "examples": "examples (epochs × N)"}


def fig_loss_clocks_row(runs: BatchComparison, *, y_title: str = "training loss", log_y: bool = False,
                        height: int = 460) -> go.Figure:
    """The three clocks of :func:`fig_loss_clocks` as one figure in one row (presentation mode: one wide
    figure on the wall). The panels share the loss axis; the legend stands on the right; the panel titles
    are the only titles (no figure title above them to collide with)."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=3, shared_yaxes=True, horizontal_spacing=0.04,
                        subplot_titles=[CLOCKS[c][0] for c in CLOCKS])
    for k, clock in enumerate(CLOCKS, start=1):
        part = fig_loss_clock(runs, clock, y_title=y_title, log_y=log_y, show_legend=k == 1)
        for tr in part.data:
            tr.update(xaxis=f"x{'' if k == 1 else k}", yaxis=f"y{'' if k == 1 else k}")
            fig.add_trace(tr)
        xa = part.layout.xaxis.to_plotly_json()
        xa["title"] = {**xa.get("title", {}), "text": _SHORT_CLOCK_TITLES[clock]}  # three fit side by side
        fig.layout[f"xaxis{'' if k == 1 else k}"].update({**xa, "anchor": f"y{'' if k == 1 else k}",
                                                          "domain": fig.layout[f"xaxis{'' if k == 1 else k}"].domain})
    ya = log_axis() if log_y else {}
    fig.update_yaxes(**ya)
    fig.update_yaxes(title_text=y_title, row=1, col=1)
    styled(fig, height=height)
    fig.update_layout(legend=dict(orientation="v", x=1.01, xanchor="left", y=1.0, yanchor="top"))
    return fig


def _thin(path: np.ndarray) -> np.ndarray:
    if len(path) <= _MAX_PATH_POINTS:
        return path
    stride = int(np.ceil(len(path) / _MAX_PATH_POINTS))
    return np.vstack([path[::stride], path[-1:]])


def fig_trajectories(runs: BatchComparison, w1: np.ndarray, w2: np.ndarray, grid: np.ndarray,
                     theta_star: np.ndarray, *, names: tuple[str, str] = ("θ₁", "θ₂"),
                     title: str = "Paths on the full-batch loss") -> go.Figure:
    """SGD paths (one per batch size) over the contours of the full-batch loss, with the minimum ★.

    Paths longer than 1,500 points are thinned for drawing; a diverged path ends in an ✕.
    """
    fig = go.Figure()
    lo, hi = float(np.min(grid)), float(np.max(grid))
    levels = lo + (hi - lo) * np.linspace(0, 1, 26) ** 2
    fig.add_trace(go.Contour(x=w1, y=w2, z=grid, contours=dict(coloring="lines", start=levels[1], end=levels[-1],
                                                               size=(levels[-1] - levels[1]) / 24),
                             line=dict(width=1), colorscale=[[0, "#BBBBBB"], [1, "#BBBBBB"]], showscale=False,
                             hoverinfo="skip", name="loss contours", showlegend=False))
    for rank, tr in enumerate(runs.traces):
        if tr.path is None:
            continue
        p = _thin(tr.path)
        name = batch_label(tr.batch_size, tr.n_samples)
        if tr.diverged:
            name += " — diverged"
        color = batch_color(rank, full=tr.batch_size >= tr.n_samples)
        fig.add_trace(go.Scatter(x=p[:, 0], y=p[:, 1], mode="lines", name=name,
                                 line=dict(color=color, width=3 if tr.batch_size >= tr.n_samples else 1.8,
                                           dash=_dash(rank)),
                                 opacity=0.9, hovertemplate=f"{name}<br>θ=(%{{x:.3f}}, %{{y:.3f}})<extra></extra>"))
        if tr.diverged:
            fig.add_trace(go.Scatter(x=[p[-1, 0]], y=[p[-1, 1]], mode="markers", showlegend=False, hoverinfo="skip",
                                     marker=dict(symbol="x", size=14, color=color)))
    if runs.traces and runs.traces[0].path is not None:
        start = runs.traces[0].path[0]
        fig.add_trace(go.Scatter(x=[start[0]], y=[start[1]], mode="markers", name="start",
                                 marker=dict(symbol="circle-open", size=14, color=COLORS["black"], line_width=3)))
    fig.add_trace(go.Scatter(x=[theta_star[0]], y=[theta_star[1]], mode="markers", name="minimum θ*",
                             marker=dict(symbol="star", size=18, color=COLORS["black"])))
    styled(fig, title=title, x_title=names[0], y_title=names[1], height=560)
    fig.update_xaxes(range=[float(w1[0]), float(w1[-1])])
    fig.update_yaxes(range=[float(w2[0]), float(w2[-1])], scaleanchor="x", scaleratio=1)
    return fig


def fig_gradient_cloud(noise: GradientNoise, *, names: tuple[str, str] = ("∂L/∂θ₁", "∂L/∂θ₂"),
                       title: str = "Minibatch gradients around the full gradient") -> go.Figure:
    """Sampled minibatch gradients (one cloud per batch size) around the full gradient ★ and the origin."""
    fig = go.Figure()
    N = noise.n_samples
    for rank, (B, cloud) in enumerate(zip(noise.cloud_batch_sizes, noise.cloud)):
        fig.add_trace(go.Scatter(x=cloud[:, 0], y=cloud[:, 1], mode="markers", name=batch_label(B, N),
                                 marker=dict(color=batch_color(rank, full=B >= N), size=7, opacity=0.6),
                                 hovertemplate=f"{batch_label(B, N)}<br>ĝ=(%{{x:.3f}}, %{{y:.3f}})<extra></extra>"))
    g = noise.full_grad
    fig.add_trace(go.Scatter(x=[0.0], y=[0.0], mode="markers", name="zero gradient",
                             marker=dict(symbol="cross-thin", size=16, color=COLORS["grey"], line_width=2)))
    fig.add_trace(go.Scatter(x=[g[0]], y=[g[1]], mode="markers", name="full gradient ∇L",
                             marker=dict(symbol="star", size=22, color=COLORS["yellow"],
                                         line=dict(color=COLORS["black"], width=2))))
    styled(fig, title=title, x_title=names[0], y_title=names[1], height=520)
    return fig


def fig_gradient_variance(without: GradientNoise, with_: GradientNoise | None = None, *,
                          title: str = "Gradient noise falls like 1/B") -> go.Figure:
    r"""Measured :math:`E\|\hat g_B - \nabla L\|^2` (markers) and the theory (lines), log-log.

    Without replacement the variance at B = N is zero up to round-off and is left off the log axis.
    """
    fig = go.Figure()
    N = without.n_samples
    for res, color, label, symbol in ((without, COLORS["blue"], "without replacement", "circle"),
                                      (with_, COLORS["vermillion"], "with replacement", "diamond")):
        if res is None:
            continue
        B = res.batch_sizes.astype(float)
        Bline = np.unique(np.concatenate([np.geomspace(1, N, 200), B]))
        Bline = Bline[Bline < N] if not res.replace else Bline
        theory = res.sigma2 / Bline * (1.0 if res.replace else (N - Bline) / (N - 1))
        formula = "σ²/B" if res.replace else "σ²/B · (N−B)/(N−1)"
        fig.add_trace(go.Scatter(x=Bline, y=theory, mode="lines", line=dict(color=color, width=2.5),
                                 name=f"theory {formula}", hovertemplate="B=%{x:.0f}<br>%{y:.4g}<extra></extra>"))
        keep = res.variance > 1e-12 * res.sigma2  # B = N without replacement: zero up to round-off
        fig.add_trace(go.Scatter(x=B[keep], y=res.variance[keep], mode="markers", name=f"measured, {label}",
                                 marker=dict(color=color, size=10, symbol=symbol, line=dict(color="white", width=1)),
                                 hovertemplate="B=%{x:.0f}<br>measured %{y:.4g}<extra></extra>"))
    fig.update_layout(shapes=[_vline(N)], annotations=[_vlabel(N, f"N = {N}")])
    styled(fig, title=title, x_title="batch size B", y_title="variance of the minibatch gradient", height=520)
    fig.update_layout(xaxis=log_axis(), yaxis=log_axis())
    return fig


_ETA_SYMBOLS = ("circle", "square", "diamond", "triangle-up", "cross")


def fig_noise_floor(floor: NoiseFloor, *, title: str = "The noise floor is set by η/B") -> go.Figure:
    """Stationary excess loss vs η/B (log-log): measured (colour = B, symbol = η, bars = 10-90 % of the
    final loss over replicas), exact theory (hollow) and the small-step line tr(C)/4 · η/B."""
    data = []
    x_all = floor.lr_over_b
    ok = np.isfinite(floor.excess_mean)
    if np.any(ok):
        xs = np.geomspace(x_all[ok].min() / 1.5, x_all[ok].max() * 1.5, 50)
        data.append(dict(type="scatter", x=xs, y=floor.slope * xs, mode="lines",
                         line=dict(color=COLORS["grey"], width=2, dash="dash"), name="small-step theory tr(C)/4 · η/B"))
    etas = sorted(set(float(e) for e in floor.lrs))
    symbol_of = {eta: _ETA_SYMBOLS[j % len(_ETA_SYMBOLS)] for j, eta in enumerate(etas)}
    for rank, B in enumerate(sorted(set(int(b) for b in floor.batch_sizes))):
        k = np.flatnonzero((floor.batch_sizes == B) & ok)
        if len(k) == 0:
            continue
        y = floor.excess_mean[k]
        data.append(dict(
            type="scatter", x=x_all[k], y=y, mode="markers", name=f"B = {B}",
            marker=dict(color=batch_color(rank), size=13, symbol=[symbol_of[float(e)] for e in floor.lrs[k]],
                        line=dict(color="white", width=1)),
            error_y=dict(type="data", symmetric=False, array=np.maximum(floor.final_q90[k] - y, 0),
                         arrayminus=np.maximum(y - floor.final_q10[k], 0), color=batch_color(rank), thickness=1.5),
            customdata=np.c_[floor.lrs[k], floor.theory[k]],
            hovertemplate=(f"B={B}, η=%{{customdata[0]:g}}<br>η/B=%{{x:.3g}}<br>measured %{{y:.3g}}"
                           "<br>exact theory %{customdata[1]:.3g}<extra></extra>")))
    for eta in etas:  # legend entries for the symbols
        data.append(dict(type="scatter", x=[None], y=[None], mode="markers", name=f"η = {eta:g}",
                         marker=dict(symbol=symbol_of[eta], size=12, color=COLORS["grey"])))
    fin = np.isfinite(floor.theory)
    data.append(dict(type="scatter", x=x_all[fin], y=floor.theory[fin], mode="markers", name="exact theory",
                     marker=dict(symbol="circle-open", size=20, color=COLORS["black"], line_width=1.5),
                     hoverinfo="skip"))
    fig = go.Figure(data=data)
    styled(fig, title=title, x_title="η / B", y_title="excess training loss  L(θ) − L(θ*)", height=560)
    fig.update_layout(xaxis=log_axis(), yaxis=log_axis())
    return fig


def fig_accuracy_vs_batch(batch_sizes: np.ndarray, acc_epochs: np.ndarray, acc_steps: np.ndarray, *,
                          n_samples: int, n_epochs: float, n_steps: int,
                          title: str = "Held-out accuracy vs batch size") -> go.Figure:
    """Test accuracy of each batch size after equal epochs and after equal numbers of updates."""
    B = np.asarray(batch_sizes)
    text = [batch_label(int(b), n_samples).removeprefix("B = ") for b in B]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=B, y=100 * np.asarray(acc_epochs), mode="lines+markers", name=f"equal epochs ({n_epochs:g})",
                             line=dict(color=COLORS["blue"], width=3), marker=dict(size=11), text=text,
                             hovertemplate="B=%{text}<br>%{y:.1f} %<extra></extra>"))
    fig.add_trace(go.Scatter(x=B, y=100 * np.asarray(acc_steps), mode="lines+markers", name=f"equal updates ({n_steps})",
                             line=dict(color=COLORS["vermillion"], width=3, dash="dash"), marker=dict(size=11, symbol="diamond"),
                             text=text, hovertemplate="B=%{text}<br>%{y:.1f} %<extra></extra>"))
    styled(fig, title=title, x_title="batch size B", y_title="held-out accuracy (%)", height=460)
    fig.update_xaxes(type="log", tickvals=B, ticktext=text)
    return fig


def fig_critical_batch(cb: CriticalBatch, *, n_samples: int,
                       title: str = "Best step size vs batch size") -> go.Figure:
    """Monte-Carlo best one-step learning rate (markers) against ε_max/(1 + B_noise/B) (line)."""
    B = cb.batch_sizes.astype(float)
    Bl = np.geomspace(1, n_samples, 200)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=Bl, y=cb.eps_max / (1 + cb.b_noise / Bl), mode="lines", line=dict(color=COLORS["blue"], width=3),
                             name="ε_max / (1 + B_noise / B)"))
    fig.add_trace(go.Scatter(x=B, y=cb.measured, mode="markers", name="measured (Monte Carlo)",
                             marker=dict(color=COLORS["vermillion"], size=11, symbol="diamond")))
    fig.update_layout(
        shapes=[dict(type="line", xref="paper", x0=0, x1=1, y0=cb.eps_max, y1=cb.eps_max,
                     line=dict(color=COLORS["grey"], dash="dash", width=2)),
                _vline(cb.b_noise, color=COLORS["green"])],
        annotations=[dict(text=f"ε_max = {cb.eps_max:.3g}", xref="paper", x=1.0, y=cb.eps_max, xanchor="right",
                          yanchor="bottom", showarrow=False),
                     _vlabel(cb.b_noise, f"B_noise ≈ {cb.b_noise:.3g}")])
    styled(fig, title=title, x_title="batch size B", y_title="best learning rate ε", height=460)
    fig.update_layout(xaxis=log_axis())
    return fig

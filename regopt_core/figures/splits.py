"""Figures of the dataset-splits page. Pure builders: result dataclass -> ``go.Figure``.

Sign convention everywhere: *optimism* = true error - reported error (accuracy: reported - true),
so a bar to the right means "the protocol promised more than the model delivers".

Every builder assembles its traces and layout as plain dicts and constructs the figure **once**
(:func:`_figure`): plotly validates each ``add_*``/``update_*`` call separately, and a figure built call by
call cost 20-30 ms of server CPU against 8-12 ms for the same figure built at once — a move of a section-1
control rebuilds five of them. The template, titles and height are those of
:func:`regopt_core.figures.theme.styled`.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from regopt_core.figures.theme import COLORS, LEGEND_BELOW, TEMPLATE
from regopt_core.splits import ApproachComparison, BestOfK, EarlyStopping, ErrorCurves, LeakResult, expected_max_normal

__all__ = [
    "APPROACH_COLORS",
    "fig_best_of_k",
    "fig_optimism_vs_k",
    "fig_error_curves",
    "fig_fits",
    "fig_reported_vs_true",
    "fig_optimism_boxes",
    "fig_test_tuning_histogram",
    "fig_early_stopping",
    "fig_leak",
]

# one colour per approach, the same in every figure
APPROACH_COLORS = (COLORS["vermillion"], COLORS["orange"], COLORS["green"], COLORS["blue"], COLORS["purple"])
_HIST_MAX_BINS = 40


def _error_label(kind: str) -> str:
    return "mean squared error" if kind == "regression" else "error rate (misclassified fraction)"


def _figure(data: list[dict], *, title: str, x_title: str | None = None, y_title: str | None = None,
            height: int = 420, xaxis: dict | None = None, yaxis: dict | None = None, shapes: list[dict] = (),
            annotations: list[dict] = (), **layout) -> go.Figure:
    """The figure of ``data`` (trace dicts with their ``type``) in one validated construction, with the
    project template and the labels :func:`~regopt_core.figures.theme.styled` would set."""
    xaxis, yaxis = dict(xaxis or {}), dict(yaxis or {})
    if x_title is not None:
        xaxis["title"] = {"text": x_title}
    if y_title is not None:
        yaxis["title"] = {"text": y_title}
    lay = {"template": TEMPLATE, "title": {"text": title}, "height": height, **layout}
    for name, value in (("xaxis", xaxis), ("yaxis", yaxis), ("shapes", list(shapes)),
                        ("annotations", list(annotations))):
        if value:
            lay[name] = value
    return go.Figure(data=data, layout=lay)


def _vline(x: float, text: str, color: str, *, dash: str = "dash", position: str = "top", log_x: bool = False,
           side: str = "left") -> tuple[dict, dict]:
    """Vertical line (shape, data units) and its label (annotations on a log axis take log10 units), as a
    (shape, annotation) pair. ``side="right"`` writes the label to the left of the line (for lines near the right
    edge)."""
    shape = dict(type="line", x0=x, x1=x, y0=0, y1=1, yref="paper", line=dict(color=color, dash=dash, width=3))
    xa = float(np.log10(x)) if log_x else x
    note = dict(x=xa, y={"top": 1.0, "low": 0.88, "lower": 0.76}[position], yref="paper", text=text, showarrow=False,
                xanchor="right" if side == "right" else "left", yanchor="top", font=dict(color=color),
                bgcolor="rgba(255,255,255,0.85)")
    return shape, note


def _robust_range(values: np.ndarray, pad: float = 0.08) -> list[float]:
    """1st-99th percentile with padding, so one exploding repetition does not flatten the rest."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return [-1.0, 1.0]
    lo, hi = np.percentile(v, [1, 99])
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5 * (abs(lo) + 1e-3), hi + 0.5 * (abs(hi) + 1e-3)
    span = hi - lo
    return [float(lo - pad * span), float(hi + pad * span)]


def fig_best_of_k(res: BestOfK, *, title: str | None = None) -> go.Figure:
    """Histograms of the best-of-K test accuracy (what approach 2 reports) and of the chosen model's
    accuracy on a fresh test set, with the true accuracy and the theory p + s E[max of K normals]."""
    # one set of bins for both, a whole number of 1/n steps wide (accuracies are multiples of 1/n)
    lo, hi = float(min(res.best.min(), res.fresh.min())), float(max(res.best.max(), res.fresh.max()))
    step = max(1, int(np.ceil((hi - lo) * res.n_test / _HIST_MAX_BINS))) / res.n_test
    bins = dict(start=lo - step / 2, end=hi + step / 2, size=step)
    data = [dict(type="histogram", x=res.fresh, xbins=bins, name="same model, fresh test set", opacity=0.65,
                 marker_color=COLORS["blue"]),
            dict(type="histogram", x=res.best, xbins=bins, name=f"best of K = {res.n_models} on the test set",
                 opacity=0.65, marker_color=COLORS["vermillion"])]
    lines = [_vline(res.accuracy, f"true accuracy {res.accuracy:.3f}", COLORS["black"], dash="solid"),
             _vline(res.expected_best_normal, f"theory p + s·E[max] = {res.expected_best_normal:.3f}",
                    COLORS["vermillion"], position="low", side="right" if res.n_models > 1 else "left")]
    return _figure(data, title=title or f"Pick the best of {res.n_models} equally good models on {res.n_test} test points",
                   x_title="test accuracy", y_title="repetitions", height=440, barmode="overlay", legend=LEGEND_BELOW,
                   shapes=[s for s, _ in lines], annotations=[a for _, a in lines])


def fig_optimism_vs_k(*, n_test: int, accuracy: float, k_max: int = 1000, mark: BestOfK | None = None) -> go.Figure:
    """Expected optimism s E[max of K normals] against K (log axis), the exact binomial value at the
    marked K, and the Monte-Carlo mean of ``mark``."""
    from regopt_core.splits import expected_best_binomial

    ks = np.unique(np.round(np.geomspace(1, max(2, k_max), 25)).astype(int))
    s = np.sqrt(accuracy * (1 - accuracy) / n_test)
    theory = np.array([s * expected_max_normal(int(k)) for k in ks])
    data = [dict(type="scatter", x=ks, y=theory, mode="lines+markers", name="theory s·E[max of K normals]",
                 line=dict(color=COLORS["vermillion"], width=3)),
            dict(type="scatter", x=ks, y=s * np.sqrt(2 * np.log(np.maximum(ks, 1))), mode="lines",
                 name="s·√(2 ln K) (large-K rate)", line=dict(color=COLORS["grey"], dash="dot", width=2))]
    if mark is not None:
        data.append(dict(type="scatter", x=[mark.n_models], y=[float(mark.optimism.mean())], mode="markers",
                         name=f"simulated mean (K = {mark.n_models})",
                         marker=dict(color=COLORS["black"], size=14, symbol="diamond"),
                         error_y=dict(type="data", array=[2 * mark.mc_error], visible=True)))
        exact = expected_best_binomial(mark.n_test, mark.accuracy, mark.n_models) - mark.accuracy
        data.append(dict(type="scatter", x=[mark.n_models], y=[exact], mode="markers", name="exact (binomial)",
                         marker=dict(color=COLORS["green"], size=12, symbol="x")))
    return _figure(data, title="Optimism grows like √(2 ln K)", x_title="K, configurations compared (log scale)",
                   y_title="expected optimism (accuracy)", height=440, xaxis=dict(type="log"), legend=LEGEND_BELOW)


def fig_error_curves(c: ErrorCurves, *, chosen: dict[str, float] | None = None) -> go.Figure:
    """One study: training, validation, test, CV and true error against lambda (log axis)."""
    lam = c.lams
    series = [
        ("training error (all n)", c.train, COLORS["train"], "solid"),
        ("validation error", c.validation, COLORS["validation"], "solid"),
        ("test error (tuning on it = approach 2)", c.test, COLORS["test"], "dot"),
        ("k-fold CV error", c.cv, COLORS["purple"], "solid"),
        ("true error (model on all n)", c.true, COLORS["black"], "dash"),
    ]
    mode = "lines+markers" if lam.size <= 60 else "lines"
    data = [dict(type="scatter", x=lam, y=y, mode=mode, name=name, line=dict(color=color, dash=dash, width=3),
                 marker=dict(size=5)) for name, y, color, dash in series]
    groups: dict[float, list[str]] = {}  # protocols that picked the same lambda share one line
    for name, lam_star in (chosen or {}).items():
        groups.setdefault(float(lam_star), []).append(name)
    lines = []
    for i, (lam_star, names) in enumerate(sorted(groups.items())):
        right = np.log(lam_star / lam[0]) > 0.6 * np.log(lam[-1] / lam[0]) if lam.size > 1 else False
        lines.append(_vline(lam_star, " = ".join(names), COLORS["grey"], dash="dot",
                            position=("top", "low", "lower")[i % 3], log_x=True, side="right" if right else "left"))
    allv = np.r_[c.train, c.validation, c.test, c.cv, c.true]
    lo, hi = float(np.nanmin(allv)), float(np.nanmax(allv))
    return _figure(data, title="One study: every error against the ridge strength λ",
                   x_title="λ (ridge strength, log scale)", y_title=_error_label(c.kind), height=480,
                   xaxis=dict(type="log"), yaxis=dict(range=[min(0.0, lo), hi + 0.05 * (hi - min(0.0, lo)) + 1e-9]),
                   legend=LEGEND_BELOW, shapes=[s for s, _ in lines], annotations=[a for _, a in lines])


def fig_fits(c: ErrorCurves, picks: dict[str, int]) -> go.Figure:
    """Synthetic problem only: the study's data, the true function and the fits at chosen lambdas."""
    if c.x_plot is None:
        return _figure([], title="(no 1-D picture for this dataset)")
    data = [dict(type="scatter", x=c.X[:, 0], y=c.y, mode="markers", name="the study's data",
                 marker=dict(color=COLORS["grey"], size=9, line=dict(color="white", width=1))),
            dict(type="scatter", x=c.x_plot, y=c.f_plot, mode="lines", name="true function sin(2πx)",
                 line=dict(color=COLORS["truth"], width=4))]
    colors = (COLORS["blue"], COLORS["green"], COLORS["purple"], COLORS["orange"])  # vermillion = truth
    for i, (name, j) in enumerate(picks.items()):
        data.append(dict(type="scatter", x=c.x_plot, y=c.fits_plot[:, j], mode="lines",
                         name=f"{name} (λ = {c.lams[j]:.2g})",
                         line=dict(color=colors[i % len(colors)], width=3, dash=("solid", "dash", "dot")[i % 3])))
    return _figure(data, title="What the chosen models look like", x_title="x", y_title="y", height=440,
                   yaxis=dict(range=[-2.5, 2.5]), legend=LEGEND_BELOW)


_ROW_AXIS = dict(showticklabels=False, autorange="reversed", ticks="")


def _row_labels(names) -> list[dict]:
    """Annotations naming each row of a horizontal category chart in the plot, above its row, instead of in a
    wide left margin of tick labels (260 px of names left a phone 60-110 px of plot); the y axis takes
    ``_ROW_AXIS``."""
    return [dict(x=0.0, xref="paper", xanchor="left", y=i - 0.5, yref="y", yanchor="top", text=str(n),
                 showarrow=False, font=dict(size=14, color="#333")) for i, n in enumerate(names)]


_ROW_WIDTH = 0.34  # box thickness in rows: leaves the upper part of each row to its name


def fig_reported_vs_true(cmp: ApproachComparison) -> go.Figure:
    """Mean reported error vs mean true error per approach (dumbbell), with 2 Monte-Carlo SE bars."""
    r = cmp.reported.shape[1]
    rep, tru = cmp.reported.mean(axis=1), cmp.true.mean(axis=1)
    se_r = cmp.reported.std(axis=1, ddof=1) / np.sqrt(r)
    se_t = cmp.true.std(axis=1, ddof=1) / np.sqrt(r)
    names = list(cmp.names)
    data = [dict(type="scatter", x=[rep[i], tru[i]], y=[name, name], mode="lines", showlegend=False,
                 line=dict(color=APPROACH_COLORS[i % 5], width=5), hoverinfo="skip") for i, name in enumerate(names)]
    data += [dict(type="scatter", x=rep, y=names, mode="markers", name="what it reports (mean)",
                  marker=dict(symbol="circle-open", size=16, color=COLORS["black"], line=dict(width=3)),
                  error_x=dict(type="data", array=2 * se_r, visible=True)),
             dict(type="scatter", x=tru, y=names, mode="markers", name="true error of its model (mean)",
                  marker=dict(symbol="diamond", size=16, color=COLORS["black"]),
                  error_x=dict(type="data", array=2 * se_t, visible=True))]
    return _figure(data, title=f"Reported vs true error, mean over {r} random studies of n = {cmp.n_samples}",
                   x_title=_error_label(cmp.kind), height=430, yaxis=_ROW_AXIS, annotations=_row_labels(names),
                   legend=LEGEND_BELOW)


def fig_optimism_boxes(cmp: ApproachComparison) -> go.Figure:
    """Distribution over studies of true - reported error, one box per approach."""
    gap = cmp.optimism
    data = [dict(type="box", x=gap[i], name=name, marker_color=APPROACH_COLORS[i % 5], boxmean=True, orientation="h",
                 showlegend=False, width=_ROW_WIDTH) for i, name in enumerate(cmp.names)]
    zero = dict(type="line", x0=0, x1=0, y0=0, y1=1, yref="paper", line=dict(color=COLORS["black"], width=2))
    return _figure(data, title="Optimism in each study: true error − reported error (0 = honest)",
                   x_title=f"optimism ({_error_label(cmp.kind)})", height=430, xaxis=dict(range=_robust_range(gap)),
                   yaxis=_ROW_AXIS, shapes=[zero], annotations=_row_labels(cmp.names))


def fig_test_tuning_histogram(cmp: ApproachComparison) -> go.Figure:
    """Approach 2: histogram of its optimism over studies, the mean, and the equally-good theory."""
    gap = cmp.optimism[1]
    theory = cmp.theory_optimism
    data = [dict(type="histogram", x=gap, nbinsx=_HIST_MAX_BINS, name="true − best test error",
                 marker_color=APPROACH_COLORS[1], opacity=0.8)]
    lines = [_vline(0.0, "honest", COLORS["black"], dash="solid"),
             _vline(float(gap.mean()), f"mean {gap.mean():.3g}", COLORS["vermillion"], position="low"),
             _vline(theory, f"K equally good: s·E[max] = {theory:.3g}", COLORS["blue"], dash="dot", position="lower",
                    side="right")]
    return _figure(data, title=f"Approach 2 over {gap.size} studies: λ tuned on the test set, K = {cmp.lams.size}",
                   x_title=f"optimism ({_error_label(cmp.kind)})", y_title="studies", height=420,
                   xaxis=dict(range=_robust_range(np.r_[gap, theory, 0.0])),
                   shapes=[s for s, _ in lines], annotations=[a for _, a in lines])


def fig_early_stopping(res: EarlyStopping, *, show_ridge: bool = True) -> go.Figure:
    """Training, validation, test and true error against epochs (log axis), the stopping point at
    the validation minimum, and ridge with lambda = 1/(eta t)."""
    # at most ~400 log-spaced epochs are drawn (the log axis shows no more), always with the stop
    last = int(res.epochs[-1])
    idx = np.unique(np.r_[np.round(np.geomspace(1, max(last, 1), 400)).astype(int), max(1, res.stop_epoch)])
    idx = idx[(idx >= 1) & (idx <= last)]
    t = res.epochs[idx]
    data = [dict(type="scatter", x=t, y=y, mode="lines", name=name, line=dict(color=color, dash=dash, width=3))
            for name, y, color, dash in (
                ("training error", res.train[idx], COLORS["train"], "solid"),
                ("validation error", res.validation[idx], COLORS["validation"], "solid"),
                ("test error (held-out set)", res.test[idx], COLORS["test"], "solid"),
                ("true error ‖w − w*‖² + σ²", res.true[idx], COLORS["black"], "dash"))]
    if show_ridge:
        data.append(dict(type="scatter", x=t, y=res.ridge_true[idx - 1], mode="lines",
                         name="ridge, λ = 1/(ηt): true error", line=dict(color=COLORS["purple"], dash="dot", width=3)))
    stop = max(1, res.stop_epoch)
    right = np.log(stop) > 0.5 * np.log(max(last, 2))
    shape, note = _vline(stop, f"stop: validation minimum (epoch {res.stop_epoch})", COLORS["validation"], log_x=True,
                         side="right" if right else "left")
    return _figure(data, title="Gradient descent keeps lowering the training error; the true error turns back up",
                   x_title="epoch (log scale)", y_title="mean squared error", height=480,
                   xaxis=dict(type="log", range=[0.0, float(np.log10(max(last, 2)))]),
                   yaxis=dict(range=[0, float(np.percentile(np.r_[res.validation, res.test, res.true], 99)) * 1.1]),
                   legend=LEGEND_BELOW, shapes=[shape], annotations=[note])


def fig_leak(res: LeakResult, *, title: str) -> go.Figure:
    """Each protocol's CV estimates over studies (box) and the true error of the deployed model."""
    colors = (COLORS["vermillion"], COLORS["green"], COLORS["orange"], COLORS["blue"])
    data = [dict(type="box", x=res.estimates[i], name=name, marker_color=colors[i % 4], boxmean=True, orientation="h",
                 showlegend=False, width=_ROW_WIDTH) for i, name in enumerate(res.names)]
    data.append(dict(type="scatter", x=res.true.mean(axis=1), y=list(res.names), mode="markers",
                     name="true error (mean)", marker=dict(symbol="diamond", size=18, color=COLORS["black"])))
    return _figure(data, title=title, x_title="estimated error rate (CV)", height=190 + 80 * len(res.names),
                   xaxis=dict(range=[-0.02, max(0.6, float(np.percentile(res.estimates, 99)) + 0.05)]),
                   yaxis=_ROW_AXIS, annotations=_row_labels(res.names), margin=dict(t=90),
                   legend=dict(orientation="h", x=1, xanchor="right", y=1.02, yanchor="bottom"))

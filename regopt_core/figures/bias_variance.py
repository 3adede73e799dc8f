"""Figures of the bias–variance page (pure builders: results in, ``go.Figure`` out).

Colours follow the lecture's pictures: the true curve in vermillion ("red"), the fitted curves in
blue; bias² purple, variance green, noise grey everywhere on the page.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from regopt_core.bias_variance import (
    ILL_CONDITIONED,
    CVSurface,
    DoubleDescent,
    ExperimentResult,
    OwnFit,
    SpreadFamily,
    Sweep,
)
from regopt_core.figures.theme import COLORS, SEQUENTIAL, TEMPLATE, horizontal_colorbar, log_axis

_FIT_LINE = "rgba(0, 114, 178, 0.35)"  # COLORS["fit"] (Okabe–Ito blue), translucent
_VAR_BAND = "rgba(0, 158, 115, 0.18)"  # COLORS["variance"], translucent


def _joined(x: np.ndarray, curves: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Many curves as one trace, separated by NaN gaps (one trace draws fast, even with 50 curves)."""
    k, m = curves.shape
    xs = np.tile(np.append(x, np.nan), k)
    ys = np.concatenate([curves, np.full((k, 1), np.nan)], axis=1).ravel()
    return xs, ys


def _line(x, y, name, color, *, width=3.0, dash=None, mode="lines", **kw) -> dict:
    return dict(type="scatter", mode=mode, x=x, y=y, name=name, line=dict(color=color, width=width, dash=dash), **kw)


def _vline(x: float, color: str, *, dash: str = "dot", width: float = 2.0) -> dict:
    return dict(type="line", xref="x", yref="paper", x0=x, x1=x, y0=0, y1=1, line=dict(color=color, dash=dash, width=width))


_LEGEND_BELOW = dict(orientation="h", y=-0.22, x=0, yanchor="top")


# Plotly's property validation costs ~4 ms per figure, most of the page's rerun budget at 8 figures.
# The builders only use literal property names, so the page skips it (plotly's own ``_validate``
# switch); tests/figures builds every figure with VALIDATE = True, which rejects any invalid property.
VALIDATE = False


def _figure(traces: list[dict], layout: dict, *, title: str, x_title: str, y_title: str, height: int,
            frames: list[dict] | None = None) -> go.Figure:
    """The same result as ``theme.styled(go.Figure(...), ...)``, built in one shot from dicts."""
    layout = dict(layout, template=TEMPLATE, title=dict(text=title), height=height)
    layout["xaxis"] = dict(layout.get("xaxis", {}), title=dict(text=x_title), automargin=True)
    layout["yaxis"] = dict(layout.get("yaxis", {}), title=dict(text=y_title), automargin=True)
    return go.Figure(data=traces, layout=layout, frames=frames, _validate=VALIDATE)


def nearest_spread(family: SpreadFamily, spread: float) -> int:
    """Index of the family's spread nearest (on a log scale) to ``spread``: the frame the figure opens on."""
    return int(np.argmin(np.abs(np.log(family.spreads) - np.log(max(spread, 1e-300)))))


def _r(a: np.ndarray) -> np.ndarray:
    """Float32 for the browser: plotly sends arrays as typed base64, 4 bytes a number (half the payload)."""
    return np.asarray(a, dtype=np.float32)


def _fit_traces(family: SpreadFamily, i: int, *, with_x: bool = True) -> list[dict]:
    """The three traces that change with the spread (frames carry only their y: x is the same in all)."""
    x = family.x_eval
    xs, ys = _joined(x, family.fits[i])
    mean, sd = family.mean_x[i], family.sd_x[i]
    out = [dict(type="scatter", y=_r(ys)), dict(type="scatter", y=_r(np.concatenate([mean + 2 * sd, (mean - 2 * sd)[::-1]]))),
           dict(type="scatter", y=_r(mean))]
    if with_x:
        for trace, xv in zip(out, (xs, np.concatenate([x, x[::-1]]), x), strict=True):
            trace["x"] = _r(xv)
    return out


def _fits_title(spread: float, lam: float) -> str:
    return f"RBF fits: spread {spread:g}, λ = {lam:g}"


def fig_fits(family: SpreadFamily, *, spread: float, y_range: tuple[float, float] | None = None) -> go.Figure:
    """The lecture's picture, for every spread of the family at once: fits to the same training sets, the
    exact mean fit ± 2 sd and the truth. The figure opens on the spread nearest to ``spread``; plotly's own
    slider inside the figure switches between the precomputed spreads (frames) with no server round trip."""
    i0 = nearest_spread(family, spread)
    x = family.x_eval
    k = family.fits.shape[1]
    if y_range is None:
        lo = float(min(family.f_eval.min(), family.y_sets[0].min()))
        hi = float(max(family.f_eval.max(), family.y_sets[0].max()))
        pad = 0.25 * (hi - lo)
        y_range = (lo - pad, hi + pad)
    fits, band, mean = _fit_traces(family, i0)
    traces = [
        dict(fits, mode="lines", name=f"fits to {k} training sets", line=dict(color=_FIT_LINE, width=1.5),
             hoverinfo="skip", connectgaps=False),
        dict(band, fill="toself", fillcolor=_VAR_BAND, line=dict(width=0), name="mean fit ± 2 sd (exact)",
             hoverinfo="skip", mode="lines"),
        dict(mean, mode="lines", name="mean fit E[ŷ(x)] (exact)", line=dict(color=COLORS["black"], width=3, dash="dash")),
        _line(_r(x), _r(family.f_eval), "true function f(x)", COLORS["truth"], width=4),
        dict(type="scatter", mode="markers", x=family.x_train, y=family.y_sets[0], name="one training set (noisy samples)",
             marker=dict(color=COLORS["truth"], size=9, symbol="circle-open", line=dict(width=2))),
    ]
    frames = [dict(name=f"{s:g}", data=_fit_traces(family, j, with_x=False), traces=[0, 1, 2],
                   layout=dict(title=dict(text=_fits_title(float(s), family.lam))))
              for j, s in enumerate(family.spreads)]
    steps = [dict(method="animate", label=f"{s:g}",
                  args=[[f"{s:g}"], dict(mode="immediate", frame=dict(duration=0, redraw=False), transition=dict(duration=0))])
             for s in family.spreads]
    slider = dict(active=i0, steps=steps, x=0.0, len=1.0, y=-0.16, yanchor="top", pad=dict(t=0, b=0),
                  currentvalue=dict(prefix="spread in this figure: ", font=dict(size=14)), font=dict(size=11))
    layout = dict(yaxis=dict(range=list(y_range)), xaxis=dict(range=[0, 1]), sliders=[slider],
                  legend=dict(orientation="h", x=0.0, xanchor="left", y=-0.42, yanchor="top"),
                  margin=dict(t=60, b=170))
    return _figure(traces, layout, title=_fits_title(float(family.spreads[i0]), family.lam),
                   x_title="input x (input range [0, 1])", y_title="output y", height=640, frames=frames)


def fig_decomposition_x(res: ExperimentResult) -> go.Figure:
    """Bias², variance and noise along x, exact (solid) and Monte Carlo (dotted), with their sum:
    the expected test error at x."""
    x, e, mc = res.x_eval, res.exact, res.mc
    total = e.noise + e.var_x + e.bias2_x
    traces = [
        _line(x, total, "expected test error at x (sum)", COLORS["black"], width=4),
        _line(x, e.bias2_x, "bias² (exact)", COLORS["bias"]),
        _line(x, mc.bias2_x, f"bias², Monte Carlo (K = {mc.n_draws})", COLORS["bias"], width=2.5, dash="dot"),
        _line(x, e.var_x, "variance (exact)", COLORS["variance"]),
        _line(x, mc.var_x, f"variance, Monte Carlo (K = {mc.n_draws})", COLORS["variance"], width=2.5, dash="dot"),
        _line(x, np.full_like(x, e.noise), "noise σ² (irreducible)", COLORS["noise"], width=2, dash="dash"),
    ]
    cap = float(np.quantile(total, 0.98)) * 1.15 + 1e-12
    layout = dict(yaxis=dict(range=[0, cap]), xaxis=dict(range=[0, 1]), legend=_LEGEND_BELOW)
    return _figure(traces, layout, title="Where along x the error comes from",
                   x_title="input x", y_title="squared error at x", height=500)


def fig_decomposition_bars(res: ExperimentResult) -> go.Figure:
    """Bias², variance, noise and expected test MSE averaged over x: exact beside Monte Carlo."""
    e, mc = res.exact, res.mc
    names = ["bias²", "variance", "noise σ²", "test MSE"]
    exact = [e.bias2, e.var, e.noise, e.mse]
    sim = [mc.bias2, mc.var, mc.mse - mc.bias2 - mc.var, mc.mse]
    traces = [
        dict(type="bar", orientation="h", y=names, x=exact, name="exact (smoother S)", marker_color=COLORS["blue"],
             text=[f"{v:.4f}" for v in exact], textposition="outside", cliponaxis=False),
        dict(type="bar", orientation="h", y=names, x=sim, name=f"Monte Carlo, K = {mc.n_draws}",
             marker_color=COLORS["orange"], text=[f"{v:.4f}" for v in sim], textposition="outside", cliponaxis=False),
    ]
    layout = dict(barmode="group", legend=_LEGEND_BELOW,
                  xaxis=dict(range=[0, 1.3 * max(max(exact), max(sim), 1e-12)]),
                  # narrow side margins: on a 390 px phone the plot area keeps >= 300 px (issue 13)
                  yaxis=dict(autorange="reversed", tickfont=dict(size=13)), margin=dict(l=66, r=4, t=60, b=60))
    return _figure(traces, layout, title="Averaged over x: bias² + variance + σ² = test MSE", x_title="squared error",
                   y_title="", height=500)


def fig_mc_convergence(res: ExperimentResult) -> go.Figure:
    """Relative error of the Monte-Carlo bias² and variance after k training sets, with a 1/√k guide."""
    mc, e = res.mc, res.exact
    k = mc.k_path.astype(float)
    rel_v = np.abs(mc.var_path - e.var) / max(e.var, 1e-300)
    traces = [_line(k, rel_v, "variance", COLORS["variance"], mode="lines+markers")]
    if e.bias2 > 1e-12:
        rel_b = np.abs(mc.bias2_path - e.bias2) / e.bias2
        traces.append(_line(k, rel_b, "bias²", COLORS["bias"], mode="lines+markers"))
    traces.append(_line(k, np.sqrt(2.0 / (k - 1)), "√(2/(k−1)): sampling error of a variance", COLORS["grey"],
                        width=2, dash="dash"))
    layout = dict(xaxis=log_axis(), yaxis=log_axis(), legend=_LEGEND_BELOW)
    return _figure(traces, layout, title="Monte Carlo → exact as K grows",
                   x_title="training sets used, k", y_title="relative error |MC − exact| / exact", height=420)


_KNOB_LABEL = {"spread": "RBF spread s (log scale)", "lam": "ridge strength λ (log scale)"}


def fig_u_curve(sweep: Sweep, current: float) -> go.Figure:
    """Bias², variance, σ² and their sum against spread or λ (log x), current and best marked."""
    v = sweep.values
    b = sweep.best
    i = int(np.argmin(np.abs(np.log(v) - np.log(current)))) if current > 0 else 0
    traces = [
        _line(v, sweep.bias2, "bias²", COLORS["bias"]),
        _line(v, sweep.var, "variance", COLORS["variance"]),
        _line(v, np.full_like(v, sweep.noise), "noise σ²", COLORS["noise"], width=2, dash="dot"),
        _line(v, sweep.mse, "test MSE = bias² + variance + σ²", COLORS["black"], width=4),
        dict(type="scatter", x=[v[b]], y=[sweep.mse[b]], mode="markers", name=f"minimum at {v[b]:.3g}",
             marker=dict(symbol="star", size=18, color=COLORS["vermillion"], line=dict(color="black", width=1))),
        dict(type="scatter", x=[v[i]], y=[sweep.mse[i]], mode="markers", name=f"current setting ({current:g})",
             marker=dict(symbol="circle", size=14, color="white", line=dict(color=COLORS["black"], width=3))),
    ]
    top = float(np.quantile(sweep.mse, 0.9))
    shapes = [_vline(float(v[i]), COLORS["grey"])]
    bad = np.asarray(sweep.cond) > ILL_CONDITIONED
    if bad.any():  # shade the settings whose linear system is ill-conditioned (solved by SVD anyway)
        edges = np.flatnonzero(np.diff(np.r_[0, bad.astype(int), 0]))
        for a, b in zip(edges[::2], edges[1::2], strict=True):
            shapes.append(dict(type="rect", xref="x", yref="paper", x0=float(v[a]), x1=float(v[b - 1]), y0=0, y1=1,
                               fillcolor="rgba(127,127,127,0.15)", line=dict(width=0), layer="below"))
        traces.append(dict(type="scatter", mode="markers", x=[None], y=[None], name="ill-conditioned (cond > 10⁸)",
                           marker=dict(symbol="square", size=14, color="rgba(127,127,127,0.35)")))
    xaxis = log_axis() if sweep.knob == "spread" else dict(log_axis(), dtick=2)  # 11 decades: every other
    layout = dict(xaxis=xaxis, yaxis=dict(range=[0, max(1.3 * top, 1.5 * sweep.noise, 1e-12)]),
                  legend=dict(_LEGEND_BELOW, y=-0.27), shapes=shapes, margin=dict(t=80))
    what = "spread" if sweep.knob == "spread" else "λ"
    return _figure(traces, layout, title=f"U-curve over {what} (averaged over x)",
                   x_title=_KNOB_LABEL.get(sweep.knob, sweep.knob), y_title="squared error", height=540)


def fig_train_test_df(sweep: Sweep, current_index: int, *, n_samples: int) -> go.Figure:
    """Training error and in-sample test error against df = tr S; the gap is the optimism 2σ²df/n."""
    order = np.argsort(sweep.df)
    df, tr, te = sweep.df[order], sweep.train_err[order], sweep.test_in[order]
    c = int(current_index)
    traces = [
        dict(type="scatter", mode="lines", x=np.concatenate([df, df[::-1]]), y=np.concatenate([te, tr[::-1]]),
             fill="toself", fillcolor="rgba(230,159,0,0.25)", line=dict(width=0), name="optimism = 2σ²·df / n",
             hoverinfo="skip"),
        _line(df, tr, "training error (expected)", COLORS["train"]),
        _line(df, te, "test error at the same x, new noise", COLORS["test"]),
        dict(type="scatter", mode="markers", x=df, y=tr + 2 * sweep.noise * df / n_samples,
             name="training error + 2σ²·df/n", marker=dict(color=COLORS["black"], size=6, symbol="x")),
        _line(df, sweep.mse[order], "test error at new x", COLORS["black"], width=2, dash="dash"),
    ]
    layout = dict(
        yaxis=dict(range=[0, 1.3 * float(np.quantile(np.r_[te, sweep.mse], 0.9)) + 1e-12]),
        legend=_LEGEND_BELOW,
        shapes=[_vline(float(sweep.df[c]), COLORS["grey"])],
        annotations=[dict(x=float(sweep.df[c]), y=1, xref="x", yref="paper", text=f"now: df = {sweep.df[c]:.1f}",
                          showarrow=False, xanchor="left", yanchor="bottom")],
    )
    return _figure(traces, layout, title="Training error is optimistic by 2σ²·df/n",
                   x_title="effective degrees of freedom df = tr S", y_title="mean squared error", height=470)


def fig_double_descent(dd: DoubleDescent) -> go.Figure:
    """Test error of the minimum-norm fit, ridge at the chosen λ and ridge at the smallest λ without a peak,
    against the number of random features p (median feature draw at each p)."""
    p = dd.n_features
    traces = [
        _line(p, dd.mse_min_norm, f"minimum-norm fit (λ → 0): peak {dd.bump_min_norm:.3g}×", COLORS["blue"], mode="lines+markers"),
        _line(p, dd.mse_ridge, f"ridge, λ = {dd.lam:g}: " + (f"peak {dd.bump_ridge:.2g}×" if dd.bump_ridge > 1.1 else "no peak"),
              COLORS["green"], dash="dash", mode="lines+markers"),
    ]
    if np.isfinite(dd.lam_no_peak) and not np.isclose(dd.lam_no_peak, dd.lam):
        traces.append(_line(p, dd.mse_no_peak, f"ridge, λ = {dd.lam_no_peak:.2g}: smallest λ with no peak", COLORS["orange"],
                            width=2.5, dash="dot", mode="lines"))
    traces.append(_line(p, np.full(p.shape, dd.noise), "noise σ²", COLORS["noise"], width=2, dash="dot"))
    layout = dict(
        xaxis=log_axis(), yaxis=log_axis(), legend=_LEGEND_BELOW, margin=dict(t=90),
        shapes=[_vline(float(dd.n_samples), COLORS["vermillion"])],
        annotations=[dict(x=float(np.log10(dd.n_samples)), y=1, xref="x", yref="paper",
                          text=f"p = n = {dd.n_samples}: interpolation threshold", showarrow=False, xanchor="right",
                          yanchor="bottom")],
    )
    return _figure(traces, layout, title="Double descent: more parameters than samples",
                   x_title="number of random features p (log scale)", y_title="expected test MSE (log scale)", height=500)


# ----------------------------------------------------------------------------------------------
# The data behind each main figure, as columns for a CSV download
# ----------------------------------------------------------------------------------------------


def table_fits(family: SpreadFamily, spread: float) -> dict[str, np.ndarray]:
    """The frame the figure opens on: truth, exact mean and variance, the fitted curves, the training set."""
    i = nearest_spread(family, spread)
    cols = {"x": family.x_eval, "f_true": family.f_eval, "mean_fit_exact": family.mean_x[i],
            "sd_exact": family.sd_x[i]}
    for k, fit in enumerate(family.fits[i]):
        cols[f"fit_{k + 1}"] = fit
    cols["x_train"] = family.x_train
    cols["y_train_set_1"] = family.y_sets[0]
    return cols


def table_sweep(sweep: Sweep) -> dict[str, np.ndarray]:
    return {sweep.knob: sweep.values, "bias2": sweep.bias2, "variance": sweep.var,
            "noise": np.full_like(sweep.values, sweep.noise), "test_mse": sweep.mse, "df": sweep.df,
            "train_err": sweep.train_err, "test_err_in_sample": sweep.test_in, "cond": sweep.cond}


def table_double_descent(dd: DoubleDescent) -> dict[str, np.ndarray]:
    return {"n_features": dd.n_features, "test_mse_min_norm": dd.mse_min_norm, "bias2_min_norm": dd.bias2_min_norm,
            "variance_min_norm": dd.var_min_norm, "test_mse_ridge": dd.mse_ridge, "bias2_ridge": dd.bias2_ridge,
            "variance_ridge": dd.var_ridge, "noise": np.full(dd.n_features.shape, dd.noise),
            "test_mse_ridge_no_peak": dd.mse_no_peak}


# ----------------------------------------------------------------------------------------------
# Your own points: the fit with its bootstrap band, and the K-fold CV error over spread and λ
# ----------------------------------------------------------------------------------------------


def fig_own_fit(fit: OwnFit) -> go.Figure:
    """Your points, the RBF ridge fit at the chosen spread and λ, fits to a few bootstrap resamples and the
    fit ± 2 bootstrap standard deviations, in your units of x."""
    x = fit.x_eval
    sd = np.sqrt(fit.boot_var_x)
    xs, ys = _joined(x, fit.boot_fits)
    k = fit.boot_fits.shape[0]
    traces = [
        dict(type="scatter", mode="lines", x=_r(xs), y=_r(ys), name=f"fits to {k} of {fit.n_boot} bootstrap resamples",
             line=dict(color=_FIT_LINE, width=1.2), hoverinfo="skip", connectgaps=False),
        dict(type="scatter", mode="lines", x=_r(np.concatenate([x, x[::-1]])),
             y=_r(np.concatenate([fit.fit_x + 2 * sd, (fit.fit_x - 2 * sd)[::-1]])), fill="toself",
             fillcolor=_VAR_BAND, line=dict(width=0), name="fit ± 2 bootstrap sd", hoverinfo="skip"),
        _line(_r(x), _r(fit.fit_x), "fit to all your points", COLORS["black"], width=3.5),
        dict(type="scatter", mode="markers", x=fit.x, y=fit.y, name="your points",
             marker=dict(color=COLORS["truth"], size=7 if fit.x.size > 200 else 9, symbol="circle-open",
                         line=dict(width=1.5))),
    ]
    lo, hi = float(fit.y.min()), float(fit.y.max())
    pad = 0.25 * (hi - lo) if hi > lo else 1.0
    layout = dict(yaxis=dict(range=[lo - pad, hi + pad]), legend=_LEGEND_BELOW)
    c = fit.config
    return _figure(traces, layout, title=f"Your points: spread {c.spread:g} (of the x range), λ = {c.lam:g}",
                   x_title=fit.x_name, y_title=fit.y_name, height=540)


def _log_ticks(values: np.ndarray, *, every: int = 1) -> dict:
    lv = np.log10(values)
    keep = [i for i in range(values.size) if abs(lv[i] - round(lv[i])) < 1e-9 and round(lv[i]) % every == 0]
    return dict(tickvals=[float(lv[i]) for i in keep], ticktext=[f"{values[i]:g}" for i in keep])


def fig_cv_surface(cv: CVSurface, *, spread: float, lam: float) -> go.Figure:
    """K-fold CV error over spread × λ (log axes), as a multiple of its minimum; the minimum starred, the
    current setting circled."""
    ls, ll = np.log10(cv.spreads), np.log10(cv.lams)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.log10(cv.mse / cv.best_mse)
    z = np.clip(np.where(np.isfinite(ratio), ratio, 2.0), 0.0, 2.0)
    i, j = cv.best
    here = cv.index(spread, lam)
    ticks = [0, 0.5, 1, 1.5, 2]
    traces = [
        dict(type="heatmap", x=ll, y=ls, z=_r(z), zmin=0, zmax=2, colorscale=SEQUENTIAL, reversescale=True,
             customdata=_r(cv.mse), hovertemplate="λ %{x:.2f} (log₁₀), spread %{y:.2f} (log₁₀)<br>CV error %{customdata:.4g}"
             "<extra></extra>",
             colorbar=horizontal_colorbar("CV error ÷ its minimum", tickvals=ticks,
                                          ticktext=["1×", "3×", "10×", "30×", "≥ 100×"])),
        dict(type="scatter", mode="markers", x=[float(ll[j])], y=[float(ls[i])],
             name=f"minimum {cv.best_mse:.4g}: spread {cv.best_spread:g}, λ {cv.best_lam:g}",
             marker=dict(symbol="star", size=20, color=COLORS["vermillion"], line=dict(color="white", width=1.5))),
        dict(type="scatter", mode="markers", x=[float(ll[here[1]])], y=[float(ls[here[0]])],
             name=f"your setting: {cv.mse[here]:.4g}",
             marker=dict(symbol="circle", size=15, color="white", line=dict(color=COLORS["black"], width=3))),
    ]
    layout = dict(xaxis=dict(_log_ticks(cv.lams, every=2), showgrid=False),
                  yaxis=dict(_log_ticks(cv.spreads), showgrid=False), legend=dict(y=1.02, yanchor="bottom"),
                  margin=dict(t=110, b=150))
    return _figure(traces, layout, title=f"{cv.n_folds}-fold CV error over spread and λ",
                   x_title="ridge strength λ (log scale)", y_title="RBF spread (fraction of the x range, log scale)",
                   height=600)


def fig_cv_curve(cv: CVSurface, knob: str, *, spread: float, lam: float) -> go.Figure:
    """CV error (± 1 standard error) and training error along spread at the chosen λ (``knob="spread"``) or
    along λ at the chosen spread (``knob="lam"``); the curve's minimum starred, the current setting circled."""
    i, j = cv.index(spread, lam)
    if knob == "spread":
        v, m, se, tr, cur, at = cv.spreads, cv.mse[:, j], cv.se[:, j], cv.train_mse[:, j], i, f"λ = {cv.lams[j]:g}"
    else:
        v, m, se, tr, cur, at = cv.lams, cv.mse[i], cv.se[i], cv.train_mse[i], j, f"spread {cv.spreads[i]:g}"
    b = int(np.argmin(np.where(np.isfinite(m), m, np.inf)))
    traces = [
        dict(type="scatter", mode="lines", x=np.concatenate([v, v[::-1]]), y=np.concatenate([m + se, (m - se)[::-1]]),
             fill="toself", fillcolor="rgba(213,94,0,0.15)", line=dict(width=0), name="CV error ± 1 standard error",
             hoverinfo="skip"),
        _line(v, m, f"{cv.n_folds}-fold CV error", COLORS["test"], width=3.5),
        _line(v, tr, "training error (all points)", COLORS["train"], width=2.5, dash="dash"),
        dict(type="scatter", x=[v[b]], y=[m[b]], mode="markers", name=f"minimum on this curve at {v[b]:.3g}",
             marker=dict(symbol="star", size=18, color=COLORS["vermillion"], line=dict(color="black", width=1))),
        dict(type="scatter", x=[v[cur]], y=[m[cur]], mode="markers", name=f"your setting ({v[cur]:g})",
             marker=dict(symbol="circle", size=14, color="white", line=dict(color=COLORS["black"], width=3))),
    ]
    finite = m[np.isfinite(m)]
    top = float(min(finite.max(), max(3.0 * m[b], float(np.quantile(finite, 0.5))))) * 1.15
    xaxis = log_axis() if knob == "spread" else dict(log_axis(), dtick=2)
    layout = dict(xaxis=xaxis, yaxis=dict(range=[0, max(top, 1e-300)]), legend=dict(_LEGEND_BELOW, y=-0.27),
                  shapes=[_vline(float(v[cur]), COLORS["grey"])], margin=dict(t=80))
    what = "spread" if knob == "spread" else "λ"
    return _figure(traces, layout, title=f"CV error over {what} (at {at})", x_title=_KNOB_LABEL[knob],
                   y_title="mean squared error", height=520)


def table_own_fit(fit: OwnFit) -> dict[str, np.ndarray]:
    """The fit and its bootstrap band along x, and your points."""
    return {"x": fit.x_eval, "fit": fit.fit_x, "bootstrap_sd": np.sqrt(fit.boot_var_x),
            "bootstrap_mean": fit.boot_mean_x, "x_points": fit.x, "y_points": fit.y, "fit_at_points": fit.fitted}


def table_cv(cv: CVSurface) -> dict[str, np.ndarray]:
    """One row per (spread, λ): CV error, its standard error, training error and df."""
    s, lam = np.meshgrid(cv.spreads, cv.lams, indexing="ij")
    return {"spread": s.ravel(), "lambda": lam.ravel(), "cv_mse": cv.mse.ravel(), "cv_se": cv.se.ravel(),
            "train_mse": cv.train_mse.ravel(), "df": cv.df.ravel(), "cond": cv.cond.ravel()}

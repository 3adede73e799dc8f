"""Figures of the bias–variance page (pure builders: results in, ``go.Figure`` out).

Colours follow the lecture's pictures: the true curve in vermillion ("red"), the fitted curves in
blue; bias² purple, variance green, noise grey everywhere on the page.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from regopt_core.bias_variance import DoubleDescent, ExperimentResult, Sweep
from regopt_core.figures.theme import COLORS, styled

_FIT_LINE = "rgba(0, 114, 178, 0.35)"  # COLORS["fit"] (Okabe–Ito blue), translucent
_VAR_BAND = "rgba(0, 158, 115, 0.18)"  # COLORS["variance"], translucent


def _joined(x: np.ndarray, curves: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Many curves as one trace, separated by NaN gaps (one trace draws fast, even with 50 curves)."""
    k, m = curves.shape
    xs = np.tile(np.append(x, np.nan), k)
    ys = np.concatenate([curves, np.full((k, 1), np.nan)], axis=1).ravel()
    return xs, ys


def fig_fits(res: ExperimentResult, *, spread: float, lam: float, y_range: tuple[float, float] | None = None) -> go.Figure:
    """The lecture's picture: fits to many noisy training sets, their mean ± 2 sd band, and the truth."""
    mc, exact = res.mc, res.exact
    x = res.x_eval
    fig = go.Figure()
    xs, ys = _joined(x, mc.fits)
    fig.add_scatter(x=xs, y=ys, mode="lines", line=dict(color=_FIT_LINE, width=1.5),
                    name=f"fits to {mc.fits.shape[0]} training sets", hoverinfo="skip", connectgaps=False)
    sd = np.sqrt(exact.var_x)
    mean_exact = exact.mean_x
    fig.add_scatter(x=np.concatenate([x, x[::-1]]), y=np.concatenate([mean_exact + 2 * sd, (mean_exact - 2 * sd)[::-1]]),
                    fill="toself", fillcolor=_VAR_BAND, line=dict(width=0), name="mean fit ± 2 sd (exact)",
                    hoverinfo="skip")
    fig.add_scatter(x=x, y=mc.mean_fit, mode="lines", line=dict(color=COLORS["black"], width=3, dash="dash"),
                    name=f"average of {mc.n_draws} fits")
    fig.add_scatter(x=x, y=res.f_eval, mode="lines", line=dict(color=COLORS["truth"], width=4), name="true function f(x)")
    fig.add_scatter(x=res.x_train, y=res.y_first, mode="markers", name="one training set (noisy samples)",
                    marker=dict(color=COLORS["truth"], size=9, symbol="circle-open", line=dict(width=2)))
    if y_range is None:
        lo = float(min(res.f_eval.min(), res.y_first.min()))
        hi = float(max(res.f_eval.max(), res.y_first.max()))
        pad = 0.25 * (hi - lo)
        y_range = (lo - pad, hi + pad)
    fig.update_yaxes(range=list(y_range))
    fig.update_xaxes(range=[0, 1])
    fig.update_layout(legend=dict(orientation="h", y=-0.18, x=0))
    return styled(fig, title=f"RBF fits: spread {spread:g}, λ = {lam:g}", x_title="input x (input range [0, 1])",
                  y_title="output y", height=520)


def fig_decomposition_x(res: ExperimentResult) -> go.Figure:
    """Bias², variance and noise along x (stacked: their sum is the expected test error at x),
    with the Monte-Carlo estimates dotted on top."""
    x, e, mc = res.x_eval, res.exact, res.mc
    noise = np.full_like(x, e.noise)
    fig = go.Figure()
    fig.add_scatter(x=x, y=noise, mode="lines", stackgroup="exact", name="noise σ² (irreducible)",
                    line=dict(color=COLORS["noise"], width=0.5), fillcolor="rgba(127,127,127,0.35)")
    fig.add_scatter(x=x, y=e.var_x, mode="lines", stackgroup="exact", name="variance (exact)",
                    line=dict(color=COLORS["variance"], width=0.5), fillcolor="rgba(0,158,115,0.45)")
    fig.add_scatter(x=x, y=e.bias2_x, mode="lines", stackgroup="exact", name="bias² (exact)",
                    line=dict(color=COLORS["bias"], width=0.5), fillcolor="rgba(204,121,167,0.55)")
    fig.add_scatter(x=x, y=mc.var_x, mode="lines", name=f"variance, Monte Carlo (K = {mc.n_draws})",
                    line=dict(color=COLORS["variance"], width=2.5, dash="dot"))
    fig.add_scatter(x=x, y=mc.bias2_x, mode="lines", name=f"bias², Monte Carlo (K = {mc.n_draws})",
                    line=dict(color=COLORS["bias"], width=2.5, dash="dot"))
    top = e.noise + e.var_x + e.bias2_x
    cap = float(np.quantile(top, 0.98)) * 1.15 + 1e-12
    fig.update_yaxes(range=[0, cap])
    fig.update_xaxes(range=[0, 1])
    fig.update_layout(legend=dict(orientation="h", y=-0.2, x=0))
    return styled(fig, title="Where the error comes from, along x (stacked: total = expected test error)",
                  x_title="input x", y_title="squared error", height=440)


def fig_decomposition_bars(res: ExperimentResult) -> go.Figure:
    """Bias², variance, noise and expected test MSE averaged over x: exact beside Monte Carlo."""
    e, mc = res.exact, res.mc
    names = ["bias²", "variance", "noise σ²", "test MSE"]
    exact = [e.bias2, e.var, e.noise, e.mse]
    sim = [mc.bias2, mc.var, mc.mse - mc.bias2 - mc.var, mc.mse]
    fig = go.Figure()
    fig.add_bar(x=names, y=exact, name="exact (smoother S)", marker_color=COLORS["blue"],
                text=[f"{v:.4f}" for v in exact], textposition="outside")
    fig.add_bar(x=names, y=sim, name=f"Monte Carlo, K = {mc.n_draws}", marker_color=COLORS["orange"],
                text=[f"{v:.4f}" for v in sim], textposition="outside")
    fig.update_layout(barmode="group", legend=dict(orientation="h", y=-0.15, x=0))
    fig.update_yaxes(range=[0, 1.2 * max(max(exact), max(sim))])
    return styled(fig, title="Averaged over x: bias² + variance + σ² = test MSE", x_title="term",
                  y_title="squared error", height=420)


def fig_mc_convergence(res: ExperimentResult) -> go.Figure:
    """Relative error of the Monte-Carlo bias² and variance after k training sets, with a 1/√k guide."""
    mc, e = res.mc, res.exact
    k = mc.k_path.astype(float)
    fig = go.Figure()
    rel_v = np.abs(mc.var_path - e.var) / max(e.var, 1e-300)
    fig.add_scatter(x=k, y=rel_v, mode="lines+markers", name="variance", line=dict(color=COLORS["variance"], width=3))
    if e.bias2 > 1e-12:
        rel_b = np.abs(mc.bias2_path - e.bias2) / e.bias2
        fig.add_scatter(x=k, y=rel_b, mode="lines+markers", name="bias²", line=dict(color=COLORS["bias"], width=3))
    fig.add_scatter(x=k, y=np.sqrt(2.0 / (k - 1)), mode="lines", name="√(2/(k−1)): sampling error of a variance",
                    line=dict(color=COLORS["grey"], dash="dash", width=2))
    fig.update_xaxes(type="log")
    fig.update_yaxes(type="log")
    fig.update_layout(legend=dict(orientation="h", y=-0.2, x=0))
    return styled(fig, title="Monte Carlo → exact as the number of training sets K grows",
                  x_title="training sets used, k", y_title="relative error |MC − exact| / exact", height=420)


_KNOB_LABEL = {"spread": "RBF spread s (log scale)", "lam": "ridge strength λ (log scale)"}


def fig_u_curve(sweep: Sweep, current: float) -> go.Figure:
    """Bias², variance, σ² and their sum against spread or λ (log x), current and best marked."""
    v = sweep.values
    fig = go.Figure()
    fig.add_scatter(x=v, y=sweep.bias2, name="bias²", line=dict(color=COLORS["bias"], width=3))
    fig.add_scatter(x=v, y=sweep.var, name="variance", line=dict(color=COLORS["variance"], width=3))
    fig.add_scatter(x=v, y=np.full_like(v, sweep.noise), name="noise σ²", line=dict(color=COLORS["noise"], width=2, dash="dot"))
    fig.add_scatter(x=v, y=sweep.mse, name="test MSE = bias² + variance + σ²", line=dict(color=COLORS["black"], width=4))
    b = sweep.best
    fig.add_scatter(x=[v[b]], y=[sweep.mse[b]], mode="markers", name=f"minimum at {v[b]:.3g}",
                    marker=dict(symbol="star", size=18, color=COLORS["vermillion"], line=dict(color="black", width=1)))
    i = int(np.argmin(np.abs(np.log(v) - np.log(max(current, 1e-300))))) if current > 0 else 0
    fig.add_scatter(x=[v[i]], y=[sweep.mse[i]], mode="markers", name=f"current setting ({current:g})",
                    marker=dict(symbol="circle", size=14, color="white", line=dict(color=COLORS["black"], width=3)))
    fig.add_vline(x=v[i], line=dict(color=COLORS["grey"], dash="dot"))
    top = float(np.quantile(sweep.mse, 0.9))
    fig.update_xaxes(type="log")
    fig.update_yaxes(range=[0, max(1.3 * top, 1.5 * sweep.noise)])
    fig.update_layout(legend=dict(orientation="h", y=-0.22, x=0))
    what = "spread" if sweep.knob == "spread" else "λ"
    return styled(fig, title=f"The U-curve over {what}", x_title=_KNOB_LABEL.get(sweep.knob, sweep.knob),
                  y_title="squared error (averaged over x)", height=440)


def fig_train_test_df(sweep: Sweep, current_index: int, *, n_samples: int) -> go.Figure:
    """Training error and in-sample test error against df = tr S; the gap is the optimism 2σ²df/n."""
    order = np.argsort(sweep.df)
    df, tr, te = sweep.df[order], sweep.train_err[order], sweep.test_in[order]
    fig = go.Figure()
    fig.add_scatter(x=np.concatenate([df, df[::-1]]), y=np.concatenate([te, tr[::-1]]), fill="toself",
                    fillcolor="rgba(230,159,0,0.25)", line=dict(width=0), name="optimism = 2σ²·df / n", hoverinfo="skip")
    fig.add_scatter(x=df, y=tr, name="training error (expected)", line=dict(color=COLORS["train"], width=3))
    fig.add_scatter(x=df, y=te, name="test error at the same x, new noise", line=dict(color=COLORS["test"], width=3))
    fig.add_scatter(x=df, y=tr + 2 * sweep.noise * df / n_samples, name="training error + 2σ²·df/n",
                    mode="markers", marker=dict(color=COLORS["black"], size=6, symbol="x"))
    fig.add_scatter(x=df, y=sweep.mse[order], name="test error at new x", line=dict(color=COLORS["black"], width=2, dash="dash"))
    c = current_index
    fig.add_vline(x=sweep.df[c], line=dict(color=COLORS["grey"], dash="dot"),
                  annotation_text=f"now: df = {sweep.df[c]:.1f}", annotation_position="top right")
    fig.update_yaxes(range=[0, 1.3 * float(np.quantile(np.r_[te, sweep.mse], 0.9))])
    fig.update_layout(legend=dict(orientation="h", y=-0.22, x=0))
    return styled(fig, title="Training error is optimistic by 2σ²·df/n", x_title="effective degrees of freedom df = tr S",
                  y_title="mean squared error", height=440)


def fig_double_descent(dd: DoubleDescent) -> go.Figure:
    """Test error of minimum-norm and ridge fits against the number of random features p."""
    p = dd.n_features
    fig = go.Figure()
    fig.add_scatter(x=p, y=dd.mse_min_norm, name="minimum-norm fit (λ → 0)", mode="lines+markers",
                    line=dict(color=COLORS["blue"], width=3))
    fig.add_scatter(x=p, y=dd.mse_ridge, name=f"ridge, λ = {dd.lam:g}", mode="lines+markers",
                    line=dict(color=COLORS["green"], width=3, dash="dash"))
    fig.add_scatter(x=p, y=np.full(p.shape, dd.noise), name="noise σ²", line=dict(color=COLORS["noise"], dash="dot"))
    fig.add_vline(x=dd.n_samples, line=dict(color=COLORS["vermillion"], width=2, dash="dot"),
                  annotation_text=f"p = n = {dd.n_samples}: interpolation threshold", annotation_position="top left")
    fig.update_xaxes(type="log")
    fig.update_yaxes(type="log")
    fig.update_layout(legend=dict(orientation="h", y=-0.22, x=0))
    return styled(fig, title="Double descent: more parameters than samples",
                  x_title="number of random features p (log scale)", y_title="expected test MSE (log scale)", height=440)


# ----------------------------------------------------------------------------------------------
# The data behind each main figure, as columns for a CSV download
# ----------------------------------------------------------------------------------------------


def table_fits(res: ExperimentResult) -> dict[str, np.ndarray]:
    cols = {"x": res.x_eval, "f_true": res.f_eval, "mean_fit_mc": res.mc.mean_fit,
            "mean_fit_exact": res.exact.mean_x,
            "bias2_exact": res.exact.bias2_x, "variance_exact": res.exact.var_x,
            "bias2_mc": res.mc.bias2_x, "variance_mc": res.mc.var_x}
    for k, fit in enumerate(res.mc.fits):
        cols[f"fit_{k + 1}"] = fit
    cols["x_train"] = res.x_train
    cols["y_train_set_1"] = res.y_first
    return cols


def table_sweep(sweep: Sweep) -> dict[str, np.ndarray]:
    return {sweep.knob: sweep.values, "bias2": sweep.bias2, "variance": sweep.var,
            "noise": np.full_like(sweep.values, sweep.noise), "test_mse": sweep.mse, "df": sweep.df,
            "train_err": sweep.train_err, "test_err_in_sample": sweep.test_in, "cond": sweep.cond}


def table_double_descent(dd: DoubleDescent) -> dict[str, np.ndarray]:
    return {"n_features": dd.n_features, "test_mse_min_norm": dd.mse_min_norm, "test_mse_ridge": dd.mse_ridge,
            "bias2_min_norm": dd.bias2_min_norm, "variance_min_norm": dd.var_min_norm}

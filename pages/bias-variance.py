"""Bias–variance trade-off: RBF fits to noisy samples, the error split two ways, U-curves, double descent."""

from dataclasses import replace

import numpy as np
import streamlit as st

from pages._ui import cached, layout
from pages._ui import widgets as w
from regopt_core import bias_variance as bv
from regopt_core.figures import bias_variance as figs

D, DD = bv.DEFAULT, bv.DD_DEFAULT
SECTIONS = ("Lecture picture", "U-curves", "Double descent")

layout.page_header(
    "Bias–variance trade-off",
    r"\mathbb{E}\big[(\hat y(x) - y)^2\big] = "
    r"\underbrace{\big(\mathbb{E}[\hat y(x)] - f(x)\big)^2}_{\text{bias}^2}"
    r" + \underbrace{\mathbb{E}\big[(\hat y(x) - \mathbb{E}[\hat y(x)])^2\big]}_{\text{variance}}"
    r" + \underbrace{\sigma^2}_{\text{noise}},"
    r"\qquad (b, w) = \arg\min_{b,w}\ \sum_{i=1}^{n}\big(y_i - b - \textstyle\sum_j w_j\varphi_j(x_i)\big)^2 + \lambda\|w\|_2^2",
    "Imagine drawing a fresh training set many times: same inputs, new noise each time. Every draw gives "
    "a different fitted curve ŷ. **Bias** is how far the *average* of those curves sits from the truth f; "
    "**variance** is how much the curves scatter around their own average; **σ²** is the noise that no model "
    "can predict. Here the model is a sum of Gaussian bumps φⱼ (radial basis functions, RBF) of width *spread* "
    "plus an offset b, fitted by least squares with a ridge penalty λ‖w‖². **Convention:** λ multiplies ‖w‖² next "
    "to a *sum* of squared errors (as scikit-learn's `Ridge`), while the losses page puts λ next to a *mean* loss — "
    "the same λ there is n times stronger. The slide writes the last term as σ, but it is the noise *variance* σ² "
    "that adds up with the squared errors.",
    sections=SECTIONS,
)

FUNCTION_LABELS = {"dip": "Dip", "sine": "Sine", "step": "Step", "bump": "Bump"}
SPREAD_HELP = ("Distance (in units of x; the inputs lie in [0, 1]) at which each Gaussian bump falls to half its "
               "height. The lecture's pictures use 5 (wide) and 0.1 (narrow).")

with st.sidebar:
    st.subheader("Data")
    function = w.select("True function f", "f", FUNCTION_LABELS, D.function,
                        help="Dip: a wave with a sharp central dip (the lecture's red curve is of this kind). "
                             "Sine: sin 2πx (Bishop, PRML §3.2). Step: a steep smooth step. Bump: one smooth bump.")
    n_samples = w.slider("Samples per training set n", "n", 5, bv.CAPS["n_samples"][1], D.n_samples,
                         help="Training inputs on [0, 1]; the same inputs in every training set.")
    sigma = w.slider("Noise σ", "sigma", 0.0, 1.0, D.sigma, step=0.05,
                     help="Standard deviation of the Gaussian noise added to f at each input.")
    design = w.select("Inputs x", "design", {"grid": "Even", "uniform": "Random"}, D.design,
                      help="Even: equally spaced. Random: uniform draws (fixed by the seed, then kept for all sets).")
    seed = w.seed()

DATA = replace(D, function=function, n_samples=int(n_samples), sigma=float(sigma), design=design, seed=int(seed))


def _lecture_spread(value: float) -> None:
    st.session_state["spread"] = value


def _spread_slider(label: str, key: str, default: float, help: str) -> float:
    return w.log_slider(label, key, bv.SPREADS[0], bv.SPREADS[-1], default, mantissas=(1, 1.5, 2, 3, 5, 7), help=help)


CAPPED = {"n_samples": "samples n", "n_centres": "bumps p", "n_draws": "training sets K", "sigma": "noise σ"}


# ------------------------------------------------------------------------------------------------
@layout.section(1, "1 · The lecture's picture, and its error split two ways", prose=(
    "Each blue curve is the fit to one simulated training set (same inputs, fresh noise). The slider **inside** "
    "the figure switches between precomputed spreads while you drag — no waiting; the control beside the figure "
    "sets the spread the numbers below are computed for.",
    "**Exact:** for any λ ≥ 0 the fit is linear in the data, ŷ(x) = S(x)·y, with a row S(x) that does not depend "
    "on the noise. So E[ŷ(x)] = S(x)·f and Var ŷ(x) = σ²‖S(x)‖² — no simulation needed. **Monte Carlo:** simulate "
    "K training sets (all at once, as one noise matrix), fit each, and measure the spread of the fits directly; "
    "its test error is measured against fresh noisy targets, independently of the split."))
def _picture() -> None:
    controls, figure = layout.panel()
    with controls:
        spread = _spread_slider("RBF spread s", "spread", D.spread, SPREAD_HELP)
        lam = w.log_slider("Ridge strength λ", "lam", 1e-6, 100.0, D.lam, extra=(0.0,),
                           help="Penalty λ‖w‖² on the bump weights next to the *sum* of squared errors (the offset "
                                "is not penalized). λ = 0 is plain least squares (the minimum-norm solution when it "
                                "is not unique).")
        centres = w.select("Bump centres", "centres", {"inputs": "At inputs", "grid": "Grid"}, D.centres,
                           help="At inputs: one bump on every training input (p = n). Grid: p bumps evenly spaced on [0, 1].")
        n_centres = D.n_centres
        if centres == "grid":
            n_centres = w.slider("Number of bumps p", "p", 1, bv.CAPS["n_centres"][1], D.n_centres)
        n_sets = w.log_slider("Training sets K", "K", 10, bv.CAPS["n_draws"][1], D.n_draws, mantissas=(1, 2, 5),
                              help="How many independent noisy training sets the Monte Carlo simulates. "
                                   f"The figure draws the first {bv.N_SHOWN}.")
        st.button("Picture 1: spread 5 → high bias", on_click=_lecture_spread, args=(5.0,), key="go5",
                  width="stretch", icon=":material/looks_one:")
        st.button("Picture 2: spread 0.1 → high variance", on_click=_lecture_spread, args=(0.1,), key="go01",
                  width="stretch", icon=":material/looks_two:")
    requested = replace(DATA, spread=float(spread), lam=float(lam), centres=centres, n_centres=int(n_centres),
                        n_draws=int(n_sets))
    cfg = requested.clamped()
    with figure, layout.numerical_guard("Fitting the RBF models"):
        layout.capped(requested, cfg, CAPPED)
        family = cached.result(bv.fits_family, cfg.family_key(), heavy=True,
                               label=f"Fitting {bv.N_SHOWN} training sets at {len(bv.SPREADS)} spreads")
        layout.show_figure(figs.fig_fits(family, spread=cfg.spread), key="fig_fits")
        shown = float(family.spreads[figs.nearest_spread(family, cfg.spread)])
        st.caption(f"The figure opens at spread **{shown:g}**, the control's value; drag the slider under the figure "
                   f"through all {len(family.spreads)} precomputed spreads (its label names the one drawn). The numbers "
                   f"below stay those of spread {cfg.spread:g} until you move the control.")
        res = cached.result(bv.experiment, cfg, heavy=True, label=f"Simulating {cfg.n_draws} training sets")
        sm, ex, mc = res.smoother, res.exact, res.mc
        layout.metrics([
            ("Bias² (exact)", f"{ex.bias2:.4f}", "average over x of (E[ŷ(x)] − f(x))²"),
            ("Variance (exact)", f"{ex.var:.4f}", "average over x of σ²‖S(x)‖²"),
            ("Noise σ²", f"{ex.noise:.4f}", "irreducible"),
            ("Expected test MSE", f"{ex.mse:.4f}", "bias² + variance + σ², at a new input x in [0, 1]"),
            ("Effective df = tr S", f"{ex.df:.1f}", "how many parameters the fit behaves like"),
        ])
        st.markdown(bv.verdict(ex, spread=cfg.spread, lam=cfg.lam))
        if sm.ill_conditioned:
            if np.isfinite(sm.cond):
                what = (f"cond(ΦᵀΦ + λI) = {sm.cond:.1e}. Solving the normal equations directly would lose more "
                        "than half of the 16 digits a computer carries.")
            else:
                what = (f"ΦᵀΦ is singular: {sm.n_basis} bump weights but only {res.x_train.size} samples (minus one "
                        "for the offset), so infinitely many weight vectors fit equally well.")
            st.warning(
                f"**Ill-conditioned system** — {what} This page solves it stably with a singular value "
                f"decomposition (like `numpy.linalg.lstsq`), keeping {sm.rank} of {sm.n_basis} directions: among "
                "all (near-)equally good weight vectors it returns the one of smallest norm. A λ > 0 makes the "
                "system well-conditioned.",
                icon=":material/warning:",
            )
        else:
            st.caption(f"Linear system: {sm.message}; numerical rank of the centred bump matrix: {sm.rank} of "
                       f"{sm.n_basis} (singular values below ε·max(n, p) times the largest are dropped, as "
                       "`numpy.linalg.lstsq` does).")
        layout.download_csv("fitted curves", figs.table_fits(family, cfg.spread), "bias_variance_fits.csv", key="dl_fits")
        layout.show_code(bv.rbf_smoother, bv.simulate_bias_variance)

        left, right = st.columns(2)
        with left:
            layout.show_figure(figs.fig_decomposition_bars(res), key="fig_bars")
        with right:
            layout.show_figure(figs.fig_decomposition_x(res), key="fig_x")
        st.markdown(bv.agreement(res))
        if ex.var > 0:
            layout.show_figure(figs.fig_mc_convergence(res), key="fig_conv")
        layout.metrics([
            ("Optimism 2σ²·df/n", f"{ex.optimism:.4f}",
             "expected gap between test error at the training inputs and training error (ESL §7.4)"),
            (f"Simulated gap (K = {mc.n_draws})", f"{mc.optimism:.4f}",
             "average over the simulated sets of (error on fresh noise at the same x − training error)"),
            ("Training error (simulated)", f"{mc.train_err:.4f}"),
        ])
        layout.download_csv("decomposition and convergence",
                            {"term": ["bias2", "variance", "noise", "test_mse"],
                             "exact": [ex.bias2, ex.var, ex.noise, ex.mse],
                             "monte_carlo": [mc.bias2, mc.var, mc.mse - mc.bias2 - mc.var, mc.mse],
                             "K": [mc.n_draws] * 4,
                             "k_first_sets": mc.k_path, "bias2_mc_first_k": mc.bias2_path, "variance_mc_first_k": mc.var_path},
                            "bias_variance_terms.csv", key="dl_terms")
        layout.show_code(bv.decompose)


layout.what_to_notice([
    "**Spread 5** (button): every bump is wider than the whole input range, so the fit can only bend gently. "
    "The blue curves agree with each other but all miss the dip in the same way — **high bias, low variance**.",
    "**Spread 0.1**: the bumps are narrow enough to chase every noisy point. On average the curves follow f, but each "
    "one wiggles differently — **low bias, high variance**. The green band is the exact ±2 sd.",
    "The exact and the Monte-Carlo numbers differ only by sampling error, and the gap shrinks like 1/√K.",
])


# ------------------------------------------------------------------------------------------------
@layout.section(2, "2 · U-curves: too rigid, too wiggly, and in between", prose=(
    "Both curves are exact (no simulation) and pass through the same setting: the left one varies the spread at "
    "the λ chosen here, the right one varies λ at the spread chosen here. λ plays the role of a wider spread: more λ, "
    "fewer effective parameters (df), more bias, less variance. Training error keeps falling as df grows; the test "
    "error does not — the gap is 2σ²·df/n."))
def _u_curves() -> None:
    controls, figure = layout.panel()
    with controls:
        u_spread = _spread_slider("Spread of the λ curve", "u_spread", bv.U_SPREAD,
                                  "The U-curve over λ is computed at this spread (narrow bumps: small λ overfits).")
        u_lam = w.log_slider("λ of the spread curve", "u_lam", 1e-6, 100.0, bv.U_LAM, extra=(0.0,),
                             help="The U-curve over spread is computed at this λ.")
    cfg = replace(DATA, spread=float(u_spread), lam=float(u_lam)).clamped()
    with figure, layout.numerical_guard("Sweeping spread and λ"):
        by_spread = cached.result(bv.fits_family, cfg.family_key(), heavy=True,
                                  label=f"Fitting at {len(bv.SPREADS)} spreads").sweep
        by_lam = cached.result(bv.lam_sweep, cfg.lam_sweep_key())
        left, right = st.columns(2)
        with left:
            layout.show_figure(figs.fig_u_curve(by_spread, cfg.spread), key="fig_u_spread")
        with right:
            layout.show_figure(figs.fig_u_curve(by_lam, cfg.lam), key="fig_u_lam")
        st.markdown(bv.describe_sweep(by_spread, at=f"λ = {cfg.lam:g}") + " " +
                    bv.describe_sweep(by_lam, at=f"spread {cfg.spread:g}") +
                    " Grey bands mark settings whose linear system is ill-conditioned (cond > 10⁸): the SVD still "
                    "returns a fit, but only the minimum-norm one among many.")
        i_now = int(np.argmin(np.abs(np.log(by_lam.values) - np.log(cfg.lam)))) if cfg.lam > 0 else 0
        layout.show_figure(figs.fig_train_test_df(by_lam, i_now, n_samples=cfg.n_samples), key="fig_df")
        layout.download_csv("U-curve over spread", figs.table_sweep(by_spread), "u_curve_spread.csv", key="dl_us")
        layout.download_csv("U-curve over λ and df", figs.table_sweep(by_lam), "u_curve_lambda.csv", key="dl_ul")
        layout.show_code(bv.sweep_lam)


layout.what_to_notice([
    "Too wide (large spread, or large λ): bias dominates. Too narrow (small spread, tiny λ): variance dominates. "
    "The best setting balances the two — the star.",
    "Spread 0.01 is *narrower than the gaps between samples*: between the inputs the fit falls back to a constant, so "
    "bias returns even though df ≈ n.",
])


# ------------------------------------------------------------------------------------------------
@layout.section(3, "3 · Beyond the lecture: double descent", prose=(
    "Classical wisdom says: more parameters, more variance. Fit p random cosine features √2·cos(ωx + b) by least "
    "squares (sum of squares + λ‖w‖², no offset) with **λ → 0**. While p < n this is ordinary least squares. At "
    "**p = n** there is exactly one curve through all the noisy points, and it has to swing wildly to get there. "
    "For p > n there are infinitely many interpolating curves and least squares picks the one with the smallest "
    "weights — which gets *smoother* as p grows, so the test error comes down a second time. A ridge λ never "
    "forces interpolation; how large it must be for the peak to go is computed below."))
def _double_descent() -> None:
    controls, figure = layout.panel()
    with controls:
        dd_n = w.slider("Samples n (this experiment)", "dd_n", 5, bv.DD_CAPS["n_samples"][1], DD.n_samples,
                        help="The peak should sit at p = n.")
        dd_lam = w.log_slider("Ridge λ for comparison", "dd_lam", 1e-6, 1.0, DD.lam)
    cfg = replace(DD, function=function, n_samples=int(dd_n), sigma=float(sigma), lam=float(dd_lam), seed=int(seed)).clamped()
    with figure, layout.numerical_guard("Computing the double-descent curve"):
        dd = cached.result(bv.double_descent_experiment, cfg, heavy=True,
                           label="Fitting up to 10·n random features, several draws")
        layout.show_figure(figs.fig_double_descent(dd), key="fig_dd")
        st.markdown(bv.describe(dd))
        at_n = int(np.argmin(np.abs(dd.n_features - dd.n_samples)))
        layout.metrics([
            ("Peak of the min-norm curve at p", f"{dd.peak}", f"n = {dd.n_samples}"),
            ("Test MSE at p = n (λ → 0)", f"{dd.mse_min_norm[at_n]:.3g}",
             f"bias² {dd.bias2_min_norm[at_n]:.3g} + variance {dd.var_min_norm[at_n]:.3g} + σ² {dd.noise:.3g}"),
            (f"Test MSE at p = n (λ = {dd.lam:g})", f"{dd.mse_ridge[at_n]:.3g}",
             f"bias² {dd.bias2_ridge[at_n]:.3g} + variance {dd.var_ridge[at_n]:.3g} + σ² {dd.noise:.3g}"),
            ("Smallest λ without a peak", f"{dd.lam_no_peak:.2g}" if np.isfinite(dd.lam_no_peak) else "none ≤ 100",
             f"peak ratio ≤ {bv.PEAK_TOL:g} from this λ on (scanned 1e-8 … 100)"),
        ])
        st.caption(f"Exact expected test error for each p (no simulation): the median of {dd.n_repeats} random draws "
                   "of the features, with that draw's bias² and variance (they add up to the total shown); inputs "
                   "evenly spaced on [0, 1]. Peak ratio: highest error near p = n over the higher of the lowest errors "
                   "left and right of it.")
        layout.download_csv("double descent", figs.table_double_descent(dd), "double_descent.csv", key="dl_dd")
        layout.show_code(bv.double_descent)


layout.what_to_notice([
    "The minimum-norm error **peaks at p = n**, the interpolation threshold, and falls again beyond it.",
    "A small λ only lowers the peak; a large enough λ removes it: regularization, not the parameter count, "
    "controls the variance.",
])

layout.finish_page()

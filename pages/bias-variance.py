"""Bias–variance trade-off: RBF fits to noisy samples, the error split two ways, U-curves, double descent."""

import numpy as np
import streamlit as st

from pages._ui import layout
from pages._ui import widgets as w
from pages._ui.cached import bias_variance as cached
from regopt_core import bias_variance as bv
from regopt_core.figures import bias_variance as figs

layout.page_header(
    "Bias–variance trade-off",
    r"\mathbb{E}\big[(\hat y(x) - y)^2\big] = "
    r"\underbrace{\big(\mathbb{E}[\hat y(x)] - f(x)\big)^2}_{\text{bias}^2}"
    r" + \underbrace{\mathbb{E}\big[(\hat y(x) - \mathbb{E}[\hat y(x)])^2\big]}_{\text{variance}}"
    r" + \underbrace{\sigma^2}_{\text{noise}}",
    "Imagine drawing a fresh training set many times: same inputs, new noise each time. Every draw gives "
    "a different fitted curve ŷ. **Bias** is how far the *average* of those curves sits from the truth f; "
    "**variance** is how much the curves scatter around their own average; **σ²** is the noise that no model "
    "can predict. Here the model is a sum of Gaussian bumps (radial basis functions, RBF) of width *spread*, "
    "fitted by least squares with an optional ridge penalty λ‖w‖². The expectation runs over training sets; "
    "the slide writes the last term as σ, but it is the noise *variance* σ² that adds up with the squared errors.",
)

FUNCTION_LABELS = {"dip": "Dip", "sine": "Sine", "step": "Step", "bump": "Bump"}
D = cached.DEFAULTS

with st.sidebar:
    st.subheader("Data")
    function = w.select("True function f", "f", FUNCTION_LABELS, D["function"],
                        help="Dip: a wave with a sharp central dip (the lecture's red curve is of this kind). "
                             "Sine: sin 2πx (Bishop, PRML §3.2). Step: a steep smooth step. Bump: one smooth bump.")
    n_samples = w.slider("Samples per training set n", "n", 5, cached.MAX_SAMPLES, D["n_samples"],
                         help="Training inputs on [0, 1]; the same inputs in every training set.")
    sigma = w.slider("Noise σ", "sigma", 0.0, 1.0, D["sigma"], step=0.05,
                     help="Standard deviation of the Gaussian noise added to f at each input.")
    design = w.select("Inputs x", "design", {"grid": "Even", "uniform": "Random"}, D["design"],
                      help="Even: equally spaced. Random: uniform draws (fixed by the seed, then kept for all sets).")
    seed = w.seed()


def _lecture_spread(value: float) -> None:
    st.session_state["spread"] = value


# ------------------------------------------------------------------------------------------------
st.header("1 · The lecture's picture")


@st.fragment
def main_panel() -> None:
    c1, c2, c3 = st.columns(3)
    with c1:
        spread = w.log_slider("RBF spread s", "spread", 0.01, 10.0, D["spread"],
                              mantissas=(1, 1.5, 2, 3, 5, 7),
                              help="Distance (in units of x; the inputs lie in [0, 1]) at which each Gaussian bump "
                                   "falls to half its height. The lecture's pictures use 5 (wide) and 0.1 (narrow).")
    with c2:
        lam = w.log_slider("Ridge strength λ", "lam", 1e-6, 100.0, D["lam"], extra=(0.0,),
                           help="Penalty λ‖w‖² on the bump weights (the constant offset is not penalized). "
                                "λ = 0 is plain least squares (the minimum-norm solution when it is not unique).")
        n_sets = w.log_slider("Training sets K", "K", 10, cached.MAX_SETS, cached.DEFAULT_SETS, mantissas=(1, 2, 5),
                              help="How many independent noisy training sets are simulated for the Monte-Carlo estimate. "
                                   f"At most {cached.N_SHOWN} fitted curves are drawn.")
    with c3:
        centres = w.select("Bump centres", "centres", {"inputs": "At inputs", "grid": "Grid"}, D["centres"],
                           help="At inputs: one bump on every training input (p = n). Grid: p bumps evenly spaced on [0, 1].")
        n_centres = D["n_centres"]
        if centres == "grid":
            n_centres = w.slider("Number of bumps p", "p", 1, cached.MAX_CENTRES, D["n_centres"])
    b1, b2 = st.columns(2)
    b1.button("Lecture picture 1: spread 5 → high bias", on_click=_lecture_spread, args=(5.0,), key="go5",
              width="stretch", icon=":material/looks_one:")
    b2.button("Lecture picture 2: spread 0.1 → high variance", on_click=_lecture_spread, args=(0.1,), key="go01",
              width="stretch", icon=":material/looks_two:")
    args = (function, n_samples, sigma, spread, lam, centres, n_centres, design)
    with layout.numerical_guard("Fitting the RBF models"):
        res = cached.experiment(*args, int(n_sets), seed)
        sm, ex, mc = res.smoother, res.exact, res.mc
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
                       f"{sm.n_basis} (singular values below ε·max(n, p) times the largest are dropped, as `numpy.linalg.lstsq` does).")
        verdict = "bias dominates" if ex.bias2 > ex.var else "variance dominates"
        layout.metrics([
            ("Bias² (exact)", f"{ex.bias2:.4f}", "average over x of (E[ŷ(x)] − f(x))²"),
            ("Variance (exact)", f"{ex.var:.4f}", "average over x of σ²‖S(x)‖²"),
            ("Noise σ²", f"{ex.noise:.4f}", "irreducible"),
            ("Expected test MSE", f"{ex.mse:.4f}", "bias² + variance + σ², at a new input x in [0, 1]"),
            ("Effective df = tr S", f"{ex.df:.1f}", "how many parameters the fit behaves like"),
        ])
        st.markdown(f"At spread **{spread:g}** and λ = **{lam:g}**: **{verdict}** "
                    f"(bias² / variance = {ex.bias2 / max(ex.var, 1e-300):.2g}).")
        layout.show_figure(figs.fig_fits(res, spread=spread, lam=lam), key="fig_fits")
        layout.download_csv("fitted curves", figs.table_fits(res), "bias_variance_fits.csv", key="dl_fits")
        layout.show_code(bv.rbf_smoother, bv.simulate_bias_variance)

        st.header("2 · The decomposition, computed two ways")
        st.markdown(
            "**Exact:** for any λ ≥ 0 the fit is linear in the data, ŷ(x) = S(x)·y, with a row S(x) that does not "
            "depend on the noise. So E[ŷ(x)] = S(x)·f and Var ŷ(x) = σ²‖S(x)‖² — no simulation needed. "
            f"**Monte Carlo:** simulate K = {mc.n_draws} training sets (all at once, as one noise matrix), fit each, "
            "and measure the spread of the fits directly."
        )
        left, right = st.columns(2)
        with left:
            layout.show_figure(figs.fig_decomposition_bars(res), key="fig_bars")
        with right:
            layout.show_figure(figs.fig_decomposition_x(res), key="fig_x")
        rel_v = abs(mc.var - ex.var) / ex.var if ex.var > 0 else 0.0
        agree = (f"The Monte-Carlo variance {mc.var:.4f} is **{100 * rel_v:.1f} %** away from the exact {ex.var:.4f}"
                 if ex.var > 0 else "With σ = 0 every training set is the same: variance is exactly 0")
        st.markdown(
            f"{agree}; bias² {mc.bias2:.4f} vs {ex.bias2:.4f}; the simulated test MSE minus (bias² + variance) is "
            f"{mc.mse - mc.bias2 - mc.var:.4f} against σ² = {ex.noise:.4f}. A variance estimated from K samples is off "
            f"by about √(2/(K−1)) ≈ {100 * np.sqrt(2 / (mc.n_draws - 1)):.0f} % at each x; raise K and the two columns meet."
        )
        if ex.var > 0:
            layout.show_figure(figs.fig_mc_convergence(res), key="fig_conv")
        layout.download_csv("decomposition and convergence",
                            {"term": ["bias2", "variance", "noise", "test_mse"],
                             "exact": [ex.bias2, ex.var, ex.noise, ex.mse],
                             "monte_carlo": [mc.bias2, mc.var, mc.mse - mc.bias2 - mc.var, mc.mse],
                             "K": [mc.n_draws] * 4,
                             "k_first_sets": mc.k_path, "bias2_mc_first_k": mc.bias2_path, "variance_mc_first_k": mc.var_path},
                            "bias_variance_terms.csv", key="dl_terms")
        layout.show_code(bv.decompose)

        st.header("3 · U-curves: too rigid, too wiggly, and in between")
        by_spread, by_lam = cached.sweeps(*args, seed)
        left, right = st.columns(2)
        with left:
            layout.show_figure(figs.fig_u_curve(by_spread, spread), key="fig_u_spread")
        with right:
            layout.show_figure(figs.fig_u_curve(by_lam, lam), key="fig_u_lam")
        best_s, best_l = by_spread.values[by_spread.best], by_lam.values[by_lam.best]
        st.markdown(
            f"Lowest expected test error over spread (at λ = {lam:g}): **{by_spread.mse[by_spread.best]:.4f}** at spread "
            f"≈ {best_s:.3g}; over λ (at spread {spread:g}): **{by_lam.mse[by_lam.best]:.4f}** at λ ≈ {best_l:.2g}. "
            f"Now: {ex.mse:.4f}. Grey bands mark settings whose linear system is ill-conditioned "
            "(cond > 10⁸): the SVD still returns a fit, but only the minimum-norm one among many."
        )
        i_now = int(np.argmin(np.abs(np.log(by_lam.values) - np.log(lam)))) if lam > 0 else 0
        layout.show_figure(figs.fig_train_test_df(by_lam, i_now, n_samples=res.x_train.size), key="fig_df")
        layout.metrics([
            ("df = tr S", f"{ex.df:.2f}"),
            ("Optimism 2σ²·df/n", f"{ex.optimism:.4f}", "expected gap between test error at the training inputs and training error (ESL §7.4)"),
            (f"Simulated gap (K = {mc.n_draws})", f"{mc.optimism:.4f}", "average over the simulated sets of (error on fresh noise − training error)"),
            ("Training error (simulated)", f"{mc.train_err:.4f}"),
        ])
        layout.download_csv("U-curve over spread", figs.table_sweep(by_spread), "u_curve_spread.csv", key="dl_us")
        layout.download_csv("U-curve over λ and df", figs.table_sweep(by_lam), "u_curve_lambda.csv", key="dl_ul")
        layout.show_code(bv.sweep_lam)


main_panel()
layout.what_to_notice([
    "**Spread 5** (button above): every bump is wider than the whole input range, so the fit can only bend gently. "
    "The blue curves agree with each other but all miss the dip in the same way — **high bias, low variance**.",
    "**Spread 0.1**: the bumps are narrow enough to chase every noisy point. On average the curves follow f, but each "
    "one wiggles differently — **low bias, high variance**. The green band in the picture is the exact ±2 sd.",
    "The exact and the Monte-Carlo numbers differ only by sampling error, and the gap shrinks like 1/√K.",
    "λ plays the same role as a wider spread: more λ, fewer effective parameters (df), more bias, less variance. "
    "Training error keeps falling as df grows; the test error does not — the gap is 2σ²·df/n.",
    "Spread 0.01 is *narrower than the gaps between samples*: between the inputs the fit falls back to a constant, so "
    "bias returns even though df ≈ n.",
])

# ------------------------------------------------------------------------------------------------
st.header("4 · Beyond the lecture: double descent")
st.markdown(
    "Classical wisdom says: more parameters, more variance. Fit p random cosine features "
    "√2·cos(ωx + b) by least squares with **λ → 0**. While p < n this is ordinary least squares. At **p = n** "
    "there is exactly one curve through all the noisy points, and it has to swing wildly to get there. "
    "For p > n there are infinitely many interpolating curves and least squares picks the one with the smallest "
    "weights — which gets *smoother* as p grows, so the test error comes down a second time. A small ridge λ "
    "never forces interpolation and removes the peak."
)


@st.fragment
def double_descent_panel() -> None:
    c1, c2 = st.columns(2)
    with c1:
        dd_n = w.slider("Samples n (this experiment)", "dd_n", 5, 60, 20, help="The peak should sit at p = n.")
    with c2:
        dd_lam = w.log_slider("Small ridge λ for comparison", "dd_lam", 1e-6, 1.0, 1e-3)
    with layout.numerical_guard("Computing the double-descent curve"):
        with st.spinner("Fitting up to 10·n random features, several draws…"):
            dd = cached.double_descent(function, dd_n, sigma, dd_lam, seed)
        at_n = int(np.argmin(np.abs(dd.n_features - dd.n_samples)))
        layout.metrics([
            ("Peak of the min-norm curve at p", f"{dd.peak}", f"n = {dd.n_samples}"),
            ("Test MSE at p = n (λ → 0)", f"{dd.mse_min_norm[at_n]:.3g}"),
            (f"Test MSE at p = n (λ = {dd.lam:g})", f"{dd.mse_ridge[at_n]:.3g}"),
            (f"Test MSE at p = {dd.n_features[-1]} (λ → 0)", f"{dd.mse_min_norm[-1]:.3g}"),
        ])
        layout.show_figure(figs.fig_double_descent(dd), key="fig_dd")
        st.caption(f"Exact expected test error for each p (no simulation), geometric mean over {dd.n_repeats} random "
                   "draws of the features; inputs evenly spaced on [0, 1].")
        layout.download_csv("double descent", figs.table_double_descent(dd), "double_descent.csv", key="dl_dd")
        layout.show_code(bv.double_descent)


double_descent_panel()
layout.what_to_notice([
    "The minimum-norm error **peaks at p = n**, the interpolation threshold, and falls again beyond it.",
    "With a small λ the curve has no peak: regularization, not the parameter count, controls the variance.",
])

layout.finish_page()

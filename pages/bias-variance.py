"""Bias–variance trade-off: RBF fits to noisy samples, the error split two ways, U-curves, double descent."""

from dataclasses import replace

import numpy as np
import streamlit as st

from pages._ui import cached, figures, gate, layout
from pages._ui import widgets as w
from regopt_core import bias_variance as bv
from regopt_core.figures import bias_variance as bias_variance_figures

figs = figures.builders(bias_variance_figures)  # memoized: a rerun that changes nothing a figure uses reuses it

D, DD = bv.DEFAULT, bv.DD_DEFAULT
SOURCES = {"sim": "Simulated (known truth)", "own": "Your points"}
SIM_SECTIONS = ("Lecture picture", "U-curves", "Double descent")
OWN_SECTIONS = ("Your points: fit and bootstrap", "Cross-validation")
# the section names of the presentation picker are set in the header, before the data-source control exists
_OWN_ASKED = st.session_state.get("source", st.query_params.get("source")) == SOURCES["own"]
SECTIONS = OWN_SECTIONS if _OWN_ASKED else SIM_SECTIONS

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
RUN = gate.page("bias-variance")  # this whole-page run starts (a section's own move reruns only its fragment)

FUNCTION_LABELS = {"dip": "Dip", "sine": "Sine", "step": "Step", "bump": "Bump"}
SPREAD_HELP = ("Distance (in units of x; the inputs lie in [0, 1]) at which each Gaussian bump falls to half its "
               "height. The lecture's pictures use 5 (wide) and 0.1 (narrow).")

with st.sidebar:
    st.subheader("Data")
    source = w.select("Data source", "source", SOURCES, "sim",
                      help="Simulated: a known true curve f and as many training sets as you like, so bias² and "
                           "variance can be computed exactly. Your points: paste or upload your own (x, y) pairs; "
                           "without a known truth the page shows what can still be measured.")
    if source == "sim":
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



def _lecture_spread(value: float) -> None:
    st.session_state["spread"] = value


def _spread_slider(label: str, key: str, default: float, help: str) -> float:
    return w.log_slider(label, key, bv.SPREADS[0], bv.SPREADS[-1], default, mantissas=(1, 1.5, 2, 3, 5, 7), help=help)


CAPPED = {"n_samples": "samples n", "n_centres": "bumps p", "n_draws": "training sets K", "sigma": "noise σ"}


# ------------------------------------------------------------------------------------------------ your points
OWN_KEYS = ("own_text", "own_csv")  # not in the URL: data stay in this session (and in no link, file or store)
OWN_PLACEHOLDER = "x,y\n0.0,0.12\n0.1,0.71\n0.2,0.95\n0.3,0.64\n0.4,0.02\n..."


def _load_example() -> None:
    st.session_state["own_text"] = bv.own_data.example_csv()


def _use_cv_minimum(spread: float, lam: float) -> None:
    st.session_state["own_s"], st.session_state["own_lam"] = spread, lam


def _own_input():
    """The pasted text or the uploaded file (the file wins) as ``(bytes, name)``; ``None`` when both are empty."""
    paste, upload = st.columns(2, gap="medium")
    with paste:
        text = st.text_area("Paste x, y pairs, one point per line", key="own_text", height=210,
                            max_chars=200_000, placeholder=OWN_PLACEHOLDER,
                            help=f"Two columns of numbers, x then y, separated by commas, semicolons, tabs or "
                                 f"spaces; a header line is optional; at most {bv.own_data.MAX_POINTS:,} points. "
                                 "Press Ctrl+Enter (or click outside) to use them.")
        st.button("Load an example: BMI vs diabetes progression (442 patients)", on_click=_load_example,
                  key="own_example", icon=":material/dataset:")
    with upload:
        file = st.file_uploader("…or upload a CSV file (two columns, up to 1 MB)", type=["csv", "txt", "tsv"],
                                key="own_csv", max_upload_size=1,
                                help="Read in memory only: never written to disk, never shown to anyone else. "
                                     "A file here is used instead of the pasted text.")
        st.caption("Your points stay in your browser session: they are not put in the link, not saved on the "
                   "server and not shown to other students.")
    if file is not None:
        return file.getvalue(), file.name
    if text and text.strip():
        return text.encode("utf-8"), "pasted points"
    return None


def _your_points(seed: int) -> None:
    st.header("Your points: what can be measured without the truth")
    st.markdown(
        "**Without a known truth, the exact bias²/variance split is impossible.** Bias² compares the average fit "
        "E[ŷ(x)] with the true curve f(x) — and f is exactly what your data do not tell you; the average over "
        "training sets needs more training sets than the one you have. What your points *do* allow:\n"
        "1. **the fit** itself, with the same model as the simulated mode (Gaussian bumps plus an offset, sum of "
        "squared errors + λ‖w‖²);\n"
        "2. its **variance**, estimated by the **bootstrap**: refit on B resamples of your points (drawn with "
        "replacement) and measure how much the curve moves;\n"
        "3. the **total** error on new points, estimated by **K-fold cross-validation**: bias² + variance + σ² "
        "together, not its parts — over a grid of spread and λ, with the minimum marked.")
    got = _own_input()
    s_col, l_col, b_col, k_col, go_col = st.columns((3, 3, 2, 2, 3), vertical_alignment="bottom")
    with s_col:
        spread = _spread_slider("RBF spread (fraction of the x range)", "own_s", 0.1,
                                "Distance, as a fraction of your x range, at which each bump falls to half its height.")
    with l_col:
        lam = w.log_slider("Ridge strength λ", "own_lam", bv.OWN_LAMS[0], bv.OWN_LAMS[-1], 1e-3,
                           help="Penalty λ‖w‖² next to the *sum* of squared errors (the offset is not penalized).")
    with b_col:
        n_boot = w.log_slider("Bootstrap resamples B", "B", 20, 500, 200, mantissas=(1, 2, 5),
                              help="How many resamples of your points are refitted for the variance band.")
    with k_col:
        n_folds = w.slider("CV folds K", "folds", 2, 10, 5, help="Your points are dealt at random (by the seed) "
                           "into K folds; each fold is predicted by the fit to the others.")
    if got is None:
        st.info("Paste points or upload a CSV file above (or load the example) to begin.", icon=":material/upload:")
        return
    raw, name = got
    try:
        pts = bv.parse_points(raw)
    except bv.PointsError as exc:
        st.error(f"**Your points could not be read.** {exc}", icon=":material/error:")
        return
    rng_x = pts.x_max - pts.x_min
    st.caption(f"Read {pts.description} (from {bv.own_data.md_escape(name)}). **x is rescaled to [0, 1]** "
               f"({pts.x_min:.4g} → 0, {pts.x_max:.4g} → 1), so a spread is a fraction of your x range: spread 0.1 "
               f"is {0.1 * rng_x:.3g} in your units. p = {bv.own_data.centres_for(pts.n).size} bumps evenly spaced "
               "over the range (at most 50), the same for every fold and resample.")
    requested = bv.OwnData(bv.points_ref(raw, name), spread=float(spread), lam=float(lam), n_boot=int(n_boot),
                           n_folds=int(n_folds), seed=seed)
    cfg = requested.clamped()
    layout.capped(requested, cfg, {"n_boot": "resamples B", "n_folds": "folds K"})
    cv = None
    with layout.numerical_guard("Cross-validating your points"):
        cv = cached.result(bv.own_cv, cfg.cv_key(), heavy=True,
                           label=f"{cfg.n_folds}-fold CV at {len(bv.SPREADS)} spreads × {len(bv.OWN_LAMS)} λ")
    if cv is None:
        return
    with go_col:
        st.button("Use the CV minimum", on_click=_use_cv_minimum, args=(cv.best_spread, cv.best_lam),
                  key="own_best", icon=":material/star:", width="stretch",
                  help=f"Set spread {cv.best_spread:g} and λ = {cv.best_lam:g}, where the CV error is lowest.")

    @layout.section(1, "1 · The fit and its bootstrap variance", prose=(
        "The black curve is the fit to all your points; each thin blue curve is the fit to one bootstrap resample "
        "(your n points drawn n times with replacement). The green band is the fit ± 2 standard deviations of the "
        "resampled fits: the bootstrap's estimate of the variance term. It says nothing about bias: a curve that "
        "misses the trend in the same way on every resample has a narrow band."))
    def _own_fit_section() -> None:
        with layout.numerical_guard("Fitting your points"):
            fit = cached.result(bv.own_fit, cfg, heavy=True, label=f"Refitting {cfg.n_boot} bootstrap resamples")
            layout.show_figure(figs.fig_own_fit(fit), key="fig_own_fit")
            here = cv.index(cfg.spread, cfg.lam)
            layout.metrics([
                ("Points n", f"{pts.n:,}", f"{cfg.n_folds} folds of {min(cv.fold_sizes)}–{max(cv.fold_sizes)} points"),
                ("Effective df = tr S", f"{fit.df:.1f}", "how many parameters the fit behaves like"),
                ("Training error", f"{fit.train_mse:.4g}", "mean of (y − ŷ)² over your points"),
                ("Bootstrap variance", f"{fit.boot_var:.4g}", "variance of the resampled fits, averaged over your x"),
                ("CV error", f"{cv.mse[here]:.4g}", f"{cv.n_folds}-fold, at this spread and λ"),
            ])
            st.markdown(bv.own_data.describe_bootstrap(fit))
            st.markdown(bv.own_data.describe_gap(fit, cv))
            if fit.ill_conditioned:
                st.caption(f"The linear system is ill-conditioned here (cond(ΦᵀΦ + λI) = {fit.cond:.1e}): it is solved "
                           "stably by a singular value decomposition; a larger λ or a narrower spread makes it "
                           "well-conditioned.")
            layout.download_csv("fit and bootstrap band", figs.table_own_fit(fit), "your_points_fit.csv", key="dl_own_fit")
            layout.show_code(bv.own_data.own_fit, bv.own_data.bootstrap_fits, bv.own_data.ridge_predict)

    @layout.section(2, "2 · Cross-validation over spread and λ", prose=(
        "Each fold of your points is predicted by the fit to the other folds; the CV error is the average squared "
        "error of those predictions (ESL eq. 7.48). It estimates the whole error on new points — bias² + variance "
        "+ noise — so its minimum is the best trade-off CV can find, without telling how the error splits. The band "
        "on the curves is ± 1 standard error across folds: settings inside it are not reliably worse."))
    def _own_cv_section() -> None:
        layout.show_figure(figs.fig_cv_surface(cv, spread=cfg.spread, lam=cfg.lam), key="fig_cv_surface")
        st.markdown(bv.own_data.describe_cv(cv, spread=cfg.spread, lam=cfg.lam))
        left, right = st.columns(2)
        with left:
            layout.show_figure(figs.fig_cv_curve(cv, "spread", spread=cfg.spread, lam=cfg.lam), key="fig_cv_spread")
        with right:
            layout.show_figure(figs.fig_cv_curve(cv, "lam", spread=cfg.spread, lam=cfg.lam), key="fig_cv_lam")
        layout.download_csv("CV errors over spread and λ", figs.table_cv(cv), "your_points_cv.csv", key="dl_own_cv")
        layout.show_code(bv.own_data.cv_errors, bv.own_data.own_cv)
        layout.what_to_notice([
            "Move the spread down or λ toward 0: the training error keeps falling, the bootstrap band widens, and "
            "past some point the CV error rises again — the variance side of the trade-off, seen without knowing "
            "the truth.",
            "A wide spread or a large λ gives a narrow band but a CV error that climbs: a rigid fit misses the trend "
            "the same way on every resample, and only held-out points reveal it.",
        ])


if source == "own":
    _your_points(int(seed))
    layout.finish_page()
    RUN.close()
    st.stop()

DATA = replace(D, function=function, n_samples=int(n_samples), sigma=float(sigma), design=design, seed=int(seed))


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
        family = cached.result(bv.fits_family, cfg.family_key(), heavy=not cfg.family_is_light(),
                               label=f"Fitting {bv.N_SHOWN} training sets at {len(bv.SPREADS)} spreads")
        layout.show_figure(figs.fig_fits(family, spread=cfg.spread), key="fig_fits")
        shown = float(family.spreads[figs.nearest_spread(family, cfg.spread)])
        st.caption(f"The figure opens at spread **{shown:g}**, the control's value; drag the slider under the figure "
                   f"through all {len(family.spreads)} precomputed spreads (its label names the one drawn). The numbers "
                   f"below stay those of spread {cfg.spread:g} until you move the control.")
        res = cached.result(bv.experiment, cfg, heavy=not cfg.experiment_is_light(),
                            label=f"Simulating {cfg.n_draws} training sets")
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
        by_spread = cached.result(bv.fits_family, cfg.family_key(), heavy=not cfg.family_is_light(),
                                  label=f"Fitting at {len(bv.SPREADS)} spreads").sweep
        by_lam = cached.result(bv.lam_sweep, cfg.lam_sweep_key())
        # side by side on a screen; one under the other when presenting, so the first is the figure's full width
        left, right = (st.container(), st.container()) if layout.presenting() else st.columns(2)
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
        # the fits do not depend on σ (cached without it); σ only rescales their variance, here. Above
        # n = DD_LIGHT_N they cost more than a move may take (issue 12): computed when asked for
        if not gate.ready([(bv.dd_core, cfg.core_key())], page=RUN, scope="section", key="compute_dd",
                          live=cfg.core_is_light() or layout.presenting(), button="Compute the double-descent curve",
                          message=f"**Double descent at n = {cfg.n_samples}** is not computed yet for these settings: "
                                  f"{cfg.n_repeats} draws of up to {10 * cfg.n_samples} random features, "
                                  f"one least-squares fit per feature count — above n = {bv.DD_LIGHT_N} more work "
                                  "than a move of a control may take while the class is using the app. Press the "
                                  "button to compute it (well under a second)."):
            return
        core = cached.result(bv.dd_core, cfg.core_key(), heavy=True,
                             label="Fitting up to 10·n random features, several draws")
        dd = bv.double_descent_at(core, cfg.sigma)
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
RUN.close()  # the next run is not the page's first; a section's Compute request has been used

"""Loss landscapes & optimizers: following the slope, step sizes and divergence, gradient checking,
and why random search is hopeless in high dimension."""

import numpy as np
import streamlit as st

from pages._ui import layout
from pages._ui import widgets as w
from pages._ui.cached import landscapes as cached
from pages._ui.cached import thaw
from regopt_core import gradients, landscapes, optimizers
from regopt_core.figures import landscapes as figs

layout.page_header(
    "Loss landscapes & optimizers",
    r"x_{k+1} = x_k - \eta\,\nabla L(x_k) \qquad\text{(gradient descent: follow the slope downhill)}",
    "Minimising a loss means finding the lowest point of a landscape we can only probe locally. "
    "Here several optimizers start from the same point and race downhill; the step size η decides "
    "whether they crawl, zig-zag, converge — or blow up. Below: how to check a gradient, and why "
    "guessing at random stops working once the landscape has many dimensions.",
)

SURFACES = {"quadratic": "Quadratic", "rosenbrock": "Rosenbrock", "himmelblau": "Himmelblau", "beale": "Beale",
            "saddle": "Saddle", "camel": "Camel", "logistic": "Logistic"}
SURFACE_HELP = ("Quadratic: an elliptic bowl with condition number κ. Rosenbrock: a curved valley. Himmelblau: four "
                "minima. Beale: plateaus and steep walls. Saddle: a saddle point between two valleys. Camel: six "
                "local minima. Logistic: the training loss of a real 2-weight logistic regression, with L2/L1 λ.")
OPT_SHORT = {"gd": "GD", "momentum": "Momentum", "nesterov": "Nesterov", "adagrad": "AdaGrad", "rmsprop": "RMSProp",
             "adam": "Adam"}
LR_LO, LR_HI = 1e-5, 10.0
CLICK_KEY = "race_click"
APPLIED_KEY = "_landscapes_click_applied"
PREV_SURFACE_KEY = "_landscapes_prev_surface"

with st.sidebar:
    seed = w.seed(help="Draws the logistic-regression data set and the random-search samples.")


def _apply_click() -> None:
    """A click on the contour (the invisible start-picker grid) becomes the new start point.

    Runs before the start-point inputs exist in this run, so it may set their values."""
    event = st.session_state.get(CLICK_KEY)
    points = []
    try:
        points = list(event["selection"]["points"]) if event else []
    except (KeyError, TypeError):
        points = []
    # any clicked point counts (the invisible start-picker grid covers the whole window)
    picked = [p for p in points if isinstance(p.get("x"), (int, float)) and isinstance(p.get("y"), (int, float))]
    if not picked:
        return
    xy = (round(float(picked[-1]["x"]), 3), round(float(picked[-1]["y"]), 3))
    if st.session_state.get(APPLIED_KEY) != xy:
        st.session_state[APPLIED_KEY] = xy
        st.session_state["sx"], st.session_state["sy"] = xy


def _sync_steps_to_surface(surface_key: str) -> None:
    """When the surface changes, load step sizes that make sense on it.

    On a first visit nothing is needed: each step-size slider's default already is the suggestion for
    the surface in the link, and a value in the link wins over it."""
    prev = st.session_state.get(PREV_SURFACE_KEY)
    suggested = landscapes.SUGGESTED_STEPS[surface_key]
    if prev is not None and prev != surface_key:
        for name, lr in suggested.items():
            st.session_state[f"lr_{name}"] = lr
        st.session_state["sx"], st.session_state["sy"] = None, None
    st.session_state[PREV_SURFACE_KEY] = surface_key


def _race_csv(race: landscapes.Race) -> dict:
    cols = {"optimizer": [], "learning_rate": [], "step": [], "x": [], "y": [], "f": [], "distance_to_minimizer": []}
    for r in race.racers:
        n = r.trace.nit + 1
        cols["optimizer"] += [r.name] * n
        cols["learning_rate"] += [r.learning_rate] * n
        cols["step"] += list(range(n))
        cols["x"] += r.trace.xs[:, 0].tolist()
        cols["y"] += r.trace.xs[:, 1].tolist()
        cols["f"] += r.trace.fs.tolist()
        cols["distance_to_minimizer"] += r.distance.tolist()
    return cols


# ------------------------------------------------------------------------------------------------
st.header("1 · Optimizers racing downhill")


@st.fragment
def race_panel() -> None:
    _apply_click()
    c1, c2, c3 = st.columns([1.1, 1.3, 1])
    with c1:
        skey = w.select("Landscape", "surface", SURFACES, "quadratic", help=SURFACE_HELP)
        kappa, theta, lam, pen = 10.0, 30.0, 0.05, "l2"
        if skey == "quadratic":
            kappa = w.log_slider("Condition number κ", "kappa", 1.0, 1e6, 10.0,
                                 help="Ratio of the steepest to the flattest curvature. κ = 1: a round bowl.")
            theta = float(w.slider("Rotation θ (degrees)", "theta", 0, 90, 30, step=5,
                                   help="Rotates the bowl; adaptive methods scale each coordinate separately and care."))
        elif skey == "logistic":
            pen = w.select("Penalty R(w)", "pen", {"l2": "L2", "l1": "L1"}, "l2", horizontal_radio=True,
                           help="L2: λ‖w‖² (adds curvature 2λ everywhere). L1: λ‖w‖₁ (a kink on the axes).")
            lam = w.log_slider("Regularization λ", "lam", 1e-3, 1.0, 0.05, extra=(0.0,),
                               help="Strength of the penalty λR(w) added to the mean logistic loss.")
    _sync_steps_to_surface(skey)
    with c2:
        names = w.multiselect("Optimizers in the race", "opts", list(OPT_SHORT), ["gd", "momentum", "adam"],
                              format_func=OPT_SHORT.__getitem__,
                              help="GD: gradient descent. Momentum: Polyak's heavy ball. Nesterov: accelerated "
                              "gradient. AdaGrad, RMSProp, Adam: per-coordinate adaptive steps. Each gets its own "
                              "step size below.")
        n_steps = int(w.log_slider("Steps", "steps", 10, landscapes.MAX_STEPS, 300, mantissas=(1, 2, 3, 5)))
        beta = w.slider("β (momentum; RMSProp/Adam averaging)", "beta", 0.0, 0.99, 0.9, step=0.01,
                        help="Heavy ball / Nesterov: momentum β. RMSProp: decay ρ. Adam: β₁.")
    s = cached.surface(skey, kappa, theta, lam, pen, seed)
    with c3:
        st.markdown("**Start point** — or click the contour plot")
        sx = w.number("start x", "sx", -50.0, 50.0, None, step=0.1, help="Empty: the landscape's default start.")
        sy = w.number("start y", "sy", -50.0, 50.0, None, step=0.1, help="Empty: the landscape's default start.")
    if not names:
        st.warning("Pick at least one optimizer to start a race.")
        return
    (x_lo, x_hi), (y_lo, y_hi) = s.bounds
    start = (s.start[0] if sx is None else sx, s.start[1] if sy is None else sy)
    if not (x_lo <= start[0] <= x_hi and y_lo <= start[1] <= y_hi):
        st.caption(f"The start ({start[0]:g}, {start[1]:g}) lies outside the plotted window; the race still runs "
                   "from there.")
    curv, kind = landscapes.reference_curvature(s)
    symbol = "L" if kind == "global" else "λ*"
    st.markdown("**Step size η of each optimizer** (log scale; the ruler below marks where each method "
                "stops being stable)")
    cols = st.columns(min(len(names), 3))
    lrs = {}
    for i, name in enumerate(names):
        with cols[i % len(cols)]:
            thr = landscapes.stability_threshold(name, curv, beta=beta)
            hint = f" Stable below {landscapes.threshold_formula(name).replace('L', symbol)} = {thr:.3g}." if thr else ""
            lrs[name] = w.log_slider(f"η for {landscapes.OPTIMIZER_LABELS[name]}", f"lr_{name}", LR_LO, LR_HI,
                                     landscapes.SUGGESTED_STEPS[skey][name], help="Step size (learning rate)." + hint)
    entries = tuple((n, float(lrs[n]), float(beta)) for n in names)
    with layout.numerical_guard("Running the race"):
        args = (skey, kappa, theta, lam, pen, seed, sx, sy, entries, n_steps)
        race = cached.race(*args)
        _show_race(s, race, args, curv, kind, symbol, names, lrs, beta, skey, pen, seed)


def _show_race(s, race, args, curv, kind, symbol, names, lrs, beta, skey, pen, seed) -> None:
    ruler = []
    for i, name in enumerate(names):
        thr = landscapes.stability_threshold(name, curv, beta=beta)
        formula = landscapes.threshold_formula(name)
        ruler.append((landscapes.OPTIMIZER_LABELS[name], figs.racer_color(i), float(lrs[name]), thr,
                      formula.replace("L", symbol) if formula else None))
    layout.show_figure(thaw(cached.ruler_figure(tuple(ruler), LR_LO, LR_HI, curv if kind == "global" else None)),
                       key="ruler")
    if kind == "global":
        st.caption(f"{symbol} = {curv:.4g} is the largest curvature of this landscape anywhere (largest Hessian "
                   "eigenvalue). Heavy ball here means v ← βv − η∇f, x ← x + v; its limit is 2(1+β)/L. AdaGrad, "
                   "RMSProp and Adam rescale their steps as they go, so no fixed limit exists for them.")
    else:
        st.caption(f"This landscape's curvature changes from place to place; {symbol} = {curv:.4g} is the largest "
                   "curvature at its global minimum, so the limits shown decide whether a method can settle "
                   "there (far from it, steeper walls may need smaller steps).")
    m = [(symbol + (" (largest curvature)" if kind == "global" else " (curvature at the minimum)"), f"{curv:.4g}"),
         ("GD limit 2/" + symbol, f"{2.0 / curv:.4g}"),
         ("Heavy-ball limit 2(1+β)/" + symbol, f"{2.0 * (1 + beta) / curv:.4g}")]
    if skey == "quadratic":
        m.append(("Condition number κ", f"{s.lipschitz / s.mu:.4g}",
                  "Best GD contraction per step (κ−1)/(κ+1) at η = 2/(μ+L)"))
    if skey == "logistic":
        w0 = cached.surface("logistic", 10.0, 30.0, 0.0, pen, seed)
        w_star, w_unreg = s.minimizers[0], w0.minimizers[0]
        m.append(("Minimizer w*(λ)", f"{w_star[0]:.2f}, {w_star[1]:.2f}",
                  f"Without regularization (λ = 0): w* = ({w_unreg[0]:.3f}, {w_unreg[1]:.3f}), shown as a grey diamond."))
    layout.metrics(m)
    for i, r in enumerate(race.racers):
        if r.trace.diverged:
            st.warning(f"**{figs.racer_name(r)}** — {r.verdict}", icon=":material/trending_up:")
    race_figs = cached.race_figures(*args)
    layout.show_figure(thaw(race_figs["contour"]), key=CLICK_KEY, on_select="rerun", selection_mode=("points",))
    st.caption("▶ Play animates the race in your browser; the slider under the plot steps through it. "
               "Click anywhere on the contour plot to start the race from there.")
    table = {
        "optimizer": [figs.racer_name(r) for r in race.racers],
        "outcome": [f"diverged at step {r.trace.diverged_at}" if r.trace.diverged else f"{r.trace.nit} steps"
                    for r in race.racers],
        "final f − f*": [f"{r.trace.fun - s.f_min:.3g}" for r in race.racers],
        "distance to nearest minimum": [f"{r.distance[-1]:.3g}" for r in race.racers],
        "steps to f − f* < 1e-6": [_steps_to(r.trace.fs - s.f_min, 1e-6) for r in race.racers],
    }
    st.dataframe(table, hide_index=True, width="stretch")
    layout.show_figure(thaw(race_figs["convergence"]), key="convergence")
    if w.toggle("Show the 3-D surface", "view3d", False, help="One WebGL view: drag to rotate."):
        layout.show_figure(thaw(cached.surface3d_figure(*args)), key="surface3d")
    layout.download_csv("optimizer paths", _race_csv(race), "optimizer_paths.csv", key="dl_race")
    layout.show_code(optimizers.gd, optimizers.momentum, optimizers.adam, optimizers.run)


def _steps_to(gap: np.ndarray, tol: float) -> str:
    hit = np.flatnonzero(gap < tol)
    return str(int(hit[0])) if hit.size else "—"


race_panel()
layout.what_to_notice([
    "On the quadratic, push η for gradient descent past **2/L**: the steepest direction is multiplied by "
    "|1 − ηL| > 1 every step, the path zig-zags outward and the page reports the step where it diverged.",
    "Raise κ: gradient descent needs more and more steps (the flat direction moves by only ηL/κ per step), "
    "momentum suffers less, and Adam's per-coordinate scaling shrugs off the stretching — until you rotate the bowl.",
    "On the logistic loss, raise λ with L2: the contours get rounder (more curvature, +2λ) and the minimum slides "
    "towards w = 0 — regularization reshapes the landscape the optimizer has to walk.",
    "On the saddle, gradient descent lingers near the flat saddle point; with a start exactly on y = 0 it never leaves.",
])

# ------------------------------------------------------------------------------------------------
st.header("2 · Numerical vs analytic gradient")


@st.fragment
def gradient_panel() -> None:
    c1, c2, c3 = st.columns(3)
    with c1:
        gkey = w.select("Landscape", "gsurf", SURFACES, "rosenbrock", help=SURFACE_HELP)
    s = cached.surface(gkey, 10.0, 30.0, 0.05, "l2", seed)
    with c2:
        px = w.number("point x", "gpx", -50.0, 50.0, None, step=0.1, help="Empty: the landscape's default start.")
        py = w.number("point y", "gpy", -50.0, 50.0, None, step=0.1, help="Empty: the landscape's default start.")
    with c3:
        bug = w.toggle("Plant a bug in the analytic gradient", "bug", False,
                       help="Halve ∂f/∂x, as a slip in a hand derivation would.")
    px = s.start[0] if px is None else float(px)
    py = s.start[1] if py is None else float(py)
    with layout.numerical_guard("Checking the gradient"):
        sweep = cached.gradient_sweep(gkey, 10.0, 30.0, 0.05, "l2", seed, px, py, bug)
        p = np.array([px, py])
        grad = landscapes.planted_bug_gradient(s) if bug else s.gradient
        check = gradients.check_gradient(lambda q: float(s.value(q)), grad, p, h=1e-5)
        st.dataframe({"component": ["∂f/∂x", "∂f/∂y"],
                      "analytic (your derivation)": [f"{v:.10g}" for v in check.analytic],
                      "central difference, h = 1e-5": [f"{v:.10g}" for v in check.numerical],
                      "difference": [f"{v:.2e}" for v in check.numerical - check.analytic]},
                     hide_index=True, width="stretch")
        layout.metrics([
            ("Relative error", f"{check.rel_error:.1e}", "Below ~1e-7: the analytic gradient agrees."),
            ("Evaluations of f", f"{check.n_evals} (= 2d)", "A numerical gradient costs 2 evaluations per parameter; "
             "for a network with 60 million weights that is 120 million forward passes per step."),
        ])
        if check.passed:
            st.success(check.message, icon=":material/check_circle:")
        else:
            st.error(check.message + " — the analytic gradient is wrong somewhere.", icon=":material/bug_report:")
        layout.show_figure(thaw(cached.gradient_figure(gkey, 10.0, 30.0, 0.05, "l2", seed, px, py, bug)),
                           key="gradcheck")
        st.caption(f"Best step: forward h ≈ {sweep.h_best_forward:.0e} (error {sweep.min_err_forward:.0e}), central "
                   f"h ≈ {sweep.h_best_central:.0e} (error {sweep.min_err_central:.0e}). Fitted slopes for "
                   f"1e-4 ≤ h ≤ 1e-2: forward {sweep.slope_forward:.2f}, central {sweep.slope_central:.2f}.")
        layout.download_csv("gradient check", {"h": sweep.hs, "error_forward": sweep.err_forward,
                                               "error_central": sweep.err_central, "roundoff_model": sweep.roundoff},
                            "gradient_check.csv", key="dl_grad")
        layout.show_code(gradients.numerical_gradient, gradients.check_gradient)


gradient_panel()
layout.what_to_notice([
    "Read the plot from left to right (h shrinking): forward differences improve like h, central ones like h² — "
    "until rounding takes over and the error climbs again like ε|f|/h.",
    "The sweet spots differ: forward differences do best near h ≈ 1e-8 (error ≈ 1e-8), central ones near "
    "h ≈ 1e-5 (error ≈ 1e-11). Neither gets close to the analytic gradient, which is exact up to rounding (≈ 1e-16).",
    "Plant the bug: the error no longer falls with h at all. That plateau is how a gradient check catches a wrong "
    "derivative.",
])

# ------------------------------------------------------------------------------------------------
st.header("3 · Random search vs following the slope")


@st.fragment
def search_panel() -> None:
    c1, c2 = st.columns(2)
    with c1:
        d = int(w.log_slider("Dimension d (number of weights)", "dim", 1, landscapes.MAX_DIM, 10))
    with c2:
        n_evals = int(w.log_slider("Budget: evaluations of the loss", "evals", 100, landscapes.MAX_EVALS, 1000))
    with layout.numerical_guard("Comparing search strategies"):
        with st.spinner("Searching…"):
            comp = cached.compare_search(d, n_evals, seed)
            search_figs = cached.search_figures(d, n_evals, seed)
        layout.metrics([
            ("Random search: best f / f(x₀)", f"{comp.random[-1]:.3g}"),
            ("Gradient descent: f / f(x₀)", f"{comp.gd[-1]:.3g}"),
            ("GD with numerical ∇f", f"{comp.gd_numeric[-1]:.3g}", f"Each numerical gradient costs d + 1 = {d + 1} evaluations."),
        ])
        st.caption("The landscape: f(x) = ½ Σᵢ hᵢ xᵢ² with curvatures hᵢ between 1/100 and 1 (κ = 100). Both methods "
                   "start at the same random point of the box [−1, 1]ᵈ; random search keeps drawing points from "
                   "that box, gradient descent takes steps η = 1/L. An analytic gradient is counted as one evaluation "
                   "(backpropagation costs a small constant times a forward pass).")
        left, right = st.columns(2)
        with left:
            layout.show_figure(thaw(search_figs["evals"]), key="search_evals")
        with right:
            layout.show_figure(thaw(search_figs["dims"]), key="search_dims")
        layout.download_csv("search comparison", {"evaluations": comp.evals, "random_search": comp.random,
                                                  "gradient_descent": comp.gd, "gd_numerical_gradient": comp.gd_numeric},
                            "random_vs_gd.csv", key="dl_search")
        layout.show_code(landscapes.random_search, landscapes.compare_search)


search_panel()
layout.what_to_notice([
    "In 1 or 2 dimensions random search does fine: a thousand guesses cover the square densely.",
    "In 1000 dimensions the same thousand guesses barely beat the starting point: almost all of a "
    "high-dimensional box lies far from its centre, so a random guess is almost never good.",
    "Gradient descent's progress per step does not depend on d at all (only on κ) — but only with the analytic "
    "gradient: a numerical one costs d + 1 evaluations per step and eats the budget.",
])

layout.finish_page()

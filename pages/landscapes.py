"""Loss landscapes & optimizers: following the slope, step sizes and divergence, gradient checking,
and why random search is hopeless in high dimension.

A thin page: widgets -> a frozen config of ``regopt_core.landscapes`` -> ``clamped()`` -> ``cached.result``
-> ``regopt_core.figures.landscapes`` builders. Every number shown comes from the result.
"""

import numpy as np
import streamlit as st

from pages._ui import cached, figures, layout
from pages._ui import widgets as w
from regopt_core import expressions, gradients, landscapes, optimizers
from regopt_core.figures import landscapes as landscapes_figures

figs = figures.builders(landscapes_figures)  # memoized: a rerun that changes nothing a figure uses reuses it

BUILTIN_SURFACES = {"quadratic": "Quadratic", "rosenbrock": "Rosenbrock", "himmelblau": "Himmelblau", "beale": "Beale",
                    "saddle": "Saddle", "camel": "Camel", "logistic": "Logistic"}
SURFACES = {**BUILTIN_SURFACES, "custom": "Custom"}
SURFACE_HELP = ("Quadratic: an elliptic bowl with condition number κ. Rosenbrock: a curved valley. Himmelblau: four "
                "minima. Beale: plateaus and steep walls. Saddle: a saddle point between two valleys. Camel: six "
                "local minima. Logistic: the training loss of a real 2-weight logistic regression, with L2/L1 λ.")
CUSTOM_HELP = (f"Custom: your own f(x, y) (at most {expressions.MAX_LENGTH} characters), with numbers, x, y, "
               "+ − * / ** and parentheses, the constants pi and e, and the functions "
               + ", ".join(expressions.FUNCTIONS) + f". Exponents that are numbers are at most "
               f"{expressions.MAX_EXPONENT:g} in size. The formula is checked, never run as Python code.")
# the URL holds these labels (?opts=GD&opts=Adam): readable and link-friendly
OPT_SHORT = {"gd": "GD", "momentum": "Momentum", "nesterov": "Nesterov", "adagrad": "AdaGrad", "rmsprop": "RMSProp",
             "adam": "Adam"}
OPT_BY_SHORT = {v: k for k, v in OPT_SHORT.items()}
THRESHOLDED = ("gd", "momentum", "nesterov")
LR_LO, LR_HI = 1e-5, 10.0
CLICK_KEY = "race_click"
APPLIED_KEY = "_landscapes_click_applied"
PREV_SURFACE_KEY = "_landscapes_prev_surface"
SYMBOLS = {"global": "L", "at the start": "λ₀", "at the minimum": "λ*"}

layout.page_header(
    "Loss landscapes & optimizers",
    r"x_{k+1} = x_k - \eta\,\nabla L(x_k) \qquad\text{(gradient descent: follow the slope downhill)}",
    "Minimising a loss means finding the lowest point of a landscape we can only probe locally. "
    "Here several optimizers start from the same point and race downhill; the step size η decides "
    "whether they crawl, zig-zag, converge — or blow up. Below: how to check a gradient, and why "
    "guessing at random stops working once the landscape has many dimensions.",
    sections=("Race", "Across the limit (live)", "Gradient check", "Random search"),
)

with st.sidebar:
    seed = w.seed(help="Draws the logistic-regression data set and the random-search samples.")


# ------------------------------------------------------------------------------------------------ helpers
def _apply_click() -> None:
    """A click on the contour (the invisible start-picker grid) becomes the new start point.

    Runs before the start-point inputs exist in this run, so it may set their values."""
    event = st.session_state.get(CLICK_KEY)
    try:
        points = list(event["selection"]["points"]) if event else []
    except (KeyError, TypeError):
        points = []
    picked = [p for p in points if isinstance(p.get("x"), (int, float)) and isinstance(p.get("y"), (int, float))]
    if not picked:
        return
    xy = (round(float(picked[-1]["x"]), 3), round(float(picked[-1]["y"]), 3))
    if st.session_state.get(APPLIED_KEY) != xy:
        st.session_state[APPLIED_KEY] = xy
        st.session_state["sx"], st.session_state["sy"] = xy


def _sync_steps_to_surface(scfg: landscapes.SurfaceConfig, steps: dict[str, float]) -> None:
    """When the landscape (or the typed formula) changes, load step sizes that make sense on it (a link's value
    wins on a first visit)."""
    now = (scfg.key, scfg.expr)  # a built-in landscape's shape (κ, λ ...) keeps the steps; a new formula does not
    prev = st.session_state.get(PREV_SURFACE_KEY)
    if prev is not None and prev != now:
        for name, lr in steps.items():
            st.session_state[f"lr_{name}"] = lr
        if prev[0] != now[0]:
            st.session_state["sx"], st.session_state["sy"] = None, None
    st.session_state[PREV_SURFACE_KEY] = now


def _formula_box(label: str, key: str, default: str, *, help: str) -> str:
    """A text box bound to ``?key=...``: the formula of a custom landscape."""
    return w.text(label, key, default, help=help, placeholder=expressions.DEFAULT_EXPRESSION)


def _custom_controls(expr_key: str, *, with_range: bool) -> tuple[str, tuple]:
    """The formula box and (on the race) the contour range of a custom landscape."""
    expr = _formula_box("f(x, y) =", expr_key, expressions.DEFAULT_EXPRESSION, help=CUSTOM_HELP)
    window = expressions.DEFAULT_BOUNDS
    if with_range:
        (x_lo, x_hi), (y_lo, y_hi) = expressions.DEFAULT_BOUNDS
        lim = landscapes.MAX_WINDOW
        c1, c2 = st.columns(2)
        with c1:
            x_lo = w.number("x from", "xmin", -lim, lim, x_lo, step=0.5)
            y_lo = w.number("y from", "ymin", -lim, lim, y_lo, step=0.5)
        with c2:
            x_hi = w.number("x to", "xmax", -lim, lim, x_hi, step=0.5)
            y_hi = w.number("y to", "ymax", -lim, lim, y_hi, step=0.5)
        window = ((float(x_lo), float(x_hi)), (float(y_lo), float(y_hi)))
    return expr, window


def _show_bad_landscape(err: ValueError) -> None:
    """A formula or contour range that cannot be used: the reason, and a caret under the place (no traceback)."""
    if isinstance(err, expressions.ExpressionError):
        st.error(f"This formula cannot be used: {err.message.rstrip('.')}.", icon=":material/function:")
        if err.pointer():
            st.code(err.pointer(), language=None)
        st.caption(CUSTOM_HELP)
    else:
        st.error(f"This landscape cannot be used: {str(err).rstrip('.')}.", icon=":material/error:")


def _surface_controls(key: str, default: str, seed: int, *, shape: bool = True, custom: str | None = None,
                      with_range: bool = False) -> landscapes.SurfaceConfig | ValueError:
    """The landscape select (URL key ``key``) and, on the race, its shape controls -> a clamped surface config, or
    the error that says why the typed formula / contour range cannot be used. ``custom`` is the URL key of the
    formula box (None: no Custom option)."""
    skey = w.select("Landscape", key, SURFACES if custom else BUILTIN_SURFACES, default,
                    help=SURFACE_HELP + (" " + CUSTOM_HELP if custom else ""))
    if skey == "custom":
        expr, window = _custom_controls(custom, with_range=with_range)
        try:
            return landscapes.SurfaceConfig(key="custom", expr=expr, window=window).clamped()
        except ValueError as err:  # ExpressionError is a ValueError
            return err
    kappa, theta, lam, pen = 10.0, 30.0, 0.05, "l2"
    if shape and skey == "quadratic":
        kappa = w.log_slider("Condition number κ", "kappa", 1.0, 1e6, 10.0,
                             help="Ratio of the steepest to the flattest curvature. κ = 1: a round bowl.")
        theta = float(w.slider("Rotation θ (degrees)", "theta", 0, 90, 30, step=5,
                               help="Rotates the bowl; adaptive methods scale each coordinate separately and care."))
    elif shape and skey == "logistic":
        pen = w.select("Penalty R(w)", "pen", {"l2": "L2", "l1": "L1"}, "l2", horizontal_radio=True,
                       help="L2: λ‖w‖² (adds curvature 2λ everywhere). L1: λ‖w‖₁ (a kink on the axes).")
        lam = w.log_slider("Regularization λ", "lam", 1e-3, 1.0, 0.05, extra=(0.0,),
                           help="Strength of the penalty λR(w) added to the mean logistic loss.")
    return landscapes.SurfaceConfig(key=skey, kappa=float(kappa), theta=theta, lam=float(lam), penalty=pen,
                                    seed=seed).clamped()


def _set_step(key: str, value: float) -> None:
    st.session_state[key] = value


def _step_slider(name: str, default: float, threshold: float | None, formula: str | None) -> float:
    """η for one optimizer on a log scale, with named choices on both sides of its threshold."""
    key = f"lr_{name}"
    choices = landscapes.threshold_choices(threshold)
    extra = list(choices)
    current = st.session_state.get(key)
    if isinstance(current, (int, float)) and LR_LO <= current <= 10 * LR_HI:
        extra.append(float(current))
    hint = f" Stable below {formula} = {threshold:.3g}." if threshold else ""
    eta = w.log_slider(f"η for {landscapes.OPTIMIZER_LABELS[name]}", key, LR_LO, LR_HI, default, extra=tuple(extra),
                       help="Step size (learning rate), log scale." + hint)
    if choices:
        below, above = choices[1], choices[2]  # 0.9x and 1.1x of the limit
        c1, c2 = st.columns(2)
        c1.button(f"{below:g} = 0.9 × {formula}", key=f"_below_{name}", on_click=_set_step, args=(key, below),
                  help="Just below the stability limit", width="stretch")
        c2.button(f"{above:g} = 1.1 × {formula}", key=f"_above_{name}", on_click=_set_step, args=(key, above),
                  help="Just above the stability limit", width="stretch")
    return eta


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


def _steps_to(gap: np.ndarray, tol: float) -> str:
    hit = np.flatnonzero(gap < tol)
    return str(int(hit[0])) if hit.size else "—"


def _outcome(r: landscapes.Racer) -> str:
    if r.trace.diverged:
        return f"diverged at step {r.trace.diverged_at}"
    conv = r.trace.convergence
    if conv is not None and conv.converged:
        return f"converged in {r.trace.nit} steps (‖∇f‖ ≤ {conv.tol:.0e})"
    return f"{r.trace.nit} steps, not converged (‖∇f‖ = {conv.value:.1e})" if conv else f"{r.trace.nit} steps"


CURVATURE_LABELS = {"global": " (largest curvature)", "at the minimum": " (curvature at the minimum)",
                    "at the start": " (curvature at the start)"}


def _race_details(res: landscapes.RaceResult, names, lrs, beta, curv, kind, symbol) -> None:
    surface, race = res.surface, res.race
    b = 0.9 if beta is None else beta
    if curv > 0:  # (a typed formula may have no positive curvature at its start or minimum: no limit then)
        m = [(symbol + CURVATURE_LABELS[kind], f"{curv:.4g}"),
             ("GD limit 2/" + symbol, f"{2.0 / curv:.4g}"),
             ("Heavy-ball limit 2(1+β)/" + symbol, f"{2.0 * (1 + b) / curv:.4g}", f"with β = {b:g}")]
    else:
        m = [("Largest curvature λ_max(∇²f)", f"{curv:.4g}", "Not positive at the start or at the minimum found: "
              "no constant step size is limited by the curvature there.")]
    if surface.key == "quadratic":
        kappa = surface.lipschitz / surface.mu
        m.append(("Condition number κ", f"{kappa:.4g}",
                  f"Best GD contraction per step (κ−1)/(κ+1) = {(kappa - 1) / (kappa + 1):.4g} at η = 2/(μ+L)"))
    if res.unregularized_minimizer is not None or surface.key == "logistic":
        w_star = surface.minimizers[0]
        m.append(("Minimizer w*(λ)", f"{w_star[0]:.2f}, {w_star[1]:.2f}",
                  "The grey diamond marks the minimizer without regularization (λ = 0)."))
    layout.metrics(m)
    ruler = []
    for i, r in enumerate(race.racers):
        formula = landscapes.threshold_formula(r.name)
        thr = landscapes.stability_threshold(r.name, curv, beta=r.entry.beta)
        ruler.append((landscapes.OPTIMIZER_LABELS[r.name], figs.racer_color(i), r.learning_rate, thr,
                      formula.replace("L", symbol) if formula else None))
    layout.show_figure(figs.fig_step_ruler(ruler, LR_LO, LR_HI, lipschitz=curv if kind == "global" else None),
                       key="ruler")
    if not curv > 0:
        st.caption("This landscape does not curve upwards at its start or at the minimum found, so no step-size "
                   "limit follows from the curvature; a step that is too large still shows as a divergence.")
    elif kind == "at the start":
        st.caption(f"{symbol} = {curv:.4g} is the largest eigenvalue of the Hessian of your f at the start point "
                   f"({res.race.x0[0]:.3g}, {res.race.x0[1]:.3g}): the limits shown hold while the iterates stay "
                   "where f curves like that (elsewhere the curvature, and so the limit, differs). The Hessian is "
                   "exact: sympy differentiates your formula twice.")
    elif kind == "global":
        st.caption(f"{symbol} = {curv:.4g} is the largest curvature of this landscape anywhere (largest Hessian "
                   "eigenvalue). Heavy ball here means v ← βv − η∇f, x ← x + v; its limit is 2(1+β)/L. AdaGrad, "
                   "RMSProp and Adam rescale their steps as they go, so no fixed limit exists for them.")
    else:
        st.caption(f"This landscape's curvature changes from place to place; {symbol} = {curv:.4g} is the largest "
                   "curvature at its global minimum, so the limits shown decide whether a method can settle "
                   "there (far from it, steeper walls may need smaller steps).")
    table = {
        "optimizer": [figs.racer_name(r) for r in race.racers],
        "outcome": [_outcome(r) for r in race.racers],
        "final f − f*": [f"{r.trace.fun - surface.f_min:.3g}" for r in race.racers],
        "distance to nearest minimum": [f"{r.distance[-1]:.3g}" for r in race.racers],
        "steps to f − f* < 1e-6": [_steps_to(r.trace.fs - surface.f_min, 1e-6) for r in race.racers],
    }
    st.dataframe(table, hide_index=True, width="stretch")
    left, right = st.columns(2)
    with left:
        layout.show_figure(figs.fig_convergence(race, surface, quantity="gap"), key="convergence")
    with right:
        layout.show_figure(figs.fig_convergence(race, surface, quantity="distance"), key="convergence_dist")
    if w.toggle("Show the 3-D surface", "view3d", False, help="One WebGL view: drag to rotate."):
        layout.show_figure(figs.fig_surface_3d(res.grid, race, surface), key="surface3d")
    layout.download_csv("optimizer paths", _race_csv(race), "optimizer_paths.csv", key="dl_race")
    # the loop that really runs: each racer is one call of optimizers.run
    layout.show_code(landscapes.race, optimizers.run, optimizers.gd, optimizers.momentum, optimizers.adam)
    layout.what_to_notice([
        "On the quadratic, push η for gradient descent past **2/L** (the button 1.1 × 2/L): the steepest direction "
        "is multiplied by |1 − ηL| > 1 every step, the path zig-zags outward and the page reports the step where "
        "it diverged.",
        "Raise κ: gradient descent needs more and more steps (the flat direction moves by only ηL/κ per step), "
        "momentum suffers less, and Adam's per-coordinate scaling shrugs off the stretching — until you rotate "
        "the bowl.",
        "On the logistic loss, raise λ with L2: the contours get rounder (more curvature, +2λ) and the minimum "
        "slides towards w = 0 — regularization reshapes the landscape the optimizer has to walk.",
        "On the saddle, gradient descent lingers near the flat saddle point; with a start exactly on y = 0 it "
        "never leaves.",
    ])


def _slopes(sweep: gradients.StepSweep) -> str:
    parts = []
    for name, slope, window, order in (("forward", sweep.slope_forward, sweep.window_forward, 1),
                                       ("central", sweep.slope_central, sweep.window_central, 2)):
        if window is None:
            parts.append(f"{name}: no h where truncation beats round-off (its O(h^{order}) term is zero or tiny here)")
        else:
            parts.append(f"{name} slope {slope:.2f} (expected {order}) fitted on {window[0]:.0e} ≤ h ≤ {window[1]:.0e}")
    return "Fitted slopes — " + "; ".join(parts) + "."


# ------------------------------------------------------------------------------------------------ 1 · race
@layout.section(1, "1 · Optimizers racing downhill", prose=(
    "Every optimizer starts at the same point (the open circle) and takes the steps its update rule gives; "
    "▶ Play animates the race in your browser. Click anywhere on the contour plot to start from there."))
def _race() -> None:
    _apply_click()
    controls, figure = layout.panel(ratio=(1.2, 3.0))
    with controls:
        scfg = _surface_controls("surface", "quadratic", seed, custom="expr", with_range=True)
        bad, surface = (scfg, None) if isinstance(scfg, ValueError) else (None, None)
        if bad is None:
            try:
                surface = cached.result(landscapes.build_surface, scfg)
            except ValueError as err:  # a typed f that is not finite anywhere in its contour range
                bad = err
        suggested = landscapes.suggested_steps(scfg, surface) if surface is not None else \
            landscapes.SUGGESTED_STEPS["quadratic"]
        if surface is not None:
            _sync_steps_to_surface(scfg, suggested)
        shorts = w.multiselect("Optimizers in the race", "opts", list(OPT_BY_SHORT), ["GD", "Momentum", "Adam"],
                               help="GD: gradient descent. Momentum: Polyak's heavy ball. Nesterov: accelerated "
                               "gradient. AdaGrad, RMSProp, Adam: per-coordinate adaptive steps.")
        names = [OPT_BY_SHORT[s] for s in shorts]
        n_steps = int(w.log_slider("Steps", "steps", 10, landscapes.MAX_STEPS, 300, mantissas=(1, 2, 3, 5)))
        beta = rho = b1 = b2 = None
        if "momentum" in names or "nesterov" in names:
            beta = w.slider("Momentum β (heavy ball, Nesterov)", "beta", 0.0, 0.99, 0.9, step=0.01,
                            help="v ← βv − η∇f: how much of the last step is kept.")
        if "rmsprop" in names:
            rho = w.slider("RMSProp ρ (averaging of g²)", "rho", 0.0, 0.999, 0.9, step=0.001,
                           help="s ← ρs + (1−ρ)g².")
        if "adam" in names:
            b1 = w.slider("Adam β₁ (averaging of g)", "b1", 0.0, 0.99, 0.9, step=0.01)
            b2 = w.slider("Adam β₂ (averaging of g²)", "b2", 0.0, 0.9999, 0.999, step=0.0001, format="%.4f")
        st.markdown("**Start point** — or click the contour plot")
        sx = w.number("start x", "sx", -50.0, 50.0, None, step=0.1, help="Empty: the landscape's default start.")
        sy = w.number("start y", "sy", -50.0, 50.0, None, step=0.1, help="Empty: the landscape's default start.")
        start = None
        curv, kind = float("nan"), "at the minimum"
        if surface is not None:
            start = None if sx is None and sy is None else (surface.start[0] if sx is None else sx,
                                                            surface.start[1] if sy is None else sy)
            curv, kind = landscapes.reference_curvature(surface, surface.start if start is None else start)
        symbol = SYMBOLS[kind]
        lrs = {}
        for name in names:
            thr = landscapes.stability_threshold(name, curv, beta=0.9 if beta is None else beta) if curv > 0 else None
            formula = landscapes.threshold_formula(name)
            lrs[name] = _step_slider(name, suggested[name], thr, formula.replace("L", symbol) if formula else None)
    if bad is not None:
        with figure:
            _show_bad_landscape(bad)
        return
    if not names:
        with figure:
            st.warning("Pick at least one optimizer to start a race.")
        return
    entries = tuple(landscapes.RaceEntry(n, float(lrs[n]), beta=0.9 if beta is None else float(beta),
                                         rho=0.9 if rho is None else float(rho), beta1=0.9 if b1 is None else float(b1),
                                         beta2=0.999 if b2 is None else float(b2)) for n in names)
    requested = landscapes.RaceConfig(surface=scfg, entries=entries, start=start, n_steps=n_steps)
    cfg = requested.clamped()
    res = cached.result(landscapes.race_experiment, cfg, heavy=cfg.n_steps * len(cfg.entries) > 4000,
                        label="Running the race")
    with figure:
        layout.capped(requested, cfg, {"n_steps": "Steps per optimizer", "start": "Start point"})
        if surface.key == "custom":
            st.markdown(f"**Your f(x, y): {len(res.race.racers)} optimizers from the same start**")
            st.latex(surface.latex)
            st.caption(surface.note)
        else:
            st.markdown(f"**{surface.name}: {len(res.race.racers)} optimizers from the same start**")
        extra = []
        if res.unregularized_minimizer is not None:
            w0 = res.unregularized_minimizer
            extra = [(w0[0], w0[1], "minimum without regularization (λ = 0)", "diamond")]
        layout.show_figure(figs.fig_race_contour(res.race, res.grid, surface, extra_points=extra), key=CLICK_KEY,
                           on_select="rerun", selection_mode=("points",))
        for r in res.race.racers:
            if r.trace.diverged:
                st.warning(f"**{figs.racer_name(r)}** — {r.verdict}", icon=":material/trending_up:")
    curv, kind = res.curvature, res.curvature_kind
    symbol = SYMBOLS[kind]
    _race_details(res, names, lrs, beta, curv, kind, symbol)


# ------------------------------------------------------------------------------------------------ 2 · live
@layout.section(2, "2 · Just below and just above the limit (live)", prose=(
    "One optimizer at 21 step sizes from 0.5× to 1.5× its stability limit, all computed at once: drag the "
    "slider *inside* the figure and the path redraws in your browser, without asking the server."))
def _live() -> None:
    controls, figure = layout.panel(ratio=(1.2, 3.0))
    with controls:
        scfg = _surface_controls("live_surface", "quadratic", seed, shape=False)  # built-in landscapes only
        opt = w.select("Optimizer", "live_opt", {n: OPT_SHORT[n] for n in THRESHOLDED}, "gd")
        beta = 0.9
        if opt != "gd":
            beta = float(w.slider("Momentum β", "live_beta", 0.0, 0.99, 0.9, step=0.01))
        factors = landscapes.FAMILY_FACTORS
        factor = float(w.log_slider("Opens at η / limit", "live_x", factors[0], factors[-1], 1.1,
                                    extra=factors, mantissas=(),
                                    help="Which member of the family the figure shows first (the in-figure "
                                    "slider then moves through all of them)."))
    cfg = landscapes.StepFamilyConfig(surface=scfg, optimizer=opt, beta=beta).clamped()
    # 21 runs of <= 200 steps: 5-30 ms on the test surfaces, ~0.3 s on the logistic loss (60 samples per step)
    fam = cached.result(landscapes.step_family, cfg, heavy=scfg.key == "logistic", label="Running 21 step sizes")
    active = int(np.argmin(np.abs(np.asarray(cfg.factors) - factor)))
    with figure:
        st.markdown(f"**{landscapes.OPTIMIZER_LABELS[opt]} on {fam.surface.name}: limit {fam.formula} = "
                    f"{fam.threshold:.4g}**")
        layout.show_figure(figs.fig_step_family(fam, active=active), key="fig_family")
        st.caption(f"The figure opens at **{figs.family_label(fam, active)}** (the control on the left). The "
                   "label above the slider inside the figure names the step size drawn while you drag; dragging "
                   "does not change the link.")
    below = [i for i, f in enumerate(cfg.factors) if f < 1.0]
    above = [i for i, f in enumerate(cfg.factors) if f > 1.0]
    n_div_below = sum(fam.racers[i].trace.diverged for i in below)
    n_div_above = sum(fam.racers[i].trace.diverged for i in above)
    kind = "the largest curvature anywhere" if fam.curvature_kind == "global" else "the curvature at the minimum"
    st.caption(f"Of the {len(below)} step sizes below the limit (set by {kind}), {n_div_below} diverged; of the "
               f"{len(above)} above it, {n_div_above} diverged within {cfg.n_steps} steps.")
    layout.show_code(landscapes.step_family)


# ------------------------------------------------------------------------------------------------ 3 · gradient check
@layout.section(3, "3 · Numerical vs analytic gradient", prose=(
    "A finite difference approximates the gradient from values of f alone; comparing it with the hand-derived "
    "gradient catches derivation bugs."))
def _gradient() -> None:
    controls, figure = layout.panel(ratio=(1.2, 3.0))
    with controls:
        scfg = _surface_controls("gsurf", "rosenbrock", seed, shape=False, custom="gexpr")
        px = w.number("point x", "gpx", -50.0, 50.0, None, step=0.1, help="Empty: the landscape's default start.")
        py = w.number("point y", "gpy", -50.0, 50.0, None, step=0.1, help="Empty: the landscape's default start.")
        bug = w.toggle("Plant a bug in the analytic gradient", "bug", False,
                       help="Halve ∂f/∂x, as a slip in a hand derivation would.")
    try:
        if isinstance(scfg, ValueError):
            raise scfg
        surface = cached.result(landscapes.build_surface, scfg)
    except ValueError as err:  # a typed formula that cannot be used
        with figure:
            _show_bad_landscape(err)
        return
    point = None if px is None and py is None else (surface.start[0] if px is None else px,
                                                    surface.start[1] if py is None else py)
    cfg = landscapes.GradientCheckConfig(surface=scfg, point=point, bug=bug).clamped()
    res = cached.result(landscapes.gradient_experiment, cfg)
    check, sweep = res.check, res.sweep
    with figure:
        if scfg.key == "custom":
            gx, gy = expressions.compile_expression(scfg.expr).gradient_latex
            st.markdown("**Your f(x, y)** and its exact gradient (sympy differentiates the checked formula):")
            st.latex(surface.latex + r",\qquad \frac{\partial f}{\partial x} = " + gx
                     + r",\quad \frac{\partial f}{\partial y} = " + gy)
        if check.passed:
            st.success(check.message, icon=":material/check_circle:")
        else:
            st.error(check.message + " — the analytic gradient is wrong somewhere.", icon=":material/bug_report:")
        layout.show_figure(figs.fig_gradient_check(sweep), key="gradcheck")
    st.dataframe({"component": ["∂f/∂x", "∂f/∂y"],
                  "analytic (your derivation)": [f"{v:.10g}" for v in check.analytic],
                  f"central difference, h = {check.h:g}": [f"{v:.10g}" for v in check.numerical],
                  "difference": [f"{v:.2e}" for v in check.numerical - check.analytic]},
                 hide_index=True, width="stretch")
    layout.metrics([
        ("Relative error", f"{check.rel_error:.1e}", "Below ~1e-7: the analytic gradient agrees."),
        ("Evaluations of f", f"{check.n_evals} (= 2d)", "A numerical gradient costs 2 evaluations per parameter; "
         "for a network with 60 million weights that is 120 million forward passes per step."),
    ])
    st.caption(f"Best step: forward h ≈ {sweep.h_best_forward:.0e} (error {sweep.min_err_forward:.0e}), central "
               f"h ≈ {sweep.h_best_central:.0e} (error {sweep.min_err_central:.0e}). " + _slopes(sweep))
    layout.download_csv("gradient check", {"h": sweep.hs, "error_forward": sweep.err_forward,
                                           "error_central": sweep.err_central, "roundoff_model": sweep.roundoff},
                        "gradient_check.csv", key="dl_grad")
    layout.show_code(gradients.numerical_gradient, gradients.check_gradient, gradients.power_law_window)
    layout.what_to_notice([
        "Read the plot from left to right (h shrinking): forward differences improve like h, central ones like h² "
        "— until rounding takes over and the error climbs again like ε|f|/h.",
        "The bands along the bottom mark the h-range where the error follows its power law (round-off at most "
        "1/30 of it): the slopes are fitted there.",
        "Plant the bug: the error no longer falls with h at all. That plateau is how a gradient check catches a "
        "wrong derivative.",
    ])


# ------------------------------------------------------------------------------------------------ 4 · search
@layout.section(4, "4 · Random search vs following the slope", prose=(
    "The landscape: f(x) = ½ Σᵢ hᵢ xᵢ² with curvatures hᵢ between 1/100 and 1 (κ = 100). Both methods start at "
    "the same random point of the box [−1, 1]ᵈ; random search keeps drawing points from that box, gradient descent "
    "takes steps η = 1/L. An analytic gradient is counted as one evaluation (backpropagation costs a small constant "
    "times a forward pass)."))
def _search() -> None:
    controls, figure = layout.panel(ratio=(1.2, 3.0))
    with controls:
        d = int(w.log_slider("Dimension d (number of weights)", "dim", 1, landscapes.MAX_DIM, 10))
        n_evals = int(w.log_slider("Budget: evaluations of the loss", "evals", 100, landscapes.MAX_EVALS, 1000))
    cfg = landscapes.SearchConfig(d=d, n_evals=n_evals, seed=seed).clamped()
    comp = cached.result(landscapes.search_comparison, cfg, heavy=cfg.d * cfg.n_evals > 2_000_000,
                         label="Searching")
    sweep = cached.result(landscapes.search_sweep, cfg.sweep_key(), heavy=True, label="Sweeping the dimension")
    with figure:
        # side by side on a screen; one under the other when presenting, so the first is the figure's full width
        left, right = (st.container(), st.container()) if layout.presenting() else st.columns(2)
        with left:
            layout.show_figure(figs.fig_search_vs_evals(comp), key="search_evals")
        with right:
            layout.show_figure(figs.fig_search_vs_dimension(sweep, d_now=d), key="search_dims")
    layout.metrics([
        ("Random search: best f / f(x₀)", f"{comp.random[-1]:.3g}"),
        ("Gradient descent: f / f(x₀)", f"{comp.gd[-1]:.3g}"),
        ("GD with numerical ∇f", f"{comp.gd_numeric[-1]:.3g}", f"Each numerical gradient costs d + 1 = {d + 1} evaluations."),
    ])
    layout.download_csv("search comparison", {"evaluations": comp.evals, "random_search": comp.random,
                                              "gradient_descent": comp.gd, "gd_numerical_gradient": comp.gd_numeric},
                        "random_vs_gd.csv", key="dl_search")
    layout.show_code(landscapes.random_search, landscapes.compare_search)
    layout.what_to_notice([
        "In 1 or 2 dimensions random search does fine: a thousand guesses cover the square densely.",
        "In 1000 dimensions the same thousand guesses barely beat the starting point: almost all of a "
        "high-dimensional box lies far from its centre, so a random guess is almost never good.",
        "Gradient descent's progress per step does not depend on d at all (only on κ) — but only with the analytic "
        "gradient: a numerical one costs d + 1 evaluations per step and eats the budget.",
    ])


layout.finish_page()

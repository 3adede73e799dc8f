"""Losses & regularizers: the data term, why W is not unique, and what λR(W) prefers."""

from dataclasses import replace

import numpy as np
import pandas as pd
import streamlit as st

from pages._ui import cached, figures, layout
from pages._ui import widgets as w
from regopt_core import linear_models as lm
from regopt_core import losses
from regopt_core.figures import losses as losses_figures

figs = figures.builders(losses_figures)  # memoized: a rerun that changes nothing a figure uses reuses it

layout.page_header(
    "Losses & regularizers",
    r"L(W) = \underbrace{\frac{1}{N}\sum_{i=1}^{N} L_i\big(f(x_i, W), y_i\big)}_{\text{data term}}"
    r" + \underbrace{\lambda\, R(W)}_{\text{regularization}}",
    "The data term measures how unhappy we are with the scores a linear classifier gives our training "
    "examples. It often has many equally good minimisers; the regularizer **λR(W)** states which of them we "
    "prefer — small weights (L2), few weights (L1), or a blend (elastic net).",
    sections=("Two losses", "W is not unique", "L1/L2 geometry", "Digits classifier"),
)

CLASSES = losses.LECTURE_CLASSES
EXAMPLES = tuple(f"{c} image" for c in CLASSES)
ZERO_SCORES = np.array([[3.2, 1.3, 2.2], [1.3, 4.9, 2.0], [-1.7, 2.0, 3.1]])
PRESETS = {"lecture": losses.LECTURE_SCORES, "zero": ZERO_SCORES}
REGS = {"l2": "L2", "l1": "L1", "elastic_net": "Elastic net"}

with st.sidebar:
    seed = w.seed()


@layout.section(1, "1 · Two data losses on three examples", prose=(
    "The hinge loss is **exactly zero** once the true class wins by the margin Δ; cross-entropy is **never "
    "zero** and grows without bound when the true class loses badly (the bird image)."))
def _scores() -> None:
    controls, figure = layout.panel()
    with controls:
        preset = w.select("Scores", "table", {"lecture": "Lecture", "zero": "Zero loss"}, "lecture",
                          help="Lecture: the slide's scores (losses 2.9, 0, 12.9). Zero loss: a W that classifies "
                               "all three with margin.")
        margin = w.slider("Margin Δ of the hinge loss", "margin", 0.0, 5.0, 1.0, step=0.1,
                          help="The hinge loss wants the true class to win by at least Δ.")
    base = PRESETS[preset]
    with figure:
        chart = st.container()  # the figure first (it is what the room looks at), the numbers under it
        table = pd.DataFrame(base.T, index=[f"score: {c}" for c in CLASSES], columns=list(EXAMPLES))
        with st.expander("Edit the scores", icon=":material/edit:"):
            st.caption("Rows are classes, columns are example images; the true class of each image is its column "
                       "name. Edits stay in this browser tab (they are not in the link).")
            edited = st.data_editor(table, key=f"scores_{preset}", width="stretch",
                                    column_config={c: st.column_config.NumberColumn(c, format="%.2f", min_value=-1e6,
                                                                                    max_value=1e6) for c in EXAMPLES})
        scores = edited.to_numpy(dtype=float).T  # back to (example, class)
        if not np.all(np.isfinite(scores)):
            st.warning("Every score must be a number; empty cells are treated as 0.")
            scores = np.nan_to_num(scores)
        hinge = losses.multiclass_hinge(scores, losses.LECTURE_LABELS, margin=margin)
        ce = losses.softmax_cross_entropy(scores, losses.LECTURE_LABELS)
        shown = pd.DataFrame(scores.T, index=[f"score: {c}" for c in CLASSES], columns=list(EXAMPLES))
        shown.loc["hinge (SVM) loss L_i"] = hinge
        shown.loc["softmax cross-entropy L_i"] = ce
        shown.loc["P(true class)"] = np.exp(-ce)
        shown["mean"] = [np.nan] * len(CLASSES) + [hinge.mean(), ce.mean(), np.exp(-ce).mean()]
        st.table(shown.map(lambda v: "" if not np.isfinite(v) else f"{v:.2f}"))  # st.table: scaled, scrolls on a phone
        layout.metrics([("Mean hinge loss", f"{hinge.mean():.2f}", "1/N Σ L_i with the hinge loss"),
                        ("Mean cross-entropy", f"{ce.mean():.2f}", "1/N Σ −log p(true class)")])
        terms = losses.hinge_margins(scores, losses.LECTURE_LABELS, margin=margin)
        with chart:
            layout.show_figure(figs.fig_hinge_terms(terms, losses.LECTURE_LABELS, CLASSES, EXAMPLES), key="fig_hinge")
        layout.download_csv("hinge terms", {"example": EXAMPLES, **{f"term_{c}": terms[:, j] for j, c in enumerate(CLASSES)},
                                            "hinge": hinge, "cross_entropy": ce}, "hinge_terms.csv", key="dl_terms")


@layout.section(2, "2 · A zero loss does not pick one W", prose=(
    "With the zero-loss scores every c ≥ 1 keeps the hinge loss at 0. The L2 penalty grows like c², so data "
    "loss + λR has **one** minimiser — the regularizer breaks the tie."))
def _scale() -> None:
    controls, figure = layout.panel()
    with controls:
        scale = w.slider("Scale the weights: W → c·W", "scale", 0.0, 4.0, 1.0, step=0.05)
        lam_s = w.log_slider("L2 strength λ", "slam", 1e-4, 1.0, 0.001, help="Strength of R(W) = Σ W²")
    scan = lm.scale_scan(ZERO_SCORES, losses.LECTURE_LABELS, np.linspace(0.0, 4.0, 161), margin=1.0, lam=lam_s)
    data_now = losses.multiclass_hinge(scale * ZERO_SCORES, losses.LECTURE_LABELS).mean()
    pen_now = lam_s * scale**2 * float(np.sum(ZERO_SCORES**2))
    with figure:
        layout.metrics([("Hinge data loss at c", f"{data_now:.3f}"), ("λ·R(c·W)", f"{pen_now:.3f}"),
                        ("Total", f"{data_now + pen_now:.3f}"), ("Best c", f"{scan.c_best:.2f}")])
        layout.show_figure(figs.fig_scale_scan(scan, scale), key="fig_scale")
        layout.download_csv("scale scan", {"c": scan.c, "data_loss": scan.data_loss, "penalty": scan.penalty,
                                           "objective": scan.objective}, "scale_scan.csv", key="dl_scale")


@layout.section(3, "3 · The geometry of L1, L2 and elastic net", prose=(
    "The minimiser sits where a data-loss contour first touches the regularizer's level set. **L1**'s diamond "
    "has corners on the axes, so the path reaches a weight **exactly 0** at a finite λ; **L2** only shrinks."))
def _geometry() -> None:
    controls, figure = layout.panel()
    d = lm.GEOMETRY_DEFAULT
    with controls:
        reg = w.select("Regularizer R(w)", "reg", REGS, d.reg,
                       help="L2: Σ w²  ·  L1: Σ |w|  ·  elastic net: α Σ|w| + (1−α) Σ w²")
        alpha = w.slider("Elastic-net mix α (1 = L1, 0 = L2)", "alpha", 0.0, 1.0, d.alpha, step=0.05) \
            if reg == "elastic_net" else d.alpha
        lam = w.log_slider("Strength λ", "lam", 1e-3, 10.0, d.lam, extra=(0.0, d.lam),
                           help=f"λ = {d.lam:g} (the default) lies past the default data's first exact L1 zero.")
        loss = w.select("Data loss", "loss", {"squared": "Squared", "huber": "Huber"}, d.loss,
                        help="Squared: ½r²  ·  Huber: ½r² near 0, linear beyond δ = 1 (robust to outliers)")
        rho = w.slider("Feature correlation ρ", "rho", -0.95, 0.95, d.rho, step=0.05)
        n_out = w.slider("Outliers in the data", "outliers", 0, 10, d.n_outliers,
                         help="Gross errors: compare squared and Huber loss.")
    with figure, layout.numerical_guard("Computing the regularization path"):
        asked = lm.GeometryConfig(reg=reg, loss=loss, rho=rho, alpha=alpha, n_outliers=n_out, lam=lam, seed=seed)
        cfg = asked.clamped()
        layout.capped(asked, cfg, {"rho": "ρ", "alpha": "α", "n_outliers": "outliers", "lam": "λ"})
        g = cached.result(lm.geometry, cfg.path_key())
        sol = cached.result(lm.geometry_solution, cfg)
        path, w_now = g.path, sol.x[0]
        for name, res in (("path", path), ("solution at this λ", sol)):
            if res.diverged or (res.convergence is not None and not res.convergence.converged):
                st.warning(f"The {name} did not converge: {res.message} The weights shown are the last iterate.")
        zeros = int(np.sum(w_now == 0.0))
        first = "never" if not np.isfinite(g.first_zero) else f"{g.first_zero:.3g}"
        charts = st.container()  # the figures first (on the projector's first screen), the numbers under them
        layout.metrics([("w₁ at current λ", f"{w_now[0]:.3f}"), ("w₂ at current λ", f"{w_now[1]:.3f}"),
                        ("weights exactly 0", str(zeros)),
                        ("first exact zero at λ ≈", first, "Smallest λ with a weight exactly 0")])
        if np.isfinite(g.first_zero):
            side = "past" if lam >= g.first_zero else "below"
            st.caption(f"λ = {lam:g} is {side} the first exact zero (λ ≈ {g.first_zero:.3g}): "
                       + ("no weight is" if zeros == 0 else "both weights are" if zeros == 2 else "one weight is")
                       + " exactly 0 here.")
        with charts:  # side by side; one under the other on the projector (each as wide as the wall allows)
            left, right = (st.container(), st.container()) if layout.presenting() else st.columns([1.15, 1])
        with left:
            layout.show_figure(figs.fig_regularizer_geometry(g.w1, g.w2, g.loss_grid, path, w_now, reg, alpha,
                                                             path.x[0]), key="fig_geometry")
        with right:
            layout.show_figure(figs.fig_coefficient_paths(
                lm.PathResult(path.lams[1:], path.x[1:], path.data_loss[1:], path.penalty[1:], path.nit,
                              path.message), max(lam, 1e-3)), key="fig_paths")
        layout.download_csv("regularization path", {"lambda": path.lams, "w1": path.x[:, 0], "w2": path.x[:, 1],
                                                    "data_loss": path.data_loss, "R_w": path.penalty},
                            "regularization_path.csv", key="dl_path")
        layout.show_code(lm.regularization_path)


@layout.section(4, "4 · A real linear classifier: 8×8 digits", prose=(
    "Each template is a weight row: a class's score is the dot product of the image with it. Raise L2 λ: "
    "templates get smoother; switch to L1: border pixels get weight **exactly 0**."))
def _digits() -> None:
    controls, figure = layout.panel()
    d = lm.CLASSIFIER_DEFAULT
    with controls:
        closs = w.select("Data loss", "clf_loss", {"softmax": "Softmax", "hinge": "Hinge"}, d.loss,
                         help="Softmax cross-entropy or the multiclass SVM (hinge) loss")
        creg = w.select("Regularizer", "clf_reg", REGS, d.reg, help="Elastic net with α = 0.5")
        clam = w.log_slider("Strength λ", "clf_lam", 1e-5, 1.0, d.lam, extra=(0.0,))
        steps = w.slider("Gradient steps", "steps", 10, lm.MAX_STEPS, d.n_steps, step=10)
    with figure, layout.numerical_guard("Training the classifier"):
        asked = replace(d, loss=closs, reg=creg, lam=clam, n_steps=steps, seed=seed)
        cfg = asked.clamped()
        layout.capped(asked, cfg, {"lam": "λ", "n_steps": "gradient steps"})
        traj = lm.classifier_trajectory_key(cfg)
        if cached.ready(lm.classifier_trajectory, traj):  # a stored run to the slider's end: every step count is a cut
            res = lm.classifier_at(cached.result(lm.classifier_trajectory, traj), cfg.n_steps)
        else:
            # a short run (~50-90 ms) costs less in this thread than a worker round trip; longer runs go to a worker
            res = cached.result(lm.classifier, cfg, heavy=cfg.n_steps > lm.LIGHT_STEPS,
                                label="Training on 1,257 digit images")
        layout.metrics([
            ("Training accuracy", f"{100 * res.train_accuracy:.1f} %"),
            ("Validation accuracy", f"{100 * res.val_accuracy:.1f} %", "540 held-out images"),
            ("Weights exactly 0", f"{100 * res.zero_fraction:.0f} %"),
            ("Final objective", f"{res.objective[-1]:.3f}"),
        ])
        conv = getattr(res, "convergence", None)
        if conv is not None and not conv.converged:
            st.caption(conv.sentence("Training"))
        layout.show_figure(figs.fig_templates(res, tuple(str(i) for i in range(10))), key="fig_templates")
        layout.show_figure(figs.fig_training_curve(res), key="fig_curve")
        layout.download_csv("template weights", {f"class_{k}": res.W[:, k] for k in range(10)}, "digit_templates.csv",
                            key="dl_templates")
        layout.show_code(lm.train_linear_classifier)


layout.finish_page()

"""Losses & regularizers: the data term, why W is not unique, and what λR(W) prefers."""

import numpy as np
import pandas as pd
import streamlit as st

from pages._ui import layout
from pages._ui import widgets as w
from pages._ui.cached import losses as cached
from regopt_core import linear_models, losses
from regopt_core.figures import losses as figs

layout.page_header(
    "Losses & regularizers",
    r"L(W) = \underbrace{\frac{1}{N}\sum_{i=1}^{N} L_i\big(f(x_i, W), y_i\big)}_{\text{data term}}"
    r" + \underbrace{\lambda\, R(W)}_{\text{regularization}}",
    "The data term measures how unhappy we are with the scores a linear classifier gives our training "
    "examples. It often has many equally good minimisers; the regularizer **λR(W)** states which of them we "
    "prefer — small weights (L2), few weights (L1), or a blend (elastic net).",
)

CLASSES = losses.LECTURE_CLASSES
EXAMPLES = tuple(f"{c} image" for c in CLASSES)
PRESETS = {
    "lecture": ("The lecture's scores (loss 2.9, 0, 12.9)", losses.LECTURE_SCORES),
    "zero": ("A W with zero loss", np.array([[3.2, 1.3, 2.2], [1.3, 4.9, 2.0], [-1.7, 2.0, 3.1]])),
}

with st.sidebar:
    seed = w.seed()

# ------------------------------------------------------------------------------------------------
st.header("1 · Two data losses on three examples")


@st.fragment
def score_table() -> None:
    c1, c2 = st.columns([1, 1])
    with c1:
        preset = w.select("Scores", "table", {"lecture": "Lecture", "zero": "Zero loss"}, "lecture",
                          help="Lecture: the slide's scores (losses 2.9, 0, 12.9). Zero loss: a W that classifies all three with margin.")
    with c2:
        margin = w.slider("Margin Δ of the hinge loss", "margin", 0.0, 5.0, 1.0, step=0.1,
                          help="The hinge loss wants the true class to win by at least Δ.")
    base = PRESETS[preset][1]
    # The slide's orientation: one row per class, one column per example image.
    table = pd.DataFrame(base.T, index=[f"score: {c}" for c in CLASSES], columns=list(EXAMPLES))
    st.caption("Edit any score (double-click a cell). Rows are classes, columns are example images; the true "
               "class of each image is its column name. Edits stay in this browser tab (they are not in the link).")
    edited = st.data_editor(table, key=f"scores_{preset}", width="stretch",
                            column_config={c: st.column_config.NumberColumn(c, format="%.2f", min_value=-1e6,
                                                                            max_value=1e6) for c in EXAMPLES})
    scores = edited.to_numpy(dtype=float).T  # back to (example, class)
    if not np.all(np.isfinite(scores)):
        st.warning("Every score must be a number; empty cells are treated as 0.")
        scores = np.nan_to_num(scores)
    hinge = losses.multiclass_hinge(scores, losses.LECTURE_LABELS, margin=margin)
    ce = losses.softmax_cross_entropy(scores, losses.LECTURE_LABELS)
    result = pd.DataFrame({"hinge (SVM) loss L_i": hinge, "softmax cross-entropy L_i": ce,
                           "P(true class)": np.exp(-ce)}, index=list(EXAMPLES)).T
    result["mean over examples"] = [hinge.mean(), ce.mean(), np.exp(-ce).mean()]
    st.dataframe(result.style.format("{:.2f}"), width="stretch")
    layout.metrics([("Mean hinge loss", f"{hinge.mean():.2f}", "1/N Σ L_i with the hinge loss"),
                    ("Mean cross-entropy", f"{ce.mean():.2f}", "1/N Σ −log p(true class)")])
    terms = losses.hinge_margins(scores, losses.LECTURE_LABELS, margin=margin)
    layout.show_figure(figs.fig_hinge_terms(terms, losses.LECTURE_LABELS, CLASSES, EXAMPLES))
    layout.download_csv("hinge terms", {"example": EXAMPLES, **{f"term_{c}": terms[:, j] for j, c in enumerate(CLASSES)},
                                        "hinge": hinge, "cross_entropy": ce}, "hinge_terms.csv", key="dl_terms")


score_table()
layout.what_to_notice([
    "The hinge loss is **exactly zero** once the true class wins by the margin Δ — a car image scored 4.9 "
    "for *car* is already 'good enough', however the other scores move.",
    "Cross-entropy is **never zero**: it keeps asking for a larger gap, and grows without bound when the true "
    "class loses badly (the bird image).",
])

# ------------------------------------------------------------------------------------------------
st.header("2 · A zero loss does not pick one W")


@st.fragment
def non_uniqueness() -> None:
    c1, c2 = st.columns(2)
    with c1:
        scale = w.slider("Scale the weights: W → c·W", "scale", 0.0, 4.0, 1.0, step=0.05)
    with c2:
        lam_s = w.log_slider("L2 strength λ", "slam", 1e-4, 1.0, 0.001, help="Strength of R(W) = Σ W²")
    zero_scores = PRESETS["zero"][1]
    scan = linear_models.scale_scan(zero_scores, losses.LECTURE_LABELS, np.linspace(0.0, 4.0, 161), margin=1.0, lam=lam_s)
    data_now = losses.multiclass_hinge(scale * zero_scores, losses.LECTURE_LABELS).mean()
    pen_now = lam_s * scale**2 * float(np.sum(zero_scores**2))
    layout.metrics([("Hinge data loss at c", f"{data_now:.3f}"), ("λ·R(c·W)", f"{pen_now:.3f}"),
                    ("Total", f"{data_now + pen_now:.3f}"), ("Best c", f"{scan.c_best:.2f}")])
    layout.show_figure(figs.fig_scale_scan(scan, scale))
    layout.download_csv("scale scan", {"c": scan.c, "data_loss": scan.data_loss, "penalty": scan.penalty,
                                       "objective": scan.objective}, "scale_scan.csv", key="dl_scale")


non_uniqueness()
layout.what_to_notice([
    "With the zero-loss scores, every c ≥ 1 keeps the hinge loss at 0: 2W, 3W, … are all 'perfect'.",
    "The L2 penalty grows like c², so data loss + λR has **one** minimiser — the regularizer breaks the tie. "
    "A larger λ pushes the best c down, even below 1, trading a little data loss for smaller weights.",
])

# ------------------------------------------------------------------------------------------------
st.header("3 · The geometry of L1, L2 and elastic net")


@st.fragment
def geometry() -> None:
    c1, c2, c3 = st.columns(3)
    with c1:
        reg = w.select("Regularizer R(w)", "reg", {"l2": "L2", "l1": "L1", "elastic_net": "Elastic net"}, "l1",
                       help="L2: Σ w²  ·  L1: Σ |w|  ·  elastic net: α Σ|w| + (1−α) Σ w²")
        alpha = w.slider("Elastic-net mix α (1 = L1, 0 = L2)", "alpha", 0.0, 1.0, 0.5, step=0.05) if reg == "elastic_net" else 0.5
    with c2:
        lam = w.log_slider("Strength λ", "lam", 1e-3, 10.0, 0.2, extra=(0.0,))
        loss = w.select("Data loss", "loss", {"squared": "Squared", "huber": "Huber"}, "squared",
                        help="Squared: ½r²  ·  Huber: ½r² near 0, linear beyond δ = 1 (robust to outliers)")
    with c3:
        rho = w.slider("Feature correlation ρ", "rho", -0.95, 0.95, 0.7, step=0.05)
        n_out = w.slider("Outliers in the data", "outliers", 0, 10, 0, help="Gross errors: compare squared and Huber loss.")
    with layout.numerical_guard("Computing the regularization path"):
        g = cached.geometry(reg, loss, rho, alpha, n_out, seed)
        w_now = cached.solution_at(reg, loss, rho, alpha, n_out, seed, lam)
        path = g["path"]
        zeros = int(np.sum(np.abs(w_now) < 1e-10))
        hit = np.flatnonzero(np.any(np.abs(path.x[1:]) < 1e-10, axis=1))
        first_zero = f"{path.lams[1:][hit[0]]:.3g}" if hit.size else "never"
        layout.metrics([("w₁ at current λ", f"{w_now[0]:.3f}"), ("w₂ at current λ", f"{w_now[1]:.3f}"),
                        ("weights exactly 0", str(zeros)),
                        ("first exact zero at λ ≈", first_zero, "Smallest λ on the path with a weight exactly 0")])
        left, right = st.columns([1.15, 1])
        with left:
            layout.show_figure(figs.fig_regularizer_geometry(g["w1"], g["w2"], g["loss_grid"], path, w_now, reg, alpha,
                                                             path.x[0]))
        with right:
            layout.show_figure(figs.fig_coefficient_paths(
                linear_models.PathResult(path.lams[1:], path.x[1:], path.data_loss[1:], path.penalty[1:], path.nit,
                                         path.message), max(lam, 1e-3)))
        layout.download_csv("regularization path", {"lambda": path.lams, "w1": path.x[:, 0], "w2": path.x[:, 1],
                                                    "data_loss": path.data_loss, "R_w": path.penalty},
                            "regularization_path.csv", key="dl_path")
        layout.show_code(linear_models.regularization_path)


geometry()
layout.what_to_notice([
    "The minimiser sits where a data-loss contour first touches the regularizer's level set.",
    "**L1**: the diamond has corners on the axes, so the path reaches **w₂ = 0 exactly** at a finite λ — sparsity. "
    "**L2**: the round ball only shrinks both weights smoothly toward 0, never exactly.",
    "Turn on outliers: the squared loss chases them; the Huber loss grows only linearly and barely moves.",
])

# ------------------------------------------------------------------------------------------------
st.header("4 · A real linear classifier: 8×8 digits")


@st.fragment
def digits() -> None:
    c1, c2, c3 = st.columns(3)
    with c1:
        closs = w.select("Data loss", "clf_loss", {"softmax": "Softmax", "hinge": "Hinge"}, "softmax",
                          help="Softmax cross-entropy or the multiclass SVM (hinge) loss")
    with c2:
        creg = w.select("Regularizer", "clf_reg", {"l2": "L2", "l1": "L1", "elastic_net": "Elastic net"}, "l2",
                         help="Elastic net with α = 0.5")
    with c3:
        clam = w.log_slider("Strength λ", "clf_lam", 1e-5, 1.0, 1e-3, extra=(0.0,))
    steps = w.slider("Gradient steps", "steps", 10, linear_models.MAX_STEPS, 300, step=10)
    with layout.numerical_guard("Training the classifier"):
        with st.spinner("Training on 1,257 digit images…"):
            res = cached.classifier(closs, creg, clam, 0.5, steps, seed)
        layout.metrics([
            ("Training accuracy", f"{100 * res.train_accuracy:.1f} %"),
            ("Validation accuracy", f"{100 * res.val_accuracy:.1f} %", "540 held-out images"),
            ("Weights exactly 0", f"{100 * res.zero_fraction:.0f} %"),
            ("Final objective", f"{res.objective[-1]:.3f}"),
        ])
        layout.show_figure(figs.fig_templates(res, tuple(str(i) for i in range(10))))
        layout.show_figure(figs.fig_training_curve(res))
        layout.download_csv("template weights", {f"class_{k}": res.W[:, k] for k in range(10)}, "digit_templates.csv",
                            key="dl_templates")
        layout.show_code(linear_models.train_linear_classifier)


digits()
layout.what_to_notice([
    "Each template is a weight row: the score of a class is the dot product of the image with it.",
    "Raise L2 λ: templates get smoother and weaker; training and validation accuracy move closer together.",
    "Switch to L1: most border pixels get weight **exactly 0** (they never carry ink), the templates turn sparse.",
])

layout.finish_page()

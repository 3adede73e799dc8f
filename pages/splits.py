"""Dataset-split pitfalls: how optimistic is each way of measuring a model's error, with the truth known."""

import numpy as np
import pandas as pd
import streamlit as st

from pages._ui import layout
from pages._ui import widgets as w
from pages._ui.cached import splits as cached
from regopt_core import splits

layout.page_header(
    "Dataset splits: how optimistic is your error?",
    r"\text{optimism} = \underbrace{\mathrm{Err}_{\text{true}}(\hat f)}_{\text{new data}}"
    r" - \underbrace{\widehat{\mathrm{Err}}(\hat f)}_{\text{what you report}}"
    r"\qquad \mathbb{E}\Big[\max_{k\le K}\widehat{\mathrm{acc}}_k\Big] \approx p + s\,\mathbb{E}\big[\max_{k\le K} Z_k\big]",
    "A model is only as good as its error on data it has never seen. Every way of *measuring* that error "
    "uses a finite sample, and some ways reuse the data that chose the model. Here the true error is known — "
    "from the generator of a synthetic problem, or from the hundreds of breast-cancer patients a study did *not* "
    "enrol — so each protocol's report can be compared with the truth, over many random studies: the optimism "
    "becomes a distribution, not an anecdote.",
)

PROBLEMS = {"sine": "Sine", "cancer": "Cancer"}
FOLDS = {"2": "2", "5": "5", "10": "10", "loo": "LOO"}

with st.sidebar:
    st.subheader("Study")
    problem = w.select("Data", "data", PROBLEMS, "sine", horizontal_radio=True,
                       help="Synthetic: y = sin(2πx) + noise (σ = 0.5), x uniform on [−1, 1]; the true error "
                            "is exact. Breast cancer: each study enrols n of the 569 patients; the others "
                            "give the true error.")
    seed = w.seed()

st.caption(
    "Model for sections 1–2: **kernel ridge regression** with the exponential kernel, "
    r"$\hat f_\lambda(x)=\sum_i \alpha_i e^{-\|x-x_i\|/\ell}$, $\alpha=(K+\lambda I)^{-1}y$; "
    "the hyperparameter is λ, tried on a log grid of K values from 10⁻⁶ to 100. For breast cancer the labels "
    "are ±1 and the sign of the fit is the diagnosis (error = misclassified fraction); features are "
    "standardized on each fit's own training rows."
)

# ------------------------------------------------------------------------------------------------
st.header("1 · Three ways to measure the error")
st.markdown(
    "**Approach 1** trains on all data and reports the training error. **Approach 2** splits off a test "
    "set and keeps the λ that does best on it. **Approach 3** picks λ on a validation set, refits on "
    "train + validation and reports the untouched test set. Cross-validation (CV) reuses every point for "
    "validation once; **nested CV** repeats the whole tuning inside each outer fold so that the reported "
    "folds never helped choose λ."
)


def _fold_count(label: str, n: int) -> int:
    return n if label == "loo" else int(label)


@st.fragment
def approaches_panel() -> None:
    c1, c2, c3 = st.columns(3)
    with c1:
        n = w.slider("Study size n", "n", 8, 200, cached.DEFAULTS["n_samples"], step=1,
                     help="Points (or patients) the study has in total, before any split.")
    with c2:
        k_models = int(w.log_slider("Configurations K (λ values)", "K", 1, 1000, cached.DEFAULTS["n_models"],
                                    mantissas=(1, 2, 3, 5), extra=(30.0,)))
    with c3:
        folds_label = w.select("CV folds", "folds", FOLDS, "5", horizontal_radio=True,
                               help="LOO = leave-one-out (n folds, computed by the linear-smoother shortcut "
                                    "without refitting). Nested CV uses at most 10 outer folds.")
    n_folds = _fold_count(folds_label, n)
    with layout.numerical_guard("The split experiment"):
        curves = cached.curves(problem, n, k_models, n_folds, seed)
        fig_curves, fig_fits = cached.curves_figures(problem, n, k_models, n_folds, seed)
        st.subheader("One study")
        layout.show_figure(cached.thaw(fig_curves), key="fig_curves")
        layout.download_csv("error curves", {"lambda": curves.lams, "train": curves.train,
                                              "validation": curves.validation, "test": curves.test,
                                              "cv": curves.cv, "true": curves.true}, "splits_error_curves.csv",
                            key="dl_curves")
        if fig_fits is not None:
            layout.show_figure(cached.thaw(fig_fits), key="fig_fits")

        st.subheader("Many studies")
        with st.spinner("Simulating the random studies…"):
            cmp = cached.comparison(problem, n, k_models, n_folds, seed)
        s = cmp.summary()
        short = ("1 · training", "2 · test-tuned", "3 · train/val/test", "CV minimum", "nested CV")
        metric_items = [
            (short[i], f"{s['optimism'][i]:+.3f}",
             f"Mean of (true − reported) over {cmp.n_repeats} studies; ±{2 * s['optimism_se'][i]:.3f} "
             "is two Monte-Carlo standard errors.")
            for i in range(len(s["approach"]))
        ]
        st.markdown(f"**Mean optimism (true − reported)** over {cmp.n_repeats} random studies of n = {cmp.n_samples}:")
        layout.metrics(metric_items)
        if cmp.n_repeats < cached.N_REPEATS:
            st.caption(f"Only {cmp.n_repeats} studies at this size and fold count (the page caps the work).")
        fig_rep, fig_box, fig_tuning = cached.comparison_figures(problem, n, k_models, n_folds, seed)
        layout.show_figure(cached.thaw(fig_rep), key="fig_reported")
        layout.show_figure(cached.thaw(fig_box), key="fig_boxes")
        st.dataframe(pd.DataFrame({
            "approach": s["approach"],
            "mean reported": np.round(s["reported"], 4),
            "mean true": np.round(s["true"], 4),
            "mean optimism": np.round(s["optimism"], 4),
            "± 2 SE": np.round(2 * s["optimism_se"], 4),
        }), hide_index=True, width="stretch")
        cols = {"study": np.arange(cmp.n_repeats)}
        for i, name in enumerate(cmp.names):
            cols[f"reported[{name}]"] = cmp.reported[i]
            cols[f"true[{name}]"] = cmp.true[i]
        layout.download_csv("reported and true error per study", cols, "splits_approaches.csv", key="dl_cmp")

        st.subheader("Approach 2 up close: tuning λ on the test set")
        layout.show_figure(cached.thaw(fig_tuning), key="fig_tuning")
        st.caption(
            f"Dotted line: the optimism if the K = {cmp.lams.size} configurations were equally good and "
            "independent, s·E[max of K standard normals] with s the standard error of one test error. "
            "Neighbouring λ give nearly the same model, so a λ grid behaves like far fewer independent "
            "tries: its optimism is smaller, but it is not zero — and section 2 shows the worst case."
        )
        layout.show_code(splits.compare_approaches, splits.kernel_ridge_path, splits.loo_residuals)


approaches_panel()
layout.what_to_notice([
    "Approach 1 reports an error near **zero** at the smallest λ: the kernel fit passes through every training "
    "point. Its true error is the largest of all — training error says nothing about new data.",
    "Approach 2's diamond sits to the right of its circle: the test set that picked λ is no longer a test "
    "set. Approach 3 and nested CV are centred on zero (honest); the plain CV minimum is slightly optimistic.",
    "Set n = 8: every estimate becomes very noisy — tiny studies cannot be evaluated reliably, however they split. "
    "Set K = 1: with nothing to choose, approach 2 is honest too.",
])

# ------------------------------------------------------------------------------------------------
st.header("2 · The best of K equally good models")
st.markdown(
    "The worst case for approach 2: K models that are all **exactly equally good** (true accuracy p), each "
    "scored on the same n test points. Their measured accuracies scatter with standard error "
    r"$s=\sqrt{p(1-p)/n}$; the winner is simply the luckiest. Its expected reported accuracy is "
    r"$p+s\,\mathbb E[\max_K Z]$, with $\mathbb E[\max_K Z]=\int z\,K\varphi(z)\Phi(z)^{K-1}dz$ (computed by "
    "quadrature), while a fresh test set gives p back."
)


@st.fragment
def best_of_k_panel() -> None:
    c1, c2, c3 = st.columns(3)
    with c1:
        k = int(w.log_slider("Models K", "bk", 1, 1000, cached.DEFAULTS["bk_models"]))
    with c2:
        n_test = int(w.log_slider("Test points n", "nt", 10, 10000, cached.DEFAULTS["bk_test"]))
    with c3:
        acc = w.slider("True accuracy p", "acc", 0.5, 0.99, cached.DEFAULTS["bk_acc"], step=0.01)
    res = cached.best_of_k(n_test, acc, k, seed)
    layout.metrics([
        ("Theory p + s·E[max]", f"{res.expected_best_normal:.4f}", "Normal approximation."),
        ("Exact expectation", f"{res.expected_best_exact:.4f}", "Binomial: Σ_j (1 − F(j)^K) / n."),
        ("Simulated best", f"{res.best.mean():.4f}", f"Mean over {res.best.size} repetitions."),
        ("Fresh test set", f"{res.fresh.mean():.4f}", "The chosen model on new data (mean)."),
    ])
    fig_hist, fig_k = cached.best_of_k_figures(n_test, acc, k, seed)
    layout.show_figure(cached.thaw(fig_hist), key="fig_bok")
    layout.download_csv("best-of-K repetitions", {"best_on_test": res.best, "fresh_test": res.fresh},
                        "splits_best_of_k.csv", key="dl_bok")
    layout.show_figure(cached.thaw(fig_k), key="fig_bok_k")
    layout.show_code(splits.simulate_best_of_k, splits.expected_max_normal)


best_of_k_panel()
layout.what_to_notice([
    "K = 100 models of accuracy 0.80 on 1,000 test points: the winner reports about **0.83**, and a fresh "
    "test set gives **0.80** again. Three points of accuracy came from luck alone.",
    "The optimism grows like √(2 ln K): trying 10× more configurations adds less each time, but never stops adding.",
    "A larger test set shrinks s like 1/√n — the only cure for this bias is data the choice never saw.",
])

# ------------------------------------------------------------------------------------------------
st.header("3 · Early stopping: is the training error the error we care about?")
st.markdown(
    r"Gradient descent on the training MSE of a linear model, $w_{t+1}=w_t-\eta\frac1n X^\top(Xw_t-y)$, from "
    r"$w_0=0$, with as many weights p as there are training points (n = 40). Inputs are standard normal, so "
    r"the true error of any $w$ is exactly $\|w-w^\star\|^2+\sigma^2$. Stop where the **validation** error is "
    r"smallest. Ridge with $\lambda=1/(\eta t)$ tracks the same path."
)


@st.fragment
def early_panel() -> None:
    c1, c2, c3 = st.columns(3)
    with c1:
        p = w.slider("Weights p", "p", 5, 80, 40, step=1, help="Near p = n = 40 the final fit is worst.")
    with c2:
        sigma = w.slider("Noise σ", "sigma", 0.0, 1.0, 0.3, step=0.05)
    with c3:
        epochs = int(w.log_slider("Epochs", "epochs", 10, 20000, 3000, mantissas=(1, 2, 3, 5)))
    show_ridge = w.toggle("Show ridge with λ = 1/(ηt)", "ridge", True)
    with layout.numerical_guard("Gradient descent"):
        res = cached.early(p, sigma, epochs, seed)
        t_stop = res.stop_epoch
        layout.metrics([
            ("Stop at epoch", f"{t_stop}", "Minimum of the validation error."),
            ("True error at stop", f"{res.true[t_stop]:.3f}", "‖w − w*‖² + σ²"),
            ("True error at the end", f"{res.true[-1]:.3f}", f"After {res.epochs[-1]} epochs."),
            ("Best possible (oracle)", f"{res.true.min():.3f}", f"At epoch {res.best_epoch}; unknown in practice."),
        ])
        layout.show_figure(cached.thaw(cached.early_figure(p, sigma, epochs, show_ridge, seed)), key="fig_early")
        layout.download_csv("training curves", {"epoch": res.epochs, "train": res.train, "validation": res.validation,
                                                "test": res.test, "true": res.true,
                                                "ridge_true_at_lambda_1_over_eta_t": np.r_[np.nan, res.ridge_true]},
                            "splits_early_stopping.csv", key="dl_early")
        layout.show_code(splits.gd_least_squares, splits.early_stopping)


early_panel()
layout.what_to_notice([
    "The training error falls forever; the true error falls, bottoms out, then climbs as GD starts fitting noise.",
    "The validation minimum lands close to the true minimum: a held-out set is what makes stopping possible.",
    "The dotted ridge curve follows GD through the descent and around the stop: stopping after t epochs acts "
    "like a ridge penalty λ ≈ 1/(ηt). Late in training the match loosens (GD then fits the weakest directions "
    "faster than the matching ridge would).",
])

# ------------------------------------------------------------------------------------------------
st.header("4 · Leakage: when the test data help train the model")

st.subheader("4a · Selecting predictors before cross-validating (ESL §7.10.2)")
st.markdown(
    "Pure noise: 50 samples in two equal classes and thousands of random predictors unrelated to the labels, "
    "so **every classifier's true error is 50 %**. Keep the predictors most correlated with the labels, "
    "then classify with 1-nearest-neighbour. *Wrong way*: select on all 50 samples, then cross-validate. "
    "*Right way*: select again inside every training fold."
)


@st.fragment
def esl_panel() -> None:
    c1, c2 = st.columns(2)
    with c1:
        p = int(w.log_slider("Noise predictors", "esl_p", 100, 5000, 5000, mantissas=(1, 2, 5)))
    with c2:
        keep = int(w.log_slider("Predictors kept", "esl_keep", 1, 1000, 100, mantissas=(1, 2, 5)))
    args = (50, p, min(keep, p), 5, seed)
    res = cached.esl(*args)
    m = res.estimates.mean(axis=1)
    layout.metrics([("Wrong-way CV error", f"{100 * m[0]:.1f} %"), ("Right-way CV error", f"{100 * m[1]:.1f} %"),
                    ("True error", "50 %")])
    title = f"Pure noise, {res.estimates.shape[1]} repetitions: CV estimates"
    layout.show_figure(cached.thaw(cached.leak_figure("esl", args, title)), key="fig_esl")
    layout.download_csv("ESL experiment", {"wrong_way": res.estimates[0], "right_way": res.estimates[1]},
                        "splits_esl.csv", key="dl_esl")
    layout.show_code(splits.selection_leak)


esl_panel()

st.subheader("4b · Preprocessing fitted before the split")
st.markdown(
    "Breast-cancer studies of 100 patients, 1-nearest-neighbour, 5-fold CV; the other 469 patients give the "
    "true error. Standardizing with all study data looks at the test folds' features but not their labels. "
    "**Oversampling** the rarer class (malignant) by copying patients before the split puts copies of one "
    "patient into both the training and the test folds."
)


@st.fragment
def prep_panel() -> None:
    n = w.slider("Patients per study", "prep_n", 20, 300, 100, step=10)
    res = cached.preprocessing(n, 5, seed)
    fig = cached.leak_figure("prep", (n, 5, seed), "Breast cancer: preprocessing before vs inside the folds")
    m, t = res.estimates.mean(axis=1), res.true.mean(axis=1)
    layout.metrics([
        ("Standardize first", f"{100 * m[0]:.1f} %"), ("Standardize in fold", f"{100 * m[1]:.1f} %"),
        ("Oversample first", f"{100 * m[2]:.1f} %"), ("Oversample in fold", f"{100 * m[3]:.1f} %"),
        ("True error", f"{100 * t[2]:.1f} %", "Of the oversampled model, on the patients not enrolled."),
    ])
    layout.show_figure(cached.thaw(fig), key="fig_prep")
    layout.download_csv("preprocessing experiment", {name: res.estimates[i] for i, name in enumerate(res.names)},
                        "splits_preprocessing.csv", key="dl_prep")
    layout.show_code(splits.preprocessing_leak)


prep_panel()

st.subheader("4c · Several samples per patient")
st.markdown(
    "Each patient contributes several samples (scans, visits, slices) that resemble each other far more than "
    "they reveal the diagnosis. Splitting **samples** at random puts a patient's siblings on both sides; "
    "splitting **patients** (group k-fold) does not. True error: the classifier on 2,000 new patients."
)


@st.fragment
def patients_panel() -> None:
    c1, c2 = st.columns(2)
    with c1:
        per = w.slider("Samples per patient", "per", 1, 20, 5, step=1)
    with c2:
        n_pat = w.slider("Patients", "pat", 10, 200, 40, step=10)
    res = cached.patients(n_pat, per, 5, seed)
    fig = cached.leak_figure("patients", (n_pat, per, 5, seed), "Random split vs split by patient")
    m, t = res.estimates.mean(axis=1), res.true.mean(axis=1)
    layout.metrics([("Random split CV", f"{100 * m[0]:.1f} %"), ("Split by patient CV", f"{100 * m[1]:.1f} %"),
                    ("True error (new patients)", f"{100 * t[0]:.1f} %")])
    layout.show_figure(cached.thaw(fig), key="fig_patients")
    layout.download_csv("patient experiment", {"random_split": res.estimates[0], "group_split": res.estimates[1],
                                               "true": res.true[0]}, "splits_patients.csv", key="dl_patients")
    layout.show_code(splits.patient_leak)


patients_panel()
layout.what_to_notice([
    "ESL's wrong way reports a few percent error on data where no classifier can beat a coin: the selection "
    "step saw the test folds' labels. Selecting inside each fold gives the honest 50 %.",
    "Standardizing before the split changes almost nothing here (it never sees labels); copying patients "
    "before the split makes the error look clearly smaller than it is.",
    "With several samples per patient, a random split reports near-zero error; the group split matches the "
    "error on new patients. With one sample per patient the two agree.",
])

layout.finish_page()

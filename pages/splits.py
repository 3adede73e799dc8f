"""Dataset-split pitfalls: how optimistic is each way of measuring a model's error, with the truth known."""

import numpy as np
import pandas as pd
import streamlit as st

from pages._ui import cached, figures, gate, layout
from pages._ui import widgets as w
from regopt_core import splits
from regopt_core.figures import splits as splits_figures
from regopt_core.splits import claims
from regopt_core.splits import configs as C

figs = figures.builders(splits_figures)  # memoized: a rerun that changes nothing a figure uses reuses it

layout.page_header(
    "Dataset splits: how optimistic is your error?",
    r"\text{optimism} = \underbrace{\mathrm{Err}_{\text{true}}(\hat f)}_{\text{new data}}"
    r" - \underbrace{\widehat{\mathrm{Err}}(\hat f)}_{\text{what you report}}",
    "A model is only as good as its error on data it has never seen. Here the true error is known — from the "
    "generator of a synthetic problem, or from the breast-cancer patients a study did *not* enrol — so each "
    "protocol's report can be compared with the truth, over many random studies.",
    sections=("Three ways", "Best of K", "Early stopping", "Selection leak", "Preprocessing", "Patients"),
)

PROBLEMS = {"sine": "Sine", "cancer": "Cancer"}
FOLDS = {"2": "2", "5": "5", "10": "10", "loo": "LOO"}

with st.sidebar:
    seed = w.seed()
RUN = gate.page("splits")  # this whole-page run starts (a section's own move reruns only its fragment)
_WAIT = ("Not computed for these settings yet: more work than a move of a control may take while the class is using "
         "the app. Press the button to compute every section of this page for these settings.")


def _may_compute(fn, cfg, key: str, *, live_ok: bool = True) -> bool:
    """May ``fn(cfg)`` be shown now? Yes when it is cached, on the page's first run in a session (a deep link
    computes what it shows), after a *Compute* press, or in a section's own rerun when ``live_ok`` (its work
    fits the live budget). A page-wide move (the seed: every section at once) or a section's move whose work
    cannot meet the 250 ms interaction budget gets a button instead (issue 12, item 3)."""
    return gate.ready([(fn, cfg)], page=RUN, live=live_ok and RUN.section_rerun, key=f"compute_{key}",
                      message=_WAIT)


def _light(run) -> bool:
    """Does ``run`` (a clamped config) fit a control move: its repetitions' estimated cost within 1.25 times the
    live budget?"""
    return run.n_repeats * run.seconds() <= 1.25 * C.LIVE_SECONDS


def _result(fn, cfg, what: str, labels: dict[str, str]):
    """The full result when it is ready (store, pins, memo) or asked for; else the live-budget one + a button.
    ``None`` (and a Compute button) when even the live one is more than a control move may compute."""
    full = cfg.full().clamped()
    run = full if cached.ready(fn, full) else cfg.clamped()
    if run != full and st.button(f"Compute all {full.n_repeats} {what} (a few seconds)", key=f"full_{fn.__name__}"):
        run = full
    elif not _may_compute(fn, run, fn.__name__, live_ok=_light(run)):
        return None
    # work within the live budget runs in the script thread like any light result; a worker job would cost a
    # round trip and one of the session's heavy-job tokens per slider move (after 12 quick moves each one waited
    # ~5 s for the next token)
    res = cached.result(fn, run, heavy=not _light(run), label=f"Simulating {run.n_repeats} {what}…")
    layout.capped(cfg, run, labels)
    return res


def _say(items) -> None:
    st.markdown("\n".join(f"- {c.text}" for c in items))


@layout.section(1, "1 · Three ways to measure the error", prose=(
    "**Approach 1** reports the training error. **Approach 2** keeps the λ that does best on the test set. "
    "**Approach 3** picks λ on a validation set and reports the untouched test set. **Nested CV** repeats the "
    "tuning inside each outer fold. Model: kernel ridge regression, "
    r"$\alpha_\lambda=\arg\min_\alpha\|y-K\alpha\|^2+\lambda\,\alpha^\top K\alpha=(K+\lambda I)^{-1}y$ "
    "(λ next to the *sum* of squared errors, scikit-learn's `KernelRidge(alpha=λ)`; section 3's ridge uses the "
    "mean-loss convention instead), exponential kernel, λ on a log grid of K values from 10⁻⁶ to 100."))
def _approaches():
    controls, figure = layout.panel()
    with controls:
        problem = w.select("Data", "data", PROBLEMS, "sine", horizontal_radio=True)
        n = w.slider("Study size n", "n", 8, 200, 40, step=1)
        k_models = int(w.log_slider("Configurations K (λ values)", "K", 1, 1000, 30, mantissas=(1, 2, 3, 5),
                                    extra=(30.0,)))
        folds = w.select("CV folds", "folds", FOLDS, "5", horizontal_radio=True)
    cfg = C.ApproachesConfig(problem, n, k_models, n if folds == "loo" else int(folds), seed=seed)
    with figure:
        if not _may_compute(C.one_study, cfg.study(), "one_study"):
            return
        curves = cached.result(C.one_study, cfg.study())
        p = splits.picks(curves)
        layout.show_figure(figs.fig_error_curves(curves, chosen={k: curves.lams[j] for k, j in p.items()}),
                           key="fig_curves")
        if curves.x_plot is not None:
            layout.show_figure(figs.fig_fits(curves, p), key="fig_fits")
        layout.download_csv("error curves", {"lambda": curves.lams, "train": curves.train,
                                              "validation": curves.validation, "test": curves.test,
                                              "cv": curves.cv, "true": curves.true}, "splits_error_curves.csv",
                            key="dl_curves")
    cmp = _result(C.approaches, cfg, "random studies", {"n_repeats": "Random studies"})
    if cmp is None:
        return
    s = cmp.summary()
    layout.metrics([(splits.SHORT_NAMES[i], f"{s['optimism'][i]:+.3f}",
                     f"Mean of (true − reported) over {cmp.n_repeats} studies.") for i in range(len(s["approach"]))])
    _say(claims.approaches_claims(cmp))
    c1, c2 = st.columns(2)
    with c1:
        layout.show_figure(figs.fig_reported_vs_true(cmp), key="fig_reported")
    with c2:
        layout.show_figure(figs.fig_optimism_boxes(cmp), key="fig_boxes")
    st.dataframe(pd.DataFrame({"approach": s["approach"], "mean reported": np.round(s["reported"], 4),
                               "mean true": np.round(s["true"], 4), "mean optimism": np.round(s["optimism"], 4),
                               "± 2 SE": np.round(2 * s["optimism_se"], 4)}), hide_index=True, width="stretch")
    layout.show_figure(figs.fig_test_tuning_histogram(cmp), key="fig_tuning")
    cols = {"study": np.arange(cmp.n_repeats)}
    for i, name in enumerate(cmp.names):
        cols[f"reported[{name}]"] = cmp.reported[i]
        cols[f"true[{name}]"] = cmp.true[i]
    layout.download_csv("reported and true error per study", cols, "splits_approaches.csv", key="dl_cmp")
    layout.show_code(splits.compare_approaches, splits.kernel_ridge_path, splits.loo_residuals)


@layout.section(2, "2 · The best of K equally good models", prose=(
    "K models that are all exactly equally good (true accuracy p), each scored on the same n test points: the "
    r"winner is the luckiest. Normal approximation: $p+s\,\mathbb E[\max_K Z]$, $s=\sqrt{p(1-p)/n}$; the exact "
    "binomial expectation is shown beside it."))
def _best_of_k():
    controls, figure = layout.panel()
    with controls:
        k = int(w.log_slider("Models K", "bk", 1, 1000, 100))
        n_test = int(w.log_slider("Test points n", "nt", 10, 10000, 1000))
        acc = w.slider("True accuracy p", "acc", 0.5, 0.99, 0.8, step=0.01)
    bcfg = C.BestOfKConfig(n_test, acc, k, seed=seed).clamped()
    if not _may_compute(C.best_of_k, bcfg, "best_of_k"):
        return
    res = cached.result(C.best_of_k, bcfg)
    with figure:
        layout.show_figure(figs.fig_best_of_k(res), key="fig_bok")  # the figure first: the projector's first screen
        layout.metrics([
            ("Normal approx. p + s·E[max]", f"{res.expected_best_normal:.4f}",
             "An approximation; clipped to 1 when it exceeds 1." if res.normal_exceeds_one else "An approximation."),
            ("Exact expectation", f"{res.expected_best_exact:.4f}", "Binomial: Σ_j (1 − F(j)^K) / n."),
            ("Simulated best", f"{res.best.mean():.4f}", f"Mean over {res.best.size} repetitions."),
            ("Fresh test set", f"{res.fresh.mean():.4f}", "The chosen model on new data (mean)."),
        ])
        _say(claims.best_of_k_claims(res))
        layout.show_figure(figs.fig_optimism_vs_k(n_test=res.n_test, accuracy=res.accuracy, mark=res), key="fig_bok_k")
        layout.download_csv("best-of-K repetitions", {"best_on_test": res.best, "fresh_test": res.fresh},
                            "splits_best_of_k.csv", key="dl_bok")
    layout.show_code(splits.simulate_best_of_k, splits.expected_max_normal)


@layout.section(3, "3 · Early stopping", prose=(
    r"Gradient descent on the *mean* training loss $\frac1{2n}\|Xw-y\|^2$, $w_{t+1}=w_t-\eta\frac1n X^\top(Xw_t-y)$, "
    r"n = 40. The true error is exactly $\|w-w^\star\|^2+\sigma^2$. Ridge here is "
    r"$\frac1{2n}\|Xw-y\|^2+\frac\lambda2\|w\|^2$ with $\lambda=1/(\eta t)$ (a different λ convention from section 1)."))
def _early():
    controls, figure = layout.panel()
    with controls:
        p = w.slider("Weights p", "p", 5, 80, 40, step=1)
        sigma = w.slider("Noise σ", "sigma", 0.0, 1.0, 0.3, step=0.05)
        epochs = int(w.log_slider("Epochs", "epochs", 10, 20000, 3000, mantissas=(1, 2, 3, 5)))
        show_ridge = w.toggle("Show ridge with λ = 1/(ηt)", "ridge", True)
    ecfg = C.EarlyStoppingConfig(n_features=p, sigma=sigma, n_epochs=epochs, seed=seed).clamped()
    if not _may_compute(C.early, ecfg, "early"):
        return
    res = cached.result(C.early, ecfg)
    with figure:
        t_stop = res.stop_epoch
        layout.metrics([
            ("Stop at epoch", f"{t_stop}", "Minimum of the validation error."),
            ("True error at stop", f"{res.true[t_stop]:.3f}", "‖w − w*‖² + σ²"),
            ("True error at the end", f"{res.true[-1]:.3f}", f"After {res.epochs[-1]} epochs."),
            ("Best possible (oracle)", f"{np.nanmin(res.true):.3f}", f"At epoch {res.best_epoch}; unknown in practice."),
        ])
        _say(claims.early_stopping_claims(res))
        if res.convergence is not None:
            st.caption(res.convergence.sentence("Gradient descent"))
        layout.show_figure(figs.fig_early_stopping(res, show_ridge=show_ridge), key="fig_early")
        layout.download_csv("training curves", {"epoch": res.epochs, "train": res.train, "validation": res.validation,
                                                "test": res.test, "true": res.true,
                                                "ridge_true_at_lambda_1_over_eta_t": np.r_[np.nan, res.ridge_true]},
                            "splits_early_stopping.csv", key="dl_early")
    layout.show_code(splits.gd_least_squares, splits.early_stopping)


@layout.section(4, "4a · Selecting predictors before cross-validating (ESL §7.10.2)", prose=(
    "Pure noise: 50 samples, thousands of predictors unrelated to the labels, so every classifier's true error is "
    "50 %. Keep the predictors most correlated with the labels, then 1-nearest-neighbour. *Wrong way*: select on all "
    "samples, then cross-validate. *Right way*: select inside every training fold."))
def _esl():
    controls, figure = layout.panel()
    with controls:
        p = int(w.log_slider("Noise predictors", "esl_p", 100, 5000, 5000, mantissas=(1, 2, 5)))
        keep = int(w.log_slider("Predictors kept", "esl_keep", 1, 1000, 100, mantissas=(1, 2, 5)))
    res = _result(C.esl, C.SelectionLeakConfig(n_features=p, n_keep=min(keep, p), seed=seed), "repetitions",
                  {"n_repeats": "Repetitions", "n_keep": "Predictors kept"})
    if res is None:
        return
    with figure:
        m = res.estimates.mean(axis=1)
        layout.show_figure(figs.fig_leak(res, title=f"Pure noise, {res.estimates.shape[1]} repetitions: CV estimates"),
                           key="fig_esl")  # the figure first: the projector's first screen
        layout.metrics([("Wrong-way CV error", f"{100 * m[0]:.1f} %"), ("Right-way CV error", f"{100 * m[1]:.1f} %"),
                        ("True error", "50 %")])
        _say(claims.leak_claims(res))
        layout.download_csv("ESL experiment", {"wrong_way": res.estimates[0], "right_way": res.estimates[1]},
                            "splits_esl.csv", key="dl_esl")
    layout.show_code(splits.selection_leak)


@layout.section(5, "4b · Preprocessing fitted before the split", prose=(
    "Breast-cancer studies, 1-nearest-neighbour, 5-fold CV; the patients not enrolled give the true error. "
    "Standardizing with all study data sees the test folds' features, not their labels. **Oversampling** the rarer "
    "class before the split puts copies of one patient into training and test folds."))
def _prep():
    controls, figure = layout.panel()
    with controls:
        n = w.slider("Patients per study", "prep_n", 20, 300, 100, step=10)
    res = _result(C.preprocessing, C.PreprocessingLeakConfig(n_samples=n, seed=seed), "studies",
                  {"n_repeats": "Random studies"})
    if res is None:
        return
    with figure:
        m, t = res.estimates.mean(axis=1), res.true.mean(axis=1)
        layout.metrics([
            ("Standardize first", f"{100 * m[0]:.1f} %"), ("Standardize in fold", f"{100 * m[1]:.1f} %"),
            ("Oversample first", f"{100 * m[2]:.1f} %"), ("Oversample in fold", f"{100 * m[3]:.1f} %"),
            ("True error", f"{100 * t[2]:.1f} %", "Of the oversampled model, on the patients not enrolled."),
        ])
        _say(claims.leak_claims(res))
        layout.show_figure(figs.fig_leak(res, title="Breast cancer: preprocessing before vs inside the folds"),
                           key="fig_prep")
        layout.download_csv("preprocessing experiment", {nm: res.estimates[i] for i, nm in enumerate(res.names)},
                            "splits_preprocessing.csv", key="dl_prep")
    layout.show_code(splits.preprocessing_leak)


@layout.section(6, "4c · Several samples per patient", prose=(
    "Each patient contributes several samples that resemble each other far more than they reveal the diagnosis. "
    "Splitting **samples** at random puts a patient's siblings on both sides; splitting **patients** does not."))
def _patients():
    controls, figure = layout.panel()
    with controls:
        per = w.slider("Samples per patient", "per", 1, 20, 5, step=1)
        n_pat = w.slider("Patients", "pat", 10, 200, 40, step=10)
    res = _result(C.patients, C.PatientLeakConfig(n_patients=n_pat, n_per_patient=per, seed=seed), "studies",
                  {"n_repeats": "Random studies"})
    if res is None:
        return
    with figure:
        m, t = res.estimates.mean(axis=1), res.true.mean(axis=1)
        layout.metrics([("Random split CV", f"{100 * m[0]:.1f} %"), ("Split by patient CV", f"{100 * m[1]:.1f} %"),
                        ("True error (new patients)", f"{100 * t[0]:.1f} %")])
        _say(claims.leak_claims(res))
        layout.show_figure(figs.fig_leak(res, title="Random split vs split by patient"), key="fig_patients")
        layout.download_csv("patient experiment", {"random_split": res.estimates[0], "group_split": res.estimates[1],
                                                   "true": res.true[0]}, "splits_patients.csv", key="dl_patients")
    layout.show_code(splits.patient_leak)


layout.finish_page()
RUN.close()

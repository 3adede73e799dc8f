"""SGD and batch size: noisy paths, gradient noise that falls like 1/B, the η/B noise floor, and what a
larger batch buys."""

import numpy as np
import pandas as pd
import streamlit as st

from pages._ui import layout
from pages._ui import widgets as w
from pages._ui.cached import sgd as cached
from pages._ui.cached import thaw
from regopt_core import sgd
from regopt_core.figures import sgd as figs

_SPLIT = sgd.digits_split()
N_TRAIN, N_TEST = len(_SPLIT.y_train), len(_SPLIT.y_test)

layout.page_header(
    "SGD and batch size",
    r"\theta_{t+1} = \theta_t - \eta\,\underbrace{\frac{1}{B}\sum_{i\in\mathcal{B}_t}\nabla L_i(\theta_t)}_{\hat g_t}"
    r"\qquad \operatorname{Var}\hat g_t = \frac{\sigma^2}{B}\cdot\frac{N-B}{N-1}",
    "Gradient descent pays for all **N** training examples on every step. Stochastic gradient descent "
    "estimates the same gradient from a random **minibatch of B examples**: each step is cheaper but noisier. "
    "This page measures both sides of that trade on real data — a softmax classifier for the 8×8 digits "
    f"(N = {N_TRAIN:,} training images) and a two-weight linear regression on the diabetes data (N = 442) — and puts "
    "every measured number next to what theory predicts.",
)

BATCH_OPTIONS = ["1", "2", "4", "8", "16", "32", "64", "128", "256", "512", "full"]
DEFAULT_BATCHES = ["1", "4", "16", "64", "256", "full"]
SAMPLING = {"without": "Without replacement", "with": "With replacement"}


def _as_int(label: str) -> int:
    return sgd.FULL_BATCH if label == "full" else int(label)


with st.sidebar:
    st.subheader("Experiment")
    chosen = w.multiselect("Batch sizes B to compare", "batches", BATCH_OPTIONS, DEFAULT_BATCHES,
                           help="'full' uses every training example in each step (gradient descent). "
                                f"At most {cached.MAX_BATCH_SIZES} are run; the smallest are kept.")
    lr = w.log_slider("Learning rate η", "lr", 0.001, 2.0, sgd.DEFAULT_LR,
                      help="Step size. With the scaling switch on, this is the rate at B = 1 and batch B uses η·B.")
    scale_lr = w.toggle("Scale η with B (linear scaling rule)", "scale_lr", False,
                        help="Goyal et al. (2017): multiply the learning rate by B, so every epoch moves as far "
                             "as with B = 1 — until the step becomes unstable.")
    epochs = w.slider("Epochs (passes over the data)", "epochs", 1, sgd.MAX_EPOCHS, sgd.DEFAULT_EPOCHS,
                      help=f"Runs stop after {sgd.MAX_STEPS:,} updates; with B = 1 that is about 7 epochs of digits.")
    sampling = w.select("Minibatch sampling", "sampling", SAMPLING, "without", horizontal_radio=True,
                        help="Without: reshuffle the data every epoch and walk through it in batches. "
                             "With: every batch is B independent random picks (repeats possible).")
    seed = w.seed()

replace = sampling == "with"
batches = cached.clean_batches(tuple(_as_int(b) for b in chosen))
if len(chosen) > cached.MAX_BATCH_SIZES:
    st.info(f"Only the {cached.MAX_BATCH_SIZES} smallest batch sizes are run (one colour each).")


def _status(tr: sgd.SGDTrace) -> str:
    if tr.diverged:
        return f"diverged at step {tr.diverged_at}"
    if tr.capped:
        return f"capped at {tr.nit:,} updates"
    return "finished"


def _warn_diverged(runs: sgd.BatchComparison, extra: str = "") -> None:
    lines = [f"- **{figs.batch_label(tr.batch_size, tr.n_samples)}, η = {tr.lr:g}** — {tr.message}"
             for tr in runs.traces if tr.diverged]
    if lines:
        st.warning("\n".join(lines) + (f"\n\n{extra}" if extra else ""), icon=":material/trending_up:")


def _runs_csv(runs: sgd.BatchComparison) -> dict:
    cols = {"batch_size": [], "lr": [], "update": [], "epoch": [], "examples_processed": [], "train_loss": []}
    for tr in runs.traces:
        n = len(tr.steps)
        cols["batch_size"] += [tr.batch_size] * n
        cols["lr"] += [tr.lr] * n
        cols["update"] += tr.steps.tolist()
        cols["epoch"] += tr.epochs.tolist()
        cols["examples_processed"] += tr.grad_evals.tolist()
        cols["train_loss"] += tr.losses.tolist()
    return cols


# ------------------------------------------------------------------------------------------------
st.header("1 · Cheap noisy steps or costly exact ones")
st.markdown("Softmax regression on the digits, started from zero weights, once per batch size. The *same* runs "
            "are drawn against three clocks: the number of **updates**, the number of **epochs**, and the number "
            "of **per-example gradients** computed (examples processed = epochs × N).")


@st.fragment
def loss_panel() -> None:
    log_y = w.toggle("Logarithmic loss axis", "logy", False)
    with layout.numerical_guard("Training the digit classifier"):
        with st.spinner("Running SGD for every batch size…"):
            runs = cached.digits_runs(batches, lr, scale_lr, epochs, replace, seed)
        _warn_diverged(runs, "A smaller η (or switching off the scaling rule) keeps it stable.")
        capped = [tr for tr in runs.traces if tr.capped and not tr.diverged]
        if capped:
            st.caption("Capped runs: " + "; ".join(
                f"{figs.batch_label(t.batch_size, t.n_samples)} stopped after {t.nit:,} updates "
                f"({t.epochs[-1]:.1f} epochs)" for t in capped) + " — the page limits every run to "
                f"{sgd.MAX_STEPS:,} updates.")
        table = pd.DataFrame({
            "B": [figs.batch_label(t.batch_size, t.n_samples).removeprefix("B = ") for t in runs.traces],
            "η": [f"{t.lr:g}" for t in runs.traces],
            "updates": [t.nit for t in runs.traces],
            "epochs": [round(float(t.epochs[-1]), 2) for t in runs.traces],
            "final training loss": [round(t.fun, 4) for t in runs.traces],
            "held-out accuracy (%)": [round(100 * a, 1) for a in runs.test_accuracy],
            "status": [_status(t) for t in runs.traces],
        })
        st.dataframe(table, hide_index=True, width="stretch")
        layout.show_figure(thaw(cached.loss_figure(batches, lr, scale_lr, epochs, replace, seed, log_y)),
                           key="fig_loss")
        layout.download_csv("loss curves", _runs_csv(runs), "sgd_loss_curves.csv", key="dl_loss")
        layout.show_code(sgd.minibatch_sgd)


if batches:
    loss_panel()
    layout.what_to_notice([
        "At η = 0.1 the **per-update** curves almost coincide: a single example already points downhill on "
        "average and the step is too small for its noise to matter. The large batches simply run out of "
        "epochs after a few updates.",
        "Raise η to 1 or 2: per update, B = 1 now falls behind (a big step amplifies its noise), while B = 64, "
        "256 and the full batch lie on top of each other — past a *critical batch size* extra examples per step "
        "buy nothing (section 6).",
        f"**Per epoch** (the same compute), small batches win by far: B = 1 makes {N_TRAIN:,} updates per pass, the "
        "full batch one.",
        "Switch on **linear scaling** with η = 0.005: the curves line up per epoch — until η·B gets too large "
        "and a big-batch run becomes unstable.",
    ])
else:
    st.info("Pick at least one batch size in the sidebar to run the experiments.")

# ------------------------------------------------------------------------------------------------
st.header("2 · Paths in parameter space")
names = cached.regression_names()
st.markdown(f"Linear regression with two weights on the diabetes data: disease progression ≈ "
            f"θ₁·{names[0]} + θ₂·{names[1]} (all standardized, N = 442). Every batch size starts at the "
            f"same point θ₀ = {cached.TRAJECTORY_START} with the sidebar's η, epochs and sampling; the contours "
            "are the full-batch loss.")


def paths_panel() -> None:
    with layout.numerical_guard("Running SGD on the regression"):
        res = cached.regression_paths(batches, lr, scale_lr, epochs, replace, seed)
        runs = res["runs"]
        _warn_diverged(runs, f"Full-batch gradient descent on this problem is stable only for "
                             f"η < 2/L = {2 / res['lmax']:.3g}; with small batches single examples with large "
                             "‖xᵢ‖² kick the iterate even earlier.")
        st.dataframe(pd.DataFrame({
            "B": [figs.batch_label(t.batch_size, t.n_samples).removeprefix("B = ") for t in runs.traces],
            "η": [f"{t.lr:g}" for t in runs.traces],
            "updates": [t.nit for t in runs.traces],
            "final L − L*": [f"{t.fun - res['f_star']:.2e}" for t in runs.traces],
            "distance to θ*": [f"{np.linalg.norm(t.x - res['theta_star']):.3f}" for t in runs.traces],
            "status": [_status(t) for t in runs.traces],
        }), hide_index=True, width="stretch")
        layout.show_figure(thaw(cached.paths_figure(batches, lr, scale_lr, epochs, replace, seed)),
                           key="fig_paths")
        cols = {"batch_size": [], "update": [], "theta1": [], "theta2": [], "train_loss": []}
        for tr in runs.traces:
            cols["batch_size"] += [tr.batch_size] * len(tr.steps)
            cols["update"] += tr.steps.tolist()
            cols["theta1"] += tr.path[:, 0].tolist()
            cols["theta2"] += tr.path[:, 1].tolist()
            cols["train_loss"] += tr.losses.tolist()
        layout.download_csv("trajectories", cols, "sgd_trajectories.csv", key="dl_paths")


if batches:
    paths_panel()
    layout.what_to_notice([
        "Equal epochs, very unequal step counts: in 5 epochs the full batch makes 5 straight steps downhill "
        "and is still far from θ*, while B = 1 makes 2,210 zig-zagging steps and arrives early. Give the full "
        "batch 100 epochs to see it finish.",
        "Near the minimum small-batch SGD does not stop: it keeps jittering in a cloud whose size shrinks as "
        "B grows or η shrinks (section 4 measures it).",
        "With reshuffling, the last partial batch of every epoch is shorter (N = 442 is not a multiple of most B).",
    ])

# ------------------------------------------------------------------------------------------------
st.header("3 · How noisy is a minibatch gradient?")
st.markdown("All 442 per-example gradients are computed once at one point; minibatches are then drawn from "
            "them 4,000 times per batch size. σ² is the spread of the per-example gradients "
            "(the trace of their covariance).")


@st.fragment
def noise_panel() -> None:
    point = w.select("Measure the gradients at", "at", {"start": "Start", "minimum": "Minimum"}, "start",
                     horizontal_radio=True,
                     help="Start: θ₀ of the paths above. Minimum: the least-squares solution, where the full gradient is 0.")
    with layout.numerical_guard("Sampling minibatch gradients"):
        res = cached.gradient_noise(point, batches, replace, seed)
        wo, wi = res["without"], res["with"]
        N = wo.n_samples
        half = int(wo.batch_sizes[np.argmin(np.abs(wo.batch_sizes - N // 2))])
        kw = list(wo.batch_sizes).index(half)
        ratio = wi.variance[list(wi.batch_sizes).index(half)] / wo.variance[kw] if wo.variance[kw] > 0 else np.inf
        layout.metrics([
            ("σ² per example", f"{wo.sigma2:.3g}", "Mean squared distance of a per-example gradient from the full gradient"),
            ("|∇L| here", f"{np.linalg.norm(wo.full_grad):.3g}", "Length of the full-batch gradient at this point"),
            ("Measured ÷ theory", f"{wo.variance[0] / wo.theory[0]:.2f}", "Variance at B = 1, without replacement"),
            ("With ÷ without", f"{ratio:.2f}", f"Variance with replacement divided by without, at B = {half} ≈ N/2"),
        ])
        st.caption(f"At B = {half} ≈ N/2 the finite-population factor predicts with ÷ without = (N−1)/(N−B) = "
                   f"{(N - 1) / (N - half):.2f}.")
        noise_figs = cached.noise_figures(point, batches, replace, seed)
        layout.show_figure(thaw(noise_figs["cloud"]), key="fig_cloud")
        layout.show_figure(thaw(noise_figs["variance"]), key="fig_var")
        main = res["main"]
        layout.download_csv("gradient clouds", {
            "batch_size": np.concatenate([[b] * len(c) for b, c in zip(main.cloud_batch_sizes, main.cloud)] or [[]]),
            "dL_dtheta1": np.concatenate([c[:, 0] for c in main.cloud] or [[]]),
            "dL_dtheta2": np.concatenate([c[:, 1] for c in main.cloud] or [[]])}, "sgd_gradient_clouds.csv",
            key="dl_cloud")
        layout.download_csv("gradient variance vs B", {
            "batch_size": wo.batch_sizes, "measured_without_replacement": wo.variance,
            "theory_without_replacement": wo.theory, "measured_with_replacement": wi.variance,
            "theory_with_replacement": wi.theory}, "sgd_gradient_variance.csv", key="dl_var")
        layout.show_code(sgd.sample_minibatch_gradients)


noise_panel()
layout.what_to_notice([
    "Each cloud is centred on the full gradient ★ — a minibatch gradient is right *on average* — and its radius "
    "shrinks like 1/√B: four times the batch halves the spread.",
    "Without replacement the variance falls *faster* than 1/B near B = N and is exactly zero at B = N (the "
    "batch is the whole data set); with replacement a batch of N still repeats some examples and misses others.",
    "At the **minimum** the full gradient is zero, yet every minibatch gradient is not: this is why SGD with a "
    "constant η never settles exactly.",
])

# ------------------------------------------------------------------------------------------------
st.header("4 · The noise floor: η/B sets how close SGD gets")
st.markdown("Runs start *at* the minimum θ* of the regression and keep stepping; the loss rises to a "
            f"stationary level and stays there. For η in {cached.NOISE_FLOOR_LRS} and B in "
            f"{cached.NOISE_FLOOR_BATCHES}, 32 replicas each; the points show the mean excess loss over the second "
            "half of the run, the bars the 10–90 % range of the final loss across replicas. This panel draws "
            "batches **with replacement** so the theory is exact; it depends only on the seed.")


def floor_panel() -> None:
    with layout.numerical_guard("Measuring the noise floor"):
        fl = cached.noise_floor(seed)
        ok = np.isfinite(fl.excess_mean) & np.isfinite(fl.theory)
        dev = np.max(np.abs(fl.excess_mean[ok] / fl.theory[ok] - 1)) if np.any(ok) else np.nan
        layout.metrics([
            ("Slope tr(C)/4", f"{fl.slope:.3g}", "Small-step prediction: excess loss ≈ tr(C)/4 · η/B, C = gradient "
                                                 "covariance at the minimum"),
            ("Largest measured/theory gap", f"{100 * dev:.0f} %", "Over all (η, B) pairs"),
            ("η/B range", f"{fl.lr_over_b.min():.2g} – {fl.lr_over_b.max():.2g}"),
        ])
        layout.show_figure(thaw(cached.floor_figure(seed)), key="fig_floor")
        layout.download_csv("noise floor", {"lr": fl.lrs, "batch_size": fl.batch_sizes, "lr_over_B": fl.lr_over_b,
                                            "excess_loss_mean": fl.excess_mean, "final_q10": fl.final_q10,
                                            "final_q90": fl.final_q90, "exact_theory": fl.theory},
                            "sgd_noise_floor.csv", key="dl_floor")
        layout.show_code(sgd.measure_noise_floor)


floor_panel()
layout.what_to_notice([
    "Points with the same η/B land on top of each other: halving η or doubling B lowers the floor by the same "
    "factor. For one weight with curvature h the stationary variance is ησ²/(B·h·(2−ηh)).",
    "The dashed line is the small-step law; at η = 0.1 with B = 1 the exact value bends above it, because the "
    "2 − ηh factor and the example-to-example curvature both matter when steps are large.",
    "To get closer to θ* you can lower η (slower) or raise B (costlier steps); decaying η over time does both "
    "jobs at once.",
])

# ------------------------------------------------------------------------------------------------
st.header("5 · What a larger batch buys")
st.markdown(f"Held-out accuracy ({N_TEST} test images) of the digit classifier for each batch size, after the same "
            "number of **epochs** as in section 1 and after the same number of **updates**.")


@st.fragment
def accuracy_panel() -> None:
    n_steps = w.slider("Updates for the equal-updates comparison", "steps", 10, cached.MAX_EQUAL_STEPS,
                       sgd.DEFAULT_EQUAL_STEPS, step=10)
    with layout.numerical_guard("Training the digit classifier"):
        with st.spinner("Running SGD for every batch size…"):
            by_epochs = cached.digits_runs(batches, lr, scale_lr, epochs, replace, seed)
            by_steps = cached.digits_equal_steps(batches, lr, scale_lr, n_steps, replace, seed)
        N = by_epochs.traces[0].n_samples
        B = np.array(by_epochs.batch_sizes)
        acc_e, acc_s = np.array(by_epochs.test_accuracy), np.array(by_steps.test_accuracy)
        lab = [figs.batch_label(int(b), N).removeprefix("B = ") for b in B]
        layout.metrics([
            (f"Best B at {epochs} epochs", lab[int(np.argmax(acc_e))],
             f"{100 * acc_e.max():.1f} % held-out accuracy; range over B {100 * acc_e.min():.1f}–{100 * acc_e.max():.1f} %"),
            (f"Best B at {n_steps} updates", lab[int(np.argmax(acc_s))],
             f"{100 * acc_s.max():.1f} % held-out accuracy; range over B {100 * acc_s.min():.1f}–{100 * acc_s.max():.1f} %"),
        ])
        st.caption(f"Held-out accuracy ranges over the batch sizes: {100 * acc_e.min():.1f}–{100 * acc_e.max():.1f} % "
                   f"at equal epochs, {100 * acc_s.min():.1f}–{100 * acc_s.max():.1f} % at equal updates.")
        _warn_diverged(by_steps)
        layout.show_figure(thaw(cached.accuracy_figure(batches, lr, scale_lr, epochs, n_steps, replace, seed)),
                           key="fig_acc")
        layout.download_csv("accuracy vs batch size", {"batch_size": B, "accuracy_equal_epochs": acc_e,
                                                       "accuracy_equal_updates": acc_s},
                            "sgd_accuracy.csv", key="dl_acc")


if batches:
    accuracy_panel()
    layout.what_to_notice([
        "At **equal epochs** (equal compute) small batches reach a better model: they took many more steps.",
        "At **equal updates** (equal wall-clock time if a whole batch is processed in parallel) large batches win, "
        "up to a point — beyond it, extra examples per step barely improve the gradient (section 6).",
        "Claims that small batches generalize better because they find 'flat' minima come from experiments on "
        "deep networks (Keskar et al., 2017). Both problems here are convex with a single minimum, so any gap you "
        "see is about optimization progress, not flatness.",
    ])

# ------------------------------------------------------------------------------------------------
st.header("6 · Critical batch size (optional)")
st.markdown("On a quadratic, the expected loss after one SGD step is best for the learning rate "
            "ε_opt(B) = ε_max / (1 + B_noise / B) (McCandlish et al., 2018). Far below B_noise, doubling B "
            "doubles the useful step; far above, a larger batch buys almost nothing. Measured at θ₀ of the "
            "regression by averaging 2,000 minibatches (with replacement) per B.")


def critical_panel() -> None:
    with layout.numerical_guard("Estimating the best step size"):
        cb = cached.critical(seed)
        layout.metrics([
            ("ε_max (full-batch best step)", f"{cb.eps_max:.3g}", "|G|² / GᵀHG"),
            ("B_noise (critical batch)", f"{cb.b_noise:.3g}", "tr(HΣ) / GᵀHG"),
            ("Best step at B = 1", f"{cb.measured[0]:.3g}", f"Theory {cb.theory[0]:.3g}"),
        ])
        layout.show_figure(thaw(cached.critical_figure(seed)), key="fig_crit")
        layout.download_csv("best step vs batch size", {"batch_size": cb.batch_sizes, "measured": cb.measured,
                                                        "theory": cb.theory}, "sgd_critical_batch.csv", key="dl_crit")
        layout.show_code(sgd.critical_batch)


critical_panel()
layout.what_to_notice([
    "The curve rises almost linearly in B while B ≪ B_noise (the linear scaling rule's regime) and flattens at "
    "ε_max once B ≫ B_noise.",
    "B_noise is the ratio of gradient noise to gradient signal: as training approaches the minimum the signal "
    "shrinks and the critical batch grows.",
])

layout.finish_page()

"""SGD and batch size: noisy paths, gradient noise that falls like 1/B, the η/B noise floor, and what a
larger batch buys. Presentation only: every number comes from ``regopt_core.sgd`` through the cache."""

import numpy as np
import pandas as pd
import streamlit as st

from pages._ui import cached, figures, gate, layout
from pages._ui import widgets as w
from regopt_core import sgd
from regopt_core.figures import sgd as sgd_figures

figs = figures.builders(sgd_figures)  # memoized: a rerun that changes nothing a figure uses reuses it

_SHARED = "_sgd_shared"      # the run settings of section 1 drawn by the last whole-page run
_SPLIT = sgd.digits_split()
N_TRAIN, N_TEST = len(_SPLIT.y_train), len(_SPLIT.y_test)
N_REG = sgd.regression_problem().n_samples
SECTIONS = ("Three clocks", "Paths", "Gradient noise", "Noise floor", "Larger batch", "Critical batch")

layout.page_header(
    "SGD and batch size",
    r"\theta_{t+1} = \theta_t - \eta\,\underbrace{\frac{1}{B}\sum_{i\in\mathcal{B}_t}\nabla L_i(\theta_t)}_{\hat g_t}"
    r"\qquad \operatorname{Var}\hat g_t = \frac{\sigma^2}{B}\cdot\frac{N-B}{N-1}"
    r"\\[4pt] L(W, b) = \frac1N \sum_{i=1}^N \Big(\log\sum_{k=1}^K e^{s_{ik}} - s_{i y_i}\Big)"
    r" + \frac{\lambda}{2}\|W\|_F^2,\quad s_i = W^\top x_i + b"
    r"\qquad L(\theta) = \frac{1}{2N}\|X\theta - y\|^2",
    "Gradient descent pays for all **N** training examples on every step. Stochastic gradient descent "
    "estimates the same gradient from a random **minibatch of B examples**: each step is cheaper but noisier. "
    "This page measures both sides of that trade on real data — a softmax classifier for the 8×8 digits "
    f"(N = {N_TRAIN:,} training images; the loss L(W, b) above: mean cross-entropy plus λ/2·‖W‖², λ = {sgd.LAM:g}, "
    f"the bias b not penalized) and a two-weight linear regression on the diabetes data (N = {N_REG}; L(θ) above, "
    "no penalty) — and puts "
    "every measured number next to what theory predicts.",
    sections=SECTIONS,
)
RUN = gate.page("sgd")  # this whole-page run starts (a section's own move reruns only its fragment)

BATCH_OPTIONS = ["1", "2", "4", "8", "16", "32", "64", "128", "256", "512", "full"]
DEFAULT_BATCHES = ["1", "4", "16", "64", "256", "full"]
SAMPLING = {"without": "Without replacement", "with": "With replacement"}


def _as_int(label: str) -> int:
    return sgd.FULL_BATCH if label == "full" else int(label)


with st.sidebar:
    st.subheader("Experiment (whole page)")
    chosen = w.multiselect("Batch sizes B to compare", "batches", BATCH_OPTIONS, DEFAULT_BATCHES,
                           help="'full' uses every training example in each step (gradient descent). "
                                f"At most {sgd.MAX_BATCH_SIZES} are run; the smallest are kept.")
    sampling = w.select("Minibatch sampling", "sampling", SAMPLING, "without", horizontal_radio=True,
                        help="Without: reshuffle the data every epoch and walk through it in batches. "
                             "With: every batch is B independent random picks (repeats possible).")
    seed = w.seed()

PAGE = sgd.SGDConfig(batch_sizes=tuple(sorted({_as_int(b) for b in chosen})), replace=sampling == "with", seed=seed)


def _section_one_drawn() -> bool:
    return not layout.presenting() or st.query_params.get(w.SECTION_KEY, "1") in ("1", "")


def _run_controls() -> tuple[float, bool, int]:
    """η, the scaling rule and epochs: section 1's controls, shared by sections 2 and 5."""
    lr = w.log_slider("Learning rate η", "lr", sgd.LR_RANGE[0], sgd.LR_RANGE[1], sgd.DEFAULT_LR,
                      help="Step size. With the scaling switch on, this is the rate at B = 1 and batch B uses η·B.")
    epochs = w.slider("Epochs (passes over the data)", "epochs", 1, sgd.MAX_EPOCHS, sgd.DEFAULT_EPOCHS,
                      help=f"Every run stops after {sgd.MAX_STEPS:,} updates; with B = 1 that is about "
                           f"{sgd.MAX_STEPS / N_TRAIN:.0f} epochs of digits.")
    scale_lr = w.toggle("Scale η with B (linear scaling rule)", "scale_lr", False,
                        help="Goyal et al. (2017): multiply the learning rate by B, so every epoch moves as far "
                             "as with B = 1 — until the step becomes unstable.")
    return lr, scale_lr, epochs


def _shared_config() -> sgd.SGDConfig:
    """The page config with section 1's run settings (read from its controls, drawn or not)."""
    if _section_one_drawn():
        lr, scale_lr, epochs = st.session_state.get(_SHARED, (sgd.DEFAULT_LR, False, sgd.DEFAULT_EPOCHS))
    else:
        lr, scale_lr, epochs = _run_controls()
    return sgd.SGDConfig(PAGE.batch_sizes, lr=lr, scale_lr=scale_lr, epochs=epochs, replace=PAGE.replace, seed=seed)


def _status(tr: sgd.SGDTrace) -> str:
    if tr.diverged:
        return f"diverged at step {tr.diverged_at}"
    if tr.capped:
        return f"capped at {tr.nit:,} updates"
    c = tr.convergence
    return "levelled off" if c.converged else f"still moving ({c.value:.1g} > {c.tol:g})"


def _warn_diverged(runs: sgd.BatchComparison, extra: str = "") -> None:
    lines = [f"- **{figs.batch_label(tr.batch_size, tr.n_samples)}, η = {tr.lr:g}** — {tr.message}"
             for tr in runs.traces if tr.diverged]
    if lines:
        st.warning("\n".join(lines) + (f"\n\n{extra}" if extra else ""), icon=":material/trending_up:")


def _ready(pairs: list[tuple], what: str, key: str, *, live: bool = False) -> bool:
    """Can the results ``pairs`` (``(function, config)``) be shown? Yes when they are cached (precomputed store,
    pins, memo), on the page's first run in a session (a deep link computes what it shows), after a *Compute*
    press (every missing result of the page, with a progress bar), or when ``live`` (light work the caller may do
    within the budget). Otherwise the section offers a button: a control move whose work cannot meet the 250 ms
    interaction budget (issue 12, item 3) runs only on request."""

    def message(n: int) -> str:
        return (f"**{what.capitalize()}** for these settings is not computed yet ({n} "
                f"{'result' if n == 1 else 'results'}): together with the rest of the page, more work than a move of a "
                "control may take while the class is using the app. Press the button to compute every section of "
                "this page for these settings (with a progress bar).")

    return gate.ready(pairs, page=RUN, live=live, key=f"compute_{key}", message=message, progress=what)


def _digits_pairs(cfg: sgd.SGDConfig) -> list[tuple]:
    return [(sgd.digits_run, rc) for rc in sgd.digits_run_configs(cfg.digits())]


def _digits(cfg: sgd.SGDConfig) -> sgd.DigitsFamily:
    """The digits runs of ``cfg``, one cached result per batch size (a new batch size computes only itself)."""
    dcfg = cfg.digits()
    traces = tuple(cached.result(sgd.digits_run, rc, heavy=True,
                                 label=f"SGD on the digits, B = {rc.batch_size}, η = {rc.lr:g}")
                   for rc in sgd.digits_run_configs(dcfg))
    return sgd.digits_family(dcfg, traces)


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


def _table(df: pd.DataFrame) -> None:
    """A small result table as HTML (its text scales with the presentation font, unlike a data grid)."""
    st.table(df.set_index(df.columns[0]))


def _no_batches() -> bool:
    if not PAGE.batch_sizes:
        st.info("Pick at least one batch size in the sidebar to run the experiments.")
        return True
    return False


# ------------------------------------------------------------------------------------------------
@layout.section(1, "1 · Cheap noisy steps or costly exact ones", prose=(
    "Softmax regression on the digits, started from zero weights, once per batch size. The *same* runs are "
    "drawn against three clocks: the number of **updates**, the number of **epochs**, and the number of "
    "**per-example gradients** computed (examples processed = epochs × N)."))
def _clocks() -> None:
    controls, figure = layout.panel()
    with controls:
        lr, scale_lr, epochs = _run_controls()
        log_y = w.toggle("Logarithmic loss axis", "logy", False)
    shared = (lr, scale_lr, epochs)
    if RUN.section_rerun and st.session_state.get(_SHARED) != shared:
        st.session_state[_SHARED] = shared
        st.rerun(scope="app")  # sections 2 and 5 use these settings too
    st.session_state[_SHARED] = shared
    if _no_batches():
        return
    requested = sgd.SGDConfig(PAGE.batch_sizes, lr=lr, scale_lr=scale_lr, epochs=epochs, replace=PAGE.replace,
                              seed=seed)
    cfg = requested.clamped()
    with figure, layout.numerical_guard("Training the digit classifier"):
        layout.capped(requested, cfg, {"batch_sizes": "Batch sizes"})
        if not _ready(_digits_pairs(cfg), "the digits runs", "clocks"):
            return
        runs = _digits(cfg).by_epochs(cfg.epochs)
        _warn_diverged(runs)
        capped = [tr for tr in runs.traces if tr.capped and not tr.diverged]
        if capped:
            st.caption("Capped runs: " + "; ".join(
                f"{figs.batch_label(t.batch_size, t.n_samples)} stopped after {t.nit:,} updates "
                f"({t.epochs[-1]:.1f} epochs)" for t in capped) + f" — every run stops after {sgd.MAX_STEPS:,} updates.")
        if layout.presenting():  # one wide figure on the wall: the three clocks in one row
            layout.show_figure(figs.fig_loss_clocks_row(runs, y_title="training loss (CE + λ/2‖W‖²)", log_y=log_y),
                               key="fig_loss_row")
        else:  # three charts in columns (they stack on a phone)
            for col, fig in zip(st.columns(3), figs.fig_loss_clocks(runs, y_title="training loss (CE + λ/2‖W‖²)",
                                                                     log_y=log_y)):
                with col:
                    layout.show_figure(fig, key=f"fig_loss_{fig.layout.title.text}")
        _table(pd.DataFrame({
            "B": [figs.batch_label(t.batch_size, t.n_samples).removeprefix("B = ") for t in runs.traces],
            "η": [f"{t.lr:g}" for t in runs.traces],
            "updates": [t.nit for t in runs.traces],
            "epochs": [round(float(t.epochs[-1]), 2) for t in runs.traces],
            "final training loss": [round(t.fun, 4) for t in runs.traces],
            "held-out accuracy (%)": [round(100 * a, 1) for a in runs.test_accuracy],
            "status": [_status(t) for t in runs.traces],
        }))
        st.markdown(sgd.claims.loss_at_equal_epochs(runs, cfg.epochs))
        settled = sum(t.convergence.converged for t in runs.traces)
        if settled < len(runs.traces):
            st.info(f"{len(runs.traces) - settled} of {len(runs.traces)} runs had not levelled off after "
                    f"{cfg.epochs} epochs (see *status*): their loss was still changing.", icon=":material/timelapse:")
        st.caption(f"Status: a run has *levelled off* when the {sgd.CRITERION} is at most "
                   f"{sgd.PLATEAU_TOL:g}; *diverged* means the weights left |θ| ≤ 10¹² or stopped being finite.")
        layout.download_csv("loss curves", _runs_csv(runs), "sgd_loss_curves.csv", key="dl_loss")
        layout.show_code(sgd.minibatch_sgd)

    layout.what_to_notice([
        "Compare the **per-update** curves: a single example already points downhill on average; raise η to 1 or 2 "
        "and see whether B = 1 falls behind the large batches per update.",
        f"**Per epoch** (the same compute) B = 1 makes {N_TRAIN:,} updates per pass, the full batch one.",
        "Switch on **linear scaling** with η = 0.005: the curves line up per epoch — until η·B gets too large.",
    ])


# ------------------------------------------------------------------------------------------------
@layout.section(2, "2 · Paths in parameter space", prose=(
    f"Linear regression with two weights on the diabetes data: disease progression ≈ θ₁·BMI + θ₂·s5 (all "
    f"standardized, N = {N_REG}). Every batch size starts at the same point θ₀ = {sgd.TRAJECTORY_START} with "
    "section 1's η, epochs and scaling and the sidebar's sampling; the contours are the full-batch loss."))
def _paths() -> None:
    if _no_batches():
        return
    cfg = _shared_config().clamped()
    with layout.numerical_guard("Running SGD on the regression"):
        # ~60 ms: live when the section's own controls move; a page-wide move (seed, batch sizes, sampling) that
        # needs new paths, noise, floor and digits runs at once waits for the Compute button
        if not _ready([(sgd.regression_paths, cfg.paths())], "the regression paths", "paths",
                      live=RUN.section_rerun):
            return
        fam = cached.result(sgd.regression_paths, cfg.paths(), label="SGD paths on the regression")
        runs = fam.by_epochs(cfg.epochs)
        _warn_diverged(runs, f"Full-batch gradient descent on this problem is stable only for "
                             f"η < 2/L = {2 / fam.lmax:.3g}; with small batches single examples with large "
                             "‖xᵢ‖² kick the iterate even earlier.")
        layout.show_figure(figs.fig_trajectories(runs, fam.w1, fam.w2, fam.grid, fam.theta_star,
                                                 names=(f"θ₁, weight of {fam.names[0]}",
                                                        f"θ₂, weight of {fam.names[1]}")), key="fig_paths")
        _table(pd.DataFrame({
            "B": [figs.batch_label(t.batch_size, t.n_samples).removeprefix("B = ") for t in runs.traces],
            "η": [f"{t.lr:g}" for t in runs.traces],
            "updates": [t.nit for t in runs.traces],
            "final L − L*": [f"{t.fun - fam.f_star:.2e}" for t in runs.traces],
            "distance to θ*": [f"{np.linalg.norm(t.path[-1] - fam.theta_star):.3f}" for t in runs.traces],
            "status": [_status(t) for t in runs.traces],
        }))
        cols = {"batch_size": [], "update": [], "theta1": [], "theta2": [], "train_loss": []}
        for tr in runs.traces:
            cols["batch_size"] += [tr.batch_size] * len(tr.steps)
            cols["update"] += tr.steps.tolist()
            cols["theta1"] += tr.path[:, 0].tolist()
            cols["theta2"] += tr.path[:, 1].tolist()
            cols["train_loss"] += tr.losses.tolist()
        layout.download_csv("trajectories", cols, "sgd_trajectories.csv", key="dl_paths")

    layout.what_to_notice([
        "Equal epochs, very unequal step counts: the full batch makes one straight step per epoch, B = 1 makes "
        f"{N_REG:,} zig-zagging ones. Give the full batch 100 epochs to see it finish.",
        "Near the minimum small-batch SGD does not stop: it keeps jittering in a cloud whose size shrinks as B grows "
        "or η shrinks (section 4 measures it).",
    ])


# ------------------------------------------------------------------------------------------------
@layout.section(3, "3 · How noisy is a minibatch gradient?", prose=(
    f"All {N_REG} per-example gradients are computed once at one point; minibatches are then drawn from them "
    f"{sgd.NoiseConfig().n_draws:,} times per batch size. σ² is the spread of the per-example gradients (the trace "
    "of their covariance)."))
def _noise() -> None:
    controls, figure = layout.panel()
    with controls:
        point = w.select("Measure the gradients at", "at", {"start": "Start", "minimum": "Minimum"}, "start",
                         horizontal_radio=True,
                         help="Start: θ₀ of the paths. Minimum: the least-squares solution, where the full gradient is 0.")
    if _no_batches():
        return
    cfg = sgd.SGDConfig(PAGE.batch_sizes, at=point, replace=PAGE.replace, seed=seed).clamped()
    with figure, layout.numerical_guard("Sampling minibatch gradients"):
        if not _ready([(sgd.gradient_noise, cfg.noise())], "the minibatch gradients", "noise",
                      live=RUN.section_rerun):  # ~75 ms: live for the section's own control
            return
        res = cached.result(sgd.gradient_noise, cfg.noise(), label="Sampling minibatch gradients")
        charts = st.container()  # the figures first (the projector's first screen), the numbers under them
        wo, wi = res.without, res.with_
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
        st.markdown(sgd.claims.noise_falls(wo) + f" At B = N = {N} without replacement the measured variance is "
                    f"{wo.variance[-1]:.1e}, {wo.variance[-1] / wo.sigma2:.0e} of σ²: zero up to round-off, since "
                    "every such batch is the whole data set.")
        with charts:  # side by side; one under the other on the projector
            left, right = (st.container(), st.container()) if layout.presenting() else st.columns(2)
        with left:
            layout.show_figure(figs.fig_gradient_cloud(res.main), key="fig_cloud")
        with right:
            layout.show_figure(figs.fig_gradient_variance(wo, wi), key="fig_var")
        main = res.main
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

    layout.what_to_notice([
        "Each cloud is centred on the full gradient ★ — a minibatch gradient is right *on average* — and its radius "
        "shrinks like 1/√B: four times the batch halves the spread.",
        "Without replacement the variance falls *faster* than 1/B near B = N; with replacement a batch of N still "
        "repeats some examples and misses others.",
        "At the **minimum** the full gradient is zero, yet the minibatch gradients are not: this is why SGD with a "
        "constant η never settles exactly.",
    ])


# ------------------------------------------------------------------------------------------------
_FLOOR = sgd.FloorConfig()


@layout.section(4, "4 · The noise floor: η/B sets how close SGD gets", prose=(
    "Runs start *at* the minimum θ* of the regression and keep stepping; the loss rises to a stationary level and "
    f"stays there. For η in {_FLOOR.lrs} and B in {_FLOOR.batch_sizes}, {_FLOOR.n_replicas} replicas each; the points "
    "show the mean excess loss over the second half of the run, the bars the 10–90 % range of the final loss across "
    "replicas. This panel draws batches **with replacement** so the theory is exact; it depends only on the seed."))
def _floor() -> None:
    cfg = sgd.SGDConfig(seed=seed).clamped()
    with layout.numerical_guard("Measuring the noise floor"):
        if not _ready([(sgd.noise_floor, cfg.floor())], "the noise floor", "floor"):
            return
        fl = cached.result(sgd.noise_floor, cfg.floor(), heavy=True, label="Measuring the noise floor")
        ok = np.isfinite(fl.excess_mean) & np.isfinite(fl.theory)
        dev = np.max(np.abs(fl.excess_mean[ok] / fl.theory[ok] - 1)) if np.any(ok) else np.nan
        layout.metrics([
            ("Slope tr(C)/4", f"{fl.slope:.3g}", "Small-step prediction: excess loss ≈ tr(C)/4 · η/B, C = gradient "
                                                 "covariance at the minimum"),
            ("Largest measured/theory gap", f"{100 * dev:.0f} %", "Over all (η, B) pairs"),
            ("η/B range", f"{fl.lr_over_b.min():.2g} – {fl.lr_over_b.max():.2g}"),
        ])
        st.markdown(sgd.claims.floor_rises(fl))
        layout.show_figure(figs.fig_noise_floor(fl), key="fig_floor")
        layout.download_csv("noise floor", {"lr": fl.lrs, "batch_size": fl.batch_sizes, "lr_over_B": fl.lr_over_b,
                                            "excess_loss_mean": fl.excess_mean, "final_q10": fl.final_q10,
                                            "final_q90": fl.final_q90, "exact_theory": fl.theory},
                            "sgd_noise_floor.csv", key="dl_floor")
        layout.show_code(sgd.measure_noise_floor)

    layout.what_to_notice([
        "Theory: halving η or doubling B lowers the floor by the same factor (small steps); for one weight with "
        "curvature h the stationary variance is ησ²/(B·h·(2−ηh)).",
        "To get closer to θ* you can lower η (slower) or raise B (costlier steps); decaying η over time does both "
        "jobs at once.",
    ])


# ------------------------------------------------------------------------------------------------
@layout.section(5, "5 · What a larger batch buys", prose=(
    f"Held-out accuracy ({N_TEST} test images) of the digit classifier for each batch size, after the same number "
    "of **epochs** as in section 1 and after the same number of **updates** (the same runs, cut earlier)."))
def _accuracy() -> None:
    controls, figure = layout.panel()
    with controls:
        n_steps = w.slider("Updates for the equal-updates comparison", "steps", sgd.EQUAL_STEPS_GRID,
                           sgd.MAX_EQUAL_STEPS, sgd.DEFAULT_EQUAL_STEPS, step=sgd.EQUAL_STEPS_GRID)
    if _no_batches():
        return
    shared = _shared_config()
    requested = sgd.SGDConfig(shared.batch_sizes, lr=shared.lr, scale_lr=shared.scale_lr, epochs=shared.epochs,
                              steps=n_steps, replace=shared.replace, seed=seed)
    cfg = requested.clamped()
    with figure, layout.numerical_guard("Training the digit classifier"):
        if not _ready(_digits_pairs(cfg), "the digits runs", "accuracy"):
            return
        fam = _digits(cfg)
        by_epochs, by_steps = fam.by_epochs(cfg.epochs), fam.by_updates(cfg.steps)
        N = fam.n_train
        B = np.array(by_epochs.batch_sizes)
        acc_e, acc_s = np.array(by_epochs.test_accuracy), np.array(by_steps.accuracy)
        lab = [figs.batch_label(int(b), N).removeprefix("B = ") for b in B]
        layout.metrics([
            (f"Best B at {cfg.epochs} epochs", lab[int(np.argmax(acc_e))],
             f"{100 * acc_e.max():.1f} % held-out accuracy; range over B {100 * acc_e.min():.1f}–{100 * acc_e.max():.1f} %"),
            (f"Best B at {cfg.steps} updates", lab[int(np.argmax(acc_s))],
             f"{100 * acc_s.max():.1f} % held-out accuracy; range over B {100 * acc_s.min():.1f}–{100 * acc_s.max():.1f} %"),
        ])
        st.markdown(sgd.claims.what_a_bigger_batch_buys(by_epochs, by_steps, cfg.epochs))
        if any(by_steps.diverged):
            st.warning("Diverged before the equal-updates count: " + ", ".join(
                lab[k] for k, d in enumerate(by_steps.diverged) if d) + " (accuracy at the last good step).")
        layout.show_figure(figs.fig_accuracy_vs_batch(B, acc_e, acc_s, n_samples=N, n_epochs=cfg.epochs,
                                                      n_steps=cfg.steps), key="fig_acc")
        layout.download_csv("accuracy vs batch size", {"batch_size": B, "accuracy_equal_epochs": acc_e,
                                                       "accuracy_equal_updates": acc_s},
                            "sgd_accuracy.csv", key="dl_acc")

    layout.what_to_notice([
        "**Equal epochs** is equal compute; **equal updates** is equal wall-clock time if a whole batch is processed "
        "in parallel. Compare which batch size wins under each clock.",
        "Claims that small batches generalize better because they find 'flat' minima come from experiments on deep "
        "networks (Keskar et al., 2017). Both problems here are convex with a single minimum, so any gap you see is "
        "about optimization progress, not flatness.",
    ])


# ------------------------------------------------------------------------------------------------
@layout.section(6, "6 · Critical batch size (optional)", prose=(
    "On a quadratic, the expected loss after one SGD step is best for the learning rate ε_opt(B) = ε_max / "
    "(1 + B_noise / B) (McCandlish et al., 2018). Far below B_noise, doubling B doubles the useful step; far above, "
    f"a larger batch buys almost nothing. Measured at θ₀ of the regression by averaging "
    f"{sgd.CriticalConfig().n_draws:,} minibatches (with replacement) per B."))
def _critical() -> None:
    cfg = sgd.SGDConfig(seed=seed).clamped()
    with layout.numerical_guard("Estimating the best step size"):
        if not _ready([(sgd.critical, cfg.critical())], "the best step sizes", "critical"):
            return
        cb = cached.result(sgd.critical, cfg.critical(), label="Estimating the best step size")
        layout.metrics([
            ("ε_max (full-batch best step)", f"{cb.eps_max:.3g}", "|G|² / GᵀHG"),
            ("B_noise (critical batch)", f"{cb.b_noise:.3g}", "tr(HΣ) / GᵀHG"),
            ("Best step at B = 1", f"{cb.measured[0]:.3g}", f"Theory {cb.theory[0]:.3g}"),
        ])
        layout.show_figure(figs.fig_critical_batch(cb, n_samples=N_REG), key="fig_crit")
        layout.download_csv("best step vs batch size", {"batch_size": cb.batch_sizes, "measured": cb.measured,
                                                        "theory": cb.theory}, "sgd_critical_batch.csv", key="dl_crit")
        layout.show_code(sgd.critical_batch)

    layout.what_to_notice([
        "The curve rises almost linearly in B while B ≪ B_noise (the linear scaling rule's regime) and flattens at "
        "ε_max once B ≫ B_noise.",
        "B_noise is the ratio of gradient noise to gradient signal: as training approaches the minimum the signal "
        "shrinks and the critical batch grows.",
    ])

layout.finish_page()
RUN.close()

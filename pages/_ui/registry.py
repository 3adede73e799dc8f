"""The single list of pages. ``app.py`` builds ``st.navigation`` from it, the home page draws its
cards from it, and the page tests and benchmarks iterate over it, so no page can escape them.

Pure data: importing this module does not import streamlit.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class PageSpec:
    section: str
    path: str  # relative to the repository root
    title: str
    icon: str
    url_path: str
    blurb: str = ""  # one line for the home page card
    deep_links: tuple[dict[str, str], ...] = field(default_factory=tuple)  # prepared states to test
    default: bool = False
    #: the page's default results, pinned at server start and precomputed into the store:
    #: a zero-argument callable returning ``[(function, config), ...]`` (imports the core lazily)
    warm: Callable[[], list[tuple[Callable, Any]]] | None = None


def _sgd_warm() -> list[tuple[Callable, Any]]:
    """The SGD page's default results and those of its deep links (``regopt_core.sgd.lecture_states``)."""
    from regopt_core import sgd

    return sgd.warm_pairs()


PAGES: tuple[PageSpec, ...] = (
    PageSpec(
        section="Start",
        path="pages/home.py",
        title="Home",
        icon=":material/home:",
        url_path="home",
        default=True,
    ),
    PageSpec(
        section="Start",
        path="pages/tour.py",
        title="Lecture tour",
        icon=":material/slideshow:",
        url_path="tour",
        blurb="The lecture's storyline in prepared steps, on the projector: what to look at, and a question "
        "to ask the room before the reveal.",
        deep_links=({"step": "7"},),
    ),
    PageSpec(
        section="Regularization",
        path="pages/losses.py",
        title="Losses & regularizers",
        icon=":material/balance:",
        url_path="losses",
        blurb="Hinge and softmax losses on the lecture's cat/car/bird table, why W is not unique, "
        "and how L1, L2 and elastic net shape the weights of a real digit classifier.",
        deep_links=({"margin": "2", "reg": "L1", "lam": "0.5", "table": "Zero loss"}, {"scale": "3", "clf_reg": "L1", "clf_lam": "0.01"}),
        warm=lambda: _losses_warm(),
    ),
    PageSpec(
        section="Regularization",
        path="pages/bias-variance.py",
        title="Bias–variance trade-off",
        icon=":material/stacked_line_chart:",
        url_path="bias-variance",
        blurb="The lecture's RBF fits (spread 5 vs 0.1): bias², variance and noise computed exactly and by "
        "Monte Carlo, U-curves over spread and λ, the optimism 2σ²·df/n, double descent — and your own points "
        "(bootstrap variance and K-fold CV).",
        deep_links=({"spread": "5"}, {"spread": "0.1"}, {"spread": "0.1", "K": "1000"},
                    {"spread": "0.3", "lam": "0", "centres": "Grid", "p": "60"},
                    {"source": "Your points", "own_s": "0.3", "own_lam": "0.01", "folds": "10"}),
        warm=lambda: _bias_variance_warm(),
    ),
    PageSpec(
        section="Optimization",
        path="pages/landscapes.py",
        title="Loss landscapes & optimizers",
        icon=":material/landscape:",
        url_path="landscapes",
        blurb="Six optimizers race on test surfaces and a real logistic loss; step sizes past 2/L diverge; "
        "gradient checking; random search vs gradient descent as the dimension grows.",
        deep_links=({"surface": "Quadratic", "kappa": "100", "lr_gd": "5"},
                    {"surface": "Logistic", "lam": "0.5", "pen": "L1"},
                    {"surface": "Saddle", "sx": "-2", "sy": "0"},
                    {"dim": "1000", "bug": "true"},
                    {"lr_gd": "2.2"},
                    {"live_opt": "Momentum", "live_x": "0.9"},
                    {"surface": "Custom", "expr": "(x**2+y-11)**2 + (x+y**2-7)**2"}),
        warm=lambda: _landscapes_warm(),
    ),
    PageSpec(
        section="Optimization",
        path="pages/sgd.py",
        title="SGD and batch size",
        icon=":material/shuffle:",
        url_path="sgd",
        blurb="Minibatch SGD on real data: the same runs per update, per epoch and per gradient, noisy paths, "
        "gradient noise that falls like 1/B, the η/B noise floor, and what a bigger batch buys.",
        deep_links=({"lr": "2", "epochs": "5"}, {"lr": "1", "sampling": "With replacement", "at": "Minimum"},
                    {"epochs": "100", "steps": "1000"}, {"scale_lr": "true", "lr": "0.005"}),
        warm=lambda: _sgd_warm(),
    ),
    PageSpec(
        section="Practice",
        path="pages/splits.py",
        title="Dataset splits",
        icon=":material/call_split:",
        url_path="splits",
        blurb="Training error, tuning on the test set, train/validation/test, CV and nested CV measured against "
        "the known true error; best-of-K optimism, early stopping, and three kinds of leakage.",
        deep_links=({"bk": "1000", "nt": "1000"}, {"data": "Cancer", "n": "30", "K": "10", "folds": "LOO"},
                    {"per": "1", "pat": "80"}, {"esl_p": "1000", "esl_keep": "20"}),
        warm=lambda: _splits_warm(),
    ),
    PageSpec(
        section="Medical imaging",
        path="pages/ct.py",
        title="Sparse-view CT",
        icon=":material/radiology:",
        url_path="ct",
        blurb="Total variation vs FBP/FDK from few X-ray views: honest data, dose noise, SART and ASD-POCS, "
        "live on a CPU.",
        deep_links=({"views": "20", "method": "TV (PDHG)", "lam": "0.0005"},
                    {"geom": "Fan", "views": "40", "dso": "3", "dsd": "6"},
                    {"i0": "10000", "lam": "0.001", "views": "40"}, {"phantom": "Smooth", "views": "40"},
                    {"phantom": "CT slice", "views": "40"}),
        warm=lambda: _ct_warm(),
    ),
)


def _bias_variance_warm() -> list[tuple[Callable, Any]]:
    """The bias–variance page's default results: fits family (= U-curve over spread at the default λ),
    the experiment at the two lecture spreads, the λ sweep at the U-curve section's spread, double descent."""
    from dataclasses import replace

    from regopt_core import bias_variance as bv

    d = bv.DEFAULT.clamped()
    return [(bv.fits_family, d.family_key()), (bv.experiment, d), (bv.experiment, replace(d, spread=0.1)),
            (bv.fits_family, replace(d, lam=bv.U_LAM).family_key()),
            (bv.lam_sweep, replace(d, spread=bv.U_SPREAD).lam_sweep_key()),
            (bv.dd_core, bv.DD_DEFAULT.clamped().core_key())]


def _losses_warm() -> list[tuple[Callable, Any]]:
    """The losses page's default results: the geometry path, the solution at the default λ, the classifier."""
    from regopt_core import linear_models as lm

    g = lm.GEOMETRY_DEFAULT.clamped()
    c = lm.CLASSIFIER_DEFAULT.clamped()
    return [(lm.geometry, g.path_key()), (lm.geometry_solution, g), (lm.classifier, c),
            (lm.classifier_trajectory, lm.classifier_trajectory_key(c))]  # every step count at the defaults


def _landscapes_warm() -> list[tuple[Callable, Any]]:
    """The landscapes page's default results, the Custom landscape's default surface and the dimension sweep at
    every evaluation budget the page offers (``regopt_core.landscapes.warm_pairs``)."""
    from regopt_core import landscapes as ls

    return ls.warm_pairs()


def _ct_warm() -> list[tuple[Callable, Any]]:
    """The CT page's default results and those of its deep links (``regopt_core.ct.lab.warm_pairs``)."""
    from regopt_core.ct import lab

    return lab.warm_pairs()


def _ct_precompute() -> list[tuple[Callable, Any]]:
    """CT results the store holds beyond the page's states: strips and sweeps over phantoms x geometries x doses
    (``regopt_core.ct.lab.precompute_pairs``), and the strip and comparison after one move of the page's λ, dose
    or view-count slider (every value) or of the inverse-crime switch from the default state — the moves a lecturer
    makes first, whose TV runs (up to 1.1 s of CPU for the strip at λ = 0.02) are over the 800 ms budget of a CT
    interaction."""
    from dataclasses import replace

    from pages._ui.widgets import log_options
    from regopt_core.ct import lab

    out = lab.precompute_pairs()
    moved = [replace(lab.DEFAULT, lam=v) for v in (0.0, *log_options(lab.LAM_SLIDER_MIN, lab.LAM_RANGE[1]))]
    moved += [replace(lab.DEFAULT, i0=v) for v in (0.0, *log_options(*lab.I0_RANGE))]
    moved.append(replace(lab.DEFAULT, crime=True))
    vs = lab.VIEWS_SLIDER
    moved += [replace(lab.DEFAULT, views=int(v)) for v in
              sorted({*log_options(vs["lo"], vs["hi"], mantissas=vs["mantissas"]), *map(float, vs["extra"])})]
    for cfg in moved:
        cfg = cfg.clamped()
        for key in (*cfg.strip_keys(), *cfg.compare_keys()):
            if (lab.reconstruction, key) not in out:
                out.append((lab.reconstruction, key))
    return out


#: (function, config) pairs ``deploy.precompute`` adds to the store beyond every page's warm pairs and states
PRECOMPUTE = (_ct_precompute,)


def _splits_warm() -> list[tuple[Callable, Any]]:
    from regopt_core.splits.configs import warm_pairs

    return warm_pairs()


def _extra_pages() -> tuple[PageSpec, ...]:
    """Pages under development, added with ``REGOPT_EXTRA_PAGES="pages/x.py:x,..."`` (tests only)."""
    out = []
    for item in filter(None, os.environ.get("REGOPT_EXTRA_PAGES", "").split(",")):
        path, _, url_path = item.partition(":")
        url_path = url_path or Path(path).stem
        if all(p.path != path for p in PAGES):
            out.append(PageSpec(section="Preview", path=path, title=url_path, icon=":material/science:",
                                url_path=url_path, blurb="(page under development)"))
    return tuple(out)


PAGES = PAGES + _extra_pages()


def sections() -> dict[str, list[PageSpec]]:
    """Pages grouped by section, in registry order."""
    out: dict[str, list[PageSpec]] = {}
    for p in PAGES:
        out.setdefault(p.section, []).append(p)
    return out


def default_page() -> PageSpec:
    return next(p for p in PAGES if p.default)


def by_url_path(url_path: str) -> PageSpec:
    for p in PAGES:
        if p.url_path == url_path:
            return p
    raise KeyError(url_path)

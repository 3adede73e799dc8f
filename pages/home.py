"""Home: what RegOpt Lab is, the lecture's storyline, and a card per page — a live thumbnail of the page's
main figure at its default settings and the one question the page answers.

The thumbnails are drawn from the results the server pinned at start (``cached.ready``: never computed
here), so the home page costs the server little; a result not ready yet leaves its card without a picture.
"""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from pages._ui import cached, figures, layout, registry

layout.page_header(
    "RegOpt Lab",
    r"W^\star = \arg\min_W \; \frac{1}{N}\sum_{i} L_i\big(f(x_i, W), y_i\big) + \lambda R(W)",
    "Interactive demos for the lecture after linear classifiers: **regularization and optimization**. "
    "Every number on these pages is computed live by the `regopt_core` package — open *Show the code* on any "
    "page to read the function behind a figure.",
)

#: the one question each page answers (its card's headline)
QUESTIONS = {
    "tour": "How does the whole lecture fit together, one idea at a time?",
    "losses": "Many W fit the data — which one does λR(W) pick, and why does L1 zero weights?",
    "bias-variance": "Why does a more flexible model fit better yet predict worse?",
    "landscapes": "Which step size makes gradient descent converge — and which optimizer gets there first?",
    "sgd": "Is a small noisy batch or a big exact one faster — and by which clock?",
    "splits": "Which reported error can we trust, and where does test data leak in?",
    "ct": "How few X-ray views does total variation need to beat filtered back-projection?",
}


def _ready(fn, config):
    """The pinned default result, or None while it is not ready (the home page never computes one)."""
    return cached.result(fn, config) if cached.ready(fn, config) else None


def _thumb_losses():
    from regopt_core import linear_models as lm
    from regopt_core.figures import losses as figs

    cfg = lm.GEOMETRY_DEFAULT.clamped()
    g, sol = _ready(lm.geometry, cfg.path_key()), _ready(lm.geometry_solution, cfg)
    if g is None or sol is None:
        return None
    return figs.fig_regularizer_geometry(g.w1, g.w2, g.loss_grid, g.path, sol.x[0], cfg.reg, cfg.alpha,
                                         g.path.x[0])


def _thumb_bias_variance():
    from regopt_core import bias_variance as bv
    from regopt_core.figures import bias_variance as figs

    d = bv.DEFAULT.clamped()
    family = _ready(bv.fits_family, d.family_key())
    return None if family is None else figs.fig_fits(family, spread=d.spread)


def _thumb_landscapes():
    from regopt_core import landscapes as ls
    from regopt_core.figures import landscapes as figs

    fam = _ready(ls.step_family, ls.StepFamilyConfig.DEFAULT.clamped())
    return None if fam is None else figs.fig_step_family(fam, height=300, max_points=60)


def _thumb_sgd():
    from regopt_core import sgd
    from regopt_core.figures import sgd as figs

    cfg = sgd.SGDConfig(batch_sizes=tuple(sorted({1, 4, 16, 64, 256, sgd.FULL_BATCH}))).clamped()
    noise = _ready(sgd.gradient_noise, cfg.noise())
    return None if noise is None else figs.fig_gradient_variance(noise.without, noise.with_)


def _thumb_splits():
    from regopt_core.figures import splits as figs
    from regopt_core.splits.configs import ApproachesConfig, approaches

    cmp = _ready(approaches, ApproachesConfig.DEFAULT.clamped())
    return None if cmp is None else figs.fig_reported_vs_true(cmp)


def _thumb_ct():
    from regopt_core.ct import lab

    img = _ready(lab.phantom_image, lab.DEFAULT.clamped().scan_key(1))
    if img is None:
        return None
    z = np.asarray(getattr(img, "image", img), dtype=float)
    step = max(1, z.shape[0] // 96)  # a thumbnail needs no more than ~96 rows
    fig = go.Figure(go.Heatmap(z=z[::-step, ::step], colorscale="gray", showscale=False, hoverinfo="skip"))
    fig.update_layout(yaxis=dict(scaleanchor="x", visible=False), xaxis=dict(visible=False), plot_bgcolor="black")
    return fig


THUMBS = {"losses": _thumb_losses, "bias-variance": _thumb_bias_variance, "landscapes": _thumb_landscapes,
          "sgd": _thumb_sgd, "splits": _thumb_splits, "ct": _thumb_ct}


def _thumbnail(url_path: str) -> dict | None:
    """The page's thumbnail (a finished plotly dict), built once per process from its pinned default result and
    kept in the shared figure memo (this script's own globals are new on every rerun); None until it is ready."""
    key = ("home thumbnail", url_path)
    made = figures.SPECS.get(key, None)
    if made is None:
        build = THUMBS.get(url_path)
        try:
            fig = build() if build is not None else None
        except Exception:  # noqa: BLE001 -- a thumbnail is decoration: a page's own errors show on the page
            fig = None
        if fig is None:
            return None
        made = figures.SPECS.put(key, figures.finished(layout.thumbnail(fig).to_dict()))
    return made


def _card(p: registry.PageSpec) -> None:
    with st.container(border=True):
        st.page_link(p.path, label=p.title, icon=p.icon)
        st.markdown(f"**{QUESTIONS.get(p.url_path, p.blurb)}**")
        fig = _thumbnail(p.url_path)
        if fig is not None:
            layout.show_thumbnail(fig)
        st.caption(p.blurb)


st.subheader("The pages")
for section, specs in registry.sections().items():
    pages = [p for p in specs if not p.default]
    if not pages:
        continue
    st.markdown(f"##### {section}")
    cols = st.columns(min(3, len(pages)))
    for i, p in enumerate(pages):
        with cols[i % len(cols)]:
            _card(p)


st.subheader("The storyline")
cols = st.columns(4)
story = [
    ("1 · What we want", "A **data term** that makes predictions match the labels, plus **λR(W)**: a preference "
     "among the many W that fit — small, sparse, smooth."),
    ("2 · How to find W", "Analytic solutions are rare. Search is hopeless in high dimension; **following the "
     "gradient** works — if the step size is right."),
    ("3 · Does it generalize?", "Training error lies. Bias and variance trade off; **validation data** and early "
     "stopping tell us how a model does on new data."),
    ("4 · Regularization in CT", "Fewer X-ray views mean less dose. **Total variation** recovers images that "
     "filtered back-projection cannot."),
]
for col, (head, text) in zip(cols, story, strict=True):
    with col.container(border=True):
        st.markdown(f"**{head}**\n\n{text}")

with st.expander("For lecturers: links, presentation mode, and a classroom server"):
    st.markdown(
        "- Every control is stored in the address bar. Set up a demo, copy the link, and it opens in exactly "
        "that state for everyone.\n"
        "- The *Lecture tour* walks through the lecture's storyline in prepared steps, in presentation mode.\n"
        "- Add `?present=1` to a link (or use the sidebar toggle) for large text and plots on a projector; "
        "`&section=2` opens the page's second section.\n"
        "- *Reset to defaults* in the sidebar undoes all changes on a page.\n"
        "- One small server can host a whole class; see the README's *Classroom server* section."
    )
layout.finish_page()

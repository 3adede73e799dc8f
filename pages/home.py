"""Home: what RegOpt Lab is, the lecture's storyline, and a card per page."""

import streamlit as st

from pages._ui import layout, registry

layout.page_header(
    "RegOpt Lab",
    r"W^\star = \arg\min_W \; \frac{1}{N}\sum_{i} L_i\big(f(x_i, W), y_i\big) + \lambda R(W)",
    "Interactive demos for the lecture after linear classifiers: **regularization and optimization**. "
    "Every number on these pages is computed live by the `regopt_core` package — open *Show the code* on any "
    "page to read the function behind a figure.",
)

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

st.subheader("The pages")
for section, specs in registry.sections().items():
    pages = [p for p in specs if not p.default]
    if not pages:
        continue
    st.markdown(f"##### {section}")
    cols = st.columns(min(3, len(pages)))
    for i, p in enumerate(pages):
        with cols[i % len(cols)].container(border=True):
            st.page_link(p.path, label=p.title, icon=p.icon)
            st.caption(p.blurb)

with st.expander("For lecturers: links, presentation mode, and a classroom server"):
    st.markdown(
        "- Every control is stored in the address bar. Set up a demo, copy the link, and it opens in exactly "
        "that state for everyone.\n"
        "- Add `?present=1` to a link (or use the sidebar toggle) for large text and plots on a projector.\n"
        "- *Reset to defaults* in the sidebar undoes all changes on a page.\n"
        "- One small server can host a whole class; see the README's *Classroom server* section."
    )
layout.finish_page()

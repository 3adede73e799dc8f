"""Lecture tour: opens the step in the address (``/tour?step=7``) on its page, in presentation mode."""

import streamlit as st

from pages._ui import registry, tour

try:
    k = int(st.query_params.get("step", "1"))
except ValueError:
    k = 1
k = min(max(k, 1), len(tour.STEPS))
st.switch_page(registry.by_url_path(tour.step(k).page).path, query_params=tour.url_params(k))

"""RegOpt Lab — entry point: ``streamlit run app.py``.

Builds the navigation from the page registry (``pages/_ui/registry.py``), one section per part of
the lecture, and warms the caches a lecture needs.
"""

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from pages._ui import jobs, registry  # importing pages._ui does the once-per-process start-up (see its docstring)
from pages._ui.cached import publish, warm_defaults

_presenting = st.query_params.get("present", "").lower() in ("1", "true", "yes", "on")
st.set_page_config(
    page_title="RegOpt Lab",
    page_icon="assets/icon.png",
    layout="wide",
    initial_sidebar_state="collapsed" if _presenting else "auto",
    menu_items={"About": "RegOpt Lab: interactive regularization and optimization for deep-learning courses."},
)
warm_defaults()
# The worker processes start with the server's first session (spawning one costs ~1-2 s of CPU for its imports),
# not in the middle of the first student's heavy move. A no-op under AppTest and once started.
jobs.scheduler(publish)

# An address that names no page (a typo, an old link, "/home") opens the home page with a short notice
# instead of Streamlit's "Page not found" dialog.
_ctx = get_script_run_ctx()
if _ctx is not None:
    _wanted = (_ctx.pages_manager.intended_page_name or "").strip("/")
    _known = {p.url_path for p in registry.PAGES if not p.default}
    if _wanted and _wanted not in _known and not _ctx.pages_manager.intended_page_script_hash:
        _ctx.pages_manager.set_script_intent("", "")
        if _wanted != registry.default_page().url_path:
            st.session_state["_regopt_unknown_page"] = _wanted[:60]

navigation = st.navigation(
    {
        section: [
            st.Page(p.path, title=p.title, icon=p.icon, url_path=p.url_path, default=p.default)
            for p in specs
        ]
        for section, specs in registry.sections().items()
    }
)
navigation.run()

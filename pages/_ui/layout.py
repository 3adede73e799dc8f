"""Page furniture shared by every page: header with the key formula, "what to notice", figures,
numerical-failure panel, "show the code", CSV downloads, presentation mode and URL notices.

A page looks like::

    from pages._ui import layout, widgets as w
    layout.page_header("Title", r"L(W) = ...", "One paragraph of what this page is for.")
    with st.sidebar:
        x = w.slider(...)
    ...
    layout.show_figure(fig)
    layout.finish_page()
"""

from __future__ import annotations

import contextlib
import csv
import functools
import hashlib
import inspect
import io
from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from pages._ui import figures, widgets
from regopt_core.errors import NumericalError
from regopt_core.figures.theme import legend_clear_of_title, scale_text, tidy_log_axes

PRESENT_SCALE = 1.45
_SLOT = "_regopt_notice_slot"

# Constant CSS (no user text ever reaches it): larger type for a projector.
# Constant CSS for every screen: formulas and tables scroll inside their box instead of being clipped or
# hiding columns; on a phone the plotly toolbar is hidden (it covered chart titles) and padding shrinks.
_BASE_CSS = """
<style>
[data-testid="stMarkdownContainer"] .katex-display, .stLatex { overflow-x: auto; overflow-y: hidden; max-width: 100%; }
[data-testid="stTable"], [data-testid="stMarkdownContainer"] table { display: block; overflow-x: auto; max-width: 100%; }
@media (max-width: 640px) {
  .modebar-container, .modebar { display: none !important; }
  [data-testid="stAppViewContainer"] .block-container { padding-left: 0.6rem; padding-right: 0.6rem; }
  /* charts use the full screen width (text keeps its padding): Streamlit sizes a plotly chart to its
     element container, so the container is widened by the page padding */
  [data-testid="stElementContainer"]:has([data-testid="stPlotlyChart"]) {
    margin-left: -0.55rem; margin-right: -0.55rem; width: calc(100% + 1.1rem) !important; max-width: none !important; }
}
</style>
"""

_PRESENT_CSS = """
<style>
html { font-size: 22px; }
[data-testid="stTable"] td, [data-testid="stTable"] th, [data-testid="stDataFrame"] *,
[data-testid="stMarkdownContainer"] table td, [data-testid="stMarkdownContainer"] table th { font-size: 24px !important; }
[data-testid="stAppViewContainer"] .block-container { padding-top: 1.2rem; }
h1 { font-size: 2.0rem !important; padding-top: 0 !important; padding-bottom: 0.2rem !important; }
[data-testid="stAppViewContainer"] .block-container { max-width: 100%; padding-left: 2rem; padding-right: 2rem; }
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li { font-size: 1.15rem; }
[data-testid="stMetricValue"], [data-testid="stMetricValue"] * { font-size: 2.2rem !important; }
[data-testid="stMetricLabel"] * { font-size: 1.0rem !important; }
</style>
"""


def presenting() -> bool:
    """True when the URL has ``?present=1`` (or ``true``): projector-sized text and plots."""
    return st.query_params.get(widgets.PRESENT_KEY, "").lower() in ("1", "true", "yes", "on")


def _toggle_presentation() -> None:
    if st.session_state.get("_present_toggle"):
        st.query_params[widgets.PRESENT_KEY] = "1"
    elif widgets.PRESENT_KEY in st.query_params:
        del st.query_params[widgets.PRESENT_KEY]


_SECTIONS = "_regopt_sections"  # session_state: the section titles of the current page


def _ran_without_app() -> bool:
    """Did Streamlit's pages/-folder mode run this page script directly, without ``app.py``?

    In that mode the run's page list is the folder's (``app.py`` is its main page); through ``app.py`` it is
    the registry's, which does not contain ``app.py``. A page run alone (AppTest of one file) has neither.
    """
    ctx = get_script_run_ctx()
    if ctx is None:
        return False
    pages = ctx.pages_manager.get_pages().values()
    return len(pages) > 1 and any(str(info.get("script_path", "")).endswith("app.py") for info in pages)


def page_header(title: str, formula: str | None, intro: str, *, sections: Sequence[str] = ()) -> None:
    """Title, the page's key formula (LaTeX), a short introduction, and the slot for URL notices.

    Must be the first call of a page: it also starts the registry of URL-bound controls. ``sections``
    are the short names of the page's sections (see :func:`section`), in order; in presentation mode
    the formula and introduction fold into an expander and a picker shows one section at a time
    (``?present=1&section=2``), so its figure is on the first screen.
    """
    if _ran_without_app():
        from streamlit.runtime.pages_manager import PagesManager

        PagesManager.uses_pages_directory = False  # (AppTest resets it before each of its runs)
        # the first request of a fresh process ran this page through Streamlit's pages/-folder mode,
        # without app.py (page config, navigation, warm-up): run it again, through app.py this time
        st.rerun()
    widgets.begin()
    st.session_state[_SECTIONS] = list(sections)
    st.markdown(_BASE_CSS, unsafe_allow_html=True)
    unknown = st.session_state.pop("_regopt_unknown_page", None)
    if unknown:
        st.info(f"There is no page called “/{unknown}” here, so this is the home page. The pages are listed "
                "in the menu.", icon=":material/explore:")
    if presenting():
        # figure first: the title shares its row with the folded formula and introduction, the section
        # picker is one row, the section's header shares its row with its folded prose (see section())
        st.markdown(_PRESENT_CSS, unsafe_allow_html=True)
        _tour_bar()
        head, about = st.columns((3, 2), vertical_alignment="center")
        head.title(title)
        with about.expander("Formula and introduction", icon=":material/menu_book:"):
            if formula:
                st.latex(formula)
            st.markdown(intro)
        if sections:
            _section_picker(sections)
            widgets.mark_partial()
    else:
        st.title(title)
        if formula:
            st.latex(formula)
        st.markdown(intro)
    st.session_state[_SLOT] = st.container()


def _tour_bar() -> None:
    """On a lecture-tour step (``?tour=k``): what to look at, the question for the room, previous / next."""
    from pages._ui import registry, tour

    raw = st.query_params.get(widgets.TOUR_KEY)
    if raw is None:
        return
    try:
        k = min(max(int(raw), 1), len(tour.STEPS))
    except ValueError:
        return
    step = tour.step(k)
    text, ask, prev, nxt = st.columns((6, 2, 1, 1), vertical_alignment="center")
    text.markdown(f"**Lecture tour · step {k} of {len(tour.STEPS)}** — {step.look}")
    with ask.expander("Ask the room first", icon=":material/help:"):
        st.markdown(step.ask)
    prev.button("Previous", icon=":material/arrow_back:", disabled=k == 1, key="_tour_prev", width="stretch",
                on_click=_tour_go, args=(k - 1,))
    nxt.button("Next", icon=":material/arrow_forward:", disabled=k == len(tour.STEPS), key="_tour_next",
               width="stretch", on_click=_tour_go, args=(k + 1,))
    target = st.session_state.pop(_TOUR_TARGET, None)
    if target is not None:
        # through the tour page, never straight to the step's page: Streamlit refuses to set a query
        # parameter that a widget of the current page is bound to (steps 3 → 4 both set ``reg`` on /losses)
        st.switch_page(registry.by_url_path("tour").path, query_params={"step": str(target)})


_TOUR_TARGET = "_regopt_tour_target"


def _tour_go(target: int) -> None:
    """Callback of the tour's previous/next: forget this page's control values (the next step states its
    own; a control it does not name opens at its default), then go (see :func:`_tour_bar`)."""
    for key in widgets.registered_defaults():
        st.session_state.pop(key, None)
    st.session_state[_TOUR_TARGET] = target


def _selected_section(n: int) -> int:
    """1-based index of the section chosen in the URL (presentation mode), 1 when absent or invalid."""
    raw = st.query_params.get(widgets.SECTION_KEY, "1")
    try:
        k = int(raw)
    except ValueError:
        return 1
    return k if 1 <= k <= n else 1


def _pick_section() -> None:
    st.query_params[widgets.SECTION_KEY] = str(st.session_state["_section_pick"])


def _section_picker(names: Sequence[str]) -> None:
    current = _selected_section(len(names))
    st.session_state["_section_pick"] = current
    st.radio("Section", list(range(1, len(names) + 1)), format_func=lambda i: f"{i} · {names[i - 1]}",
             key="_section_pick", horizontal=True, on_change=_pick_section, label_visibility="collapsed")


def _guarded(body: Callable[[], None], title: str) -> Callable[[], None]:
    """A section's body, with any numerical failure or failed heavy job the body did not catch itself shown
    as a message (with Retry where it helps) instead of a traceback; the other sections go on."""

    @functools.wraps(body)
    def run() -> None:
        with numerical_guard(title.split("·", 1)[-1].strip() or title):
            body()

    return run


def section(index: int, title: str, *, prose: str | Sequence[str] = "") -> Callable[[Callable[[], None]], None]:
    """Decorator: one page section, run at once as its own ``st.fragment``.

    A control inside the section reruns only the section (page-wide controls in the sidebar rerun the
    page). ``prose`` is the section's explanation: shown under its header normally, folded into an
    expander in presentation mode, where only the section picked in the URL is drawn at all::

        @layout.section(1, "1 · The lecture's figure", prose="Why ...")
        def _strip():
            controls, figure = layout.panel()
            with controls:
                views = w.slider(...)
            with figure:
                layout.show_figure(...)
    """

    def run(body: Callable[[], None]) -> None:
        names = st.session_state.get(_SECTIONS) or []
        if presenting() and names and _selected_section(len(names)) != index:
            return
        text = prose if isinstance(prose, str) else "\n\n".join(prose)
        if presenting():
            head, about = st.columns((3, 2), vertical_alignment="center")
            head.subheader(title)
            if text:
                with about.expander("About this section", icon=":material/notes:"):
                    st.markdown(text)
        else:
            st.header(title)
            if text:
                st.markdown(text)
        st.fragment(_guarded(body, title))()

    return run


def panel(*, ratio: tuple[float, float] = (1.0, 3.0)):
    """``(controls, figure)`` containers: the section's controls beside its figure (stacked on a phone,
    where Streamlit puts columns one under the other, controls first)."""
    return st.columns(ratio, gap="medium", vertical_alignment="top")


def capped(requested, computed, labels: Mapping[str, str]) -> None:
    """Tell the user which settings the server capped: compares the requested config with ``clamped()``."""
    changes = []
    for field_name, label in labels.items():
        a, b = getattr(requested, field_name), getattr(computed, field_name)
        if a != b:
            changes.append(f"**{label}**: {_show(a)} → {_show(b)}")
    if changes:
        st.caption(":material/speed: Capped on this server to keep it fast for the whole class: " + " · ".join(changes))


def _show(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def what_to_notice(points: Sequence[str], *, title: str = "What to notice") -> None:
    """The box that tells a student where to look. Markdown allowed (no HTML)."""
    body = "\n".join(f"- {p}" for p in points)
    st.info(f"**{title}**\n\n{body}", icon=":material/visibility:")


def show_figure(fig: go.Figure, *, key: str | None = None, on_select: str = "ignore",
                selection_mode: str | Sequence[str] = ("points",), height: int | None = None):
    """Render a plotly figure the one way the app does it (presentation scaling included).

    A figure from :func:`pages._ui.figures.builders` is styled and turned into a dict once per
    (figure, presentation, height) for everyone; drawing it again costs a serialization only.
    """
    scale = PRESENT_SCALE if presenting() else None

    def style(f: dict) -> None:  # a plotly dict (figures.spec): styled as a dict, no plotly objects rebuilt
        tidy_log_axes(f)
        legend_clear_of_title(f)
        if scale is not None:
            scale_text(f, scale)
        if height is not None:
            f["layout"]["height"] = height

    return st.plotly_chart(
        figures.drawable(figures.spec(fig, style, (scale, height))),
        width="stretch",
        key=key,
        on_select=on_select,
        selection_mode=selection_mode,
        config={"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}},
        theme=None,
    )


def thumbnail(fig: go.Figure, *, height: int = 170) -> go.Figure:
    """A small static version of a figure (the home page's cards): no titles, legends, axis labels, frames,
    sliders or colour bars. Returns the same figure."""
    fig.frames = ()
    fig.layout.sliders = ()
    fig.layout.updatemenus = ()
    fig.layout.annotations = ()
    fig.update_layout(height=height, showlegend=False, title_text=None, margin=dict(l=4, r=4, t=4, b=4),
                      hovermode=False)
    fig.update_xaxes(showticklabels=False, title_text=None, ticks="")
    fig.update_yaxes(showticklabels=False, title_text=None, ticks="")
    for tr in fig.data:
        if "showscale" in tr:
            tr.showscale = False
        marker = getattr(tr, "marker", None)
        if marker is not None and "showscale" in marker:
            marker.showscale = False
        _thin_for_thumbnail(tr)
    return fig


def _thin_for_thumbnail(tr, *, max_grid: int = 40, max_points: int = 150) -> None:
    """Fewer numbers for a 170 px picture: grids to at most ``max_grid`` per side, lines to ``max_points``."""
    z = getattr(tr, "z", None) if "z" in tr else None
    if z is not None and tr.type in ("contour", "heatmap"):
        z = np.asarray(z, dtype=float)
        if z.ndim == 2:
            sy, sx = max(1, -(-z.shape[0] // max_grid)), max(1, -(-z.shape[1] // max_grid))
            upd = {"z": z[::sy, ::sx]}
            if tr.x is not None and np.ndim(tr.x) == 1:
                upd["x"] = np.asarray(tr.x)[::sx]
            if tr.y is not None and np.ndim(tr.y) == 1:
                upd["y"] = np.asarray(tr.y)[::sy]
            tr.update(upd)
        return
    if tr.type == "scatter" and tr.x is not None and tr.y is not None and len(tr.x) > max_points:
        k = -(-len(tr.x) // max_points)
        x, y = np.asarray(tr.x), np.asarray(tr.y)
        tr.update(x=np.r_[x[::k], x[-1:]], y=np.r_[y[::k], y[-1:]])


def show_thumbnail(fig: go.Figure | dict) -> None:
    """Draw a :func:`thumbnail` with no interaction (``staticPlot``) and no toolbar (a dict is drawn as it is,
    without plotly's validation: build it with ``thumbnail(fig).to_dict()``)."""
    st.plotly_chart(figures.drawable(fig) if isinstance(fig, dict) else fig, width="stretch", theme=None,
                    config={"staticPlot": True, "displayModeBar": False, "responsive": True})


def metrics(items: Sequence[tuple[str, str]] | Sequence[tuple[str, str, str]]) -> None:
    """A row of ``st.metric`` tiles: (label, formatted value[, help])."""
    cols = st.columns(len(items))
    for col, item in zip(cols, items, strict=True):
        label, value = item[0], item[1]
        col.metric(label, value, help=item[2] if len(item) > 2 else None)


@contextlib.contextmanager
def numerical_guard(what: str) -> Iterator[None]:
    """Turn numerical failures inside the block into a readable message instead of a traceback.

    Catches :class:`regopt_core.errors.NumericalError` (divergence, ill-conditioning, NaN/inf with a
    hint), numpy's ``LinAlgError`` (singular systems) and floating-point overflow errors. The rest of
    the block is skipped; the page goes on below it.
    """
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            yield
    except NumericalError as exc:
        hint = f"\n\n**Try:** {exc.hint}" if exc.hint else ""
        st.error(f"**{what} failed:** {exc.message}{hint}", icon=":material/error:")
        if getattr(exc, "retry", False):  # a heavy job that a stopped worker or the budget refused
            st.button("Retry", icon=":material/refresh:", key=f"_retry_{abs(hash(what))}")
    except np.linalg.LinAlgError as exc:
        st.error(f"**{what} failed:** the linear system is singular or too ill-conditioned to solve ({exc}). "
                 "Change the settings (e.g. add regularization) to get a result.", icon=":material/error:")
    except (FloatingPointError, OverflowError) as exc:
        st.error(f"**{what} failed:** the numbers overflowed ({exc}). This usually means the iteration "
                 "diverged; try a smaller step size.", icon=":material/error:")


@functools.lru_cache(maxsize=256)
def _source(fn: Callable) -> tuple[str, str]:
    """(qualified name, source) of a function; read once per process (getsource costs ms per call)."""
    module = inspect.getmodule(fn)
    name = f"{module.__name__}.{fn.__qualname__}" if module else fn.__qualname__
    return name, inspect.getsource(fn)


def show_code(*functions: Callable, title: str = "Show the code") -> None:
    """A switch that shows the real source of the ``regopt_core`` functions behind the main figure.

    The code is sent only once the switch is on: a code block on the page (even folded in an expander) makes
    every cold open download and start the syntax highlighter (1.6 MB of JavaScript), for a listing most
    visitors never open. Turning it on reruns only the section it sits in.
    """
    names = [_source(fn)[0] for fn in functions]
    key = "_code_" + hashlib.sha1("|".join(names).encode()).hexdigest()[:12]
    if st.toggle(title, key=key, help="The functions of regopt_core that computed this figure, as they run."):
        for name, fn in zip(names, functions, strict=True):
            st.caption(f"`{name}`")
            st.code(_source(fn)[1], language="python")


def to_csv(columns: Mapping[str, Sequence | np.ndarray]) -> str:
    """Columns (name -> 1-D values) as CSV text; shorter columns are padded with blanks."""
    cols = {k: np.asarray(v).ravel() for k, v in columns.items()}
    n = max((len(v) for v in cols.values()), default=0)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(list(cols))
    for i in range(n):
        writer.writerow([_cell(v[i]) if i < len(v) else "" for v in cols.values()])
    return buf.getvalue()


def _cell(x) -> str:
    if isinstance(x, (float, np.floating)):
        return repr(float(x))
    return str(x)


def download_csv(label: str, columns: Mapping[str, Sequence | np.ndarray], file_name: str, *, key: str | None = None) -> None:
    """Download button for the data behind a figure (generated lazily on click)."""
    st.download_button(f"Download data: {label} (CSV)", data=lambda: to_csv(columns), file_name=file_name,
                       mime="text/csv", icon=":material/download:", key=key, on_click="ignore")


def finish_page() -> None:
    """End of every page: URL notices at the top, and the sidebar's reset + presentation controls."""
    notices = widgets.url_fallbacks()
    slot = st.session_state.get(_SLOT)
    if notices and slot is not None:
        slot.warning("**Some settings in the link were not used.**\n\n" + "\n".join(f"- {n}" for n in notices),
                     icon=":material/link_off:")
    with st.sidebar:
        st.divider()
        st.button("Reset to defaults", on_click=widgets.reset_to_defaults, icon=":material/restart_alt:",
                  help="Put every control of this page back to its default value.", width="stretch")
        st.toggle("Presentation mode", value=presenting(), key="_present_toggle", on_change=_toggle_presentation,
                  help="Large text and plots for a projector. Link: add ?present=1 to the address.")
        st.caption("The address bar always holds the current settings: copy it to share this exact view.")

"""The one compute gate: show a heavy result only when it is cached, or asked for, or allowed to compute now.

A move of a control must stay within the interaction budget (issue 12: 250 ms of server CPU on a non-CT page), so
a result that is not in the cache (pins, precomputed store, shared memo: :func:`pages._ui.cached.ready`) and would
cost more than a move may take is computed only on request. A page that uses the page-wide rules makes one
:class:`PageRun` at its top and closes it at its bottom::

    from pages._ui import gate
    RUN = gate.page("splits")        # after page_header: this whole-page run starts
    ...
    @layout.section(2, "2 · ...")
    def _best_of_k():
        ...
        if not gate.ready([(C.best_of_k, cfg)], page=RUN, live=RUN.section_rerun, key="compute_best_of_k",
                          message="Not computed for these settings yet: ..."):
            return                   # the gate drew its message and button
        res = cached.result(C.best_of_k, cfg)
    ...
    layout.finish_page()
    RUN.close()                      # the next run is not the page's first; a Compute press is spent

:func:`ready` lets the results through when every one of them is cached, or

* ``live`` -- the caller judged the work light enough to compute now (a section's own move whose work fits the
  budget: ``live=RUN.section_rerun and <fits>``, or a state that must compute, e.g. a lecturer's presentation);
* the page's **first run** in this session (a deep link computes what it shows);
* **Compute was pressed**: with ``scope="page"`` the button sets the page's Compute flag and reruns the whole
  page, whose every section then computes what it misses (the flag is spent at :meth:`PageRun.close`); with
  ``scope="section"`` the button is for this section only, and the gate remembers, in the session, the cache key
  of every result that was missing when it was pressed: a request cut short (a worker crash after two of four
  results) still counts as asked for what is left, so the section's next run computes the rest, no second press.

Otherwise it shows ``message`` and the button and returns False. With ``progress="the digits runs"`` the gate
computes the missing results itself when it lets them through, one heavy job each, with a progress bar; without
it the caller computes (``cached.result`` finds what the gate computed, or computes it in its own way).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, Literal

import streamlit as st

from pages._ui import cached

#: session_state: cache keys of results a section's Compute button asked for (insertion-ordered, bounded)
REQUESTED = "_gate_requested"
_MAX_REQUESTED = 512
PAGE_BUTTON = "Compute this page for these settings"
#: the icon of every Compute button (the load runner tells a press of one from a move of a control by it)
COMPUTE_ICON = ":material/play_arrow:"


class PageRun:
    """One page's gate state in this session: its first run, a whole-page run or a section's fragment rerun, and
    whether Compute was pressed for this run. Made by :func:`page` at the top of the page (the whole page runs);
    :meth:`close` at the bottom. The flags live in ``st.session_state`` under ``_<name>_opened``,
    ``_<name>_full_run`` and ``_<name>_compute``, so a section's fragment rerun (which does not run the page's
    top or bottom) reads the state the last whole-page run left."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._opened = f"_{name}_opened"      # the page has run once in this session
        self._full_run = f"_{name}_full_run"  # True while the whole page runs (False in a section's own rerun)
        self._compute = f"_{name}_compute"    # a page-wide Compute button was pressed: this run computes
        st.session_state[self._full_run] = True

    @property
    def first_run(self) -> bool:
        """The page's first run in this session (a deep link computes what it shows)."""
        return not st.session_state.get(self._opened)

    @property
    def section_rerun(self) -> bool:
        """A section's own fragment rerun (a control inside the section moved), not a run of the whole page."""
        return not st.session_state.get(self._full_run)

    @property
    def pressed(self) -> bool:
        """A page-wide Compute button was pressed: this whole-page run computes every missing result."""
        return bool(st.session_state.get(self._compute))

    def press(self) -> None:
        """Compute every section: set the flag and rerun the whole page (from inside a fragment too)."""
        st.session_state[self._compute] = True
        st.rerun(scope="app")

    def close(self) -> None:
        """End of the page's whole run: later runs are not its first, later fragment reruns are section reruns,
        and a Compute press has been spent."""
        st.session_state[self._full_run] = False
        st.session_state[self._opened] = True
        st.session_state[self._compute] = False


def page(name: str) -> PageRun:
    """The gate state of page ``name`` for this run (call it once, near the top of the page)."""
    return PageRun(name)


def _requested() -> dict[Hashable, None]:
    return st.session_state.setdefault(REQUESTED, {})


def _remember(keys: Sequence[Hashable]) -> None:
    asked = _requested()
    for k in keys:
        asked.pop(k, None)
        asked[k] = None
    while len(asked) > _MAX_REQUESTED:
        asked.pop(next(iter(asked)))


def requested(fn: Callable, config: Hashable) -> bool:
    """Did a section's Compute button in this session ask for ``fn(config)``?"""
    return cached.key_of(fn, config) in _requested()


def ready(pairs: Sequence[tuple[Callable, Any]], *, key: str, message: str | Callable[[int], str],
          page: PageRun | None = None, live: bool = False, scope: Literal["page", "section"] = "page",
          button: str = PAGE_BUTTON, progress: str | None = None, icon: str = ":material/hourglass_empty:",
          primary: bool | None = None) -> bool:
    """May the section show the results ``pairs`` (``[(fn, config), ...]``) now? See the module docstring.

    ``key`` is the button's widget key; ``message`` the text above the button (a callable gets the number of
    missing results); ``page`` the page's :class:`PageRun` (its first run and Compute press let results through;
    required for ``scope="page"``); ``live`` lets the results compute now; ``scope`` what the button asks for
    (``"page"``: every section, by rerunning the page; ``"section"``: this section's missing results,
    remembered in the session); ``progress`` names the results for a progress bar when the gate computes them
    itself. The button is primary for a page-wide request unless ``primary`` says otherwise.
    """
    if scope not in ("page", "section"):
        raise ValueError(f"scope must be 'page' or 'section', not {scope!r}")
    if scope == "page" and page is None:
        raise ValueError("a page-wide Compute button needs the page's PageRun (gate.page(name))")
    missing = [(fn, c) for fn, c in pairs if not cached.ready(fn, c)]
    if not missing:
        return True
    keys = [cached.key_of(fn, c) for fn, c in missing]
    asked = _requested()
    if (live or (page is not None and (page.first_run or page.pressed))
            or (scope == "section" and all(k in asked for k in keys))):
        return _compute(missing, progress)
    st.info(message(len(missing)) if callable(message) else message, icon=icon)
    if st.button(button, key=key, icon=COMPUTE_ICON,
                 type="primary" if (scope == "page" if primary is None else primary) else "secondary"):
        if scope == "page":
            page.press()  # reruns the whole page: this run stops here
        _remember(keys)
        return _compute(missing, progress)
    return False


def _compute(missing: list[tuple[Callable, Any]], progress: str | None) -> bool:
    """Let the results through; with ``progress``, compute them here first (one heavy job each, a progress bar)."""
    if progress is None:
        return True
    n = len(missing)
    bar = st.progress(0.0, text=f"Computing {progress}: 0 of {n} …")
    for i, (fn, c) in enumerate(missing):
        cached.result(fn, c, heavy=True, label=f"Computing {progress} ({i + 1} of {n})")
        bar.progress((i + 1) / n, text=f"Computing {progress}: {i + 1} of {n}")
    bar.empty()
    return True

"""Shared Streamlit UI for every page (the only place besides the pages that imports streamlit).

Importing this package does the server's start-up work once per process, before any page code runs
(Python holds every other thread that imports ``pages._ui`` until this module has finished):

* **Serialized first imports.** When many sessions start at once on a just-started server, each page
  script runs in its own thread, and first imports of pandas/plotly/the app's modules raced
  (``ImportError: cannot import name 'layout' from 'pages._ui'``, "partially initialized module 'pandas'").
  :func:`preload` imports everything the pages need here, under the import lock of this package.
* **One BLAS thread** for the process (``threadpoolctl``, once: calling it on every rerun walked the loaded
  libraries each time): a classroom server runs many small solves for many sessions at once, and OpenBLAS
  threads fighting over 2 cores made small batched solves 20-45x slower (measured on the splits page).
* **Start-up objects out of the garbage collector's way** (``gc.freeze()`` after the imports): a full collection
  walked the ~230,000 objects of plotly's validators, scipy and the app's modules, ~115 ms holding the
  interpreter lock each time (several per minute under a class); frozen, they are never walked again.
  Only start-up objects are frozen (modules, not results: a frozen cycle would never be collected).
* **Script turns** (:mod:`pages._ui.turns`): at most two reruns execute Python at once, one browser at a time;
  the others wait without taking the interpreter lock (60 students: p95 2.70 s → 0.79 s).
* **No pages-folder fallback.** Streamlit 1.67 runs the very first request of a fresh process through its
  old ``pages/``-folder multipage mode (``PagesManager.uses_pages_directory`` is True until some script
  calls ``st.navigation``), so a deep link's page script ran without ``app.py``. The flag is cleared here,
  and a page that finds it ran without ``app.py`` reruns itself through it (``layout.page_header``).
"""

from __future__ import annotations

import importlib
import pkgutil


def preload() -> None:
    """Import every module a page needs: third-party libraries, the core, the figures and the shared UI."""
    for name in ("numpy", "scipy.sparse", "scipy.linalg", "scipy.optimize", "scipy.stats", "pandas",
                 "plotly.graph_objects", "plotly.subplots", "plotly.io", "skimage.metrics"):
        importlib.import_module(name)
    import regopt_core

    for info in pkgutil.walk_packages(regopt_core.__path__, prefix="regopt_core."):
        try:
            importlib.import_module(info.name)
        except Exception:  # noqa: BLE001 — a broken module fails where it is used, with its own message
            pass
    for name in ("widgets", "layout", "cached", "registry"):
        importlib.import_module(f"{__name__}.{name}")


def _leave_pages_folder_mode() -> None:
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False


def _settle_process() -> None:
    """After a process's imports — the server's and each worker's (``jobs._worker_start``): one BLAS/OpenMP
    thread, few malloc arenas, the start-up objects out of the garbage collector's way (see the module docstring)."""
    import gc

    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    _few_malloc_arenas()
    gc.collect()
    gc.freeze()


def _few_malloc_arenas(n: int = 2) -> None:
    """At most ``n`` glibc malloc arenas for the threads started from now on (``mallopt(M_ARENA_MAX)``, what
    ``MALLOC_ARENA_MAX`` sets at start). Streamlit runs each rerun in a new thread, and glibc gives threads up to
    8 x cores arenas of their own, whose freed memory stays in that arena. (With this and the smaller figure
    memos, the server process peaked at 891 MB instead of 1053 MB under 60 students.)"""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(-8, n)  # M_ARENA_MAX
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


#: ``sys.argv`` of a job-pool worker (``pages/_ui/jobs.py`` sets it when it spawns one)
WORKER_ARGV0 = "regopt-job-worker"


def _in_worker_process() -> bool:
    """A worker of the job pool: it needs this package's light modules (``cached``, ``jobs``) and imports the
    core itself — not Streamlit's page machinery, pandas or plotly (~150 MB per worker)."""
    import sys

    return sys.argv[:1] == [WORKER_ARGV0]


if not _in_worker_process():
    _leave_pages_folder_mode()
    preload()
    _settle_process()
    from pages._ui import turns

    turns.install()

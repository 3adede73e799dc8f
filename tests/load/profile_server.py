"""Profile a real Streamlit server while the load test drives it: which code do the reruns spend their CPU in?

    python -m tests.load.profile_server --port 8765 --out tests/load/results/server.prof &
    python -m tests.load.run_load --url http://127.0.0.1:8765 --students 10 --duration 60
    kill -INT <pid of profile_server>      # writes the profile and prints the top functions

Runs ``streamlit run app.py`` in this process with a cProfile profiler in every script thread
(``ScriptRunner.scriptThread``: where page code, caches and figure building run); the profiles of all threads
are merged when the server stops. Serialisation and websocket sends run in the event-loop thread and are
not included. Profiling slows the page code down (roughly 1.5-2x), so use it for where, not for how fast.
"""

from __future__ import annotations

import argparse
import atexit
import cProfile
import pstats
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_profiles: list[cProfile.Profile] = []
_lock = threading.Lock()


def _hook(frame, event, arg):  # noqa: ARG001 - sys.setprofile signature
    """First profile event of a new thread: give script threads their own profiler (which replaces this hook)."""
    sys.setprofile(None)
    if threading.current_thread().name.startswith("ScriptRunner"):
        prof = cProfile.Profile()
        with _lock:
            _profiles.append(prof)
        prof.enable()


def _dump(out: Path, top: int) -> None:
    with _lock:
        profiles = list(_profiles)
    for p in profiles:
        try:
            p.disable()  # only affects the calling thread's profiler; others were stopped by thread exit
        except Exception:  # noqa: BLE001
            pass
    profiles = [p for p in profiles if p.getstats()]
    if not profiles:
        print("profile_server: no script thread ran", file=sys.stderr)
        return
    stats = pstats.Stats(profiles[0])
    for p in profiles[1:]:
        stats.add(p)
    out.parent.mkdir(parents=True, exist_ok=True)
    stats.dump_stats(out)
    print(f"profile_server: {len(profiles)} script threads, profile in {out}", file=sys.stderr)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--out", type=Path, default=ROOT / "tests" / "load" / "results" / "server.prof")
    ap.add_argument("--top", type=int, default=40)
    args, extra = ap.parse_known_args()
    threading.setprofile(_hook)
    atexit.register(_dump, args.out, args.top)
    sys.argv = ["streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true", "--server.port", str(args.port),
                "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
                "--server.fileWatcherType", "none", *extra]
    from streamlit.web.cli import main as streamlit_main

    try:
        streamlit_main()
    except SystemExit:
        pass


if __name__ == "__main__":
    main()

"""A replica's first page after a (re)start (issue 12, item 5): how long from starting ``streamlit run`` until a
student's first page has run, with the precomputed store already on disk.

    python -m deploy.precompute              # the store for this code (skipped when complete)
    python -m tests.load.first_page          # starts a fresh server, opens every registered page once, in order

Prints, per page, the seconds from the server's start (the ``Popen``) until that page's first run finished, and
the run's own latency; the server starts with its normal settings (it warms its pinned defaults from the store:
``REGOPT_WARM_ON_START`` is left as configured). Not a pass/fail test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from pages._ui import cached  # noqa: E402
from tests.load.run_load import free_port, page_name, registry, start_server, stop_server  # noqa: E402
from tests.load.streamlit_client import StreamlitClient  # noqa: E402


async def _open_all(url: str, t0: float, timeout: float) -> list[dict]:
    rows = []
    async with StreamlitClient(url, timeout=timeout) as c:
        for spec in registry.PAGES:
            r = await c.open_page(page_name(spec))
            rows.append({"page": spec.url_path, "since_start_s": round(time.perf_counter() - t0, 2),
                         "run_s": round(r.latency_s, 2), "status": r.status})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--out", type=Path, default=None, help="write the rows as JSON")
    args = ap.parse_args()
    store = cached.store_dir()
    n_files = len(list(store.glob("*.pkl"))) if store.is_dir() else 0
    port = free_port()
    t0 = time.perf_counter()
    proc = start_server(port, [], ROOT / "tests/load/results/first_page_server.log")
    healthy = time.perf_counter() - t0
    try:
        rows = asyncio.run(_open_all(f"http://127.0.0.1:{port}", t0, args.timeout))
    finally:
        stop_server(proc)
    print(f"store {store} ({n_files} results); server healthy after {healthy:.2f} s")
    print(f"{'page':<16}{'since start s':>14}{'run s':>8}  status")
    for r in rows:
        print(f"{r['page']:<16}{r['since_start_s']:>14}{r['run_s']:>8}  {r['status']}")
    if args.out:
        args.out.write_text(json.dumps({"store_results": n_files, "healthy_s": round(healthy, 2), "rows": rows},
                                       indent=2))


if __name__ == "__main__":
    main()

"""Markdown tables from load-test summaries (the JSON files written by ``run_load --out``).

    python -m tests.load.report tests/load/results/s60.json tests/load/results/s200.json
    python -m tests.load.report --cpu tests/load/results/s1-cpu.json      # server CPU per rerun kind
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _cores(cpu_s: float | None, wall: float) -> str:
    return "–" if cpu_s is None else f"{max(cpu_s, 0.0) / wall:.2f}"


def _t(value: float | None, s: dict) -> str:
    """A latency; at or above the client's timeout it is only a lower bound."""
    if value is None:
        return "–"
    limit = s.get("timeout_s", 60)
    return f"> {limit:g} s" if value >= 0.99 * limit else f"{value:.2f} s"


def _errors(s: dict) -> str:
    if not s["errors"]:
        return "0"
    kinds = ", ".join(f"{n} {'runs > ' + str(int(s.get('timeout_s', 60))) + ' s' if k == 'timeout' else k + 's'}"
                      for k, n in sorted(s["error_kinds"].items()))
    return f"{s['errors']} ({kinds})"


def _presses(s: dict) -> str:
    """Compute-button presses: how many, and the slowest (explicit heavy work: 5 s budget for one student)."""
    c = s.get("latency_compute")
    if c is None:
        return "–"
    return f"{c['n']}, {_t(c['max_s'], s)}" if c["n"] else "0"


def table(paths: list[Path]) -> str:
    rows = ["| run (UTC) | students | think | pages | reruns | p50 | p95 | max | max without Compute presses | "
            "Compute presses: n, max | errors | server RSS peak | cores used: server / other processes |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for p in paths:
        s = json.loads(p.read_text())
        lat, cpu = s["latency"], s["cpu_s"]
        lat = s.get("latency_incl_timeouts", lat)  # timed-out reruns count (as lower bounds)
        pages = ", ".join(x.replace("(default: ", "").rstrip(")") for x in s["pages"])
        rows.append(f"| {s['date_utc'].replace(' UTC', '')} | {s['students']} | {s['think_s']:g} s | {pages} | "
                    f"{s['reruns']} | {_t(lat['p50_s'], s)} | {_t(lat['p95_s'], s)} | {_t(lat['max_s'], s)} | "
                    f"{_t(s.get('latency_interactions', {}).get('max_s'), s)} | {_presses(s)} | {_errors(s)} | "
                    f"{s['server_rss_mb']['peak']} MB | {_cores(cpu['server'], cpu['wall_s'])} / "
                    f"{_cores(cpu.get('other_processes'), cpu['wall_s'])} |")
    return "\n".join(rows)


def cpu_table(path: Path, top: int = 25) -> str:
    s = json.loads(path.read_text())
    rows = ["| page · rerun | n | server CPU, median | max |", "|---|---|---|---|"]
    for name, v in list((s.get("server_cpu_per_rerun") or {}).items())[:top]:
        rows.append(f"| {name} | {v['n']} | {v['median_s']} s | {v['max_s']} s |")
    return "\n".join(rows)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--cpu", action="store_true", help="server CPU per rerun kind (a --students 1 run)")
    args = ap.parse_args(argv)
    print(cpu_table(args.files[0]) if args.cpu else table(args.files))


if __name__ == "__main__":
    main()

"""Interaction profile: the server CPU of every control on every page (issue 12, item 1).

    python -m tests.load.profile                                   # every registered page, 3 values per control
    python -m tests.load.profile --pages losses,ct --values 5
    python -m tests.load.profile --url http://127.0.0.1:8765 [--server-pid PID]   # attach to a running server

Without ``--url`` it starts one ``streamlit run app.py`` on a free loopback port (the project's
``.streamlit/config.toml`` applies), opens the default page once (the app's warm-up) and waits until the server
is idle. Then, for every page of ``pages/_ui/registry.py``, in a fresh session (one headless websocket client,
``tests/load/streamlit_client.py``), it opens the page and moves **every control the page shows** -- discovered
from the page's ``ForwardMsg``s (``delta.new_element.<widget>``), sidebar and fragments alike; controls that
appear only after another move are added as they appear -- to a few values:

- slider / number input: evenly spaced values from min to max (``--values 3``: min, mid, max), skipping the
  current one (a number input without bounds: a few steps from the current value);
- select slider, select box, radio: up to N options other than the current one (spread over the options);
- multiselect: up to N single-option selections; checkbox / toggle: both ways (flip, flip back);
- button: pressed once.

A control inside an ``@st.fragment`` reruns only that fragment: its element arrives with ``Delta.fragment_id``
(Streamlit 1.67 sets it on every delta written inside a fragment, in full runs too) and the client sends that id
in ``BackMsg.rerun_script.fragment_id`` with the full widget set, as the browser does. After a control's values
it is set back to the value it had, so every control is measured from the page's default state.

For each rerun: the **server CPU** (user+system of the server process and every descendant -- worker processes
-- from ``/proc/<pid>/stat``, read when the server has been idle for a moment before the rerun, and again once
it is idle after ``script_finished``, so work that outlives the run is counted) and the wall latency (from
sending ``rerun_script`` to ``script_finished``). CPU readings have the kernel's tick resolution (10 ms).
The server must be otherwise idle: other sessions' reruns would be counted.

Printed and written to ``--out`` (Markdown) and ``--out`` with ``.json``: one row per page x control, sorted by
cost (p95 CPU): values tried, median and p95 CPU ms, max wall ms, errors, and whether the row is within the
issue-12 budget (p95 <= 250 ms; CT <= 800 ms). A page that raises, a control that errors or times out is an
error row; the profile never stops on it.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import math
import os
import platform
import re
import statistics
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from streamlit.proto.Slider_pb2 import Slider as SliderProto  # noqa: E402
from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: E402

from tests.load import run_load  # noqa: E402
from tests.load.run_load import registry  # noqa: E402  (pages/_ui/registry.py, pure data)
from tests.load.streamlit_client import RunResult, StreamlitClient, Widget  # noqa: E402

DEFAULT_OUT = ROOT / "docs" / "interaction-profile.md"
BUDGET_MS = {"ct": 800.0}  # p95 server CPU per interaction (issue 12, 128² CT); every other page:
BUDGET_DEFAULT_MS = 250.0
LOG_ERROR = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception): ")


# ------------------------------------------------------------------------------------------ value plans
def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _spread(n_items: int, k: int) -> list[int]:
    """``k`` indices spread evenly over ``range(n_items)`` (first and last included when k >= 2)."""
    if n_items <= 0 or k <= 0:
        return []
    if k >= n_items:
        return list(range(n_items))
    if k == 1:
        return [n_items - 1]
    return sorted({round(i * (n_items - 1) / (k - 1)) for i in range(k)})


def _numeric_grid(lo: float, hi: float, step: float, k: int, is_int: bool) -> list[float]:
    step = step or (1.0 if is_int else (hi - lo) / 100 or 1.0)
    n_steps = max(int(math.floor((hi - lo) / step + 1e-9)), 0)
    out = []
    for i in _spread(n_steps + 1, k):
        v = min(lo + i * step, hi)
        v = float(int(round(v))) if is_int else round(v, 12)
        if v not in out:
            out.append(v)
    if k >= 2 and hi not in out and not is_int:
        out[-1] = hi
    return out


def current_value(w: Widget):
    s = w.state
    if s is None:
        return None
    field_name = s.WhichOneof("value")
    if field_name is None:
        return None
    v = getattr(s, field_name)
    if field_name in ("double_array_value", "string_array_value", "int_array_value"):
        return tuple(v.data)
    return v


def value_plan(w: Widget, k: int) -> list[tuple[str, WidgetState]]:
    """The values to try for one control: ``[(description, WidgetState), ...]`` (see the module docstring)."""
    p = w.proto
    cur = current_value(w)
    plan: list[tuple[str, WidgetState]] = []

    def add(desc: str, **kw) -> None:
        s = WidgetState(id=w.id)
        for name, value in kw.items():
            if name.endswith("_array_value"):
                getattr(s, name).data.extend(value)
            else:
                setattr(s, name, value)
        plan.append((desc, s))

    if w.kind == "slider" and p.type == SliderProto.SELECT_SLIDER:
        opts = list(p.options)
        ranged = len(p.default) == 2
        for i in _spread(len(opts), k + 1):
            value = (opts[0], opts[i]) if ranged else (opts[i],)
            if ranged and i == 0:
                continue
            if value != cur and len(plan) < k:
                add(" – ".join(value), string_array_value=list(value))
    elif w.kind == "slider":
        is_int = p.data_type == p.INT
        ranged = len(p.default) == 2
        grid = _numeric_grid(p.min, p.max, p.step, k + 1 if ranged else k, is_int)
        for v in grid:
            value = (p.min, v) if ranged else (v,)
            if (ranged and v == p.min) or value == cur:
                continue
            if len(plan) < k:
                add(" – ".join(_fmt(int(x) if is_int else x) for x in value), double_array_value=list(value))
    elif w.kind in ("selectbox", "radio"):
        opts = list(p.options)
        others = [o for o in opts if o != cur]
        for i in _spread(len(others), k):
            add(others[i], string_value=others[i])
    elif w.kind == "multiselect":
        opts = list(p.options)
        for i in _spread(len(opts), k):
            value = (opts[i],)
            if value != cur:
                add(opts[i], string_array_value=list(value))
    elif w.kind == "checkbox":
        now = bool(cur) if cur is not None else bool(p.default)
        add(str(not now).lower(), bool_value=not now)
        add(str(now).lower(), bool_value=now)
    elif w.kind == "number_input":
        is_int = p.data_type == p.INT
        step = p.step or 1.0
        now = cur if cur is not None else p.default
        if p.has_min and p.has_max and (p.max - p.min) / step <= 10_000:
            candidates = _numeric_grid(p.min, p.max, step, k, is_int)
        else:  # unbounded, or a huge range (a seed box): what a student does, a few steps from the current value
            candidates = [now + j * step for j in (1, 2, -1, 3, -2, 5, 10)]
            if p.has_min:
                candidates = [max(c, p.min) for c in candidates]
            if p.has_max:
                candidates = [min(c, p.max) for c in candidates]
        seen = set()
        for v in candidates:
            v = int(round(v)) if is_int else round(float(v), 12)
            if v == now or v in seen or len(plan) >= k:
                continue
            seen.add(v)
            if is_int:
                add(_fmt(v), int_value=v)
            else:
                add(_fmt(v), double_value=v)
    elif w.kind == "button":
        add("press", trigger_value=True)
    return plan


# ------------------------------------------------------------------------------------------ measuring
@dataclass
class Row:
    page: str
    key: str
    label: str
    kind: str
    scope: str  # "fragment" or "page" (what a move reruns), "open" for the page open
    values: list[str] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    wall_ms: list[float] = field(default_factory=list)
    kb_received: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        cpu = sorted(self.cpu_ms)
        return {"median_cpu_ms": round(statistics.median(cpu), 1) if cpu else None,
                "p95_cpu_ms": round(run_load.pct(cpu, 95), 1) if cpu else None,
                "max_cpu_ms": round(max(cpu), 1) if cpu else None,
                "max_wall_ms": round(max(self.wall_ms), 1) if self.wall_ms else None,
                "median_kb": round(statistics.median(self.kb_received), 1) if self.kb_received else None}


class Meter:
    """Server CPU time across one rerun, with the server idle before and after."""

    def __init__(self, pid: int | None, *, idle_window: float = 0.15, idle_ticks: int = 1, max_wait: float = 10.0,
                 log: Path | None = None):
        self.pid, self.log = pid, log  # the server's log (when this profile started it): exception types
        self.window, self.max_wait = idle_window, max_wait
        self.threshold = idle_ticks / run_load.CLK_TCK + 1e-9

    async def idle(self) -> tuple[float, bool]:
        """Wait until the server used at most one tick over a window; return (its CPU time, settled?)."""
        if not self.pid:
            return 0.0, True
        t0 = time.perf_counter()
        c0 = run_load.cpu_seconds(self.pid)
        while True:
            await asyncio.sleep(self.window)
            c1 = run_load.cpu_seconds(self.pid)
            if c1 - c0 <= self.threshold:
                return c1, True
            if time.perf_counter() - t0 > self.max_wait:
                return c1, False
            c0 = c1


async def measured(meter: Meter, coro_fn) -> tuple[RunResult, float | None, list[str]]:
    """Run one rerun between two idle readings: (result, server CPU ms incl. work after script_finished, notes)."""
    notes = []
    before, ok = await meter.idle()
    if not ok:
        notes.append("server busy before the rerun")
    offset = meter.log.stat().st_size if meter.log and meter.log.exists() else None
    r = await coro_fn()
    after, ok = await meter.idle()
    if not ok:
        notes.append(f"server still busy {meter.max_wait:g} s after the run")
    if offset is not None and (r.exceptions or r.status != "ok"):
        # the browser's exception text is redacted (client.showErrorDetails = "none"); the log has the type
        with meter.log.open(errors="replace") as fh:
            fh.seek(offset)
            found = [ln.strip() for ln in fh.read().splitlines() if LOG_ERROR.match(ln.strip())]
        if found:
            r.exceptions = [f"{found[-1][:200]} (server log)"] + [e for e in r.exceptions if "redacted" not in e]
    cpu_ms = (after - before) * 1000 if meter.pid else None
    # the idle windows themselves may hold up to one tick each of unrelated housekeeping
    return r, cpu_ms, notes


def _errors_of(r: RunResult) -> list[str]:
    out = []
    if r.status != "ok":
        out.append(r.status)
    out += [f"exception: {e}" for e in r.exceptions]
    if r.page_not_found:
        out.append("page_not_found")
    return out


def _record(row: Row, desc: str, r: RunResult, cpu_ms: float | None, notes: list[str]) -> None:
    row.values.append(desc)
    errs = _errors_of(r)
    if errs:
        row.errors.extend(f"{desc}: {e}" for e in errs)
    if r.status == "ok":  # a run that raised still cost what it cost; a timeout or disconnect has no figure
        if cpu_ms is not None:
            row.cpu_ms.append(round(cpu_ms, 1))
        row.wall_ms.append(round(r.latency_s * 1000, 1))
        row.kb_received.append(round(r.n_bytes / 1000, 1))
    row.notes.extend(n for n in notes if n not in row.notes)
    if r.auto_rerun and "asks for periodic fragment reruns (run_every)" not in row.notes:
        row.notes.append("asks for periodic fragment reruns (run_every)")
    if r.error_alerts:
        note = f"error box: {r.error_alerts[0][:80]}"
        if note not in row.notes:
            row.notes.append(note)


async def profile_page(spec: registry.PageSpec, url: str, meter: Meter, k: int, timeout: float,
                       log=print) -> tuple[list[Row], list[str]]:
    """Every control of one page, in a fresh session. Returns (rows, other widgets not simulated)."""
    page = run_load.page_name(spec)
    rows: list[Row] = []
    other: list[str] = []
    open_row = Row(spec.url_path, "(open)", "open the page", "page", "open")
    rows.append(open_row)
    client = StreamlitClient(url, timeout=timeout)
    try:
        await client.connect()
        r, cpu, notes = await measured(meter, lambda: client.open_page(page))
        _record(open_row, "default", r, cpu, notes)
        if r.failed and not client.widgets:
            return rows, other
        other.extend(x for x in r.other_widgets if x not in other)
        queue = [(w.kind, w.key) for w in client.movable()]
        done: set[tuple[str, str]] = set()
        while queue:
            kind, key = queue.pop(0)
            if (kind, key) in done:
                continue
            done.add((kind, key))
            w = client.find(kind, key)
            if w is None:
                continue
            row = Row(spec.url_path, key, w.label, kind, "fragment" if w.fragment_id else "page")
            rows.append(row)
            original = WidgetState()
            if w.state is not None:
                original.CopyFrom(w.state)
            try:
                plan = value_plan(w, k)
            except Exception as exc:  # noqa: BLE001 - an odd widget is an error row, not a crash
                row.errors.append(f"no value plan: {type(exc).__name__}: {exc}")
                continue
            if not plan:
                row.notes.append("no other value to try")
            for desc, state in plan:
                w = client.find(kind, key)
                if w is None:
                    row.errors.append(f"{desc}: the control disappeared after an earlier value")
                    break
                state.id = w.id
                r, cpu, notes = await measured(meter, lambda w=w, state=state: client.set_state(w, state))
                _record(row, desc, r, cpu, notes)
                other.extend(x for x in r.other_widgets if x not in other)
                if client.ws is None:  # disconnected: a fresh session for the remaining controls
                    await client.connect()
                    await client.open_page(page)
                    break
                for nw in client.movable():
                    if (nw.kind, nw.key) not in done and (nw.kind, nw.key) not in queue:
                        queue.append((nw.kind, nw.key))
                        row.notes.append(f"{desc} shows the control {nw.key}")
            # back to the value it had (not measured), so the next control starts from the default state
            w = client.find(kind, key)
            if kind != "button" and w is not None and original.WhichOneof("value") is not None \
                    and w.state is not None and w.state.SerializeToString() != original.SerializeToString():
                original.id = w.id
                r = await client.set_state(w, original, action=f"restore:{key}")
                if r.failed:
                    row.errors.append(f"restore: {'; '.join(_errors_of(r))[:200]}")
                if client.ws is None:
                    await client.connect()
                    await client.open_page(page)
            s = row.summary()
            log(f"  {spec.url_path:14s} {key:24.24s} {kind:12s} {len(row.values)} values  "
                f"cpu p50 {s['median_cpu_ms']} ms p95 {s['p95_cpu_ms']} ms  wall max {s['max_wall_ms']} ms"
                + (f"  ERRORS {len(row.errors)}" if row.errors else ""))
    except Exception as exc:  # noqa: BLE001 - a page that breaks the client is an error row
        err = Row(spec.url_path, "(profile)", "the profile of this page stopped", "page", "open")
        err.errors.append(f"{type(exc).__name__}: {exc}"[:300])
        err.notes.append(traceback.format_exc(limit=3).splitlines()[-1][:200])
        rows.append(err)
    finally:
        await client.close()
    return rows, other


# ------------------------------------------------------------------------------------------ reporting
def budget_ms(page: str) -> float:
    return BUDGET_MS.get(page, BUDGET_DEFAULT_MS)


def sort_key(row: Row):
    s = row.summary()
    return (-(s["p95_cpu_ms"] or 0.0), -(s["median_cpu_ms"] or 0.0), row.page, row.key)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(meta: dict, rows: list[Row]) -> str:
    lines = [
        "# Interaction profile",
        "",
        "Server CPU of the rerun each control causes, every registered page, every control the page shows "
        "(discovered from the page's messages), from the page's default state. Generated by "
        "`tests/load/profile.py`; do not edit by hand.",
        "",
        f"- command: `{meta['command']}`",
        f"- date: {meta['date_utc']}; machine: {meta['machine']['cpus']} CPUs, Python {meta['machine']['python']}, "
        f"load average at start {meta['loadavg_start']}",
        f"- server: {meta['target']}; CPU of the server process tree from `/proc/<pid>/stat` (10 ms ticks); "
        f"values per control: {meta['values']}",
        f"- {meta['n_controls']} controls on {meta['n_pages']} pages, {meta['n_reruns']} measured reruns, "
        f"{meta['n_error_rows']} rows with errors, {meta['n_over_budget']} rows over budget "
        f"(p95 CPU > {BUDGET_DEFAULT_MS:g} ms; CT > {BUDGET_MS['ct']:g} ms); profile took {meta['elapsed_s']} s",
        "",
        "| page | control | kind | scope | values tried | CPU median ms | CPU p95 ms | wall max ms | "
        "KB received | budget | errors |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        s = row.summary()
        vals = ", ".join(row.values)
        vals = vals if len(vals) <= 60 else vals[:57] + "…"
        control = row.key if row.key == row.label or row.key.startswith("(") else f"`{row.key}` · {row.label}"
        over = "–" if s["p95_cpu_ms"] is None else ("ok" if s["p95_cpu_ms"] <= budget_ms(row.page) else "**over**")
        errs = "; ".join(row.errors)
        errs = errs if len(errs) <= 120 else errs[:117] + "…"
        lines.append(f"| {row.page} | {_cell(control)} | {row.kind} | {row.scope} | {_cell(vals)} | "
                     f"{s['median_cpu_ms'] if s['median_cpu_ms'] is not None else '–'} | "
                     f"{s['p95_cpu_ms'] if s['p95_cpu_ms'] is not None else '–'} | "
                     f"{s['max_wall_ms'] if s['max_wall_ms'] is not None else '–'} | "
                     f"{s['median_kb'] if s['median_kb'] is not None else '–'} | {over} | {_cell(errs) or '0'} |")
    if meta.get("not_simulated"):
        lines += ["", "Widgets shown but not moved by the profile (no simulation for their kind): "
                  + ", ".join(f"`{_cell(x)}`" for x in meta["not_simulated"]) + "."]
    notes = [(r, n) for r in rows for n in r.notes]
    if notes:
        lines += ["", "Notes:", ""]
        lines += [f"- {r.page} · {r.key}: {_cell(n)}" for r, n in notes]
    return "\n".join(lines) + "\n"


def print_table(rows: list[Row]) -> None:
    print(f"{'page':14s} {'control':28s} {'kind':12s} {'scope':8s} {'n':>3s} {'cpu p50':>9s} {'cpu p95':>9s} "
          f"{'wall max':>9s}  errors")
    for row in rows:
        s = row.summary()
        f = lambda v: "–" if v is None else f"{v:.0f}"  # noqa: E731
        print(f"{row.page:14.14s} {row.key:28.28s} {row.kind:12.12s} {row.scope:8.8s} {len(row.values):3d} "
              f"{f(s['median_cpu_ms']):>9s} {f(s['p95_cpu_ms']):>9s} {f(s['max_wall_ms']):>9s}  "
              f"{len(row.errors) or ''} {('; '.join(row.errors))[:70]}")


# ------------------------------------------------------------------------------------------ main
def parse_args(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tests.load.profile", description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", help="comma-separated url_paths (default: every registered page)")
    ap.add_argument("--values", type=int, default=3, help="values per control (sliders: min/mid/max at 3)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Markdown table; the JSON goes next to it")
    ap.add_argument("--url", help="attach to a running server (default: start one)")
    ap.add_argument("--server-pid", type=int, help="with --url: the server's pid (default: the process listening "
                                                    "on the URL's port, if visible)")
    ap.add_argument("--server-arg", action="append", default=[], metavar="ARG",
                    help="extra argument for `streamlit run` (repeatable)")
    ap.add_argument("--timeout", type=float, default=120.0, help="a rerun slower than this is an error")
    ap.add_argument("--settle", type=float, default=120.0,
                    help="after the warm-up visit, wait up to this many seconds for the server to go idle")
    ap.add_argument("--no-warmup", action="store_true", help="skip the warm-up visit of the default page")
    ap.add_argument("--idle-wait", type=float, default=10.0,
                    help="before and after each rerun, wait up to this many seconds for the server to be idle")
    return ap.parse_args(argv)


async def _warm(url: str, timeout: float) -> dict:
    async with StreamlitClient(url, timeout=timeout) as c:
        r = await c.open_page("")
        return {"latency_s": round(r.latency_s, 2), "status": r.status, "errors": _errors_of(r)}


def main(argv=None) -> int:
    args = parse_args(argv)
    pages = list(registry.PAGES)
    if args.pages:
        wanted = [p for p in args.pages.split(",") if p]
        unknown = [p for p in wanted if p not in {s.url_path for s in pages}]
        if unknown:
            raise SystemExit(f"not registered: {unknown}; registered: {[s.url_path for s in pages]}")
        pages = [p for p in pages if p.url_path in wanted]
    proc = None
    log_path = None
    pid = args.server_pid
    url = args.url
    t_start = time.perf_counter()
    load0 = run_load.loadavg()
    if not url:
        port = run_load.free_port()
        log_path = run_load.RESULTS / f"profile-server-{port}.log"
        proc = run_load.start_server(port, args.server_arg, log_path)
        pid = proc.pid
        base = next((a.split("=", 1)[1].strip("/") for a in args.server_arg
                     if a.startswith("--server.baseUrlPath=")), "")
        url = f"http://127.0.0.1:{port}" + (f"/{base}" if base else "")
    elif pid is None:
        from urllib.parse import urlsplit

        pid = run_load.pid_listening_on(urlsplit(url).port or 80)
        if pid is None:
            print("profile: server pid not found (pass --server-pid); CPU will not be measured", file=sys.stderr)
    rows: list[Row] = []
    not_simulated: list[str] = []
    warm = None
    try:
        async def go():
            nonlocal warm
            if not args.no_warmup:
                warm = await _warm(url, args.timeout)
            settled = await run_load.settle(pid, args.settle)
            print(f"profile: {url} (pid {pid}); warm-up {warm}; settled after {settled} s", flush=True)
            meter = Meter(pid, max_wait=args.idle_wait, log=log_path)
            for spec in pages:
                print(f"page {spec.url_path}", flush=True)
                page_rows, other = await profile_page(spec, url, meter, args.values, args.timeout)
                rows.extend(page_rows)
                not_simulated.extend(f"{spec.url_path}: {x}" for x in other)
        asyncio.run(go())
    finally:
        if proc is not None:
            run_load.stop_server(proc)
    rows.sort(key=sort_key)
    meta = {
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python -m tests.load.profile " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "loadavg_start": load0,
        "target": url if args.url else "a fresh `streamlit run app.py` started by the profile",
        "server_pid_measured": pid is not None,
        "warmup": warm,
        "values": args.values,
        "pages": [p.url_path for p in pages],
        "n_pages": len(pages),
        "n_controls": sum(1 for r in rows if r.scope != "open"),
        "n_reruns": sum(len(r.values) for r in rows),
        "n_error_rows": sum(1 for r in rows if r.errors),
        "n_over_budget": sum(1 for r in rows if (r.summary()["p95_cpu_ms"] or 0) > budget_ms(r.page)),
        "elapsed_s": round(time.perf_counter() - t_start, 1),
        "not_simulated": not_simulated,
        "budget_p95_cpu_ms": {"default": BUDGET_DEFAULT_MS, **BUDGET_MS},
    }
    print()
    print_table(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown(meta, rows))
    json_path = args.out.with_suffix(".json")
    json_path.write_text(json.dumps({"meta": meta, "rows": [{**asdict(r), **r.summary()} for r in rows]}, indent=1))
    print(f"\nwrote {args.out} and {json_path}")
    return 0 if meta["n_error_rows"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

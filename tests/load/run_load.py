"""Load test: N simulated students against a real Streamlit server (DESIGN §4.5, §5).

    python -m tests.load.run_load --students 60 --duration 90 --think 2
    python -m tests.load.run_load --students 200 --duration 90 --think 2
    python -m tests.load.run_load --url http://host:8080/regopt --students 30   # an existing server / proxy

Without ``--url`` it starts ``streamlit run app.py`` on a free loopback port (the project's
``.streamlit/config.toml`` applies) and stops it at the end. Each student is one browser tab (one websocket
session, see ``tests/load/streamlit_client.py``): it arrives within the ramp-up window, opens a random registered
page (every page of ``pages/_ui/registry.py``), moves a few random controls within their ranges with a think
time between moves, then opens another page, until the duration is over.

Reported: p50/p95/max latency of every rerun (from sending ``rerun_script`` to receiving ``script_finished``,
as a student waits for it), split into page opens and control moves, per page and the slowest actions; errors
(``exception`` elements, ``page_not_found``, compile errors, timeouts, disconnects); the server's RSS (server
process and its children, from ``/proc/<pid>/status`` VmRSS) sampled every second; CPU used by the server and by
this client (both share the machine). The summary is printed as JSON, followed by one markdown table row.

Two more modes:

    python -m tests.load.run_load --students 15 --pages losses,bias-variance,landscapes,splits --hostile 8
    python -m tests.load.run_load --no-warmup --ramp 2 --students 60 --visits 1 --min-moves 1 --max-moves 1

``--hostile N`` (issue 16): N extra sessions on ``--hostile-page`` (default ``ct``) move random controls with no
think time, beside the students; the summary's latency and errors are the normal students' only, and the
hostile sessions' figures are under ``"hostile"``. Run the same command without ``--hostile`` for the "without".
The N sessions are tabs of one browser (they share its XSRF cookie, as one person's tabs do);
``--hostile-browsers K`` spreads them over K browsers (K = N: N people, each holding a key down).

``--no-warmup`` (issue 12, the cold crowd): no warm-up visit, no waiting for the server to settle; with the
server started by this run (no ``--url``), every student meets a just-started process, arriving within ``--ramp``
seconds, the first visit of student i on page i mod n_pages. Errors are counted by kind (``error_kinds``:
exception elements, page_not_found, timeouts, disconnect, connect_failed) with the messages seen
(``error_messages``). ``--visits K`` makes each student leave after K page visits (the run ends when all left).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import resource
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "tests" / "load" / "results"
sys.path.insert(0, str(ROOT))

from tests.load.streamlit_client import RunResult, StreamlitClient  # noqa: E402


def _load_registry():
    """``pages/_ui/registry.py`` by its path: pure data, and importing it this way does not run
    ``pages/_ui/__init__.py`` (which imports every page's dependencies for the server's start-up)."""
    import importlib.util

    name = "regopt_load_registry"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "pages" / "_ui" / "registry.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


registry = _load_registry()

CLK_TCK = os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------------------------------------ server
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, extra_args: list[str], log_path: Path, timeout: float = 120.0,
                 root: Path = ROOT) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none", *extra_args]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "w")  # noqa: SIM115 - lives as long as the server
    # A measured server never starts a background build of the precomputed store (its CPU would be counted as the
    # students'): build the store first (`python -m deploy.precompute`), as a deployment does.
    env = {**os.environ, "REGOPT_PRECOMPUTE_ON_START": os.environ.get("REGOPT_PRECOMPUTE_ON_START", "0")}
    proc = subprocess.Popen(cmd, cwd=root, stdout=log, stderr=subprocess.STDOUT, env=env)
    base_path = next((a.split("=", 1)[1].strip("/") for a in extra_args if a.startswith("--server.baseUrlPath=")), "")
    health = f"http://127.0.0.1:{port}/{base_path + '/' if base_path else ''}_stcore/health"
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}; see {log_path}")
        try:
            with urllib.request.urlopen(health, timeout=2) as r:
                if r.read().strip() == b"ok":
                    return proc
        except OSError:
            time.sleep(0.3)
    stop_server(proc)
    raise RuntimeError(f"streamlit did not become healthy in {timeout} s; see {log_path}")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


# ------------------------------------------------------------------------------------------ /proc probes
def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = defaultdict(list)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children[ppid].append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    out, todo = [pid], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def rss_bytes(pid: int) -> int:
    """VmRSS of ``pid`` and all its descendants (psutil is not installed)."""
    total = 0
    for p in _descendants(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            continue
    return total


def cpu_seconds(pid: int) -> float:
    """user+system CPU time of ``pid`` and its live descendants (worker processes), plus that of descendants
    that exited and were reaped (``cutime``/``cstime``), so a worker that ends between two readings still counts."""
    total = 0.0
    for p in _descendants(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / CLK_TCK
        except (OSError, ValueError, IndexError):
            continue
    return total


def pid_listening_on(port: int) -> int | None:
    """The pid of a (visible) process with a listening TCP socket on ``port``, from /proc/net/tcp{,6}."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:  # 0A = LISTEN
                        inodes.add(parts[9])
        except OSError:
            continue
    if not inodes:
        return None
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            for fd in os.listdir(f"/proc/{entry}/fd"):
                link = os.readlink(f"/proc/{entry}/fd/{fd}")
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return int(entry)
        except OSError:
            continue
    return None


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])
    return (total - idle) / CLK_TCK, total / CLK_TCK


def loadavg() -> float:
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


class RssSampler(threading.Thread):
    def __init__(self, pid: int | None, every: float = 1.0):
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.samples: list[tuple[float, int]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        while self.pid and not self._halt.is_set():
            self.samples.append((time.time(), rss_bytes(self.pid)))
            self._halt.wait(self.every)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)


# --------------------------------------------------------------------------------------------- students
def page_name(spec: registry.PageSpec) -> str:
    """What the browser sends for a page: the default page lives at the root URL."""
    return "" if spec.default else spec.url_path


def pick_widget(client: StreamlitClient, rng: random.Random):
    """A random control; the sidebar's reset button and presentation toggle are rarely touched."""
    widgets = client.movable()
    if not any(not (w.kind == "button" or w.key.startswith("_")) for w in widgets):
        return None  # nothing to explore on this page (e.g. home): read it and move on
    weights = [0.1 if (w.kind == "button" or w.key.startswith("_")) else 1.0 for w in widgets]
    return rng.choices(widgets, weights=weights, k=1)[0]


def _recorder(idx: int, role: str, results: list, t_start: float):
    def record(r: RunResult) -> None:
        results.append({"student": idx, "role": role, "t": time.perf_counter() - t_start,
                        "page": r.page or "(default)", "server_cpu_s": getattr(r, "server_cpu_s", None),
                        "action": r.action, "fragment": r.fragment, "latency_s": r.latency_s, "status": r.status,
                        "bytes": r.n_bytes, "exceptions": r.exceptions, "error_alerts": r.error_alerts,
                        "page_not_found": r.page_not_found})
    return record


async def _connect(client: StreamlitClient, record) -> bool:
    try:
        await client.connect()
        return True
    except Exception as exc:  # noqa: BLE001 - a refused connection is an error to report
        record(RunResult(page="", action="connect", fragment=False, latency_s=0.0, status="connect_failed",
                         exceptions=[f"connect failed: {type(exc).__name__}: {exc}"]))
        return False


async def student(idx: int, args, pages: list, results: list, t_end: float, t_start: float) -> None:
    rng = random.Random(args.seed * 100_003 + idx)
    await asyncio.sleep(rng.uniform(0, args.ramp))
    client = StreamlitClient(args.url, timeout=args.timeout)

    # With one student (and no hostile sessions) the server does nothing else, so its CPU time across a rerun
    # is that rerun's cost.
    alone = args.students == 1 and not args.hostile
    server_pid = getattr(args, "server_pid", None) if alone else None

    async def timed(coro):
        cpu0 = cpu_seconds(server_pid) if server_pid else None
        r = await coro
        r.server_cpu_s = cpu_seconds(server_pid) - cpu0 if server_pid else None
        return r

    record = _recorder(idx, "student", results, t_start)
    visits = 0
    try:
        while (visits < args.visits) if args.visits else (time.perf_counter() < t_end):
            if client.ws is None and not await _connect(client, record):
                await asyncio.sleep(1.0)
                visits += 1 if args.visits else 0
                continue
            # a cold crowd spreads its first visits over every page (each page's first import is the risk)
            spec = pages[idx % len(pages)] if (args.no_warmup and visits == 0) else rng.choice(pages)
            visits += 1
            r = await timed(client.open_page(page_name(spec)))
            record(r)
            if client.ws is None:
                continue
            for _ in range(rng.randint(args.min_moves, args.max_moves)):
                await asyncio.sleep(args.think * rng.uniform(0.5, 1.5))
                if (time.perf_counter() >= t_end and not args.visits) or client.ws is None:
                    break
                w = pick_widget(client, rng)
                if w is None:
                    break
                record(await timed(client.move(w, rng)))
            if not (args.visits and visits >= args.visits):
                await asyncio.sleep(args.think * rng.uniform(0.5, 1.5))
    finally:
        await client.close()


async def hostile(idx: int, args, results: list, t_end: float, t_start: float, jar: dict | None = None) -> None:
    """One tab of a student who holds a key down: opens the costliest page and moves its controls with no
    think time (the next move is sent as soon as the previous rerun finished), until the run ends. Tabs of
    one browser share its cookie ``jar`` (``--hostile-browsers``), as a real browser's tabs do."""
    rng = random.Random(args.seed * 7_919 + 1_000_003 + idx)
    await asyncio.sleep(rng.uniform(0, min(args.ramp, 2.0)))
    client = StreamlitClient(args.url, timeout=args.timeout)
    if jar:
        client.cookies = dict(jar)
    record = _recorder(idx, "hostile", results, t_start)
    page = page_name(registry.by_url_path(args.hostile_page))
    try:
        while time.perf_counter() < t_end:
            if client.ws is None and not await _connect(client, record):
                await asyncio.sleep(1.0)
                continue
            record(await client.open_page(page))
            while client.ws is not None and time.perf_counter() < t_end:
                controls = [w for w in client.movable() if w.kind != "button" and not w.key.startswith("_")]
                if not controls:
                    await asyncio.sleep(0.5)
                    break
                record(await client.move(rng.choice(controls), rng))
    finally:
        await client.close()


# -------------------------------------------------------------------------------------------- reporting
def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    k = (len(v) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def stats(values: list[float]) -> dict:
    r = lambda x: None if x is None else round(x, 3)  # noqa: E731
    return {"n": len(values), "p50_s": r(pct(values, 50)), "p95_s": r(pct(values, 95)),
            "max_s": r(max(values) if values else None)}


def error_summary(results: list[dict]) -> dict:
    """Failed reruns by kind: ``exception`` (an exception element shown to the student), ``page_not_found``,
    ``timeout``, ``compile_error``, ``disconnect`` (the websocket closed during a run), ``connect_failed`` (the
    websocket could not be opened); plus the exception types/messages seen, most frequent first."""
    failures = [r for r in results if r["status"] != "ok" or r["exceptions"] or r["page_not_found"]]
    kinds, types = Counter(), Counter()
    for r in failures:
        if r["status"] != "ok":
            kinds[r["status"]] += 1
        if r["exceptions"] and r["status"] == "ok":
            kinds["exception"] += 1
        if r["page_not_found"]:
            kinds["page_not_found"] += 1
        for e in r["exceptions"]:
            types[e[:120]] += 1
    examples = []
    for r in failures:
        text = f"{r['page']} {r['action']}: {r['status']} {'; '.join(r['exceptions'])[:300]}"
        if text not in examples:
            examples.append(text)
    return {"failures": failures, "kinds": dict(kinds), "examples": examples[:15],
            "messages": dict(types.most_common(10)),
            "sessions_with_errors": len({r["student"] for r in failures})}


def summarize(args, all_results: list[dict], warmup: list[dict], rss: RssSampler, cpu: dict, pages: list) -> dict:
    # The normal students' figures; hostile sessions (``--hostile``) are reported on their own below.
    results = [r for r in all_results if r.get("role", "student") == "student"]
    hostile_results = [r for r in all_results if r.get("role") == "hostile"]
    lat = [r["latency_s"] for r in results if r["status"] == "ok"]
    errs = error_summary(results)
    failures, err_kinds, examples = errs["failures"], errs["kinds"], errs["examples"]
    by_page = {p: stats([r["latency_s"] for r in results if r["page"] == p and r["status"] == "ok"])
               for p in sorted({r["page"] for r in results})}
    by_action = defaultdict(list)
    for r in results:
        if r["status"] == "ok":
            by_action[(r["page"], r["action"])].append(r["latency_s"])
    slow_actions = sorted(({"page": p, "action": a, **stats(v)} for (p, a), v in by_action.items()),
                          key=lambda d: -(d["p95_s"] or 0))[:12]
    cpu_by_action = defaultdict(list)
    for r in results:
        if r.get("server_cpu_s") is not None and r["status"] == "ok":
            cpu_by_action[(r["page"], r["action"].split(":")[0] if r["action"] == "open" else r["action"])].append(
                r["server_cpu_s"])
    server_cpu_per_rerun = {f"{p} {a}": {"n": len(v), "median_s": round(sorted(v)[len(v) // 2], 3),
                                         "max_s": round(max(v), 3)}
                            for (p, a), v in sorted(cpu_by_action.items(), key=lambda kv: -sum(kv[1]))}
    rss_values = [b for _, b in rss.samples]
    span = max((r["t"] for r in results), default=0.0)
    alerts = Counter(a for r in results for a in r["error_alerts"])
    return {
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python -m tests.load.run_load " + " ".join(sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "target": args.url,
        "students": args.students, "duration_s": args.duration, "timeout_s": args.timeout, "think_s": args.think, "ramp_s": args.ramp,
        "pages": [page_name(p) or f"(default: {p.url_path})" for p in pages],
        "warmup": warmup,
        "reruns": len(results),
        "reruns_per_s": round(len(results) / span, 2) if span else None,
        "latency": stats(lat),  # reruns that finished
        # every rerun, a timed-out one counted at the time the client gave up (a lower bound): p95 >= timeout
        # here means more than 5 % of the reruns did not finish within --timeout
        "latency_incl_timeouts": stats([r["latency_s"] for r in results if r["status"] in ("ok", "timeout")]),
        "latency_open": stats([r["latency_s"] for r in results if r["action"] == "open" and r["status"] == "ok"]),
        "latency_move": stats([r["latency_s"] for r in results if r["action"].startswith("move") and r["status"] == "ok"]),
        # every rerun but the presses of a Compute button (issue 12: explicit heavy work has its own budget, 5 s with
        # a progress bar; the max <= 3 s target is for everything else), and those presses on their own
        "latency_interactions": stats([r["latency_s"] for r in results
                                       if not r["action"].startswith("compute:") and r["status"] == "ok"]),
        "latency_compute": stats([r["latency_s"] for r in results
                                  if r["action"].startswith("compute:") and r["status"] == "ok"]),
        "latency_fragment": stats([r["latency_s"] for r in results if r["fragment"] and r["status"] == "ok"]),
        "by_page": by_page,
        "server_cpu_per_rerun": server_cpu_per_rerun or None,  # only measured with --students 1
        "slowest_actions_by_p95": slow_actions,
        "errors": len(failures),
        "error_kinds": dict(err_kinds),
        "error_examples": examples[:15],
        "error_messages": errs["messages"],
        "sessions_with_errors": errs["sessions_with_errors"],
        "cold_start": bool(args.no_warmup),
        "hostile": _hostile_summary(args, hostile_results) if args.hostile else None,
        "error_alerts_shown": dict(alerts.most_common(10)),  # st.error boxes: handled, not failures
        "mb_received": round(sum(r["bytes"] for r in results) / 1e6, 1),
        "server_rss_mb": {"start": round(rss_values[0] / 2**20) if rss_values else None,
                          "peak": round(max(rss_values) / 2**20) if rss_values else None,
                          "end": round(rss_values[-1] / 2**20) if rss_values else None},
        "cpu_s": cpu,
    }


def _hostile_summary(args, results: list[dict]) -> dict:
    errs = error_summary(results)
    span = max((r["t"] for r in results), default=0.0)
    return {"sessions": args.hostile, "browsers": max(1, args.hostile_browsers), "page": args.hostile_page,
            "reruns": len(results),
            "reruns_per_s": round(len(results) / span, 2) if span else None,
            "latency": stats([r["latency_s"] for r in results if r["status"] == "ok"]),
            "latency_incl_timeouts": stats([r["latency_s"] for r in results if r["status"] in ("ok", "timeout")]),
            "errors": len(errs["failures"]), "error_kinds": errs["kinds"], "error_examples": errs["examples"][:5]}


def server_log_errors(path: Path, top: int = 10) -> dict[str, int]:
    """The exception lines (``SomeError: message``) of a server log, most frequent first."""
    import re

    pattern = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Warning)): (.*)$")
    counts = Counter()
    try:
        for line in path.read_text(errors="replace").splitlines():
            m = pattern.match(line.strip())
            if m:
                counts[f"{m.group(1)}: {m.group(2)[:100]}"] += 1
    except OSError:
        return {}
    return dict(counts.most_common(top))


def markdown_row(s: dict) -> str:
    lat = s["latency"]
    return (f"| {s['date_utc'][:10]} | {s['students']} | {s['duration_s']} s | {s['think_s']} s | {s['reruns']} | "
            f"{lat['p50_s']} s | {lat['p95_s']} s | {lat['max_s']} s | {s['errors']} | "
            f"{s['server_rss_mb']['peak']} MB |")


MARKDOWN_HEADER = ("| date | students | duration | think | reruns | p50 | p95 | max | errors | server RSS peak |\n"
                   "|---|---|---|---|---|---|---|---|---|---|")


# ------------------------------------------------------------------------------------------------ main
async def warm_up(url: str, pages: list, timeout: float) -> list[dict]:
    """A lecturer checks every page once before class (fills the caches for the default views)."""
    out = []
    async with StreamlitClient(url, timeout=timeout) as c:
        for spec in pages:
            r = await c.open_page(page_name(spec))
            out.append({"page": spec.url_path, "latency_s": round(r.latency_s, 3), "status": r.status,
                        "exceptions": r.exceptions, "page_not_found": r.page_not_found})
    return out


async def settle(server_pid: int | None, max_wait: float) -> float:
    """Wait until the server's background work (e.g. a page's warm-up thread) is done: CPU below 10% of a core
    over 2 s. Returns the seconds waited (``max_wait`` if it never settled)."""
    if not server_pid or max_wait <= 0:
        return 0.0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < max_wait:
        c0 = cpu_seconds(server_pid)
        await asyncio.sleep(2.0)
        if cpu_seconds(server_pid) - c0 < 0.2:
            break
    return round(time.perf_counter() - t0, 1)


async def run(args, pages: list, server_pid: int | None) -> tuple[dict, list[dict]]:
    warmup = [] if args.no_warmup else await warm_up(args.url, pages, args.timeout)
    # a cold crowd meets the server as it is just after start; otherwise wait for its background warm-ups
    settled = 0.0 if args.no_warmup else await settle(server_pid, args.settle)
    rss = RssSampler(server_pid)
    rss.start()
    cpu0 = cpu_seconds(server_pid) if server_pid else None
    self0 = resource.getrusage(resource.RUSAGE_SELF)
    # the hostile person's browsers: each one's cookies (its XSRF token), shared by its tabs
    jars = [await asyncio.to_thread(StreamlitClient(args.url, timeout=args.timeout)._get_index)
            for _ in range(max(1, args.hostile_browsers))] if args.hostile else []
    mach0, load0 = machine_cpu(), loadavg()
    results: list[dict] = []
    t_start = time.perf_counter()
    t_end = t_start + args.duration
    await asyncio.gather(*(student(i, args, pages, results, t_end, t_start) for i in range(args.students)),
                         *(hostile(i, args, results, t_end, t_start, jars[i % len(jars)] if jars else None)
                           for i in range(args.hostile)))
    wall = time.perf_counter() - t_start
    self1 = resource.getrusage(resource.RUSAGE_SELF)
    mach1 = machine_cpu()
    server_cpu = cpu_seconds(server_pid) - cpu0 if server_pid else None
    client_cpu = (self1.ru_utime + self1.ru_stime) - (self0.ru_utime + self0.ru_stime)
    machine_busy = mach1[0] - mach0[0]
    cpu = {"wall_s": round(wall, 1),
           "machine_busy": round(machine_busy, 1),  # all processes, all cores
           "machine_capacity": round(mach1[1] - mach0[1], 1),
           "other_processes": round(machine_busy - (server_cpu or 0) - client_cpu, 1),
           "loadavg_1min_start_end": [load0, loadavg()],
           "server": round(server_cpu, 1) if server_pid else None,
           "load_client": round(client_cpu, 1)}
    rss.stop()
    summary = summarize(args, results, warmup, rss, cpu, pages)
    summary["settle_s"] = settled  # waited after the warm-up for the server's background work to finish
    return summary, results


def parse_args(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tests.load.run_load", description=__doc__.split("\n\n")[0])
    ap.add_argument("--students", type=int, default=60)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of simulated class (after warm-up)")
    ap.add_argument("--think", type=float, default=2.0, help="mean think time between actions, s (uniform 0.5x-1.5x)")
    ap.add_argument("--ramp", type=float, default=10.0, help="students arrive uniformly within this many seconds")
    ap.add_argument("--min-moves", type=int, default=3, help="controls moved per page visit, at least")
    ap.add_argument("--max-moves", type=int, default=8, help="controls moved per page visit, at most")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=60.0, help="a rerun slower than this counts as an error")
    ap.add_argument("--url", help="an existing server (e.g. http://host:8080/regopt); default: start one")
    ap.add_argument("--server-pid", type=int, help="with --url: the server's pid, for RSS/CPU sampling")
    ap.add_argument("--server-arg", action="append", default=[], metavar="ARG",
                    help="extra argument for `streamlit run` (repeatable), e.g. --server-arg=--server.baseUrlPath=x")
    ap.add_argument("--server-root", type=Path, default=ROOT,
                    help="start the server from this checkout (e.g. a git worktree of an older commit), so a "
                         "before/after uses one load client")
    ap.add_argument("--pages", help="comma-separated url_paths to restrict to (default: every registered page)")
    ap.add_argument("--no-warmup", action="store_true", help="skip opening every page once before the students")
    ap.add_argument("--settle", type=float, default=180.0,
                    help="after the warm-up, wait up to this many seconds for the server to go idle (its pages' "
                         "background warm-up threads), as a server started well before class would be")
    ap.add_argument("--visits", type=int, default=0,
                    help="page visits per student, then it leaves (0: visit pages until --duration is over); "
                         "a run with --visits ends when every student has finished")
    ap.add_argument("--hostile", type=int, default=0, metavar="N",
                    help="N extra sessions on --hostile-page moving controls with no think time, beside the "
                         "students; the students' latency is reported apart from theirs (compare with a run "
                         "without --hostile)")
    ap.add_argument("--hostile-page", default="ct", help="url_path of the page the hostile sessions use")
    ap.add_argument("--hostile-browsers", type=int, default=1, metavar="K",
                    help="the hostile sessions are tabs of K browsers (default 1: one person's tabs, one XSRF "
                         "cookie); K = N makes every tab a browser of its own")
    ap.add_argument("--out", type=Path, help="write the JSON summary (and raw results next to it) here")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    pages = list(registry.PAGES)
    if args.pages:
        wanted = set(args.pages.split(","))
        pages = [p for p in pages if p.url_path in wanted]
        if not pages:
            raise SystemExit(f"none of {sorted(wanted)} is registered")
    if args.hostile:
        try:
            registry.by_url_path(args.hostile_page)
        except KeyError:
            raise SystemExit(f"--hostile-page {args.hostile_page!r} is not registered") from None
    if args.no_warmup and args.url:
        print("run_load: --no-warmup with --url: the server is not started by this run, so it may not be cold",
              file=sys.stderr)
    proc = None
    server_pid = args.server_pid
    if not args.url:
        port = free_port()
        proc = start_server(port, args.server_arg, RESULTS / f"server-{port}.log", root=args.server_root)
        server_pid = args.server_pid = proc.pid
        base_path = next((a.split("=", 1)[1].strip("/") for a in args.server_arg
                          if a.startswith("--server.baseUrlPath=")), "")
        args.url = f"http://127.0.0.1:{port}" + (f"/{base_path}" if base_path else "")
    log_path = RESULTS / f"server-{port}.log" if proc is not None else None
    try:
        summary, results = asyncio.run(run(args, pages, server_pid))
    finally:
        if proc is not None:
            stop_server(proc)
    if log_path is not None:
        # the browser sees redacted exceptions (client.showErrorDetails = "none"); the server log has the types
        summary["server_log"] = str(log_path)
        summary["server_log_errors"] = server_log_errors(log_path)
    print(json.dumps(summary, indent=2))
    print()
    print(MARKDOWN_HEADER)
    print(markdown_row(summary))
    if summary.get("hostile"):
        h = summary["hostile"]
        print(f"(beside {h['sessions']} hostile sessions on {h['page']}: {h['reruns']} reruns, "
              f"p50 {h['latency']['p50_s']} s, p95 {h['latency']['p95_s']} s, errors {h['errors']})")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(summary, indent=2))
        args.out.with_suffix(".raw.json").write_text(json.dumps(results))
    return 0 if summary["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

"""Heavy work off the interactive path: a few worker processes, one heavy job per session, fair turns.

``cached.result(fn, cfg, heavy=True)`` sends ``fn(cfg)`` here when the result is not cached yet. The
Streamlit process only waits (polling, with a progress note); the numbers are computed in a worker process,
so a student holding a key down on the CT page cannot take the GIL or the cores from light reruns.

* **Workers**: ``REGOPT_WORKERS`` processes (default: cores − 1, at least 2 — one client holds at most one,
  so a second slot keeps the rest of the class moving; ``0`` = compute in the script thread, as under AppTest), each its own single-worker ``ProcessPoolExecutor`` (a *slot*), started with
  ``spawn`` at a lower priority (nice +5) and one BLAS thread. A slot whose worker dies (killed, out of
  memory) fails only its own job — with a message and a retry — and starts a new worker; other slots and
  their sessions are not touched (one shared executor would fail every job in flight).
* **Fairness**: turns go to *clients* — a browser, recognised by its XSRF cookie (one person's ten tabs are one
  client; a session without the cookie is its own client). A client has at most one job running at a time,
  so with two or more slots one person can never hold every worker; queued jobs are dispatched to the
  client served least recently, so a client with many tabs gets one turn per round like everyone else; and
  the last free worker is kept for clients who are not heavy users at the moment (more than half their budget
  spent), so however many people hold a key down, a student's occasional heavy request starts at once.
  Each session has at most one job in the scheduler, running or queued: a new request from a session
  supersedes its own queued job; while its job runs, a new request waits outside the queue and says so
  ("your previous request is still running"). Two sessions asking for the same result share one job.
* **Budget**: a token bucket per client (``REGOPT_HEAVY_BURST`` jobs, default 20, refilled one per
  ``REGOPT_HEAVY_REFILL_S`` seconds, default 2: a student exploring at a move every 2 s never meets it; 12 and
  5 s made a student who moved quickly wait ~5 s per move after a dozen moves). Past it, a new heavy job waits for the client's next token with a
  friendly note on the page (a wait, not an error: the page never shows a failure for it, and a newer move
  of the same session replaces the waiting request). Results that are already cached never cost a token.
* **Short jobs never queue behind long ones**: kinds of job that typically run ``REGOPT_LONG_JOB_S`` (1.5 s) or more
  hold at most all workers but one; a job whose kind typically finishes within ``REGOPT_INLINE_JOB_S`` (0.25 s: a
  bias–variance fit) is computed by the asking script itself when every worker is busy (not a function marked
  ``worker_only``, which would build a CT system matrix in the server process). Typical times are learnt from
  finished jobs, never declared.
* Finished results go straight into the shared memo, even if the session that asked has moved on.
"""

from __future__ import annotations

import atexit
import hashlib
import multiprocessing
import multiprocessing.spawn
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from pages._ui import turns
from regopt_core.errors import NumericalError


class JobFailed(NumericalError):
    """A heavy job could not give a result (its worker stopped, or the session's budget is spent)."""

    retry = True


class BudgetExceeded(JobFailed):
    """The session's heavy-job budget is spent for now; ``wait_s`` until its next token."""

    retry = False

    def __init__(self, message: str, *, wait_s: float, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.wait_s = wait_s


class Superseded(Exception):
    """The session asked for something else before this queued job started."""


def n_workers() -> int:
    raw = os.environ.get("REGOPT_WORKERS")
    if raw is not None:
        return max(0, int(raw))
    return max(2, (os.cpu_count() or 2) - 1)


@dataclass
class Job:
    key: Hashable
    fn: Callable[[Any], Any]
    config: Any
    session: str
    label: str
    client: str = ""
    future: Future = field(default_factory=Future)
    queued_at: float = field(default_factory=time.monotonic)
    started_at: float | None = None
    on_warm_worker: bool = False  # dispatched to a worker that had finished starting (its run time is the job's)
    kind: str = field(init=False, default="")  # what it computes, for its typical run time (see _kind)

    def __post_init__(self) -> None:
        self.kind = _kind(self.fn, self.config)


class _Bucket:
    def __init__(self, burst: float, refill_s: float) -> None:
        self.tokens, self.burst, self.refill_s, self.t = burst, burst, refill_s, time.monotonic()

    def level(self) -> float:
        """Tokens now (refilled since the last take), without taking one."""
        return min(self.burst, self.tokens + (time.monotonic() - self.t) / self.refill_s)

    def take(self) -> float:
        """Take a token; 0 if granted, else the seconds until the next one."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.t) / self.refill_s)
        self.t = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) * self.refill_s


def _trim_heap() -> None:
    """Give the memory a finished job freed back to the system (glibc keeps freed heap pages otherwise: a
    worker that once held a 256² reconstruction's temporaries would stay at its peak for the rest of the day)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def _in_worker(fn: Callable, config: Any) -> Any:
    """What a worker runs for a job: ``fn(config)``, then a heap trim. With ``REGOPT_JOB_LOG=<file>`` each job
    appends a line ``<cpu seconds>\t<function>\t<config>`` (which work costs the workers, under a load run)."""
    log = os.environ.get("REGOPT_JOB_LOG")
    t0 = time.process_time()
    try:
        return fn(config)
    finally:
        _trim_heap()
        if log:
            name = getattr(getattr(fn, "func", fn), "__qualname__", repr(fn))
            what = config if name != "_each" else [getattr(getattr(f, "func", f), "__qualname__", "?") for f, _ in config]
            with open(log, "a") as fh:
                fh.write(f"{time.process_time() - t0:.3f}\t{name}\t{repr(what)[:300]}\n")


#: CT system matrices a worker keeps (MB; ``REGOPT_PROJECTOR_MB`` overrides it). 128² needs ~70 MB for everything
#: but a sweep (strip, comparison, 10-60 views); more only kept the sweep's 90-180-view matrices (43-85 MB each,
#: rebuilt in 0.2-0.5 s). Same-hour pairs under 60 students (19:49-19:57, 2026-12-06): the server tree peaked at
#: 1.79 / 1.89 GB with 120 MB (and smaller memos, which alone changed nothing: 2.15 against 2.12 GB) against
#: 2.06 / 2.03 GB with the core's 200 MB, at the same latency and CPU.
WORKER_PROJECTOR_MB = 120

#: what a worker imports when it starts, so a page's first heavy job does not pay for it (~150 ms each)
_WORKER_MODULES = ("regopt_core.ct.lab", "regopt_core.sgd.page", "regopt_core.splits.configs",
                   "regopt_core.bias_variance", "regopt_core.landscapes", "regopt_core.linear_models")


def _worker_start(niceness: int = 5) -> None:
    """A worker's start (in the worker): lower priority, the heavy modules imported, and the CT defaults' system
    matrices built — ahead of the first student's job instead of inside it. Failures only cost that head start."""
    import importlib

    from pages._ui import _settle_process

    os.nice(niceness)
    for name in _WORKER_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001, S112 — the job that needs it reports its own error
            continue
    _settle_process()  # after the imports, as the server does: one BLAS/OpenMP thread, start-up objects frozen
    try:
        from regopt_core.ct import lab

        lab.warm_projectors()
    except Exception:  # noqa: BLE001, S110
        pass


def _preparation_without_main(name: str) -> dict:
    """What a spawned worker gets to set itself up (``multiprocessing.spawn.get_preparation_data``) minus the
    parent's ``__main__``: the server's main module is Streamlit's command line, which a worker would import —
    and with it Streamlit, its web server and, through the page layer's package, pandas, pyarrow and plotly:
    ~150 MB per worker for nothing. A job is always a module-level function of ``regopt_core`` or ``pages._ui``."""
    from pages._ui import WORKER_ARGV0

    data = _spawn_preparation(name)
    data.pop("init_main_from_name", None)
    data.pop("init_main_from_path", None)
    data["sys_argv"] = [WORKER_ARGV0]  # how the page layer's package knows it is in a worker (see its __init__)
    return data


_spawn_preparation = multiprocessing.spawn.get_preparation_data


def _new_executor() -> ProcessPoolExecutor:
    multiprocessing.spawn.get_preparation_data = _preparation_without_main
    return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_worker_start)


class Scheduler:
    """Dispatch heavy jobs to worker slots: at most one job per session, sessions served in turn."""

    def __init__(self, workers: int, *, on_result: Callable[[Hashable, Any], None] | None = None,
                 executor_factory: Callable[[], Any] = _new_executor) -> None:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(var, "1")  # inherited by the spawned workers
        os.environ.setdefault("REGOPT_PROJECTOR_MB", str(WORKER_PROJECTOR_MB))
        self._factory = executor_factory
        self._slots: list[Any] = [executor_factory() for _ in range(workers)]
        self._busy: list[Job | None] = [None] * workers
        self._queue: OrderedDict[str, Job] = OrderedDict()  # session -> its one queued job, in arrival order
        self._running: dict[str, Job] = {}  # session -> its running job
        self._client_running: dict[str, int] = {}  # client -> its running jobs (at most one)
        self._served: dict[str, int] = {}  # client -> the dispatch count when it last got a turn
        self._turns = 0
        self._inflight: dict[Hashable, Job] = {}
        self._buckets: dict[str, _Bucket] = {}
        self._typical: dict[str, float] = {}  # kind of job -> its typical run time (s), learnt from finished jobs
        self._cond = threading.Condition()
        self._on_result = on_result
        self.started: list[tuple[str, Hashable]] = []  # (session, key) in dispatch order — for tests
        self._closed = False
        self._thread = threading.Thread(target=self._dispatch, name="regopt-jobs", daemon=True)
        self._thread.start()
        self._warm = [False] * workers  # the slot's worker has finished starting
        for slot in range(workers):  # start the workers now (spawn + imports take a second or two)
            self._start_worker(slot)

    def _start_worker(self, slot: int) -> None:
        self._warm[slot] = False
        try:
            up = self._slots[slot].submit(int, 0)
        except Exception:  # noqa: BLE001 — a factory that cannot start yet starts on the next submit
            return
        up.add_done_callback(lambda _f, ex=self._slots[slot]: self._warm.__setitem__(slot, self._slots[slot] is ex))

    # ------------------------------------------------------------------------------------ requests
    def submit(self, session: str, key: Hashable, fn: Callable, config: Any, label: str = "",
               client: str | None = None, *, budget: bool = True) -> Job | None:
        """Queue ``fn(config)`` for ``session`` (of browser ``client``; default: the session is its own client);
        ``None`` if the session's previous job is still running. ``budget=False``: not counted against a
        budget (the server's own warm-up, which still takes its turn like any client)."""
        client = client or session
        with self._cond:
            shared = self._inflight.get(key)
            if shared is not None:
                return shared
            mine = self._running.get(session)
            if mine is not None:
                return None
            old = self._queue.get(session)
            if old is None and budget:
                wait = self._buckets.setdefault(client, _Bucket(_burst(), _refill())).take()
                if wait > 0:
                    raise BudgetExceeded(
                        "You started many heavy computations in a short time; this server shares its workers "
                        f"with the whole class. Try again in {wait:.0f} s.", wait_s=wait,
                        hint="Results that were computed before (by you or anyone) appear at once.")
            job = Job(key, fn, config, session, label, client)
            if old is not None:  # supersede the session's queued job, keeping its place in the line
                self._inflight.pop(old.key, None)
                old.future.set_exception(Superseded())
            self._queue[session] = job
            self._inflight[key] = job
            self._cond.notify_all()
            return job

    def inline_now(self, key: Hashable, fn: Callable, config: Any) -> bool:
        """Should the asking thread compute this job itself? Yes when every worker is busy and jobs of its kind
        typically finish within ``inline_job_s()`` (a bias–variance fit: ~50 ms of CPU) — queued behind CT
        reconstructions it would wait seconds for a worker — unless the same key is already in flight or the
        function must stay in a worker (``fn.worker_only``: it builds a CT system matrix)."""
        if any(getattr(getattr(f, "func", f), "worker_only", False) for f in (fn, *_batch_fns(config))):
            return False
        kind = _kind(fn, config)
        with self._cond:
            typical = self._typical.get(kind)
            return (typical is not None and typical < inline_job_s() and None not in self._busy
                    and key not in self._inflight)

    def running(self, session: str) -> Job | None:
        with self._cond:
            return self._running.get(session)

    def position(self, job: Job) -> int:
        """Jobs that start before ``job`` as things stand (0 when running or next)."""
        with self._cond:
            order = sorted(self._queue.values(), key=self._turn_order)
            return order.index(job) if job in order else 0

    # ------------------------------------------------------------------------------------ dispatch
    def _turn_order(self, job: Job) -> tuple:
        """Clients served least recently first; within a client, arrival order."""
        return (self._served.get(job.client, -1), job.queued_at)

    def _heavy_user(self, client: str) -> bool:
        """Has ``client`` spent more than half its budget lately (someone holding a key down)?"""
        bucket = self._buckets.get(client)
        return bucket is not None and bucket.level() < bucket.burst / 2

    def _next_job(self) -> Job | None:
        """The queued job whose turn it is, among clients with nothing running (call with the lock held).

        The last free worker is kept for clients who are not heavy users right now: however many people hold a
        key down, together they use at most all workers but one, and a student's occasional heavy request
        starts at once on the other."""
        ready = [j for j in self._queue.values() if not self._client_running.get(j.client)]
        if len(self._busy) > 1 and self._busy.count(None) == 1:
            ready = [j for j in ready if not self._heavy_user(j.client)]
        if len(self._busy) > 1 and sum(j is not None and self._long(j) for j in self._busy) >= len(self._busy) - 1:
            ready = [j for j in ready if not self._long(j)]
        return min(ready, key=self._turn_order) if ready else None

    def _long(self, job: Job) -> bool:
        """A job of a kind that typically runs ``long_job_s()`` or more (a sweep, a family of reconstructions).
        Long jobs together hold at most all workers but one, so a short job (a strip, a fit, a curve) never waits
        seconds behind them: under 60 students the slowest 5 % of reruns were short jobs queued behind two long
        ones."""
        return self._typical.get(job.kind, 0.0) >= long_job_s()

    def _dispatch(self) -> None:
        while True:
            with self._cond:
                while not self._closed and not (None in self._busy and self._next_job() is not None):
                    self._cond.wait(timeout=1.0)  # a heavy user's budget refills with time, not with an event
                if self._closed:
                    return
                job = self._next_job()
                del self._queue[job.session]
                slot = self._busy.index(None)
                self._busy[slot] = job
                self._running[job.session] = job
                self._client_running[job.client] = self._client_running.get(job.client, 0) + 1
                self._turns += 1
                self._served[job.client] = self._turns
                job.started_at = time.monotonic()
                job.on_warm_worker = self._warm[slot]
                self.started.append((job.session, job.key))
                executor = self._slots[slot]
            try:
                fut = executor.submit(_in_worker, job.fn, job.config)
            except (BrokenProcessPool, RuntimeError) as exc:
                self._finish(slot, job, None, exc)
                continue
            fut.add_done_callback(lambda f, s=slot, j=job: self._done(s, j, f))

    def _done(self, slot: int, job: Job, fut) -> None:
        try:
            value, error = fut.result(), None
        except BaseException as exc:  # noqa: BLE001 — reported to the one session that asked
            value, error = None, exc
        self._finish(slot, job, value, error)

    def _finish(self, slot: int, job: Job, value: Any, error: BaseException | None) -> None:
        if isinstance(error, BrokenProcessPool):
            old = self._slots[slot]
            self._slots[slot] = self._factory()  # a fresh worker for the next job, started now
            self._start_worker(slot)
            threading.Thread(target=old.shutdown, kwargs={"wait": False, "cancel_futures": True},
                             daemon=True).start()
            error = JobFailed("The computation was interrupted: its worker process stopped (the server may be "
                              "short of memory). Nothing else was affected.", hint="Press Retry to compute it again.")
        if error is None and self._on_result is not None:
            self._on_result(job.key, value)
        with self._cond:
            if error is None and job.started_at is not None and job.on_warm_worker:
                took, kind = time.monotonic() - job.started_at, job.kind
                before = self._typical.get(kind)
                self._typical[kind] = took if before is None else 0.7 * before + 0.3 * took
            self._busy[slot] = None
            self._running.pop(job.session, None)
            left = self._client_running.get(job.client, 1) - 1
            if left > 0:
                self._client_running[job.client] = left
            else:
                self._client_running.pop(job.client, None)
            self._inflight.pop(job.key, None)
            self._cond.notify_all()
        if error is None:
            job.future.set_result(value)
        else:
            job.future.set_exception(error)

    def worker_pids(self) -> list[int]:
        pids = []
        for ex in self._slots:
            pids.extend(getattr(ex, "_processes", {}) or {})
        return pids

    def shutdown(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        for ex in self._slots:
            ex.shutdown(wait=False, cancel_futures=True)


def _batch_fns(config: Any) -> list[Callable]:
    """The functions of a batch job's config (``cached._each``: ``((fn, config), ...)``); none for another job."""
    if isinstance(config, tuple) and config and all(isinstance(c, tuple) and len(c) == 2 and callable(c[0])
                                                    for c in config):
        return [f for f, _ in config]
    return []


def _kind(fn: Callable, config: Any) -> str:
    """What a job computes, for its typical run time: the function, or a batch's functions and their count."""
    batch = _batch_fns(config)
    return _fn_name(fn) + ("[" + ",".join(map(_fn_name, batch)) + "]" if batch else "")


def _fn_name(fn: Any) -> str:
    fn = getattr(fn, "func", fn)  # a functools.partial (a warm start)
    return f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', type(fn).__name__)}"


def long_job_s() -> float:
    return float(os.environ.get("REGOPT_LONG_JOB_S", "1.5"))


def inline_job_s() -> float:
    return float(os.environ.get("REGOPT_INLINE_JOB_S", "0.25"))


def _burst() -> float:
    return float(os.environ.get("REGOPT_HEAVY_BURST", "20"))


def _refill() -> float:
    return float(os.environ.get("REGOPT_HEAVY_REFILL_S", "2"))


_SCHEDULER: Scheduler | None = None
_LOCK = threading.Lock()


def scheduler(on_result: Callable[[Hashable, Any], None] | None = None) -> Scheduler | None:
    """The process's scheduler, started on first use (finished results go to ``on_result``, the shared
    memo); ``None`` when heavy work runs in the script thread."""
    global _SCHEDULER
    if _SCHEDULER is None:
        workers = n_workers()
        if workers == 0 or not _in_server():
            return None
        with _LOCK:
            if _SCHEDULER is None:
                _SCHEDULER = Scheduler(workers, on_result=on_result)
                atexit.register(_SCHEDULER.shutdown)
    return _SCHEDULER


_in_server = turns._in_server  # AppTest's mock runtime and bare scripts compute in the thread


def _session_id() -> str:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "no-session"


XSRF_COOKIE = "_streamlit_xsrf"


def client_of(cookie: str | None) -> str | None:
    """The browser behind a session: the token inside Streamlit's XSRF cookie (Tornado's "2|mask|masked
    token|time" form: the token is the masked token XOR the repeated 4-byte mask, so it stays the same when
    the cookie is re-issued with a new mask). ``None`` when there is no readable cookie."""
    if not isinstance(cookie, str) or not cookie:
        return None
    parts = cookie.split("|")
    try:
        if len(parts) == 4 and parts[0] == "2":
            mask, masked = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
            if len(mask) != 4 or not masked:
                return None
            token = bytes(b ^ mask[i % 4] for i, b in enumerate(masked))
        else:  # version 1 (the plain hex token) or another form: the cookie itself
            token = cookie.encode()
    except ValueError:
        return None
    return "browser:" + hashlib.sha256(token).hexdigest()[:16]


def _client_id(session: str) -> str:
    import streamlit as st

    try:
        cookie = st.context.cookies.get(XSRF_COOKIE)
    except Exception:  # noqa: BLE001 — no request context (AppTest): the session is its own client
        cookie = None
    return client_of(cookie) or session


def run(fn: Callable, config: Any, key: Hashable, label: str,
        on_result: Callable[[Hashable, Any], None] | None = None) -> Any:
    """Compute ``fn(config)`` in a worker, showing progress on the page until it is done."""
    import streamlit as st

    sched = scheduler(on_result)
    if sched is None:
        with st.spinner(label or "Computing…"):
            return fn(config)
    if sched.inline_now(key, fn, config):  # a short job while every worker is busy: at once, in this thread
        value = fn(config)
        if on_result is not None:
            on_result(key, value)
        return value
    session = _session_id()
    client = _client_id(session)
    note = st.empty()
    t0 = time.monotonic()
    shown: Any = None  # what the note shows now
    try:
        while True:
            try:
                job = sched.submit(session, key, fn, config, label, client=client)
            except BudgetExceeded as exc:  # over the session's budget: wait for a token, politely, then go on
                note.warning(f"**{label or 'Computing'}** — you started many heavy computations in a short time, "
                             "and this server shares its workers with the whole class: this one starts in "
                             f"{exc.wait_s:.0f} s. Results computed before (by you or anyone) still appear at once.",
                             icon=":material/hourglass_top:")
                with turns.released():
                    time.sleep(min(exc.wait_s, 1.0))
                continue
            if job is not None:
                break
            prev = sched.running(session)
            what = f" ({prev.label})" if prev is not None and prev.label else ""
            if shown != "previous":
                note.info(f"**{label or 'Computing'}** — your previous request{what} is still running; this one "
                          "starts when it is done. The rest of the page stays usable.", icon=":material/hourglass_top:")
                shown = "previous"
            with turns.released():
                time.sleep(0.25)
        # Wait for the worker, without a script turn (pages/_ui/turns.py): a turn is taken only to write to the
        # page. The page is told only what changed (about once a second: the elapsed time), so a waiting student
        # costs the server next to nothing; each update is also where a newer move of the same student interrupts
        # this run (Streamlit checks for a rerun request whenever the script writes).
        with turns.released():
            while True:
                try:
                    return job.future.result(timeout=0.1 if time.monotonic() - t0 < 1.0 else 0.5)
                except TimeoutError:
                    pass
                elapsed = time.monotonic() - t0
                if job.started_at is None:
                    view = (0.0, f"{label or 'Computing'} — waiting for a free worker "
                                 f"({sched.position(job)} request(s) ahead)")
                else:
                    run_s = time.monotonic() - job.started_at
                    view = (round(min(0.95, run_s / (run_s + 2.0)), 2), f"{label or 'Computing'} — {elapsed:.0f} s")
                if view != shown:
                    with turns.turn():
                        note.progress(view[0], text=view[1])
                    shown = view
    except Superseded:
        st.stop()  # the session asked for something newer; that run shows its own result
    finally:
        note.empty()

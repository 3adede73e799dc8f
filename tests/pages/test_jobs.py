"""Issue 16: heavy work in worker processes, one job per session, fair turns, crash safety, a budget."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time

import pytest

from pages._ui import cached, jobs
from pages._ui.jobs import JobFailed, Scheduler, Superseded
from tests.pages import jobs_work


@pytest.fixture
def sched():
    results = {}
    s = Scheduler(1, on_result=results.__setitem__)
    s.results = results
    yield s
    s.shutdown()


def _submit_until_accepted(s: Scheduler, session, key, cfg, log):
    """What a page's waiting script does: retry while its previous job runs, then wait for the result."""
    while True:
        job = s.submit(session, key, jobs_work.sleep_then_echo, cfg)
        if job is not None:
            break
        time.sleep(0.01)
    log.append((session, key, "accepted"))
    try:
        return job.future.result(timeout=60)
    except Superseded:  # a newer request of the same session replaced this queued one (as a rerun does)
        log.append((session, key, "superseded"))
        return None


def test_one_session_never_holds_two_jobs_and_the_other_session_gets_its_turn(sched):
    sched.submit("warm", "w", jobs_work.sleep_then_echo, (0.0, "w")).future.result(timeout=60)  # worker up
    log: list = []
    in_scheduler = []

    def watch():
        while not stop.is_set():
            with sched._cond:  # noqa: SLF001 — the test inspects the scheduler's books
                a = sum(1 for j in sched._queue.values() if j.session == "A") + ("A" in sched._running)
            in_scheduler.append(a)
            time.sleep(0.005)

    stop = threading.Event()
    watcher = threading.Thread(target=watch)
    watcher.start()
    threads = []
    for i in range(5):  # five heavy requests from session A, as fast as it can
        t = threading.Thread(target=_submit_until_accepted, args=(sched, "A", f"a{i}", (0.3, f"a{i}"), log))
        t.start()
        threads.append(t)
        time.sleep(0.02)
    time.sleep(0.05)
    b = threading.Thread(target=_submit_until_accepted, args=(sched, "B", "b", (0.05, "b"), log))
    b.start()
    for t in [*threads, b]:
        t.join(timeout=60)
    stop.set()
    watcher.join()
    assert max(in_scheduler) <= 1, "session A had more than one job running or queued"
    order = [key for session, key in sched.started if session in ("A", "B")]
    assert order.index("b") < max(order.index(f"a{i}") for i in range(5) if f"a{i}" in order)
    assert order.index("b") <= 2, f"B waited behind several of A's jobs: {order}"


@contextlib.contextmanager
def _sampling(s: Scheduler, sample):
    """Call ``sample()`` under the scheduler's lock every 5 ms while the block runs; yields the samples."""
    samples: list = []
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            with s._cond:  # noqa: SLF001 — the test inspects the scheduler's books
                samples.append(sample())
            time.sleep(0.005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        yield samples
    finally:
        stop.set()
        watcher.join()


def _student_waits(s: Scheduler) -> tuple[float, float]:
    """A student's one short heavy request: (seconds until it started, when it was sent)."""
    t0 = time.monotonic()
    student = s.submit("student", "st", jobs_work.sleep_then_echo, (0.05, "mine"), client="student")
    assert student.future.result(timeout=60)[0] == "mine"
    return student.started_at - t0, t0


def test_one_browser_with_many_tabs_holds_one_worker_and_gets_one_turn_per_round():
    """Issue 16: eight tabs of one browser (one client) hammer heavy jobs; another student's request starts at
    once on the second worker, and the eight tabs never run two jobs at a time."""
    s = Scheduler(2)
    try:
        for i in range(2):  # both workers up
            s.submit(f"w{i}", f"w{i}", jobs_work.sleep_then_echo, (0.0, i)).future.result(timeout=60)
        with _sampling(s, lambda: s._client_running.get("hostile", 0)) as most:  # noqa: SLF001
            tabs = [s.submit(f"tab{i}", f"h{i}", jobs_work.sleep_then_echo, (0.4, i), client="hostile")
                    for i in range(8)]
            time.sleep(0.1)
            waited, _ = _student_waits(s)
            for t in tabs:
                t.future.result(timeout=60)
        assert max(most) == 1, "one browser held two workers"
        assert waited < 0.3, f"the student waited {waited:.2f} s for a worker behind one browser's tabs"
        # round robin across clients: a second student arriving later is served before the remaining tabs
        order = [sess for sess, _ in s.started if sess.startswith(("tab", "student"))]
        assert order.index("student") <= 2, order
    finally:
        s.shutdown()


def test_people_holding_a_key_down_share_all_workers_but_one(monkeypatch):
    """Issue 16: two heavy users (each past half its budget) never run at the same time on a two-worker server,
    and a student's request starts at once on the worker kept free."""
    monkeypatch.setenv("REGOPT_HEAVY_BURST", "10")
    monkeypatch.setenv("REGOPT_HEAVY_REFILL_S", "60")
    s = Scheduler(2)
    try:
        for i in range(2):
            s.submit(f"w{i}", f"w{i}", jobs_work.sleep_then_echo, (0.0, i)).future.result(timeout=60)

        def hammer(client):
            for i in range(9):  # nine requests each: past half of a budget of 10
                while True:
                    job = s.submit(f"{client}-tab", f"{client}{i}", jobs_work.sleep_then_echo, (0.3, i), client=client)
                    if job is not None:
                        break
                    time.sleep(0.01)
                job.future.result(timeout=60)

        running = lambda: (time.monotonic(), sum(1 for c in ("h1", "h2") if s._client_running.get(c)))  # noqa: E731, SLF001
        with _sampling(s, running) as both:
            hammers = [threading.Thread(target=hammer, args=(c,)) for c in ("h1", "h2")]
            for t in hammers:
                t.start()
            deadline = time.monotonic() + 30
            while not (s._heavy_user("h1") and s._heavy_user("h2")) and time.monotonic() < deadline:  # noqa: SLF001
                time.sleep(0.01)
            waited, t0 = _student_waits(s)
            for t in hammers:
                t.join(timeout=60)
        assert waited < 0.3, f"the student waited {waited:.2f} s behind two people holding a key down"
        later = [n for t, n in both if t > t0 + 0.3]  # both are heavy users: the jobs of before have ended
        assert later and max(later) <= 1, "two heavy users held both workers at once"
    finally:
        s.shutdown()


def test_a_browser_is_recognised_by_its_xsrf_token_whatever_the_mask():
    from pages._ui.jobs import client_of

    token = bytes.fromhex("8471e52d08c7f99e263ea81a5f0fce2c")

    def cookie(mask: bytes) -> str:
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(token))
        return f"2|{mask.hex()}|{masked.hex()}|1796542307"

    a, b = client_of(cookie(b"\x01\x02\x03\x04")), client_of(cookie(b"\xaa\xbb\xcc\xdd"))
    assert a == b and a.startswith("browser:")
    other = bytes.fromhex("00" * 16)
    assert client_of(f"2|01020304|{other.hex()}|1") != a
    for junk in ("", None, "2|zz|yy|1", "2|0102|abcd|1", "2|01020304||1"):
        assert client_of(junk) is None


def test_same_result_requested_by_two_sessions_is_one_job(sched):
    j1 = sched.submit("A", "same", jobs_work.sleep_then_echo, (0.2, "x"))
    j2 = sched.submit("B", "same", jobs_work.sleep_then_echo, (0.2, "x"))
    assert j1 is j2
    assert j1.future.result(timeout=60)[0] == "x" and sched.results["same"][0] == "x"


def test_a_killed_worker_fails_only_its_job_and_is_replaced():
    s = Scheduler(2)
    try:
        pids = {s.submit(f"s{i}", f"p{i}", jobs_work.pid, i).future.result(timeout=60) for i in range(2)}
        victim = s.submit("victim", "long", jobs_work.sleep_then_echo, (30.0, "never"))
        other = s.submit("other", "short", jobs_work.sleep_then_echo, (1.0, "fine"))
        time.sleep(0.5)
        victim_pid = [p for p in s.worker_pids() if p in pids]
        # find the worker running the long job: the one that is not done with "short" soon
        busy = {j.key: i for i, j in enumerate(s._busy) if j is not None}  # noqa: SLF001
        slot = busy["long"]
        pid = next(iter(s._slots[slot]._processes))  # noqa: SLF001
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(JobFailed, match="worker process stopped"):
            victim.future.result(timeout=60)
        assert other.future.result(timeout=60)[0] == "fine", "the other session's job is untouched"
        again = s.submit("victim", "long2", jobs_work.sleep_then_echo, (0.1, "retried"))
        assert again.future.result(timeout=60)[0] == "retried", "the slot got a new worker"
        assert victim_pid
    finally:
        s.shutdown()


def test_a_flood_of_heavy_jobs_is_refused_with_a_message(monkeypatch):
    monkeypatch.setenv("REGOPT_HEAVY_BURST", "3")
    monkeypatch.setenv("REGOPT_HEAVY_REFILL_S", "60")
    s = Scheduler(1)
    try:
        for i in range(3):
            s.submit("A", f"k{i}", jobs_work.sleep_then_echo, (0.0, i))  # queued/superseded: each costs a token
            s._queue.pop("A", None)  # noqa: SLF001 — drop it so the next counts as a new job
        with pytest.raises(JobFailed, match="many heavy computations"):
            s.submit("A", "k9", jobs_work.sleep_then_echo, (0.0, 9))
        assert s.submit("B", "kb", jobs_work.sleep_then_echo, (0.0, "b")) is not None, "other sessions unaffected"
        # the server's own warm-up is not a student: it takes turns but spends no budget
        for i in range(6):
            job = s.submit("warm-up", f"w{i}", jobs_work.sleep_then_echo, (0.0, i), budget=False)
            assert job is not None and job.future.result(timeout=60)[0] == i
    finally:
        s.shutdown()


def test_the_servers_warm_up_computes_in_the_worker_pool(monkeypatch):
    # under a server, the defaults' warm-up is a job of the worker pool, not work in the server's own process
    from pages._ui import cached, jobs

    s = Scheduler(1)
    monkeypatch.setattr(jobs, "scheduler", lambda on_result=None: s)
    try:
        with cached.isolated():
            cached._warm_all([(jobs_work.pid, ("warm", 1))])  # noqa: SLF001
            assert cached.result(jobs_work.pid, ("warm", 1)) in s.worker_pids()
            assert s.started and s.started[0][0] == cached._WARM_SESSION  # noqa: SLF001
    finally:
        s.shutdown()


def test_a_batch_of_results_is_one_job_and_lands_under_each_results_own_key():
    # cached.results sends a section's missing results as one job (one wait in the queue, not one per result);
    # the pool's on_result (cached.publish) puts each result under its own key for every session
    from pages._ui import cached

    s = Scheduler(1, on_result=cached.publish)
    try:
        with cached.isolated():
            configs = [("b", i) for i in range(3)]
            keys = tuple(cached.key_of(jobs_work.pid, c) for c in configs)
            calls = tuple((jobs_work.pid, c) for c in configs)
            job = s.submit("A", (cached._BATCH, keys), cached._each, calls)  # noqa: SLF001
            pids = job.future.result(timeout=60)
            assert len(set(pids)) == 1 and pids[0] in s.worker_pids(), "one job, in one worker"
            assert s.started == [("A", (cached._BATCH, keys))]  # noqa: SLF001 — one dispatch for three results
            for k, p in zip(keys, pids, strict=True):
                assert cached.RESULTS.get(k) == p
            assert [cached.result(jobs_work.pid, c) for c in configs] == pids, "later reads are hits"
    finally:
        s.shutdown()


class _FakeBusyScheduler:
    """Refuses the session's first two requests for budget, then hands out an already finished job."""

    def __init__(self) -> None:
        self.calls = 0

    def inline_now(self, key, fn, config) -> bool:
        return False

    def submit(self, session, key, fn, config, label="", client=None):
        from concurrent.futures import Future

        from pages._ui.jobs import BudgetExceeded, Job

        self.calls += 1
        if self.calls <= 2:
            raise BudgetExceeded("over budget", wait_s=0.05)
        job = Job(key, fn, config, session, label)
        job.started_at = 0.0
        job.future = Future()
        job.future.set_result(fn(config))
        return job


def _page_with_a_heavy_result():
    import streamlit as st

    from pages._ui import jobs

    value = jobs.run(abs, -7, ("k",), "Computing the thing")
    st.metric("result", value)


def test_over_budget_the_page_waits_for_a_token_instead_of_failing(monkeypatch):
    """Past its budget a session's heavy request waits for the next token (a note, never an error element)."""
    from streamlit.testing.v1 import AppTest

    from pages._ui import jobs

    fake = _FakeBusyScheduler()
    monkeypatch.setattr(jobs, "scheduler", lambda on_result=None: fake)
    at = AppTest.from_function(_page_with_a_heavy_result, default_timeout=30).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert fake.calls == 3, "refused twice, then submitted"
    assert at.metric[0].value == "7"


def _page_whose_first_section_fails():
    import streamlit as st

    from pages._ui import layout
    from pages._ui.jobs import JobFailed

    @layout.section(1, "1 · A failing section")
    def _first() -> None:
        raise JobFailed("The computation was interrupted: its worker process stopped.", hint="Press Retry.")

    @layout.section(2, "2 · A healthy section")
    def _second() -> None:
        st.metric("healthy", "42")


def test_a_failed_heavy_job_is_a_message_with_retry_and_the_other_sections_still_run():
    """A stopped worker's failure reaches the page as a message with a Retry button, never a traceback."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_page_whose_first_section_fails, default_timeout=30).run()
    assert not at.exception, [e.message for e in at.exception]
    assert any("worker process stopped" in e.value for e in at.error)
    assert any(b.label == "Retry" for b in at.button)
    assert at.metric[0].value == "42"



def test_a_worker_imports_the_core_not_streamlit_pandas_or_plotly():
    # a spawned worker used to import the server's __main__ (Streamlit's command line) and, through the page
    # layer's package, pandas, pyarrow and plotly: ~150 MB per worker that no job uses
    from pages._ui import jobs

    ex = jobs._new_executor()
    try:
        packages, blas_threads = ex.submit(jobs_work.loaded_packages, None).result(timeout=120)
    finally:
        ex.shutdown(wait=True)
    assert "regopt_core" in packages and "scipy" in packages  # the heavy core modules are imported at start
    for heavy in ("streamlit", "pandas", "pyarrow", "plotly", "starlette"):
        assert heavy not in packages, heavy
    assert set(blas_threads) <= {1}


def test_long_jobs_hold_all_workers_but_one_and_a_short_job_starts_at_once(monkeypatch):
    """Jobs of a kind that typically runs long (learnt from the ones that finished) never occupy both workers: two
    students' sweeps run one after the other, and a third student's short job starts at once on the free worker."""
    monkeypatch.setenv("REGOPT_LONG_JOB_S", "0.3")
    s = Scheduler(2)
    try:
        for i in range(2):  # both workers up; one sweep_like job teaches the scheduler that the kind runs long
            s.submit(f"w{i}", f"w{i}", jobs_work.sleep_then_echo, (0.0, i)).future.result(timeout=60)
        s.submit("teach", "teach", jobs_work.sweep_like, (0.4, "t")).future.result(timeout=60)
        a = s.submit("a", "a", jobs_work.sweep_like, (0.8, "a"), client="a")
        b = s.submit("b", "b", jobs_work.sweep_like, (0.8, "b"), client="b")
        time.sleep(0.2)
        waited, _ = _student_waits(s)
        a.future.result(timeout=60), b.future.result(timeout=60)
        first, second = sorted((a, b), key=lambda j: j.started_at)
        assert waited < 0.3, f"a short job waited {waited:.2f} s behind two long ones"
        assert second.started_at >= first.started_at + 0.7, "two long jobs ran at the same time"
    finally:
        s.shutdown()


def test_a_job_of_an_unknown_kind_is_not_held_back():
    """Nothing is known about a kind before one of its jobs finished: both workers take such jobs at once."""
    s = Scheduler(2)
    try:
        for i in range(2):
            s.submit(f"w{i}", f"w{i}", jobs_work.pid, None).future.result(timeout=60)
        a = s.submit("a", "a", jobs_work.sweep_like, (0.5, "a"), client="a")
        b = s.submit("b", "b", jobs_work.sweep_like, (0.5, "b"), client="b")
        a.future.result(timeout=60), b.future.result(timeout=60)
        assert abs(a.started_at - b.started_at) < 0.3
    finally:
        s.shutdown()


def test_a_short_job_is_computed_by_the_asking_script_when_every_worker_is_busy():
    """A kind of job learnt to finish quickly (a bias–variance fit) does not queue seconds behind CT reconstructions:
    while every worker is busy, the asking script computes it itself. Not a kind never seen, not while a worker is
    free, not a key already in flight, never a function that must stay in a worker (it builds a CT matrix)."""
    from regopt_core.ct import lab

    s = Scheduler(1)
    try:
        s.submit("w", "w", jobs_work.pid, None).future.result(timeout=60)  # the worker is up
        assert not s.inline_now("k1", jobs_work.echo, 1), "a kind never seen goes to a worker"
        s.submit("teach", "teach", jobs_work.echo, 0).future.result(timeout=60)  # now known: it takes milliseconds
        assert not s.inline_now("k1", jobs_work.echo, 1), "a free worker takes it"
        busy = s.submit("long", "long", jobs_work.sleep_then_echo, (1.0, "x"))
        time.sleep(0.3)
        assert s.inline_now("k1", jobs_work.echo, 1)
        assert not s.inline_now("long", jobs_work.echo, 1), "the same key is already being computed"
        assert not s.inline_now("k2", jobs_work.sweep_like, (0.0, "t")), "a kind never seen"
        assert lab.reconstruction.worker_only and lab.sinogram.worker_only
        s._typical[jobs._kind(lab.sinogram, None)] = 0.01  # even when known to be short
        assert not s.inline_now("k3", lab.sinogram, None)
        calls = ((lab.sinogram, None),)
        s._typical[jobs._kind(cached._each, calls)] = 0.01
        assert not s.inline_now("k4", cached._each, calls), "nor a batch that holds one"
        busy.future.result(timeout=60)
    finally:
        s.shutdown()


def test_a_job_computed_in_the_script_lands_in_the_shared_memo_like_a_workers(monkeypatch):
    from pages._ui import jobs

    class _AllBusy:
        def inline_now(self, key, fn, config):
            return True

        def submit(self, *a, **k):  # pragma: no cover - must not be reached
            raise AssertionError("an inline job was sent to a worker")

    monkeypatch.setattr(jobs, "scheduler", lambda on_result=None: _AllBusy())
    landed = {}
    assert jobs.run(abs, -7, ("k",), "Computing", on_result=landed.__setitem__) == 7
    assert landed == {("k",): 7}


def test_a_worker_keeps_at_most_the_workers_share_of_ct_matrices(monkeypatch):
    """Two workers at the core's 200 MB each put a 60-student server over its 2 GB; a worker keeps 120 MB unless the
    deployment says otherwise (REGOPT_PROJECTOR_MB)."""
    monkeypatch.delenv("REGOPT_PROJECTOR_MB", raising=False)
    s = Scheduler(1)
    try:
        assert s.submit("a", "a", jobs_work.projector_cap, None).future.result(timeout=60) == jobs.WORKER_PROJECTOR_MB * 10**6
    finally:
        s.shutdown()

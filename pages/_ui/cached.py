"""The one cache layer of the app: a result is a pure function of a frozen config, computed once for everyone.

A page builds a frozen, hashable config from its widgets (``cfg = CTConfig(...).clamped()``, the caps live
in ``clamped()`` in the core), then asks::

    res = cached.result(strip, cfg)                 # light work: computed in the script thread
    res = cached.result(sweep, cfg, heavy=True,     # heavy work (> ~50 ms): off the interactive path,
                        label="Sweeping views")     #   one job per session, progress on the page

``fn`` is a module-level function of ``regopt_core`` taking the config (and nothing else) and returning a
small frozen result dataclass; the key is ``(fn's module and name, config)``.

**Warm starts** (optional): a function may carry ``fn.warm_from(config) -> [config, ...]``, candidate keys whose
result it can continue from (e.g. the same CT reconstruction with fewer iterations), nearest first. On a miss,
the first candidate already available (pinned, store or memo — never computed for this) is passed as
``fn(config, start=result)``; ``fn`` must return exactly what ``fn(config)`` returns (the key does not record
the start), so only exact continuations qualify.

**Composite results** (optional): a long result made of many results carries ``fn.parts = (part_fn, groups,
assemble)`` (the CT sweep: ~30 reconstructions in 8 groups, one per view count). Asked for with ``heavy=True`` and
missing, its groups are computed as separate heavy jobs, each taking its own turn in the worker queue, and the
whole is ``assemble(config, get)`` of the parts, which must equal ``fn(config)``. Lookup order:

1. **pinned** — results computed at start by :func:`warm_defaults` from the ``(function, config)`` pairs the
   registry declares; plain process memory, so a client's ``clear_cache`` message cannot evict them;
2. **store** — the precomputed on-disk store (``python -m deploy.precompute``), opened read-only, versioned by
   a hash of the core's source: a store written by other code is never read;
3. **memo** — a bounded (entries and bytes), thread-safe LRU shared by every session; a key is computed at
   most once at a time (a second student asking for the same result waits for the first computation);
4. **compute**.

Every array inside a shared result is made read-only. :func:`resource` holds a few large read-only objects
per process (system matrices). Figures have their own memo on top of this one (``pages/_ui/figures.py``):
building and validating plotly figures was most of a light rerun's CPU.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pages._ui import turns

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "regopt_core"


# ------------------------------------------------------------------------------------------ the memo
def _freeze(obj: Any) -> Any:
    """Make numpy arrays inside a shared result read-only (walk of dataclasses, dicts, lists, tuples)."""
    if isinstance(obj, np.ndarray):
        obj.setflags(write=False)
    elif isinstance(obj, dict):
        for v in obj.values():
            _freeze(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _freeze(v)
    elif hasattr(obj, "__dataclass_fields__"):
        for name in obj.__dataclass_fields__:
            _freeze(getattr(obj, name))
    return obj


def nbytes(obj: Any) -> int:
    """Approximate size of a result: its arrays' and strings' bytes (+64 per other leaf)."""
    if isinstance(obj, np.ndarray):
        return obj.nbytes
    if isinstance(obj, (str, bytes)):  # a figure's JSON text, a typed array's base64
        return len(obj)
    if isinstance(obj, dict):
        return sum(nbytes(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(nbytes(v) for v in obj)
    if hasattr(obj, "_frame_objs") and hasattr(obj, "_layout"):  # a plotly figure: its property dicts' arrays
        return nbytes(obj._data) + nbytes(obj._layout) + sum(nbytes(f._props) for f in obj._frame_objs)
    if hasattr(obj, "__dataclass_fields__"):
        return sum(nbytes(getattr(obj, f)) for f in obj.__dataclass_fields__)
    return 64


_MISSING = object()


class Memo:
    """A bounded, thread-safe LRU that computes every key at most once at a time."""

    def __init__(self, max_entries: int, max_bytes: int, *, freeze: bool = True) -> None:
        self._data: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._locks: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()
        self.max_entries, self.max_bytes, self.freeze = max_entries, max_bytes, freeze
        self.hits = self.misses = 0
        self._bytes = 0  # the sum of the entries' sizes, kept as entries come and go (put is O(1))

    def get(self, key: Hashable, default: Any = _MISSING) -> Any:
        with self._lock:
            hit = self._data.get(key)
            if hit is None:
                return default
            self._data.move_to_end(key)
            self.hits += 1
            return hit[0]

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._data

    def put(self, key: Hashable, value: Any) -> Any:
        value = _freeze(value) if self.freeze else value
        size = nbytes(value)
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._data[key] = (value, size)
            self._bytes += size
            while len(self._data) > self.max_entries or (self._bytes > self.max_bytes and len(self._data) > 1):
                _, (_, sz) = self._data.popitem(last=False)
                self._bytes -= sz
        return value

    def compute(self, key: Hashable, fn: Callable[[], Any]) -> Any:
        hit = self.get(key)
        if hit is not _MISSING:
            return hit
        with self._lock:
            key_lock = self._locks.setdefault(key, threading.Lock())
        # A second caller of the same key waits here, then reads the result; it waits without its script turn
        # (pages/_ui/turns.py), so the run computing the key can always take one.
        if not key_lock.acquire(blocking=False):
            with turns.released():
                key_lock.acquire()
        try:
            hit = self.get(key)
            if hit is not _MISSING:
                return hit
            with self._lock:
                self.misses += 1
            value = self.put(key, fn())
            with self._lock:
                self._locks.pop(key, None)
            return value
        finally:
            key_lock.release()

    def items(self) -> list[tuple[Hashable, Any]]:
        with self._lock:
            return [(k, v[0]) for k, v in self._data.items()]

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._data)


#: results shared by every session of this process (400 MB holds ~1,500 CT images at 128²)
RESULTS = Memo(max_entries=2048, max_bytes=int(os.environ.get("REGOPT_MEMO_MB", "400")) * 1_000_000)
_RESOURCES = Memo(max_entries=6, max_bytes=1_200_000_000, freeze=False)
_PINNED: dict[Hashable, Any] = {}
_PIN_LOCK = threading.Lock()


def key_of(fn: Callable, config: Hashable) -> tuple:
    """The cache key of ``fn(config)``: the function's qualified name and the (hashable) config."""
    try:
        hash(config)
    except TypeError as exc:
        raise TypeError(f"cached.result needs a hashable config for {fn.__qualname__}: {exc}") from None
    return (fn.__module__, fn.__qualname__, config)


# ---------------------------------------------------------------------------------- the on-disk store
_VERSION: str | None = None


#: core code no stored result depends on: the figure builders turn results into pictures after the lookup
_NOT_RESULTS = ("figures",)


def _hash_core() -> str:
    h = hashlib.sha256()
    for path in sorted(CORE.rglob("*.py")):
        if path.relative_to(CORE).parts[0] in _NOT_RESULTS:
            continue
        h.update(str(path.relative_to(CORE)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def code_version(*, fresh: bool = False) -> str:
    """Hash of every source file of ``regopt_core`` but its figure builders: a store written by other code is
    never used (a figure edit does not throw the store away: no result is computed by ``regopt_core.figures``).

    Computed once per process (the code a process runs does not change under it); ``fresh=True`` hashes the
    files on disk again (the store builder checks that the code it is building for is still the code there).
    """
    global _VERSION
    if fresh:
        return _hash_core()
    if _VERSION is None:
        _VERSION = _hash_core()
    return _VERSION


def store_root() -> Path:
    return Path(os.environ.get("REGOPT_STORE", ROOT / ".regopt_store"))


def store_dir() -> Path:
    return store_root() / code_version()


def _store_file(key: tuple) -> Path:
    digest = hashlib.sha256(repr(key).encode()).hexdigest()[:32]
    return store_dir() / f"{digest}.pkl"


def store_get(key: tuple) -> Any:
    """A result from the precomputed store, or ``_MISSING``. The file holds its key; a mismatch is a miss."""
    path = _store_file(key)
    try:
        with path.open("rb") as fh:
            stored_key, value = pickle.load(fh)  # noqa: S301 — written by deploy.precompute on this server
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, AttributeError, ImportError):
        return _MISSING
    return value if stored_key == key else _MISSING


def store_put(key: tuple, value: Any) -> Path:
    """Write one result to the store (the precompute step only; the app never writes)."""
    path = _store_file(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    with tmp.open("wb") as fh:
        pickle.dump((key, value), fh, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(path)
    return path


# ------------------------------------------------------------------------------------------ results
def _lookup(key: tuple) -> Any:
    hit = _PINNED.get(key, _MISSING)
    if hit is not _MISSING:
        return hit
    hit = RESULTS.get(key)
    if hit is not _MISSING:
        return hit
    hit = store_get(key)
    if hit is not _MISSING:
        return RESULTS.put(key, hit)
    return _MISSING


def ready(fn: Callable, config: Hashable) -> bool:
    """Is ``fn(config)`` available without computing (pinned, in the store or in the memo)?"""
    return _lookup(key_of(fn, config)) is not _MISSING


def result(fn: Callable[[Any], Any], config: Hashable, *, heavy: bool = False, label: str = "") -> Any:
    """``fn(config)``, computed at most once for every session of this server (see the module docstring).

    ``heavy=True`` marks work above ~50 ms: it runs off the interactive path (a worker process, one job
    per session) and the page shows ``label`` with progress while it waits.
    """
    key = key_of(fn, config)
    hit = _lookup(key)
    if hit is not _MISSING:
        return hit
    if heavy and getattr(fn, "parts", None) is not None:
        return _composite(fn, config, key, label)
    compute = warm_start(fn, config)
    if heavy:
        from pages._ui import jobs  # a worker process, one job per session (see pages/_ui/jobs.py)

        value = jobs.run(compute, config, key, label, on_result=publish)
        hit = RESULTS.get(key)
        return hit if hit is not _MISSING else RESULTS.put(key, value)
    return RESULTS.compute(key, lambda: compute(config))


def _composite(fn: Callable, config: Hashable, key: tuple, label: str) -> Any:
    """A long result made of many results (``fn.parts = (part_fn, groups, assemble)``, e.g. the CT sweep: ~30
    reconstructions, ~10 s of CPU): each group of parts is its own heavy job, so it never holds a worker for
    seconds — between groups the queue serves everyone else's moves first (a sweep run as one job made every CT
    move of a 60-student class wait 5-15 s behind it). ``assemble(config, get)`` must equal ``fn(config)`` for
    ``get`` = ``part_fn`` (the core's tests check it); the value is then shared like any result."""
    part_fn, groups_of, assemble = fn.parts
    groups = groups_of(config)
    for i, group in enumerate(groups, start=1):
        results(part_fn, group, heavy=True, label=f"{label or 'Computing'} (part {i} of {len(groups)})")
    value = assemble(config, lambda k: result(part_fn, k, heavy=True, label=label))
    hit = RESULTS.get(key)
    return hit if hit is not _MISSING else RESULTS.put(key, value)


_BATCH = "regopt-batch"  # the key of a job that computes several results: (_BATCH, (key, key, ...))


def _each(calls: tuple) -> list:
    """A batch job (in a worker): ``[f(config) for f, config in calls]``, in order."""
    return [f(c) for f, c in calls]


def publish(key: Hashable, value: Any) -> None:
    """Where a finished heavy job lands (the worker pool's ``on_result``): the shared memo — a batch's results
    each under its own key."""
    if isinstance(key, tuple) and len(key) == 2 and key[0] == _BATCH:
        for k, v in zip(key[1], value, strict=True):
            RESULTS.put(k, v)
    else:
        RESULTS.put(key, value)


def results(fn: Callable[[Any], Any], configs: Sequence[Hashable], *, heavy: bool = False,
            label: str = "") -> list:
    """``[result(fn, c) for c in configs]``; with ``heavy``, the missing ones are computed in **one** worker job.

    A session has one heavy job at a time and waits its turn in the queue for each; a section that needs three
    reconstructions (the CT strip) would wait three turns under a busy class. As one job it waits once.
    """
    configs = list(configs)
    if heavy:
        missing = [c for c in dict.fromkeys(configs) if _lookup(key_of(fn, c)) is _MISSING]
        if len(missing) > 1:
            from pages._ui import jobs

            if jobs.scheduler(publish) is not None:
                keys = tuple(key_of(fn, c) for c in missing)
                calls = tuple((warm_start(fn, c), c) for c in missing)
                values = jobs.run(_each, calls, (_BATCH, keys), label, on_result=publish)
                for k, v in zip(keys, values, strict=True):
                    if RESULTS.get(k) is _MISSING:
                        RESULTS.put(k, v)
    return [result(fn, c, heavy=heavy, label=label) for c in configs]


def warm_start(fn: Callable[..., Any], config: Hashable) -> Callable[[Any], Any]:
    """``fn``, or ``fn`` given a cached result to continue from (the warm-start protocol, see :func:`result`).

    ``fn.warm_from(config)`` lists candidate configs, nearest first; the first one whose result is available
    without computing (pinned, memo, store) is passed as ``fn(config, start=that_result)``. Nothing is computed
    for a candidate. The returned callable is a picklable ``functools.partial`` of a module-level function, so a
    worker process (``pages/_ui/jobs.py``, which calls ``fn(config)``) runs it unchanged.
    """
    candidates = getattr(fn, "warm_from", None)
    if candidates is None:
        return fn
    for cand in candidates(config):
        start = _lookup(key_of(fn, cand))
        if start is not _MISSING:
            return functools.partial(fn, start=start)
    return fn


def resource(fn: Callable[..., Any], *args: Hashable) -> Any:
    """A large read-only object per process (e.g. a system matrix), at most a few kept."""
    return _RESOURCES.compute((fn.__module__, fn.__qualname__, args), lambda: fn(*args))


# ------------------------------------------------------------------------------------------ warm-up
def pin(fn: Callable, config: Hashable) -> Any:
    """Compute ``fn(config)`` (or take it from the store) and keep it for good in the pinned store."""
    key = key_of(fn, config)
    with _PIN_LOCK:
        if key in _PINNED:
            return _PINNED[key]
    value = _lookup(key)
    if value is _MISSING:
        compute = warm_start(fn, config)
        value = RESULTS.compute(key, lambda: compute(config))
    with _PIN_LOCK:
        _PINNED[key] = _freeze(value)
        return _PINNED[key]


def warm_pairs() -> list[tuple[Callable, Any]]:
    """Every ``(function, config)`` pair the registry declares (each page's defaults)."""
    from pages._ui import registry

    pairs = []
    for spec in registry.PAGES:
        if spec.warm is not None:
            pairs.extend(spec.warm())
    return pairs


_warm_state: dict[str, Any] = {"thread": None, "report": {}}
_WARM_LOCK = threading.Lock()


_WARM_SESSION = "regopt-warm-up"  # the warm-up's turn in the worker pool: one job at a time, students first


def _warm_all(pairs: list[tuple[Callable, Any]]) -> None:
    """Compute and pin ``pairs``. Under a server with workers each one is a job of the worker pool (one at a
    time, in turn with the students): a warm-up computed in this process would hold its interpreter lock for
    minutes — measured with py-spy under 60 students after a code change: 44 % of the server's lock time —
    and every student's rerun would wait for it."""
    from pages._ui import jobs

    with contextlib.suppress(AttributeError, OSError):  # background work: request threads go first
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    sched = jobs.scheduler(publish)
    for fn, config in pairs:
        name = f"{fn.__module__}.{fn.__qualname__}"
        try:
            if sched is not None and _lookup(key_of(fn, config)) is _MISSING:
                job = sched.submit(_WARM_SESSION, key_of(fn, config), warm_start(fn, config), config,
                                   "warm-up", budget=False)
                if job is not None:
                    RESULTS.put(key_of(fn, config), job.future.result())
            pin(fn, config)
            _warm_state["report"][name] = "ok"
        except Exception as exc:  # a failed warm-up must not take the app down; the page recomputes
            _warm_state["report"][name] = f"{type(exc).__name__}: {exc}"


def warm_defaults(*, wait: bool = False) -> dict[str, str]:
    """Pin every page's default results once per process, in a background thread.

    Results already in the precomputed store are pinned at once (milliseconds); the rest are computed
    in a low-priority thread, so the first request is never held up by the warm-up.
    ``REGOPT_WARM_ON_START=0`` skips that computation (the test suite: dozens of servers and AppTest processes
    would each compute every page's defaults, though each test opens one or two pages).
    """
    with _WARM_LOCK:
        if _warm_state["thread"] is None:
            _precompute_in_background()
            pairs = warm_pairs()
            cold = []
            for fn, config in pairs:
                if store_get(key_of(fn, config)) is not _MISSING:
                    pin(fn, config)
                else:
                    cold.append((fn, config))
            if os.environ.get("REGOPT_WARM_ON_START", "1") == "0":
                cold = []  # pin what the store holds, compute nothing ahead (the test suite's servers)
            t = threading.Thread(target=_warm_all, args=(cold,), name="regopt-warm-defaults", daemon=True)
            _warm_state["thread"] = t
            t.start()
    if wait:
        _warm_state["thread"].join()
    return dict(_warm_state["report"])


def _precompute_in_background() -> None:
    """A server started without a complete store for its code version builds it once, at low priority."""
    from pages._ui.jobs import _in_server

    if not _in_server() or os.environ.get("REGOPT_PRECOMPUTE_ON_START", "1") == "0":
        return
    if (store_dir() / "COMPLETE").exists():
        return
    import subprocess
    import sys

    lock = store_root() / f".building-{code_version()}"
    if not _claim_build_lock(lock):
        return  # read-only store, or another replica is building it
    proc = subprocess.Popen(  # noqa: S603 — our own build step, fixed arguments
        ["nice", "-n", "15", sys.executable, "-m", "deploy.precompute"], cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        env={**os.environ, "REGOPT_PRECOMPUTE_ON_START": "0"})
    lock.write_text(str(proc.pid))  # the builder's pid: a lock whose builder died is taken over (see below)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _claim_build_lock(lock: Path) -> bool:
    """One builder per machine and code version. A lock left by a builder that died (killed with its server,
    out of memory) names a pid that no longer runs, and is taken over instead of blocking every later start."""
    for _ in range(2):
        try:
            lock.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            return True
        except FileExistsError:
            try:
                pid = int(lock.read_text().strip() or "0")
            except (OSError, ValueError):
                pid = 0
            if pid and _pid_alive(pid):
                return False
            with contextlib.suppress(OSError):
                lock.unlink()
        except OSError:
            return False
    return False


def n_pinned() -> int:
    return len(_PINNED)


@contextlib.contextmanager
def isolated() -> Iterator[None]:
    """Tests: empty memo and pins inside the block, restored after."""
    saved_pins, saved = dict(_PINNED), RESULTS.items()
    _PINNED.clear()
    RESULTS.clear()
    try:
        yield
    finally:
        _PINNED.clear()
        _PINNED.update(saved_pins)
        RESULTS.clear()
        for k, v in saved:
            RESULTS.put(k, v)

"""Cached computations of the sparse-view CT page (primitive arguments only; every size capped here).

* System matrices live in ``st.cache_resource`` (read-only arrays, a few per process).
* Reconstructions live in a process-wide memo (:class:`_Memo`) rather than ``st.cache_data``:
  a cold iterative run must report progress and intermediate images to the page, which Streamlit
  does not allow from inside a ``cache_data`` function. The memo is bounded (entries and bytes),
  computes each key once even when many students ask at the same moment (per-key lock), returns
  read-only arrays, and survives a client's "clear cache" message like ``pinned`` results do.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

from pages._ui.cached import LARGE, _freeze
from regopt_core.ct import experiments
from regopt_core.ct.experiments import ITERATIVE_MAX_VIEWS, Reconstruction, Scan
from regopt_core.ct.filters import FILTER_NAMES
from regopt_core.ct.geometry import MAX_VIEWS
from regopt_core.ct.phantoms import PHANTOM_NAMES, make_phantom
from regopt_core.ct.projectors import Projector, make_projector

N_CHOICES = (64, 128, 192, 256)
MAX_ITERS = 500
MAX_ASD_ITERS = 100
STRIP_VIEWS = (20, 30, 40)
SWEEP_VIEWS = (10, 20, 30, 40, 60, 90, 120, 180)
DEFAULTS = dict(phantom="shepp_logan", kind="parallel", n=128, dso=3.0, dsd=6.0, i0=0.0, crime=False, seed=0,
                lam=2.0, n_iter=150)
DEFAULT_VIEWS = 40
DEFAULT_FILTER = "ram-lak"
DEFAULT_EPS = 1.5  # ASD-POCS tolerance in % of ||b||
SWEEP_ASD_ITERS = 40


@dataclass(frozen=True)
class Settings:
    """The page-wide acquisition and TV settings, cleaned and capped."""

    phantom: str
    kind: str
    n: int
    dso: float
    dsd: float
    i0: float  # 0 = noise-free
    crime: bool
    seed: int
    lam: float
    n_iter: int

    def key(self) -> tuple:
        return (self.phantom, self.kind, self.n, self.dso, self.dsd, self.i0, self.crime, self.seed, self.lam,
                self.n_iter)


def settings(phantom: str, kind: str, n: int, dso: float, dsd: float, i0: float, crime: bool, seed: int, lam: float,
             n_iter: int) -> Settings:
    """Clean every size-driving value whatever the URL said (server-side caps)."""
    phantom = phantom if phantom in PHANTOM_NAMES else DEFAULTS["phantom"]
    kind = kind if kind in ("parallel", "fan") else "parallel"
    n = min(N_CHOICES, key=lambda c: abs(c - int(n)))
    dso = float(np.clip(dso, 1.5, 10.0))
    dsd = float(np.clip(max(dsd, dso), dso, 20.0))
    i0 = float(i0) if np.isfinite(i0) and i0 >= 1.0 else 0.0
    lam = float(np.clip(lam, 0.0, 1e4)) if np.isfinite(lam) else DEFAULTS["lam"]
    n_iter = int(np.clip(n_iter, 1, MAX_ITERS))
    return Settings(phantom, kind, n, dso, dsd, min(i0, 1e9), bool(crime), int(seed) % 2**31, lam, n_iter)


#: work cap of one iterative reconstruction, in pixel·view·iterations: 300 TV iterations at 256² / 40 views
#: (about 1.5 s on a 2-core server); larger requests get fewer iterations, with a note on the page.
WORK_CAP = 256 * 256 * 40 * 300
#: the system matrix pair is capped at the size of 256² / 90 views (~160 MB)
MATRIX_CAP = 256 * 256 * 90


def clean_views(n_views: int) -> int:
    return int(np.clip(int(n_views), 1, MAX_VIEWS))


def max_iterative_views(n: int) -> int:
    """Most views the iterative methods may use at image size ``n`` (memory of the system matrix)."""
    return int(min(ITERATIVE_MAX_VIEWS, MATRIX_CAP // (n * n)))


def iterative_views(n_views: int, n: int = 128) -> int:
    """View count used by the iterative methods (their system matrix is capped)."""
    return int(min(clean_views(n_views), max_iterative_views(n)))


# ---------------------------------------------------------------------------------------------- resources
@st.cache_resource(max_entries=4, show_spinner=False)
def projector(kind: str, n: int, n_views: int, dso: float, dsd: float) -> Projector:
    """Joseph system matrix and its transpose for one geometry (read-only CSR arrays, shared)."""
    g = experiments.make_geometry(kind, n, iterative_views(n_views, n), dso=dso, dsd=dsd)
    return make_projector(g)


def _projector_for(s: Settings, n_views: int) -> Projector:
    return projector(s.kind, s.n, iterative_views(n_views, s.n), s.dso, s.dsd)


@st.cache_data(**LARGE)
def scan(phantom: str, kind: str, n: int, n_views: int, dso: float, dsd: float, i0: float, crime: bool,
         seed: int) -> Scan:
    """Simulated measurement. The phantom depends on the seed only; the noise also on the view count."""
    g = experiments.make_geometry(kind, n, n_views, dso=dso, dsd=dsd)
    ph = make_phantom(phantom, rng=np.random.default_rng([seed, 0]))
    proj = projector(kind, n, n_views, dso, dsd) if crime else None
    return experiments.simulate_scan(ph, g, i0=i0 if i0 >= 1 else None, inverse_crime=crime, projector=proj,
                                     rng=np.random.default_rng([seed, 1, n_views]))


def _scan_for(s: Settings, n_views: int) -> Scan:
    crime = s.crime and n_views <= max_iterative_views(s.n)
    return scan(s.phantom, s.kind, s.n, n_views, s.dso, s.dsd, s.i0, crime, s.seed)


# ---------------------------------------------------------------------------------------------- the memo
def _nbytes(obj: Any) -> int:
    if isinstance(obj, np.ndarray):
        return obj.nbytes
    if isinstance(obj, dict):
        return sum(_nbytes(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(_nbytes(v) for v in obj)
    if hasattr(obj, "__dataclass_fields__"):
        return sum(_nbytes(getattr(obj, f)) for f in obj.__dataclass_fields__)
    return 64


class _Memo:
    """A bounded, thread-safe LRU of results that computes every key at most once at a time."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self._data: OrderedDict[tuple, tuple[Any, int]] = OrderedDict()
        self._locks: dict[tuple, threading.Lock] = {}
        self._lock = threading.Lock()
        self.max_entries, self.max_bytes = max_entries, max_bytes

    def get(self, key: tuple) -> Any | None:
        with self._lock:
            hit = self._data.get(key)
            if hit is None:
                return None
            self._data.move_to_end(key)
            return hit[0]

    def __contains__(self, key: tuple) -> bool:
        with self._lock:
            return key in self._data

    def compute(self, key: tuple, fn: Callable[[], Any]) -> Any:
        hit = self.get(key)
        if hit is not None:
            return hit
        with self._lock:
            key_lock = self._locks.setdefault(key, threading.Lock())
        with key_lock:  # a second caller of the same key waits here and then reads the result
            hit = self.get(key)
            if hit is not None:
                return hit
            value = _freeze(fn())
            size = _nbytes(value)
            with self._lock:
                self._data[key] = (value, size)
                total = sum(v[1] for v in self._data.values())
                while len(self._data) > self.max_entries or (total > self.max_bytes and len(self._data) > 1):
                    _, (_, sz) = self._data.popitem(last=False)
                    total -= sz
                self._locks.pop(key, None)
            return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


_RESULTS = _Memo(max_entries=160, max_bytes=400_000_000)


def _recon_key(method: str, s: Settings, n_views: int, filter_name: str, eps_pct: float) -> tuple:
    n_it = recon_iterations(method, s, n_views)
    lam = s.lam if method == "tv" else 0.0
    filt = filter_name if method == "fbp" else ""
    eps = eps_pct if method == "asd_pocs" else 0.0
    return ("recon", method, s.phantom, s.kind, s.n, n_views, s.dso, s.dsd, s.i0, s.crime, s.seed, lam, n_it, filt, eps)


def recon_iterations(method: str, s: Settings, n_views: int) -> int:
    """Iterations a method actually runs at this size (each capped by ``WORK_CAP``).

    TV-PDHG: ``n_iter``; SART: passes (at most 30); ASD-POCS: outer iterations (at most 100; each
    is a SART pass plus 20 TV steps, so it counts as 4 PDHG iterations).
    """
    if method == "fbp":
        return 0
    size = s.n * s.n * max(1, n_views)
    budget = max(1, WORK_CAP // size)
    if method == "tv":
        return int(max(10, min(s.n_iter, budget)))
    if method == "sart":
        return int(max(1, min(s.n_iter, 30, budget // 10)))
    return int(max(5, min(s.n_iter, MAX_ASD_ITERS, budget // 4)))


def is_cached(method: str, s: Settings, n_views: int, *, filter_name: str = DEFAULT_FILTER,
              eps_pct: float = DEFAULT_EPS) -> bool:
    views = clean_views(n_views) if method == "fbp" else iterative_views(n_views, s.n)
    return _recon_key(method, s, views, filter_name, eps_pct) in _RESULTS


def reconstruction(method: str, s: Settings, n_views: int, *, filter_name: str = DEFAULT_FILTER,
                   eps_pct: float = DEFAULT_EPS,
                   progress: Callable[[int, int, np.ndarray], None] | None = None) -> Reconstruction:
    """One scored reconstruction (computed once per parameter set for everyone).

    Iterative methods use at most ``ITERATIVE_MAX_VIEWS`` views; FBP uses all (up to 720).
    """
    filter_name = filter_name if filter_name in FILTER_NAMES else DEFAULT_FILTER
    eps_pct = float(np.clip(eps_pct, 0.0, 50.0))
    views = clean_views(n_views) if method == "fbp" else iterative_views(n_views, s.n)
    key = _recon_key(method, s, views, filter_name, eps_pct)

    def run() -> Reconstruction:
        sc = _scan_for(s, views)
        proj = None if method == "fbp" else _projector_for(s, views)
        return experiments.reconstruct(sc, method, projector=proj, filter_name=filter_name, lam=s.lam,
                                       n_iter=recon_iterations(method, s, views), eps_frac=eps_pct / 100.0,
                                       progress=progress)

    return _RESULTS.compute(key, run)


def sinogram(s: Settings, n_views: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(data, detector positions, view angles in degrees)`` of the measured scan."""
    sc = _scan_for(s, clean_views(n_views))
    g = sc.geometry
    return sc.data, g.det_positions, np.degrees(g.angles)


def truth(s: Settings) -> np.ndarray:
    return _scan_for(s, 1).truth


def strip(s: Settings, progress: Callable[[int, int, np.ndarray], None] | None = None) -> list[Reconstruction]:
    """The lecture's figure: TV at 20, 30, 40 views and FBP/FDK at 40 views."""
    out = [reconstruction("tv", s, v, progress=progress) for v in STRIP_VIEWS]
    out.append(reconstruction("fbp", s, STRIP_VIEWS[-1]))
    return out


def sweep_cached(s: Settings) -> bool:
    return ("sweep",) + s.key() in _RESULTS


def sweep(s: Settings, progress: Callable[[int, int], None] | None = None) -> dict:
    """PSNR, SSIM and RMSE against the number of views for FBP, SART, TV-PDHG and ASD-POCS.

    ASD-POCS runs at most ``SWEEP_ASD_ITERS`` outer iterations here (it is the slowest method).

    Projectors for the sweep are built and dropped one at a time (not kept in the resource cache).
    """

    def run() -> dict:
        scores = {m: {"psnr": [], "ssim": [], "rmse": []} for m in ("fbp", "sart", "tv", "asd_pocs")}
        total = len(SWEEP_VIEWS)
        for i, v in enumerate(SWEEP_VIEWS):
            sc = _scan_for(s, v)
            proj = make_projector(sc.geometry) if v <= max_iterative_views(s.n) else None
            for m in scores:
                if m != "fbp" and proj is None:  # beyond the matrix cap: not computed
                    for k in ("psnr", "ssim", "rmse"):
                        scores[m][k].append(float("nan"))
                    continue
                n_it = recon_iterations(m, s, v)
                if m == "asd_pocs":
                    n_it = min(n_it, SWEEP_ASD_ITERS)
                r = experiments.reconstruct(sc, m, projector=proj, lam=s.lam, n_iter=n_it, n_snapshots=0,
                                            eps_frac=DEFAULT_EPS / 100.0)
                scores[m]["psnr"].append(r.psnr)
                scores[m]["ssim"].append(r.ssim)
                scores[m]["rmse"].append(r.rmse)
            del proj
            if progress is not None:
                progress(i + 1, total)
        return {"views": list(SWEEP_VIEWS), "scores": scores}

    return _RESULTS.compute(("sweep",) + s.key(), run)


def default_settings() -> Settings:
    return settings(**DEFAULTS)


_warm_thread: threading.Thread | None = None


def _warm() -> None:
    try:  # a background job: let request threads (and other processes) go first
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):
        pass
    s = default_settings()
    strip(s)
    for m in ("fbp", "sart", "tv"):
        reconstruction(m, s, DEFAULT_VIEWS)
    sweep(s)


def warm_defaults(*, wait: bool = False) -> None:
    """At server start: the default strip, comparison and sweep, so a lecture never waits.

    Runs in a background thread (the app's first request is not held up; a student who asks for a
    default result while it is being computed waits for that computation instead of repeating it).
    """
    global _warm_thread
    with _WARM_LOCK:
        if _warm_thread is None:
            _warm_thread = threading.Thread(target=_warm, name="ct-warm-defaults", daemon=True)
            _warm_thread.start()
    if wait:
        _warm_thread.join()


_WARM_LOCK = threading.Lock()

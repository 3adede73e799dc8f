"""The CT page's settings and recipes: one frozen config, the only place CT caps live, and the functions
``fn(config) -> result`` the page shows (scan -> projector -> reconstruct, the lecture's strip, the
comparison, the quality-vs-views sweep, the inverse-crime comparison over λ).

Every cap of the CT page lives in :meth:`CTConfig.clamped` and the helpers it calls
(:meth:`CTConfig.iterations`, :func:`iterative_max_views`). Solvers below never clip: they raise on
input they cannot take.

A result function takes one hashable config and returns a small frozen dataclass, so the page can
ask ``cached.result(reconstruction, cfg.recon("tv"), heavy=True, label=...)``. Keys are normalized:
:meth:`CTConfig.recon` drops every field the method does not read (SART's key holds no λ, so moving
the TV λ never recomputes SART; the strip's TV at 40 views is the comparison's TV at 40 views).
"""

from __future__ import annotations

import functools
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace

import numpy as np

from regopt_core.caps import clip, finite
from regopt_core import seeding
from regopt_core.ct import experiments
from regopt_core.ct import tv as tv_module
from regopt_core.ct.experiments import Reconstruction, Scan
from regopt_core.ct.filters import FILTER_NAMES
from regopt_core.ct.geometry import MAX_VIEWS
from regopt_core.ct.phantoms import PHANTOM_NAMES, make_phantom
from regopt_core.ct.projectors import Projector, make_projector

__all__ = [
    "CTConfig",
    "CrimeCurves",
    "DEFAULT",
    "Sweep",
    "crime_curves",
    "crime_keys",
    "iterative_max_views",
    "phantom_image",
    "projector",
    "reconstruction",
    "scan",
    "sinogram",
    "sweep",
]

#: phantoms the page offers ("ct_slice" is the bundled real CT slice, regopt_core.ct.anatomy; "upload" is a
#: student's own file, carried by ``CTConfig.upload``)
PHANTOMS = (*PHANTOM_NAMES, "ct_slice")
UPLOAD = "upload"
#: phantoms drawn from the seed (the others are fixed images)
RANDOM_PHANTOMS = ("piecewise", "smooth")
KINDS = ("parallel", "fan")
TV_METHODS = ("tv", "asd_pocs")
N_CHOICES = (64, 128, 192, 256)
#: the view counts the page's views control offers (more values at the low end, where TV's story is)
VIEW_CHOICES = (1, 2, 4, 8, 10, 12, 15, 18, 20, 25, 30, 35, 40, 45, 50, 60, 75, 90, 120, 150, 180, 360, 720)
STRIP_VIEWS = (20, 30, 40)
SWEEP_VIEWS = (10, 20, 30, 40, 60, 90, 120, 180)
#: iterative methods need the system matrix: at most this many views, and at most MATRIX_CAP rays x pixels
ITERATIVE_MAX_VIEWS = 180
MATRIX_CAP = 256 * 256 * 90  # ~160 MB for the matrix and its transpose
#: work cap of one iterative reconstruction, in pixel·view·iterations: 300 TV iterations at 256² / 40 views
WORK_CAP = 256 * 256 * 40 * 300
ITER_RANGE = (10, 500)
SART_MAX_PASSES = 30
#: ASD-POCS outer iterations at most (each is a SART pass and 20 TV steps). 60, not 100: in the lecture's states
#: (Shepp-Logan parallel and fan, the CT slice, I₀ = 10⁴) PSNR at 60 is within 0.1 dB of 100 or better (with noise,
#: more iterations fit the noise: 27.6 dB at 60, 25.6 dB at 100), and the solver switch costs 40 % less
ASD_MAX_ITERS = 60
SWEEP_ASD_ITERS = 40
LAM_RANGE = (0.0, 1.0)
LAM_SLIDER_MIN = 1e-5  #: the page's λ slider: 0, then 1-2-5 steps from here to LAM_RANGE[1]
#: the page's view-count slider (log steps from 8 to 180 with these mantissas, plus a few extra counts)
VIEWS_SLIDER = dict(lo=8, hi=180, mantissas=(1, 1.2, 1.5, 1.8, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7.5, 9),
                    extra=(1, 2, 4, 360, 720))
I0_RANGE = (1e2, 1e7)  # photons per bin; 0 = noise-free
DSO_RANGE = (2.0, 8.0)
DSD_MAX = 16.0
EPS_RANGE = (0.1, 10.0)  # ASD-POCS tolerance, % of ||b||
#: λ grid of the inverse-crime comparison (both curves), log-spaced around the default
CRIME_LAMS = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2)
CRIME_ITERS = 150


def iterative_max_views(n: int) -> int:
    """Most views the iterative methods may use at image size ``n`` (memory of the system matrix)."""
    return int(min(ITERATIVE_MAX_VIEWS, MATRIX_CAP // (int(n) * int(n))))


@dataclass(frozen=True)
class CTConfig:
    """Everything that decides a CT result (hashable; the page builds it from its widgets).

    ``lam`` is exactly the λ of the page's formula ½‖Ax − b‖² + λ·TV(x) (A in field-of-view units,
    TV with forward differences between pixels; the same λ means the same regularization at every
    image size, see :func:`regopt_core.ct.tv.tv_pdhg`). ``i0 = 0`` means noise-free data.
    ``method`` is the page's TV solver (``"tv"`` or ``"asd_pocs"``) or, in a reconstruction key made by
    :meth:`recon`, any of ``experiments.METHODS``.
    """

    phantom: str = "shepp_logan"
    kind: str = "parallel"
    n: int = 128
    dso: float = 3.0
    dsd: float = 6.0
    i0: float = 0.0
    crime: bool = False
    seed: int = 0
    lam: float = 5e-4
    n_iter: int = 150
    views: int = 40
    method: str = "tv"
    filter_name: str = "ram-lak"
    eps_pct: float = 1.5
    #: a student's own slice (:class:`regopt_core.uploads.UploadRef`: compared and hashed by the file's SHA-256,
    #: the bytes ride along for the worker that decodes them); used as the phantom when ``phantom == "upload"``
    upload: object = None

    # ------------------------------------------------------------------------------------- caps
    def clamped(self) -> CTConfig:
        """The config the server computes: every size and value within this module's caps (the only caps).

        Raises ``ValueError`` for an unknown phantom, geometry, method or filter, or a non-finite number.
        """
        if self.phantom == UPLOAD:
            if self.upload is None:
                raise ValueError("phantom 'upload' needs an uploaded file")
        elif self.phantom not in PHANTOMS:
            raise ValueError(f"unknown phantom {self.phantom!r}; choose one of {PHANTOMS}")
        if self.kind not in KINDS:
            raise ValueError(f"unknown geometry {self.kind!r}; choose one of {KINDS}")
        if self.method not in TV_METHODS:
            raise ValueError(f"unknown TV solver {self.method!r}; choose one of {TV_METHODS}")
        if self.filter_name not in FILTER_NAMES:
            raise ValueError(f"unknown filter {self.filter_name!r}; choose one of {FILTER_NAMES}")
        n = min(N_CHOICES, key=lambda c: abs(c - finite("n", self.n)))
        dso = clip(finite("dso", self.dso), *DSO_RANGE)
        dsd = clip(finite("dsd", self.dsd), dso, DSD_MAX)
        i0 = finite("i0", self.i0)
        i0 = 0.0 if i0 <= 0 else clip(i0, *I0_RANGE)
        lam = clip(finite("lam", self.lam), *LAM_RANGE)
        n_iter = int(round(clip(finite("n_iter", self.n_iter), *ITER_RANGE)))
        views = int(round(clip(finite("views", self.views), 1, MAX_VIEWS)))
        eps = clip(finite("eps_pct", self.eps_pct), *EPS_RANGE)
        if self.kind == "parallel":
            dso, dsd = DEFAULT.dso, DEFAULT.dsd  # unused by a parallel beam: one key for all
        seed = int(self.seed) % 2**31
        if self.phantom not in RANDOM_PHANTOMS and i0 == 0:
            seed = 0  # nothing random is drawn (a fixed phantom, noise-free data): every seed gives the same numbers
        upload = self.upload if self.phantom == UPLOAD else None
        return replace(self, upload=upload, n=int(n), dso=float(dso), dsd=float(dsd), i0=float(i0), crime=bool(self.crime),
                       seed=seed, lam=float(lam), n_iter=n_iter, views=views,
                       eps_pct=float(round(eps, 6)))

    def iterative_views(self, views: int | None = None) -> int:
        """View count the iterative methods use (their system matrix is capped, :func:`iterative_max_views`)."""
        return int(min(self.views if views is None else views, iterative_max_views(self.n)))

    def iterations(self, method: str, views: int | None = None) -> int:
        """Iterations a method really runs at this size and view count (each within ``WORK_CAP``).

        TV-PDHG: ``n_iter``; SART: passes (at most ``SART_MAX_PASSES``); ASD-POCS: outer iterations (at
        most ``ASD_MAX_ITERS``; each is a SART pass plus 20 TV steps, so it counts as 4 PDHG iterations).
        """
        if method == "fbp":
            return 0
        v = self.iterative_views(views)
        budget = max(1, WORK_CAP // (self.n * self.n * max(1, v)))
        if method == "tv":
            return int(max(10, min(self.n_iter, budget)))
        if method == "sart":
            return int(max(1, min(self.n_iter, SART_MAX_PASSES, budget // 10)))
        if method == "asd_pocs":
            return int(max(5, min(self.n_iter, ASD_MAX_ITERS, budget // 4)))
        raise ValueError(f"unknown method {method!r}")

    # ------------------------------------------------------------------------------------- keys
    def recon(self, method: str, views: int | None = None) -> CTConfig:
        """The key of one reconstruction: only the fields ``method`` reads are kept (call on a clamped config).

        Iterative methods use at most :meth:`iterative_views` views; FBP uses all. Inverse-crime data need
        the system matrix, so beyond the iterative cap FBP gets honest data.
        """
        if method not in experiments.METHODS:
            raise ValueError(f"unknown method {method!r}")
        v = int(self.views if views is None else views)
        v = v if method == "fbp" else self.iterative_views(v)
        return replace(
            self,
            method=method,
            views=v,
            crime=self.crime and v <= iterative_max_views(self.n),
            lam=self.lam if method == "tv" else 0.0,
            n_iter=self.iterations(method, v),
            filter_name=self.filter_name if method == "fbp" else DEFAULT.filter_name,
            eps_pct=self.eps_pct if method == "asd_pocs" else DEFAULT.eps_pct,
        )

    def strip_keys(self) -> tuple[CTConfig, ...]:
        """The lecture's figure: TV at 20, 30, 40 views, then FBP/FDK (ramp filter) at 40 views."""
        base = replace(self, filter_name=DEFAULT.filter_name)
        return (*(base.recon("tv", v) for v in STRIP_VIEWS), base.recon("fbp", STRIP_VIEWS[-1]))

    def compare_keys(self) -> tuple[CTConfig, ...]:
        """The comparison at ``views``: FBP/FDK, SART and the chosen TV solver."""
        return self.recon("fbp"), self.recon("sart"), self.recon(self.method)

    def scan_key(self, views: int | None = None) -> CTConfig:
        """The key of the measured data (phantom, geometry, dose, seed, crime; nothing of the solver)."""
        v = int(self.views if views is None else views)
        return replace(DEFAULT, phantom=self.phantom, upload=self.upload, kind=self.kind, n=self.n, dso=self.dso, dsd=self.dsd,
                       i0=self.i0, crime=self.crime and v <= iterative_max_views(self.n), seed=self.seed, views=v)

    def sweep_key(self) -> CTConfig:
        """The key of :func:`sweep`: views, solver choice, filter and ASD tolerance do not enter."""
        return replace(self, views=DEFAULT.views, method=DEFAULT.method, filter_name=DEFAULT.filter_name,
                       eps_pct=DEFAULT.eps_pct)

    def crime_key(self) -> CTConfig:
        """The key of :func:`crime_curves`: the λ grid is fixed, so λ and the crime switch do not enter."""
        v = self.iterative_views()
        return replace(self.sweep_key(), views=v, lam=DEFAULT.lam, crime=False,
                       n_iter=min(CRIME_ITERS, self.iterations("tv", v)))


DEFAULT = CTConfig()
CTConfig.DEFAULT = DEFAULT  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------------ recipes
def phantom_of(cfg: CTConfig):
    """The phantom object of a config (analytic ellipses/blobs, the real CT slice, or an upload)."""
    if cfg.phantom == UPLOAD:
        return _upload_phantom(cfg.upload)
    if cfg.phantom == "ct_slice":
        from regopt_core.ct.anatomy import ct_slice_phantom

        return ct_slice_phantom()
    return make_phantom(cfg.phantom, rng=seeding.stream(cfg.seed, 0))


@functools.lru_cache(maxsize=4)
def _upload_phantom(ref):
    """Decode an upload once per process (keyed by its digest and name; raises UploadError for a bad file)."""
    from regopt_core.ct.anatomy import upload_phantom

    return upload_phantom(ref.data, ref.filename)


def phantom_image(cfg: CTConfig) -> np.ndarray:
    """The scored truth on the ``n x n`` grid (pixel averages of the phantom)."""
    img = np.asarray(phantom_of(cfg).image(cfg.n), dtype=np.float64)
    img.setflags(write=False)
    return img


def truth_key(cfg: CTConfig) -> CTConfig:
    """The key of :func:`phantom_image` (call on a clamped config): only the phantom (its seed only when the phantom
    is drawn from it) and ``n`` — a move of the dose, the geometry or the crime switch keeps the page's truth image.
    For the defaults it is ``DEFAULT.clamped().scan_key(1)``."""
    seed = cfg.seed if cfg.phantom in RANDOM_PHANTOMS else 0
    return replace(DEFAULT, phantom=cfg.phantom, upload=cfg.upload, n=cfg.n, seed=seed, views=1)


class _Kept:
    """A small per-process least-recently-used store of values made from a key (one value per key)."""

    def __init__(self, size: int) -> None:
        self.size, self._items, self._lock = size, OrderedDict(), threading.Lock()

    def get(self, key, make):
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        return self.put(key, make(key))

    def put(self, key, value):
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


TRUTH_CACHE_SIZE = 8
_TRUTHS = _Kept(TRUTH_CACHE_SIZE)


def _truth(cfg: CTConfig) -> np.ndarray:
    """:func:`phantom_image` of :func:`truth_key`, kept per process: every scan of a page state (20, 30 and 40
    views, with and without noise) scores against the same image, and the 4 x 4 supersampled phantom took most of
    a scan's time (~30 of ~40 ms at 128²)."""
    return _TRUTHS.get(truth_key(cfg), phantom_image)


#: bytes of system matrices one process keeps (the strip alone needs three: 20, 30 and 40 views; at 256² these
#: take ~170 MB, at 128² ~45 MB). Least recently used matrices go first. Every worker process keeps its own; a
#: matrix is rebuilt in 0.1-0.6 s (128², 20-180 views: 77-439 ms; 256², 60 views: 571 ms), so the cap is what
#: the server's memory budget (2 GB for a class of 60 on one process and two workers) allows.
PROJECTOR_CACHE_BYTES = int(os.environ.get("REGOPT_PROJECTOR_MB", "200")) * 1_000_000
#: threads per sparse mat-vec of the page's projectors. One: on a shared 2-core server every core already serves a
#: worker process or a script thread, and splitting a 128² / 40-view mat-vec over two threads cost 50 % more CPU
#: (0.81 -> 1.20 ms per product; TV-PDHG to its tolerance 10-12 % more) for no gain in wall time on a busy machine.
#: The benches call ``make_projector`` themselves (two threads: wall time on an idle machine).
MATVEC_THREADS = int(os.environ.get("REGOPT_MATVEC_THREADS", "1"))
_PROJECTORS: OrderedDict[tuple, Projector] = OrderedDict()
_PROJECTORS_LOCK = threading.Lock()


def projector(kind: str, n: int, views: int, dso: float, dsd: float) -> Projector:
    """Joseph system matrix and its transpose for one geometry, built once per process and shared (read-only).

    Kept in a least-recently-used cache bounded by ``PROJECTOR_CACHE_BYTES`` (a worker process computes the
    strip's 20, 30 and 40 views one after the other: a cache of two matrices rebuilt each of them every time);
    matrices at the default image size are evicted only when no other size is left.
    """
    if views > iterative_max_views(n):
        raise ValueError(f"{views} views exceed the system-matrix cap of {iterative_max_views(n)} at n = {n}")
    key = (kind, int(n), int(views), float(dso), float(dsd))
    with _PROJECTORS_LOCK:  # one build at a time: two threads asking for one matrix build it once
        proj = _PROJECTORS.get(key)
        if proj is None:
            proj = make_projector(experiments.make_geometry(kind, n, views, dso=dso, dsd=dsd),
                                  n_threads=MATVEC_THREADS)
            _PROJECTORS[key] = proj
            total = sum(p.nbytes for p in _PROJECTORS.values())
            while total > PROJECTOR_CACHE_BYTES and len(_PROJECTORS) > 1:
                # least recently used first, but the default size's matrices (most students', ~45 MB for the
                # strip at 128²) go last: one student at 256² must not make everyone's next move rebuild them
                victim = next((k for k in _PROJECTORS if k[1] != DEFAULT.n and k != key),
                              next(k for k in _PROJECTORS if k != key))
                total -= _PROJECTORS.pop(victim).nbytes
        _PROJECTORS.move_to_end(key)
        return proj


def warm_projectors(configs: tuple[CTConfig, ...] = (DEFAULT,)) -> int:
    """Build the system matrices the page's strip and comparison use at ``configs`` (default: the page's defaults:
    20, 30 and 40 views at 128², ~0.2 s of CPU) and return how many this process holds. For a worker process at
    start: otherwise the first student move after a server start pays for them (the defaults themselves come from the
    precomputed store, which needs no matrix)."""
    for cfg in configs:
        c = cfg.clamped()
        for k in (*c.strip_keys(), *c.compare_keys()):
            if k.method != "fbp":
                _projector_of(k)
    return len(_PROJECTORS)


def _projector_of(cfg: CTConfig) -> Projector:
    return projector(cfg.kind, cfg.n, cfg.views, cfg.dso, cfg.dsd)


#: scans one process keeps (every reconstruction of a page state measures the same scan: the strip's TV and
#: FBP at 40 views, the comparison's SART and the sinogram; the CT slice's honest data take 0.1-0.25 s at 128²)
SCAN_CACHE_SIZE = 24
_SCANS = _Kept(SCAN_CACHE_SIZE)


def scan(cfg: CTConfig) -> Scan:
    """The simulated measurement of ``cfg.scan_key()``: honest line integrals (or ``A x`` with the crime),
    Poisson noise when ``i0 > 0`` (the noise depends on the seed and the view count).

    Computed once per process and key (a few dozen kept, least recently used first out); its arrays are read-only.
    """
    return _SCANS.get(cfg.scan_key(), _measure_frozen)


def _measure_frozen(k: CTConfig) -> Scan:
    sc = _measure(k)
    for a in (sc.truth, sc.data, sc.clean):
        if isinstance(a, np.ndarray):
            a.setflags(write=False)
    return sc


def _measure(k: CTConfig) -> Scan:
    """The measurement of a scan key. A noisy scan adds its noise to the (cached) noise-free scan of the same
    phantom and geometry: a move of the dose slider draws new noise only (the same numbers as measuring again)."""
    g = experiments.make_geometry(k.kind, k.n, k.views, dso=k.dso, dsd=k.dsd)
    rng = seeding.stream(k.seed, 1, k.views)
    if k.i0 > 0:
        clean = scan(replace(k, i0=0.0, seed=truth_key(k).seed))
        return experiments.simulate_scan(phantom_of(k), g, i0=k.i0, inverse_crime=k.crime, rng=rng, noise_free=clean)
    proj = _projector_of(k) if k.crime else None
    return experiments.simulate_scan(phantom_of(k), g, inverse_crime=k.crime, projector=proj, rng=rng,
                                     truth=_truth(k))


@dataclass(frozen=True)
class Sinogram:
    """The measured data of one scan: ``data`` (views x bins), detector positions, view angles in degrees."""

    data: np.ndarray
    detector: np.ndarray
    angles_deg: np.ndarray


def sinogram(cfg: CTConfig) -> Sinogram:
    """The sinogram the page draws (key: :meth:`CTConfig.scan_key`)."""
    sc = scan(cfg)
    return Sinogram(sc.data, np.asarray(sc.geometry.det_positions), np.degrees(sc.geometry.angles))


def reconstruction(cfg: CTConfig, start: Reconstruction | None = None) -> Reconstruction:
    """One scored reconstruction for a key from :meth:`CTConfig.recon` (method, views, iterations inside).

    TV-PDHG runs at most ``cfg.n_iter`` iterations: it stops at its stated tolerance (relative change of the
    image at most ``tv.TOL``; ``tv_pdhg(stop_at_tol=True)``). In the lecture's states at 128² that is after 56-97
    iterations; the strip's PSNR then differs from 150 iterations by at most 0.1 dB for Shepp-Logan (parallel, also
    with I₀ = 10⁴), 0.26 dB for the fan beam and 0.7 dB for the CT slice (40 views: 38.9 dB instead of 39.6 dB).

    ``start``: the cached reconstruction of a key from :func:`warm_from` (the same key with fewer iterations).
    A TV run that stopped at its tolerance *is* the result for every larger iteration count (the run from
    scratch stops at the same iteration); otherwise TV-PDHG and SART continue it instead of starting over, and
    the result equals the one from scratch (``experiments.reconstruct(resume=...)``). A ``start`` that cannot be
    continued is ignored.
    """
    n_iter = max(1, cfg.n_iter)
    if (cfg.method == "tv" and start is not None and start.method == "tv" and start.message == tv_module.CONVERGED
            and start.nit < n_iter):
        return _keep_scored(cfg, start)
    sc = scan(cfg)
    proj = None if cfg.method == "fbp" else _projector_of(cfg)
    resume = start if experiments.resumable(start, cfg.method, n_iter) else None
    return _keep_scored(cfg, experiments.reconstruct(sc, cfg.method, projector=proj, filter_name=cfg.filter_name,
                                                     lam=cfg.lam, n_iter=n_iter, eps_frac=cfg.eps_pct / 100.0,
                                                     resume=resume, stop_at_tol=cfg.method == "tv"))


#: reconstructions this process computed, kept for the composite results (:func:`sweep`, :func:`views_family`)
#: without their solver state and snapshots (an image and its scores: 64 kB at 128²). The sweep and the view-count
#: family ask for the same TV and FBP keys at 10, 20, 30, 40, 60, 90, 120 and 180 views (~3 s of CPU at 128²), and
#: the strip's TV at 20, 30, 40 views and the comparison's SART are the sweep's: a worker process that computed one
#: of them serves the others' from here. The numbers are the same either way (one key, one result).
SCORED_CACHE_SIZE = 64
_SCORED = _Kept(SCORED_CACHE_SIZE)


def _keep_scored(cfg: CTConfig, rec: Reconstruction) -> Reconstruction:
    _SCORED.put(cfg, replace(rec, snapshots=(), state=None))
    return rec


def _scored(cfg: CTConfig) -> Reconstruction:
    """:func:`reconstruction` of ``cfg`` as the composite results use it (image, scores, iterations, traces; no
    solver state or snapshots), from this process's kept ones when it has it."""
    return _SCORED.get(cfg, lambda k: replace(reconstruction(k), snapshots=(), state=None))


def warm_from(cfg: CTConfig) -> list[CTConfig]:
    """Keys whose result :func:`reconstruction` can continue to ``cfg``: the same key with fewer iterations
    (TV-PDHG and SART only), nearest first — every multiple of 10 below (the page's iteration step) and the
    default. ``cached.result`` takes the first one it holds; the result does not depend on which one it was.

    Never a key at another λ. A λ warm start (a solution's full PDHG state, the TV dual projected onto the new
    λ-ball) was measured on 2026-12-06 and left out: it reaches the same minimiser, but stopped at the same
    tolerance (``tv.TOL``) it lands elsewhere than the run from zero — at 128², Shepp-Logan, 20/30/40 views, from
    the default λ the PSNR differed by up to 1.44 dB (λ = 0, where the minimiser is not unique), 0.60 dB
    (λ = 2·10⁻⁴), 0.14 dB (λ = 2·10⁻³), and at λ ≥ 0.02 both runs hit the iteration cap (nothing saved). The page's
    numbers would then depend on which results happened to be cached.
    """
    if cfg.method not in ("tv", "sart") or cfg.n_iter <= 1:
        return []
    counts = {k for k in range(10, cfg.n_iter, 10)} | {DEFAULT.n_iter, SART_MAX_PASSES}
    return [replace(cfg, n_iter=k) for k in sorted(counts, reverse=True) if 1 <= k < cfg.n_iter]


reconstruction.warm_from = warm_from  # the warm-start protocol of pages/_ui/cached.py
# both may need a system matrix (iterative methods, inverse-crime data): the page layer computes them in a worker
# process, which keeps the matrices, never in the server process (pages/_ui/jobs.py: Scheduler.inline_now)
reconstruction.worker_only = sinogram.worker_only = True


@dataclass(frozen=True)
class Sweep:
    """PSNR, SSIM and RMSE against the number of views for every method (NaN beyond the matrix cap)."""

    views: tuple[int, ...]
    psnr: dict = field(default_factory=dict)  # method -> ndarray over views
    ssim: dict = field(default_factory=dict)
    rmse: dict = field(default_factory=dict)

    def scores(self) -> dict[str, dict[str, np.ndarray]]:
        return {m: {"psnr": self.psnr[m], "ssim": self.ssim[m], "rmse": self.rmse[m]} for m in self.psnr}


_SWEEP_METHODS = ("fbp", "sart", "tv", "asd_pocs")


def _sweep_key(cfg: CTConfig, method: str, views: int) -> CTConfig | None:
    """The reconstruction key of one point of :func:`sweep` (``None`` beyond the iterative matrix cap)."""
    if method != "fbp" and views > iterative_max_views(cfg.n):
        return None
    key = cfg.recon(method, views)
    return replace(key, n_iter=min(key.n_iter, SWEEP_ASD_ITERS)) if method == "asd_pocs" else key


def sweep_parts(cfg: CTConfig) -> tuple[tuple[CTConfig, ...], ...]:
    """The reconstructions :func:`sweep` scores, one group per view count (one system matrix each): computed
    group by group, a sweep never holds a worker for seconds (``pages/_ui/cached.py: composite``)."""
    groups = (tuple(k for m in _SWEEP_METHODS if (k := _sweep_key(cfg, m, v)) is not None) for v in SWEEP_VIEWS)
    return tuple(g for g in groups if g)


def sweep_of(cfg: CTConfig, get) -> Sweep:
    """:func:`sweep` from its reconstructions: ``get(key)`` returns :func:`reconstruction` of a key of
    :func:`sweep_parts` (only its scores are read)."""
    out = {k: {m: [] for m in _SWEEP_METHODS} for k in ("psnr", "ssim", "rmse")}
    for v in SWEEP_VIEWS:
        for m in _SWEEP_METHODS:
            key = _sweep_key(cfg, m, v)
            r = None if key is None else get(key)
            for k in out:
                out[k][m].append(float("nan") if r is None else float(getattr(r, k)))
    arr = {k: {m: np.array(v) for m, v in d.items()} for k, d in out.items()}
    return Sweep(views=SWEEP_VIEWS, psnr=arr["psnr"], ssim=arr["ssim"], rmse=arr["rmse"])


def sweep(cfg: CTConfig) -> Sweep:
    """FBP, SART, TV-PDHG and ASD-POCS at every view count of ``SWEEP_VIEWS`` (key: :meth:`CTConfig.sweep_key`).

    ASD-POCS runs at most ``SWEEP_ASD_ITERS`` outer iterations here (it is the slowest method). NaN beyond the
    iterative methods' matrix cap.
    """
    return sweep_of(cfg, _scored)


sweep.parts = (reconstruction, sweep_parts, sweep_of)  # the composite protocol of pages/_ui/cached.py


@dataclass(frozen=True)
class CrimeCurves:
    """TV's PSNR over λ on honest data and on inverse-crime data (same phantom, views, noise, iterations)."""

    lams: np.ndarray
    psnr_honest: np.ndarray
    psnr_crime: np.ndarray
    views: int
    n_iter: int

    @property
    def best_honest(self) -> tuple[float, float]:
        """``(λ, PSNR)`` of the best honest reconstruction on the grid."""
        i = int(np.nanargmax(self.psnr_honest))
        return float(self.lams[i]), float(self.psnr_honest[i])

    @property
    def best_crime(self) -> tuple[float, float]:
        i = int(np.nanargmax(self.psnr_crime))
        return float(self.lams[i]), float(self.psnr_crime[i])


def crime_keys(cfg: CTConfig) -> list[CTConfig]:
    """The reconstruction keys of :func:`crime_curves` (call on its key): TV at every λ of ``CRIME_LAMS``, honest then
    inverse-crime data for each λ."""
    return [replace(cfg, crime=flag, lam=float(lam), method="tv") for lam in CRIME_LAMS for flag in (False, True)]


def crime_curves(cfg: CTConfig) -> CrimeCurves:
    """TV-PDHG over the λ grid ``CRIME_LAMS`` with and without the inverse crime (key: :meth:`CTConfig.crime_key`).

    Each PSNR is that of ``reconstruction(key)`` for its key of :func:`crime_keys` (at most ``cfg.n_iter``
    iterations, stopped at the stated tolerance). The 16 runs share one system matrix, so they run side by side
    (:func:`regopt_core.ct.tv.tv_pdhg_many`: one pass over the matrix per product for all of them, the same numbers
    as one run after the other at ~half the CPU).
    """
    keys = crime_keys(cfg)
    scans = [scan(k) for k in keys]
    proj = _projector_of(keys[0])
    if any(sc.geometry != proj.geometry for sc in scans):
        raise ValueError("the crime curves' scans must share one geometry")
    runs = tv_module.tv_pdhg_many([sc.data for sc in scans], proj, lams=[k.lam for k in keys],
                                  n_iter=max(1, cfg.n_iter), stop_at_tol=True)
    psnr = [experiments.score(r.x, sc.truth)[0] for r, sc in zip(runs, scans, strict=True)]
    return CrimeCurves(lams=np.array(CRIME_LAMS), psnr_honest=np.array(psnr[0::2]), psnr_crime=np.array(psnr[1::2]),
                       views=cfg.views, n_iter=cfg.n_iter)


#: view counts of the in-figure slider (a precomputed family: dragging redraws in the browser, no rerun)
FAMILY_VIEWS = (8, 10, 15, 20, 30, 40, 60, 90, 120, 180)
#: the family's images are sent at most this many pixels per side (payload <= 1.5 MB for 2 x 10 frames)
FAMILY_MAX_SIDE = 128


@dataclass(frozen=True)
class ViewsFamily:
    """TV and FBP/FDK images at every view count of ``views`` (float32, at most ``FAMILY_MAX_SIDE`` per side)."""

    views: tuple[int, ...]
    tv: np.ndarray  # (k, m, m)
    fbp: np.ndarray
    tv_psnr: np.ndarray
    fbp_psnr: np.ndarray


def family_key(cfg: CTConfig) -> CTConfig:
    """The key of :func:`views_family`: the sweep's key (views, solver, filter do not enter)."""
    return cfg.sweep_key()


def _shrink(x: np.ndarray) -> np.ndarray:
    k = max(1, x.shape[0] // FAMILY_MAX_SIDE)
    m = x.shape[0] // k
    return x[: m * k, : m * k].reshape(m, k, m, k).mean(axis=(1, 3)).astype(np.float32)


def _family_views(cfg: CTConfig) -> tuple[int, ...]:
    return tuple(v for v in FAMILY_VIEWS if v <= iterative_max_views(cfg.n))


def family_parts(cfg: CTConfig) -> tuple[tuple[CTConfig, ...], ...]:
    """The reconstructions of :func:`views_family`: TV and FBP/FDK, one group per view count."""
    return tuple((cfg.recon("tv", v), cfg.recon("fbp", v)) for v in _family_views(cfg))


def views_family_of(cfg: CTConfig, get) -> ViewsFamily:
    """:func:`views_family` from its reconstructions: ``get(key)`` returns :func:`reconstruction` of a key of
    :func:`family_parts`."""
    parts = family_parts(cfg)
    tv_r = [get(tv_key) for tv_key, _ in parts]
    fb_r = [get(fbp_key) for _, fbp_key in parts]
    return ViewsFamily(views=_family_views(cfg), tv=np.stack([_shrink(r.x) for r in tv_r]),
                       fbp=np.stack([_shrink(r.x) for r in fb_r]),
                       tv_psnr=np.array([r.psnr for r in tv_r]), fbp_psnr=np.array([r.psnr for r in fb_r]))


def views_family(cfg: CTConfig) -> ViewsFamily:
    """TV-PDHG and FBP/FDK at every view count of ``FAMILY_VIEWS`` within the iterative cap (key: :func:`family_key`).

    PSNRs are of the full-size images; the images are block-averaged to at most ``FAMILY_MAX_SIDE`` per side.
    """
    return views_family_of(cfg, _scored)


views_family.parts = (reconstruction, family_parts, views_family_of)  # the composite protocol of pages/_ui/cached.py


# ------------------------------------------------------------------------------------------ warm-up
#: the page's deep links and lecture states (registry / tour), as configs
LECTURE_STATES = (
    DEFAULT,
    replace(DEFAULT, views=20),
    replace(DEFAULT, kind="fan"),
    replace(DEFAULT, i0=1e4, lam=1e-3),
    replace(DEFAULT, phantom="smooth"),
    replace(DEFAULT, phantom="ct_slice"),
)


def page_pairs(cfg: CTConfig, *, sweep_too: bool = True) -> list[tuple]:
    """``(function, key)`` pairs of everything the page shows at ``cfg`` (strip, comparison, sinogram, sweep)."""
    c = cfg.clamped()
    pairs: list[tuple] = [(phantom_image, truth_key(c)), (sinogram, c.scan_key())]
    pairs += [(reconstruction, k) for k in (*c.strip_keys(), *c.compare_keys())]
    if sweep_too:
        pairs.append((sweep, c.sweep_key()))
    return pairs


def warm_pairs() -> list[tuple]:
    """The page's defaults, its deep links and the default inverse-crime curves (pinned at server start)."""
    out: list[tuple] = []
    for i, cfg in enumerate(LECTURE_STATES):
        for p in page_pairs(cfg, sweep_too=i == 0):
            if p not in out:
                out.append(p)
    out.append((crime_curves, DEFAULT.clamped().crime_key()))
    out.append((crime_curves, replace(DEFAULT, phantom="ct_slice").clamped().crime_key()))
    out.append((views_family, family_key(DEFAULT.clamped())))
    return out


def precompute_pairs() -> list[tuple]:
    """What ``deploy.precompute`` stores beyond :func:`warm_pairs`: the strip and the comparison for every phantom x
    geometry at the default dose and one low dose (I₀ = 10⁴, λ = 10⁻³), at 128² and 256²; the quality-vs-views sweep at 128² for
    every phantom x geometry at the default dose and for Shepp-Logan at the low dose (a sweep costs ~25 s of CPU
    at 128² and over a minute at 256²: all 32 would take the build far past ten minutes on two cores; the
    others stay on their button)."""
    out = list(warm_pairs())
    for n in (128, 256):
        for ph in PHANTOMS:
            for kind in KINDS:
                for i0 in (0.0, 1e4):
                    c = replace(DEFAULT, n=n, phantom=ph, kind=kind, i0=i0, lam=1e-3 if i0 else DEFAULT.lam).clamped()
                    extra = [(sweep, c.sweep_key())] if n == 128 and (i0 == 0 or ph == "shepp_logan") else []
                    recon_keys = c.strip_keys() + c.compare_keys()[1:2]  # + SART (the comparison's others are the strip's)
                    for p in [(reconstruction, k) for k in recon_keys] + extra:
                        if p not in out:
                            out.append(p)
    return out

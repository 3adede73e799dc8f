"""Drivers behind the CT page: simulate a scan, reconstruct it with any method, score it.

Everything here is plain numerics (no streamlit); the page's cache wrappers call these with
primitive arguments and keep the heavy objects (projectors) in a read-only resource cache.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from regopt_core.ct.fbp import Backprojector, fbp
from regopt_core.ct.geometry import FanGeometry, ParallelGeometry, fan_geometry, parallel_geometry
from regopt_core.ct.noise import poisson_line_integrals
from regopt_core.ct.phantoms import Phantom
from regopt_core.ct.projectors import Projector
from regopt_core.ct.sart import sart
from regopt_core.ct.tv import asd_pocs, tv_pdhg
from regopt_core.iteration import Callback, Convergence, Intermediate, notify
from regopt_core.metrics import psnr, rmse, ssim

__all__ = [
    "iterations_within",
    "METHODS",
    "Reconstruction",
    "Scan",
    "make_geometry",
    "reconstruct",
    "score",
    "simulate_scan",
]

METHODS = ("fbp", "sart", "tv", "asd_pocs")
#: iterations whose image a reconstruction keeps in ``snapshots`` (fixed, so a resumed run keeps the same ones)
SNAPSHOT_ITERS = (1, 10, 30, 100, 300)
_MAX_ITER_MESSAGE = "maximum number of iterations reached"


def make_geometry(
    kind: str, n: int, n_views: int, *, dso: float = 3.0, dsd: float = 6.0
) -> ParallelGeometry | FanGeometry:
    """Geometry by name (``"parallel"`` or ``"fan"``); sizes outside the supported range raise ``ValueError``."""
    if kind == "fan":
        return fan_geometry(n, n_views, dso=dso, dsd=dsd)
    if kind == "parallel":
        return parallel_geometry(n, n_views)
    raise ValueError(f"unknown geometry {kind!r}")


@dataclass(frozen=True)
class Scan:
    """A simulated acquisition.

    Attributes
    ----------
    truth : ndarray (n, n)
        Pixel-averaged phantom (the reference of every score).
    data : ndarray (n_views, n_det)
        Measured line integrals (noisy when ``i0`` is set).
    clean : ndarray (n_views, n_det)
        Noise-free line integrals.
    geometry : ParallelGeometry or FanGeometry
    i0 : float or None
        Incident photons per bin (None = noise-free).
    inverse_crime : bool
        True if ``clean`` came from the reconstruction projector itself.
    """

    truth: np.ndarray
    data: np.ndarray
    clean: np.ndarray
    geometry: ParallelGeometry | FanGeometry
    i0: float | None
    inverse_crime: bool


def simulate_scan(
    phantom: Phantom,
    geometry: ParallelGeometry | FanGeometry,
    *,
    i0: float | None = None,
    inverse_crime: bool = False,
    projector: Projector | None = None,
    rng: np.random.Generator,
    truth: np.ndarray | None = None,
    noise_free: Scan | None = None,
) -> Scan:
    """Measure ``phantom`` in ``geometry``.

    By default the noise-free data are the phantom's exact line integrals (averaged over the
    width of each detector bin), never the discrete projector used to reconstruct. With
    ``inverse_crime=True`` they are :math:`A x_{true}` from ``projector`` instead — the shortcut
    that makes iterative reconstructions look better than they are.

    ``truth``: ``phantom.image(geometry.n)`` when the caller has it already (it does not depend on the views).
    ``noise_free``: this very measurement without noise (``simulate_scan(phantom, geometry, i0=None,
    inverse_crime=inverse_crime, ...)``), when the caller has it already: its truth and clean data are reused and
    only the noise is drawn — the same numbers as measuring again (the noise is the only use of ``rng``).
    """
    if noise_free is not None:
        if noise_free.geometry != geometry or noise_free.inverse_crime != bool(inverse_crime):
            raise ValueError("noise_free must be the noise-free measurement of the same geometry and data model")
        truth, clean = noise_free.truth, noise_free.clean
    else:
        truth = phantom.image(geometry.n) if truth is None else truth
        if truth.shape != (geometry.n, geometry.n):
            raise ValueError(f"truth of shape {truth.shape} does not fit an {geometry.n}x{geometry.n} grid")
        if inverse_crime:
            if projector is None or projector.geometry != geometry:
                raise ValueError("inverse_crime needs the projector of this geometry")
            clean = projector.forward(truth).astype(np.float64)
        else:
            clean = phantom.sinogram(geometry)
    data = poisson_line_integrals(clean, i0=i0, rng=rng)
    return Scan(truth=truth, data=data, clean=clean, geometry=geometry, i0=i0, inverse_crime=inverse_crime)


def score(image: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    """``(psnr_db, ssim, rmse)`` of ``image`` against ``truth`` (data range = truth's range)."""
    r = float(truth.max() - truth.min()) or 1.0
    return psnr(image, truth, data_range=r), ssim(image, truth, data_range=r), rmse(image, truth)


@dataclass(frozen=True)
class Reconstruction:
    """One reconstruction with its scores and (for iterative methods) its history.

    ``psnr_trace``, ``objective`` and ``residual`` have one entry per iteration (empty for FBP);
    ``snapshots`` holds ``(iteration, image)`` pairs of intermediate images; ``convergence`` says
    whether the solver met its stated tolerance (None for FBP, which is closed form); ``fun`` is the
    solver's final objective (TV-PDHG: ½‖Ax−b‖² + λ·TV(x) of ``x``; ASD-POCS: TV(x); SART: ‖Ax−b‖).
    """

    method: str
    x: np.ndarray
    psnr: float
    ssim: float
    rmse: float
    nit: int
    message: str
    psnr_trace: np.ndarray = field(default_factory=lambda: np.zeros(0))
    objective: np.ndarray = field(default_factory=lambda: np.zeros(0))
    residual: np.ndarray = field(default_factory=lambda: np.zeros(0))
    snapshots: tuple = ()
    convergence: Convergence | None = None
    fun: float = float("nan")
    #: the solver's state after ``nit`` iterations (TV-PDHG: :class:`~regopt_core.ct.tv.PDHGState`), to resume it
    state: object = None


def reconstruct(
    scan: Scan,
    method: str,
    *,
    projector: Projector | None = None,
    backprojector: Backprojector | None = None,
    filter_name: str = "ram-lak",
    lam: float = 5e-4,
    n_iter: int = 200,
    eps_frac: float = 0.015,
    snapshot_at: tuple[int, ...] = SNAPSHOT_ITERS,
    x0: np.ndarray | None = None,
    resume: Reconstruction | None = None,
    stop_at_tol: bool = False,
    callback: Callback | None = None,
) -> Reconstruction:
    """Reconstruct ``scan`` with ``method`` in ``METHODS`` and score it against the truth.

    ``lam`` and ``n_iter`` drive TV-PDHG; ``n_iter`` is the number of passes for SART and of outer
    iterations for ASD-POCS (each solver raises ``ValueError`` beyond its own maximum; nothing is
    clipped here); ``eps_frac`` sets ASD-POCS's tolerance
    :math:`\\varepsilon = \\text{eps\\_frac}\\cdot\\|b\\|_2`. ``x0`` warm-starts TV-PDHG.
    ``snapshot_at``: iterations whose image is kept in ``snapshots`` (fixed numbers, so a resumed run keeps the
    same ones). ``callback(Intermediate)`` is called after every iteration (the one signature of
    :mod:`regopt_core.iteration`); it may raise ``StopIteration``.

    ``resume``: an earlier reconstruction of the same scan with the same method and settings but fewer
    iterations (``resume.nit < n_iter``, see :func:`resumable`). TV-PDHG continues from its full solver state
    (primal, dual and extrapolated iterates), SART from its image (its only state); the traces are continued,
    so the result equals a run of ``n_iter`` iterations from scratch. ASD-POCS cannot be resumed (ValueError).
    ``stop_at_tol``: TV-PDHG stops at its stated tolerance (``tv_pdhg(stop_at_tol=True)``); ``n_iter`` is then
    the most iterations.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {METHODS}")
    truth = scan.truth
    if method == "fbp":
        x = fbp(scan.data, scan.geometry, filter_name=filter_name, backprojector=backprojector)
        p, s, r = score(x, truth)
        return Reconstruction("fbp", x, p, s, r, 0, "closed form")
    if projector is None or projector.geometry != scan.geometry:
        raise ValueError("iterative methods need the projector of the scan's geometry")
    n_total = int(n_iter)
    if n_total != n_iter or n_total < 1:
        raise ValueError(f"n_iter must be a positive integer, got {n_iter}")
    marks = {int(k) for k in snapshot_at if 1 <= int(k) <= n_total}
    trace: list[float] = []
    snaps: list[tuple[int, np.ndarray]] = []
    done = 0
    if resume is not None:
        if not resumable(resume, method, n_total):
            raise ValueError(f"cannot resume {method} for {n_total} iterations from {resume.method} after {resume.nit}")
        if x0 is not None:
            raise ValueError("give x0 or resume, not both")
        done = resume.nit
        trace = [float(v) for v in resume.psnr_trace]
        snaps = [(k, im) for k, im in resume.snapshots if k in marks]
    data_range = float(truth.max() - truth.min()) or 1.0

    def record(it: Intermediate) -> None:
        trace.append(psnr(it.x, truth, data_range=data_range))
        if it.nit in marks:
            snaps.append((it.nit, np.array(it.x, dtype=np.float32)))
        if notify(callback, it.x, it.nit, it.max_iter, it.fun):
            raise StopIteration

    if method == "tv":
        res = tv_pdhg(scan.data, projector, lam=lam, n_iter=n_total, x0=x0, callback=record,
                      start=None if resume is None else resume.state, stop_at_tol=stop_at_tol)
        obj, resid = res.objective, res.residual
    elif method == "sart":  # SART counts its passes from 1: a resumed run passes the remaining number
        res = sart(scan.data, projector, n_iter=n_total - done, relax=1.0, callback=_shifted(record, done),
                   x0=None if resume is None else resume.x)
        res = replace(res, nit=res.nit + done)
        obj, resid = 0.5 * res.residual**2, res.residual
    else:
        eps = float(eps_frac) * float(np.linalg.norm(scan.data))
        res = asd_pocs(scan.data, projector, eps=eps, n_iter=n_total, callback=record)
        obj, resid = res.objective, res.residual
    if resume is not None:
        obj = np.concatenate([resume.objective, obj])
        resid = np.concatenate([resume.residual, resid])
    p, s, r = score(res.x, truth)
    return Reconstruction(
        method,
        res.x,
        p,
        s,
        r,
        res.nit,
        res.message,
        psnr_trace=np.array(trace),
        objective=np.asarray(obj),
        residual=np.asarray(resid),
        snapshots=tuple(snaps),
        convergence=replace(res.convergence, nit=res.nit),
        fun=float(res.fun),
        state=getattr(res, "state", None),
    )


def resumable(prev: Reconstruction | None, method: str, n_iter: int) -> bool:
    """Can ``prev`` be continued to ``n_iter`` iterations of ``method`` (TV-PDHG with its state, or SART)?"""
    if prev is None or prev.method != method or not 0 < prev.nit < n_iter or prev.message != _MAX_ITER_MESSAGE:
        return False
    return method == "sart" or (method == "tv" and prev.state is not None)


def _shifted(record: Callable[[Intermediate], None], done: int) -> Callable[[Intermediate], None]:
    """A callback that sees iteration numbers ``done`` higher (SART resumed after ``done`` passes)."""
    if done == 0:
        return record
    return lambda it: record(Intermediate(x=it.x, nit=it.nit + done, max_iter=it.max_iter + done, fun=it.fun))


def iterations_within(psnr_trace: np.ndarray, db: float = 0.5) -> int:
    """Iterations after which a run stays within ``db`` dB of its final PSNR (1-based; 0 for an empty trace).

    The first iteration ``k`` such that every iteration from ``k`` on is within ``db`` of the last value.
    Used by the page ("came within 0.5 dB after k iterations") and by the bench (time to 0.5 dB).
    """
    ps = np.asarray(psnr_trace, dtype=np.float64)
    if ps.size == 0:
        return 0
    far = np.nonzero(np.abs(ps - ps[-1]) > float(db))[0]
    return int(far[-1] + 2) if far.size else 1

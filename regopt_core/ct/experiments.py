"""Drivers behind the CT page: simulate a scan, reconstruct it with any method, score it.

Everything here is plain numerics (no streamlit); the page's cache wrappers call these with
primitive arguments and keep the heavy objects (projectors) in a read-only resource cache.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from regopt_core.ct.fbp import Backprojector, fbp
from regopt_core.ct.geometry import MAX_N, MAX_VIEWS, MIN_N, FanGeometry, ParallelGeometry, fan_geometry, parallel_geometry
from regopt_core.ct.noise import poisson_line_integrals
from regopt_core.ct.phantoms import Phantom
from regopt_core.ct.projectors import Projector
from regopt_core.ct.sart import MAX_SART_ITER, sart
from regopt_core.ct.tv import MAX_ASD_ITER, MAX_ITER, asd_pocs, tv_pdhg
from regopt_core.metrics import psnr, rmse, ssim

__all__ = [
    "ITERATIVE_MAX_VIEWS",
    "METHODS",
    "Reconstruction",
    "Scan",
    "make_geometry",
    "reconstruct",
    "score",
    "simulate_scan",
]

METHODS = ("fbp", "sart", "tv", "asd_pocs")
#: iterative methods need the system matrix: cap its size (rays x pixels) whatever the URL says
ITERATIVE_MAX_VIEWS = 180


def make_geometry(
    kind: str, n: int, n_views: int, *, dso: float = 3.0, dsd: float = 6.0
) -> ParallelGeometry | FanGeometry:
    """Geometry by name with sizes clipped to the supported range (``"parallel"`` or ``"fan"``)."""
    n = int(np.clip(n, MIN_N, MAX_N))
    n_views = int(np.clip(n_views, 1, MAX_VIEWS))
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
) -> Scan:
    """Measure ``phantom`` in ``geometry``.

    By default the noise-free data are the phantom's exact line integrals (averaged over the
    width of each detector bin), never the discrete projector used to reconstruct. With
    ``inverse_crime=True`` they are :math:`A x_{true}` from ``projector`` instead — the shortcut
    that makes iterative reconstructions look better than they are.
    """
    truth = phantom.image(geometry.n)
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
    ``snapshots`` holds ``(iteration, image)`` pairs of intermediate images.
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


def reconstruct(
    scan: Scan,
    method: str,
    *,
    projector: Projector | None = None,
    backprojector: Backprojector | None = None,
    filter_name: str = "ram-lak",
    lam: float = 2.0,
    n_iter: int = 200,
    eps_frac: float = 0.015,
    n_snapshots: int = 4,
    progress: Callable[[int, int, np.ndarray], None] | None = None,
) -> Reconstruction:
    """Reconstruct ``scan`` with ``method`` in ``METHODS`` and score it against the truth.

    ``lam`` and ``n_iter`` drive TV-PDHG; ``n_iter`` is the number of passes for SART and of outer
    iterations for ASD-POCS (each capped); ``eps_frac`` sets ASD-POCS's tolerance
    :math:`\\varepsilon = \\text{eps\\_frac}\\cdot\\|b\\|_2`. ``progress(k, n_total, x)`` is called
    after every iteration (for a progress bar); it may raise ``StopIteration``.
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
    cap = {"sart": MAX_SART_ITER, "tv": MAX_ITER, "asd_pocs": MAX_ASD_ITER}[method]
    n_total = int(np.clip(n_iter, 1, cap))
    marks = set(np.unique(np.linspace(1, n_total, max(1, n_snapshots)).round().astype(int)).tolist())
    trace: list[float] = []
    snaps: list[tuple[int, np.ndarray]] = []
    rng_ = float(truth.max() - truth.min()) or 1.0

    def callback(k: int, x: np.ndarray) -> None:
        trace.append(psnr(x, truth, data_range=rng_))
        if k in marks:
            snaps.append((k, np.array(x, dtype=np.float32)))
        if progress is not None:
            progress(k, n_total, x)

    if method == "tv":
        res = tv_pdhg(scan.data, projector, lam=lam, n_iter=n_total, callback=callback)
        obj, resid = res.objective, res.residual
    elif method == "sart":
        res = sart(scan.data, projector, n_iter=n_total, relax=1.0, callback=callback)
        obj, resid = 0.5 * res.residual**2, res.residual
    else:
        eps = float(eps_frac) * float(np.linalg.norm(scan.data))
        res = asd_pocs(scan.data, projector, eps=eps, n_iter=n_total, callback=callback)
        obj, resid = res.objective, res.residual
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
    )

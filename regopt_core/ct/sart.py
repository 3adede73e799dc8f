"""SART: the simultaneous algebraic reconstruction technique (Andersen & Kak 1984).

One view at a time, the image moves along the back-projected, normalised residual of that view:

.. math:: x \\leftarrow x + \\beta\\, \\frac{A_v^T\\bigl((b_v - A_v x) / A_v\\mathbf 1\\bigr)}{A_v^T \\mathbf 1}

(divisions element-wise; :math:`A_v` = rows of view :math:`v`), optionally followed by
:math:`x \\leftarrow \\max(x, 0)`. One *iteration* is a pass over all views, taken in an order
that jumps around the circle (consecutive views carry nearly the same information).
Without regularisation SART converges to a (weighted) least-squares solution, so with few views it
needs early stopping: it is the unregularised iterative baseline next to TV.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from regopt_core.ct.projectors import Projector
from regopt_core.iteration import Callback, Convergence, notify

__all__ = ["MAX_SART_ITER", "SARTPlan", "SARTResult", "sart", "sart_plan", "view_order", "view_blocks"]

MAX_SART_ITER = 100
#: stated tolerance: relative change of the image over the last pass
TOL = 1e-3


@dataclass(frozen=True)
class SARTResult:
    """SART outcome: image ``x``, final residual ``fun`` = :math:`\\|Ax-b\\|_2`, ``nit`` passes,
    ``message``, ``residual`` after each pass, and ``convergence`` (relative change of x over the
    last pass against ``TOL``). Without a prior SART is stopped early on purpose with few views,
    so "not converged" is expected there."""

    x: np.ndarray
    fun: float
    nit: int
    message: str
    residual: np.ndarray
    convergence: Convergence


def view_order(n_views: int) -> np.ndarray:
    """A permutation of the views that spreads consecutive updates around the orbit.

    Steps by the integer closest to :math:`n/\\varphi` (golden ratio) that is coprime to ``n``.
    """
    if n_views <= 2:
        return np.arange(n_views)
    step = max(1, round(n_views / 1.618033988749895))
    while np.gcd(step, n_views) != 1:
        step += 1
    return (np.arange(n_views) * step) % n_views


def view_blocks(projector: Projector) -> list[sp.csr_matrix]:
    """Zero-copy CSR views of the rows of each view of the system matrix."""
    a = projector.matrix
    n_det = projector.geometry.n_det
    out = []
    for v in range(projector.geometry.n_views):
        r0, r1 = v * n_det, (v + 1) * n_det
        s, e = a.indptr[r0], a.indptr[r1]
        out.append(
            sp.csr_matrix((a.data[s:e], a.indices[s:e], a.indptr[r0 : r1 + 1] - s), shape=(n_det, a.shape[1]))
        )
    return out


@dataclass(frozen=True)
class SARTPlan:
    """What every SART pass over one projector reuses: per view, the rows :math:`A_v` (CSR), their transpose
    :math:`A_v^T` (CSC, zero-copy), :math:`1/A_v\\mathbf 1` (0 for empty rays) and :math:`A_v^T\\mathbf 1` (``cols``;
    ``cols_safe`` is the same with :math:`\\infty` where a pixel meets no ray of the view, so that dividing by it gives
    exactly 0 there without a mask)."""

    blocks: tuple
    blocks_t: tuple
    inv_rows: tuple
    cols: tuple
    cols_safe: tuple = ()


_PLANS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_PLANS_LOCK = threading.Lock()


def sart_plan(projector: Projector) -> SARTPlan:
    """The :class:`SARTPlan` of ``projector``, built once per projector (ASD-POCS runs one SART pass per outer
    iteration; rebuilding the per-view blocks each time cost more than the pass itself)."""
    with _PLANS_LOCK:
        plan = _PLANS.get(projector)
    if plan is not None:
        return plan
    blocks = tuple(view_blocks(projector))
    blocks_t = tuple(blk.T for blk in blocks)
    inv_rows = tuple(np.where(r > 0, 1.0 / np.maximum(r, 1e-12), 0.0).astype(np.float32)
                     for r in (np.asarray(blk.sum(axis=1)).ravel() for blk in blocks))
    cols = tuple(bt @ np.ones(bt.shape[1], np.float32) for bt in blocks_t)
    cols_safe = tuple(np.where(c > 0, c, np.float32(np.inf)).astype(np.float32) for c in cols)
    plan = SARTPlan(blocks, blocks_t, inv_rows, cols, cols_safe)
    with _PLANS_LOCK:
        _PLANS[projector] = plan
    return plan


def sart(
    sinogram: np.ndarray,
    projector: Projector,
    *,
    n_iter: int = 5,
    relax: float = 0.5,
    nonneg: bool = True,
    x0: np.ndarray | None = None,
    callback: Callback | None = None,
    tol: float = TOL,
) -> SARTResult:
    """SART reconstruction (Andersen & Kak 1984, eq. 9), one view per update.

    Parameters
    ----------
    sinogram : ndarray (n_views, n_det)
    projector : Projector
    n_iter : int
        Passes over all views, an integer in ``[1, MAX_SART_ITER]`` (``ValueError`` otherwise).
    relax : float
        Relaxation :math:`\\beta \\in (0, 2)`.
    nonneg : bool
        Clip to :math:`x \\ge 0` after every view.
    x0 : ndarray, optional
        Starting image (default zeros).
    callback : callable, optional
        ``callback(Intermediate)`` after every pass (:mod:`regopt_core.iteration`); may raise ``StopIteration``.
    tol : float
        Tolerance of the reported convergence (relative change of x over one pass).
    """
    b = np.asarray(sinogram, dtype=np.float32)
    if b.shape != projector.sino_shape:
        raise ValueError(f"sinogram shape {b.shape} does not match projector {projector.sino_shape}")
    relax = float(relax)
    if not 0.0 < relax < 2.0:
        raise ValueError(f"relax must be in (0, 2), got {relax}")
    if int(n_iter) != n_iter or not 1 <= int(n_iter) <= MAX_SART_ITER:
        raise ValueError(f"n_iter must be an integer in [1, {MAX_SART_ITER}], got {n_iter}")
    n_iter = int(n_iter)
    n = projector.n
    plan = sart_plan(projector)
    x = np.zeros(n * n, np.float32) if x0 is None else np.array(x0, dtype=np.float32).reshape(-1)
    order = view_order(projector.geometry.n_views)
    residual = []
    message = "maximum number of iterations reached"
    k = 0
    change = float("inf")
    beta = np.float32(relax)
    for k in range(1, n_iter + 1):
        x_start = x.copy()
        for v in order:
            r = (b[v] - plan.blocks[v] @ x) * plan.inv_rows[v]
            upd = plan.blocks_t[v] @ r
            np.divide(upd, plan.cols_safe[v], out=upd)  # exactly 0 where no ray of the view meets the pixel
            upd *= beta
            x += upd
            if nonneg:
                np.maximum(x, 0.0, out=x)
        residual.append(float(np.linalg.norm(projector.forward(x) - b)))
        nx = float(np.linalg.norm(x))
        dx = float(np.linalg.norm(x - x_start))
        change = dx / nx if nx > 0 else (0.0 if dx == 0 else float("inf"))
        if notify(callback, x.reshape(n, n), k, n_iter, residual[-1]):
            message = "stopped by callback"
            break
    conv = Convergence(converged=bool(change <= tol), criterion="relative change of x", value=float(change),
                       tol=float(tol), nit=k)
    return SARTResult(x=x.reshape(n, n), fun=residual[-1], nit=k, message=message, residual=np.array(residual),
                      convergence=conv)

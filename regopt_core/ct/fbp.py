"""Filtered back-projection: parallel-beam FBP and fan-beam FDK (its 2-D mid-plane case).

Parallel beam (Kak & Slaney 1988, eq. 3.43 discretised):

.. math:: f(x, y) \\approx \\frac{\\pi}{N_\\theta}\\sum_{k} Q_{\\theta_k}(x\\cos\\theta_k + y\\sin\\theta_k),
          \\qquad Q_\\theta = \\text{ramp} * p_\\theta .

Fan beam with a flat detector — the FDK algorithm (Feldkamp, Davis & Kress 1984) restricted to
the mid-plane, where it *is* exact fan-beam FBP (Kak & Slaney, sec. 3.4.2): with detector
coordinates :math:`s` rescaled to a virtual detector through the isocentre,

1. cosine pre-weighting :math:`R'_\\beta(s) = R_\\beta(s)\\, D/\\sqrt{D^2 + s^2}` (:math:`D` = dso),
2. ramp filtering :math:`Q_\\beta = \\tfrac12\\,\\text{ramp} * R'_\\beta` (the ½: every line is measured twice over 360°),
3. distance-weighted back-projection
   :math:`f(x) \\approx \\Delta\\beta\\sum_k U_k(x)^{-2}\\, Q_{\\beta_k}(s'_k(x))`,
   :math:`U = (D - x\\cdot e_s)/D`, :math:`s' = D\\,(x\\cdot e_u)/(D - x\\cdot e_s)`.

Back-projection is pixel-driven with linear interpolation on the detector. It can run matrix-free
(:func:`fbp`) or through a cached sparse back-projection matrix (:func:`backprojection_matrix`)
that makes a 256² / 180-view reconstruction a single sparse mat-vec.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from regopt_core.ct.filters import filter_sinogram
from regopt_core.ct.geometry import FanGeometry, ParallelGeometry, pixel_centres
from regopt_core.ct.projectors import Projector, _matvec, _row_blocks

__all__ = [
    "Backprojector",
    "backprojection_matrix",
    "fbp",
    "fbp_ray_driven",
    "make_backprojector",
    "prepare_sinogram",
    "reconstruction_circle",
]


def prepare_sinogram(
    sinogram: np.ndarray, geometry: ParallelGeometry | FanGeometry, *, filter_name: str = "ram-lak"
) -> np.ndarray:
    """Weight and ramp-filter a sinogram (steps 1-2 of FBP/FDK), float32 ``(n_views, n_det)``.

    For fan beam this includes the cosine pre-weighting and the factor ½ for 360° data.
    """
    sino = np.asarray(sinogram, dtype=np.float32)
    if sino.shape != (geometry.n_views, geometry.n_det):
        raise ValueError(f"sinogram shape {sino.shape} does not match the geometry")
    if isinstance(geometry, FanGeometry):
        s = geometry.det_positions * (geometry.dso / geometry.dsd)  # virtual detector
        weight = geometry.dso / np.sqrt(geometry.dso**2 + s**2)
        q = filter_sinogram(sino * weight.astype(np.float32), spacing=geometry.iso_spacing, window=filter_name)
        return 0.5 * q
    return filter_sinogram(sino, spacing=geometry.det_spacing, window=filter_name)


def _bp_coefficients(
    geometry: ParallelGeometry | FanGeometry, views: slice, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For views ``views`` and points ``x, y`` (flat): left bin index, fraction, weight (incl. dθ)."""
    ang = geometry.angles[views][:, None]
    c, s = np.cos(ang), np.sin(ang)
    if isinstance(geometry, FanGeometry):
        dso = geometry.dso
        depth = dso - (x * c + y * s)  # distance from the source along e_s
        along = -x * s + y * c  # component along the detector direction e_u
        pos = dso * along / depth
        weight = (dso / depth) ** 2 * (2.0 * np.pi / geometry.n_views)
        spacing = geometry.iso_spacing
    else:
        pos = x * c + y * s
        weight = np.full(pos.shape, np.pi / geometry.n_views)
        spacing = geometry.det_spacing
    u = pos / spacing + (geometry.n_det - 1) / 2.0
    left = np.floor(u)
    frac = u - left
    return left.astype(np.int64), frac, weight


def reconstruction_circle(n: int) -> np.ndarray:
    """Boolean mask of the pixels inside the inscribed circle (the "reconstruction circle")."""
    x, y = pixel_centres(n)
    return x * x + y * y <= 1.0


def _backproject(q: np.ndarray, geometry: ParallelGeometry | FanGeometry) -> np.ndarray:
    """Matrix-free pixel-driven back-projection of filtered projections ``q`` (circle only)."""
    n, n_det = geometry.n, geometry.n_det
    inside = reconstruction_circle(n).reshape(-1)
    x, y = pixel_centres(n)
    x, y = x.reshape(-1)[inside], y.reshape(-1)[inside]
    out = np.zeros(x.shape[0])
    qpad = np.concatenate([np.zeros((q.shape[0], 1)), q, np.zeros((q.shape[0], 2))], axis=1)
    block = max(1, 2_000_000 // (n * n))
    for v0 in range(0, geometry.n_views, block):
        views = slice(v0, min(geometry.n_views, v0 + block))
        left, frac, weight = _bp_coefficients(geometry, views, x, y)
        left = np.clip(left, -1, n_det) + 1  # index into the padded rows (zeros outside)
        rows = qpad[views]
        vidx = np.arange(rows.shape[0])[:, None]
        val = (1.0 - frac) * rows[vidx, left] + frac * rows[vidx, left + 1]
        out += (weight * val).sum(axis=0)
    full = np.zeros(n * n)
    full[inside] = out
    return full.reshape(n, n)


def backprojection_matrix(geometry: ParallelGeometry | FanGeometry) -> sp.csr_matrix:
    """Sparse pixel-driven back-projector :math:`B`, shape ``(n*n, n_views*n_det)``, float32 CSR.

    ``B @ Q.ravel()`` equals the matrix-free back-projection of filtered data ``Q`` (weights,
    interpolation and :math:`\\Delta\\theta` included). Two non-zeros per pixel and view; rows of
    pixels outside the reconstruction circle are empty.
    """
    n, n_det, n_views = geometry.n, geometry.n_det, geometry.n_views
    inside = reconstruction_circle(n).reshape(-1)
    x, y = pixel_centres(n)
    x, y = x.reshape(-1), y.reshape(-1)
    rows_per_block = max(1, 2_000_000 // max(1, n_views))
    indptr_parts, idx_parts, w_parts = [], [], []
    offsets = (np.arange(n_views) * n_det)[:, None]
    for p0 in range(0, n * n, rows_per_block):
        sl = slice(p0, min(n * n, p0 + rows_per_block))
        left, frac, weight = _bp_coefficients(geometry, slice(None), x[sl], y[sl])
        i0 = left
        i1 = left + 1
        ok0 = (i0 >= 0) & (i0 < n_det)
        ok1 = (i1 >= 0) & (i1 < n_det)
        w0 = weight * (1.0 - frac)
        w1 = weight * frac
        # layout (pixel, view, 2) so that entries come out row (pixel) major
        idx = np.stack([(i0 + offsets).T, (i1 + offsets).T], axis=-1).reshape(i0.shape[1], -1)
        w = np.stack([w0.T, w1.T], axis=-1).reshape(i0.shape[1], -1)
        ok = np.stack([ok0.T, ok1.T], axis=-1).reshape(i0.shape[1], -1) & (w != 0)
        ok &= inside[sl, None]
        indptr_parts.append(ok.sum(axis=1))
        idx_parts.append(idx[ok].astype(np.int32))
        w_parts.append(w[ok].astype(np.float32))
    indptr = np.concatenate([[0], np.cumsum(np.concatenate(indptr_parts))])
    return sp.csr_matrix(
        (np.concatenate(w_parts), np.concatenate(idx_parts), indptr), shape=(n * n, n_views * n_det)
    )


@dataclass(frozen=True, eq=False)
class Backprojector:
    """A cached sparse back-projector for one geometry (see :func:`backprojection_matrix`)."""

    geometry: ParallelGeometry | FanGeometry
    matrix: sp.csr_matrix
    _blocks: tuple = ()

    @property
    def nbytes(self) -> int:
        m = self.matrix
        return m.data.nbytes + m.indices.nbytes + m.indptr.nbytes

    def apply(self, filtered: np.ndarray) -> np.ndarray:
        q = np.ascontiguousarray(filtered, dtype=np.float32).reshape(-1)
        return _matvec(self._blocks, q).reshape(self.geometry.n, self.geometry.n)


def make_backprojector(geometry: ParallelGeometry | FanGeometry, *, n_threads: int = 2) -> Backprojector:
    """Build :func:`backprojection_matrix` once, read-only, split for threaded mat-vecs."""
    m = backprojection_matrix(geometry)
    for arr in (m.data, m.indices, m.indptr):
        arr.flags.writeable = False
    return Backprojector(geometry=geometry, matrix=m, _blocks=_row_blocks(m, n_threads))


def fbp(
    sinogram: np.ndarray,
    geometry: ParallelGeometry | FanGeometry,
    *,
    filter_name: str = "ram-lak",
    backprojector: Backprojector | None = None,
) -> np.ndarray:
    """Filtered back-projection (parallel) or FDK (fan beam, 2-D mid-plane) of a sinogram.

    Parameters
    ----------
    sinogram : ndarray, shape (n_views, n_det)
        Line integrals.
    geometry : ParallelGeometry or FanGeometry
    filter_name : {"ram-lak", "shepp-logan", "cosine", "hamming", "hann"}
    backprojector : Backprojector, optional
        A prebuilt sparse back-projector for ``geometry`` (fast path); matrix-free otherwise.

    Returns
    -------
    ndarray, shape (n, n), float32
        Zero outside the reconstruction circle (the inscribed circle of the image square, which
        every phantom here lies in — the same convention as ``skimage.transform.iradon``).
    """
    q = prepare_sinogram(sinogram, geometry, filter_name=filter_name)
    if backprojector is not None:
        if backprojector.geometry != geometry:
            raise ValueError("backprojector was built for a different geometry")
        return backprojector.apply(q)
    return _backproject(q, geometry).astype(np.float32)


def fbp_ray_driven(
    sinogram: np.ndarray, projector: Projector, *, filter_name: str = "ram-lak"
) -> np.ndarray:
    """A cheap FBP that back-projects with the projector's own adjoint :math:`A^T` (ray-driven).

    Per view, :math:`A^T` spreads each filtered value along its ray with total weight
    :math:`d^2/\\Delta s` per pixel (``d`` pixel size, :math:`\\Delta s` ray spacing), so
    :math:`\\tfrac{\\Delta\\theta\\,\\Delta s}{d^2} A^T Q` approximates the back-projection integral —
    this is how ASTRA's CPU FBP works. For fan beam the :math:`1/U^2` distance weight is
    only approximated (by :math:`1/U`), so use this as a warm start for iterative methods, not as
    the FDK reconstruction itself. Costs one sparse mat-vec.
    """
    g = projector.geometry
    q = prepare_sinogram(sinogram, g, filter_name=filter_name)
    d_angle = (np.pi if isinstance(g, ParallelGeometry) else 2.0 * np.pi) / g.n_views
    scale = d_angle * g.iso_spacing / g.pixel_size**2
    x = projector.adjoint(q) * np.float32(scale)
    x[~reconstruction_circle(g.n)] = 0.0
    return x

"""Acquisition geometries for 2-D CT: parallel beam over 180° and fan beam over 360°.

Conventions (used by every module in :mod:`regopt_core.ct`)
------------------------------------------------------------
* The image is ``n x n`` pixels covering the square :math:`[-1, 1]^2` (length unit = half the
  field of view), pixel size :math:`d = 2/n`. Array row ``j`` is at height
  :math:`y_j = 1 - (j + 1/2) d` (row 0 at the top), column ``i`` at :math:`x_i = -1 + (i + 1/2) d`.
* A sinogram has shape ``(n_views, n_det)``: one row per view, one column per detector bin.
* Every ray is a straight line given by a point and a unit direction; its *normal form* is
  :math:`\\{p : p \\cdot (\\cos\\theta, \\sin\\theta) = t\\}`, which the analytic phantoms use.

Parallel beam: view angle :math:`\\theta_k = k\\pi/n_{views}`, rays along
:math:`e = (-\\sin\\theta, \\cos\\theta)` at signed offsets :math:`s_m` on the detector axis
:math:`(\\cos\\theta, \\sin\\theta)`.

Fan beam (Kak & Slaney 1988, ch. 3.4.2, equispaced detector): the source circles the isocentre at
distance ``dso`` (angle :math:`\\beta_k = 2\\pi k / n_{views}`), the flat detector lies at distance
``dsd`` from the source. Detector bins are spaced so that, magnified back to the isocentre, they are
one pixel apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "MAX_N",
    "MAX_VIEWS",
    "MIN_N",
    "FanGeometry",
    "ParallelGeometry",
    "fan_geometry",
    "parallel_geometry",
    "normal_form",
    "pixel_centres",
]

MIN_N = 16
MAX_N = 256
MAX_VIEWS = 720
#: radius (in FOV half-widths) that every ray set covers: the corners of the image square
COVER_RADIUS = math.sqrt(2.0)


def _check_sizes(n: int, n_views: int) -> tuple[int, int]:
    n, n_views = int(n), int(n_views)
    if not MIN_N <= n <= MAX_N:
        raise ValueError(f"image size n must be in [{MIN_N}, {MAX_N}], got {n}")
    if not 1 <= n_views <= MAX_VIEWS:
        raise ValueError(f"n_views must be in [1, {MAX_VIEWS}], got {n_views}")
    return n, n_views


@dataclass(frozen=True)
class ParallelGeometry:
    """Parallel-beam geometry over 180°.

    Attributes
    ----------
    n : int
        Image side in pixels.
    n_views : int
        Number of equally spaced view angles in :math:`[0, \\pi)`.
    n_det : int
        Number of detector bins (enough to cover the image diagonal).
    det_spacing : float
        Bin spacing in FOV units (one pixel).
    """

    n: int
    n_views: int
    n_det: int
    det_spacing: float

    kind = "parallel"

    @property
    def pixel_size(self) -> float:
        return 2.0 / self.n

    @property
    def angles(self) -> np.ndarray:
        """View angles :math:`\\theta_k` in radians, shape ``(n_views,)``."""
        return np.arange(self.n_views) * (np.pi / self.n_views)

    @property
    def det_positions(self) -> np.ndarray:
        """Signed bin-centre offsets :math:`s_m` from the rotation axis, shape ``(n_det,)``."""
        return (np.arange(self.n_det) - (self.n_det - 1) / 2.0) * self.det_spacing

    @property
    def iso_spacing(self) -> float:
        """Detector spacing measured at the isocentre (equal to ``det_spacing`` here)."""
        return self.det_spacing

    def rays(self, views: slice | None = None, *, shift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Points on and unit directions of the rays of ``views``, each ``(n_v, n_det, 2)``.

        ``shift`` moves every ray by that fraction of a bin along the detector (sub-ray sampling).
        """
        theta = self.angles[views if views is not None else slice(None)]
        normal = np.stack([np.cos(theta), np.sin(theta)], axis=-1)
        direction = np.stack([-np.sin(theta), np.cos(theta)], axis=-1)
        s = self.det_positions + shift * self.det_spacing
        points = s[None, :, None] * normal[:, None, :]
        dirs = np.broadcast_to(direction[:, None, :], points.shape)
        return points, np.array(dirs)


@dataclass(frozen=True)
class FanGeometry:
    """Fan-beam geometry: circular source orbit over 360°, flat detector.

    Attributes
    ----------
    n, n_views, n_det : int
        Image side, number of source positions, number of detector bins.
    dso : float
        Source-to-isocentre distance (FOV half-widths; must exceed :math:`\\sqrt2`).
    dsd : float
        Source-to-detector distance (>= ``dso``).
    det_spacing : float
        Physical bin spacing on the flat detector, :math:`d \\cdot dsd/dso`.
    """

    n: int
    n_views: int
    n_det: int
    dso: float
    dsd: float
    det_spacing: float

    kind = "fan"

    @property
    def pixel_size(self) -> float:
        return 2.0 / self.n

    @property
    def angles(self) -> np.ndarray:
        """Source angles :math:`\\beta_k` in radians, shape ``(n_views,)``."""
        return np.arange(self.n_views) * (2.0 * np.pi / self.n_views)

    @property
    def det_positions(self) -> np.ndarray:
        """Bin centres :math:`u_m` on the flat detector, shape ``(n_det,)``."""
        return (np.arange(self.n_det) - (self.n_det - 1) / 2.0) * self.det_spacing

    @property
    def iso_spacing(self) -> float:
        """Bin spacing magnified back to the isocentre, :math:`\\Delta u \\cdot dso/dsd`."""
        return self.det_spacing * self.dso / self.dsd

    def rays(self, views: slice | None = None, *, shift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Source points and unit directions (source -> bin) of ``views``, each ``(n_v, n_det, 2)``.

        ``shift`` moves every bin by that fraction of a bin along the detector (sub-ray sampling).
        """
        beta = self.angles[views if views is not None else slice(None)]
        e_s = np.stack([np.cos(beta), np.sin(beta)], axis=-1)
        e_u = np.stack([-np.sin(beta), np.cos(beta)], axis=-1)
        src = self.dso * e_s
        det_centre = -(self.dsd - self.dso) * e_s
        u = self.det_positions + shift * self.det_spacing
        bins = det_centre[:, None, :] + u[None, :, None] * e_u[:, None, :]
        vec = bins - src[:, None, :]
        dirs = vec / np.linalg.norm(vec, axis=-1, keepdims=True)
        points = np.broadcast_to(src[:, None, :], dirs.shape)
        return np.array(points), dirs


def parallel_geometry(n: int, n_views: int) -> ParallelGeometry:
    """Parallel beam over 180° for an ``n x n`` image; bins one pixel apart cover the diagonal."""
    n, n_views = _check_sizes(n, n_views)
    d = 2.0 / n
    n_det = 2 * math.ceil(COVER_RADIUS / d) + 3
    return ParallelGeometry(n=n, n_views=n_views, n_det=n_det, det_spacing=d)


def fan_geometry(n: int, n_views: int, *, dso: float = 3.0, dsd: float = 6.0) -> FanGeometry:
    """Fan beam over 360° with a flat detector covering the whole image square.

    Raises
    ------
    ValueError
        If the source would enter the image (``dso <= sqrt(2)``) or ``dsd < dso``.
    """
    n, n_views = _check_sizes(n, n_views)
    dso, dsd = float(dso), float(dsd)
    if not dso > COVER_RADIUS * 1.02:
        raise ValueError(f"dso must exceed {COVER_RADIUS * 1.02:.2f} (the image corners), got {dso}")
    if not dsd >= dso:
        raise ValueError(f"dsd must be at least dso, got dsd={dsd}, dso={dso}")
    d = 2.0 / n
    du = d * dsd / dso
    half_fan = math.asin(COVER_RADIUS / dso)
    u_max = dsd * math.tan(half_fan)
    n_det = 2 * math.ceil(u_max / du) + 3
    return FanGeometry(n=n, n_views=n_views, n_det=n_det, dso=dso, dsd=dsd, det_spacing=du)


def pixel_centres(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates ``(x, y)`` as ``(n, n)`` arrays (row 0 at the top)."""
    d = 2.0 / n
    c = -1.0 + (np.arange(n) + 0.5) * d
    x, y = np.meshgrid(c, -c)
    return x, y


def normal_form(points: np.ndarray, dirs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normal form :math:`(\\theta, t)` of lines given by points and unit directions.

    The line is :math:`\\{p : p\\cdot(\\cos\\theta, \\sin\\theta) = t\\}` with normal
    :math:`(d_y, -d_x)`.
    """
    nx, ny = dirs[..., 1], -dirs[..., 0]
    theta = np.arctan2(ny, nx)
    t = points[..., 0] * nx + points[..., 1] * ny
    return theta, t

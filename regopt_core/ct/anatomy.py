"""Real anatomy as a phantom: a CT slice (or any image) as attenuation, with honest line integrals.

The bundled slice
-----------------
``pydicom`` ships a real CT image in its wheel, ``pydicom.data.get_testdata_file("CT_small.dcm")``: a
128 x 128 crop (0.661 mm pixels, 84.7 mm wide) of an axial thorax slice through a vertebra, the spinal
canal, the aorta and both lungs (GE HiSpeed CT/i, 120 kVp, contrast-enhanced; de-identified DICOM sample
from David Clunie's collection). Its stored values (128 ... 2191) become Hounsfield units with the file's
tags, :math:`\\mathrm{HU} = \\text{stored}\\cdot\\text{RescaleSlope} + \\text{RescaleIntercept}` (1 and
-1024 here), and HU become linear attenuation

.. math:: \\mu = \\mu_\\text{water}\\,(1 + \\mathrm{HU}/1000), \\quad \\text{clipped at } 0,

(the definition of the HU scale, with air at -1000 HU, i.e. :math:`\\mu_\\text{air} \\approx 0`), with
:math:`\\mu_\\text{water} = 0.2059\\ \\text{cm}^2/\\text{g} \\times 1.00\\ \\text{g/cm}^3 = 0.02059` /mm at
60 keV, the mass attenuation coefficient of liquid water in the NIST table (Hubbell & Seltzer 1996, NIST
X-ray Mass Attenuation Coefficients, Table 4), 60 keV being a typical effective energy of a 120 kVp
clinical beam.

Units and placement (the conventions of :mod:`regopt_core.ct.geometry`)
-----------------------------------------------------------------------
The analytic phantoms live on :math:`[-1, 1]^2` with lengths in FOV half-widths and densities of order 1.
A pixel image is placed centred, keeping its physical aspect ratio, scaled so that its *corners* lie at
radius ``FIT_RADIUS`` = 0.98 < 1: the whole image sits inside the circle inscribed in the reconstruction
square (placed edge-to-edge, its corners would stick out of it). Attenuation is then expressed per FOV
half-width, :math:`\\mu\\,[\\text{1/mm}] \\times L` with :math:`L` = millimetres per half-width (61.1 mm for
the bundled slice, so water is 1.26 and the line integrals are of the same size, ~0-2, as the
Shepp-Logan phantom's). Images without physical units (PNG, JPEG, non-CT DICOM) are scaled to [0, 1].

Honest data (no inverse crime)
------------------------------
A pixel image has no closed-form line integrals like the ellipses of :mod:`~regopt_core.ct.phantoms`, and
projecting it with the reconstruction's own Joseph matrix would be the inverse crime (Kaipio & Somersalo
2007). So the object is the image resampled to a *finer* grid of ``n * fine_factor(n)`` pixels (at
least 2x and 384 per side: 6x at n = 64, 3x at 128, 2x at 192 and 256), and the data are its line
integrals along the reconstruction's own detector rays, computed by a different discretisation: a ray-marching projector of the fine grid (bilinear
interpolation of the fine image sampled once per fine pixel along each ray, midpoint rule), averaged over
``n_sub`` sub-rays across each detector bin (finite bin width, as :meth:`Phantom.sinogram` does). The
scored truth is the fine image block-averaged onto the reconstruction grid. The same pathway serves any
user image (:func:`image_phantom`, :func:`upload_phantom`).

The Joseph projector of :mod:`~regopt_core.ct.projectors` on the fine grid would be the obvious choice,
but its system matrix for the fine grid is too large and too slow to build per request (measured: 4.3 s
and 38 MB for 40 views at 512^2 on this 2-core machine, 20 M non-zeros at 180 views), while the ray
marcher needs no matrix (0.35-0.5 s of CPU for 40 views at n = 128). Checked against the closed-form
sinogram of Shepp-Logan at 128^2, 40 views: ray-marched data of its 384^2 pixel image differ by 0.3 %,
the reconstruction's own projector (the inverse crime) by 1.5 % (``tests/core/test_ct_anatomy.py``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import affine_transform, map_coordinates

from regopt_core.ct.geometry import COVER_RADIUS, FanGeometry, ParallelGeometry

__all__ = [
    "CT_SLICE_LABEL",
    "CT_SLICE_SOURCE",
    "FIT_RADIUS",
    "MU_WATER_PER_MM",
    "N_CHOICES",
    "PixelPhantom",
    "SliceData",
    "ct_slice_phantom",
    "fine_factor",
    "hu_to_mu",
    "image_phantom",
    "load_ct_slice",
    "ray_march_sinogram",
    "sinogram_error",
    "stored_to_hu",
    "upload_phantom",
]

#: linear attenuation of water at 60 keV, 1/mm (NIST XCOM / Hubbell & Seltzer 1996: 0.2059 cm^2/g)
MU_WATER_PER_MM = 0.02059
MU_WATER_ENERGY_KEV = 60.0
#: radius at which the placed image's corners lie (inside the unit circle inscribed in the FOV square)
FIT_RADIUS = 0.98
#: the reconstruction grids the CT page offers
N_CHOICES = (64, 128, 192, 256)
#: side of the fine grid the data are made on, about (at least 2x the reconstruction grid)
FINE_PIXELS = 384
CT_SLICE_LABEL = "CT slice"
CT_SLICE_SOURCE = (
    "A real CT image: the 128 × 128 sample CT_small.dcm bundled with pydicom — a crop (84.7 mm wide, 0.66 mm "
    "pixels) of a contrast-enhanced axial thorax slice at 120 kVp through a vertebra and the spinal canal, with "
    "the aorta above it and the lungs on both sides. Hounsfield units from its RescaleSlope/RescaleIntercept, "
    "attenuation μ = μ_water·(1 + HU/1000) with μ_water = 0.0206 /mm (60 keV)."
)


def stored_to_hu(stored: np.ndarray, slope: float, intercept: float) -> np.ndarray:
    """Hounsfield units from DICOM stored values: ``stored * RescaleSlope + RescaleIntercept`` (float64)."""
    return np.asarray(stored, dtype=np.float64) * float(slope) + float(intercept)


def hu_to_mu(hu: np.ndarray, *, mu_water: float = MU_WATER_PER_MM) -> np.ndarray:
    """Linear attenuation :math:`\\mu = \\mu_\\text{water}(1 + \\mathrm{HU}/1000)`, clipped at 0 (1/mm by default)."""
    if not mu_water > 0:
        raise ValueError(f"mu_water must be positive, got {mu_water}")
    return np.maximum(float(mu_water) * (1.0 + np.asarray(hu, dtype=np.float64) / 1000.0), 0.0)


def fine_factor(n: int) -> int:
    """Upsampling factor of the data grid over an ``n x n`` reconstruction grid: ``max(2, 384 // n)``."""
    n = int(n)
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    return max(2, FINE_PIXELS // n)


def _half_extent(width_mm: float, height_mm: float, radius: float = FIT_RADIUS) -> tuple[float, float]:
    """Half-width and half-height (FOV units) of a ``width x height`` image whose corners lie at ``radius``."""
    diag = math.hypot(width_mm, height_mm)
    return radius * width_mm / diag, radius * height_mm / diag


@dataclass(frozen=True, eq=False)
class PixelPhantom:
    """A pixel image placed in the field of view, used wherever a :class:`~regopt_core.ct.phantoms.Phantom` is.

    It offers the two methods :func:`regopt_core.ct.experiments.simulate_scan` needs: :meth:`image` (the
    scored truth on the reconstruction grid) and :meth:`sinogram` (honest line integrals from a finer grid).

    Attributes
    ----------
    name : str
    pixels : ndarray (rows, cols)
        Attenuation per FOV half-width (or [0, 1] for images without units), row 0 at the top; read-only.
    half_width, half_height : float
        Half-extent of the placed image in FOV units (corners at radius ``FIT_RADIUS``).
    units : str
        What the values are (``"1/FOV half-width (from HU)"`` or ``"relative (0-1)"``).
    description : str
        Where the image comes from and what it shows (for the page).
    """

    name: str
    pixels: np.ndarray = field(repr=False)
    half_width: float
    half_height: float
    units: str = "relative (0-1)"
    description: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        px = np.asarray(self.pixels, dtype=np.float64)
        if px.ndim != 2 or min(px.shape) < 2:
            raise ValueError(f"pixels must be a 2-D image of at least 2 x 2, got shape {px.shape}")
        if not np.all(np.isfinite(px)):
            raise ValueError("pixels must be finite")
        if np.any(px < 0):
            raise ValueError("attenuation must be non-negative")
        if math.hypot(self.half_width, self.half_height) > 1.0 + 1e-9:
            raise ValueError("the image must lie inside the unit circle of the field of view")
        px = np.array(px)
        px.setflags(write=False)
        object.__setattr__(self, "pixels", px)

    # -------------------------------------------------------------------------------- images
    def fine_image(self, n_fine: int) -> np.ndarray:
        """The image resampled onto an ``n_fine x n_fine`` grid over :math:`[-1, 1]^2` (zero outside it).

        Its box is ``round(half_width * n_fine)`` x ... fine pixels, an even count so that it is exactly
        centred; resampling is bilinear, anti-aliased when shrinking (``skimage.transform.resize``).
        """
        from skimage.transform import resize

        n_fine = int(n_fine)
        w = max(2, 2 * round(self.half_width * n_fine / 2.0))
        h = max(2, 2 * round(self.half_height * n_fine / 2.0))
        if w > n_fine or h > n_fine:
            raise ValueError("the image does not fit the grid")
        rows, cols = self.pixels.shape
        box = resize(self.pixels, (h, w), order=1, mode="edge", preserve_range=True,
                     anti_aliasing=(h < rows or w < cols))
        out = np.zeros((n_fine, n_fine))
        r0, c0 = (n_fine - h) // 2, (n_fine - w) // 2
        out[r0:r0 + h, c0:c0 + w] = np.maximum(box, 0.0)
        return out

    def image(self, n: int) -> np.ndarray:
        """Scored truth on the ``n x n`` reconstruction grid: the fine image block-averaged (float64)."""
        n = int(n)
        k = fine_factor(n)
        return self.fine_image(n * k).reshape(n, k, n, k).mean(axis=(1, 3))

    @property
    def support_radius(self) -> float:
        """Radius outside which the image is zero (its corners)."""
        return math.hypot(self.half_width, self.half_height)

    # -------------------------------------------------------------------------------- data
    def sinogram(self, geometry: ParallelGeometry | FanGeometry, *, n_sub: int = 2) -> np.ndarray:
        """Honest line integrals for every ray of ``geometry``: the fine image, ray-marched (see module doc).

        Shape ``(n_views, n_det)``, float64; ``n_sub`` sub-rays across each bin are averaged.
        """
        k = fine_factor(geometry.n)
        fine = self.fine_image(geometry.n * k)
        return ray_march_sinogram(fine, geometry, n_sub=n_sub, radius=self.support_radius)


def ray_march_sinogram(
    fine: np.ndarray,
    geometry: ParallelGeometry | FanGeometry,
    *,
    n_sub: int = 2,
    radius: float = COVER_RADIUS,
    generic: bool = False,
) -> np.ndarray:
    """Line integrals of the bilinear interpolant of ``fine`` (any ``m x m`` grid on :math:`[-1, 1]^2`).

    Each ray of ``geometry`` (its own detector, ``geometry.rays(shift=...)``) is clipped to the disc of
    ``radius`` outside which ``fine`` is zero, and the integral is the midpoint rule with steps of about one
    fine pixel ``h = 2/m``; values by bilinear interpolation (order 1, zero outside the grid). ``n_sub``
    sub-rays per bin, at offsets ``(j + 1/2)/n_sub - 1/2`` bins, are averaged. Parallel beams sample each
    view as one affine resampling of the image (``scipy.ndimage.affine_transform``, ~3x faster); fan beams
    (or ``generic=True``) sample every ray's points (``map_coordinates``). Shape ``(n_views, n_det)``, float64.
    """
    fine = np.asarray(fine, dtype=np.float64)
    m = fine.shape[0]
    if fine.ndim != 2 or fine.shape[1] != m:
        raise ValueError(f"fine must be a square image, got shape {fine.shape}")
    n_sub = max(1, int(n_sub))
    radius = float(min(radius + 2.0 * 2.0 / m, COVER_RADIUS))  # bilinear support reaches one pixel out
    if isinstance(geometry, ParallelGeometry) and not generic:
        return _parallel_sinogram(fine, geometry, n_sub, radius)
    return _generic_sinogram(fine, geometry, n_sub, radius)


def _parallel_sinogram(fine: np.ndarray, g: ParallelGeometry, n_sub: int, radius: float) -> np.ndarray:
    m = fine.shape[0]
    hf = 2.0 / m
    n_steps = max(1, math.ceil(2.0 * radius / hf))
    dt = 2.0 * radius / n_steps
    t0 = -radius + 0.5 * dt
    ds = g.det_spacing / n_sub
    s_all = (g.det_positions[:, None] + ((np.arange(n_sub) + 0.5) / n_sub - 0.5)[None, :] * g.det_spacing).ravel()
    keep = np.flatnonzero(np.abs(s_all) <= radius)
    out = np.zeros(g.n_det * n_sub)
    sino = np.zeros((g.n_views, g.n_det))
    if keep.size == 0:
        return sino
    a0, a1 = int(keep[0]), int(keep[-1]) + 1
    s0 = s_all[a0]
    for v, theta in enumerate(g.angles):
        c, s = math.cos(theta), math.sin(theta)
        # position = s * (cos, sin) + t * (-sin, cos); row = (1 - y)/hf - 1/2, column = (x + 1)/hf - 1/2
        matrix = np.array([[-ds * s / hf, -dt * c / hf], [ds * c / hf, -dt * s / hf]])
        offset = np.array([(1.0 - (s0 * s + t0 * c)) / hf - 0.5, (s0 * c - t0 * s + 1.0) / hf - 0.5])
        samples = affine_transform(fine, matrix, offset=offset, output_shape=(a1 - a0, n_steps), order=1,
                                   mode="constant", cval=0.0, prefilter=False)
        out[:] = 0.0
        out[a0:a1] = samples.sum(axis=1) * dt
        sino[v] = out.reshape(g.n_det, n_sub).mean(axis=1)
    return sino


def _generic_sinogram(fine: np.ndarray, geometry: ParallelGeometry | FanGeometry, n_sub: int, radius: float,
                      max_block: int = 1_500_000) -> np.ndarray:
    m = fine.shape[0]
    h = 2.0 / m
    n_steps = max(1, math.ceil(2.0 * radius / h))
    n_views, n_det = geometry.n_views, geometry.n_det
    views_per_block = max(1, max_block // (n_det * n_steps))
    out = np.zeros((n_views, n_det))
    j = np.arange(n_steps, dtype=np.float64) + 0.5
    for sub in range(n_sub):
        shift = (sub + 0.5) / n_sub - 0.5
        for v0 in range(0, n_views, views_per_block):
            v1 = min(n_views, v0 + views_per_block)
            pts, dirs = geometry.rays(slice(v0, v1), shift=shift)
            pts, dirs = pts.reshape(-1, 2), dirs.reshape(-1, 2)
            pd = np.einsum("ij,ij->i", pts, dirs)
            disc = pd * pd - np.einsum("ij,ij->i", pts, pts) + radius * radius
            hit = disc > 0
            half = np.sqrt(np.where(hit, disc, 0.0))
            t0 = -pd - half
            chord = 2.0 * half
            steps = np.maximum(np.ceil(chord / h), 1.0)
            dt = chord / steps
            # continuous pixel coordinates (row, column) of the midpoints of each ray's steps inside the disc
            t = t0[:, None] + j[None, :] * dt[:, None]
            rr = (1.0 - pts[:, 1, None] - t * dirs[:, 1, None]) / h - 0.5
            cc = (pts[:, 0, None] + t * dirs[:, 0, None] + 1.0) / h - 0.5
            vals = map_coordinates(fine, np.stack([rr.ravel(), cc.ravel()]), order=1, mode="constant",
                                   cval=0.0, prefilter=False).reshape(t.shape)
            vals[j[None, :] >= steps[:, None]] = 0.0  # past the chord's end
            integral = vals.sum(axis=1) * dt * hit
            out[v0:v1] += integral.reshape(v1 - v0, n_det)
    return out / n_sub


# ------------------------------------------------------------------------------------ the bundled slice
@dataclass(frozen=True)
class SliceData:
    """The bundled CT slice as read from its DICOM file (arrays read-only).

    ``stored`` are the raw stored values, ``hu`` the Hounsfield units, ``pixel_spacing_mm`` (row, column).
    """

    stored: np.ndarray
    hu: np.ndarray
    slope: float
    intercept: float
    pixel_spacing_mm: tuple[float, float]
    path: str


@functools.lru_cache(maxsize=1)
def load_ct_slice() -> SliceData:
    """Read ``CT_small.dcm`` from pydicom's wheel (no download) and convert it to HU."""
    import pydicom
    from pydicom.data import get_testdata_file

    path = get_testdata_file("CT_small.dcm")
    if path is None:  # pragma: no cover - the file ships inside the pydicom wheel
        raise FileNotFoundError("pydicom's bundled CT_small.dcm is missing")
    ds = pydicom.dcmread(path)
    stored = np.array(ds.pixel_array)
    slope, intercept = float(ds.RescaleSlope), float(ds.RescaleIntercept)
    hu = stored_to_hu(stored, slope, intercept)
    for arr in (stored, hu):
        arr.setflags(write=False)
    spacing = tuple(float(s) for s in ds.PixelSpacing)
    return SliceData(stored=stored, hu=hu, slope=slope, intercept=intercept,
                     pixel_spacing_mm=(spacing[0], spacing[1]), path=str(path))


def _hu_phantom(hu: np.ndarray, pixel_spacing_mm: tuple[float, float], *, name: str, description: str,
                mu_water: float = MU_WATER_PER_MM) -> PixelPhantom:
    rows, cols = hu.shape
    width_mm, height_mm = cols * pixel_spacing_mm[1], rows * pixel_spacing_mm[0]
    a, b = _half_extent(width_mm, height_mm)
    mm_per_unit = (width_mm / 2.0) / a
    mu = hu_to_mu(hu, mu_water=mu_water) * mm_per_unit
    return PixelPhantom(name=name, pixels=mu, half_width=a, half_height=b,
                        units=f"1/FOV half-width (from HU; 1 half-width = {mm_per_unit:.1f} mm)",
                        description=description)


@functools.lru_cache(maxsize=1)
def ct_slice_phantom() -> PixelPhantom:
    """The bundled real CT slice as a phantom (labelled ``CT_SLICE_LABEL`` = "CT slice" on the page)."""
    s = load_ct_slice()
    return _hu_phantom(s.hu, s.pixel_spacing_mm, name="ct_slice", description=CT_SLICE_SOURCE)


def image_phantom(
    image: np.ndarray,
    *,
    hu: bool = False,
    pixel_spacing_mm: tuple[float, float] | None = None,
    name: str = "upload",
    description: str = "",
) -> PixelPhantom:
    """Any 2-D image as a phantom, placed like the bundled slice.

    With ``hu=True`` the values are Hounsfield units, converted to attenuation per FOV half-width with the
    physical size ``pixel_spacing_mm`` (row, column; 1 mm assumed when unknown). Otherwise the image is
    scaled to [0, 1] (minimum -> 0, maximum -> 1), the range of the analytic phantoms.

    Raises
    ------
    ValueError
        If ``image`` is not a finite 2-D array of at least 2 x 2 or is constant.
    """
    img = np.asarray(image, dtype=np.float64)
    if img.ndim != 2 or min(img.shape) < 2:
        raise ValueError(f"image must be 2-D and at least 2 x 2, got shape {img.shape}")
    if not np.all(np.isfinite(img)):
        raise ValueError("image has non-finite values")
    lo, hi = float(img.min()), float(img.max())
    if hi <= lo:
        raise ValueError("image is constant: nothing to reconstruct")
    if hu:
        spacing = pixel_spacing_mm or (1.0, 1.0)
        if not (spacing[0] > 0 and spacing[1] > 0):
            raise ValueError(f"pixel spacing must be positive, got {spacing}")
        return _hu_phantom(img, (float(spacing[0]), float(spacing[1])), name=name, description=description)
    rows, cols = img.shape
    sr, sc = pixel_spacing_mm or (1.0, 1.0)
    a, b = _half_extent(cols * sc, rows * sr)
    return PixelPhantom(name=name, pixels=(img - lo) / (hi - lo), half_width=a, half_height=b,
                        units="relative (0-1)", description=description)


def upload_phantom(data: bytes, filename: str) -> PixelPhantom:
    """A phantom from an uploaded file's bytes (DICOM, PNG or JPEG); deterministic in ``(data, filename)``.

    Raises :class:`regopt_core.uploads.UploadError` (a ``ValueError``) with a student-facing message.
    """
    from regopt_core.uploads import decode_upload

    dec = decode_upload(data, filename)
    return image_phantom(dec.image, hu=dec.units == "HU", pixel_spacing_mm=dec.pixel_spacing_mm,
                         name="upload", description=dec.description)


def sinogram_error(clean: np.ndarray, reference: np.ndarray) -> float:
    """Relative difference :math:`\\|a - b\\|_2 / \\|b\\|_2` of two sinograms (e.g. honest vs crime data)."""
    ref = np.asarray(reference, dtype=np.float64)
    return float(np.linalg.norm(np.asarray(clean, dtype=np.float64) - ref) / (np.linalg.norm(ref) or 1.0))

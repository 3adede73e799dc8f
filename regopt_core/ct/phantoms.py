"""Analytic phantoms: images *and* exact line integrals (so data need not come from the projector).

A phantom is a sum of uniform ellipses and isotropic Gaussian blobs. Both have closed-form line
integrals (Kak & Slaney 1988, *Principles of Computerized Tomographic Imaging*, sec. 3.2), so
measured sinograms can be computed without the discrete projector that reconstructs them — this
avoids the "inverse crime" (Kaipio & Somersalo 2007), which flatters iterative methods.

Line integral of an ellipse with density :math:`\\rho`, semi-axes :math:`a, b`, centre
:math:`(x_0, y_0)` and rotation :math:`\\varphi`, along the line with normal angle :math:`\\theta` and
offset :math:`t`:

.. math:: p(\\theta, t) = \\frac{2\\rho a b}{a^2(\\psi)}\\sqrt{a^2(\\psi) - t'^2},\\quad
          a^2(\\psi) = a^2\\cos^2\\psi + b^2\\sin^2\\psi,\\ \\psi = \\theta - \\varphi,\\
          t' = t - x_0\\cos\\theta - y_0\\sin\\theta

(zero when :math:`|t'| > a(\\psi)`). A blob :math:`A e^{-|x-c|^2/(2s^2)}` integrates to
:math:`A\\sqrt{2\\pi}\\, s\\, e^{-t'^2/(2s^2)}`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from regopt_core.ct.geometry import FanGeometry, ParallelGeometry, normal_form

__all__ = [
    "PHANTOM_NAMES",
    "Phantom",
    "disk",
    "make_phantom",
    "piecewise_constant",
    "shepp_logan",
    "smooth_blobs",
]

# Modified Shepp-Logan (Toft 1996, table B.3): density, a, b, x0, y0, phi (degrees)
_SHEPP_LOGAN = np.array(
    [
        [1.0, 0.69, 0.92, 0.0, 0.0, 0.0],
        [-0.8, 0.6624, 0.874, 0.0, -0.0184, 0.0],
        [-0.2, 0.11, 0.31, 0.22, 0.0, -18.0],
        [-0.2, 0.16, 0.41, -0.22, 0.0, 18.0],
        [0.1, 0.21, 0.25, 0.0, 0.35, 0.0],
        [0.1, 0.046, 0.046, 0.0, 0.1, 0.0],
        [0.1, 0.046, 0.046, 0.0, -0.1, 0.0],
        [0.1, 0.046, 0.023, -0.08, -0.605, 0.0],
        [0.1, 0.023, 0.023, 0.0, -0.606, 0.0],
        [0.1, 0.023, 0.046, 0.06, -0.605, 0.0],
    ]
)

PHANTOM_NAMES = ("shepp_logan", "piecewise", "smooth")


@dataclass(frozen=True)
class Phantom:
    """A sum of ellipses and Gaussian blobs on the field of view :math:`[-1, 1]^2`.

    Attributes
    ----------
    name : str
    ellipses : ndarray, shape (k, 6)
        Rows ``(rho, a, b, x0, y0, phi_degrees)``.
    blobs : ndarray, shape (m, 4)
        Rows ``(amplitude, x0, y0, sigma)``.
    """

    name: str
    ellipses: np.ndarray
    blobs: np.ndarray

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Point values at coordinates ``x, y`` (any matching shapes)."""
        out = np.zeros(np.broadcast(x, y).shape)
        for rho, a, b, x0, y0, phi in self.ellipses:
            c, s = np.cos(np.deg2rad(phi)), np.sin(np.deg2rad(phi))
            xr, yr = x - x0, y - y0
            u = (xr * c + yr * s) / a
            v = (-xr * s + yr * c) / b
            out += rho * (u * u + v * v <= 1.0)
        for amp, x0, y0, sigma in self.blobs:
            out += amp * np.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2.0 * sigma**2))
        return out

    def image(self, n: int, *, supersample: int = 4) -> np.ndarray:
        """Pixel averages on an ``n x n`` grid (each pixel sampled ``supersample``² times).

        Row 0 is the top of the image (:math:`y = 1`). Used as the ground truth of every score.
        """
        m = n * supersample
        d = 2.0 / m
        c = -1.0 + (np.arange(m) + 0.5) * d
        fine = self.evaluate(c[None, :], -c[:, None])
        return fine.reshape(n, supersample, n, supersample).mean(axis=(1, 3))

    def line_integrals_normal(self, theta: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Exact line integrals along lines in normal form (same shape as ``theta``)."""
        theta = np.asarray(theta, dtype=float)
        t = np.asarray(t, dtype=float)
        cos_t, sin_t = np.cos(theta), np.sin(theta)
        out = np.zeros(np.broadcast(theta, t).shape)
        for rho, a, b, x0, y0, phi in self.ellipses:
            psi = theta - np.deg2rad(phi)
            a2 = (a * np.cos(psi)) ** 2 + (b * np.sin(psi)) ** 2
            tp = t - x0 * cos_t - y0 * sin_t
            out += 2.0 * rho * a * b * np.sqrt(np.maximum(a2 - tp * tp, 0.0)) / a2
        for amp, x0, y0, sigma in self.blobs:
            tp = t - x0 * cos_t - y0 * sin_t
            out += amp * np.sqrt(2.0 * np.pi) * sigma * np.exp(-(tp * tp) / (2.0 * sigma**2))
        return out

    def sinogram(self, geometry: ParallelGeometry | FanGeometry, *, n_sub: int = 4) -> np.ndarray:
        """Exact line integrals for every ray of ``geometry``, averaged over ``n_sub`` sub-rays per bin.

        Averaging across the bin models a detector element of finite width. Shape
        ``(n_views, n_det)``, float64.
        """
        n_sub = max(1, int(n_sub))
        total = np.zeros((geometry.n_views, geometry.n_det))
        for k in range(n_sub):
            shift = (k + 0.5) / n_sub - 0.5
            theta, t = normal_form(*geometry.rays(shift=shift))
            total += self.line_integrals_normal(theta, t)
        return total / n_sub


def shepp_logan() -> Phantom:
    """The modified Shepp-Logan head phantom (Toft 1996), values in [0, 1]."""
    return Phantom("shepp_logan", _SHEPP_LOGAN.copy(), np.zeros((0, 4)))


def disk(radius: float = 0.8, value: float = 1.0) -> Phantom:
    """A uniform disk centred at the origin (the classic unbiasedness check for FBP)."""
    return Phantom("disk", np.array([[value, radius, radius, 0.0, 0.0, 0.0]]), np.zeros((0, 4)))


def piecewise_constant(*, rng: np.random.Generator, n_ellipses: int = 12) -> Phantom:
    """A random piecewise-constant phantom: TV's model holds exactly.

    A body ellipse of density 0.3 carrying ``n_ellipses`` random inclusions with densities in
    [0.1, 0.45] (all additive and positive, so the image is non-negative).
    """
    n_ellipses = int(np.clip(n_ellipses, 1, 40))
    body = np.array([[0.3, 0.82, 0.9, 0.0, 0.0, 0.0]])
    r = 0.55 * np.sqrt(rng.uniform(0.0, 1.0, n_ellipses))
    ang = rng.uniform(0.0, 2.0 * np.pi, n_ellipses)
    incl = np.column_stack(
        [
            rng.uniform(0.1, 0.45, n_ellipses),
            rng.uniform(0.04, 0.22, n_ellipses),
            rng.uniform(0.04, 0.22, n_ellipses),
            r * np.cos(ang),
            r * np.sin(ang),
            rng.uniform(0.0, 180.0, n_ellipses),
        ]
    )
    return Phantom("piecewise", np.vstack([body, incl]), np.zeros((0, 4)))


def smooth_blobs(*, rng: np.random.Generator, n_blobs: int = 14) -> Phantom:
    """A smooth phantom made of Gaussian blobs: no edges, so TV's piecewise-constant model fails.

    Blob amplitudes in [0.2, 0.6], widths :math:`\\sigma \\in [0.06, 0.25]`, centres within radius
    0.55. TV reconstructions of it show the staircase ("cartoon") bias.
    """
    n_blobs = int(np.clip(n_blobs, 1, 60))
    r = 0.55 * np.sqrt(rng.uniform(0.0, 1.0, n_blobs))
    ang = rng.uniform(0.0, 2.0 * np.pi, n_blobs)
    blobs = np.column_stack(
        [
            rng.uniform(0.2, 0.6, n_blobs),
            r * np.cos(ang),
            r * np.sin(ang),
            rng.uniform(0.06, 0.25, n_blobs),
        ]
    )
    return Phantom("smooth", np.zeros((0, 6)), blobs)


def make_phantom(name: str, *, rng: np.random.Generator) -> Phantom:
    """Phantom by name: ``"shepp_logan"``, ``"piecewise"`` or ``"smooth"`` (unknown -> ValueError)."""
    if name == "shepp_logan":
        return shepp_logan()
    if name == "piecewise":
        return piecewise_constant(rng=rng)
    if name == "smooth":
        return smooth_blobs(rng=rng)
    raise ValueError(f"unknown phantom {name!r}; choose one of {PHANTOM_NAMES}")

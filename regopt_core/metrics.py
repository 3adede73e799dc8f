"""Image-quality metrics: MSE, RMSE, PSNR and SSIM of a reconstruction against the truth.

.. math:: \\mathrm{MSE} = \\frac1N\\sum_j (x_j - x^\\star_j)^2,\\qquad
          \\mathrm{PSNR} = 10\\log_{10}\\frac{R^2}{\\mathrm{MSE}}\\ \\text{dB},

where :math:`R` is the data range of the reference (max - min), as in
``skimage.metrics.peak_signal_noise_ratio``. SSIM is Wang et al. (2004), "Image quality assessment:
from error visibility to structural similarity", IEEE TIP 13(4), computed by
``skimage.metrics.structural_similarity`` (7x7 uniform window) with the same data range.
"""

from __future__ import annotations

import numpy as np
from skimage.metrics import structural_similarity

__all__ = ["mse", "psnr", "rmse", "ssim"]


def _pair(image: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(image, dtype=np.float64)
    ref = np.asarray(reference, dtype=np.float64)
    if x.shape != ref.shape:
        raise ValueError(f"shapes differ: {x.shape} vs {ref.shape}")
    return x, ref


def _range(ref: np.ndarray, data_range: float | None) -> float:
    r = float(ref.max() - ref.min()) if data_range is None else float(data_range)
    if not r > 0:
        raise ValueError("data range must be positive (is the reference constant?)")
    return r


def mse(image: np.ndarray, reference: np.ndarray) -> float:
    """Mean squared error."""
    x, ref = _pair(image, reference)
    return float(np.mean((x - ref) ** 2))


def rmse(image: np.ndarray, reference: np.ndarray) -> float:
    """Root mean squared error (same units as the image)."""
    return float(np.sqrt(mse(image, reference)))


def psnr(image: np.ndarray, reference: np.ndarray, *, data_range: float | None = None) -> float:
    """Peak signal-to-noise ratio in dB; ``inf`` for a perfect match.

    ``data_range`` defaults to ``reference.max() - reference.min()``.
    """
    x, ref = _pair(image, reference)
    r = _range(ref, data_range)
    m = float(np.mean((x - ref) ** 2))
    if m == 0.0:
        return float("inf")
    return float(10.0 * np.log10(r * r / m))


def ssim(image: np.ndarray, reference: np.ndarray, *, data_range: float | None = None) -> float:
    """Structural similarity index in [-1, 1] (1 = identical), via ``skimage.metrics``."""
    x, ref = _pair(image, reference)
    return float(structural_similarity(x, ref, data_range=_range(ref, data_range)))

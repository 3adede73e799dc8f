"""Photon-counting noise: the dose / image-quality trade-off.

A detector bin behind a path with line integral :math:`p` counts
:math:`N \\sim \\mathrm{Poisson}(I_0 e^{-p})` photons (Beer-Lambert law), where :math:`I_0` is the
incident count per bin — proportional to the radiation dose. The measured line integral is the
log transform :math:`\\hat p = -\\log(N / I_0)`, whose variance is about :math:`e^{p}/I_0`: halving
the dose raises the noise variance by two. (Zero counts are replaced by ½ before the logarithm,
a common convention, so very low doses give large but finite values.)
"""

from __future__ import annotations

import numpy as np

__all__ = ["MAX_I0", "MIN_I0", "poisson_line_integrals"]

MIN_I0 = 1.0
MAX_I0 = 1e9


def poisson_line_integrals(
    sinogram: np.ndarray, *, i0: float | None, rng: np.random.Generator
) -> np.ndarray:
    """Noisy line integrals :math:`-\\log(N/I_0)`, :math:`N \\sim \\mathrm{Poisson}(I_0 e^{-p})`.

    Parameters
    ----------
    sinogram : ndarray
        Noise-free line integrals :math:`p \\ge 0`.
    i0 : float or None
        Incident photons per bin in ``[MIN_I0, MAX_I0]`` (``ValueError`` otherwise); ``None`` returns a copy of the
        noise-free data.
    rng : numpy.random.Generator
    """
    p = np.asarray(sinogram, dtype=np.float64)
    if i0 is None:
        return p.copy()
    i0 = float(i0)
    if not MIN_I0 <= i0 <= MAX_I0:  # also rejects NaN
        raise ValueError(f"i0 must be in [{MIN_I0:g}, {MAX_I0:g}] photons per bin, got {i0}")
    counts = rng.poisson(i0 * np.exp(-p)).astype(np.float64)
    counts = np.maximum(counts, 0.5)
    return -np.log(counts / i0)

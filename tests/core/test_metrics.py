"""Image metrics against closed forms and skimage's reference implementations."""

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from regopt_core.metrics import mse, psnr, rmse, ssim


def test_psnr_closed_form_for_constant_offset():
    ref = np.zeros((8, 8))
    ref[0, 0] = 2.0  # data range 2
    img = ref + 0.1
    assert mse(img, ref) == pytest.approx(0.01)
    assert rmse(img, ref) == pytest.approx(0.1)
    assert psnr(img, ref) == pytest.approx(10 * np.log10(4 / 0.01))
    assert psnr(ref, ref) == float("inf")


def test_against_skimage():
    rng = np.random.default_rng(0)
    ref = rng.uniform(0, 1, (40, 40))
    img = ref + 0.05 * rng.standard_normal(ref.shape)
    r = ref.max() - ref.min()
    assert psnr(img, ref) == pytest.approx(peak_signal_noise_ratio(ref, img, data_range=r))
    assert ssim(img, ref) == pytest.approx(structural_similarity(img, ref, data_range=r))
    assert ssim(ref, ref) == pytest.approx(1.0)
    assert psnr(img, ref, data_range=2 * r) == pytest.approx(psnr(img, ref) + 20 * np.log10(2))


def test_shape_and_range_errors():
    with pytest.raises(ValueError):
        mse(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError):
        psnr(np.ones((4, 4)), np.ones((4, 4)))

"""The CT page's config, keys and sentences: caps in one place, keys that share work, claims that follow numbers."""

from __future__ import annotations

import itertools
import re
from dataclasses import replace

import numpy as np
import pytest

from regopt_core.ct import claims, lab


def _word(sentence: str) -> str:
    return re.search(r"\*\*(inflates|lowers|barely changes)\*\*", sentence).group(1)


def _expected(d: float) -> str:
    return "inflates" if d > claims.SAME_DB else "lowers" if d < -claims.SAME_DB else "barely changes"


# ------------------------------------------------------------------------------------------ config
def test_default_is_clamped_and_hashable():
    assert lab.DEFAULT.clamped() == lab.DEFAULT
    assert len({lab.DEFAULT, lab.DEFAULT.clamped()}) == 1


def test_sart_key_ignores_the_tv_lambda_and_strip_shares_the_comparison():
    a = lab.DEFAULT.clamped()
    b = replace(a, lam=0.01).clamped()
    assert a.recon("sart") == b.recon("sart") and a.recon("fbp") == b.recon("fbp")
    assert a.recon("tv") != b.recon("tv")
    assert a.strip_keys()[-2] == a.compare_keys()[-1]  # TV at 40 views: one result for both sections
    assert a.sweep_key() == replace(a, views=20, method="asd_pocs", filter_name="hann").clamped().sweep_key()


def test_iterations_respect_the_work_cap():
    for n, v in itertools.product(lab.N_CHOICES, (1, 40, 90, 180, 720)):
        c = replace(lab.DEFAULT, n=n, views=v, n_iter=500).clamped()
        iv = c.iterative_views()
        assert iv <= lab.iterative_max_views(n)
        assert c.iterations("tv") * n * n * iv <= max(lab.WORK_CAP, 10 * n * n * iv)
        assert c.iterations("sart") <= lab.SART_MAX_PASSES and c.iterations("asd_pocs") <= lab.ASD_MAX_ITERS


# ------------------------------------------------------------------------------------------ wording
@pytest.mark.parametrize("crime_db,honest_db", [(40.0, 30.0), (30.0, 40.0), (30.1, 30.0), (29.0, 29.5), (35.0, 34.6)])
def test_crime_banner_wording_follows_the_sign(crime_db, honest_db):
    s = claims.crime_banner("TV (PDHG)", crime_db, honest_db)
    assert _word(s) == _expected(crime_db - honest_db)
    assert f"{crime_db - honest_db:+.1f} dB" in s


@pytest.fixture(scope="module")
def banner_sweep():
    """The banner as the page builds it, over λ × phantom × dose × views at 64² (reconstructions of the core)."""
    out = []
    for lam, ph, i0, views in itertools.product((1e-5, 1e-3, 1e-2), ("shepp_logan", "smooth", "ct_slice"),
                                                (0.0, 1e3), (10, 40)):
        cfg = replace(lab.DEFAULT, n=64, lam=lam, phantom=ph, i0=i0, views=views, crime=True, n_iter=60).clamped()
        crime = lab.reconstruction(cfg.recon("tv")).psnr
        honest = lab.reconstruction(replace(cfg, crime=False).recon("tv")).psnr
        out.append((crime, honest, claims.crime_banner("TV (PDHG)", crime, honest, lam=lam)))
    return out


def test_crime_banner_matches_its_numbers_over_a_settings_sweep(banner_sweep):
    words = set()
    for crime, honest, s in banner_sweep:
        nums = [float(x) for x in re.findall(r"(-?\d+\.\d) dB", s)]
        assert nums[0] == pytest.approx(crime, abs=0.05) and nums[1] == pytest.approx(honest, abs=0.05)
        assert _word(s) == _expected(crime - honest), s
        words.add(_word(s))
    assert {"inflates", "lowers"} <= words  # the sweep meets both signs: no fixed sentence could pass


def test_crime_curves_sentence_names_each_best_lambda():
    lams = np.array([1e-4, 1e-3, 1e-2])
    s = claims.crime_curves_sentence(lams, np.array([30.0, 34.0, 28.0]), np.array([45.0, 33.0, 27.0]))
    assert "Best honest λ = 0.001 (34.0 dB)" in s and "best λ on crime data = 0.0001 (45.0 dB)" in s
    assert "raises the best PSNR by 11.0 dB" in s and "moves the best λ down" in s
    assert "higher at 1, lower at 2" in s


def test_sweep_sentences_follow_the_numbers():
    views = (10, 20, 40, 90)
    psnr = {"fbp": np.array([15.0, 19.0, 24.0, 30.0]), "tv": np.array([25.0, 31.0, 33.0, 32.0]),
            "sart": np.array([20.0, 24.0, 27.0, 29.0])}
    s = claims.sweep_sentences(views, psnr, fbp_name="FBP")
    assert s[0] == "FBP's PSNR goes from 15.0 dB at 10 views to 30.0 dB at 90 (+15.0 dB): it needs dense sampling."
    assert "first comes within 1 dB of its best (33.0 dB) at 40 views" in s[1] and "beats FBP at 4 of 4" in s[1]
    assert "not monotone" in s[2] and "peaks at 40 views" in s[2]
    honest = {m: v - (2.0 if m == "sart" else -1.0) for m, v in psnr.items()}
    s = claims.sweep_sentences(views, psnr, honest_psnr=honest, labels={"sart": "SART", "tv": "TV"})
    assert "The inverse crime raises SART's curve by 2.0 dB" in s[-2]
    assert "The inverse crime lowers TV's curve by 1.0 dB" in s[-1]


def test_tv_vs_fbp_sentence():
    assert claims.tv_vs_fbp(35.0, 25.0, views=40) == "At 40 views TV beats FBP by 10.0 dB (35.0 vs 25.0 dB)."
    assert claims.tv_vs_fbp(20.0, 25.0, views=40, fbp_name="FDK").startswith("At 40 views FDK beats TV by 5.0")


@pytest.mark.parametrize("tv,fbp,word", [(30.0, 25.0, "is ahead of"), (20.0, 25.0, "trails"), (25.1, 25.0, "about the same")])
def test_half_views_sentence(tv, fbp, word):
    s = claims.half_views(tv, 20, fbp, 40)
    assert word in s and f"({tv:.1f} vs {fbp:.1f} dB)" in s

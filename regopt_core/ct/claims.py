"""Sentences the CT page states about its results, worded from the numbers they sit next to.

Every function takes numbers and returns markdown; nothing here decides *what* is computed. The tests
sweep settings and check each sentence against its numbers (``tests/core/test_ct_claims.py``).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["SAME_DB", "compare_db", "crime_banner", "crime_curves_sentence", "sweep_sentences", "tv_vs_fbp"]

#: differences below this many dB are called "about the same"
SAME_DB = 0.3


def compare_db(diff: float) -> str:
    """``"raises"`` / ``"lowers"`` / ``"barely changes"`` for a PSNR difference in dB."""
    if not math.isfinite(diff):
        return "cannot be compared with"
    if diff > SAME_DB:
        return "raises"
    if diff < -SAME_DB:
        return "lowers"
    return "barely changes"


def crime_banner(method: str, crime_db: float, honest_db: float, *, lam: float | None = None) -> str:
    """The inverse-crime banner: what the crime did to ``method``'s PSNR at the page's settings.

    Worded from the sign and size of ``crime_db - honest_db`` — never a fixed "inflates".
    """
    d = crime_db - honest_db
    at = f" at λ = {lam:g}" if lam is not None else ""
    verb = compare_db(d)
    if verb == "raises":
        what = (f"Inverse crime **inflates** {method}{at}: {crime_db:.1f} dB on data made by the reconstruction's own "
                f"projector against **{honest_db:.1f} dB** on honest data (exact line integrals), {d:+.1f} dB.")
    elif verb == "lowers":
        what = (f"Inverse crime **lowers** {method}{at} here: {crime_db:.1f} dB on data made by the reconstruction's "
                f"own projector against **{honest_db:.1f} dB** on honest data (exact line integrals), {d:+.1f} dB. "
                "Crime data do not always score higher at a fixed λ: they also move the best λ (see the curves).")
    else:
        what = (f"Inverse crime **barely changes** {method}{at}: {crime_db:.1f} dB with it against "
                f"**{honest_db:.1f} dB** on honest data ({d:+.1f} dB).")
    return what


def crime_curves_sentence(lams: np.ndarray, psnr_honest: np.ndarray, psnr_crime: np.ndarray) -> str:
    """Compare the two PSNR-vs-λ curves: best λ and best PSNR of each, and where the crime helps."""
    ih, ic = int(np.nanargmax(psnr_honest)), int(np.nanargmax(psnr_crime))
    lh, lc = float(lams[ih]), float(lams[ic])
    ph, pc = float(psnr_honest[ih]), float(psnr_crime[ic])
    d = pc - ph
    best = (f"Best honest λ = {lh:g} ({ph:.1f} dB); best λ on crime data = {lc:g} ({pc:.1f} dB): the crime "
            f"{compare_db(d)} the best PSNR by {abs(d):.1f} dB")
    if lc < lh:
        best += " and moves the best λ down (crime data need less regularization)."
    elif lc > lh:
        best += " and moves the best λ up."
    else:
        best += "; the best λ is the same."
    diff = np.asarray(psnr_crime) - np.asarray(psnr_honest)
    up = int(np.sum(diff > SAME_DB))
    down = int(np.sum(diff < -SAME_DB))
    best += (f" Over the {len(lams)} values of λ the crime scores higher at {up}, lower at {down} "
             f"and about the same at {len(lams) - up - down}.")
    return best


def tv_vs_fbp(tv_db: float, fbp_db: float, *, views: int, fbp_name: str = "FBP") -> str:
    """One sentence: does TV beat FBP/FDK at this view count, by how much."""
    d = tv_db - fbp_db
    if d > SAME_DB:
        return f"At {views} views TV beats {fbp_name} by {d:.1f} dB ({tv_db:.1f} vs {fbp_db:.1f} dB)."
    if d < -SAME_DB:
        return f"At {views} views {fbp_name} beats TV by {-d:.1f} dB ({fbp_db:.1f} vs {tv_db:.1f} dB)."
    return f"At {views} views TV and {fbp_name} score about the same ({tv_db:.1f} vs {fbp_db:.1f} dB)."


def half_views(tv_db: float, tv_views: int, fbp_db: float, fbp_views: int, *, fbp_name: str = "FBP") -> str:
    """TV from fewer views against FBP/FDK from more: ahead, behind or level, by how much."""
    d = tv_db - fbp_db
    if d > SAME_DB:
        how = f"is ahead of {fbp_name} at {fbp_views} views by {d:.1f} dB"
    elif d < -SAME_DB:
        how = f"trails {fbp_name} at {fbp_views} views by {-d:.1f} dB"
    else:
        how = f"scores about the same as {fbp_name} at {fbp_views} views"
    return f"TV from {tv_views} views {how} ({tv_db:.1f} vs {fbp_db:.1f} dB)."


def sweep_sentences(views: tuple[int, ...], psnr: dict[str, np.ndarray], *, fbp_name: str = "FBP",
                    honest_psnr: dict[str, np.ndarray] | None = None,
                    labels: dict[str, str] | None = None) -> list[str]:
    """What the quality-vs-views curves show, from their numbers.

    ``honest_psnr`` (the same sweep without the inverse crime), when given, adds one sentence per
    iterative method on how the crime moved its curve (mean difference over the shared view counts).
    """
    labels = labels or {}
    v = np.asarray(views)
    fb = np.asarray(psnr["fbp"], dtype=float)
    out = []
    rise = fb[-1] - fb[0]
    out.append(f"{fbp_name}'s PSNR goes from {fb[0]:.1f} dB at {v[0]} views to {fb[-1]:.1f} dB at {v[-1]} "
               f"({rise:+.1f} dB){': it needs dense sampling' if rise > 3 else ''}.")
    tv = np.asarray(psnr["tv"], dtype=float)
    ok = np.isfinite(tv)
    if ok.any():
        best = float(np.nanmax(tv))
        first = int(v[ok][np.argmax(tv[ok] >= best - 1.0)])
        beats = v[ok & (tv > fb + SAME_DB)]
        s = f"TV first comes within 1 dB of its best ({best:.1f} dB) at {first} views"
        s += (f" and beats {fbp_name} at {len(beats)} of {int(ok.sum())} view counts computed." if len(beats)
              else f" and never beats {fbp_name} here.")
        out.append(s)
        mono = bool(np.all(np.diff(tv[ok]) >= -SAME_DB))
        if not mono:
            k = int(np.argmax(tv[ok]))
            out.append(f"TV's curve is not monotone: it peaks at {int(v[ok][k])} views and falls by "
                       f"{best - float(tv[ok][-1]):.1f} dB by {int(v[ok][-1])} views, where its bias (rounded "
                       "edges, or the iteration budget) rather than missing data limits it.")
    if honest_psnr is not None:
        for m in ("sart", "tv", "asd_pocs"):
            a, b = np.asarray(psnr.get(m, []), float), np.asarray(honest_psnr.get(m, []), float)
            if a.size == 0 or b.size != a.size:
                continue
            both = np.isfinite(a) & np.isfinite(b)
            if not both.any():
                continue
            d = float(np.mean(a[both] - b[both]))
            out.append(f"The inverse crime {compare_db(d)} {labels.get(m, m)}'s curve by {abs(d):.1f} dB on average.")
    return out

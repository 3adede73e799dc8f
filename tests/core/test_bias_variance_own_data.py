"""Your own points (issue 15 item 4): the parser on good and hostile input, and the numbers against references —
the fit and K-fold CV against scikit-learn's Ridge / cross_val_score on the same RBF features (written out here,
not taken from the module), the bootstrap against a plain loop over the same resamples and against its closed
form in the limit where the fit is the sample mean."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold, cross_val_score

from regopt_core.bias_variance import own_data as od
from regopt_core.bias_variance import OWN_LAMS, SPREADS, OwnData, PointsError, own_cv, own_fit, parse_points, points_ref


def features(x: np.ndarray, spread: float, *, x_min: float, x_max: float, n_centres: int) -> np.ndarray:
    """The page's model written out independently: x rescaled to [0, 1], p bumps 2^(-((u - c)/s)^2) on a grid."""
    u = (np.asarray(x, float) - x_min) / (x_max - x_min)
    c = np.linspace(0, 1, n_centres)
    return 2.0 ** (-(((u[:, None] - c[None, :]) / spread) ** 2))


def wave(n: int, seed: int = 0, *, scale: float = 1.0, shift: float = 0.0):
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0, 1, n))
    y = np.sin(2 * np.pi * x) + 0.3 * rng.standard_normal(n)
    return shift + scale * x, y


def csv_text(x, y, header: str | None = "x,y", sep: str = ",") -> str:
    rows = [f"{float(a)!r}{sep}{float(b)!r}" for a, b in zip(x, y, strict=True)]
    return "\n".join(([header] if header else []) + rows)


# ------------------------------------------------------------------------------------------------ parser
GOOD = [
    ("x,y\n1,2\n2,3\n3,5\n4,4\n5,6\n", [1, 2, 3, 4, 5], [2, 3, 5, 4, 6], "commas", True),
    ("1;2,5\n2;3\n3;5\n4;4\n5;6,25\n", [1, 2, 3, 4, 5], [2.5, 3, 5, 4, 6.25], "semicolons", False),
    ("t\tv\n1\t2\n2\t3\n3\t5\n4\t4\n5\t-6e-1\n", [1, 2, 3, 4, 5], [2, 3, 5, 4, -0.6], "tabs", True),
    ("1 2\n2   3\n 3 5 \n4 4\n5 .5\n", [1, 2, 3, 4, 5], [2, 3, 5, 4, 0.5], "spaces", False),
    ("\ufeff\"a\",\"b\"\r\n1,2,\r\n# a comment\r\n\r\n2,3,\r\n3,5\r\n4,4\r\n+5.,6\r\n", [1, 2, 3, 4, 5],
     [2, 3, 5, 4, 6], "commas", True),
    ("x, y\n1, 2\n2, 3\n3, 5\n4, 4\n5, 6\n", [1, 2, 3, 4, 5], [2, 3, 5, 4, 6], "commas", True),
]


@pytest.mark.parametrize("text, xs, ys, sep, header", GOOD, ids=range(len(GOOD)))
def test_parser_reads_every_documented_format(text, xs, ys, sep, header):
    pts = parse_points(text.encode())
    np.testing.assert_array_equal(pts.x, xs)
    np.testing.assert_array_equal(pts.y, ys)
    assert pts.separator == sep and pts.has_header == header and pts.n == 5
    assert not pts.x.flags.writeable


def test_header_names_are_kept_but_stripped_of_markup():
    pts = parse_points(b"<b>time</b> [s],![y](http://e.vil)\n1,2\n2,3\n3,4\n4,5\n5,6\n")
    assert "<" not in pts.x_name and "[" not in pts.y_name and "(" in pts.y_name  # only safe characters remain
    assert "](" not in pts.description


def _five(bad_line: str, *, sep=",") -> bytes:
    return ("\n".join([f"1{sep}2", f"2{sep}3", bad_line, f"4{sep}5", f"5{sep}6"])).encode()


HOSTILE = [
    (b"", "No points"),
    (b"   \n\n# only a comment\n", "No points"),
    (b"x,y\n", "Only 0 points"),
    (b"1,2\n2,3\n3,4\n", "Only 3 points"),
    (b"a,b,c\n1,2,3\n", "names 3 columns"),
    (_five("3,4,5"), "Line 3 has 3 columns"),
    (_five("3"), "Line 3 has only one value"),
    (_five("3,abc"), "Line 3, column 2: “abc” is not a number"),
    (_five("3,nan"), "not a finite number"),
    (_five("-inf,4"), "not a finite number"),
    (_five("3,1e999"), "too large"),
    (_five("3,1e150"), "too large"),
    (_five("__import__('os').system('echo hi'),1"), "is not a number"),
    (_five("3,1_000"), "is not a number"),
    (_five("3,0x1F"), "is not a number"),
    (_five("3," + "9" * 50), "is not a number"),
    (b"\n".join(b"7,%d" % i for i in range(9)), "Every x is the same"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "not a text file"),
    (b"1,2\n" * 2002, "at most 2,000"),
    (b"1,2\n" * 300_000, "MB of data"),
]


@pytest.mark.parametrize("data, message", HOSTILE, ids=range(len(HOSTILE)))
def test_parser_refuses_bad_input_with_a_message_for_the_student(data, message):
    with pytest.raises(PointsError) as err:
        parse_points(data)
    assert message in str(err.value), str(err.value)
    assert isinstance(err.value, ValueError)


def test_a_cell_cannot_inject_markdown_into_the_message():
    with pytest.raises(PointsError) as err:
        parse_points(_five("3,![x](http://e.vil/a.png)"))
    msg = str(err.value)
    assert "](" not in msg and "![" not in msg and r"\]\(" in msg


def test_size_cap_is_checked_before_parsing():
    """A 2 MB blob is refused by its length (no line is split): fast even though it is one huge line."""
    import time

    t = time.perf_counter()
    with pytest.raises(PointsError, match="MB of data"):
        parse_points(b"1" * (2 * 1024 * 1024))
    assert time.perf_counter() - t < 0.05


def test_two_thousand_points_parse_and_configs_key_by_content():
    x, y = wave(2000)
    text = csv_text(x, y)
    pts = parse_points(text)
    np.testing.assert_array_equal(pts.x, x)
    a, b = OwnData(points_ref(text)), OwnData(points_ref(text.encode()))
    assert a == b and hash(a) == hash(b)
    assert OwnData(points_ref(text + "\n0.5,0")) != a
    assert repr(float(x[0])) not in repr(a) and len(repr(a)) < 300  # the data never appear in a config's repr
    c = a.clamped()
    assert c.n_boot == od.BOOT_WORK // 2000 and c.n_folds == 5
    assert OwnData(points_ref(csv_text(x[:6], y[:6])), n_folds=20).clamped().n_folds == 6


# ------------------------------------------------------------------------------------------- the numbers
@pytest.mark.parametrize("spread, lam", [(0.05, 1e-3), (0.1, 1.0), (0.3, 1e-2), (1.0, 10.0), (0.02, 0.1)])
def test_fit_matches_sklearn_ridge_on_the_same_features(spread, lam):
    x, y = wave(60, scale=40.0, shift=-7.0)  # units far from [0, 1]: the rescaling is part of the model
    res = own_fit(OwnData(points_ref(csv_text(x, y)), spread=spread, lam=lam, n_boot=20))
    lo, hi, p = x.min(), x.max(), min(60, od.MAX_CENTRES)
    ref = Ridge(alpha=lam, solver="svd").fit(features(x, spread, x_min=lo, x_max=hi, n_centres=p), y)
    np.testing.assert_allclose(res.fitted, ref.predict(features(x, spread, x_min=lo, x_max=hi, n_centres=p)),
                               rtol=1e-7, atol=1e-8)
    x_eval = np.linspace(lo, hi, od.N_EVAL)
    np.testing.assert_allclose(res.x_eval, x_eval, rtol=1e-12)
    np.testing.assert_allclose(res.fit_x, ref.predict(features(x_eval, spread, x_min=lo, x_max=hi, n_centres=p)),
                               rtol=1e-7, atol=1e-8)
    # df = trace of the hat matrix, from sklearn (fit each unit vector: column j of the hat matrix)
    phi = features(x, spread, x_min=lo, x_max=hi, n_centres=p)
    hat = Ridge(alpha=lam, solver="svd").fit(phi, np.eye(x.size)).predict(phi)
    assert res.df == pytest.approx(np.trace(hat), rel=1e-7)
    assert res.train_mse == pytest.approx(np.mean((y - ref.predict(phi)) ** 2), rel=1e-9)


def test_the_fit_does_not_depend_on_the_units_of_x():
    x, y = wave(40)
    a = own_fit(OwnData(points_ref(csv_text(x, y)), n_boot=20))
    b = own_fit(OwnData(points_ref(csv_text(1000 * x - 3, y)), n_boot=20))
    np.testing.assert_allclose(a.fitted, b.fitted, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(a.boot_var_x, b.boot_var_x, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("n", [50, 53])
def test_kfold_cv_matches_sklearn_cross_val_score(n):
    x, y = wave(n, seed=2)
    lo, hi = x.min(), x.max()
    u = (x - lo) / (hi - lo)
    splits = list(KFold(5, shuffle=True, random_state=0).split(x))
    labels = np.empty(n, int)
    for k, (_, test) in enumerate(splits):
        labels[test] = k
    spreads, lams = [0.05, 0.2, 1.0], [1e-4, 1e-2, 1.0, 100.0]
    pooled, per_fold = od.cv_errors(u, y, labels, spreads=spreads, lams=lams, centres=od.centres_for(n))
    sizes = np.array([len(t) for _, t in splits])
    for i, s in enumerate(spreads):
        phi = features(x, s, x_min=lo, x_max=hi, n_centres=min(n, od.MAX_CENTRES))
        for j, lam in enumerate(lams):
            scores = -cross_val_score(Ridge(alpha=lam, solver="svd"), phi, y, cv=splits, scoring="neg_mean_squared_error")
            np.testing.assert_allclose(per_fold[i, j], scores, rtol=1e-7)
            assert pooled[i, j] == pytest.approx(np.sum(sizes * scores) / n, rel=1e-7)


def test_own_cv_surface_and_its_minimum_against_sklearn():
    x, y = wave(40, seed=3)
    cfg = OwnData(points_ref(csv_text(x, y)), n_folds=4, seed=7)
    cv = own_cv(cfg.cv_key())
    assert cv.mse.shape == (len(SPREADS), len(OWN_LAMS)) and cv.n_folds == 4 and cv.fold_sizes.sum() == 40
    assert cv.best == np.unravel_index(np.argmin(cv.mse), cv.mse.shape)
    labels = od.fold_labels(40, 4, 7)
    splits = [(np.flatnonzero(labels != k), np.flatnonzero(labels == k)) for k in range(4)]
    lo, hi = x.min(), x.max()
    for i, j in [cv.best, (0, 0), (len(SPREADS) - 1, len(OWN_LAMS) - 1), (5, 9)]:
        phi = features(x, SPREADS[i], x_min=lo, x_max=hi, n_centres=40)
        scores = -cross_val_score(Ridge(alpha=OWN_LAMS[j], solver="svd"), phi, y, cv=splits,
                                  scoring="neg_mean_squared_error")
        assert cv.mse[i, j] == pytest.approx(np.mean(scores), rel=1e-6)  # equal fold sizes: pooled = mean
        assert cv.se[i, j] == pytest.approx(np.std(scores, ddof=1) / 2, rel=1e-6)
        full = Ridge(alpha=OWN_LAMS[j], solver="svd").fit(phi, y)
        assert cv.train_mse[i, j] == pytest.approx(np.mean((y - full.predict(phi)) ** 2), rel=1e-7)
    # the sine with noise 0.3: CV prefers a moderate model, not an edge of the grid
    assert 0 < cv.best[0] < len(SPREADS) - 1
    assert cv.best_mse < 0.3**2 * 1.6


@pytest.mark.parametrize("spread, lam", [(0.2, 1e-2), (10.0, 1e-6), (1.0, 1e-6), (0.01, 1e-6), (0.05, 1e3)])
def test_bootstrap_variance_equals_a_plain_loop_over_the_same_resamples(spread, lam):
    """scikit-learn's SVD solver on each resample ``phi[idx]`` — also where the batched normal equations are
    most ill-conditioned (wide spread, tiny λ)."""
    x, y = wave(30, seed=4)
    cfg = OwnData(points_ref(csv_text(x, y)), spread=spread, lam=lam, n_boot=60, seed=5)
    res = own_fit(cfg)
    lo, hi = x.min(), x.max()
    phi = features(x, spread, x_min=lo, x_max=hi, n_centres=30)
    phi_ev = features(res.x_eval, spread, x_min=lo, x_max=hi, n_centres=30)
    curves, at_x = [], []
    for idx in od.bootstrap_indices(30, 60, 5):
        m = Ridge(alpha=lam, solver="svd").fit(phi[idx], y[idx])
        curves.append(m.predict(phi_ev))
        at_x.append(m.predict(phi))
    curves, at_x = np.array(curves), np.array(at_x)
    np.testing.assert_allclose(res.boot_var_x, curves.var(axis=0, ddof=1), rtol=1e-5, atol=1e-10)
    np.testing.assert_allclose(res.boot_fits, curves[: od.N_SHOWN_BOOT], rtol=1e-6, atol=1e-7)
    assert res.boot_var == pytest.approx(at_x.var(axis=0, ddof=1).mean(), rel=1e-5)
    assert res.n_boot == 60


def test_bootstrap_variance_of_the_mean_has_its_closed_form():
    """λ → ∞: every fit is its resample's mean, whose bootstrap variance is exactly σ̂²/n (plug-in variance)."""
    x, y = wave(40, seed=6)
    lo, hi = x.min(), x.max()
    phi = features(x, 0.1, x_min=lo, x_max=hi, n_centres=40)
    boots = od.bootstrap_fits(phi, y, phi[:3], lam=1e12, indices=od.bootstrap_indices(40, 4000, 0))
    expected = np.var(y) / 40
    np.testing.assert_allclose(boots.var(axis=0, ddof=1), expected, rtol=4 * math.sqrt(2 / 3999) + 0.02)
    # and the resamples are the ones a seed promises: independent streams, reproducible
    a, b = od.bootstrap_indices(40, 3, 0), od.bootstrap_indices(40, 5, 0)
    for i in range(3):
        np.testing.assert_array_equal(a[i], b[i])


def test_folds_are_balanced_and_seeded():
    lab = od.fold_labels(53, 5, 1)
    assert sorted(np.bincount(lab)) == [10, 10, 11, 11, 11]
    np.testing.assert_array_equal(lab, od.fold_labels(53, 5, 1))
    assert not np.array_equal(lab, od.fold_labels(53, 5, 2))


# ------------------------------------------------------------------------------------------ sentences
def _sweep_settings():
    return [(s, lam) for s in (0.01, 0.05, 0.2, 1.0, 10.0) for lam in (1e-6, 1e-2, 1.0, 1000.0)]


def test_cv_sentence_follows_its_numbers_over_a_sweep():
    x, y = wave(40, seed=8)
    cv = own_cv(OwnData(points_ref(csv_text(x, y))).cv_key())
    for spread, lam in [*_sweep_settings(), (cv.best_spread, cv.best_lam)]:
        text = od.describe_cv(cv, spread=spread, lam=lam)
        here = cv.index(spread, lam)
        assert f"{cv.best_mse:.4g}" in text
        if here == cv.best:
            assert "Your setting is that minimum" in text
            continue
        now, best = cv.mse[here], cv.best_mse
        if now >= 2 * best:
            assert f"{now / best:.3g} times the minimum" in text
        else:
            assert f"{100 * (now - best) / best:.3g} % higher" in text
        df_now, df_best = cv.df[here], cv.df[cv.best]
        assert ("high-variance" in text) == (df_now > 1.05 * df_best)
        assert ("high-bias" in text) == (df_now < df_best / 1.05)
        assert ("within one standard error" in text) == (now - best <= cv.se[cv.best])


def test_bootstrap_and_gap_sentences_follow_their_numbers():
    x, y = wave(30, seed=9)
    ref = points_ref(csv_text(x, y))
    cv = own_cv(OwnData(ref).cv_key())
    seen = set()
    for spread, lam in _sweep_settings():
        fit = own_fit(OwnData(ref, spread=spread, lam=lam, n_boot=30))
        text = od.describe_bootstrap(fit)
        assert f"{math.sqrt(fit.boot_var):.3g}" in text and "30 resamples" in text
        word = re.search(r"(larger than|smaller than|about the same as) the training error", text).group(1)
        ratio = fit.boot_var / fit.train_mse
        assert word == ("larger than" if ratio > 1.05 else "smaller than" if ratio < 1 / 1.05 else "about the same as")
        gap = od.describe_gap(fit, cv)
        c = cv.mse[cv.index(spread, lam)]
        assert ("looks better than it is" in gap) == (c > fit.train_mse)
        assert ("times** the training error" in gap) == (c >= 2 * fit.train_mse)
        assert ("% lower" in gap) == (fit.train_mse < c < 2 * fit.train_mse)
        seen.add((c > fit.train_mse, c >= 2 * fit.train_mse))
    assert {(True, True), (True, False)} <= seen

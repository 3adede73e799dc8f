"""The bias–variance page's "Your points" mode under AppTest (issue 15 item 4): pasted and uploaded points give the
fit, the bootstrap variance and the CV minimum (the CV and training errors checked against scikit-learn); every
kind of bad data gives a message and no exception; two sessions never see each other's points."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.model_selection import cross_val_score
from streamlit.testing.v1 import AppTest

from regopt_core.bias_variance import own_data as od
from tests.pages.helpers import metric_value, run_page

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "bias-variance.py")
OWN = {"source": "Your points"}


def points(n: int = 40, seed: int = 0, *, scale: float = 20.0):
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0, 1, n))
    y = np.sin(2 * np.pi * x) + 0.3 * rng.standard_normal(n)
    return scale * x, y


def csv(x, y, header="time,signal") -> str:
    return header + "\n" + "\n".join(f"{a!r},{b!r}" for a, b in zip(x.tolist(), y.tolist()))


def text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def metric(at: AppTest, label: str) -> float:
    return float(metric_value(at, label).replace(",", ""))


def paste(at: AppTest, body: str) -> AppTest:
    at.text_area(key="own_text").set_value(body).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def sklearn_errors(x, y, spread, lam, n_folds=5, seed=0):
    """Training and pooled K-fold CV error of sklearn's Ridge on the page's features (written out here)."""
    u = (x - x.min()) / (x.max() - x.min())
    c = np.linspace(0, 1, min(x.size, 50))
    phi = 2.0 ** (-(((u[:, None] - c[None, :]) / spread) ** 2))
    labels = od.fold_labels(x.size, n_folds, seed)
    splits = [(np.flatnonzero(labels != k), np.flatnonzero(labels == k)) for k in range(n_folds)]
    scores = -cross_val_score(Ridge(alpha=lam, solver="svd"), phi, y, cv=splits, scoring="neg_mean_squared_error")
    sizes = np.array([len(t) for _, t in splits])
    train = np.mean((y - Ridge(alpha=lam, solver="svd").fit(phi, y).predict(phi)) ** 2)
    return train, float(np.sum(sizes * scores) / x.size)


def test_without_points_the_mode_asks_for_them_and_says_the_split_is_impossible():
    at = run_page(PAGE, OWN)
    assert "exact bias²/variance split is impossible" in text(at)
    assert any("Paste points" in i.value for i in at.info)
    assert not at.error and not at.metric and not at.get("plotly_chart")
    assert at.text_area(key="own_text") is not None and at.get("file_uploader")


def test_pasted_points_give_fit_bootstrap_and_cv_minimum_matching_sklearn():
    x, y = points()
    at = paste(run_page(PAGE, OWN), csv(x, y))
    assert not at.error, [e.value for e in at.error]
    assert metric(at, "Points n") == 40
    train, cv = sklearn_errors(x, y, 0.1, 1e-3)
    assert metric(at, "Training error") == pytest.approx(train, rel=1e-3)
    assert metric(at, "CV error") == pytest.approx(cv, rel=1e-3)
    body = text(at)
    assert "5-fold cross-validation: the lowest error" in body and "resamples of your points" in body
    assert "x is rescaled to [0, 1]" in "\n".join(c.value for c in at.caption)
    assert len(at.get("plotly_chart")) == 4  # fit, CV surface, two CV curves
    # the CV minimum the page states is the minimum of sklearn's CV errors over the same grid (spot-checked
    # against its neighbours in the grid)
    cvs = od.own_cv(od.OwnData(od.points_ref(csv(x, y))).cv_key())
    best = sklearn_errors(x, y, cvs.best_spread, cvs.best_lam)[1]
    assert f"**{best:.4g}**" in body
    for s in (0.05, 0.3, 1.0):
        for lam in (1e-5, 1e-2, 1.0):
            assert sklearn_errors(x, y, s, lam)[1] >= best * (1 - 1e-9)


def test_use_the_cv_minimum_moves_the_controls_there():
    x, y = points(seed=1)
    at = paste(run_page(PAGE, OWN), csv(x, y))
    at.button(key="own_best").click().run()
    assert not at.exception
    assert "Your setting is that minimum" in text(at)
    body = text(at)
    assert f"spread **{at.session_state['own_s']:g}**" in body and f"λ = **{at.session_state['own_lam']:g}**" in body


def test_a_wider_spread_narrows_the_bootstrap_band():
    x, y = points(seed=2)
    at = paste(run_page(PAGE, {**OWN, "own_s": "0.03", "own_lam": "1e-06"}), csv(x, y))
    wiggly = metric(at, "Bootstrap variance")
    at.select_slider(key="own_s").set_value(1.0).run()
    at.select_slider(key="own_lam").set_value(10.0).run()
    assert metric(at, "Bootstrap variance") < wiggly / 10
    assert metric(at, "Effective df = tr S") < 6


BAD = [
    ("1,2\n2,3\n3,4\n", "Only 3 points"),
    ("x,y\n1,2\n2,3\n3,abc\n4,5\n5,6\n", "is not a number"),
    ("1,2,3\n2,3,4\n3,4,5\n4,5,6\n5,6,7\n", "3 columns"),
    ("1,2\n2,nan\n3,4\n4,5\n5,6\n", "not a finite number"),
    ("1,2\n2,1e999\n3,4\n4,5\n5,6\n", "too large"),
    ("4,2\n4,3\n4,4\n4,5\n4,6\n", "Every x is the same"),
    ("1,2\n2\n3,4\n4,5\n5,6\n", "only one value"),
    ("1,2\n" * 2100, "at most 2,000"),
    ("__import__('os').system('touch /tmp/pwned'),1\n" * 6, "is not a number"),
]


@pytest.mark.parametrize("body, message", BAD, ids=[m for _, m in BAD])
def test_bad_pasted_data_gives_a_message_not_a_traceback(body, message):
    at = paste(run_page(PAGE, OWN), body)
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and message in errors[0], errors
    assert not at.metric and not at.get("plotly_chart")


def test_uploaded_csv_is_used_and_a_bad_upload_is_explained():
    x, y = points(30, seed=3)
    at = run_page(PAGE, OWN)
    at.text_area(key="own_text").set_value(csv(*points(50, seed=4)))
    at.get("file_uploader")[0].set_value(("mine.csv", csv(x, y, header="a;b").replace(",", ";").encode(), "text/csv"))
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert metric(at, "Points n") == 30  # the file wins over the pasted text
    assert "mine\\.csv" in "\n".join(c.value for c in at.caption)
    at.get("file_uploader")[0].set_value(("scan.csv", b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(100), "text/csv"))
    at.run()
    assert not at.exception
    assert any("not a text file" in e.value for e in at.error)


def test_two_sessions_never_see_each_others_points():
    xa, ya = points(40, seed=5)
    a = paste(run_page(PAGE, OWN), csv(xa, ya))
    n_a, train_a = metric(a, "Points n"), metric(a, "Training error")
    b = run_page(PAGE, OWN)  # a second student, same server process (shared caches)
    assert any("Paste points" in i.value for i in b.info) and not b.metric
    xb, yb = points(25, seed=6, scale=3.0)
    paste(b, csv(xb, yb))
    assert metric(b, "Points n") == 25
    a.run()
    assert metric(a, "Points n") == n_a and metric(a, "Training error") == train_a
    assert a.text_area(key="own_text").value.startswith("time,signal\n") and str(xb[0]) not in a.text_area(key="own_text").value


def test_the_simulated_mode_is_untouched_by_the_choice():
    at = run_page(PAGE, {"source": "Simulated (known truth)"})
    assert metric(at, "Bias² (exact)") > metric(at, "Variance (exact)")  # spread 5: the lecture's first picture
    assert len(at.get("plotly_chart")) == 8
    assert "impossible" not in text(at)


def test_a_link_sets_the_knobs_before_any_data_and_the_data_never_enter_it():
    link = {"source": "Your points", "own_s": "0.3", "own_lam": "0.01", "folds": "10"}
    at = run_page(PAGE, link)
    assert not any("not used" in w.value for w in at.warning), [w.value for w in at.warning]
    assert at.session_state["own_s"] == pytest.approx(0.3) and at.session_state["own_lam"] == pytest.approx(0.01)
    x, y = points(seed=7)
    paste(at, csv(x, y))
    assert "10-fold cross-validation" in text(at)
    train, cv = sklearn_errors(x, y, 0.3, 0.01, n_folds=10)
    assert metric(at, "CV error") == pytest.approx(cv, rel=1e-3)
    assert set(at.query_params) <= {"source", "own_s", "own_lam", "folds", "B", "seed"}

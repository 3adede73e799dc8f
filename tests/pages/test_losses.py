"""AppTest of the losses page: defaults, the registry's deep links, the lecture's numbers, extremes."""

from pathlib import Path

import pytest

from pages._ui.registry import PAGES
from tests.pages.helpers import metric_value, run_page

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "losses.py")


def _spec():
    return next(p for p in PAGES if p.path == "pages/losses.py")


def test_defaults_show_the_lecture_numbers():
    at = run_page(PAGE)
    # The lecture (CS231n slide): hinge losses 2.9, 0, 12.9 (mean 5.27); softmax cross-entropy of the same
    # scores, natural log: 2.04, 0.08, 6.16 — theory, typed from the lecture, not from the code.
    table = at.table[0].value
    assert list(table.loc["hinge (SVM) loss L_i"].iloc[:3]) == ["2.90", "0.00", "12.90"]
    assert list(table.loc["softmax cross-entropy L_i"].iloc[:3]) == ["2.04", "0.08", "6.16"]
    assert metric_value(at, "Mean hinge loss") == "5.27"
    assert metric_value(at, "Mean cross-entropy") == "2.76"  # (2.04 + 0.08 + 6.16) / 3 = 2.76
    # issue 13: the L1 geometry's default λ is past the first exact zero — one weight is exactly 0
    assert metric_value(at, "weights exactly 0") == "1"
    assert float(metric_value(at, "first exact zero")) < 1.4
    assert not at.warning


@pytest.mark.parametrize("i", range(2))
def test_registry_deep_links(i):
    links = _spec().deep_links
    if i >= len(links):
        pytest.skip("no such link")
    at = run_page(PAGE, links[i])
    if links[i].get("table") == "Zero loss" and links[i].get("margin") == "2":
        # by hand: cat max(0, 1.3-3.2+2) + max(0, 2.2-3.2+2) = 1.1; car 0; bird max(0, 2.0-3.1+2) = 0.9 → 2.0/3
        assert metric_value(at, "Mean hinge loss") == "0.67"


def test_extremes_raise_nothing():
    run_page(PAGE, {"margin": "5", "reg": "L2", "lam": "0", "rho": "-0.95", "outliers": "10", "loss": "Huber",
                    "scale": "0", "slam": "1", "clf_reg": "Elastic net", "clf_lam": "1", "steps": "10"})
    run_page(PAGE, {"margin": "0", "reg": "Elastic net", "alpha": "1", "lam": "10", "rho": "0.95",
                    "clf_loss": "Hinge", "clf_lam": "0", "scale": "4", "slam": "0.0001"})


def test_hostile_links_raise_nothing():
    run_page(PAGE, {"margin": "banana", "lam": "inf", "reg": "L7", "seed": "-3", "steps": "1e9"})


def test_bad_link_notice_names_the_users_value_and_the_label_they_see():
    """Issue 13: "Regularizer R(w): the link's value `XX` ... using `L1`", never an internal key or None."""
    at = run_page(PAGE, {"reg": "XX", "lam": "abc"})
    text = " ".join(w.value for w in at.warning if "link were not used" in w.value)
    assert "**Regularizer R(w)**" in text and "`XX`" in text, text
    assert "`abc`" in text and "**Strength λ**" in text, text
    assert "None" not in text and "l1" not in text and "elastic_net" not in text, text


def test_the_code_is_sent_only_when_asked_for_and_is_the_real_source():
    """A code block on the page makes every cold open load the syntax highlighter: the listing comes on demand."""
    import inspect

    from regopt_core import linear_models as lm

    at = run_page(PAGE)
    assert not at.code, "source listings were sent before anyone asked for them"
    keys = [t.key for t in at.toggle if t.key.startswith("_code_")]
    assert len(keys) == len(set(keys)) >= 2
    for key in keys:
        at.toggle(key).set_value(True)
    at.run()
    assert not at.exception
    listings = [c.value.strip() for c in at.code]
    assert inspect.getsource(lm.regularization_path).strip() in listings
    assert inspect.getsource(lm.train_linear_classifier).strip() in listings

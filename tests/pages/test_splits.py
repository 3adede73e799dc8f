"""The splits page under AppTest: key numbers appear and agree with theory, extremes, deep links."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from regopt_core.splits import expected_max_normal

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "splits.py")


def run(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=600)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def metric(at: AppTest, label: str) -> str:
    hits = [m.value for m in at.metric if m.label == label]
    assert hits, f"no metric {label!r}: {[m.label for m in at.metric]}"
    return hits[0]


def pct(s: str) -> float:
    return float(s.rstrip(" %")) / 100


@pytest.fixture(scope="module")
def default_page() -> AppTest:
    return run()


def test_defaults_show_the_key_numbers(default_page):
    at = default_page
    assert at.title[0].value.startswith("Dataset splits")
    assert not at.error
    # best of K = 100 equally good models (p = 0.80, n = 1000): about 0.83 reported, 0.80 on fresh data
    assert float(metric(at, "Normal approx. p + s·E[max]")) == pytest.approx(0.8 + math.sqrt(0.16 / 1000) * 2.50759, abs=1e-4)
    assert float(metric(at, "Simulated best")) == pytest.approx(0.831, abs=0.002)
    assert float(metric(at, "Fresh test set")) == pytest.approx(0.80, abs=0.002)
    # ESL §7.10.2: wrong way < 15 %, right way 40-60 %
    assert pct(metric(at, "Wrong-way CV error")) < 0.15
    assert 0.40 < pct(metric(at, "Right-way CV error")) < 0.60
    # approaches: training error is the most optimistic, approach 3 close to honest
    table = at.dataframe[0].value
    optimism = dict(zip(table["approach"], table["mean optimism"], strict=True))
    se2 = dict(zip(table["approach"], table["± 2 SE"], strict=True))
    assert optimism["1 · training error"] == max(optimism.values())
    assert abs(optimism["3 · train / validation / test"]) < 1.5 * se2["3 · train / validation / test"] + 0.01
    # patients: random split near zero, group split near the true error
    assert pct(metric(at, "Random split CV")) < 0.05
    assert abs(pct(metric(at, "Split by patient CV")) - pct(metric(at, "True error (new patients)"))) < 0.06
    # early stopping stops before the end and beats the final iterate
    assert float(metric(at, "True error at stop")) < float(metric(at, "True error at the end"))


def test_every_main_figure_has_a_csv_download(default_page):
    labels = [b.label for b in default_page.get("download_button")]
    assert len(labels) >= 7
    assert all(lbl.startswith("Download data") for lbl in labels)


@pytest.mark.parametrize("k", ["1", "1000"])
def test_deep_link_k_models_matches_theory(k):
    at = run({"bk": k, "nt": "1000", "acc": "0.8"})
    expected = 0.8 + math.sqrt(0.16 / 1000) * expected_max_normal(int(k))
    assert float(metric(at, "Normal approx. p + s·E[max]")) == pytest.approx(expected, abs=1e-4)
    if k == "1":  # nothing to choose: no optimism
        assert float(metric(at, "Simulated best")) == pytest.approx(0.80, abs=0.003)
    else:
        assert float(metric(at, "Simulated best")) > 0.835
    assert not at.warning or all("not used" not in w.value for w in at.warning)


def test_deep_link_cancer_tiny_study_leave_one_out():
    at = run({"data": "Cancer", "n": "8", "K": "1000", "folds": "LOO"})
    assert at.radio(key="data").value == "Cancer"
    assert at.slider(key="n").value == 8
    table = at.dataframe[0].value
    assert len(table) == 5
    assert table["mean reported"].between(0, 1).all()  # error rates


def test_extremes_two_folds_one_model_large_study():
    at = run({"n": "200", "K": "1", "folds": "2", "per": "1", "pat": "200", "esl_keep": "1000", "esl_p": "100",
              "p": "80", "sigma": "0", "epochs": "10"})
    table = at.dataframe[0].value
    # K = 1: every approach uses the same lambda, so approach 2 is as honest as approach 3
    assert abs(table["mean optimism"].iloc[1]) < 2 * table["± 2 SE"].iloc[1] + 0.01
    assert not at.error


def test_bad_url_values_fall_back_with_a_notice():
    at = run({"n": "100000", "K": "-3", "folds": "7", "data": "nonsense"})
    assert at.slider(key="n").value != 100000
    assert any("not used" in w.value for w in at.warning)


def test_a_new_seed_after_the_first_run_waits_for_the_compute_button():
    """Issue 12, item 3: the seed reruns every section (about 0.3 s of simulations plus every figure), so after the
    page's first run a seed whose results are not cached shows one Compute button per section instead of
    computing; one press computes the whole page for the new seed."""
    at = run()
    at.number_input(key="seed").set_value(736_251).run()
    assert not at.exception
    keys = {b.key for b in at.button if b.key and b.key.startswith("compute_")}
    assert keys == {f"compute_{k}" for k in ("one_study", "best_of_k", "early", "esl", "preprocessing", "patients")}
    assert not at.dataframe and not at.metric
    at.button(key="compute_early").click().run()
    assert not at.exception
    assert not [b for b in at.button if b.key and b.key.startswith("compute_")]
    table = at.dataframe[0].value
    assert len(table) == 5 and table["mean reported"].between(0, 2).all()
    assert metric(at, "True error") == "50 %"
    assert at.session_state["_splits_compute"] is False


def test_which_section_moves_are_live():
    """The page computes a section's own move live when its fewest repetitions fit twice the live budget
    (``run.n_repeats * run.seconds() <= 1.25 * LIVE_SECONDS``); n = 104 or 200 or 10 folds (two studies cost 0.1-0.25 s) wait for the button.
    (AppTest reruns the whole script, so the fragment rerun itself is exercised in the browser only.)"""
    from regopt_core.splits import configs as C

    def live_ok(cfg) -> bool:
        run = cfg.clamped()
        return run.n_repeats * run.seconds() <= 1.25 * C.LIVE_SECONDS

    assert live_ok(C.ApproachesConfig())  # K, folds, data moves at n = 40
    assert live_ok(C.ApproachesConfig(n_folds=2)) and live_ok(C.ApproachesConfig(problem="cancer"))
    assert not live_ok(C.ApproachesConfig(n_folds=10))  # two studies ~0.12 s
    assert not live_ok(C.ApproachesConfig(n_samples=200)) and not live_ok(C.ApproachesConfig(n_samples=104))
    assert live_ok(C.PreprocessingLeakConfig(n_samples=300)) and live_ok(C.SelectionLeakConfig(n_features=5000))
    assert not live_ok(C.PatientLeakConfig(n_patients=200, n_per_patient=20))


def test_live_budget_work_runs_in_the_script_thread_and_the_full_run_in_a_worker(monkeypatch):
    """A section move computes its live-budget repetitions in the script thread (a worker job cost a round trip
    and one of the session's heavy-job tokens per move: after 12 quick moves each waited ~5 s); the "Compute all"
    button's full repetitions (seconds of work) still go to a worker job."""
    from pages._ui import cached, jobs

    labels = []
    real = jobs.run

    def spy(fn, config, key, label, on_result=None):
        labels.append(label)
        return real(fn, config, key, label, on_result=on_result)

    monkeypatch.setattr(jobs, "run", spy)
    with cached.isolated():
        at = run({"K": "10"})  # the first run computes the live-budget comparison for K = 10
        assert "Random studies" in " ".join(c.value for c in at.caption)  # capped: the live repetitions
        assert not [lbl for lbl in labels if "random studies" in lbl]
        at.button(key="full_approaches").click().run()
        assert not at.exception
        assert [lbl for lbl in labels if "random studies" in lbl] == ["Simulating 100 random studies…"]

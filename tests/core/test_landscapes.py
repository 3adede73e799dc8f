"""Race driver, thresholds, divergence messages, grid, and random search vs gradient descent."""

from __future__ import annotations

import numpy as np
import pytest

from regopt_core.functions import make_logistic_data, logistic, quadratic, rosenbrock
from regopt_core.landscapes import (
    MAX_DIM,
    MAX_GRID,
    MAX_RACERS,
    MAX_START,
    MAX_STEPS,
    RaceConfig,
    RaceEntry,
    SearchConfig,
    StepFamilyConfig,
    SurfaceConfig,
    race_experiment,
    reference_curvature,
    search_experiment,
    step_family,
    compare_search,
    diagonal_quadratic,
    gradient_sweep,
    race,
    random_search,
    search_vs_dimension,
    stability_threshold,
    surface_grid,
)
from regopt_core.optimizers import gd, run

H_SURFACE = quadratic(100.0, 0.0, l_max=100.0)  # H = diag(1, 100)


def test_thresholds_are_the_published_formulas():
    assert stability_threshold("gd", 100.0) == pytest.approx(0.02)
    assert stability_threshold("momentum", 100.0, beta=0.9) == pytest.approx(0.038)
    assert stability_threshold("nesterov", 100.0, beta=0.9) == pytest.approx(3.8 / 280)
    assert stability_threshold("adam", 100.0) is None
    assert stability_threshold("gd", None) is None


@pytest.mark.parametrize("name", ["gd", "momentum", "nesterov"])
def test_race_diverges_exactly_past_the_threshold_and_says_why(name):
    thr = stability_threshold(name, 100.0, beta=0.9)
    res = race(H_SURFACE, [RaceEntry(name, 0.98 * thr), RaceEntry(name, 1.02 * thr)], (1.0, 1.0), n_steps=3000)
    ok, bad = res.racers
    assert not ok.trace.diverged and ok.distance[-1] < 1e-6
    assert bad.trace.diverged
    assert f"diverged at step {bad.trace.diverged_at}" in bad.verdict
    assert f"{thr:.4g}" in bad.verdict and ">" in bad.verdict
    assert len(bad.distance) == bad.trace.nit + 1


def test_race_is_the_one_loop_and_raises_beyond_its_caps():
    s = rosenbrock()
    entries = [RaceEntry("gd", 1e-3), RaceEntry("adam", 0.05), RaceEntry("rmsprop", 0.01, rho=0.5)]
    res = race(s, entries, s.start, n_steps=500)
    for entry, racer in zip(entries, res.racers, strict=True):  # each racer IS optimizers.run
        ref = run(entry.optimizer(), s.value_and_grad, np.array(s.start), n_steps=500)
        np.testing.assert_array_equal(racer.trace.xs, ref.xs)
        np.testing.assert_array_equal(racer.trace.fs, ref.fs)
    np.testing.assert_allclose(res.racers[0].distance, np.linalg.norm(res.racers[0].trace.xs - 1.0, axis=1))
    with pytest.raises(ValueError):
        race(s, entries * 3, s.start)  # 9 racers > MAX_RACERS
    with pytest.raises(ValueError):
        race(s, entries, s.start, n_steps=MAX_STEPS + 1)


def test_race_config_is_hashable_and_clamped_is_where_the_caps_live():
    cfg = RaceConfig(surface=SurfaceConfig("rosenbrock", kappa=7.0, seed=5),
                     entries=tuple(RaceEntry("gd", 1e-3) for _ in range(8)), start=(1e9, float("nan")),
                     n_steps=10**9, grid_n=10**6)
    c = cfg.clamped()
    hash(c)
    assert len(c.entries) == MAX_RACERS and c.n_steps == MAX_STEPS and c.grid_n == MAX_GRID
    assert c.start is None  # a non-finite start falls back to the landscape's default
    assert c.surface == SurfaceConfig("rosenbrock")  # parameters Rosenbrock does not use are normalised
    assert c.clamped() == c and RaceConfig.DEFAULT.clamped() == RaceConfig.DEFAULT
    with pytest.raises(ValueError):
        race_experiment(cfg)  # experiments take the clamped config only
    assert RaceConfig(start=(80.0, -3.0)).clamped().start == (MAX_START, -3.0)
    with pytest.raises(ValueError):
        RaceConfig(entries=(RaceEntry("lbfgs", 0.1),)).clamped()


def test_race_experiment_reports_convergence_by_gradient_norm():
    res = race_experiment(RaceConfig().clamped())
    gd_racer = res.race.racers[0]
    conv = gd_racer.trace.convergence
    assert conv.criterion.startswith("gradient norm") and conv.tol == RaceConfig().tol
    # GD at eta = 1 on the kappa = 10 bowl (L = 1): the slow mode contracts by 1 - 1/10 per step, so the
    # gradient norm passes 1e-10 long before 300 steps and the racer stops there, converged
    assert conv.converged and conv.value <= 1e-10 and gd_racer.trace.nit < 300
    assert gd_racer.trace.grad_norms[-1] == conv.value
    assert res.curvature == 1.0 and res.curvature_kind == "global"


def test_gd_on_diag_1_100_converges_at_0199_and_diverges_at_0201_in_the_race():
    res = race(H_SURFACE, [RaceEntry("gd", 0.0199), RaceEntry("gd", 0.0201)], (1.0, 1.0), n_steps=5000)
    ok, bad = res.racers
    assert not ok.trace.diverged and ok.distance[-1] < 1e-12
    assert bad.trace.diverged and "η = 0.0201 > 2/L = 0.02" in bad.verdict


def test_step_family_diverges_exactly_above_the_gd_threshold():
    fam = step_family(StepFamilyConfig(surface=SurfaceConfig("quadratic", kappa=10.0)).clamped())
    assert fam.threshold == pytest.approx(2.0) and fam.formula == "2/L"
    assert 10 <= len(fam.racers) <= 30
    np.testing.assert_allclose(fam.etas, 2.0 * np.asarray(fam.config.factors))
    for fac, r in zip(fam.config.factors, fam.racers, strict=True):
        # |1 - eta L| > 1 exactly when eta > 2/L; at 1.05 x the steep mode grows 1.1x per step: past 1e12 in 200 steps
        assert r.trace.diverged == (fac > 1.0), fac
    hb = step_family(StepFamilyConfig(optimizer="momentum", beta=0.5, factors=(0.9, 1.5)).clamped())
    assert hb.threshold == pytest.approx(2 * 1.5 / 1.0)  # heavy ball: 2(1+beta)/L
    assert [r.trace.diverged for r in hb.racers] == [False, True]


def test_starting_where_f_overflows_is_a_divergence_at_step_0_not_an_exception():
    # (old code: run raised ValueError on a non-finite start)
    res = race(rosenbrock(), [RaceEntry("gd", 1e-3)], (1e200, 1e200), n_steps=10)
    r = res.racers[0]
    assert r.trace.diverged and r.trace.diverged_at == 0 and r.trace.nit == 0
    assert "diverged at the start" in r.verdict


def test_divergence_on_a_surface_without_global_L_names_the_local_curvature():
    s = rosenbrock()
    res = race(s, [RaceEntry("gd", 0.01)], s.start, n_steps=1000)
    r = res.racers[0]
    assert r.trace.diverged and r.threshold is None
    assert "λ_max" in r.verdict and "diverged at step" in r.verdict


def test_extreme_settings_do_not_raise():
    s = quadratic(1e6, 45.0)
    res = race(s, [RaceEntry(n, 10.0) for n in ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")],
               s.start, n_steps=10_000)
    for r in res.racers:
        assert np.all(np.isfinite(r.trace.xs)) and np.all(np.isfinite(r.trace.fs))
    assert res.racers[0].trace.diverged  # eta = 10 > 2/L = 2


def test_gd_at_optimal_step_on_race_contracts_by_kappa_ratio():
    # eta = 2/(mu + L): distance shrinks by (kappa - 1)/(kappa + 1) per step
    res = race(H_SURFACE, [RaceEntry("gd", 2.0 / 101.0)], (3.0, -2.0), n_steps=40)
    d = res.racers[0].distance
    np.testing.assert_allclose(d[1:] / d[:-1], 99.0 / 101.0, rtol=1e-12)


def test_surface_grid_orientation_and_cap():
    s = quadratic(4.0, 0.0)  # f = 1/2 (x^2/4 + y^2)
    g = surface_grid(s, n=11)
    j, i = 3, 7
    assert g.z[i, j] == pytest.approx(0.5 * (g.x[j] ** 2 / 4 + g.y[i] ** 2))
    assert surface_grid(s, n=MAX_GRID).z.shape == (MAX_GRID, MAX_GRID)
    with pytest.raises(ValueError):
        surface_grid(s, n=10**6)  # the cap lives in RaceConfig.clamped(); the function raises


def test_gradient_sweep_on_logistic_surface():
    X, y = make_logistic_data(40, rng=np.random.default_rng(1))
    sweep = gradient_sweep(logistic(X, y, lam=0.1), (1.0, -2.0))
    assert sweep.slope_central == pytest.approx(2.0, abs=0.15)
    assert sweep.slope_forward == pytest.approx(1.0, abs=0.15)


# ---------------------------------------------------------------- random search vs gradient descent
def test_random_search_best_is_the_running_minimum_of_uniform_samples():
    h = diagonal_quadratic(3, kappa=10.0)
    best = random_search(h, 500, rng=np.random.default_rng(0))
    assert np.all(np.diff(best) <= 0)
    # same stream, drawn by hand
    cand = np.random.default_rng(0).uniform(-1, 1, size=(500, 3))
    np.testing.assert_allclose(best, np.minimum.accumulate(0.5 * (cand**2) @ h))


def test_random_search_mean_loss_matches_uniform_second_moment():
    # E f = 1/2 sum h_i E x_i^2 = sum h_i / 6 for x ~ U[-1, 1]: the first draw of many independent runs
    h = diagonal_quadratic(50, kappa=10.0)
    firsts = [random_search(h, 1, rng=r)[0] for r in np.random.default_rng(0).spawn(400)]
    se = np.std(firsts) / np.sqrt(len(firsts))
    assert abs(np.mean(firsts) - h.sum() / 6) < 4 * se


def test_gd_curve_is_the_closed_form_on_a_diagonal_quadratic():
    c = compare_search(20, n_evals=200, kappa=10.0, rng=np.random.default_rng(2))
    h = diagonal_quadratic(20, kappa=10.0)
    x0 = np.random.default_rng(2).uniform(-1, 1, 20)  # the first draw of the same stream is x0
    k = np.arange(200)[:, None]
    closed = 0.5 * ((1 - h / h.max()) ** (2 * k) * h * x0**2).sum(axis=1) / (0.5 * (h * x0**2).sum())
    np.testing.assert_allclose(c.gd, closed, rtol=1e-9, atol=1e-300)
    assert c.random[0] == 1.0 and c.gd[0] == 1.0


def test_random_search_collapses_with_dimension_but_gd_does_not():
    sweep = search_vs_dimension((2, 10, 100, 1000), n_evals=1000, rng=np.random.default_rng(0))
    # random search: a useful fraction of progress in 2-D, essentially none in 1000-D
    assert sweep.random[0] < 1e-2
    assert sweep.random[-1] > 0.5
    assert np.all(np.diff(sweep.random) > 0)
    # gradient descent with eta = 1/L: the same contraction in any dimension (kappa = 100 fixed)
    assert np.all(sweep.gd < 1e-6)
    # numerical gradients cost d + 1 evaluations: in 1000-D the budget does not buy a single step
    assert sweep.gd_numeric[-1] == 1.0
    # in 2-D it affords 999 // 3 = 333 steps; the slowest mode contracts by (1 - 1/kappa)^2 per step
    assert sweep.gd_numeric[0] <= (1 - 1 / 100) ** (2 * 333) * (1 + 1e-9)


def test_search_sizes_are_capped_in_the_config_and_the_functions_raise():
    cfg = SearchConfig(d=10**7, n_evals=10**7).clamped()
    assert cfg.d == MAX_DIM and cfg.n_evals == 5000 and cfg.dims == SearchConfig.DEFAULT.dims
    with pytest.raises(ValueError):
        compare_search(10**7, n_evals=10**7, rng=np.random.default_rng(0))
    res = search_experiment(SearchConfig(d=20, n_evals=200).clamped())
    assert res.comparison.d == 20 and 20 in res.sweep.dims


def test_gradient_sweep_docstring_states_the_plateau_the_code_gives():
    # planted bug: d/dx halved. The sweep divides by the gradient it checks, so the plateau is
    # |df/dx| / 2 / ||g_bug||: at (-1.2, 1), grad = (-215.6, -88) -> 107.8 / hypot(107.8, 88) = 0.7746
    s = rosenbrock()
    sweep = gradient_sweep(s, s.start, bug=True)
    plateau = 107.8 / np.hypot(107.8, 88.0)
    mid = (sweep.hs > 1e-7) & (sweep.hs < 1e-3)
    np.testing.assert_allclose(sweep.err_central[mid], plateau, rtol=1e-4)
    assert "77.5 %" in gradient_sweep.__doc__ and "30 %" not in gradient_sweep.__doc__  # old docstring: "near 30 %"


def test_reference_curvature_docstring_keeps_its_nabla():
    # old code: a non-raw docstring turned "\nabla" into a newline + "abla"
    assert "\\nabla^2 f(x^*)" in reference_curvature.__doc__


# --------------------------------------------------------------------------------------------- typed landscapes
ROSENBROCK_TEXT = "(1-x)**2 + 100*(y-x**2)**2"
HIMMELBLAU_TEXT = "(x**2+y-11)**2 + (x+y**2-7)**2"


def test_custom_surface_config_normalizes_the_formula_and_clamps_the_window():
    from regopt_core.expressions import ExpressionError

    a = SurfaceConfig(key="custom", expr=" (1-x)**2 + 100*(y-x**2)**2 ", window=((-2, 2), (-1, 3))).clamped()
    b = SurfaceConfig(key="custom", expr="(1 - x)**2+100*(y - x**2)**2", window=((-2.0, 2.0), (-1.0, 3.0))).clamped()
    assert a == b and hash(a) == hash(b)  # one cache key per formula, however it was spaced
    assert a.expr == "(1 - x) ** 2 + 100 * (y - x ** 2) ** 2"
    assert SurfaceConfig(key="custom", window=((-1e9, 1e9), (0, 1))).clamped().window == ((-1000.0, 1000.0), (0.0, 1.0))
    assert SurfaceConfig(key="quadratic", expr="junk").clamped().expr == SurfaceConfig().expr  # unused: default
    for bad in ("x + z", "__import__('os')", "x.real", "x" * 10_000, "9**9**9", "(x"):
        with pytest.raises(ExpressionError):
            SurfaceConfig(key="custom", expr=bad).clamped()
    for window in (((1, 1), (0, 1)), ((0, 1), (2, -2)), ((0, float("nan")), (0, 1)), "junk"):
        with pytest.raises(ValueError, match="contour range"):
            SurfaceConfig(key="custom", window=window).clamped()


@pytest.mark.parametrize(("text", "key"), [(ROSENBROCK_TEXT, "rosenbrock"), (HIMMELBLAU_TEXT, "himmelblau")])
def test_typed_race_and_gradient_check_match_the_builtin_to_1e10(text, key):
    from regopt_core.functions import make_surface
    from regopt_core.landscapes import GradientCheckConfig, gradient_experiment

    builtin = make_surface(key)
    entries = tuple(RaceEntry(n, lr) for n, lr in (("gd", 1e-3), ("momentum", 1e-3), ("nesterov", 1e-3),
                                                   ("adagrad", 0.5), ("rmsprop", 0.01), ("adam", 0.05)))
    typed = SurfaceConfig(key="custom", expr=text, window=builtin.bounds)
    a = race_experiment(RaceConfig(surface=typed, entries=entries, start=builtin.start, n_steps=1000).clamped())
    b = race_experiment(RaceConfig(surface=SurfaceConfig(key=key), entries=entries, start=builtin.start,
                                   n_steps=1000).clamped())
    for ra, rb in zip(a.race.racers, b.race.racers, strict=True):
        assert ra.trace.diverged == rb.trace.diverged and ra.trace.nit == rb.trace.nit
        # the race sees the same function: value and gradient agree to 1e-10 along the built-in's whole path
        xs = rb.trace.xs
        np.testing.assert_allclose(a.surface.value(xs), b.surface.value(xs), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(a.surface.gradient(xs), b.surface.gradient(xs), rtol=1e-10, atol=1e-10)
        # and the same paths; RMSProp's sign-like steps across the valley floor amplify the last-bit
        # differences of two spellings of one formula (1e-16 -> 1e-3 within ~100 steps on Rosenbrock),
        # so its path is compared over its first 50 steps
        n = 51 if ra.name == "rmsprop" else len(xs)
        np.testing.assert_allclose(ra.trace.xs[:n], xs[:n], rtol=0, atol=1e-10)
        np.testing.assert_allclose(ra.trace.fs[:n], rb.trace.fs[:n], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(a.grid.z, b.grid.z, rtol=1e-10, atol=1e-10)
    ga = gradient_experiment(GradientCheckConfig(surface=typed, point=builtin.start).clamped())
    gb = gradient_experiment(GradientCheckConfig(surface=SurfaceConfig(key=key), point=builtin.start).clamped())
    np.testing.assert_allclose(ga.check.analytic, gb.check.analytic, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(ga.check.numerical, gb.check.numerical, rtol=1e-10, atol=1e-10)
    assert ga.check.passed and gb.check.passed
    np.testing.assert_allclose(ga.sweep.err_central, gb.sweep.err_central, rtol=1e-6, atol=1e-12)


def test_typed_landscape_ruler_uses_the_hessian_at_the_start():
    # Rosenbrock's Hessian at (-1.2, 1): [[1200x^2 - 400y + 2, -400x], [-400x, 200]] = [[1330, 480], [480, 200]]
    cfg = RaceConfig(surface=SurfaceConfig(key="custom", expr=ROSENBROCK_TEXT), start=(-1.2, 1.0),
                     entries=(RaceEntry("gd", 1e-3),)).clamped()
    res = race_experiment(cfg)
    lam = 0.5 * (1530 + np.hypot(1130, 960))
    assert res.curvature_kind == "at the start"
    assert res.curvature == pytest.approx(lam, rel=1e-12)
    assert stability_threshold("gd", res.curvature) == pytest.approx(2 / lam)
    # a typed quadratic has a global L: 2/L as for the built-in bowl
    quad = race_experiment(RaceConfig(surface=SurfaceConfig(key="custom", expr="x**2 + 5*y**2")).clamped())
    assert quad.curvature_kind == "global" and quad.curvature == pytest.approx(10.0)
    # no positive curvature at the start (a saddle's flat direction there): the minimum's curvature, if any
    flat = reference_curvature(race_experiment(RaceConfig(surface=SurfaceConfig(key="custom", expr="x + y"))
                                               .clamped()).surface, (0.0, 0.0))
    assert not flat[0] > 0


def test_typed_race_that_overflows_is_the_usual_divergence():
    cfg = RaceConfig(surface=SurfaceConfig(key="custom", expr="exp(x**2) + y**2"), start=(2.0, 1.0),
                     entries=(RaceEntry("gd", 1.0),)).clamped()
    res = race_experiment(cfg)
    r = res.race.racers[0]
    assert r.trace.diverged and r.verdict.startswith(f"diverged at step {r.trace.diverged_at}")


def test_search_parts_are_the_experiment_s_and_the_sweep_does_not_depend_on_d():
    from regopt_core.landscapes import search_comparison, search_sweep

    cfg = SearchConfig(d=30, n_evals=200).clamped()
    res = search_experiment(cfg)
    assert 30 in res.sweep.dims  # the experiment adds d to its sweep
    comp = search_comparison(cfg)
    np.testing.assert_array_equal(comp.random, res.comparison.random)
    np.testing.assert_array_equal(comp.gd, res.comparison.gd)
    assert cfg.sweep_key() == SearchConfig(d=700, n_evals=200).clamped().sweep_key()  # one sweep for every d
    sweep = search_sweep(cfg.sweep_key())
    assert tuple(sweep.dims) == SearchConfig.DEFAULT.dims and 30 not in sweep.dims
    # default d = 10 is one of the sweep's dimensions: the two agree there
    d10 = search_experiment(SearchConfig(n_evals=200).clamped()).sweep
    np.testing.assert_array_equal(search_sweep(SearchConfig(n_evals=200).clamped().sweep_key()).random, d10.random)
    with pytest.raises(ValueError):
        search_sweep(SearchConfig(n_evals=10**9))


def test_warm_pairs_are_clamped_and_cover_every_live_family_and_budget():
    from regopt_core.functions import SURFACE_NAMES
    from regopt_core.landscapes import SEARCH_BUDGETS, search_sweep, step_family, warm_pairs

    pairs = warm_pairs()
    assert all(cfg == cfg.clamped() for _, cfg in pairs)
    fams = {(c.surface.key, c.optimizer) for f, c in pairs if f is step_family}
    assert fams == {(k, o) for k in SURFACE_NAMES for o in ("gd", "momentum", "nesterov")}
    assert sorted(c.n_evals for f, c in pairs if f is search_sweep) == sorted(SEARCH_BUDGETS)
    assert len({(f, c) for f, c in pairs}) == len(pairs)  # no pair twice


def test_dimension_sweep_is_the_last_value_of_each_comparison():
    """The sweep computes only the final values (issue 12: a seed move re-runs it): random search and the
    numerical-gradient run are exactly compare_search's last values with the same streams; gradient descent with
    the analytic gradient is the closed form at step n - 1, equal to the loop's last value to rounding."""
    dims, n_evals = (1, 2, 7, 50, 300), 400
    sweep = search_vs_dimension(dims, n_evals=n_evals, kappa=30.0, rng=np.random.default_rng(9))
    streams = np.random.default_rng(9).spawn(len(dims))
    comps = [compare_search(d, n_evals=n_evals, kappa=30.0, rng=r) for d, r in zip(dims, streams, strict=True)]
    np.testing.assert_array_equal(sweep.random, [c.random[-1] for c in comps])
    np.testing.assert_array_equal(sweep.gd_numeric, [c.gd_numeric[-1] for c in comps])
    np.testing.assert_allclose(sweep.gd, [c.gd[-1] for c in comps], rtol=1e-11, atol=0)
    assert sweep.gd[0] == 0.0  # d = 1: one step of eta = 1/L lands on the minimum
    with pytest.raises(ValueError):
        search_vs_dimension(dims, n_evals=1, rng=np.random.default_rng(0))

"""Landscape figures built from tiny results: traces, frames, axes, titles."""

from __future__ import annotations

import numpy as np
import pytest

from regopt_core.figures import landscapes as figs
from regopt_core.functions import quadratic, rosenbrock
from regopt_core.gradients import finite_difference_sweep
from regopt_core.landscapes import (
    RaceEntry,
    StepFamilyConfig,
    compare_search,
    race,
    search_vs_dimension,
    stability_threshold,
    step_family,
    surface_grid,
)


@pytest.fixture(scope="module")
def quad_race():
    s = quadratic(100.0, 0.0, l_max=100.0)
    r = race(s, [RaceEntry("gd", 0.01), RaceEntry("gd", 0.0201), RaceEntry("adam", 0.1)], (3.0, 2.0), n_steps=1500)
    return s, r, surface_grid(s, n=41)


def test_contour_has_paths_frames_and_play_controls(quad_race):
    s, r, g = quad_race
    fig = figs.fig_race_contour(r, g, s)
    names = [t.name for t in fig.data]
    levels = [t for t in fig.data if (t.name or "").startswith("level ")]
    assert len(levels) >= 10 and all(t.mode == "lines" for t in levels)
    # level lines of f = 1/2 (x^2 + 100 y^2) (log10 of f - f*) are ellipses with axis ratio sqrt(100) = 10
    pts = np.column_stack([np.asarray(levels[5].x, float), np.asarray(levels[5].y, float)])
    pts = pts[np.isfinite(pts).all(axis=1)]
    fvals = 0.5 * (pts[:, 0] ** 2 + 100 * pts[:, 1] ** 2)
    assert np.ptp(np.log10(fvals)) < 0.1  # one level: (nearly) constant f along the line
    # the hover text of a level line gives f - f* (no colour bar: it would narrow the plot on a phone)
    assert "f − f* ≈" in levels[0].hovertemplate
    picker = fig.data[names.index("start picker")]
    assert picker.marker.opacity == 0.0 and len(picker.x) == 31 * 31
    i0 = names.index("start picker") + 1
    assert names[i0:i0 + 3] == ["Gradient descent (η=0.01)", "Gradient descent (η=0.0201)", "Adam (η=0.1, β₁=0.9, β₂=0.999)"]
    assert "global minimum" in names and "start" in names
    # the diverged racer's path stops at its last accepted iterate
    assert np.isclose(fig.data[i0 + 1].x[-1], r.racers[1].trace.x[0])
    # client-side animation: frames update only the trail and heads traces, with play/pause and a step slider
    assert len(fig.frames) >= 10
    assert all(list(f.traces) == [i0 + 3, i0 + 4] for f in fig.frames)
    assert names[i0 + 3] == "trail" and names[i0 + 4] == "current"
    assert [b.label for b in fig.layout.updatemenus[0].buttons] == ["▶ Play", "❚❚ Pause"]
    assert len(fig.layout.sliders[0].steps) == len(fig.frames)
    assert fig.layout.sliders[0].steps[0].label == "0"
    # the first frame's heads sit at the start, the last at each racer's final iterate
    np.testing.assert_allclose(fig.frames[0].data[1].x, [3.0, 3.0, 3.0])
    last = fig.frames[-1].data[1]
    np.testing.assert_allclose(last.x, [rc.trace.x[0] for rc in r.racers])
    assert list(fig.layout.xaxis.range) == [-5.0, 5.0]
    assert fig.layout.yaxis.scaleanchor == "x"  # equal scales: gradients look perpendicular to level lines
    assert fig.layout.xaxis.title.text == "x"
    # no plotly title: the legend row above the plot cannot meet one (the page heads the figure)
    assert not fig.layout.title.text
    # room for a 300 px plot area on a 390 px phone (≈ 358 px of container)
    assert fig.layout.margin.l + fig.layout.margin.r <= 60


def test_contour_levels_floor_and_log(quad_race):
    s, r, g = quad_race
    z, floor = figs.contour_levels(g, s.f_min)
    assert floor > 0
    np.testing.assert_allclose(z, np.log10(g.z - s.f_min + floor))


def test_contour_without_animation_or_click(quad_race):
    s, r, g = quad_race
    fig = figs.fig_race_contour(r, g, s, clickable=False, animate=False,
                                extra_points=[(1.0, 1.0, "unregularized minimum", "diamond")])
    assert not fig.frames and not fig.layout.updatemenus
    assert "start picker" not in [t.name for t in fig.data]
    assert "unregularized minimum" in [t.name for t in fig.data]


def test_convergence_log_axes_and_divergence_mark(quad_race):
    s, r, _ = quad_race
    fig = figs.fig_convergence(r, s)
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis.dtick == 1  # theme.log_axis(): powers of ten only
    lines = [t for t in fig.data if t.mode == "lines"]
    assert len(lines) == len(r.racers)
    marks = [t for t in fig.data if t.mode == "markers+text"]
    assert len(marks) == 1 and "diverged at" in marks[0].text[0]
    # GD with eta = 0.01 on H = diag(1, 100): f - f* falls by (1 - 0.01)^2 per step (slow mode)
    y = np.asarray(lines[0].y)
    np.testing.assert_allclose(y[1001] / y[1000], 0.99**2, rtol=1e-6)
    dist = figs.fig_convergence(r, s, quantity="distance")
    np.testing.assert_allclose(np.asarray(dist.data[0].y)[1001] / np.asarray(dist.data[0].y)[1000], 0.99, rtol=1e-6)
    assert "distance" in dist.layout.yaxis.title.text
    with pytest.raises(ValueError):
        figs.fig_convergence(r, s, quantity="speed")


def test_figures_write_no_plotly_private_attributes():
    # old code stored animation frames in fig._frame_objs
    import inspect

    assert "_frame_objs" not in inspect.getsource(figs)


def test_step_family_figure_carries_every_step_size_as_a_frame():
    fam = step_family(StepFamilyConfig().clamped())
    fig = figs.fig_step_family(fam, active=12)
    assert len(fig.frames) == len(fam.racers) == 21
    slider = fig.layout.sliders[0]
    assert slider.active == 12 and len(slider.steps) == 21
    # the slider's current value names the frame: eta, its multiple of the limit, and the outcome
    assert slider.steps[12].label.startswith("η = 2.2 = 1.1 × 2/L: diverged at step")
    assert "after 200 steps" in slider.steps[4].label  # 0.7 x: converges, no divergence
    assert all(f.traces == (len(fig.data) - 4, len(fig.data) - 3) for f in fig.frames)
    # the initial data are the active frame's
    np.testing.assert_array_equal(fig.data[len(fig.data) - 4].x, fig.frames[12].data[0].x)
    assert len(fig.to_json()) <= 1_500_000  # payload budget of a live figure


def test_3d_surface_is_single_webgl_view(quad_race):
    s, r, g = quad_race
    fig = figs.fig_surface_3d(g, r, s)
    assert sum(t.type == "surface" for t in fig.data) == 1
    assert sum(t.type == "scatter3d" for t in fig.data) == len(r.racers)
    assert fig.layout.scene.zaxis.title.text == "f − f*"


def test_step_ruler_places_threshold_on_log_scale():
    thr = stability_threshold("gd", 100.0)
    fig = figs.fig_step_ruler([("GD", "#000", 0.03, thr, "2/L"), ("Adam", "#111", 0.1, None, None)], 1e-4, 10.0,
                              lipschitz=100.0)
    assert fig.layout.xaxis.type == "log"
    np.testing.assert_allclose(fig.layout.xaxis.range, (-4, 1))
    texts = [t.text[0] for t in fig.data if t.text]
    assert [t.strip() for t in texts] == ["2/L = 0.02"]
    # eta above the threshold is drawn as a cross, below (or without threshold) as a circle
    symbols = [t.marker.symbol for t in fig.data if t.mode == "markers"]
    assert symbols == ["x", "circle"]


def test_gradient_check_figure_has_reference_slopes():
    s = rosenbrock()
    sweep = finite_difference_sweep(s.value, s.gradient, np.array([-1.2, 1.0]), n_h=25)
    fig = figs.fig_gradient_check(sweep)
    names = [t.name for t in fig.data]
    for n in ("forward difference", "central difference", "O(h) slope 1", "O(h²) slope 2"):
        assert n in names
    assert any(n and n.startswith("round-off") for n in names)
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"
    slope2 = fig.data[names.index("O(h²) slope 2")]
    x, y = np.asarray(slope2.x), np.asarray(slope2.y)
    np.testing.assert_allclose(np.diff(np.log10(y)) / np.diff(np.log10(x)), 2.0)
    # the guide sits a decade above the central-difference error at h = 1e-3
    i = int(np.argmin(np.abs(np.log10(x) + 3)))
    j = int(np.argmin(np.abs(np.log10(sweep.hs) + 3)))
    assert y[i] == pytest.approx(10 * sweep.err_central[j])


def test_search_figures():
    c = compare_search(50, n_evals=200, rng=np.random.default_rng(0))
    fig = figs.fig_search_vs_evals(c)
    assert [t.name for t in fig.data][:2] == ["random search", "GD, analytic ∇f (1 eval/step)"]
    assert "51 evals/step" in fig.data[2].name
    assert fig.layout.yaxis.type == "log" and "d = 50" in fig.layout.xaxis.title.text
    sw = search_vs_dimension((2, 20), n_evals=100, rng=np.random.default_rng(0))
    fig = figs.fig_search_vs_dimension(sw, d_now=20)
    assert fig.layout.xaxis.type == "log" and list(fig.data[0].x) == [2, 20]
    assert fig.layout.xaxis.range[1] < np.log10(20) + 0.5  # the marker line does not stretch the axis


def test_step_ruler_names_rows_inside_the_plot_not_as_tick_labels():
    fig = figs.fig_step_ruler([("Momentum (heavy ball)", "#111", 0.1, 1.0, "2(1+β)/L"), ("Adam", "#222", 0.1, None, None)],
                              1e-5, 10.0, lipschitz=3.8)
    assert fig.layout.yaxis.showticklabels is False
    assert [a.text for a in fig.layout.annotations] == ["Momentum (heavy ball)", "Adam"]
    assert [a.y for a in fig.layout.annotations] == ["Momentum (heavy ball)", "Adam"]


def test_gradient_check_names_its_quantity_in_the_title():
    s = rosenbrock()
    sweep = finite_difference_sweep(s.value, s.gradient, np.array([-1.2, 1.0]), n_h=25)
    fig = figs.fig_gradient_check(sweep)
    assert "‖g_h − ∇f‖ / ‖∇f‖" in fig.layout.title.text and not fig.layout.yaxis.title.text


def test_dict_built_figures_survive_plotly_validation_unchanged():
    """The gradient-check and search figures are built from dicts without plotly's validation (issue 12: the
    seed move rebuilt both search figures, ~10 ms each validated, <1 ms now): validating their dict again
    rejects nothing and changes nothing."""
    import json

    import plotly.graph_objects as go
    import plotly.io as pio

    s = rosenbrock()
    sweep = finite_difference_sweep(s.value, s.gradient, np.array([-1.2, 1.0]), n_h=25)
    c = compare_search(50, n_evals=200, rng=np.random.default_rng(0))
    sw = search_vs_dimension((1, 2, 20), n_evals=100, rng=np.random.default_rng(0))
    for fig in (figs.fig_gradient_check(sweep), figs.fig_search_vs_evals(c), figs.fig_search_vs_dimension(sw),
                figs.fig_search_vs_dimension(sw, d_now=7)):
        plain = json.loads(pio.to_json(fig.to_dict(), validate=False))
        checked = json.loads(pio.to_json(go.Figure(fig.to_dict(), skip_invalid=False).to_dict(), validate=False))
        assert plain == checked

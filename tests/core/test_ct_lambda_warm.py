"""TV-PDHG warm-started at another λ (issue 12 item 4): the state it starts from, that it reaches the same minimiser
as a run from zero, the flag on its result — and why the CT lab does not use it (see ``lab.warm_from``): stopped at
the same tolerance it lands elsewhere than the run from zero, by more than 0.05 dB of PSNR at small λ."""

from dataclasses import replace

import numpy as np
import pytest

from regopt_core.ct import lab
from regopt_core.ct.experiments import make_geometry, reconstruct, score, simulate_scan, warm_startable
from regopt_core.ct.phantoms import shepp_logan
from regopt_core.ct.projectors import make_projector
from regopt_core.ct.tv import _dual_radius, tv_pdhg, warm_state
from regopt_core.seeding import stream

ANCHOR = lab.DEFAULT.lam


@pytest.fixture(scope="module")
def problem():
    g = make_geometry("parallel", 64, 20)
    proj = make_projector(g)
    sc = simulate_scan(shepp_logan(), g, i0=1e4, rng=stream(5, 1))
    anchor = reconstruct(sc, "tv", projector=proj, lam=ANCHOR, n_iter=150, stop_at_tol=True)
    return sc, proj, anchor


@pytest.mark.parametrize("lam", [0.0, 1e-5, 2e-4, 2e-3, 2e-2, 1.0])
def test_warm_state_keeps_the_iterate_and_projects_the_tv_dual_onto_the_new_ball(problem, lam):
    _, proj, anchor = problem
    st = anchor.state
    ws = warm_state(st, proj, lam=lam)
    for name in ("x", "xbar", "ax", "axbar", "p"):
        np.testing.assert_array_equal(getattr(ws, name), getattr(st, name), err_msg=name)
    assert ws.nit == 0 and ws.change == float("inf")
    r = float(_dual_radius(lam, proj))
    # the radius is the solver's own: s²λ/c with s = 1/h, c = 2
    assert r == pytest.approx(lam / proj.geometry.pixel_size**2 / 2.0, rel=1e-6)
    mag_old = np.hypot(st.q[0].astype(np.float64), st.q[1].astype(np.float64))
    mag_new = np.hypot(ws.q[0].astype(np.float64), ws.q[1].astype(np.float64))
    if lam == 0:
        assert not ws.q.any()
        return
    assert mag_new.max() <= r * (1 + 1e-5)
    inside = mag_old <= r
    np.testing.assert_array_equal(ws.q[:, inside], st.q[:, inside])  # the projection moves nothing inside the ball
    out = ~inside
    if out.any():  # ... and puts what lies outside on the sphere, in the same direction
        np.testing.assert_allclose(mag_new[out], r, rtol=1e-5)
        np.testing.assert_allclose(ws.q[:, out] * mag_old[out], st.q[:, out] * mag_new[out], rtol=1e-4, atol=1e-9)
    if lam >= ANCHOR:
        np.testing.assert_array_equal(ws.q, st.q)  # a larger ball holds the old dual as it is


@pytest.mark.parametrize("lam", [2e-3, 2e-2])
def test_a_warm_started_run_reaches_the_minimiser_of_the_new_lambda(problem, lam):
    """PDHG from the anchor's state converges to the same image as from zero (far past the tolerance stop)."""
    sc, proj, anchor = problem
    cold = tv_pdhg(sc.data, proj, lam=lam, n_iter=300)
    warm = tv_pdhg(sc.data, proj, lam=lam, n_iter=300, start=warm_state(anchor.state, proj, lam=lam))
    stale = tv_pdhg(sc.data, proj, lam=ANCHOR, n_iter=300, start=warm_state(anchor.state, proj, lam=ANCHOR))
    diff = lambda x: float(np.linalg.norm(x - cold.x) / np.linalg.norm(cold.x))  # noqa: E731
    assert diff(warm.x) < 2e-3 and 5 * diff(warm.x) < diff(stale.x)  # it solved the new λ, not the anchor's
    assert abs(score(warm.x, sc.truth)[0] - score(cold.x, sc.truth)[0]) < 0.01
    assert warm.fun == pytest.approx(cold.fun, rel=5e-4)  # (0.015 % apart at λ = 0.02, the warm one lower)


def test_a_warm_started_result_says_where_it_came_from(problem):
    sc, proj, anchor = problem
    kw = {"projector": proj, "lam": 2e-3, "stop_at_tol": True}
    assert anchor.lam == ANCHOR and anchor.warm_from_lam is None
    cold = reconstruct(sc, "tv", n_iter=150, **kw)
    warm = reconstruct(sc, "tv", n_iter=150, warm=anchor, **kw)
    assert cold.warm_from_lam is None and cold.lam == 2e-3
    assert warm.warm_from_lam == ANCHOR and warm.lam == 2e-3
    assert len(warm.psnr_trace) == warm.nit == len(warm.objective)  # its own iterations, counted from the anchor
    # an exact continuation of a warm-started run keeps the flag
    part = reconstruct(sc, "tv", projector=proj, lam=2e-3, n_iter=5, warm=anchor)
    more = reconstruct(sc, "tv", projector=proj, lam=2e-3, n_iter=12, resume=part)
    assert more.warm_from_lam == ANCHOR and more.nit == 12
    # never chained, never at the same λ, never another method, never two starts
    assert not warm_startable(warm, "tv", 1e-3) and not warm_startable(anchor, "tv", ANCHOR)
    assert not warm_startable(anchor, "sart", 2e-3) and warm_startable(anchor, "tv", 2e-3)
    for bad in ({"warm": warm}, {"warm": anchor, "x0": np.zeros((64, 64))}, {"warm": anchor, "resume": part}):
        with pytest.raises(ValueError):
            reconstruct(sc, "tv", n_iter=150, **kw, **bad)
    assert reconstruct(sc, "sart", projector=proj, n_iter=3).lam is None


@pytest.mark.parametrize("lam", [0.0, 1e-5, 2e-4, 1e-3, 2e-3, 2e-2, 0.2, 1.0])
def test_the_lab_never_starts_a_key_from_another_lambda(lam):
    """Determinism: a result never depends on which λ somebody computed before (the candidates keep λ)."""
    for views in lab.STRIP_VIEWS:
        key = replace(lab.DEFAULT, lam=lam, n_iter=200).clamped().recon("tv", views)
        cands = lab.warm_from(key)
        assert cands and all(c.lam == key.lam and replace(c, n_iter=key.n_iter) == key for c in cands)


def test_the_lab_ignores_a_start_at_another_lambda():
    cfg = replace(lab.DEFAULT, n=64, views=20).clamped()
    key = replace(cfg.recon("tv", 20), lam=2e-3)
    anchor = lab.reconstruction(replace(key, lam=ANCHOR, n_iter=key.n_iter - 10))  # converged, fewer iterations
    assert anchor.nit < key.n_iter - 10 and anchor.lam == ANCHOR
    cold = lab.reconstruction(key)
    again = lab.reconstruction(key, start=anchor)  # not taken as "converged, so the result for more iterations"
    np.testing.assert_array_equal(again.x, cold.x)
    assert again.lam == 2e-3 and again.warm_from_lam is None and again.nit == cold.nit
    sc, proj = lab.scan(key), lab._projector_of(key)
    warm = reconstruct(sc, "tv", projector=proj, lam=2e-3, n_iter=key.n_iter - 10, warm=anchor, stop_at_tol=True)
    np.testing.assert_array_equal(lab.reconstruction(key, start=warm).x, cold.x)  # a warm-started start is ignored


def test_why_the_lab_does_not_warm_start_lambda():
    """The number ``lab.warm_from`` states: at 128², 40 views, λ = 2·10⁻⁴ the warm start from the anchor, stopped at
    the same tolerance, is 0.6 dB off the run from zero — past the 0.05 dB a page may differ by. If this fails, the
    tolerance stop or the solver changed: measure again (/tmp-style bench in the commit message) before wiring it."""
    key = replace(lab.DEFAULT.clamped().recon("tv", 40), lam=2e-4)
    anchor = lab.reconstruction(replace(key, lam=ANCHOR))
    cold = lab.reconstruction(key)
    warm = reconstruct(lab.scan(key), "tv", projector=lab._projector_of(key), lam=key.lam, n_iter=key.n_iter,
                       warm=anchor, stop_at_tol=True)
    assert cold.message == warm.message  # both stopped at the tolerance ...
    assert warm.nit < cold.nit  # ... the warm one sooner,
    assert 0.5 < warm.psnr - cold.psnr < 0.7  # but elsewhere: 0.60 dB at the time of writing

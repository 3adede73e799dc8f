"""CT numerics made cheaper without changing a number (issue 12, the CT budget): the fast paths of the TV operators
compute exactly what the textbook lines compute."""

import numpy as np
import pytest

from regopt_core.ct import tv


def _textbook_gradient(x):
    g = np.zeros((2,) + x.shape, dtype=x.dtype)
    g[0, :, :-1] = x[:, 1:] - x[:, :-1]
    g[1, :-1, :] = x[1:, :] - x[:-1, :]
    return g


def _textbook_divergence(p):
    px, py = p[0], p[1]
    d = np.zeros(px.shape, dtype=p.dtype)
    d[:, :-1] += px[:, :-1]
    d[:, 1:] -= px[:, :-1]
    d[:-1, :] += py[:-1, :]
    d[1:, :] -= py[:-1, :]
    return d


def _textbook_tv_gradient(x, eps=1e-4):
    g = _textbook_gradient(x)
    mag = np.sqrt(g[0] * g[0] + g[1] * g[1] + np.float32(eps * eps))
    return -_textbook_divergence(g / mag)


@pytest.mark.parametrize("n", [1, 2, 7, 64])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_flattened_gradient_and_divergence_equal_the_row_by_row_textbook(n, dtype):
    rng = np.random.default_rng(n)
    x = rng.standard_normal((n, n)).astype(dtype)
    g = np.full((2, n, n), 7.0, dtype)
    g[1, -1, :] = 0.0  # the documented precondition of _gradient_into (the last column of g[0] it writes itself)
    np.testing.assert_array_equal(tv._gradient_into(x, g), _textbook_gradient(x))
    np.testing.assert_array_equal(tv.gradient(x), _textbook_gradient(x))
    # a field from a gradient (last column of p[0] zero: the fast path) and an arbitrary one (the row-by-row path)
    for p in (_textbook_gradient(x) * dtype(0.3), rng.standard_normal((2, n, n)).astype(dtype)):
        out = np.full((n, n), 5.0, dtype)
        np.testing.assert_array_equal(tv._divergence_into(p, out), _textbook_divergence(p))
        np.testing.assert_array_equal(tv.divergence(p), _textbook_divergence(p))


def test_divergence_stays_the_negative_adjoint_of_the_gradient():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((33, 33))
    p = rng.standard_normal((2, 33, 33))
    out = np.empty((33, 33))
    assert np.vdot(tv._gradient_into(x, np.zeros((2, 33, 33))), p) == pytest.approx(
        -np.vdot(x, tv._divergence_into(p, out)), rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tv_gradient_with_kept_buffers_equals_the_textbook_and_is_reusable(dtype):
    rng = np.random.default_rng(1)
    step = tv._TVGradient((48, 48), dtype, 1e-4)
    for _ in range(3):  # the same buffers, new images: no state carried over
        x = rng.random((48, 48)).astype(dtype)
        np.testing.assert_array_equal(step(x), _textbook_tv_gradient(x))
        np.testing.assert_array_equal(tv.tv_gradient(x), _textbook_tv_gradient(x))


def _asd_pocs_textbook(b, proj, eps, n_iter, n_tv=20, alpha=0.02, alpha_red=0.95, r_max=0.95, beta=1.0,
                       beta_red=0.995):
    """Sidky & Pan's loop as the solver stood before its TV steps kept their buffers (allocating every temporary)."""
    from regopt_core.ct.sart import sart

    x = np.zeros((proj.n, proj.n), np.float32)
    dtvg = None
    for _ in range(n_iter):
        x_prev = x
        pocs = sart(b, proj, n_iter=1, relax=min(beta, 1.99), nonneg=True, x0=x)
        x, dd = pocs.x, pocs.fun
        dp = float(np.linalg.norm(x - x_prev))
        dtvg = alpha * dp if dtvg is None else dtvg
        x_pocs = x
        for _ in range(n_tv):
            v = _textbook_tv_gradient(x)
            nv = float(np.linalg.norm(v))
            if nv == 0.0:
                break
            x = x - np.float32(dtvg / nv) * v
        if float(np.linalg.norm(x - x_pocs)) > r_max * dp and dd > eps:
            dtvg *= alpha_red
        beta *= beta_red
    return x


def test_asd_pocs_with_kept_buffers_computes_the_textbook_loop():
    from regopt_core.ct.experiments import make_geometry, simulate_scan
    from regopt_core.ct.phantoms import shepp_logan
    from regopt_core.ct.projectors import make_projector
    from regopt_core.seeding import stream

    g = make_geometry("parallel", 48, 12)
    proj = make_projector(g)
    b = simulate_scan(shepp_logan(), g, i0=1e4, rng=stream(2, 1)).data.astype(np.float32)
    eps = 0.015 * float(np.linalg.norm(b))
    np.testing.assert_array_equal(tv.asd_pocs(b, proj, eps=eps, n_iter=7).x, _asd_pocs_textbook(b, proj, eps, 7))

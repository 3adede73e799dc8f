"""Cached computations of the losses & regularizers page (primitive arguments only)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from pages._ui.cached import LARGE, SMALL, pinned
from regopt_core import datasets, linear_models

GEOMETRY_DEFAULTS = dict(reg="l1", loss="squared", rho=0.7, alpha=0.5, n_outliers=0, seed=0)
CLASSIFIER_DEFAULTS = dict(loss="softmax", reg="l2", lam=1e-3, alpha=0.5, n_steps=300, seed=0)
N_LAMBDAS = 48


@pinned
@st.cache_data(**SMALL)
def geometry(reg: str, loss: str, rho: float, alpha: float, n_outliers: int, seed: int) -> dict:
    """Data, loss contours and the regularization path over a fixed λ grid for the 2-weight problem."""
    rng = np.random.default_rng(seed)
    data = datasets.correlated_regression(60, rho=rho, n_outliers=n_outliers, rng=rng)
    lams = np.concatenate([[0.0], np.geomspace(1e-3, 10.0, N_LAMBDAS)])
    path = linear_models.regularization_path(data.X, data.y, lams, reg=reg, alpha=alpha, loss=loss)
    lim = float(max(2.2, 1.25 * np.max(np.abs(path.x))))
    w1 = np.linspace(-lim, lim, 121)
    w2 = np.linspace(-lim, lim, 121)
    grid = linear_models.loss_grid(data.X, data.y, w1, w2, loss=loss)
    return {"path": path, "w1": w1, "w2": w2, "loss_grid": grid}


@st.cache_data(**SMALL)
def solution_at(reg: str, loss: str, rho: float, alpha: float, n_outliers: int, seed: int, lam: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    data = datasets.correlated_regression(60, rho=rho, n_outliers=n_outliers, rng=rng)
    return linear_models.regularization_path(data.X, data.y, np.array([lam]), reg=reg, alpha=alpha, loss=loss).x[0]


@pinned
@st.cache_data(**LARGE)
def classifier(loss: str, reg: str, lam: float, alpha: float, n_steps: int, seed: int) -> linear_models.ClassifierResult:
    """Train the digits classifier on a seeded 70/30 train/validation split."""
    d = datasets.load_digits()
    train, val = datasets.split_indices(len(d.y), (0.7, 0.3), rng=np.random.default_rng(seed))
    return linear_models.train_linear_classifier(
        d.X[train], d.y[train], d.X[val], d.y[val], loss=loss, reg=reg, lam=lam, alpha=alpha,
        n_steps=min(int(n_steps), linear_models.MAX_STEPS), n_classes=10,
    )


def warm_defaults() -> None:
    geometry.pin(**GEOMETRY_DEFAULTS)
    classifier.pin(**CLASSIFIER_DEFAULTS)

r"""Experiment drivers for the loss-landscape page: optimizer races, stability thresholds, a family of
step sizes across a threshold, divergence diagnosis, gradient checks on a surface, and random search
versus gradient descent.

Every experiment takes one frozen, hashable config (:class:`RaceConfig`, :class:`StepFamilyConfig`,
:class:`GradientCheckConfig`, :class:`SearchConfig`); its ``clamped()`` is **the only place** the
server's caps live (steps, racers, grid size, dimension, budget ...), and the experiment functions
raise ``ValueError`` on a config outside them instead of clipping silently. Every optimization loop
here is :func:`regopt_core.optimizers.run` (one loop, one divergence rule).

The package follows its seams: :mod:`~regopt_core.landscapes.configs` (the configs, their caps and the
landscapes, built-in or typed), :mod:`~regopt_core.landscapes.thresholds` (the step-size ruler),
:mod:`~regopt_core.landscapes.race` (races, the contour grid, the step-size family),
:mod:`~regopt_core.landscapes.gradient_check` and :mod:`~regopt_core.landscapes.search` (random search).
Every public name is importable from ``regopt_core.landscapes``.
"""

from regopt_core.landscapes.configs import (
    DEFAULT_ENTRIES,
    FAMILY_FACTORS,
    LR_RANGE,
    MAX_DIM,
    MAX_EVALS,
    MAX_FAMILY,
    MAX_FAMILY_STEPS,
    MAX_GRID,
    MAX_RACERS,
    MAX_START,
    MAX_STEPS,
    MAX_WINDOW,
    OPTIMIZER_LABELS,
    SEARCH_BUDGETS,
    SEARCH_DIMS,
    SUGGESTED_STEPS,
    SURFACE_KEYS,
    THRESHOLD_CHOICES,
    GradientCheckConfig,
    RaceConfig,
    RaceEntry,
    SearchConfig,
    StepFamilyConfig,
    SurfaceConfig,
    build_surface,
    suggested_steps,
)
from regopt_core.landscapes.gradient_check import (
    GradientResult,
    gradient_experiment,
    gradient_sweep,
    planted_bug_gradient,
)
from regopt_core.landscapes.race import (
    Grid,
    Race,
    Racer,
    RaceResult,
    StepFamily,
    explain_divergence,
    race,
    race_experiment,
    step_family,
    surface_grid,
)
from regopt_core.landscapes.search import (
    DimensionSweep,
    SearchComparison,
    SearchResult,
    compare_search,
    diagonal_quadratic,
    random_search,
    search_comparison,
    search_experiment,
    search_sweep,
    search_vs_dimension,
    warm_pairs,
)
from regopt_core.landscapes.thresholds import (
    local_curvature,
    reference_curvature,
    stability_threshold,
    threshold_choices,
    threshold_formula,
)

__all__ = [
    "MAX_STEPS", "MAX_GRID", "MAX_RACERS", "MAX_DIM", "MAX_EVALS", "MAX_START", "MAX_FAMILY_STEPS", "MAX_FAMILY",
    "MAX_WINDOW", "LR_RANGE", "OPTIMIZER_LABELS", "SUGGESTED_STEPS", "FAMILY_FACTORS", "THRESHOLD_CHOICES",
    "SURFACE_KEYS", "SEARCH_DIMS", "DEFAULT_ENTRIES", "DEFAULT",
    "SurfaceConfig", "RaceEntry", "RaceConfig", "Racer", "Race", "RaceResult", "Grid",
    "StepFamilyConfig", "StepFamily", "GradientCheckConfig", "GradientResult", "SearchConfig", "SearchResult",
    "build_surface", "suggested_steps", "stability_threshold", "threshold_formula", "threshold_choices",
    "explain_divergence", "race", "race_experiment", "step_family", "surface_grid", "gradient_sweep",
    "gradient_experiment", "planted_bug_gradient", "reference_curvature", "local_curvature", "SearchComparison",
    "DimensionSweep", "diagonal_quadratic", "random_search", "compare_search", "search_vs_dimension",
    "search_experiment", "search_comparison", "search_sweep", "warm_pairs", "SEARCH_BUDGETS",
]

DEFAULT = RaceConfig.DEFAULT

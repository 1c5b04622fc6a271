"""The significance test of TCAV: concept runs against random-vs-random runs."""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass
class TestResult:
    """Two-sided Welch t-test of the concept's TCAV runs against the null runs.

    p: raw p-value (None when no test was possible).
    p_adjusted: Bonferroni-adjusted, ``min(1, p * n_tests)``.
    significant: ``p_adjusted < level``.
    direction: "+" when the concept's mean TCAV is above the null's, "-" below, "0" equal.
    t: the t statistic (None when undefined).
    degenerate: True when both groups had zero variance (every run gave the same score), so
        the p-value is a limit (0 or 1), not an estimate.
    """

    p: float | None
    p_adjusted: float | None
    significant: bool
    direction: str
    t: float | None
    degenerate: bool


def welch_test(concept: np.ndarray, null: np.ndarray, n_tests: int = 1, level: float = 0.05) -> TestResult:
    """Welch's unequal-variance t-test, two-sided, with a Bonferroni correction for ``n_tests``.

    Degenerate cases are decided explicitly instead of returning NaN: when neither group
    varies, equal means give p = 1 and different means p = 0 (marked ``degenerate``); with
    fewer than two runs in a group there is no test (p None, not significant).

    Examples
    --------
    >>> r = welch_test(np.array([0.9, 0.95, 1.0, 0.92]), np.array([0.4, 0.6, 0.5, 0.55, 0.45]))
    >>> r.significant, r.direction
    (True, '+')
    >>> welch_test(np.full(5, 0.5), np.full(5, 0.5)).p
    1.0
    """
    concept, null = np.asarray(concept, float), np.asarray(null, float)
    diff = concept.mean() - null.mean() if len(concept) and len(null) else 0.0
    direction = "+" if diff > 0 else "-" if diff < 0 else "0"
    if len(concept) < 2 or len(null) < 2:
        return TestResult(None, None, False, direction, None, False)
    se2 = concept.var(ddof=1) / len(concept) + null.var(ddof=1) / len(null)
    if se2 <= 1e-24:
        p = 1.0 if abs(diff) <= 1e-12 else 0.0
        return TestResult(p, p, p * n_tests < level, direction, None, True)
    with warnings.catch_warnings():  # near-identical runs: the degenerate case above decides
        warnings.simplefilter("ignore", RuntimeWarning)
        t, p = stats.ttest_ind(concept, null, equal_var=False)
    p = float(p)
    p_adj = min(1.0, p * n_tests)
    return TestResult(p, p_adj, p_adj < level, direction, float(t), False)


def set_level_test(concept: np.ndarray, null: np.ndarray, groups: np.ndarray,
                   n_tests: int = 1) -> tuple[float | None, float | None]:
    """Is the concept's mean score unusual among random sets used as concepts?

    The concept runs share one set of concept clips, so they are not independent, and the
    run-level Welch test of TCAV scores calls a random set used as a concept "significant"
    about 30 % of the time in our checks. Here each random set ``a`` used as a concept gives
    one mean ``m_a`` over its null runs (``groups`` says which set each null run used), and
    the concept's mean is compared with the spread of the ``m_a`` (a prediction-interval
    t-test, ``n_sets - 1`` degrees of freedom). TCAV applies it to the magnitudes (mean
    directional derivatives): sign counts saturate at 0 or 1 for whole random sets, which
    leaves such a test no power. Returns (p, Bonferroni-adjusted p), or Nones when fewer
    than 3 sets give a mean.

    Examples
    --------
    >>> groups = np.repeat(np.arange(5), 4)
    >>> null = np.random.default_rng(0).uniform(0.3, 0.7, 20)
    >>> p, _ = set_level_test(np.full(20, 0.95), null, groups)
    >>> p < 0.05
    True
    """
    concept, null, groups = np.asarray(concept, float), np.asarray(null, float), np.asarray(groups)
    means = np.array([null[groups == a].mean() for a in np.unique(groups)])
    if len(means) < 3 or len(concept) == 0:
        return None, None
    spread = means.std(ddof=1) * np.sqrt(1 + 1 / len(means))
    diff = float(concept.mean() - means.mean())
    if spread <= 1e-12:
        p = 1.0 if abs(diff) <= 1e-12 else 0.0
    else:
        p = float(2 * stats.t.sf(abs(diff) / spread, len(means) - 1))
    return p, min(1.0, p * n_tests)

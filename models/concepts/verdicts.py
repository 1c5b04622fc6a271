"""What a TCAV result says in words: the verdict of each test and the warnings that qualify it.

The thresholds below say when a request is too small to be trusted; they only add warnings,
they never change a score or a test.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .stats import TestResult

MIN_RUNS = 20
MIN_CONCEPT_CLIPS = 20
MIN_TARGET_CLIPS = 30
LOW_ACCURACY = 0.7


def class_name(k: int, class_names: Sequence[str] | None) -> str:
    """``'flute'`` for class ``k`` when its name is known, else ``class k``."""
    return f"'{class_names[k]}'" if class_names is not None and 0 <= k < len(class_names) else f"class {k}"


def verdict(concept: str, layer: str, k: int, tcav: np.ndarray, null: np.ndarray, test: TestResult,
            significant: bool, p_set: float | None, n_tests: int, class_names: Sequence[str] | None) -> str:
    """One sentence on a (concept, layer, class) test.

    tcav, null: ``(runs,)`` TCAV scores of the concept runs and of the random-vs-random runs.
    test: the run-level Welch test; p_set: the Bonferroni-adjusted set-level p (or None).
    significant: the decision of both tests together.
    """
    target = class_name(k, class_names)
    scores = f"TCAV {np.mean(tcav):.2f} against {np.mean(null):.2f} for random concepts"
    corrected = f" after correcting for {n_tests} tests" if n_tests > 1 else ""
    if test.p is None:
        return f"No test was possible for '{concept}' and {target} at {layer} (too few runs)."
    p = f"p = {test.p_adjusted:.2g}, set-level p = {p_set:.2g}{corrected}" if p_set is not None else \
        f"p = {test.p_adjusted:.2g}{corrected}"
    if significant:
        verb = "raises" if test.direction == "+" else "lowers"
        return f"'{concept}' {verb} the score of {target} at layer {layer}: {scores} ({p})."
    return f"No evidence that '{concept}' matters for {target} at layer {layer}: {scores} ({p})."


def row_warnings(acc: np.ndarray, n_runs: int, degenerate_variance: bool, zero_grad: bool, zero_cavs: int,
                 concept: str, layer: str, k: int, class_names: Sequence[str] | None) -> list[str]:
    """Warnings on one (concept, layer, class) test.

    acc: ``(runs,)`` held-out accuracies of the concept's CAVs; n_runs: runs made per concept;
    degenerate_variance: every run gave the same TCAV score; zero_grad: the class score's
    gradient at the layer is zero on every target clip; zero_cavs: runs that found no direction.
    """
    out = []
    if len(acc) and np.mean(acc) < LOW_ACCURACY:
        out.append(f"The CAV tells '{concept}' from random clips only {np.mean(acc):.0%} of the time on held-out "
                   f"clips (below {LOW_ACCURACY:.0%}): the concept is not linearly present at layer {layer}, "
                   "so its TCAV score means little here.")
    if n_runs < MIN_RUNS:
        out.append(f"Only {n_runs} runs were made (fewer than {MIN_RUNS}): too few for a reliable test.")
    if degenerate_variance:
        out.append("Every run gave the same TCAV score, so the t-test is undefined; the p-value shown is a "
                   "limit (0 or 1), not an estimate.")
    if zero_grad:
        out.append(f"The score of {class_name(k, class_names)} does not change with layer {layer} on these clips "
                   "(zero gradient), so no concept at this layer can matter for it.")
    if zero_cavs:
        out.append(f"In {zero_cavs} run(s) the classifier found no direction: the concept clips and the random "
                   "clips look the same at this layer.")
    return out


def set_level_caveat(p_set: float | None) -> str:
    """Why a test whose runs differ from the random baseline is still not called significant
    (``p_set``: the adjusted set-level p, or None when there was no set-level test)."""
    return ("The runs differ from the random baseline, but random sets used as concepts often "
            "move the class score as much" + (f" (set-level p = {p_set:.2g})" if p_set is not None
                                              else "") + ": the difference may come from these "
            "particular clips rather than from the concept, so it is not called significant.")


def set_warnings(concept_d: dict[str, list[str]], random_d: list[list[str]],
                 target_d: dict[int, list[str]]) -> list[str]:
    """Warnings on the sets of a request, from the digests of their clips: too few clips, and
    clips shared between concept, random and target sets."""
    out = []
    for name, ds in concept_d.items():
        if len(ds) < MIN_CONCEPT_CLIPS:
            out.append(f"Concept '{name}' has {len(ds)} clips; at least {MIN_CONCEPT_CLIPS} are needed for a "
                       "CAV that does not depend on the particular clips.")
    for k, ds in target_d.items():
        if len(ds) < MIN_TARGET_CLIPS:
            out.append(f"Class {k} has {len(ds)} target clips; at least {MIN_TARGET_CLIPS} are recommended.")
    random_all = {d for ds in random_d for d in ds}
    for name, ds in concept_d.items():
        shared = len(set(ds) & random_all)
        if shared:
            out.append(f"{shared} clip(s) of concept '{name}' also appear in the random sets; random clips "
                       "should be disjoint from the concept.")
    target_all = {d for ds in target_d.values() for d in ds}
    shared = len(target_all & (random_all | {d for ds in concept_d.values() for d in ds}))
    if shared:
        out.append(f"{shared} target clip(s) also appear among the concept or random clips.")
    return out


def padding_warning(padded: dict[str, int], n_frames: int) -> str:
    """The warning when clips were looped up to ``n_frames`` (``padded``: clips looped, by kind of set)."""
    return (f"Some clips were shorter than the common length of {n_frames} frames and were "
            "looped to fill it (" + ", ".join(f"{k}: {v}" for k, v in padded.items() if v)
            + "); if only one kind of set needed it, the CAV may have learnt that.")


def few_runs_warning(n_sets: int, n_runs: int, wanted: int) -> str:
    """The warning when only ``n_sets`` random sets allowed ``n_runs`` of the ``wanted`` runs."""
    return f"Only {n_sets} random sets were given, so only {n_runs} runs were made instead of {wanted}."

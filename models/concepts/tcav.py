"""Testing with Concept Activation Vectors (TCAV, Kim et al. 2018), with a significance test.

Does a musical concept (a set of clips that share it, e.g. vibrato) push a classifier towards
a class? At a layer of the model:

1. activations of the concept's clips and of random clips are flattened per clip;
2. run i fits a linear classifier concept vs random set i (balanced, stratified 2/3 - 1/3
   split, seed = base + i); its unit normal is the CAV ``v_i``, its held-out accuracy says
   whether the concept is linearly present at the layer at all;
3. for each target clip ``x`` of class k, ``S(x) = grad_h score_k(x) . v_i`` (the gradient of
   the class score, not of a loss, with respect to the layer output ``h``), computed once per
   (layer, target set) and multiplied with every CAV at once;
4. TCAV_i = fraction of target clips with S > 0; magnitude_i = mean S;
5. the same with random set a as the "concept" against random set b (ordered pairs, capped)
   gives the null distribution; a two-sided Welch t-test of the concept runs against the
   null runs, Bonferroni-corrected over the (concept, layer, class) tests of one request,
   decides significance and direction.

Activations, gradients and CAVs are cached by content (see :mod:`.cache`); activations and
gradients come from :mod:`.probe`, the CAVs from :mod:`.cav`, the tests from :mod:`.stats`, and
the verdicts and warnings are worded in :mod:`.verdicts`.

Shapes: a clip is ``(..., T)`` (a log-mel ``(F, T)`` for the prototype model), a layer output
``(B, ...)``; its per-clip vector has ``D`` values (``D = prod(...)``, or the same without
the time axis when activations are averaged over time).
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Mapping, NamedTuple, Sequence

import numpy as np
import torch
import torch.nn as nn

from .cache import ConceptCache, key_of, tensor_digest
from .cav import balanced_split, fit_cavs
from .clips import Clips, common_length, fit_length
from .hooks import eval_mode
from .probe import Probe, activations, class_gradients
from .stats import TestResult, set_level_test, welch_test
from .verdicts import few_runs_warning, padding_warning, row_warnings, set_level_caveat, set_warnings, verdict

Progress = Callable[[float], None]


@dataclass
class TCAVConfig:
    """Settings of a TCAV request.

    runs: concept runs N per (concept, layer), each against its own random set.
    null_runs: cap on the random-vs-random runs (ordered pairs of random sets, spread evenly
        over the sets used as the "concept"; 400 covers every pair of 20 sets).
    seed: base seed; run i uses ``seed + i`` (null run j: ``seed + j``).
    alpha: L2 strength of the logistic-regression CAVs (on the mean loss).
    train_fraction: share of each balanced set used to fit a CAV; the rest measures accuracy.
    time_mean: average activations over the time (last) axis before flattening: CAVs that do
        not care where in the clip a concept occurs. The directional derivative then moves
        every frame along the CAV.
    n_frames: clip length every clip is cut or looped to (None: the median length).
    level: significance level after the Bonferroni correction.
    batch_size: clips per forward pass.
    """

    runs: int = 20
    null_runs: int = 400
    seed: int = 0
    alpha: float = 0.01
    train_fraction: float = 2 / 3
    time_mean: bool = False
    n_frames: int | None = None
    level: float = 0.05
    batch_size: int = 32


@dataclass
class Row:
    """One (concept, layer, class) test. Run lists are in run order."""

    concept: str
    layer: str
    target: int
    tcav: list[float]
    null: list[float]
    magnitude: list[float]
    null_magnitude: list[float]
    cav_accuracy: list[float]
    p: float | None
    p_adjusted: float | None
    significant: bool
    direction: str
    t: float | None
    degenerate: bool
    p_set: float | None
    p_set_adjusted: float | None
    verdict: str
    warnings: list[str]
    seeds: list[int]
    random_sets: list[int]
    n_targets: int

    def to_dict(self) -> dict:
        def summary(runs):
            a = np.asarray(runs, float)
            return {"mean": float(a.mean()) if a.size else None,
                    "std": float(a.std(ddof=1)) if a.size > 1 else 0.0, "runs": [float(v) for v in a]}

        return {
            "concept": self.concept, "layer": self.layer, "class": self.target,
            "tcav": summary(self.tcav), "null": summary(self.null),
            "magnitude": summary(self.magnitude), "null_magnitude": summary(self.null_magnitude),
            "cav_accuracy": summary(self.cav_accuracy),
            "p": self.p, "p_adjusted": self.p_adjusted, "significant": self.significant,
            "direction": self.direction, "t": self.t, "degenerate_variance": self.degenerate,
            "p_set": self.p_set, "p_set_adjusted": self.p_set_adjusted,
            "verdict": self.verdict, "warnings": self.warnings, "seeds": self.seeds,
            "random_sets": self.random_sets, "n_targets": self.n_targets,
        }


@dataclass
class TCAVResult:
    """Everything a TCAV request found. :meth:`to_dict` gives the JSON-ready form.

    ``directions[(concept, layer)]`` is the concept's mean CAV at the layer (unit length),
    for :func:`hear_concept`; it is not part of :meth:`to_dict`.
    """

    config: TCAVConfig
    rows: list[Row]
    layers: list[str]
    concepts: list[str]
    classes: list[int]
    n_tests: int
    null_pairs: list[tuple[int, int]]
    null_seeds: list[int]
    null_accuracy: dict[str, list[float]]
    warnings: list[str]
    timings: dict[str, float]
    cache: dict[str, int]
    n_frames: int
    directions: dict[tuple[str, str], torch.Tensor] = field(repr=False, default_factory=dict)

    def row(self, concept: str, layer: str, target: int) -> Row:
        for r in self.rows:
            if (r.concept, r.layer, r.target) == (concept, layer, target):
                return r
        raise KeyError((concept, layer, target))

    def to_dict(self) -> dict:
        return {
            "config": {**asdict(self.config), "n_frames": self.n_frames},
            "layers": self.layers, "concepts": self.concepts, "classes": self.classes,
            "n_tests": self.n_tests,
            "results": [r.to_dict() for r in self.rows],
            "null": {"pairs": [list(p) for p in self.null_pairs], "seeds": self.null_seeds,
                     "cav_accuracy": {layer: {"mean": float(np.mean(a)) if a else None, "runs": a}
                                      for layer, a in self.null_accuracy.items()}},
            "warnings": self.warnings, "timings": self.timings, "cache": self.cache,
        }


def run_tcav(
    model: nn.Module,
    layers: str | Sequence[str],
    concepts: Mapping[str, Clips],
    random_sets: Sequence[Clips],
    targets: Mapping[int, Clips],
    config: TCAVConfig | None = None,
    cache: ConceptCache | None = None,
    progress: Progress | None = None,
    class_names: Sequence[str] | None = None,
) -> TCAVResult:
    """TCAV scores with significance for every (concept, layer, target class).

    Parameters
    ----------
    model : a module whose forward maps a batch of clips to class scores ``(B, C)``, or to an
        output with a ``logits`` tensor (the prototype model: ``-tau * e_k``).
    layers : name(s) of submodules (``model.get_submodule``) whose output is one tensor.
    concepts : concept name -> its clips, ``(n, ..., T)`` or a list of ``(..., T_i)``.
    random_sets : N sets of in-domain random clips, disjoint from concept and target clips.
    targets : class index -> clips of that class.
    config : :class:`TCAVConfig`.
    cache : a :class:`ConceptCache` shared between requests (None: no caching).
    progress : called with the fraction done, from 0 to 1.
    class_names : for the verdict sentences (default: "class <k>").

    Returns
    -------
    TCAVResult

    Examples
    --------
    >>> result = run_tcav(model, "encoder.last", {"vibrato": vib}, randoms, {3: violins})  # doctest: +SKIP
    >>> row = result.row("vibrato", "encoder.last", 3)                                  # doctest: +SKIP
    >>> row.significant, row.direction, np.mean(row.tcav)                               # doctest: +SKIP
    (True, '+', 0.86)
    """
    cfg = config or TCAVConfig()
    layers = [layers] if isinstance(layers, str) else list(layers)
    report = progress or (lambda fraction: None)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    _check_request(concepts, random_sets, targets)

    sets = _prepare_sets(concepts, random_sets, targets, cfg.n_frames)
    warnings = [padding_warning(sets.padded, sets.n_frames)] if any(sets.padded.values()) else []
    warnings += set_warnings(sets.concept_digests, sets.random_digests, sets.target_digests)
    first = next(iter(sets.concepts.values()))
    probe = Probe.of(model, layers, first[:1], cfg.time_mean, cfg.batch_size,
                     cache if cache is not None else ConceptCache(max_bytes=0))

    with eval_mode(model):
        t0 = time.perf_counter()
        clips = _concept_and_random_clips(sets)
        bank = activations(probe, clips, lambda f: report(0.45 * f))
        timings["activations"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        n_runs = min(cfg.runs, len(sets.randoms))
        if n_runs < cfg.runs:
            warnings.append(few_runs_warning(len(sets.randoms), n_runs, cfg.runs))
        runs, null_pairs = _plan_runs(sets.concept_digests, sets.random_digests, n_runs, cfg)
        row_of = {d: i for i, d in enumerate(clips)}
        cavs = {layer: _fit_runs(probe, runs, bank[layer], row_of, layer, cfg) for layer in layers}
        report(0.55)
        timings["cavs"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        grads = {}
        for i, (k, x) in enumerate(sets.targets.items()):
            grads[k] = class_gradients(probe, x, sets.target_digests[k], k)
            report(0.55 + 0.4 * (i + 1) / len(sets.targets))
        timings["gradients"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    n_tests = len(sets.concepts) * len(layers) * len(sets.targets)
    rows = _test_rows(runs, cavs, grads, list(sets.concepts), n_runs, n_tests,
                      {k: len(x) for k, x in sets.targets.items()}, cfg.level, class_names)
    directions = {(name, layer): _mean_direction(cavs[layer].cavs[torch.as_tensor(_runs_of(runs, name))])
                  for layer in layers for name in sets.concepts}
    timings["stats"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - started
    report(1.0)
    is_null = _runs_of(runs, None)
    return TCAVResult(
        config=cfg, rows=rows, layers=layers, concepts=list(sets.concepts), classes=list(sets.targets),
        n_tests=n_tests, null_pairs=null_pairs, null_seeds=[cfg.seed + j for j in range(len(null_pairs))],
        null_accuracy={layer: cavs[layer].accuracy[is_null].tolist() for layer in layers},
        warnings=warnings, timings={k: round(v, 4) for k, v in timings.items()}, cache=probe.hits,
        n_frames=sets.n_frames, directions=directions,
    )


# -- the steps ----------------------------------------------------------------------------------

def _check_request(concepts: Mapping[str, Clips], random_sets: Sequence[Clips], targets: Mapping[int, Clips]) -> None:
    if not concepts:
        raise ValueError("Give at least one concept.")
    if not targets:
        raise ValueError("Give at least one target class.")
    if len(random_sets) < 2:
        raise ValueError("Give at least two random sets (one per run; the null distribution pairs them).")


@dataclass
class RequestSets:
    """The clips of a request, every one cut or looped to ``n_frames``, and their digests.

    concepts: name -> ``(n, ..., n_frames)``; randoms: one such tensor per random set;
    targets: class -> one such tensor. ``*_digests``: :func:`.cache.tensor_digest` of each
    clip, in the same layout. padded: clips that were looped, by kind of set.
    """

    n_frames: int
    concepts: dict[str, torch.Tensor]
    randoms: list[torch.Tensor]
    targets: dict[int, torch.Tensor]
    concept_digests: dict[str, list[str]]
    random_digests: list[list[str]]
    target_digests: dict[int, list[str]]
    padded: dict[str, int]


def _prepare_sets(concepts: Mapping[str, Clips], random_sets: Sequence[Clips], targets: Mapping[int, Clips],
                  n_frames: int | None) -> RequestSets:
    """The same pre-processing for every set: one length (``n_frames``, or the median length of
    every clip), then a digest per clip."""
    n_frames = n_frames or common_length(*concepts.values(), *random_sets, *targets.values())
    padded: dict[str, int] = {}

    def prepare(clips, kind):
        x, n_padded = fit_length(clips, n_frames)
        padded[kind] = padded.get(kind, 0) + n_padded
        return x

    concept_x = {name: prepare(c, "concept") for name, c in concepts.items()}
    random_x = [prepare(r, "random") for r in random_sets]
    target_x = {int(k): prepare(c, "target") for k, c in targets.items()}

    def digests(x):
        return [tensor_digest(c) for c in x]

    return RequestSets(n_frames, concept_x, random_x, target_x, {name: digests(x) for name, x in concept_x.items()},
                 [digests(x) for x in random_x], {k: digests(x) for k, x in target_x.items()}, padded)


def _concept_and_random_clips(sets: RequestSets) -> dict[str, torch.Tensor]:
    """Every distinct concept and random clip, ``{digest: (..., T) clip}`` in order of first
    appearance: the rows of the activation bank the CAVs are fitted on."""
    clips: dict[str, torch.Tensor] = {}
    for x, ds in [*zip(sets.concepts.values(), sets.concept_digests.values()),
                  *zip(sets.randoms, sets.random_digests)]:
        for c, d in zip(x, ds):
            clips.setdefault(d, c)
    return clips


class Run(NamedTuple):
    """One CAV to fit: the ``positives`` clips against the ``negatives`` (digests of each).

    concept: the concept's name; None for a random-vs-random run of the null distribution.
    seed: seed of its train/test split.
    random_set: index of the random set it uses: the negatives of a concept run, the set used
        as the "concept" of a null run.
    """

    concept: str | None
    positives: list[str]
    negatives: list[str]
    seed: int
    random_set: int


def _plan_runs(concept_d: dict[str, list[str]], random_d: list[list[str]], n_runs: int,
               cfg: TCAVConfig) -> tuple[list[Run], list[tuple[int, int]]]:
    """Every run of a request: ``n_runs`` per concept (run i against random set i, seed
    ``seed + i``), then the null runs (pair j, seed ``seed + j``); and the null pairs."""
    runs = [Run(name, ds, random_d[i], cfg.seed + i, i) for name, ds in concept_d.items() for i in range(n_runs)]
    pairs = _null_pairs(random_d, cfg.null_runs, cfg.seed)
    runs += [Run(None, random_d[a], random_d[b], cfg.seed + j, a) for j, (a, b) in enumerate(pairs)]
    return runs, pairs


def _runs_of(runs: list[Run], concept: str | None) -> np.ndarray:
    """``(R,)`` bool: the runs of ``concept`` (None: the null runs)."""
    return np.array([r.concept == concept for r in runs])


def _null_pairs(random_d: list[list[str]], cap: int, seed: int) -> list[tuple[int, int]]:
    """Ordered pairs (a, b), a != b, of random sets with different contents, at most ``cap``,
    spread evenly over the sets used as concept ``a`` (seeded choice of the partners ``b``)."""
    set_keys = [key_of(ds) for ds in random_d]
    n = len(random_d)
    rng = np.random.default_rng(seed)
    partners = {a: [b for b in rng.permutation(n).tolist() if b != a and set_keys[b] != set_keys[a]]
                for a in range(n)}
    pairs = []
    for depth in range(max(map(len, partners.values()), default=0)):
        for a in range(n):
            if depth < len(partners[a]) and len(pairs) < cap:
                pairs.append((a, partners[a][depth]))
    return sorted(pairs)


class SplitRows(NamedTuple):
    """One run's clips as rows of the activation bank, labelled +1 (concept) or -1 (random)."""

    train: list[int]
    train_y: list[int]
    test: list[int]
    test_y: list[int]


def _split_rows(run: Run, row_of: dict[str, int], cfg: TCAVConfig) -> SplitRows:
    s = balanced_split(len(run.positives), len(run.negatives), run.seed, cfg.train_fraction)
    pos, neg = run.positives, run.negatives
    return SplitRows(
        train=[row_of[pos[i]] for i in s.pos_train] + [row_of[neg[i]] for i in s.neg_train],
        train_y=[1] * len(s.pos_train) + [-1] * len(s.neg_train),
        test=[row_of[pos[i]] for i in s.pos_test] + [row_of[neg[i]] for i in s.neg_test],
        test_y=[1] * len(s.pos_test) + [-1] * len(s.neg_test),
    )


class LayerCAVs(NamedTuple):
    """The CAVs of every run at one layer, in run order."""

    cavs: torch.Tensor  # (R, D) unit vectors, a zero row where no direction was found
    accuracy: np.ndarray  # (R,) held-out accuracy
    degenerate: np.ndarray  # (R,) bool, True where no direction was found


def _fit_runs(probe: Probe, runs: list[Run], bank: torch.Tensor, row_of: dict[str, int], layer: str,
              cfg: TCAVConfig) -> LayerCAVs:
    """Fit the CAV of every run at ``layer`` on the activations ``bank`` ``(M, D)`` (rows named
    by ``row_of``), cached per run; runs of the same sizes are fitted in one batch."""
    R, D = len(runs), bank.shape[1]
    cavs = torch.zeros(R, D, dtype=bank.dtype)
    acc = np.zeros(R)
    degenerate = np.zeros(R, bool)
    todo: dict[tuple[int, int], list[tuple[int, SplitRows]]] = {}  # (n train, n test) -> [(run, its rows)]
    keys = []
    for r, run in enumerate(runs):
        key = key_of("cav", probe.digest, layer, cfg.time_mean, run.positives, run.negatives, run.seed,
                     cfg.alpha, cfg.train_fraction)
        keys.append(key)
        entry = probe.cache.get(key)
        if entry is not None:
            cavs[r], acc[r], degenerate[r] = entry["cav"], float(entry["acc"]), bool(entry["degenerate"])
            probe.hits["cavs"] += 1
            continue
        rows = _split_rows(run, row_of, cfg)
        todo.setdefault((len(rows.train), len(rows.test)), []).append((r, rows))
    for group in todo.values():
        split = [rows for _, rows in group]
        fit = fit_cavs(bank, np.array([s.train for s in split]), np.array([s.train_y for s in split]),
                       np.array([s.test for s in split]), np.array([s.test_y for s in split]), alpha=cfg.alpha)
        for j, (r, _) in enumerate(group):
            cavs[r], acc[r], degenerate[r] = fit.cavs[j], float(fit.accuracy[j]), bool(fit.degenerate[j])
            probe.cache.put(keys[r], {"cav": fit.cavs[j], "acc": fit.accuracy[j:j + 1],
                                      "degenerate": fit.degenerate[j:j + 1].to(torch.uint8)})
    return LayerCAVs(cavs, acc, degenerate)


class Scores(NamedTuple):
    """TCAV scores of runs against one target set, in run order, ``(R,)`` each."""

    tcav: np.ndarray  # fraction of the target clips whose directional derivative S is > 0
    magnitude: np.ndarray  # mean S over the target clips

    def of(self, runs: np.ndarray) -> "Scores":
        """The scores of the runs selected by the ``(R,)`` bool mask ``runs``."""
        return Scores(self.tcav[runs], self.magnitude[runs])


def _scores(grads: torch.Tensor, cavs: torch.Tensor) -> Scores:
    """Scores of every run from the class-score gradients ``(n_targets, D)`` and the CAVs ``(R, D)``."""
    S = grads.to(cavs.dtype) @ cavs.T  # (n_targets, R): every CAV at once
    return Scores((S > 0).double().mean(0).numpy(), S.double().mean(0).numpy())


class Decision(NamedTuple):
    """The tests of one concept's runs against the null runs."""

    test: TestResult  # run-level Welch test of the TCAV scores
    p_set: float | None  # set-level test of the magnitudes (:func:`.stats.set_level_test`)
    p_set_adjusted: float | None
    significant: bool  # both tests pass and the two scores move the same way


def _decide(concept: Scores, null: Scores, null_groups: np.ndarray, n_tests: int, level: float) -> Decision:
    test = welch_test(concept.tcav, null.tcav, n_tests, level)
    p_set, p_set_adj = set_level_test(concept.magnitude, null.magnitude, null_groups, n_tests)
    agree = np.sign(concept.magnitude.mean() - null.magnitude.mean()) == np.sign(
        concept.tcav.mean() - null.tcav.mean())
    significant = bool(test.significant and p_set_adj is not None and p_set_adj < level and agree)
    return Decision(test, p_set, p_set_adj, significant)


def _test_rows(runs: list[Run], cavs: dict[str, LayerCAVs], grads: dict[int, dict[str, torch.Tensor]],
               concepts: list[str], n_runs: int, n_tests: int, n_targets: dict[int, int], level: float,
               class_names: Sequence[str] | None) -> list[Row]:
    """One :class:`Row` per (layer, class, concept), in that order of loops.

    cavs: layer -> the runs' CAVs; grads: class -> layer -> ``(n_targets, D)`` gradients.
    """
    is_null = _runs_of(runs, None)
    null_groups = np.array([r.random_set for r in runs])[is_null]  # the random set used as concept
    rows = []
    for layer, fitted in cavs.items():
        for k, g in grads.items():
            scores = _scores(g[layer], fitted.cavs)
            null = scores.of(is_null)
            zero_grad = bool((g[layer] == 0).all())
            for name in concepts:
                mine = _runs_of(runs, name)
                concept = scores.of(mine)
                decision = _decide(concept, null, null_groups, n_tests, level)
                acc = fitted.accuracy[mine]
                warnings = row_warnings(acc, n_runs, decision.test.degenerate, zero_grad,
                                        int(fitted.degenerate[mine].sum()), name, layer, k, class_names)
                if decision.test.significant and not decision.significant:
                    warnings.append(set_level_caveat(decision.p_set_adjusted))
                test = decision.test
                rows.append(Row(
                    concept=name, layer=layer, target=k,
                    tcav=concept.tcav.tolist(), null=null.tcav.tolist(),
                    magnitude=concept.magnitude.tolist(), null_magnitude=null.magnitude.tolist(),
                    cav_accuracy=acc.tolist(), p=test.p, p_adjusted=test.p_adjusted,
                    significant=decision.significant, direction=test.direction, t=test.t,
                    degenerate=test.degenerate, p_set=decision.p_set, p_set_adjusted=decision.p_set_adjusted,
                    verdict=verdict(name, layer, k, concept.tcav, null.tcav, test, decision.significant,
                                    decision.p_set_adjusted, n_tests, class_names),
                    warnings=warnings, seeds=[r.seed for r, m in zip(runs, mine) if m],
                    random_sets=[r.random_set for r, m in zip(runs, mine) if m], n_targets=n_targets[k],
                ))
    return rows


def _mean_direction(V: torch.Tensor) -> torch.Tensor:
    """The unit mean ``(D,)`` of the CAVs ``V`` ``(n, D)`` (zero if they cancel)."""
    v = V.double().mean(0)
    n = v.norm()
    return (v / n if n > 0 else v).to(V.dtype)


# -- hear the concept ---------------------------------------------------------------------------

def hear_concept(model: nn.Module, layer: str, direction: torch.Tensor, clips: Clips, top: int = 10,
                 time_mean: bool = False, n_frames: int | None = None, cache: ConceptCache | None = None,
                 batch_size: int = 32) -> list[dict]:
    """The clips that lie furthest along a concept's direction at ``layer``, best first.

    Parameters
    ----------
    direction : ``(D,)`` a CAV, usually ``result.directions[(concept, layer)]`` (the mean of
        the concept's CAVs) from the same model, layer, ``time_mean`` and ``n_frames``.
    clips : the corpus clips to rank, pre-processed like the TCAV request's.

    Returns
    -------
    ``[{"index": i, "projection": activation . direction}]`` for the ``top`` clips.

    Examples
    --------
    >>> d = result.directions[("vibrato", "encoder.last")]                            # doctest: +SKIP
    >>> hear_concept(model, "encoder.last", d, corpus, n_frames=result.n_frames)[0]    # doctest: +SKIP
    {'index': 57, 'projection': 3.1}
    """
    x, _ = fit_length(clips, n_frames or common_length(clips))
    ds = [tensor_digest(c) for c in x]
    distinct = dict(zip(ds, x))
    probe = Probe.of(model, [layer], x[:1], time_mean, batch_size, cache if cache is not None else ConceptCache(max_bytes=0))
    with eval_mode(model):
        acts = activations(probe, distinct, lambda f: None)[layer]
    if acts.shape[1] != direction.numel():
        raise ValueError(f"The direction has {direction.numel()} values but layer {layer} gives {acts.shape[1]} "
                         "per clip: use the same layer, time averaging and clip length as the TCAV request.")
    proj_by_digest = dict(zip(distinct, (acts.double() @ direction.double().flatten()).tolist()))
    proj = np.array([proj_by_digest[d] for d in ds])
    best = np.argsort(-proj, kind="stable")[:top]
    return [{"index": int(i), "projection": float(proj[i])} for i in best]

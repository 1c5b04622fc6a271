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

Activations, gradients and CAVs are cached by content (see :mod:`.cache`).

Shapes: a clip is ``(..., T)`` (a log-mel ``(F, T)`` for the prototype model), a layer output
``(B, ...)``; its per-clip vector has ``D`` values (``D = prod(...)``, or the same without
the time axis when activations are averaged over time).
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np
import torch
import torch.nn as nn

from .cache import ConceptCache, key_of, model_digest, tensor_digest
from .cav import balanced_split, fit_cavs
from .clips import Clips, common_length, fit_length
from .hooks import check_layers, class_scores, eval_mode, forward_until, record_layers
from .stats import set_level_test, welch_test

MIN_RUNS = 20
MIN_CONCEPT_CLIPS = 20
MIN_TARGET_CLIPS = 30
LOW_ACCURACY = 0.7

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
    if not concepts:
        raise ValueError("Give at least one concept.")
    if not targets:
        raise ValueError("Give at least one target class.")
    if len(random_sets) < 2:
        raise ValueError("Give at least two random sets (one per run; the null distribution pairs them).")

    # -- the same pre-processing for every set --------------------------------------------
    all_sets = [*concepts.values(), *random_sets, *targets.values()]
    n_frames = cfg.n_frames or common_length(*all_sets)
    warnings: list[str] = []
    padded_by_kind = {}

    def prepare(clips, kind):
        x, padded = fit_length(clips, n_frames)
        padded_by_kind[kind] = padded_by_kind.get(kind, 0) + padded
        return x

    concept_x = {name: prepare(c, "concept") for name, c in concepts.items()}
    random_x = [prepare(r, "random") for r in random_sets]
    target_x = {int(k): prepare(c, "target") for k, c in targets.items()}
    if any(padded_by_kind.values()):
        warnings.append(f"Some clips were shorter than the common length of {n_frames} frames and were "
                        "looped to fill it (" + ", ".join(f"{k}: {v}" for k, v in padded_by_kind.items() if v)
                        + "); if only one kind of set needed it, the CAV may have learnt that.")

    def digests(x):
        return [tensor_digest(c) for c in x]

    concept_d = {name: digests(x) for name, x in concept_x.items()}
    random_d = [digests(x) for x in random_x]
    target_d = {k: digests(x) for k, x in target_x.items()}
    warnings += _set_warnings(concept_d, random_d, target_d, cfg)

    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    dtype = next((p.dtype for p in model.parameters()), torch.float32)
    first = next(iter(concept_x.values()))
    check_layers(model, layers, first[:1].to(device, dtype))
    mdigest = model_digest(model)
    cache = cache if cache is not None else ConceptCache(max_bytes=0)
    hits = {"activations": 0, "gradients": 0, "cavs": 0}

    with eval_mode(model):
        # -- activations of every distinct concept and random clip ------------------------
        t0 = time.perf_counter()
        bank_x: dict[str, torch.Tensor] = {}
        for x, ds in [*zip(concept_x.values(), concept_d.values()), *zip(random_x, random_d)]:
            for c, d in zip(x, ds):
                bank_x.setdefault(d, c)
        order = list(bank_x)
        row_of = {d: i for i, d in enumerate(order)}
        bank = _activations(model, layers, order, bank_x, cfg, cache, mdigest, device, dtype, hits,
                            lambda f: report(0.45 * f))
        timings["activations"] = time.perf_counter() - t0

        # -- CAVs: concept runs and random-vs-random runs, all fitted in one batch ----------
        t0 = time.perf_counter()
        n_runs = min(cfg.runs, len(random_x))
        if n_runs < cfg.runs:
            warnings.append(f"Only {len(random_x)} random sets were given, so only {n_runs} runs were made "
                            f"instead of {cfg.runs}.")
        specs = []  # (kind, name, pos digests, neg digests, seed, random index)
        for name, ds in concept_d.items():
            for i in range(n_runs):
                specs.append(("concept", name, ds, random_d[i], cfg.seed + i, i))
        pairs = _null_pairs(random_d, cfg.null_runs, cfg.seed)
        for j, (a, b) in enumerate(pairs):
            specs.append(("null", None, random_d[a], random_d[b], cfg.seed + j, a))
        cavs, accuracy, degenerate = {}, {}, {}
        for layer in layers:
            cavs[layer], accuracy[layer], degenerate[layer] = _fit_runs(
                specs, bank[layer], row_of, layer, cfg, cache, mdigest, hits)
        report(0.55)
        timings["cavs"] = time.perf_counter() - t0

        # -- gradients of each class score, once per (layer, target set) --------------------
        t0 = time.perf_counter()
        grads = {}
        for i, (k, x) in enumerate(target_x.items()):
            grads[k] = _gradients(model, layers, x, target_d[k], k, cfg, cache, mdigest, device, dtype, hits)
            report(0.55 + 0.4 * (i + 1) / len(target_x))
        timings["gradients"] = time.perf_counter() - t0

    # -- scores and tests ---------------------------------------------------------------------
    t0 = time.perf_counter()
    n_tests = len(concept_x) * len(layers) * len(target_x)
    is_null = np.array([s[0] == "null" for s in specs])
    null_groups = np.array([s[5] for s in specs])[is_null]  # the random set used as concept
    rows, directions = [], {}
    for layer in layers:
        V = cavs[layer]  # (R, D)
        for name in concept_x:
            sel = np.array([s[0] == "concept" and s[1] == name for s in specs])
            directions[(name, layer)] = _mean_direction(V[torch.as_tensor(sel)])
        for k, g in grads.items():
            S = g[layer].to(V.dtype) @ V.T  # (n_targets, R): every CAV at once
            tcav = (S > 0).double().mean(0).numpy()
            magnitude = S.double().mean(0).numpy()
            zero_grad = bool((g[layer] == 0).all())
            for name in concept_x:
                sel = np.array([s[0] == "concept" and s[1] == name for s in specs])
                test = welch_test(tcav[sel], tcav[is_null], n_tests, cfg.level)
                p_set, p_set_adj = set_level_test(magnitude[sel], magnitude[is_null], null_groups, n_tests)
                agree = np.sign(magnitude[sel].mean() - magnitude[is_null].mean()) == np.sign(
                    tcav[sel].mean() - tcav[is_null].mean())
                acc = accuracy[layer][sel]
                row_warnings = _row_warnings(acc, n_runs, test.degenerate, zero_grad,
                                             int(degenerate[layer][sel].sum()), name, layer, k, class_names)
                significant = bool(test.significant and p_set_adj is not None and p_set_adj < cfg.level and agree)
                if test.significant and not significant:
                    row_warnings.append(
                        "The runs differ from the random baseline, but random sets used as concepts often "
                        "move the class score as much" + (f" (set-level p = {p_set_adj:.2g})" if p_set_adj is not None
                                                          else "") + ": the difference may come from these "
                        "particular clips rather than from the concept, so it is not called significant.")
                rows.append(Row(
                    concept=name, layer=layer, target=k,
                    tcav=tcav[sel].tolist(), null=tcav[is_null].tolist(),
                    magnitude=magnitude[sel].tolist(), null_magnitude=magnitude[is_null].tolist(),
                    cav_accuracy=acc.tolist(), p=test.p, p_adjusted=test.p_adjusted,
                    significant=significant, direction=test.direction, t=test.t,
                    degenerate=test.degenerate, p_set=p_set, p_set_adjusted=p_set_adj,
                    verdict=_verdict(name, layer, k, tcav[sel], tcav[is_null], test, significant, p_set_adj,
                                     n_tests, class_names),
                    warnings=row_warnings, seeds=[s[4] for s, m in zip(specs, sel) if m],
                    random_sets=[s[5] for s, m in zip(specs, sel) if m], n_targets=len(target_x[k]),
                ))
    timings["stats"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - started
    report(1.0)
    return TCAVResult(
        config=cfg, rows=rows, layers=layers, concepts=list(concept_x), classes=list(target_x),
        n_tests=n_tests, null_pairs=pairs, null_seeds=[cfg.seed + j for j in range(len(pairs))],
        null_accuracy={layer: accuracy[layer][is_null].tolist() for layer in layers},
        warnings=warnings, timings={k: round(v, 4) for k, v in timings.items()}, cache=hits,
        n_frames=n_frames, directions=directions,
    )


# -- pieces -------------------------------------------------------------------------------------

def _flatten(h: torch.Tensor, time_mean: bool, reduce_time) -> torch.Tensor:
    """Layer output ``(B, ..., T)`` -> ``(B, D)``; over time, ``reduce_time`` (mean or sum)."""
    if time_mean:
        if h.dim() < 3:
            raise ValueError("Averaging over time needs a layer output with a time axis (batch, ..., time).")
        h = reduce_time(h, dim=-1)
    return h.reshape(h.shape[0], -1)


def _activations(model, layers, order, bank_x, cfg, cache, mdigest, device, dtype, hits, report):
    """``{layer: (M, D)}`` activations of the clips ``order`` (digests), cached per clip."""
    keys = {(layer, d): key_of("act", mdigest, layer, cfg.time_mean, d) for layer in layers for d in order}
    found: dict[tuple[str, str], torch.Tensor] = {}
    for lk, key in keys.items():
        entry = cache.get(key)
        if entry is not None:
            found[lk] = entry["a"]
    missing = [d for d in order if any((layer, d) not in found for layer in layers)]
    hits["activations"] += len(order) - len(missing)
    for start in range(0, len(missing), cfg.batch_size):
        chunk = missing[start:start + cfg.batch_size]
        x = torch.stack([bank_x[d] for d in chunk]).to(device, dtype)
        with torch.no_grad():
            seen = forward_until(model, layers, x)
        for layer in layers:
            a = _flatten(seen[layer], cfg.time_mean, torch.mean).detach().cpu()
            for d, row in zip(chunk, a):
                found[(layer, d)] = row
                cache.put(keys[(layer, d)], {"a": row})
        report(min(1.0, (start + len(chunk)) / max(1, len(missing))))
    return {layer: torch.stack([found[(layer, d)] for d in order]) for layer in layers}


def _gradients(model, layers, x, digests, k, cfg, cache, mdigest, device, dtype, hits):
    """``{layer: (n, D)}`` gradients of class score ``k`` w.r.t. each layer's output, per clip.

    One forward and one backward per batch serve every layer. With ``time_mean`` the gradient
    is summed over time: the derivative when the CAV is added to every frame.
    """
    keys = {layer: key_of("grad", mdigest, layer, cfg.time_mean, k, digests) for layer in layers}
    out = {}
    for layer in layers:
        entry = cache.get(keys[layer])
        if entry is not None:
            out[layer] = entry["g"]
    if len(out) == len(layers):
        hits["gradients"] += 1
        return out
    parts = {layer: [] for layer in layers}
    for start in range(0, len(x), cfg.batch_size):
        xb = x[start:start + cfg.batch_size].to(device, dtype)
        for input_grad in (False, True):  # a layer without parameters before it needs the input's
            with torch.enable_grad(), record_layers(model, layers) as seen:
                scores = class_scores(model(xb.detach().requires_grad_(input_grad)))  # (B, C)
                if not 0 <= k < scores.shape[1]:
                    raise ValueError(f"Class {k} does not exist: the model has {scores.shape[1]} classes.")
                hs = [seen[layer] for layer in layers]
                if all(h.requires_grad for h in hs):
                    gs = torch.autograd.grad(scores[:, k].sum(), hs, allow_unused=True)
                    break
        else:
            raise ValueError("The class score does not depend on the chosen layer(s) through a "
                             "differentiable path.")
        for layer, h, g in zip(layers, hs, gs):
            g = torch.zeros_like(h) if g is None else g
            parts[layer].append(_flatten(g, cfg.time_mean, torch.sum).detach().cpu())
    for layer in layers:
        out[layer] = torch.cat(parts[layer])
        cache.put(keys[layer], {"g": out[layer]})
    return out


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


def _fit_runs(specs, bank, row_of, layer, cfg, cache, mdigest, hits):
    """CAVs ``(R, D)``, held-out accuracies ``(R,)`` and zero-direction flags of every run."""
    R, D = len(specs), bank.shape[1]
    cavs = torch.zeros(R, D, dtype=bank.dtype)
    acc = np.zeros(R)
    degenerate = np.zeros(R, bool)
    todo: dict[tuple[int, int], list] = {}  # (n train, n test) -> [(run, train rows, labels, test rows, labels)]
    keys = []
    for r, (kind, name, pos, neg, seed, _) in enumerate(specs):
        key = key_of("cav", mdigest, layer, cfg.time_mean, pos, neg, seed, cfg.alpha, cfg.train_fraction)
        keys.append(key)
        entry = cache.get(key)
        if entry is not None:
            cavs[r], acc[r], degenerate[r] = entry["cav"], float(entry["acc"]), bool(entry["degenerate"])
            hits["cavs"] += 1
            continue
        s = balanced_split(len(pos), len(neg), seed, cfg.train_fraction)
        train = [row_of[pos[i]] for i in s.pos_train] + [row_of[neg[i]] for i in s.neg_train]
        test = [row_of[pos[i]] for i in s.pos_test] + [row_of[neg[i]] for i in s.neg_test]
        ty = [1] * len(s.pos_train) + [-1] * len(s.neg_train)
        ey = [1] * len(s.pos_test) + [-1] * len(s.neg_test)
        todo.setdefault((len(train), len(test)), []).append((r, train, ty, test, ey))
    for group in todo.values():
        runs = [g[0] for g in group]
        fit = fit_cavs(bank, *(np.array([g[i] for g in group]) for i in range(1, 5)), alpha=cfg.alpha)
        for j, r in enumerate(runs):
            cavs[r], acc[r], degenerate[r] = fit.cavs[j], float(fit.accuracy[j]), bool(fit.degenerate[j])
            cache.put(keys[r], {"cav": fit.cavs[j], "acc": fit.accuracy[j:j + 1],
                                "degenerate": fit.degenerate[j:j + 1].to(torch.uint8)})
    return cavs, acc, degenerate


def _mean_direction(V: torch.Tensor) -> torch.Tensor:
    v = V.double().mean(0)
    n = v.norm()
    return (v / n if n > 0 else v).to(V.dtype)


def _name(k: int, class_names) -> str:
    return f"'{class_names[k]}'" if class_names is not None and 0 <= k < len(class_names) else f"class {k}"


def _verdict(concept, layer, k, tcav, null, test, significant, p_set, n_tests, class_names) -> str:
    target = _name(k, class_names)
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


def _row_warnings(acc, n_runs, degenerate_variance, zero_grad, zero_cavs, concept, layer, k, class_names):
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
        out.append(f"The score of {_name(k, class_names)} does not change with layer {layer} on these clips "
                   "(zero gradient), so no concept at this layer can matter for it.")
    if zero_cavs:
        out.append(f"In {zero_cavs} run(s) the classifier found no direction: the concept clips and the random "
                   "clips look the same at this layer.")
    return out


def _set_warnings(concept_d, random_d, target_d, cfg) -> list[str]:
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
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    dtype = next((p.dtype for p in model.parameters()), torch.float32)
    cfg = TCAVConfig(time_mean=time_mean, batch_size=batch_size)
    ds = [tensor_digest(c) for c in x]
    bank_x = dict(zip(ds, x))
    order = list(dict.fromkeys(ds))
    check_layers(model, [layer], x[:1].to(device, dtype))
    with eval_mode(model):
        acts = _activations(model, [layer], order, bank_x, cfg, cache or ConceptCache(max_bytes=0),
                            model_digest(model), device, dtype, {"activations": 0}, lambda f: None)[layer]
    if acts.shape[1] != direction.numel():
        raise ValueError(f"The direction has {direction.numel()} values but layer {layer} gives {acts.shape[1]} "
                         "per clip: use the same layer, time averaging and clip length as the TCAV request.")
    proj_by_digest = dict(zip(order, (acts.double() @ direction.double().flatten()).tolist()))
    proj = np.array([proj_by_digest[d] for d in ds])
    best = np.argsort(-proj, kind="stable")[:top]
    return [{"index": int(i), "projection": float(proj[i])} for i in best]

"""Two models side by side: on one clip (both analyses, each with its explanation, and a
sentence on where they agree) and on a source of clips (agreement rate, the confusion table of
one model against the other, the clips where they disagree).

A source's comparison reads each model's verdict on each clip (:func:`~auralens.models.comparison.verdicts`)
from ``state.verdicts``; the clips still missing there are worked out by a job
(:func:`compute_verdicts`, batched, a chunk of clips at a time), so that nothing is worked out
twice and no request waits for a whole collection.
"""
from __future__ import annotations

import logging

import torch

from auralens.models.audio import AudioError, log_mel
from auralens.models.comparison import Verdict, agreement, verdicts
from auralens.models.kinds import kind_of

from .clip_ref import ClipRef
from .compare_schemas import (ClipComparison, ClipVerdict, Closeness, Confusion, Disagreement, Explanation, ModelSide,
                              SourceComparison)
from .jobs import Progress
from .schemas import Rendering, Score, Trust
from .state import AppState

log = logging.getLogger("auralens")
CHUNK = 256  # clips whose features are held at once while a source is worked out
UNREADABLE = "unreadable"  # kept in place of a verdict for a clip whose audio cannot be read


def pretty(label: str | None) -> str:
    return (label or "").replace("_", " ")


def article(word: str) -> str:
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


def percent(x: float) -> str:
    return f"{100 * x:.0f} %"


# -- one clip -----------------------------------------------------------------------------------
def explanation(state: AppState, model_id: str, model, analysis: dict) -> Explanation:
    """The winning prototype of an analysis, in the terms of the model's kind: the prototype
    that re-creates the clip best, with the re-creation to hear; or the prototypes the clip is
    closest to in the learned space, with the prototype decoded and its nearest training clip."""
    shows = kind_of(model).shows
    url = f"/api/models/{model_id}/prototypes"
    if shows.reconstructions:
        best = min(analysis["prototypes"], key=lambda p: p["error"])
        stages = [s for s, e in (best.get("stage_errors") or {}).items() if e is not None]
        last = stages[-1] if stages else "filters"
        return Explanation(
            how="re-creation", prototype=best["index"], label=best["label"], error=best["error"],
            sentence=(f"The {pretty(best['label'])} prototype (no. {best['index']}) re-creates the clip best, "
                      f"with a re-creation error of {best['error']:.4f}."),
            recreation_url=f"/api/analyses/{analysis['id']}/reconstructions/{best['index']}/audio.wav?stage={last}",
            prototype_url=f"{url}/{best['index']}/audio.wav")
    ranked = sorted(analysis["prototypes"], key=lambda p: -(p.get("similarity") or 0.0))
    best = ranked[0]
    renderings = [Rendering(name="decoded", audio_url=f"{url}/{best['index']}/audio.wav",
                            description="the prototype itself, decoded to a spectrogram and made audible")]
    if shows.decoded_prototypes and any(c.prototype == best["index"] for c in state.nearest_clips(model_id)):
        renderings.append(Rendering(name="nearest", audio_url=f"{url}/{best['index']}/audio.wav?rendering=nearest",
                                    description="the training clip nearest to the prototype"))
    return Explanation(
        how="closeness", prototype=best["index"], label=best["label"], similarity=best["similarity"],
        sentence=(f"The clip lies closest to the {pretty(best['label'])} prototype (no. {best['index']}) "
                  f"in the model's learned space, with a similarity of {best['similarity']:.3f}."),
        prototype_url=f"{url}/{best['index']}/audio.wav", renderings=renderings,
        closest=[Closeness(index=p["index"], label=p["label"], similarity=p["similarity"]) for p in ranked[:3]])


def side(state: AppState, model_id: str, analysis: dict) -> ModelSide:
    """One model's half of a clip's comparison, from its stored analysis."""
    model = state.models[model_id]
    prediction = [Score(**p) for p in analysis["prediction"][:10]]
    trust = analysis.get("trust")
    return ModelSide(model=model_id, title=kind_of(model).title, analysis_id=analysis["id"], prediction=prediction,
                     top=prediction[0], trust=Trust(**trust) if isinstance(trust, dict) else None,
                     explanation=explanation(state, model_id, model, analysis))


def rank_of(prediction: list[dict], label: str) -> tuple[int, float]:
    """Where ``label`` stands in a ranking (1 = first) and its score."""
    for i, p in enumerate(prediction):
        if p["label"] == label:
            return i + 1, p["score"]
    return len(prediction) + 1, 0.0


def ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def agreement_sentence(a_id: str, a: dict, b_id: str, b: dict) -> tuple[bool, str]:
    """Whether two analyses of one clip name the same class first, and that in a sentence."""
    ta, tb = a["prediction"][0], b["prediction"][0]
    if ta["label"] == tb["label"]:
        return True, (f"Both models hear {article(pretty(ta['label']))}: {a_id} is {percent(ta['score'])} sure, "
                      f"{b_id} {percent(tb['score'])}.")
    rank_b, score_b = rank_of(b["prediction"], ta["label"])
    rank_a, score_a = rank_of(a["prediction"], tb["label"])
    return False, (f"They disagree: {a_id} hears {article(pretty(ta['label']))} ({percent(ta['score'])} sure), "
                   f"{b_id} {article(pretty(tb['label']))} ({percent(tb['score'])} sure). "
                   f"{b_id} puts {pretty(ta['label'])} {ordinal(rank_b)} ({percent(score_b)}); "
                   f"{a_id} puts {pretty(tb['label'])} {ordinal(rank_a)} ({percent(score_a)}).")


def clip_comparison(state: AppState, clip: ClipRef, a_id: str, analysis_a: dict, b_id: str,
                    analysis_b: dict) -> ClipComparison:
    agree, sentence = agreement_sentence(a_id, analysis_a, b_id, analysis_b)
    return ClipComparison(clip_id=clip.id, name=clip.name, label=clip.label, audio_url=f"/api/clips/{clip.id}/audio.wav",
                          agree=agree, sentence=sentence, a=side(state, a_id, analysis_a), b=side(state, b_id, analysis_b))


# -- a source -----------------------------------------------------------------------------------
def missing(state: AppState, model_ids: list[str], clips: list[ClipRef]) -> list[ClipRef]:
    """The clips of which some model's verdict is not known yet."""
    return [c for c in clips if any(state.verdicts.get((m, c.id)) is None for m in model_ids)]


def features_of(state: AppState, clips: list[ClipRef]) -> list[torch.Tensor | None]:
    """Log-mels of clips (None for one whose audio cannot be read); corpus clips from the
    corpus's features, computed once."""
    corpus = state.corpus_features() if any(c.origin == "corpus" for c in clips) else {}
    out = []
    for c in clips:
        if c.origin == "corpus":
            out.append(corpus[c.id])
            continue
        try:
            out.append(log_mel(state.clip_audio(c).samples, state.bundle.audio))
        except (AudioError, OSError) as err:
            log.warning("clip %s cannot be read for a comparison: %s", c.id, err)
            out.append(None)
    return out


def compute_verdicts(state: AppState, model_ids: list[str], clips: list[ClipRef], progress: Progress) -> int:
    """Work out every model's verdict on the clips still missing one, a chunk at a time
    (models batched over each chunk), and keep them in ``state.verdicts``; returns how many
    clips were worked on."""
    todo = missing(state, model_ids, clips)
    progress(0.0)
    for start in range(0, len(todo), CHUNK):
        chunk = todo[start:start + CHUNK]
        feats = features_of(state, chunk)
        readable = [i for i, f in enumerate(feats) if f is not None]
        for i, f in enumerate(feats):
            if f is None:
                for m in model_ids:
                    state.verdicts.put((m, chunk[i].id), UNREADABLE)
        for m in model_ids:
            wanted = [i for i in readable if state.verdicts.get((m, chunk[i].id)) is None]
            if not wanted:
                continue
            found = verdicts(state.models[m], [feats[i] for i in wanted])
            for i, v in zip(wanted, found):
                state.verdicts.put((m, chunk[i].id), v)
        progress((start + len(chunk)) / len(todo))
    return len(todo)


def verdict_out(state: AppState, v: Verdict) -> ClipVerdict:
    return ClipVerdict(label=state.bundle.classes[v.predicted], score=round(v.confidence, 6), prototype=v.prototype,
                       familiar=v.familiar)


def source_comparison(state: AppState, source: str, clips: list[ClipRef], a_id: str, b_id: str,
                      offset: int = 0, limit: int = 100) -> SourceComparison:
    """The comparison of two models on ``clips``, from the verdicts already known (every clip's
    must be, see :func:`compute_verdicts`)."""
    classes = state.bundle.classes
    pairs, unreadable = [], 0
    for c in clips:
        va, vb = state.verdicts.get((a_id, c.id)), state.verdicts.get((b_id, c.id))
        if va is None or vb is None:
            raise LookupError(f"the verdicts on clip {c.id} are not known yet")
        if va == UNREADABLE or vb == UNREADABLE:
            unreadable += 1
            continue
        pairs.append((c, va, vb))
    found = agreement([va.predicted for _, va, _ in pairs], [vb.predicted for _, _, vb in pairs], len(classes))
    used = sorted({va.predicted for _, va, _ in pairs} | {vb.predicted for _, _, vb in pairs})
    matrix = [[found["confusion"][i][j] for j in used] for i in used]
    index = {c: i for i, c in enumerate(classes)}
    labelled = [(c, va, vb) for c, va, vb in pairs if c.label in index]
    accuracy = {m: (sum(index[c.label] == (va if m == a_id else vb).predicted for c, va, vb in labelled) / len(labelled)
                    if labelled else None) for m in (a_id, b_id)}
    apart = [(c, va, vb) for c, va, vb in pairs if va.predicted != vb.predicted]
    apart.sort(key=lambda t: -min(t[1].confidence, t[2].confidence))  # both sure, yet apart: first
    shown = apart[offset:offset + limit]
    n, rate = found["n"], found["rate"]
    if not n:
        sentence = "There are no clips to compare in this source." + (
            f" ({unreadable} could not be read.)" if unreadable else "")
    else:
        sentence = (f"{a_id} and {b_id} name the same class for {found['n_agree']} of {n} clips "
                    f"({percent(rate)}); they disagree on {n - found['n_agree']}.")
    return SourceComparison(
        source=source, a=a_id, b=b_id, n=n, n_agree=found["n_agree"], agreement=rate, unreadable=unreadable,
        sentence=sentence, n_labelled=len(labelled), accuracy=accuracy,
        confusion=Confusion(labels=[classes[i] for i in used], matrix=matrix),
        total_disagreements=len(apart), offset=offset,
        disagreements=[Disagreement(clip_id=c.id, name=c.name, label=c.label, a=verdict_out(state, va),
                                    b=verdict_out(state, vb)) for c, va, vb in shown])

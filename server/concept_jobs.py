"""The work behind concept testing (TCAV) and concept discovery, run as jobs.

Each job works on its own copy of the model: TCAV and discovery hook into layers and need
gradients, while analyses keep using the shared model on the workers at the same time.
"""
from __future__ import annotations

import copy

import numpy as np
import torch

from auralens.models.audio import log_mel
from auralens.models.concepts import TCAVConfig, discover_concepts, hear_concept, run_tcav

from .jobs import JobFailed, Progress
from .state import AppState

RANDOM_SETS = 20  # random sets drawn from the bundle's listening corpus
RANDOM_SET_SIZE = 30
HEAR_TOP = 8


def private_model(model) -> torch.nn.Module:
    return copy.deepcopy(model).eval()


def concept_clips(state: AppState, concept: dict, n_frames: int) -> list[torch.Tensor]:
    """A concept's examples as log-mels ``(F, <= n_frames)``: stored features for a built-in one,
    else its clips' - of a long clip only the ``n_frames`` around its centre, the part TCAV
    uses (so that a concept of long uploads costs no more than one of short ones)."""
    if concept["builtin"]:
        return list(state.concept_sets[f"concept/{concept['key']}"])
    cfg = state.bundle.audio
    clips = []
    for clip_id in concept["clip_ids"]:
        try:
            samples = state.clip_audio(state.find_clip(clip_id)).samples
        except Exception as err:  # a clip that has gone (e.g. another bundle's corpus)
            raise JobFailed(f"The concept '{concept['name']}' names a clip that cannot be read: {clip_id}.") from err
        keep = cfg.n_samples(n_frames)
        start = max(0, (len(samples) - keep) // 2)
        clips.append(log_mel(samples[start:start + keep], cfg))
    return clips


def random_sets(state: AppState, exclude: set[str], seed: int) -> list[list[torch.Tensor]]:
    """``RANDOM_SETS`` sets of ``RANDOM_SET_SIZE`` corpus clips, drawn with ``seed``, none of
    them an example of a concept under test."""
    pool = {cid: x for cid, x in state.corpus_features().items() if cid not in exclude}
    if len(pool) < RANDOM_SET_SIZE:
        raise JobFailed(f"The bundle's corpus has {len(pool)} clips to draw random sets from; "
                        f"{RANDOM_SET_SIZE} are needed.")
    ids = sorted(pool)
    rng = np.random.default_rng(seed)
    return [[pool[ids[i]] for i in rng.choice(len(ids), RANDOM_SET_SIZE, replace=False)] for _ in range(RANDOM_SETS)]


def tcav_job(state: AppState, model, model_id: str, concepts: list[dict], classes: list[str], layers: list[str],
             runs: int, seed: int, progress: Progress) -> dict:
    """TCAV of ``concepts`` for ``classes`` at ``layers``, with the null distribution and
    significance; then, per concept and layer, the corpus clips furthest along its direction."""
    net = private_model(model)
    names = {c["name"]: c for c in concepts}
    examples = {name: concept_clips(state, c, state.concept_index["n_frames"]) for name, c in names.items()}
    exclude = {cid for c in concepts for cid in c["clip_ids"]}
    randoms = random_sets(state, exclude, seed)
    class_index = {label: i for i, label in enumerate(state.bundle.classes)}
    targets = {class_index[label]: list(state.concept_sets[f"target/{label}"]) for label in classes}
    config = TCAVConfig(runs=runs, seed=seed, n_frames=state.concept_index["n_frames"])
    result = run_tcav(net, layers, examples, randoms, targets, config=config, cache=state.concept_cache,
                      progress=lambda f: progress(0.9 * f), class_names=state.bundle.classes)
    out = result.to_dict()
    corpus = state.corpus_features()
    ids = sorted(corpus)
    heard = []
    for (name, layer), direction in result.directions.items():
        top = hear_concept(net, layer, direction, [corpus[i] for i in ids], top=HEAR_TOP, n_frames=result.n_frames,
                           cache=state.concept_cache)
        heard.append({"concept": name, "layer": layer, "clips": [
            {"clip_id": ids[t["index"]], "label": state.corpus[ids[t["index"]]].label,
             "projection": float(t["projection"]), "audio_url": f"/api/clips/{ids[t['index']]}/audio.wav"}
            for t in top]})
    progress(1.0)
    out["hear"] = heard
    out["model"] = model_id
    out["concept_ids"] = {name: c["id"] for name, c in names.items()}
    return out


def discovery_job(state: AppState, model, model_id: str, classes: list[str], layer: str, rank: int, seed: int,
                  progress: Progress) -> dict:
    """Concepts found without labels in ``layer`` on the corpus clips of ``classes``, each with
    its fidelity, class sensitivities and playable excerpts."""
    clips = [c for c in state.corpus.values() if c.label in classes]
    features = state.corpus_features()
    class_index = {label: i for i, label in enumerate(state.bundle.classes)}
    x = [features[c.id] for c in clips]
    labels = [class_index[c.label] for c in clips]
    result = discover_concepts(private_model(model), layer, x, labels, rank=rank, seed=seed, progress=progress)
    out = result.to_dict()
    for component in out["components"]:
        for excerpt in component["excerpts"]:
            clip = clips[excerpt["clip"]]
            excerpt.update({"clip_id": clip.id, "label": clip.label, "name": clip.name,
                            "audio_url": f"/api/clips/{clip.id}/audio.wav"})
    out["model"] = model_id
    out["class_names"] = classes
    return out

"""Musical concepts: a library of example sets (built into the bundle or made by users), tested
against the model with TCAV, or found without labels in a layer's activations."""
from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response

from auralens.models.audio import encode_wav, log_mel_to_audio

from auralens.models.concepts import DEFAULT_DISCOVERY_LAYERS, DEFAULT_TCAV_LAYERS

from ..concept_jobs import discovery_job, tcav_job
from ..jobs import JobFailed
from ..accounts import User
from ..deps import CurrentUser, State
from ..errors import COMMON, Conflict, Forbidden, Invalid, NotFound
from ..names import clean_name, name_key
from ..byte_ranges import ranged
from ..schemas import Concept, ConceptExample, ConceptIn, ConceptSeparability, LayerSeparability, ConceptSharing, DiscoveryRequest, JobStarted, TCAVRequest
from ..separability import separability
from ..state import AppState
from ..storage import NameTaken

router = APIRouter(tags=["concepts"], responses=COMMON)
MIN_CLIPS = 20


def builtin_concepts(state: AppState) -> list[dict]:
    return [{"id": f"builtin-{s['name']}", "key": s["name"], "name": s["name"].replace("_", " "),
             "description": s["description"], "builtin": True, "n_clips": len(s["clips"]), "clip_ids": [],
             "created": None}
            for key, s in state.concept_index["sets"].items() if s["kind"] == "concept"]


def user_concept(c: dict, user: User) -> dict:
    """A stored concept as ``user`` sees it: whose it is, and whether it is theirs."""
    return {**{k: v for k, v in c.items() if k != "owner_name"}, "builtin": False, "n_clips": len(c["clip_ids"]),
            "owner": c["owner_name"], "mine": c["owner"] == user.id}


def find_concept(state: AppState, concept_id: str, user: User) -> dict:
    """A built-in concept, or a stored one ``user`` may see (theirs or shared); else NotFound."""
    for c in builtin_concepts(state):
        if c["id"] == concept_id:
            return c
    found = state.storage.concept(concept_id, user.id)
    if found is None:
        raise NotFound(f"There is no concept '{concept_id}'.")
    return user_concept(found, user)


def out(c: dict) -> Concept:
    """A concept for the API: the clips of the asker's own only."""
    return Concept(**{**{k: v for k, v in c.items() if k != "key"},
                      "clip_ids": c["clip_ids"] if c.get("mine") else []})


def own_concept(state: AppState, concept_id: str, user: User, doing: str) -> dict:
    """A concept ``user`` may change: a built-in one is a Conflict, another user's a Forbidden."""
    found = find_concept(state, concept_id, user)
    if found["builtin"]:
        raise Conflict(f"Built-in concepts belong to the bundle and cannot be {doing}.")
    if not found["mine"]:
        raise Forbidden(f"The concept '{found['name']}' belongs to {found['owner'] or 'another user'}; "
                        f"only they can change it.")
    return found


@router.get("/api/concepts", response_model=list[Concept])
def list_concepts(state: State, user: CurrentUser) -> list[Concept]:
    """The concept library: the bundle's built-in concepts, then the asker's own and those
    other users share."""
    return ([out(c) for c in builtin_concepts(state)]
            + [out(user_concept(c, user)) for c in state.storage.concepts(user.id)])


@router.post("/api/concepts", status_code=201, response_model=Concept)
def create_concept(concept: ConceptIn, state: State, user: CurrentUser) -> Concept:
    """Define a concept from at least 20 example clips (uploads or corpus clips). Its name is
    cleaned (NFKC, invisible characters removed, spaces collapsed) and must not look like a
    built-in concept's or another of the asker's concepts' (letters of other scripts that look
    Latin, case and underscores aside)."""
    ids = list(dict.fromkeys(concept.clip_ids))
    if len(ids) < MIN_CLIPS:
        raise Invalid(f"A concept needs at least {MIN_CLIPS} different example clips "
                      f"(for a trustworthy test); this one has {len(ids)}.")
    missing = [i for i in ids if i not in state.corpus and state.storage.clip(i, user.id) is None]
    if missing:
        raise Invalid(f"These clips do not exist: {', '.join(missing[:5])}{' and more' if len(missing) > 5 else ''}.")
    name = clean_name(concept.name)
    if not 1 <= len(name) <= 80:
        raise Invalid("A concept's name needs 1 to 80 visible characters.")
    builtin = next((c for c in builtin_concepts(state) if name_key(c["name"]) == name_key(name)), None)
    if builtin is not None:
        raise Conflict(f"'{name}' is, or looks like, the built-in concept '{builtin['name']}'; choose another name.")
    try:
        stored = state.storage.add_concept(name, concept.description.strip(), ids, owner=user.id,
                                           shared=concept.shared)
    except NameTaken:
        raise Conflict(f"You already have a concept called '{name}' (or one that looks the same); "
                       f"choose another name.") from None
    return out(user_concept(stored, user))


@router.get("/api/concepts/{concept_id}", response_model=Concept)
def get_concept(concept_id: str, state: State, user: CurrentUser) -> Concept:
    return out(find_concept(state, concept_id, user))


@router.patch("/api/concepts/{concept_id}", response_model=Concept,
              responses={403: {"description": "another user's concept"}, 409: {"description": "a built-in concept"}})
def share_concept(concept_id: str, sharing: ConceptSharing, state: State, user: CurrentUser) -> Concept:
    """Share one of your concepts with the server's other users (they can see and test it,
    not change it), or stop sharing it."""
    own_concept(state, concept_id, user, "shared")
    state.storage.share_concept(concept_id, user.id, sharing.shared)
    return out(find_concept(state, concept_id, user))


@router.delete("/api/concepts/{concept_id}", status_code=204, response_class=Response,
               responses={403: {"description": "another user's concept"}, 409: {"description": "a built-in concept"}})
def delete_concept(concept_id: str, state: State, user: CurrentUser) -> Response:
    """Remove one of your concepts (its clips stay)."""
    own_concept(state, concept_id, user, "deleted")
    state.storage.delete_concept(concept_id, user.id)
    return Response(status_code=204)


def examples_of(state: AppState, concept: dict, user: User) -> list[ConceptExample]:
    """The example clips of a concept that ``user`` may hear: a built-in concept's stored
    features (re-synthesised) and the user's own concept's clips; none of another user's shared
    concept, whose clips stay theirs (as its ``clip_ids`` do)."""
    if concept["builtin"]:
        clips = state.concept_index["sets"][f"concept/{concept['key']}"]["clips"]
        return [ConceptExample(index=i, name=c["source"].rsplit("/", 1)[-1], label=c.get("label"),
                               tags={k: str(v) for k, v in c.items() if k not in ("source", "label")},
                               audio_url=f"/api/concepts/{concept['id']}/examples/{i}/audio.wav", resynthesised=True)
                for i, c in enumerate(clips)]
    out = []
    for i, clip_id in enumerate(concept["clip_ids"] if concept.get("mine") else []):
        clip = state.corpus.get(clip_id)
        if clip is None:
            found = state.storage.clip(clip_id, user.id)
            clip = state.upload_ref(found) if found is not None else None
        if clip is not None:
            out.append(ConceptExample(index=i, name=clip.name, label=clip.label, tags=clip.tags or {},
                                      audio_url=f"/api/clips/{clip.id}/audio.wav", resynthesised=False))
    return out


@router.get("/api/concepts/{concept_id}/examples", response_model=list[ConceptExample])
def concept_examples(concept_id: str, state: State, user: CurrentUser,
                     limit: int = Query(100, ge=1, le=500, description="at most this many")) -> list[ConceptExample]:
    """The concept's example clips, each with a sound to hear: so that the library can play
    what a concept is made of. A built-in concept's examples are heard re-synthesised from the
    features the bundle keeps (Griffin-Lim), a user's own concept's as recorded; another user's
    shared concept lists none (its clips stay theirs)."""
    return examples_of(state, find_concept(state, concept_id, user), user)[:limit]


@router.get("/api/concepts/{concept_id}/examples/{index}/audio.wav", response_class=Response,
            responses={200: {"content": {"audio/wav": {}}}})
async def builtin_example_audio(concept_id: str, index: int, request: Request, state: State,
                                user: CurrentUser) -> Response:
    """Example ``index`` of a built-in concept, re-synthesised from its stored log-mel features
    (about a second, peak-normalised). Byte ranges are answered (206)."""
    concept = find_concept(state, concept_id, user)
    if not concept["builtin"]:
        raise NotFound("Only built-in concepts have re-synthesised examples; a user's concept's clips are "
                       "heard at their own addresses (see its examples).")
    features = state.concept_sets[f"concept/{concept['key']}"]
    if not 0 <= index < len(features):
        raise NotFound(f"The concept '{concept['name']}' has {len(features)} examples (0 to {len(features) - 1}).")
    cfg = state.bundle.audio
    key = ("concept-example", concept_id, index)
    cached = state.renders.get(key)
    if cached is None:
        work = lambda: encode_wav(log_mel_to_audio(features[index], cfg), cfg.sample_rate)
        cached = state.renders.put(key, await state.run(work))
    data, gain = cached
    return ranged(request, data, "audio/wav", {"X-Gain-Db": f"{gain:.2f}"})


def _layers(state: AppState, model, names: list[str]) -> None:
    known = {layer["name"] for layer in state.layers(model)}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise Invalid(f"Unknown layer(s): {', '.join(unknown)}. "
                      f"See GET /api/models/{{model}}/layers for the model's layers.")


@router.get("/api/concepts/{concept_id}/separability", response_model=ConceptSeparability)
async def concept_separability(
    concept_id: str, state: State, user: CurrentUser,
    layers: list[str] = Query(None, max_length=4, description="layer names (default: the default TCAV layers)"),
    runs: int = Query(10, ge=2, le=20, description="CAVs to fit per layer"),
    seed: int = Query(0, ge=0, le=2**31 - 1),
    model: str | None = Query(None, max_length=80, description="model id (default: the bundle's first that allows it)"),
) -> ConceptSeparability:
    """Can each layer tell the concept's clips from random clips? The CAV accuracy of TCAV's
    first ``runs`` runs (the same random sets and splits as a TCAV with this seed), measured
    before running TCAV: a layer near 50 % cannot see the concept, so its test means little."""
    model_id, net = state.model_showing(model, "concept_tests", "Concept testing")
    if not state.concept_sets:
        raise Invalid("This bundle has no concept material (add it with `auralens bundle add-concepts`).")
    concept = find_concept(state, concept_id, user)
    names = list(dict.fromkeys(layers or DEFAULT_TCAV_LAYERS))
    _layers(state, net, names)
    try:
        found = await state.run(separability, state, net, concept, names, runs, seed, long=True)
    except JobFailed as err:
        raise Invalid(str(err)) from None
    return ConceptSeparability(concept=concept["id"], model=model_id, seed=seed,
                               layers=[LayerSeparability(**f) for f in found])


@router.post("/api/tcav", status_code=202, response_model=JobStarted)
def start_tcav(request: TCAVRequest, state: State, user: CurrentUser) -> JobStarted:
    """Test concepts against classes with TCAV: scores with a random baseline, p-values and a
    verdict per (concept, layer, class). Runs as a job; the job's result holds the scores."""
    model_id, model = state.model_showing(request.model, "concept_tests", "Concept testing")
    if not state.concept_sets:
        raise Invalid("This bundle has no target clips for concept testing "
                      "(add them with `auralens bundle add-concepts`).")
    concepts = [find_concept(state, cid, user) for cid in dict.fromkeys(request.concepts)]
    classes = list(dict.fromkeys(request.classes or state.bundle.classes))
    unknown = [c for c in classes if c not in state.bundle.classes]
    if unknown:
        raise Invalid(f"Unknown class(es): {', '.join(unknown)}.")
    layers = list(dict.fromkeys(request.layers or [DEFAULT_TCAV_LAYERS[0]]))
    _layers(state, model, layers)
    params = {"concepts": [c["id"] for c in concepts], "classes": classes, "layers": layers, "runs": request.runs,
              "seed": request.seed, "model": model_id}
    job_id = state.jobs.submit("tcav", params, lambda progress: tcav_job(
        state, model, model_id, concepts, classes, layers, request.runs, request.seed, progress), owner=user.id)
    return JobStarted(job_id=job_id, status_url=f"/api/jobs/{job_id}")


@router.post("/api/discoveries", status_code=202, response_model=JobStarted)
def start_discovery(request: DiscoveryRequest, state: State, user: CurrentUser) -> JobStarted:
    """Find concepts without labels: NMF of a layer's activations on the corpus clips of the
    chosen classes. Runs as a job; the result lists each concept with its playable excerpts."""
    model_id, model = state.model_showing(request.model, "concept_tests", "Concept testing")
    classes = list(dict.fromkeys(request.classes))
    unknown = [c for c in classes if c not in state.bundle.classes]
    if unknown or len(classes) < 2:
        raise Invalid(f"Choose two or more classes of the bundle"
                      f"{'; unknown: ' + ', '.join(unknown) if unknown else ''}.")
    layer = request.layer or DEFAULT_DISCOVERY_LAYERS[0]
    _layers(state, model, [layer])
    if not next(x for x in state.layers(model) if x["name"] == layer)["non_negative"]:
        raise Invalid(f"Layer '{layer}' has negative activations; discovery needs a "
                      f"non-negative one (a ReLU), e.g. {DEFAULT_DISCOVERY_LAYERS[0]}.")
    params = {"classes": classes, "layer": layer, "rank": request.rank, "seed": request.seed, "model": model_id}
    job_id = state.jobs.submit("discovery", params, lambda progress: discovery_job(
        state, model, model_id, classes, layer, request.rank, request.seed, progress), owner=user.id)
    return JobStarted(job_id=job_id, status_url=f"/api/jobs/{job_id}")

"""Musical concepts: a library of example sets (built into the bundle or made by users), tested
against the model with TCAV, or found without labels in a layer's activations."""
from __future__ import annotations

from fastapi import APIRouter, Response

from auralens.models.concepts import DEFAULT_DISCOVERY_LAYERS, DEFAULT_TCAV_LAYERS

from ..concept_jobs import discovery_job, tcav_job
from ..deps import State
from ..errors import COMMON, Conflict, Invalid, NotFound
from ..names import clean_name, name_key
from ..schemas import Concept, ConceptIn, DiscoveryRequest, JobStarted, TCAVRequest
from ..state import AppState
from ..storage import NameTaken

router = APIRouter(tags=["concepts"], responses=COMMON)
MIN_CLIPS = 20


def builtin_concepts(state: AppState) -> list[dict]:
    return [{"id": f"builtin-{s['name']}", "key": s["name"], "name": s["name"].replace("_", " "),
             "description": s["description"], "builtin": True, "n_clips": len(s["clips"]), "clip_ids": [],
             "created": None}
            for key, s in state.concept_index["sets"].items() if s["kind"] == "concept"]


def user_concept(c: dict) -> dict:
    return {**c, "builtin": False, "n_clips": len(c["clip_ids"])}


def find_concept(state: AppState, concept_id: str) -> dict:
    for c in builtin_concepts(state):
        if c["id"] == concept_id:
            return c
    found = state.storage.concept(concept_id)
    if found is None:
        raise NotFound(f"There is no concept '{concept_id}'.")
    return user_concept(found)


def out(c: dict) -> Concept:
    return Concept(**{k: v for k, v in c.items() if k != "key"})


@router.get("/api/concepts", response_model=list[Concept])
def list_concepts(state: State) -> list[Concept]:
    """The concept library: the bundle's built-in concepts, then the users' own."""
    return [out(c) for c in builtin_concepts(state)] + [out(user_concept(c)) for c in state.storage.concepts()]


@router.post("/api/concepts", status_code=201, response_model=Concept)
def create_concept(concept: ConceptIn, state: State) -> Concept:
    """Define a concept from at least 20 example clips (uploads or corpus clips)."""
    ids = list(dict.fromkeys(concept.clip_ids))
    if len(ids) < MIN_CLIPS:
        raise Invalid(f"A concept needs at least {MIN_CLIPS} different example clips "
                      f"(for a trustworthy test); this one has {len(ids)}.")
    missing = [i for i in ids if i not in state.corpus and state.storage.clip(i) is None]
    if missing:
        raise Invalid(f"These clips do not exist: {', '.join(missing[:5])}{' and more' if len(missing) > 5 else ''}.")
    name = clean_name(concept.name)
    if not name:
        raise Invalid("A concept needs a name with at least one visible character.")
    key = name_key(name)
    taken = Conflict(f"There is already a concept called '{name}' (or one that reads the same); "
                     "choose another name.")
    if any(name_key(c["name"]) == key for c in builtin_concepts(state) + state.storage.concepts()):
        raise taken
    try:
        stored = state.storage.add_concept(name, concept.description.strip(), ids, name_key=key)
    except NameTaken:  # created at the same moment by another request
        raise taken from None
    return out(user_concept(stored))


@router.get("/api/concepts/{concept_id}", response_model=Concept)
def get_concept(concept_id: str, state: State) -> Concept:
    return out(find_concept(state, concept_id))


@router.delete("/api/concepts/{concept_id}", status_code=204, response_class=Response,
               responses={409: {"description": "a built-in concept"}})
def delete_concept(concept_id: str, state: State) -> Response:
    """Remove a user's concept (its clips stay)."""
    if find_concept(state, concept_id)["builtin"]:
        raise Conflict("Built-in concepts belong to the bundle and cannot be deleted.")
    state.storage.delete_concept(concept_id)
    return Response(status_code=204)


def _layers(state: AppState, model, names: list[str]) -> None:
    known = {layer["name"] for layer in state.layers(model)}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise Invalid(f"Unknown layer(s): {', '.join(unknown)}. "
                      f"See GET /api/models/{{model}}/layers for the model's layers.")


@router.post("/api/tcav", status_code=202, response_model=JobStarted)
def start_tcav(request: TCAVRequest, state: State) -> JobStarted:
    """Test concepts against classes with TCAV: scores with a random baseline, p-values and a
    verdict per (concept, layer, class). Runs as a job; the job's result holds the scores."""
    model_id, model = state.model_showing(request.model, "concept_tests", "Concept testing")
    if not state.concept_sets:
        raise Invalid("This bundle has no target clips for concept testing "
                      "(add them with `auralens bundle add-concepts`).")
    concepts = [find_concept(state, cid) for cid in dict.fromkeys(request.concepts)]
    classes = list(dict.fromkeys(request.classes or state.bundle.classes))
    unknown = [c for c in classes if c not in state.bundle.classes]
    if unknown:
        raise Invalid(f"Unknown class(es): {', '.join(unknown)}.")
    layers = list(dict.fromkeys(request.layers or [DEFAULT_TCAV_LAYERS[0]]))
    _layers(state, model, layers)
    params = {"concepts": [c["id"] for c in concepts], "classes": classes, "layers": layers, "runs": request.runs,
              "seed": request.seed, "model": model_id}
    job_id = state.jobs.submit("tcav", params, lambda progress: tcav_job(
        state, model, model_id, concepts, classes, layers, request.runs, request.seed, progress))
    return JobStarted(job_id=job_id, status_url=f"/api/jobs/{job_id}")


@router.post("/api/discoveries", status_code=202, response_model=JobStarted)
def start_discovery(request: DiscoveryRequest, state: State) -> JobStarted:
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
        state, model, model_id, classes, layer, request.rank, request.seed, progress))
    return JobStarted(job_id=job_id, status_url=f"/api/jobs/{job_id}")

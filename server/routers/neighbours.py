"""Neighbours: the corpus clips nearest to a clip in each embedding space, and search by words."""
from __future__ import annotations

import re

from fastapi import APIRouter, Query, Response

from auralens.models.embeddings import Neighbour, UnknownWords
from auralens.models.embeddings.aspects import BadWeights, parse_weights

from ..aspect_schemas import Blend, BlendedClip

from ..deps import CurrentUser, State
from ..errors import COMMON, Invalid, NotFound
from ..fair import LONG_AUDIO_S
from ..schemas import EmbeddingSpace, NeighbourClip
from ..search_terms import families_of, read_query
from ..state import AppState

router = APIRouter(tags=["neighbours"], responses=COMMON)


def spaces_of(state: AppState):
    if state.spaces is None:
        raise NotFound("This bundle has no embedding spaces (add them with `auralens bundle add-embeddings`).")
    return state.spaces


def space_list(state: AppState) -> list[EmbeddingSpace]:
    if state.spaces is None:
        return []
    return [EmbeddingSpace(id=d["name"], description=d["description"], dim=d["dim"], quality=d.get("quality") or {},
                           credit=d.get("credit")) for d in state.spaces.describe()]


def hits_out(state: AppState, hits) -> list[NeighbourClip]:
    out = []
    for hit in hits:
        clip = state.corpus.get(hit.clip_id)
        out.append(NeighbourClip(clip_id=hit.clip_id, label=clip.label if clip else None,
                                 tags=(clip.tags if clip else None) or {}, distance=round(hit.distance, 6),
                                 audio_url=f"/api/clips/{hit.clip_id}/audio.wav"))
    return out


@router.get("/api/spaces", response_model=list[EmbeddingSpace])
def list_spaces(state: State) -> list[EmbeddingSpace]:
    """The embedding spaces of the bundle: what nearness means in each, and how well it sorts
    the corpus by class."""
    return space_list(state)


@router.get("/api/clips/{clip_id}/neighbours", response_model=list[NeighbourClip])
async def neighbours(clip_id: str,
                     space: str = Query("timbre", description="an embedding space (see GET /api/spaces)"),
                     k: int = Query(10, ge=1, le=100, description="how many neighbours"),
                     *, state: State, user: CurrentUser) -> list[NeighbourClip]:
    """The ``k`` corpus clips nearest to a clip (a corpus clip or an upload) in one space,
    nearest first; a corpus clip is not its own neighbour."""
    spaces = spaces_of(state)
    clip = state.find_clip(clip_id, user.id)
    if space not in spaces.names:
        why = spaces.unavailable.get(space)
        missing = f"There is no space '{space}'; there are: {', '.join(spaces.names)}."
        if why is None:
            raise NotFound(missing)
        raise Invalid(f"The '{space}' space is not available on this server: {why}." if why else missing)
    key = (clip.id, space, k)
    cached = state.neighbours.get(key)
    if cached is None:
        if clip.origin == "corpus":
            work = lambda: spaces.neighbours(space, clip.id, k)
        else:
            work = lambda: spaces.neighbours(space, state.clip_audio(clip).samples, k)
        cached = state.neighbours.put(key, await state.run(work, long=clip.duration_s > LONG_AUDIO_S))
    return hits_out(state, cached)


@router.get("/api/clips/{clip_id}/neighbours/blend", response_model=Blend)
async def blended_neighbours(clip_id: str,
                             weights: str | None = Query(None, max_length=500, description="space:weight pairs "
                                                         "separated by commas, e.g. timbre:0.5,pitch:0.3,tags:0.2 "
                                                         "(weights 0 or more, at least one above 0; a 0 reports that "
                                                         "space without counting it); required"),
                             k: int = Query(10, ge=1, le=100, description="how many neighbours"),
                             *, state: State, user: CurrentUser) -> Blend:
    """The ``k`` corpus clips nearest to a clip in a weighted blend of spaces ("aspects"), each
    with its similarity in every space named and the blended one. Each space's cosine distance
    is divided by its typical neighbour distance over the corpus first, so that the weights
    compare like with like. Bad weights (malformed, an unknown space, negative, all zero) are a
    422 saying what is wrong."""
    spaces = spaces_of(state)
    clip = state.find_clip(clip_id, user.id)
    try:
        wanted = parse_weights(weights or "", spaces.names, spaces.unavailable)  # after the clip: 404 first
    except BadWeights as err:
        raise Invalid(str(err)) from None
    aspects = state.aspects
    if clip.origin == "corpus":
        work = lambda: aspects.blend(wanted, query=clip.id, k=k)
    else:
        def work():  # the upload's vectors are computed once per space and kept
            vectors = {s: state.neighbours.get((clip.id, s, "vector")) for s in wanted}
            missing = [s for s, v in vectors.items() if v is None]
            if missing:
                for s, v in spaces.embed_all(missing, state.clip_audio(clip).samples).items():
                    vectors[s] = state.neighbours.put((clip.id, s, "vector"), v)
            return aspects.blend(wanted, vectors=vectors, k=k)
    hits = await state.run(work, long=clip.origin != "corpus" and clip.duration_s > LONG_AUDIO_S)
    total = sum(wanted.values())
    out = []
    for hit in hits:
        c = state.corpus.get(hit.clip_id)
        out.append(BlendedClip(clip_id=hit.clip_id, label=c.label if c else None, tags=(c.tags if c else None) or {},
                               similarity=round(hit.similarity, 6), distance=round(hit.distance, 6),
                               aspects={s: round(v, 6) for s, v in hit.aspects.items()},
                               audio_url=f"/api/clips/{hit.clip_id}/audio.wav"))
    return Blend(clip_id=clip.id, weights={s: w / total for s, w in wanted.items()},
                 scales={s: round(aspects.scale(s), 6) for s in wanted}, neighbours=out)


@router.get("/api/search", response_model=list[NeighbourClip])
async def search(response: Response,
                 q: str = Query(..., min_length=1, max_length=200, description="tag words, e.g. 'brass ff low'"),
                 k: int = Query(10, ge=1, le=100),
                 *, state: State) -> list[NeighbourClip]:
    """Corpus clips that fit a few words (tags such as an instrument family, register, dynamics,
    articulation), through the space where sounds and their tags meet. Instrument names
    ("cello", "french horn") and the concept library's words ("staccato" = short,
    "fortissimo" = ff) stand for the tags they mean, an instrument's name keeping to its clips;
    how each such word was read is in the ``X-Read-As`` header ("staccato = short; ...").
    Words the tags space does not know are left out and named in the ``X-Ignored-Words``
    header; a query of unknown words only is a 422 listing the known ones."""
    spaces = spaces_of(state)
    read = read_query(q, state.bundle.classes, families_of(state.corpus.values()))
    if read.read_as:
        response.headers["X-Read-As"] = "; ".join(read.read_as)
    # an instrument's clips are found among all the corpus's, best first
    wanted = len(state.corpus) if read.classes else k
    try:
        hits = await state.run(spaces.search_words, read.words, wanted)
    except UnknownWords as err:
        unknown = {w.lower() for w in err.unknown}
        known = " ".join(w for w in re.split(r"[\s,;+]+", read.words) if w and w.lower() not in unknown)
        if not known.strip():
            raise Invalid(str(err)) from None
        try:
            hits = await state.run(spaces.search_words, known, wanted)
        except ValueError:
            raise Invalid(str(err)) from None
        response.headers["X-Ignored-Words"] = ", ".join(err.unknown)
    except ValueError as err:
        if not read.classes:
            raise NotFound(str(err)) from None
        hits = [Neighbour(cid, 0.0) for cid in state.corpus]  # only instruments named: their clips
    if read.classes:
        hits = [h for h in hits if getattr(state.corpus.get(h.clip_id), "label", None) in read.classes][:k]
    return hits_out(state, hits)

"""Clips: upload a recording (the same file twice is one clip), list uploads, see one with its
spectrogram, hear it; rename an upload, label it, delete it with its analyses."""
from __future__ import annotations

import hashlib
from typing import Literal

from fastapi import APIRouter, File, Query, Request, Response, UploadFile

from auralens.models.audio import AudioError, UnsupportedAudio, encode_wav, load_audio, spectrogram_for_display

from ..byte_ranges import ranged
from ..clip_ref import ClipRef
from ..deps import CurrentUser, State
from ..errors import COMMON, UPLOAD, Conflict, Invalid, NotFound, TooLarge, UnsupportedMedia
from ..exports import export_path
from ..fair import LONG_AUDIO_S, LONG_UPLOAD_BYTES
from ..schemas import Clip, ClipDeleted, ClipDetail, ClipList, ClipUpdate
from ..state import AppState

router = APIRouter(prefix="/api/clips", tags=["clips"], responses=COMMON)

EXTENSIONS = {"WAV": "wav", "WAVEX": "wav", "FLAC": "flac", "OGG": "ogg", "MP3": "mp3"}


def clip_out(clip: ClipRef, n_analyses: int | None = None) -> Clip:
    return Clip(id=clip.id, name=clip.name, origin=clip.origin, duration_s=round(clip.duration_s, 4),
                sample_rate=clip.sample_rate, audio_url=f"/api/clips/{clip.id}/audio.wav",
                label=clip.label, split=clip.split, tags=clip.tags or {}, n_analyses=n_analyses)


def upload_out(state: AppState, clip) -> Clip:
    """A stored upload as the API shows it, with the number of its analyses."""
    return clip_out(state.upload_ref(clip), state.storage.count_analyses_of(clip.id))


@router.post("", status_code=201, response_model=Clip,
             responses={**UPLOAD, 200: {"model": Clip, "description": "this very file was uploaded before: that clip"}},
             form_limits={"max_files": 1, "max_fields": 4, "max_part_size": 64 * 1024})
async def upload_clip(response: Response, file: UploadFile = File(..., description="WAV, FLAC, Ogg/Vorbis, Opus or MP3"),
                      *, state: State, user: CurrentUser) -> Clip:
    """Upload a recording. It is checked (decodable, not empty, not silent, not too long) and kept.
    The same file (byte for byte) uploaded again by the same user is answered with the clip it
    already is (200)."""
    limit = state.settings.max_upload_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"The file is larger than the upload limit of {state.settings.max_upload_mb:g} MB.")
    known = state.storage.upload_with_hash(hashlib.sha256(data).hexdigest(), user.id)
    if known is not None:
        response.status_code = 200
        return upload_out(state, known)
    try:
        audio = await state.run(load_audio, data, state.bundle.audio.sample_rate, state.settings.max_seconds,
                                long=len(data) > LONG_UPLOAD_BYTES)
    except UnsupportedAudio as err:
        raise UnsupportedMedia(str(err)) from None
    except AudioError as err:
        raise Invalid(str(err)) from None
    ext = EXTENSIONS.get(audio.source_format, audio.source_format.lower())
    name = (file.filename or "recording").rsplit("/", 1)[-1]
    clip = state.storage.upload_with_hash(hashlib.sha256(data).hexdigest(), user.id)  # the same file sent twice at once
    if clip is None:
        clip = state.storage.add_upload(data, name, ext, audio.duration_s, audio.source_sample_rate,
                                        audio.source_channels, canonical=(audio.samples, audio.sample_rate),
                                        owner=user.id)
    return upload_out(state, clip)


@router.get("", response_model=ClipList)
def list_clips(origin: Literal["corpus", "upload"] | None = Query(None, description="only corpus clips or only uploads"),
               label: str | None = Query(None, description="class of corpus clips"),
               tag: str | None = Query(None, description="a tag value corpus clips carry, e.g. 'ff' or 'vibrato=90'"),
               split: Literal["train", "val", "test"] | None = Query(None, description="split of corpus clips"),
               limit: int = Query(50, ge=1, le=500, description="clips per page"),
               offset: int = Query(0, ge=0, le=1_000_000_000, description="clips to skip"),
               *, state: State, user: CurrentUser) -> ClipList:
    """Corpus clips (filtered by class, tag and split) then the asker's uploads (newest first): one id space."""
    corpus = [] if origin == "upload" else [c for c in state.corpus.values() if _matches(c, label, tag, split)]
    uploads_wanted = origin != "corpus" and label is None and tag is None and split is None
    n_uploads = state.storage.count_clips(user.id) if uploads_wanted else 0
    page = [clip_out(c) for c in corpus[offset:offset + limit]]
    if uploads_wanted and len(page) < limit:
        start = max(0, offset - len(corpus))
        page += [upload_out(state, c) for c in state.storage.clips(limit - len(page), start, user.id)]
    return ClipList(total=len(corpus) + n_uploads, clips=page)


def _matches(clip: ClipRef, label: str | None, tag: str | None, split: str | None) -> bool:
    if label is not None and clip.label != label:
        return False
    if split is not None and clip.split != split:
        return False
    if tag is not None:
        key, _, value = tag.partition("=")
        tags = clip.tags or {}
        return tags.get(key) == value if value else key in tags.values()
    return True


@router.get("/{clip_id}", response_model=ClipDetail)
async def get_clip(clip_id: str, state: State, user: CurrentUser) -> ClipDetail:
    """One clip with its spectrogram (seconds, Hz, dB)."""
    clip = state.find_clip(clip_id, user.id)
    features = await state.run(state.clip_features, clip, long=clip.duration_s > LONG_AUDIO_S)
    spectrogram = spectrogram_for_display(features, state.bundle.audio)
    n_analyses = state.storage.count_analyses_of(clip.id) if clip.origin == "upload" else None
    return ClipDetail(**clip_out(clip, n_analyses).model_dump(), spectrogram=spectrogram)


def stored_upload(state: AppState, clip_id: str, owner: str):
    """User ``owner``'s upload ``clip_id``; a corpus clip is :class:`Invalid`, an unknown id (or
    another user's upload) :class:`NotFound`."""
    if clip_id in state.corpus:
        raise Invalid("Corpus clips belong to the bundle; only your uploads can be renamed, labelled or deleted.")
    stored = state.storage.clip(clip_id, owner)
    if stored is None:
        raise NotFound(f"There is no clip '{clip_id}'.")
    return stored


@router.patch("/{clip_id}", response_model=Clip)
def update_clip(clip_id: str, change: ClipUpdate, state: State, user: CurrentUser) -> Clip:
    """Rename an upload and/or give it a label (what it is, e.g. "cello"; null removes it)."""
    stored_upload(state, clip_id, user.id)
    name = change.name.strip() if change.name is not None else None
    if name == "":
        raise Invalid("A clip's name cannot be empty.")
    label = change.label.strip() if change.label is not None else None
    clear = "label" in change.model_fields_set and not label
    return upload_out(state, state.storage.update_clip(clip_id, name=name, label=label or None,
                                                            clear_label=clear, owner=user.id))


@router.delete("/{clip_id}", response_model=ClipDeleted, responses={409: {"description": "a concept uses the clip"}})
def delete_clip(clip_id: str, state: State, user: CurrentUser) -> ClipDeleted:
    """Delete an upload with every analysis of it (and their exports). A clip that one of your
    concepts uses is kept (409) until the concept is deleted or made without it."""
    stored_upload(state, clip_id, user.id)
    using = [c["name"] for c in state.storage.concepts() if clip_id in c["clip_ids"]]
    if using:
        raise Conflict(f"The concept{'s' if len(using) > 1 else ''} {', '.join(repr(n) for n in using)} "
                       f"use{'' if len(using) > 1 else 's'} this clip; delete the concept first.")
    analyses = state.storage.delete_upload(clip_id, user.id) or []
    for analysis_id in analyses:
        export_path(state, analysis_id).unlink(missing_ok=True)
    return ClipDeleted(id=clip_id, analyses_deleted=len(analyses))


@router.get("/{clip_id}/audio.wav", response_class=Response,
            responses={200: {"content": {"audio/wav": {}}}})
async def clip_audio(request: Request, clip_id: str, state: State, user: CurrentUser) -> Response:
    """The clip as 16-bit WAV at the bundle's sample rate, at its own level; byte ranges are
    answered (206), so that players can seek."""
    clip = state.find_clip(clip_id, user.id)
    key = ("clip", clip.id)
    cached = state.renders.get(key)
    if cached is None:
        audio = await state.run(state.clip_audio, clip, long=clip.duration_s > LONG_AUDIO_S)
        cached = state.renders.put(key, encode_wav(audio.samples, audio.sample_rate, peak_dbfs=None))
    return ranged(request, cached[0], "audio/wav")

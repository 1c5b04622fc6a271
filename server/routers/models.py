"""The bundle and its models: what is loaded, every prototype as a picture and a sound, with
what-if controls (louder, transposed, filtered), and the layers concepts can be tested at."""
from __future__ import annotations

from typing import Literal

import torch
from fastapi import APIRouter, Depends, Query, Request, Response

from auralens.models.audio import encode_wav, spectrogram_for_display
from auralens.models.audio.display import log_to_db
from auralens.models.bundle import nearest_clip_audio
from auralens.models.kinds import kind_of
from auralens.models.prototypes.pitch import midi_to_hz, note_name
from auralens.models.prototypes.sound import prototype_tone
from auralens.models.prototypes.whatif import reference_pitch, steady_scores, what_if_spectrum

from ..byte_ranges import ranged
from ..deps import ConceptModelDep, ModelDep, PrototypeDep, State, WhatIfPrototypeDep
from ..errors import COMMON, Invalid, NotFound
from ..renders import decoded_prototype_wav
from ..schemas import BundleInfo, Layer, ModelInfo, Prototype, Rendering, WhatIf
from ..state import AppState, models_showing
from .neighbours import space_list

router = APIRouter(tags=["bundle"], responses=COMMON)


@router.get("/api/bundle", response_model=BundleInfo)
def bundle_info(state: State) -> BundleInfo:
    """The loaded bundle: audio settings, classes, models with their stages, metrics."""
    b = state.bundle
    models = []
    for mid, e in b.models.items():
        model = state.models[mid]
        kind = kind_of(model)
        models.append(ModelInfo(id=mid, kind=e.kind, title=kind.title, shows=kind.shows,
                                n_prototypes=model.cfg.n_prototypes, supervised=kind.supervised(e.config),
                                stages=kind.stages_of(model), metrics=e.metrics))
    return BundleInfo(name=b.name, version=b.version, audio=b.audio.to_dict(), classes=b.classes, models=models,
                      evaluations=b.extra.get("evaluations", {}), embedding_spaces=space_list(state),
                      embedding_probe=(b.extra.get("embeddings") or {}).get("probes", {}).get("all"),
                      corpus_size=len(state.corpus))


@router.get("/api/models/{model_id}/prototypes", response_model=list[Prototype])
def prototypes(chosen: ModelDep, state: State) -> list[Prototype]:
    """Every prototype of a model: its class, its spectrum (as a 1.5 s steady sound) and audio.
    A latent prototype comes as its decoded spectrogram, with two renderings to hear: decoded,
    and the training clip nearest to it."""
    model_id, model = chosen
    if kind_of(model).shows.decoded_prototypes:
        return decoded_prototypes(state, model_id, model)
    cfg = state.bundle.audio
    frames = cfg.n_frames(int(1.5 * cfg.sample_rate))
    out = []
    spectra = model.reference_spectra().detach().cpu()  # (K, F)
    for k in range(model.cfg.n_prototypes):
        spectrum = spectra[k].unsqueeze(-1).expand(-1, frames)
        ref = reference_pitch(model, k)
        pitch = {} if ref is None else {"reference_midi": ref, "reference_note": note_name(ref),
                                        "reference_hz": round(float(midi_to_hz(ref)), 2)}
        out.append(Prototype(index=k, label=state.bundle.classes[int(model.prototype_class[k])],
                                spectrogram=spectrogram_for_display(spectrum, cfg),
                                audio_url=f"/api/models/{model_id}/prototypes/{k}/audio.wav",
                                best_clips=state.best_clips.get(model_id, [[]] * (k + 1))[k], **pitch))
    return out


def decoded_prototypes(state: AppState, model_id: str, model) -> list[Prototype]:
    decoded = state.decoded_prototypes(model_id)  # (K, F, frames)
    nearest = {c.prototype: c for c in state.nearest_clips(model_id)}
    out = []
    for k in range(model.cfg.n_prototypes):
        url = f"/api/models/{model_id}/prototypes/{k}/audio.wav"
        renderings = [Rendering(name="decoded", audio_url=url,
                                description="the prototype itself, decoded to a spectrogram and made audible")]
        if k in nearest:
            c = nearest[k]
            renderings.append(Rendering(name="nearest", audio_url=f"{url}?rendering=nearest",
                                        description=f"the training clip nearest to it ({c.clip_label.replace('_', ' ')}, "
                                                    f"{c.source}): always a faithful sound"))
        out.append(Prototype(index=k, label=state.bundle.classes[int(model.prototype_class[k])],
                                spectrogram=spectrogram_for_display(decoded[k], state.bundle.audio), audio_url=url,
                                best_clips=state.best_clips.get(model_id, [[]] * (k + 1))[k], renderings=renderings))
    return out


class WhatIfQuery:
    """The hand-made transformation of a prototype: louder, transposed, filtered."""

    def __init__(
        self,
        gain_db: float = Query(0.0, ge=-60, le=60, description="louder (+) or softer (-)"),
        shift_semitones: float = Query(0.0, ge=-24, le=24, description="transpose up (+) or down (-)"),
        lowcut_hz: float | None = Query(None, gt=0, le=11_025, description="attenuate below this frequency"),
        highcut_hz: float | None = Query(None, gt=0, le=11_025, description="attenuate above this frequency"),
    ):
        self.gain_db, self.shift_semitones = gain_db, shift_semitones
        self.lowcut_hz, self.highcut_hz = lowcut_hz, highcut_hz

    @property
    def changed(self) -> bool:
        return bool(self.gain_db or self.shift_semitones or self.lowcut_hz or self.highcut_hz)

    def spectrum(self, model, k: int, db_per_unit: float) -> torch.Tensor:
        """Prototype ``k``'s spectrum ``(F,)`` in log units after the transformation."""
        return what_if_spectrum(model, k, db_per_unit, self.gain_db, self.shift_semitones, self.lowcut_hz,
                                self.highcut_hz)


@router.get("/api/models/{model_id}/prototypes/{k}/audio.wav", response_class=Response,
            responses={200: {"content": {"audio/wav": {}}}})
async def prototype_audio(
    request: Request,
    seconds: float = Query(1.5, ge=0.1, le=10, description="length of the sound, 0.1 to 10 s"),
    what_if: WhatIfQuery = Depends(),
    rendering: Literal["decoded", "nearest"] | None = Query(None, description="latent prototypes: the decoded "
                                                                               "prototype (default) or its nearest "
                                                                               "training clip"),
    *, chosen: PrototypeDep, state: State,
) -> Response:
    """A prototype as a steady sound, optionally transformed by hand (what if it were louder,
    higher, darker?). Peak-normalised unless a gain is asked for; the gain applied is in
    ``X-Gain-Db``. A latent prototype is heard decoded, or as its nearest training clip. Byte
    ranges are answered (206), so that players can seek."""
    model_id, model, k = chosen
    kind = kind_of(model)
    cfg = state.bundle.audio
    if what_if.changed and not kind.shows.what_if:
        raise Invalid(f"What-if changes are for {models_showing('what_if')}; '{model_id}' is a {kind.noun}.")
    if kind.shows.decoded_prototypes:
        data, gain = await decoded_audio(state, model_id, k, rendering or "decoded")
        return ranged(request, data, "audio/wav", {"X-Gain-Db": f"{gain:.2f}"})

    def work():
        audio = prototype_tone(model, what_if.spectrum(model, k, cfg.db_per_unit), k, seconds, cfg,
                               what_if.shift_semitones)
        return encode_wav(audio, cfg.sample_rate, peak_dbfs=None if what_if.gain_db else -1.0)

    key = ("tone", model_id, k, seconds, what_if.gain_db, what_if.shift_semitones, what_if.lowcut_hz,
           what_if.highcut_hz)
    cached = state.renders.get(key)
    if cached is None:
        cached = state.renders.put(key, await state.run(work))
    data, gain = cached
    return ranged(request, data, "audio/wav", {"X-Gain-Db": f"{gain:.2f}"})


@router.get("/api/models/{model_id}/prototypes/{k}/what-if", response_model=WhatIf)
async def prototype_what_if(what_if: WhatIfQuery = Depends(), *, chosen: WhatIfPrototypeDep, state: State) -> WhatIf:
    """How the model hears prototype ``k`` once transformed by hand: the class ranking of the
    transformed sound, and the spectrum before and after (dB per mel band)."""
    _, model, k = chosen
    cfg = state.bundle.audio

    def work():
        spectrum = what_if.spectrum(model, k, cfg.db_per_unit)  # (F,)
        ref = reference_pitch(model, k)
        scores = steady_scores(model, spectrum, cfg.n_frames(int(1.5 * cfg.sample_rate)), cfg.db_per_unit,
                               None if ref is None else ref + what_if.shift_semitones)
        ranking = sorted(({"label": state.bundle.classes[c], "score": float(s)} for c, s in enumerate(scores.tolist())),
                         key=lambda p: -p["score"])
        to_db = lambda v: [round(d, 2) for d in log_to_db(v.double().cpu(), cfg).tolist()]
        return WhatIf(prototype=k, label=state.bundle.classes[int(model.prototype_class[k])], prediction=ranking,
                      freqs_hz=[round(float(f), 1) for f in model.tables.centre_hz.tolist()],
                      original_db=to_db(model.reference_spectra()[k].detach()), transformed_db=to_db(spectrum))

    return await state.run(work)


async def decoded_audio(state: AppState, model_id: str, k: int, rendering: str) -> tuple[bytes, float]:
    """A prototype heard through the model's decoder, or as its nearest training clip: its WAV
    bytes and the gain applied (dB)."""
    cfg = state.bundle.audio
    key = ("latent", model_id, k, rendering)
    cached = state.renders.get(key)
    if cached is None:
        if rendering == "nearest":
            def work():  # on a worker: the first call reads the bundle's index of nearest clips
                nearest = {c.prototype: c for c in state.nearest_clips(model_id)}
                if k not in nearest:
                    raise NotFound(f"The bundle keeps no nearest training clip for prototype {k}.")
                return encode_wav(torch.as_tensor(nearest_clip_audio(state.bundle.path, nearest[k], cfg)),
                                  cfg.sample_rate)
            cached = state.renders.put(key, await state.run(work))
        else:
            cached = await state.run(decoded_prototype_wav, state, model_id, k)
    return cached


@router.get("/api/models/{model_id}/layers", response_model=list[Layer])
def model_layers(chosen: ConceptModelDep, state: State) -> list[Layer]:
    """The layers concepts can be tested at (every submodule with one tensor output)."""
    return [Layer(**layer) for layer in state.layers(chosen.model)]

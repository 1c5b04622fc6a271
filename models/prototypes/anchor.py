"""Where pitch-anchored prototypes start: a reference pitch each, and pitch-aligned spectra.

Averaging an instrument's training frames as they are gives an envelope: notes at many
pitches put their partials in different bands, and the mean has none. Shifting each frame by
``ref - f0`` first (the frame's annotated pitch to the prototype's reference) lines the
partials up, and the mean is a harmonic tone at ``ref`` - what the prototype should sound like.

Shapes: F mel bands, T frames; pitches in MIDI numbers.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .pitch import shift_spectra, sounding_frames


def clip_pitch_tracks(records, features: list[torch.Tensor], frame_seconds: float) -> list[torch.Tensor]:
    """Annotated pitch of every frame of every clip: ``[(T_i,)]`` MIDI, NaN where no note sounds.

    ``records``: clips with ``notes`` (see :class:`auralens.models.data.ClipRecord`), aligned
    with ``features`` ``[(F, T_i)]``. A clip without notes is NaN throughout.
    """
    from .pitch import note_track

    return [note_track(r.notes, f.shape[-1], frame_seconds) for r, f in zip(records, features)]


def has_notes(records, share: float = 0.9) -> bool:
    """Whether at least ``share`` of the clips carry note annotations (an anchored model trains on them)."""
    records = list(records)
    return bool(records) and sum(1 for r in records if r.notes) >= share * len(records)


def median_pitch(track: torch.Tensor) -> float:
    """The median annotated pitch of a clip (NaN when it has none)."""
    voiced = track[~torch.isnan(track)]
    return float(voiced.median()) if len(voiced) else float("nan")


def reference_pitches(pitches: np.ndarray, n: int) -> list[float]:
    """``n`` reference pitches for a class: whole MIDI notes at the centres of ``n`` equal
    shares of its clips' pitches (one prototype per register).

    >>> reference_pitches(np.array([40, 45, 50, 55, 60, 65]), 2)
    [46.0, 59.0]
    """
    pitches = pitches[~np.isnan(pitches)]
    if len(pitches) == 0:
        return [60.0] * n
    return [float(np.round(np.quantile(pitches, (i + 0.5) / n))) for i in range(n)]


def pitched_sounding(x: torch.Tensor, track: torch.Tensor) -> torch.Tensor:
    """``(T,)`` bool: the frames of ``x (F, T)`` that sound and have an annotated pitch in ``track (T,)``."""
    return sounding_frames(x.unsqueeze(0))[0] & ~torch.isnan(track)


def aligned_mean(x: torch.Tensor, track: torch.Tensor, reference: float, centre_hz: torch.Tensor) -> torch.Tensor | None:
    """Mean of a clip's sounding, pitched frames, each shifted from its pitch to ``reference``.

    ``x (F, T)`` log-mel, ``track (T,)`` MIDI (NaN: no note) -> ``(F,)``, or None when no frame
    qualifies.
    """
    keep = pitched_sounding(x, track)
    if not keep.any():
        return None
    frames = x[:, keep].T  # (n, F)
    return shift_spectra(frames, reference - track[keep], centre_hz).mean(0)


def anchored_init(features: list[torch.Tensor], tracks: list[torch.Tensor], targets: torch.Tensor | None,
                  n_classes: int, per_class: int, centre_hz: torch.Tensor, seed: int = 0,
                  source_filter: bool = False) -> tuple[torch.Tensor, list[float], torch.Tensor, torch.Tensor | None]:
    """Initial prototypes, their reference pitches, the class of each, and their envelopes.

    Supervised (``targets`` given): ``per_class`` prototypes per class, with references spread
    over the class's register (:func:`reference_pitches`); each clip is aligned to the
    reference nearest its median pitch and averaged into that prototype. Clustering
    (``targets`` None): ``n_classes * per_class`` k-means clusters of clips aligned to middle C,
    each then re-centred on its members' median pitch. ``source_filter``: each prototype's clips
    are split into a harmonic part and an envelope instead (:func:`fit_source_filter`).

    Returns ``(prototypes (K, F), references [K], prototype_class (K,), envelopes (K, F) or None)``.
    """
    medians = np.array([median_pitch(t) for t in tracks])
    K = n_classes * per_class
    if targets is None:
        assignment, references = _cluster(features, tracks, medians, K, centre_hz, seed)
        owner = torch.zeros(K, dtype=torch.long)
    else:
        references, assignment = [], np.full(len(features), -1)
        for c in range(n_classes):
            members = np.flatnonzero(targets.numpy() == c)
            refs = reference_pitches(medians[members], per_class)
            for i in members:
                if not np.isnan(medians[i]):
                    assignment[i] = c * per_class + int(np.argmin([abs(medians[i] - r) for r in refs]))
            references += refs
        owner = torch.arange(K) // per_class
    fallback = torch.stack(features and [f.mean(1) for f in features]).mean(0)  # a prototype with no frames
    references = [float(r) for r in references]
    if source_filter:
        prototypes, envelopes = fallback.repeat(K, 1), torch.zeros(K, len(fallback))
        for k in range(K):
            members = np.flatnonzero(assignment == k)
            frames, pitches = pitched_frames([features[i] for i in members], [tracks[i] for i in members],
                                             seed=seed + k)
            if len(frames):
                harmonic, envelopes[k] = fit_source_filter(frames, pitches, references[k], centre_hz)
                prototypes[k] = harmonic + frames.mean()  # the level of the class's frames
        return prototypes, references, owner, envelopes
    sums = torch.zeros(K, len(fallback))
    counts = torch.zeros(K)
    for i, k in enumerate(assignment):
        if k < 0:
            continue
        mean = aligned_mean(features[i], tracks[i], references[k], centre_hz)
        if mean is not None:
            sums[k] += mean
            counts[k] += 1
    prototypes = torch.where(counts[:, None] > 0, sums / counts.clamp_min(1)[:, None], fallback)
    return prototypes, references, owner, None


def pitched_frames(features: list[torch.Tensor], tracks: list[torch.Tensor], limit: int = 6000,
                   seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """The sounding frames with an annotated pitch of some clips: ``(N, F)`` log-mel and their
    pitch ``(N,)`` MIDI, at most ``limit`` of them (drawn evenly at random, seeded)."""
    frames, pitches = [], []
    for x, track in zip(features, tracks):
        keep = pitched_sounding(x, track)
        frames.append(x[:, keep].T)
        pitches.append(track[keep])
    if not frames:
        return torch.zeros(0, 0), torch.zeros(0)
    frames, pitches = torch.cat(frames), torch.cat(pitches)
    if len(frames) > limit:
        pick = torch.randperm(len(frames), generator=torch.Generator().manual_seed(seed))[:limit]
        frames, pitches = frames[pick], pitches[pick]
    return frames, pitches


def _cluster(features, tracks, medians, K, centre_hz, seed):
    """Clustering start: k-means over clips aligned to MIDI 60, references = members' median pitch."""
    from sklearn.cluster import KMeans

    rows, index = [], []
    for i, (x, t) in enumerate(zip(features, tracks)):
        mean = aligned_mean(x, t, 60.0, centre_hz)
        if mean is not None:
            rows.append(mean.numpy())
            index.append(i)
    assignment = np.full(len(features), -1)
    k = min(K, len(rows))
    labels = KMeans(k, init="k-means++", n_init=3, random_state=seed).fit(np.stack(rows)).labels_
    assignment[index] = labels
    references = []
    for j in range(K):
        member_pitch = medians[assignment == j]
        member_pitch = member_pitch[~np.isnan(member_pitch)]
        references.append(float(np.round(np.median(member_pitch))) if len(member_pitch) else 60.0)
    return assignment, references


def smooth_bands(v: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian smoothing along the band axis: ``(F,) -> (F,)``, ``sigma`` in bands (edges
    replicated; 0 returns ``v``)."""
    if sigma <= 0:
        return v
    half = int(math.ceil(3 * sigma))
    k = torch.arange(-half, half + 1, dtype=v.dtype)
    w = torch.exp(-0.5 * (k / sigma) ** 2)
    padded = torch.nn.functional.pad(v.view(1, 1, -1), (half, half), mode="replicate")
    return torch.nn.functional.conv1d(padded, (w / w.sum()).view(1, 1, -1)).view(-1)


def fit_source_filter(frames: torch.Tensor, pitches: torch.Tensor, reference: float, centre_hz: torch.Tensor,
                      iterations: int = 6, smoothing: float = 3.0) -> tuple[torch.Tensor, torch.Tensor]:
    """A source-filter prototype from an instrument's pitched frames, by alternating least squares.

    Model of a frame at pitch ``p`` (log units, every frame at its own gain ``g``)::

        x(f) ~ g + harmonic(f * 2 ** ((reference - p) / 12)) + envelope(f)

    the ``harmonic`` part (partials and their pattern) moves with the note; the ``envelope``
    (body resonances, formants) stays where it is in frequency, smooth over ``smoothing`` bands.
    A prototype that is only transposed carries its formants along with the note; this one keeps
    them fixed. Played at its reference it is ``harmonic + envelope``: a harmonic tone at the
    reference with the instrument's colour.

    Parameters
    ----------
    frames : ``(N, F)`` log-mel frames that sound and have a pitch.
    pitches : ``(N,)`` their pitch, MIDI.
    reference : the prototype's pitch, MIDI.
    centre_hz : ``(F,)`` band centres (``SpectralTables.centre_hz``).

    Returns
    -------
    ``(harmonic (F,), envelope (F,))``, each with mean 0 over bands (the level is the frame's gain).

    Examples
    --------
    >>> from auralens.models.prototypes.transforms import SpectralTables
    >>> hz = SpectralTables(128, 0.0, 11025.0).centre_hz
    >>> x = torch.rand(40, 128); p = torch.linspace(55, 65, 40)
    >>> [t.shape for t in fit_source_filter(x, p, 60.0, hz)]
    [torch.Size([128]), torch.Size([128])]
    """
    def centred(v):
        return v - v.mean(-1, keepdim=True)

    shift = pitches.to(frames.dtype) - reference  # (N,) semitones from the reference to each frame
    harmonic = centred(shift_spectra(frames, -shift, centre_hz)).mean(0)
    envelope = torch.zeros_like(harmonic)
    for _ in range(iterations):
        transposed = shift_spectra(harmonic.expand(len(frames), -1), shift, centre_hz)  # (N, F)
        envelope = centred(smooth_bands(centred(frames - transposed).mean(0), smoothing))
        harmonic = centred(shift_spectra(frames - envelope, -shift, centre_hz)).mean(0)
    return harmonic, envelope


def source_filter_errors(frames: torch.Tensor, pitches: torch.Tensor, harmonic: torch.Tensor,
                         envelope: torch.Tensor, references: torch.Tensor, centre_hz: torch.Tensor) -> torch.Tensor:
    """Mean squared error of each source-filter prototype on a clip's frames, gain fitted per frame.

    ``frames (N, F)``, ``pitches (N,)`` MIDI; ``harmonic``, ``envelope`` ``(K, F)``, ``references``
    ``(K,)`` MIDI -> ``(K,)`` log units squared (a clip's error per prototype; the smallest wins).
    """
    K, (N, Fb) = len(harmonic), frames.shape
    x = frames - frames.mean(-1, keepdim=True)  # (N, F): the gain fitted per frame is the mean difference
    shift = (pitches.to(frames.dtype).unsqueeze(0) - references.to(frames.dtype).unsqueeze(1)).reshape(-1)  # (K*N,)
    rec = shift_spectra(harmonic.repeat_interleave(N, 0), shift, centre_hz).view(K, N, Fb) + envelope.unsqueeze(1)
    return (x - (rec - rec.mean(-1, keepdim=True))).square().mean((1, 2))  # (K,)

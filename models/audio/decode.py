"""Decode audio files into mono float samples at the bundle's sample rate, with validation."""
from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np
import soundfile as sf

from .errors import AudioTooLong, EmptyAudio, InvalidSamples, SilentAudio, UnsupportedAudio

AudioSource = Union[str, Path, bytes, bytearray, BinaryIO]

FORMATS = "WAV, FLAC, Ogg/Vorbis, Opus or MP3"
DEFAULT_MAX_SECONDS = 600.0
SILENCE_PEAK = 1e-6  # -120 dBFS: below this every sample counts as zero


@dataclass(frozen=True)
class Audio:
    """Decoded, validated audio.

    samples: float32, shape ``(n_samples,)``, mono, in [-1, 1] for integer sources.
    sample_rate: Hz of ``samples``.
    source_sample_rate, source_channels, source_format: what the file held.
    """

    samples: np.ndarray
    sample_rate: int
    source_sample_rate: int
    source_channels: int
    source_format: str

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate


def _describe_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest} s"


def _open(source: AudioSource):
    if isinstance(source, (bytes, bytearray)):
        return io.BytesIO(bytes(source)), len(source)
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"No audio file at {path}.")
        return path, path.stat().st_size
    return source, None


def load_audio(
    source: AudioSource,
    sample_rate: int | None = 22_050,
    max_seconds: float | None = DEFAULT_MAX_SECONDS,
) -> Audio:
    """Decode a file (or its bytes) to validated mono float32 samples.

    Parameters
    ----------
    source : path, bytes or binary file object
        WAV, FLAC, Ogg/Vorbis, Opus or MP3 (recognised by content, not by name).
    sample_rate : int or None
        Resample to this rate in Hz (soxr high quality); None keeps the file's rate.
    max_seconds : float or None
        Longest accepted duration; checked from the header before decoding.

    Returns
    -------
    Audio
        ``samples`` of shape ``(n_samples,)``, float32, at ``sample_rate``.

    Raises
    ------
    UnsupportedAudio, EmptyAudio, SilentAudio, InvalidSamples, AudioTooLong
        Subclasses of :class:`AudioError` (a ``ValueError``) with a message for a person.

    Examples
    --------
    >>> import numpy as np, soundfile as sf, io
    >>> buf = io.BytesIO(); sf.write(buf, np.full(44_100, 0.1), 44_100, format="WAV")
    >>> load_audio(buf.getvalue()).samples.shape
    (22050,)
    """
    handle, size = _open(source)
    if size == 0:
        raise EmptyAudio("The file is empty (0 bytes): there is no audio in it.")
    try:
        with sf.SoundFile(handle) as f:
            fmt, channels, rate, frames = f.format, f.channels, f.samplerate, f.frames
            if rate <= 0:
                raise UnsupportedAudio("The file has no valid sample rate.")
            if max_seconds is not None and frames > 0 and frames / rate > max_seconds:
                raise AudioTooLong(
                    f"The clip is {_describe_seconds(frames / rate)} long; "
                    f"the limit is {_describe_seconds(max_seconds)}. Cut it shorter and try again."
                )
            limit = None if max_seconds is None else int(math.ceil(max_seconds * rate)) + 1
            data = f.read(frames=-1 if limit is None else limit, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        raise UnsupportedAudio(
            f"This file could not be read as audio ({_reason(err)}). "
            f"Accepted formats: {FORMATS}."
        ) from None
    if max_seconds is not None and data.shape[0] / rate > max_seconds:
        raise AudioTooLong(
            f"The clip is longer than the limit of {_describe_seconds(max_seconds)}. "
            "Cut it shorter and try again."
        )
    if data.shape[0] == 0:
        raise EmptyAudio("The file holds no audio samples (its length is 0 s).")
    if not np.isfinite(data).all():
        raise InvalidSamples(
            "The file contains invalid samples (NaN or infinite values); it may be corrupted."
        )
    mono = data.mean(axis=1, dtype=np.float64).astype(np.float32)
    if np.abs(mono).max() <= SILENCE_PEAK:
        raise SilentAudio("The clip is silent: every sample is zero, so there is nothing to analyse.")
    target = rate if sample_rate is None else int(sample_rate)
    if target != rate:
        import librosa

        mono = librosa.resample(mono, orig_sr=rate, target_sr=target, res_type="soxr_hq")
        mono = np.ascontiguousarray(mono, dtype=np.float32)
    return Audio(mono, target, int(rate), int(channels), str(fmt))


def _reason(err: Exception) -> str:
    text = str(err)
    if "Format not recognised" in text or "format not recognised" in text.lower():
        return "its format was not recognised"
    if "unimplemented" in text.lower() or "not supported" in text.lower():
        return "its encoding is not supported"
    return "it is damaged or not an audio file"

"""Decode audio files into mono float samples at the bundle's sample rate, with validation.

Decoding is bounded before it starts: the header's duration, sample rate and decoded size
(frames x channels) are checked first, and the file is then decoded, mixed down to mono and
resampled block by block, so that memory stays near the size of the mono result whatever the
file declares (a header that lies, or none, is caught as the blocks arrive).
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np
import soundfile as sf

from .errors import AudioTooLong, AudioTooShort, EmptyAudio, InvalidSamples, SilentAudio, UnsupportedAudio

AudioSource = Union[str, Path, bytes, bytearray, BinaryIO]

FORMATS = "WAV, FLAC, Ogg/Vorbis, Opus or MP3"
DEFAULT_MAX_SECONDS = 600.0
SILENCE_PEAK = 1e-6  # -120 dBFS: below this every sample counts as zero
MAX_PEAK = 1e3  # +60 dBFS: float samples beyond this are damage, not sound
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 8_000, 192_000  # Hz, the sample rates accepted
DECODED_PER_SECOND = 2 * MAX_SAMPLE_RATE  # samples x channels a second may decode to (stereo at 192 kHz)
MIN_SAMPLES = 512  # fewest samples after resampling: two frames of the STFT
BLOCK_FRAMES = 1 << 16  # frames decoded at once
UNKNOWN_LENGTH = 1 << 62  # libsndfile's frame count of a stream that does not say its length


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
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
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


def _too_long(seconds: float | None, max_seconds: float) -> AudioTooLong:
    length = "longer than the limit of" if seconds is None else f"{_describe_seconds(seconds)} long; the limit is"
    return AudioTooLong(f"The clip is {length} {_describe_seconds(max_seconds)}. Cut it shorter and try again.")


def check_header(channels: int, rate: int, frames: int | None, max_seconds: float | None) -> None:
    """Refuse a file from its header alone, before anything is decoded.

    Parameters
    ----------
    channels, rate : what the header declares (rate in Hz).
    frames : declared length in frames; None when the file does not say.
    max_seconds : longest accepted duration (None: no limit on duration or decoded size).

    Raises
    ------
    UnsupportedAudio
        A sample rate outside ``MIN_SAMPLE_RATE`` .. ``MAX_SAMPLE_RATE``, or no channels.
    AudioTooLong
        Longer than ``max_seconds``, or decoding to more than ``max_seconds x
        DECODED_PER_SECOND`` samples over all channels (e.g. 8 channels at 192 kHz).
    """
    if frames is not None and max_seconds is not None and frames / max(rate, 1) > max_seconds:
        raise _too_long(frames / max(rate, 1), max_seconds)
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise UnsupportedAudio(f"The file's sample rate is {rate} Hz; accepted rates are {MIN_SAMPLE_RATE} "
                               f"to {MAX_SAMPLE_RATE} Hz.")
    if channels < 1:
        raise UnsupportedAudio("The file declares no audio channels.")
    if frames is not None and max_seconds is not None and frames * channels > max_seconds * DECODED_PER_SECOND:
        raise AudioTooLong(
            f"The file would decode to {frames * channels / 1e6:.0f} million samples ({channels} channels x "
            f"{_describe_seconds(frames / rate)} at {rate / 1000:g} kHz); the limit is "
            f"{max_seconds * DECODED_PER_SECOND / 1e6:.0f} million ({_describe_seconds(max_seconds)} of stereo "
            f"at {MAX_SAMPLE_RATE / 1000:g} kHz). Mix it down or cut it shorter and try again.")


def load_audio(
    source: AudioSource,
    sample_rate: int | None = 22_050,
    max_seconds: float | None = DEFAULT_MAX_SECONDS,
    min_samples: int = MIN_SAMPLES,
) -> Audio:
    """Decode a file (or its bytes) to validated mono float32 samples.

    Parameters
    ----------
    source : path, bytes or binary file object
        WAV, FLAC, Ogg/Vorbis, Opus or MP3 (recognised by content, not by name).
    sample_rate : int or None
        Resample to this rate in Hz (soxr high quality); None keeps the file's rate.
    max_seconds : float or None
        Longest accepted duration, which also bounds the decoded size (see
        :func:`check_header`); checked from the header before decoding and again as the
        blocks arrive. None: no limit (for files already checked).
    min_samples : int
        Fewest samples accepted at ``sample_rate``.

    Returns
    -------
    Audio
        ``samples`` of shape ``(n_samples,)``, float32, at ``sample_rate``.

    Raises
    ------
    UnsupportedAudio, EmptyAudio, SilentAudio, InvalidSamples, AudioTooLong, AudioTooShort
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
            fmt, channels, rate = f.format, f.channels, f.samplerate
            frames = f.frames if 0 < f.frames < UNKNOWN_LENGTH else None
            check_header(channels, rate, frames, max_seconds)
            target = rate if sample_rate is None else int(sample_rate)
            mono, peak = _decode_mono(f, target, max_seconds)
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        raise UnsupportedAudio(
            f"This file could not be read as audio ({_reason(err)}). "
            f"Accepted formats: {FORMATS}."
        ) from None
    if len(mono) == 0:
        raise EmptyAudio("The file holds no audio samples (its length is 0 s).")
    if peak <= SILENCE_PEAK:
        raise SilentAudio("The clip is silent: every sample is zero, so there is nothing to analyse.")
    if len(mono) < min_samples:
        raise AudioTooShort(f"The clip is {_describe_seconds(len(mono) / target)} long; at least "
                         f"{_describe_seconds(min_samples / target)} is needed to analyse it.")
    return Audio(mono, target, int(rate), int(channels), str(fmt))


def _decode_mono(f: sf.SoundFile, target: int, max_seconds: float | None) -> tuple[np.ndarray, float]:
    """Decode ``f`` block by block, mixing down to mono and resampling to ``target`` Hz as it
    goes; returns the samples ``(n,)`` float32 and the peak of the mono mix."""
    import soxr

    rate, channels = f.samplerate, f.channels
    limit = None if max_seconds is None else int(math.ceil(max_seconds * rate))
    resampler = None if target == rate else soxr.ResampleStream(rate, target, 1, dtype="float32", quality="HQ")
    out, n, peak = [], 0, 0.0
    for block in _blocks(f):  # (frames, channels)
        n += len(block)
        if limit is not None and n > limit:
            raise _too_long(None, max_seconds)
        if not np.isfinite(block).all():
            raise InvalidSamples("The file contains invalid samples (NaN or infinite values); it may be corrupted.")
        loudest = float(np.abs(block).max())
        if loudest > MAX_PEAK:
            raise InvalidSamples(f"The file contains samples of {loudest:.3g}, far beyond full scale (1.0); "
                                 "it may be corrupted.")
        mono = block[:, 0].copy() if channels == 1 else block.mean(axis=1, dtype=np.float64).astype(np.float32)
        peak = max(peak, float(np.abs(mono).max()))
        out.append(mono if resampler is None else resampler.resample_chunk(mono))
    if resampler is not None:
        out.append(resampler.resample_chunk(np.zeros(0, np.float32), last=True))
    samples = np.concatenate(out) if out else np.zeros(0, np.float32)
    return np.ascontiguousarray(samples, dtype=np.float32), peak


def _blocks(f: sf.SoundFile):
    """``f``'s samples as float32 blocks ``(<= BLOCK_FRAMES, channels)``, to the end.

    In a stream that does not say its length (e.g. a FLAC written while recording) libsndfile
    cannot seek, and soundfile's ``read`` fails moving its read position after each block;
    such a stream is read with libsndfile's own ``sf_readf_float``, which moves none."""
    positioned = 0 < f.frames < UNKNOWN_LENGTH
    while True:
        if positioned:
            block = f.read(BLOCK_FRAMES, dtype="float32", always_2d=True)
        else:
            block = np.empty((BLOCK_FRAMES, f.channels), np.float32)
            got = sf._snd.sf_readf_float(f._file, sf._ffi.cast("float *", block.ctypes.data), BLOCK_FRAMES)
            block = block[:max(int(got), 0)]
        if len(block) == 0:
            return
        yield block


def _reason(err: Exception) -> str:
    text = str(err)
    if "Format not recognised" in text or "format not recognised" in text.lower():
        return "its format was not recognised"
    if "unimplemented" in text.lower() or "not supported" in text.lower():
        return "its encoding is not supported"
    return "it is damaged or not an audio file"

"""Typed errors of the audio front end, each with a message a person understands."""


class AudioError(ValueError):
    """Base class: the audio cannot be used. ``str(err)`` is a complete sentence for a person."""


class UnsupportedAudio(AudioError):
    """The bytes are not audio in a format we read (WAV, FLAC, Ogg/Vorbis, Opus, MP3)."""


class EmptyAudio(AudioError):
    """The file has no bytes, or decodes to no samples."""


class SilentAudio(AudioError):
    """Every sample is (practically) zero: there is nothing to analyse."""


class InvalidSamples(AudioError):
    """The samples contain NaN or infinite values."""


class AudioTooLong(AudioError):
    """The clip is longer than the configured limit."""


class AudioTooShort(AudioError):
    """The clip is too short to analyse (fewer samples than two frames of the STFT)."""

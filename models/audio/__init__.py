"""The audio front end: every conversion between sound and features goes through here.

Decode (:func:`load_audio`), features (:class:`LogMel`, :func:`log_mel`), and back to sound
(:func:`log_mel_to_audio`, :func:`steady_tone`, :func:`harmonic_tone`, :func:`encode_wav`), all under one
:class:`AudioConfig`.
"""
from .config import AudioConfig
from .decode import Audio, load_audio
from .display import spectrogram_for_display
from .errors import (AudioError, AudioTooLong, AudioTooShort, EmptyAudio, InvalidSamples, SilentAudio,
                     UnsupportedAudio)
from .features import LogMel, log_mel, mel_filterbank
from .harmonic import harmonic_amplitudes, harmonic_render, harmonic_tone
from .synthesis import (apply_fades, griffin_lim, log_mel_to_audio, mel_to_magnitude,
                        spectral_convergence, steady_tone)
from .wav import encode_wav

__all__ = [
    "AudioConfig", "Audio", "load_audio", "AudioError", "AudioTooLong", "AudioTooShort", "EmptyAudio",
    "InvalidSamples", "SilentAudio", "UnsupportedAudio", "LogMel", "log_mel", "mel_filterbank",
    "apply_fades", "griffin_lim", "log_mel_to_audio", "mel_to_magnitude", "spectral_convergence",
    "steady_tone", "harmonic_amplitudes", "harmonic_render", "harmonic_tone", "encode_wav", "spectrogram_for_display",
]

"""The kinds of train-time augmentation, each one function of a mono waveform.

Every function takes float32 samples ``(n,)`` and returns float32 samples of the same length.
"""
from __future__ import annotations

import io

import numpy as np
import soundfile
from scipy import signal

CODEC_FORMATS = {"ogg": ("OGG", "VORBIS"), "mp3": ("MP3", "MPEG_LAYER_III")}
NOISE_EXPONENTS = {"white": 0.0, "pink": 1.0, "brown": 2.0}  # power ~ 1 / f^exponent


def simulate_room(rng: np.random.Generator, sample_rate: int, rt60_s: tuple[float, float]) -> tuple[np.ndarray, dict]:
    """The impulse response of a shoebox room simulated with pyroomacoustics (image sources).

    Draws the room (3-12 x 3-10 x 2.4-5 m), its reverberation time (uniform in ``rt60_s``; the
    wall absorption follows by Sabine's formula; image sources up to order 40), a source and a
    microphone at least 1 m apart. Returns the response ``(m,)`` from just before the direct
    path, scaled to a direct-path peak of 1, and its draws.

    >>> rir, room = simulate_room(np.random.default_rng(0), 22050, (0.2, 0.3))
    >>> float(np.abs(rir).max())
    1.0
    """
    import pyroomacoustics as pra

    dims = rng.uniform([3.0, 3.0, 2.4], [12.0, 10.0, 5.0])
    rt60 = float(rng.uniform(*rt60_s))
    absorption, max_order = pra.inverse_sabine(rt60, dims)
    room = pra.ShoeBox(dims, fs=sample_rate, materials=pra.Material(absorption), max_order=min(max_order, 40))
    while True:
        source, mic = rng.uniform(0.5, dims - 0.5), rng.uniform(0.5, dims - 0.5)
        if np.linalg.norm(source - mic) >= 1.0:
            break
    room.add_source(source)
    room.add_microphone(mic)
    room.compute_rir()
    rir = np.asarray(room.rir[0][0], dtype=np.float64)
    # start 40 samples before the direct path (the simulation's fractional-delay filter is 81
    # taps long), so that a clip's notes keep their annotated onsets through the room
    rir = rir[max(int(np.argmax(np.abs(rir))) - 40, 0):]
    return (rir / np.abs(rir).max()).astype(np.float32), {"dims_m": [round(float(d), 2) for d in dims],
                                                          "rt60_s": round(rt60, 3)}


def apply_room(samples: np.ndarray, rir: np.ndarray) -> np.ndarray:
    """``samples`` convolved with a room impulse response, cut to the input's length.

    >>> apply_room(np.ones(100, np.float32), np.array([1.0, 0.5], np.float32))[:2].tolist()
    [1.0, 1.5]
    """
    wet = signal.fftconvolve(samples.astype(np.float64), rir.astype(np.float64))[: len(samples)]
    return wet.astype(np.float32)


def _peaking(f0: float, gain_db: float, q: float, sample_rate: int) -> np.ndarray:
    """Second-order sections of a peaking filter (Audio EQ Cookbook)."""
    a = 10 ** (gain_db / 40)
    w0 = 2 * np.pi * f0 / sample_rate
    alpha = np.sin(w0) / (2 * q)
    b = np.array([1 + alpha * a, -2 * np.cos(w0), 1 - alpha * a])
    den = np.array([1 + alpha / a, -2 * np.cos(w0), 1 - alpha / a])
    return np.concatenate([b / den[0], den / den[0]])[None]


def colour(samples: np.ndarray, rng: np.random.Generator, sample_rate: int, gain_db: float) -> tuple[np.ndarray, dict]:
    """A microphone's colour: a high-pass at 30-200 Hz, a low-pass at 4-10 kHz and two
    peaking filters (300 Hz-6 kHz, up to +-``gain_db``). Returns the samples and the draws.

    >>> out, eq = colour(np.zeros(1000, np.float32), np.random.default_rng(0), 22050, 9.0)
    >>> out.shape, sorted(eq)
    ((1000,), ['high_pass_hz', 'low_pass_hz', 'peaks'])
    """
    high_pass = float(rng.uniform(30, 200))
    low_pass = float(rng.uniform(4000, min(10000, 0.45 * sample_rate)))
    sos = [signal.butter(2, high_pass, "highpass", fs=sample_rate, output="sos"),
           signal.butter(4, low_pass, "lowpass", fs=sample_rate, output="sos")]
    peaks = []
    for _ in range(2):
        f0, gain, q = float(np.exp(rng.uniform(np.log(300), np.log(6000)))), float(rng.uniform(-gain_db, gain_db)), float(rng.uniform(0.7, 2.0))
        sos.append(_peaking(f0, gain, q, sample_rate))
        peaks.append({"hz": round(f0), "gain_db": round(gain, 2), "q": round(q, 2)})
    out = signal.sosfilt(np.concatenate(sos), samples.astype(np.float64))
    return out.astype(np.float32), {"high_pass_hz": round(high_pass), "low_pass_hz": round(low_pass), "peaks": peaks}


def coloured_noise(rng: np.random.Generator, n: int, colour_name: str) -> np.ndarray:
    """``n`` samples of white, pink or brown noise with unit mean power.

    >>> round(float(np.mean(coloured_noise(np.random.default_rng(0), 4096, "pink") ** 2)), 9)
    1.0
    """
    spectrum = np.fft.rfft(rng.standard_normal(n))
    shape = np.ones(len(spectrum))
    shape[1:] = np.arange(1, len(spectrum)) ** (-NOISE_EXPONENTS[colour_name] / 2)
    shape[0] = 0.0
    noise = np.fft.irfft(spectrum * shape, n)
    return noise / np.sqrt(np.mean(noise**2))


def add_noise(samples: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``samples`` plus ``noise`` scaled so that the mean power of the samples over that of
    the added noise is ``snr_db`` (silence gets no noise).

    >>> x = np.ones(100, np.float32)
    >>> y = add_noise(x, np.full(100, 2.0), 20.0)
    >>> round(float(10 * np.log10(np.mean(x ** 2) / np.mean((y - x) ** 2))), 6)
    20.0
    """
    power = float(np.mean(samples.astype(np.float64) ** 2))
    scale = np.sqrt(power / 10 ** (snr_db / 10) / max(float(np.mean(noise**2)), 1e-20))
    return (samples + scale * noise).astype(np.float32)


def change_level(samples: np.ndarray, gain_db: float) -> np.ndarray:
    """``samples`` times ``10 ** (gain_db / 20)``.

    >>> change_level(np.ones(2, np.float32), -20.0).tolist()
    [0.10000000149011612, 0.10000000149011612]
    """
    return (samples * np.float32(10 ** (gain_db / 20))).astype(np.float32)


def codec_round_trip(samples: np.ndarray, codec: str, quality: float, sample_rate: int) -> np.ndarray:
    """``samples`` encoded as Ogg/Vorbis or MP3 (``codec`` "ogg"/"mp3") at ``quality`` (0 worst,
    1 best) with libsndfile and decoded again, cut or padded to the input's length.

    >>> codec_round_trip(np.zeros(22050, np.float32), "mp3", 0.5, 22050).shape
    (22050,)
    """
    file_format, subtype = CODEC_FORMATS[codec]
    buffer = io.BytesIO()
    soundfile.write(buffer, np.clip(samples, -1, 1), sample_rate, format=file_format, subtype=subtype,
                    compression_level=1.0 - quality)
    buffer.seek(0)
    decoded = soundfile.read(buffer, dtype="float32", always_2d=True)[0].mean(axis=1)
    out = np.zeros(len(samples), np.float32)
    out[: min(len(samples), len(decoded))] = decoded[: len(samples)]
    return out

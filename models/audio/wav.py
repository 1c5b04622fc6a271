"""Sound out: 16-bit PCM WAV bytes for the browser."""
from __future__ import annotations

import io

import numpy as np
import soundfile as sf


def encode_wav(samples, sample_rate: int, peak_dbfs: float | None = -1.0) -> tuple[bytes, float]:
    """Encode mono audio as a 16-bit PCM WAV file in memory.

    Parameters
    ----------
    samples : ``(n_samples,)`` float array or tensor.
    sample_rate : Hz.
    peak_dbfs : peak-normalise to this level (default -1 dBFS); None keeps the level
        (clipping anything beyond full scale), for honest loudness comparisons.

    Returns
    -------
    (wav_bytes, gain_db): the file, and the gain applied in dB (0.0 when not normalised),
    so that a listener can be told how much louder or softer it was made.

    Examples
    --------
    >>> data, gain = encode_wav(np.full(100, 0.5, dtype=np.float32), 22_050)
    >>> data[:4], round(gain, 2)
    (b'RIFF', 5.02)
    """
    x = np.asarray(samples.detach().cpu() if hasattr(samples, "detach") else samples, dtype=np.float64)
    x = np.nan_to_num(x.reshape(-1))
    gain_db = 0.0
    peak = float(np.abs(x).max()) if x.size else 0.0
    if peak_dbfs is not None and peak > 0:
        gain = 10 ** (peak_dbfs / 20) / peak
        x = x * gain
        gain_db = 20 * np.log10(gain)
    buf = io.BytesIO()
    sf.write(buf, np.clip(x, -1.0, 1.0), sample_rate, format="WAV", subtype="PCM_16")
    return buf.getvalue(), float(gain_db)

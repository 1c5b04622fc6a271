"""What if a prototype were louder, transposed or filtered: its spectrum after a hand-made
transformation, and how the model classifies that steady sound."""
from __future__ import annotations

import numpy as np
import torch

from .analysis import analyse
from .model import PrototypeModel
from .transforms import Transforms, reconstruct


def hz_to_position(model: PrototypeModel, hz: float) -> float:
    """Position on the mel axis in [0, 1] of a frequency in Hz (band centres interpolated)."""
    centres = model.tables.centre_hz.cpu().numpy()
    return float(np.interp(hz, centres, np.linspace(0, 1, len(centres))))


def what_if_spectrum(model: PrototypeModel, k: int, db_per_unit: float, gain_db: float = 0.0,
                     shift_semitones: float = 0.0, lowcut_hz: float | None = None,
                     highcut_hz: float | None = None) -> torch.Tensor:
    """Prototype ``k``'s spectrum ``(F,)`` in log units after a hand-made transformation.

    ``gain_db`` louder (+) or softer (-); ``shift_semitones`` transposed up (+) or down (-);
    ``lowcut_hz`` / ``highcut_hz`` attenuate below / above that frequency at the model's steepest
    slope (None: no filter). ``db_per_unit`` is the bundle's ``AudioConfig.db_per_unit``.
    """
    one = torch.ones(1, 1, 1, device=model.prototypes.device)
    low = hz_to_position(model, lowcut_hz) if lowcut_hz else 0.0
    high = hz_to_position(model, highcut_hz) if highcut_hz else 1.0
    steep = -model.cfg.slope_max
    tr = Transforms(gain=one * gain_db / db_per_unit, shift=one * shift_semitones,
                    low_cut=one * low, low_slope=one * (steep if lowcut_hz else 0.0),
                    high_cut=one * high, high_slope=one * (steep if highcut_hz else 0.0))
    protos, env = model.parts(slice(k, k + 1))
    return reconstruct(protos, tr, model.tables, (1, 1), env)[0, 0, 0]


def steady_scores(model: PrototypeModel, spectrum: torch.Tensor, frames: int, db_per_unit: float,
                  pitch_midi: float | None = None) -> torch.Tensor:
    """Class probabilities ``(C,)`` the model gives a steady sound: ``spectrum (F,)`` held for
    ``frames`` frames. ``pitch_midi``: the sound's pitch when it is known (a prototype at its
    reference, transposed by hand), used by a pitch-anchored model instead of its pitch
    network's estimate."""
    x = spectrum.unsqueeze(-1).expand(-1, frames).contiguous().unsqueeze(0)  # (1, F, T)
    if not model.cfg.pitch_anchored or pitch_midi is None:
        return analyse(model, x[0], db_per_unit, with_reconstructions=False).scores
    with torch.inference_mode():
        f0 = torch.full((1, frames), float(pitch_midi), device=x.device)
        return model.probabilities(model(x, f0=f0).class_errors)[0]


def reference_pitch(model: PrototypeModel, k: int) -> float | None:
    """Prototype ``k``'s reference pitch (MIDI), None for a model without references."""
    return float(model.reference_midi[k]) if model.cfg.pitch_anchored else None


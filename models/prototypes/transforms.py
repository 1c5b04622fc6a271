"""The four spectral transformations of a prototype, and the reconstruction error.

Shapes: B clips, T frames, K prototypes, F mel bands. Prototypes are ``(K, F)`` log-mel
spectra; every transformation parameter is ``(B, T, K)``, one value per frame and prototype.
Order (that of "A Model You Can Hear: Audio Identification with Playable Prototypes"): gain ->
pitch shift -> low-frequency filter -> high-frequency filter.

Both shifts and filter cutoffs are read from small tables computed once per step:

* the pitch shift is mel-aware: shifting by ``s`` semitones reads, for each output band of
  centre frequency ``f``, the prototype at ``f * 2**(-s/12)`` (a fractional band index,
  linear interpolation, edge bands clamped). It is computed exactly on a grid of shifts
  (``step`` semitones apart) and interpolated linearly between neighbouring grid shifts, so
  that it is exactly the identity at 0 and exact at every grid shift (every semitone, etc.);
* a filter adds a soft ramp ``slope * softplus(beta * (cut - m)) / beta`` below its cutoff
  (low) or the mirror image above it (high), ``m`` the band position in [0, 1]; ramps are
  tabulated at ``n_cuts`` cutoffs and interpolated linearly.

Because every reconstruction is then a weighted sum of a few table rows, the error
``mean_f (x - R)^2`` expands into dot products: one matrix product of the clip with the
tables, plus small lookups. The ``(B, T, K, F)`` reconstruction tensor is never built
during training (:func:`frame_errors`); :func:`reconstruct` builds it, with the same
formula, for the frames and prototypes a person wants to see and hear.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields

import torch
import torch.nn.functional as F

STAGES = ("raw", "gain", "pitch", "filters")


def stage_index(stage: str) -> int:
    """Position of a curriculum stage: raw 0, gain 1, pitch 2, filters 3."""
    try:
        return STAGES.index(stage)
    except ValueError:
        raise ValueError(f"unknown stage '{stage}'; use one of {', '.join(STAGES)}") from None


@dataclass
class Transforms:
    """Transformation parameters, each ``(B, T, K)``; ``None`` when switched off.

    gain: log units added to every band.
    shift: semitones (positive = higher).
    low_cut, high_cut: cutoff positions on the mel axis, in [0, 1].
    low_slope, high_slope: log units per unit of mel position beyond the cutoff
        (positive boosts, negative attenuates).
    """

    gain: torch.Tensor | None = None
    shift: torch.Tensor | None = None
    low_cut: torch.Tensor | None = None
    low_slope: torch.Tensor | None = None
    high_cut: torch.Tensor | None = None
    high_slope: torch.Tensor | None = None

    def up_to(self, stage: str) -> "Transforms":
        """The same parameters with the transformations after ``stage`` switched off."""
        i = stage_index(stage)
        return Transforms(
            self.gain if i >= 1 else None,
            self.shift if i >= 2 else None,
            *((self.low_cut, self.low_slope, self.high_cut, self.high_slope) if i >= 3 else (None,) * 4),
        )

    def select(self, k) -> "Transforms":
        """Only prototypes ``k`` (an index or index tensor) on the last axis."""
        return Transforms(*(None if v is None else v[..., k] for v in (getattr(self, f.name) for f in fields(self))))


def hz_to_mel(f):
    """HTK mel scale: ``2595 log10(1 + f / 700)``."""
    return 2595.0 * (math.log10(1.0 + f / 700.0) if isinstance(f, float) else torch.log10(1.0 + f / 700.0))


class SpectralTables(torch.nn.Module):
    """Fixed grids of the transformations: shift read-positions and filter ramps.

    Parameters
    ----------
    n_mels, fmin, fmax : the mel axis (HTK, band centres equally spaced in mel).
    shift_max : largest shift in semitones; shifts live in ``[-shift_max, shift_max]``.
    shift_step : semitones between tabulated shifts (0 and every multiple are exact).
    n_cuts : tabulated filter cutoffs over [0, 1].
    beta : sharpness of the filter ramps' knee.
    """

    def __init__(self, n_mels: int, fmin: float, fmax: float, shift_max: float = 24.0,
                 shift_step: float = 0.25, n_cuts: int = 128, beta: float = 40.0):
        super().__init__()
        self.n_mels, self.shift_max, self.shift_step = n_mels, float(shift_max), float(shift_step)
        n_steps = int(round(shift_max / shift_step))
        shifts = torch.arange(-n_steps, n_steps + 1, dtype=torch.float64) * shift_step  # (Q,)
        self.zero_shift = n_steps  # grid row of the identity
        mel_lo, mel_hi = hz_to_mel(float(fmin)), hz_to_mel(float(fmax))
        mel_step = (mel_hi - mel_lo) / (n_mels + 1)
        centres = mel_lo + mel_step * torch.arange(1, n_mels + 1, dtype=torch.float64)  # (F,) mel
        centre_hz = 700.0 * (10 ** (centres / 2595.0) - 1)
        source_hz = centre_hz * torch.exp2(-shifts / 12).unsqueeze(1)  # (Q, F)
        index = (hz_to_mel(source_hz) - mel_lo) / mel_step - 1.0
        index[self.zero_shift] = torch.arange(n_mels, dtype=torch.float64)  # exactly the identity
        index = index.clamp(0, n_mels - 1)
        lower = index.floor().clamp(max=n_mels - 2)
        self.register_buffer("shift_lower", lower.long(), persistent=False)  # (Q, F)
        self.register_buffer("shift_weight", (index - lower).float(), persistent=False)  # (Q, F)
        self.register_buffer("centre_hz", centre_hz.float(), persistent=False)  # (F,)

        self.n_cuts = n_cuts
        position = torch.linspace(0, 1, n_mels, dtype=torch.float64)  # m
        cuts = torch.linspace(0, 1, n_cuts, dtype=torch.float64).unsqueeze(1)  # (C, 1)
        low = F.softplus(beta * (cuts - position)) / beta  # (C, F)
        high = F.softplus(beta * (position - cuts)) / beta
        self.register_buffer("low_ramps", low.float(), persistent=False)
        self.register_buffer("high_ramps", high.float(), persistent=False)
        self.register_buffer("position", position.float(), persistent=False)
        self.register_buffer("low_gram", (low @ low.T).float(), persistent=False)  # (C, C)
        self.register_buffer("high_gram", (high @ high.T).float(), persistent=False)
        self.register_buffer("cross_gram", (low @ high.T).float(), persistent=False)  # low x high

    @property
    def n_shifts(self) -> int:
        return self.shift_lower.shape[0]

    def shifted(self, prototypes: torch.Tensor, envelopes: torch.Tensor | None = None) -> torch.Tensor:
        """Every prototype at every tabulated shift: ``(K, F) -> (Q, K, F)``.

        ``envelopes (K, F)``: a source-filter prototype's part that stays in place, added to
        every shifted row (only ``prototypes``, the harmonic part, moves with the note)."""
        K = prototypes.shape[0]
        lo = self.shift_lower.reshape(1, -1).expand(K, -1)  # (K, Q*F); gather's backward is cheap
        below = prototypes.gather(1, lo).view(K, *self.shift_lower.shape)
        above = prototypes.gather(1, lo + 1).view(K, *self.shift_lower.shape)
        table = torch.lerp(below, above, self.shift_weight).transpose(0, 1)  # (Q, K, F)
        return table if envelopes is None else table + envelopes

    def rows(self, prototypes: torch.Tensor, envelopes: torch.Tensor | None, shifted: bool) -> torch.Tensor:
        """The table rows a reconstruction mixes: ``(Q*K, F)`` every shift when ``shifted``,
        else ``(K, F)`` the prototypes as they are (plus their envelopes)."""
        if shifted:
            return self.shifted(prototypes, envelopes).reshape(-1, prototypes.shape[-1])
        return prototypes if envelopes is None else prototypes + envelopes

    def shift_rows(self, shift: torch.Tensor | None, K: int, like: torch.Tensor):
        """Grid rows and weight of each shift: ``(B, T, K)`` semitones -> lower row, upper row,
        weight of the upper row. Rows index ``shifted(...).reshape(Q * K, F)``."""
        k = torch.arange(K, device=like.device)
        if shift is None:
            row = (self.zero_shift * K + k).expand(like.shape[:-1] + (K,))
            return row, row, torch.zeros(row.shape, device=like.device)
        u = (shift.clamp(-self.shift_max, self.shift_max) + self.shift_max) / self.shift_step
        q = u.detach().floor().clamp(max=self.n_shifts - 2)
        lower = q.long() * K + k
        return lower, lower + K, u - q

    def cut_rows(self, cut: torch.Tensor):
        """Ramp-table row of each cutoff in [0, 1] and the weight of the next row."""
        v = cut.clamp(0, 1) * (self.n_cuts - 1)
        c = v.detach().floor().clamp(max=self.n_cuts - 2)
        return c.long(), v - c


def _take(table: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``table.flatten()[index]`` through ``gather`` (its backward is a cheap scatter-add)."""
    return table.reshape(-1).gather(0, index.reshape(-1)).reshape(index.shape)


def fitted_gain(x: torch.Tensor, prototypes: torch.Tensor, transforms: Transforms, tables: SpectralTables,
                gain_max: float, envelopes: torch.Tensor | None = None) -> torch.Tensor:
    """The best gain of every prototype in every frame, in closed form: ``(B, T, K)`` log units.

    With the other transformations fixed, the error ``mean_f (x - R - g)^2`` is smallest at
    ``g = mean_f (x - R)``, the mean difference between the clip's frame and the transformed
    prototype (``transforms.gain`` is ignored); clamped to ``+-gain_max``. A prototype is then
    always heard at the clip's loudness, whichever class it belongs to. ``envelopes (K, F)``:
    see :meth:`SpectralTables.shifted`.
    """
    B, Fb, T = x.shape
    K = prototypes.shape[0]
    xt = x.transpose(1, 2)  # (B, T, F)
    if transforms.shift is None:
        proto_sum = tables.rows(prototypes, envelopes, False).sum(-1).expand(B, T, K)  # <S, 1>
    else:
        sums = tables.rows(prototypes, envelopes, True).sum(-1)  # (Q*K,)
        r0, r1, a = tables.shift_rows(transforms.shift, K, xt)
        proto_sum = torch.lerp(_take(sums, r0), _take(sums, r1), a)
    residual = xt.sum(-1, keepdim=True) - proto_sum  # (B, T, K)
    if transforms.low_cut is not None:
        for cut, slope, ramps in ((transforms.low_cut, transforms.low_slope, tables.low_ramps),
                                  (transforms.high_cut, transforms.high_slope, tables.high_ramps)):
            c, w = tables.cut_rows(cut)
            ramp_sums = ramps.sum(-1)
            residual = residual - slope * torch.lerp(_take(ramp_sums, c), _take(ramp_sums, c + 1), w)
    return (residual / Fb).clamp(-gain_max, gain_max)


def frame_errors(x: torch.Tensor, prototypes: torch.Tensor, transforms: Transforms,
                 tables: SpectralTables, envelopes: torch.Tensor | None = None) -> torch.Tensor:
    """Mean squared reconstruction error per frame: ``x (B, F, T)`` -> ``(B, K, T)``.

    Equal to ``((x.transpose(1, 2).unsqueeze(2) - reconstruct(...)) ** 2).mean(-1)``, computed
    without building the ``(B, T, K, F)`` reconstruction: every term of the expanded square
    is a dot product of table rows, looked up per (clip, frame, prototype). ``envelopes (K, F)``:
    see :meth:`SpectralTables.shifted` (each row is then ``shift(P) + E``, exactly).
    """
    B, Fb, T = x.shape
    K = prototypes.shape[0]
    xt = x.transpose(1, 2)  # (B, T, F)
    tr = transforms
    rows = tables.rows(prototypes, envelopes, tr.shift is not None)  # (K, F) or (Q*K, F)
    if tr.shift is None:
        r0 = torch.arange(K, device=x.device).expand(B, T, K)
        r1, a = r0, None
    else:
        r0, r1, a = tables.shift_rows(tr.shift, K, xt)
    filters = tr.low_cut is not None
    n_rows, C = rows.shape[0], tables.n_cuts

    # <x, v> for every table row v, then one lookup of all the columns each frame needs
    wanted = [r0] if a is None else [r0, r1]
    if filters:
        lo_c, lo_w = tables.cut_rows(tr.low_cut)
        hi_c, hi_w = tables.cut_rows(tr.high_cut)
        wanted += [lo_c + n_rows, lo_c + n_rows + 1, hi_c + n_rows + C, hi_c + n_rows + C + 1]
        dots = xt @ torch.cat([rows, tables.low_ramps, tables.high_ramps]).T  # (B, T, rows + 2C)
    else:
        dots = xt @ rows.T  # (B, T, rows)
    picked = dots.gather(-1, torch.cat(wanted, -1)).split(K, -1)  # each (B, T, K)

    def mix(v0, v1, w):
        return v0 if w is None else torch.lerp(v0, v1, w)

    norms, sums = rows.square().sum(-1), rows.sum(-1)  # ||v||^2, <v, 1> per row
    x_s = picked[0] if a is None else mix(picked[0], picked[1], a)  # <x, S>
    if a is None:
        s_s = _take(norms, r0)
    else:  # ||(1-a) v0 + a v1||^2 with <v_q, v_q+1> of neighbouring grid shifts
        adjacent = torch.cat([(rows[:-K] * rows[K:]).sum(-1), rows.new_zeros(K)])
        s_s = ((1 - a).square() * _take(norms, r0) + a.square() * _take(norms, r1)
               + 2 * a * (1 - a) * _take(adjacent, r0))
    s_1 = mix(_take(sums, r0), _take(sums, r1), a)  # <S, 1>

    err = xt.square().sum(-1, keepdim=True) - 2 * x_s + s_s  # ||x - S||^2
    g = tr.gain
    if g is not None:
        err = err - 2 * g * xt.sum(-1, keepdim=True) + g.square() * Fb + 2 * g * s_1
    if filters:
        x_lo = torch.lerp(picked[-4], picked[-3], lo_w)  # <x, low ramp>
        x_hi = torch.lerp(picked[-2], picked[-1], hi_w)

        def pair(table, r0, r1, a, c, w):
            """Bilinear lookup ``table[(1-a) r0 + a r1, (1-w) c + w (c+1)]``."""
            cols = table.shape[1]
            first = torch.lerp(_take(table, r0 * cols + c), _take(table, r0 * cols + c + 1), w)
            if a is None:
                return first
            return torch.lerp(first, torch.lerp(_take(table, r1 * cols + c), _take(table, r1 * cols + c + 1), w), a)

        s_lo = pair(rows @ tables.low_ramps.T, r0, r1, a, lo_c, lo_w)  # <S, low ramp>
        s_hi = pair(rows @ tables.high_ramps.T, r0, r1, a, hi_c, hi_w)
        lo_lo = pair(tables.low_gram, lo_c, lo_c + 1, lo_w, lo_c, lo_w)
        hi_hi = pair(tables.high_gram, hi_c, hi_c + 1, hi_w, hi_c, hi_w)
        lo_hi = pair(tables.cross_gram, lo_c, lo_c + 1, lo_w, hi_c, hi_w)
        lo_1 = torch.lerp(_take(tables.low_ramps.sum(-1), lo_c), _take(tables.low_ramps.sum(-1), lo_c + 1), lo_w)
        hi_1 = torch.lerp(_take(tables.high_ramps.sum(-1), hi_c), _take(tables.high_ramps.sum(-1), hi_c + 1), hi_w)
        G_lo, G_hi = tr.low_slope, tr.high_slope
        if g is not None:
            x_lo, x_hi = x_lo - g * lo_1, x_hi - g * hi_1
        err = (err - 2 * G_lo * (x_lo - s_lo) - 2 * G_hi * (x_hi - s_hi)
               + G_lo.square() * lo_lo + G_hi.square() * hi_hi + 2 * G_lo * G_hi * lo_hi)
    return (err / Fb).clamp_min(0).transpose(1, 2)


def reconstruct(prototypes: torch.Tensor, transforms: Transforms, tables: SpectralTables,
                shape: tuple[int, int], envelopes: torch.Tensor | None = None) -> torch.Tensor:
    """Transformed prototypes ``high(low(pitch(gain(P))))``, ``(B, T, K, F)``.

    ``transforms`` holds ``(B, T, K)`` parameters (or ``None`` for switched-off ones);
    ``shape`` is ``(B, T)``, needed when every transformation is off; ``envelopes (K, F)``: see
    :meth:`SpectralTables.shifted` (``pitch(P) + E``).
    """
    B, T = shape
    K, Fb = prototypes.shape
    tr = transforms
    if tr.shift is None:
        rec = tables.rows(prototypes, envelopes, False).expand(B, T, K, Fb)
    else:
        table = tables.rows(prototypes, envelopes, True)
        r0, r1, a = tables.shift_rows(tr.shift, K, prototypes.new_empty(B, T, Fb))
        rec = torch.lerp(table[r0], table[r1], a.unsqueeze(-1))
    if tr.gain is not None:
        rec = rec + tr.gain.unsqueeze(-1)
    if tr.low_cut is not None:
        for cut, slope, ramps in ((tr.low_cut, tr.low_slope, tables.low_ramps),
                                  (tr.high_cut, tr.high_slope, tables.high_ramps)):
            c, w = tables.cut_rows(cut)
            rec = rec + slope.unsqueeze(-1) * torch.lerp(ramps[c], ramps[c + 1], w.unsqueeze(-1))
    return rec

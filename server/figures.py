"""The page's figures as files, for an export: spectrograms, transformation curves and the class
ranking as SVG (a spectrogram's cells as an embedded PNG), drawn without a plotting library.

The colours are the page's (a magma-like ramp, quiet = dark), a spectrogram spans a stated dB
range and its frequency axis is the model's mel bands with the notes C1..C8 marked (A4 =
440 Hz), as on the page with its default settings.

Example::

    >>> spec = {"times_s": [0.0, 0.5], "freqs_hz": [100.0, 200.0], "values_db": [[-20.0, -30.0], [-40.0, -50.0]]}
    >>> spectrogram_svg(spec, "your clip").startswith("<svg")
    True
    >>> png_bytes(np.zeros((2, 3, 3), np.uint8))[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
"""
from __future__ import annotations

import base64
import math
import struct
import zlib
from html import escape

import numpy as np

ANCHORS = np.array([[0, 0, 4], [59, 15, 112], [140, 41, 129], [222, 73, 104], [254, 159, 109], [252, 253, 191]], float)
DB_RANGE = 80  # dB from black to pale yellow
FONT = {"font-family": "system-ui, sans-serif", "font-size": "12", "fill": "#243040"}
NOTE_NAMES = ["C", "C♯", "D", "D♯", "E", "F", "F♯", "G", "G♯", "A", "A♯", "B"]


def png_bytes(rgb: np.ndarray) -> bytes:
    """An ``(H, W, 3)`` uint8 image as the bytes of a PNG file (8-bit RGB, no filter)."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].astype(np.uint8).tobytes() for y in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def db_range(values_db) -> tuple[float, float]:
    """The colours' ``(lowest, highest)`` dB: the peak rounded up to 10 dB, down :data:`DB_RANGE`."""
    top = 10 * math.ceil(float(np.max(values_db)) / 10)
    return top - DB_RANGE, top


def spectrogram_image(values_db, lo: float, hi: float) -> np.ndarray:
    """``(F, T)`` dB -> ``(F, T, 3)`` uint8 colours, the lowest band in the bottom row."""
    level = np.clip((np.asarray(values_db, float) - lo) / (hi - lo), 0, 1)[::-1] * (len(ANCHORS) - 1)
    i = np.minimum(level.astype(int), len(ANCHORS) - 2)
    u = (level - i)[..., None]
    return np.round(ANCHORS[i] * (1 - u) + ANCHORS[i + 1] * u).astype(np.uint8)


def note_name(midi: float) -> str:
    """A MIDI number as a note: 69 -> "A4", 69.3 -> "A4 +30 cents"."""
    nearest = round(midi)
    cents = round((midi - nearest) * 100)
    name = f"{NOTE_NAMES[nearest % 12]}{nearest // 12 - 1}"
    return f"{name} {'+' if cents > 0 else '−'}{abs(cents)} cents" if abs(cents) >= 10 else name


def _band_position(freqs: list[float], f: float) -> float:
    """Fractional band index of ``f`` Hz between band centres ``freqs``."""
    return float(np.interp(f, freqs, np.arange(len(freqs))))


def _time_ticks(t0: float, t1: float, n: int = 6) -> list[float]:
    span = max(t1 - t0, 1e-6)
    step = min((s for s in (0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60) if span / s <= n), default=60)
    return [round(t, 3) for t in np.arange(math.ceil(t0 / step) * step, t1 + 1e-9, step)]


def _text(x, y, s, anchor="middle", **style) -> str:
    """SVG text at ``(x, y)``; ``style`` overrides :data:`FONT` (``font_size="13"``)."""
    attrs = {**FONT, **{k.replace("_", "-"): v for k, v in style.items()}}
    extra = " ".join(f'{k}="{escape(str(v))}"' for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" {extra}>{escape(str(s))}</text>'


def spectrogram_svg(spec: dict, title: str, lo_hi: tuple[float, float] | None = None, a4: float = 440.0,
                    width: int = 720, height: int = 320) -> str:
    """A spectrogram (``{"times_s", "freqs_hz", "values_db"}``) as an SVG figure: time across,
    mel bands up with C1..C8 marked, a colour bar over ``lo_hi`` dB (default :func:`db_range`)."""
    times, freqs, values = spec["times_s"], spec["freqs_hz"], spec["values_db"]
    lo, hi = lo_hi or db_range(values)
    left, right, top, bottom = 70, 80, 30, 44
    w, h = width - left - right, height - top - bottom
    image = base64.b64encode(png_bytes(spectrogram_image(values, lo, hi))).decode()
    t0, t1 = times[0], times[-1] if len(times) > 1 else times[0] + 1e-3
    x = lambda t: left + (t - t0) / (t1 - t0) * w
    y = lambda band: top + h - band / max(1, len(freqs) - 1) * h
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
             f'<rect width="{width}" height="{height}" fill="white"/>', _text(left, 18, title, "start", font_size="13"),
             f'<image x="{left}" y="{top}" width="{w}" height="{h}" preserveAspectRatio="none" '
             f'style="image-rendering: pixelated" href="data:image/png;base64,{image}"/>']
    last = None
    for octave in range(1, 9):
        f = a4 * 2 ** ((12 * (octave + 1) - 69) / 12)
        if not freqs[0] <= f <= freqs[-1]:
            continue
        yy = y(_band_position(freqs, f))
        parts.append(f'<line x1="{left}" x2="{left + w}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="white" '
                     f'stroke-opacity="0.45" stroke-dasharray="2 3"/>')
        if last is None or last - yy >= 16:
            parts.append(_text(left - 6, yy + 4, f"C{octave}", "end"))
            last = yy
    for t in _time_ticks(t0, t1):
        parts.append(_text(x(t), top + h + 16, f"{t:g}"))
    parts += [_text(left + w / 2, height - 8, "time (s)"),
              _text(16, top + h / 2, f"note (A4 = {a4:g} Hz)", transform=f"rotate(-90 16 {top + h / 2:.1f})")]
    bar = np.linspace(hi, lo, 64)[:, None].repeat(4, 1)
    bar_png = base64.b64encode(png_bytes(spectrogram_image(bar[::-1], lo, hi))).decode()
    bx = left + w + 14
    parts += [f'<image x="{bx}" y="{top}" width="12" height="{h}" preserveAspectRatio="none" href="data:image/png;base64,{bar_png}"/>',
              _text(bx + 16, top + 10, f"{hi:g} dB", "start"), _text(bx + 16, top + h, f"{lo:g} dB", "start"), "</svg>"]
    return "\n".join(parts)


def curves_svg(curves: dict, title: str, reference_midi: float | None = None, width: int = 720) -> str:
    """Transformation curves over time (``times_s`` with ``gain_db``, ``shift_semitones``,
    ``lowcut_hz``/``highcut_hz``; missing ones left out) as stacked SVG panels. With
    ``reference_midi`` the pitch panel reads as the note played (reference + shift)."""
    times = curves["times_s"]
    panels = []
    if curves.get("gain_db"):
        panels.append(("gain (dB)", [("gain", curves["gain_db"], "#c0392b")], False, None))
    if curves.get("shift_semitones"):
        if reference_midi is not None:
            notes = [reference_midi + s for s in curves["shift_semitones"]]
            panels.append(("note played", [("note", notes, "#27ae60")], False, note_name))
        else:
            panels.append(("pitch shift (semitones)", [("shift", curves["shift_semitones"], "#27ae60")], False, None))
    if curves.get("lowcut_hz"):
        panels.append(("filter cut-offs (Hz)", [("low cut", curves["lowcut_hz"], "#8e44ad"),
                                                ("high cut", curves["highcut_hz"], "#d35400")], True, None))
    left, right, panel_h, gap = 90, 20, 110, 40
    height = 30 + len(panels) * (panel_h + gap) + 20
    t0, t1 = times[0], max(times[-1], times[0] + 1e-3)
    x = lambda t: left + (t - t0) / (t1 - t0) * (width - left - right)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
             f'<rect width="{width}" height="{height}" fill="white"/>', _text(left, 18, title, "start", font_size="13")]
    for i, (name, lines, log, label) in enumerate(panels):
        top = 30 + i * (panel_h + gap) + 18
        values = [v for _, ys, _ in lines for v in ys if v is not None]
        tr = (lambda v: math.log10(max(v, 1e-3))) if log else (lambda v: v)
        lo, hi = tr(min(values)), tr(max(values))
        if hi - lo < 1e-6:
            lo, hi = lo - 1, hi + 1
        y = lambda v: top + panel_h - (tr(v) - lo) / (hi - lo) * panel_h
        parts += [_text(left, top - 6, name, "start", fill="#5b6878"),
                  f'<rect x="{left}" y="{top}" width="{width - left - right}" height="{panel_h}" fill="none" stroke="#c8d3df"/>']
        ends = [min(values), max(values)] if y(min(values)) - y(max(values)) >= 16 else [max(values)]
        for v in ends:
            text = label(v) if label else f"{v:.0f}" if log else f"{v:.1f}"
            parts.append(_text(left - 6, y(v) + 4, text, "end"))
        for j, (line_name, ys, colour) in enumerate(lines):
            points = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in zip(times, ys) if v is not None)
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>')
            if len(lines) > 1:  # a legend of the lines, right-aligned above the panel
                parts.append(_text(width - right - 80 * (len(lines) - 1 - j), top - 6, line_name, "end", fill=colour))
        for t in _time_ticks(t0, t1):
            parts.append(_text(x(t), top + panel_h + 16, f"{t:g}"))
    parts += [_text((left + width - right) / 2, height - 6, "time (s)"), "</svg>"]
    return "\n".join(parts)


def ranking_svg(prediction: list[dict], top: int = 8, width: int = 600, what: str = "how sure the model is") -> str:
    """The class ranking (``[{"label", "score"}]``, best first) as horizontal bars, best on top."""
    shown = prediction[:top]
    left, right, row = 120, 70, 26
    height = 40 + row * len(shown) + 30
    w = width - left - right
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
             f'<rect width="{width}" height="{height}" fill="white"/>', _text(left, 18, what, "start", font_size="13")]
    for i, p in enumerate(shown):
        y = 30 + i * row
        score = max(0.0, min(1.0, float(p["score"])))
        parts += [_text(left - 8, y + 15, p["label"].replace("_", " "), "end"),
                  f'<rect x="{left}" y="{y + 3}" width="{score * w:.1f}" height="{row - 8}" fill="{"#2f6fb0" if i == 0 else "#9bb7d4"}"/>',
                  _text(left + score * w + 6, y + 15, f"{100 * score:.1f} %", "start")]
    parts += ["</svg>"]
    return "\n".join(parts)

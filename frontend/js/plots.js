// Figures: spectrograms (plotly heatmaps with Hz and note names on hover, or fast canvas
// thumbnails), class rankings, the confusion matrix, transformation curves, timelines.
import { el, hz, midiName, noteName, pretty } from "./ui.js";
import { cNotes, onTuning, tuning } from "./tuning.js";

const Plotly = () => window.Plotly;
const CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"] };
const FONT = { family: "system-ui, sans-serif", size: 12, color: "#243040" };
const HZ_TICKS = [50, 100, 200, 500, 1000, 2000, 5000, 10000];
const MIN_TICK_GAP = 16; // px between frequency labels, so that they never overlap
// A magma-like colour ramp (quiet = dark, loud = bright), for plotly and for canvases alike.
const ANCHORS = [[0, 0, 4], [59, 15, 112], [140, 41, 129], [222, 73, 104], [254, 159, 109], [252, 253, 191]];
const COLORSCALE = ANCHORS.map((c, i) => [i / (ANCHORS.length - 1), `rgb(${c.join(",")})`]);
export const DB_RANGE = 80; // dB from black to white on every spectrogram

// Draw with plotly at the layout's height; the div keeps that height when the window is
// resized (plotly's responsive mode sizes a plot to its box), and `redraw` is kept on the div
// so that a change of frequency axes (tuning.js) can draw it again.
function draw(div, traces, layout, redraw) {
  div.style.height = `${layout.height}px`;
  div.redraw = redraw;
  return Plotly().react(div, traces, layout, CONFIG);
}

onTuning(() => {
  for (const div of document.querySelectorAll(".js-plotly-plot")) if (div.redraw) div.redraw();
});

// Fractional band index of a frequency, by interpolation between band centres.
export function bandPosition(freqs, f) {
  if (f <= freqs[0]) return 0;
  for (let i = 1; i < freqs.length; i++) {
    if (f <= freqs[i]) return i - 1 + (f - freqs[i - 1]) / (freqs[i] - freqs[i - 1]);
  }
  return freqs.length - 1;
}

// A frequency axis over band centres `freqs` (Hz) on the page's scale (or `scale`), `pixels`
// long: {coords: where each band lies on the axis, axis: plotly axis settings, grid(axisId,
// {across, color}): the note grid as plotly shapes, at: Hz -> axis coordinate}. Labels are C1..C8
// with the note grid on, else Hz; labels closer than MIN_TICK_GAP pixels are left out.
// Where a frequency lies along an axis over band centres `freqs` on `scale`: Hz -> 0 (lowest
// band) .. 1 (highest), and back (`fraction.hz(x)`).
export function scaleFraction(freqs, scale = tuning.scale) {
  const lo = freqs[0], hi = freqs[freqs.length - 1], n = freqs.length - 1;
  if (scale === "mel") {
    const f = (hz) => bandPosition(freqs, hz) / n;
    f.hz = (x) => { const i = Math.min(n - 1, Math.floor(x * n)); return freqs[i] + (x * n - i) * (freqs[i + 1] - freqs[i]); };
    return f;
  }
  const f = scale === "log" ? (hz) => Math.log(hz / lo) / Math.log(hi / lo) : (hz) => (hz - lo) / (hi - lo);
  f.hz = scale === "log" ? (x) => lo * (hi / lo) ** x : (x) => lo + x * (hi - lo);
  return f;
}

// The labelled frequencies of an axis `pixels` long: C1..C8 with the note grid on, else Hz;
// labels closer than MIN_TICK_GAP pixels are left out. [{f: Hz, text}, ...], lowest first.
export function frequencyTicks(freqs, pixels, fraction = scaleFraction(freqs)) {
  const lo = freqs[0], hi = freqs[freqs.length - 1];
  const candidates = tuning.notes ? cNotes().map((n) => ({ f: n.hz, text: n.name }))
    : HZ_TICKS.map((f) => ({ f, text: hz(f) }));
  const ticks = [];
  for (const t of candidates.filter((c) => c.f >= lo && c.f <= hi)) {
    const last = ticks[ticks.length - 1];
    if (!last || (fraction(t.f) - fraction(last.f)) * pixels >= MIN_TICK_GAP) ticks.push(t);
  }
  return ticks;
}

export function frequencyAxis(freqs, pixels, { title = true, scale = tuning.scale } = {}) {
  const lo = freqs[0], hi = freqs[freqs.length - 1];
  const mel = scale === "mel";
  const at = (f) => (mel ? bandPosition(freqs, f) : f);
  const ticks = frequencyTicks(freqs, pixels, scaleFraction(freqs, scale));
  const axis = {
    type: scale === "log" ? "log" : "linear", zeroline: false, fixedrange: true, showgrid: false,
    tickmode: "array", tickvals: ticks.map((t) => at(t.f)), ticktext: ticks.map((t) => t.text),
    range: scale === "log" ? [Math.log10(lo), Math.log10(hi)] : [at(lo), at(hi)],
    title: title ? { text: tuning.notes ? `note (A4 = ${tuning.a4} Hz)` : "frequency" } : undefined,
  };
  const grid = (axisId, { across = "x", color = "rgba(255,255,255,0.45)" } = {}) => {
    if (!tuning.notes) return [];
    const line = { color, width: 1, dash: "dot" };
    return cNotes().filter((n) => n.hz >= lo && n.hz <= hi).map((n) => (axisId.startsWith("x")
      ? { type: "line", xref: axisId, yref: `${across} domain`, y0: 0, y1: 1, x0: at(n.hz), x1: at(n.hz), layer: "above", line }
      : { type: "line", xref: `${across} domain`, yref: axisId, x0: 0, x1: 1, y0: at(n.hz), y1: at(n.hz), layer: "above", line }));
  };
  return { coords: freqs.map(at), axis, grid, at };
}

// A playhead over the plot in `div` that follows `audio` (a vertical line at its current time
// across the whole plot area), and clicks on the plot that move `audio` there and play.
export function followAudio(div, audio) {
  let line = div.querySelector(".playhead");
  if (!line) {
    line = el("div", { class: "playhead", "aria-hidden": "true" });
    div.append(line);
  }
  const place = () => {
    const full = div._fullLayout;
    if (!full) return;
    const xa = full.xaxis, size = full._size;
    const t = Math.max(xa.range[0], Math.min(audio.currentTime, xa.range[1]));
    line.style.left = `${xa._offset + xa.l2p(t)}px`;
    line.style.top = `${size.t}px`;
    line.style.height = `${size.h}px`;
    line.hidden = audio.paused && audio.currentTime === 0;
  };
  place();
  if (div.following === audio) return;
  div.following = audio;
  let frame = null;
  const loop = () => { place(); if (!audio.paused) frame = requestAnimationFrame(loop); };
  audio.addEventListener("play", () => { cancelAnimationFrame(frame); loop(); });
  for (const e of ["pause", "seeked", "timeupdate", "ended"]) audio.addEventListener(e, place);
  div.on("plotly_click", (event) => {
    const x = event.points?.[0]?.x;
    if (typeof x !== "number") return;
    audio.currentTime = x;
    audio.play().catch(() => {});
  });
}

// The colours of a spectrogram: [lowest, highest] dB, from the loudest level of `spec` (rounded
// up to 10 dB) down DB_RANGE.
export function dbRange(spec) {
  const top = 10 * Math.ceil(peakDb(spec) / 10);
  return [top - DB_RANGE, top];
}

function heatmap(spec, coords, range, { showscale = true, colorbar = {} } = {}) {
  return {
    type: "heatmap", z: spec.values_db, x: spec.times_s, y: coords,
    customdata: spec.values_db.map((row, i) => row.map(() => `${hz(spec.freqs_hz[i])} (${noteName(spec.freqs_hz[i])})`)),
    colorscale: COLORSCALE, zmin: range[0], zmax: range[1], zauto: false,
    hovertemplate: "%{x:.2f} s<br>%{customdata}<br>%{z:.0f} dB<extra></extra>",
    colorbar: { title: { text: "dB", side: "top" }, thickness: 10, len: 1, ...colorbar }, showscale,
  };
}

// The loudest level of a spectrogram (dB).
export function peakDb(spec) {
  let peak = -Infinity;
  for (const row of spec.values_db) for (const v of row) if (v > peak) peak = v;
  return peak;
}

// A spectrogram: time (s) across, frequency up on the page's scale (mel, log or linear), with
// the note grid; hover gives Hz, note and dB. `range`: [lo, hi] dB of the colours (default
// dbRange(spec)), shown on a colour bar when `showscale`. With `audio`, a playhead follows it
// and a click seeks it.
export function spectrogramPlot(div, spec, { title = "", height = 260, range = null, showscale = true, audio = null } = {}) {
  const small = height < 240;
  const margin = { l: small ? 40 : 70, r: showscale ? 60 : 10, t: title ? 30 : 8, b: 44 };
  const freq = frequencyAxis(spec.freqs_hz, height - margin.t - margin.b, { title: !small });
  const layout = {
    title: title ? { text: title, font: { size: 13 } } : undefined, height, font: FONT, margin,
    xaxis: { title: { text: "time (s)", standoff: 8 }, automargin: true, fixedrange: true }, yaxis: freq.axis,
    shapes: freq.grid("y"),
  };
  const drawn = draw(div, [heatmap(spec, freq.coords, range ?? dbRange(spec), { showscale })], layout,
    () => spectrogramPlot(div, spec, { title, height, range, showscale, audio }));
  if (audio) drawn.then(() => followAudio(div, audio));
  return drawn;
}
const LUT = Array.from({ length: 256 }, (_, i) => {
  const t = (i / 255) * (ANCHORS.length - 1);
  const a = ANCHORS[Math.floor(t)], b = ANCHORS[Math.min(ANCHORS.length - 1, Math.floor(t) + 1)];
  const u = t - Math.floor(t);
  return a.map((c, j) => Math.round(c + (b[j] - c) * u));
});

// A spectrogram drawn on a canvas (no axes): quick enough for a grid of dozens.
export function drawSpectrogram(canvas, spec, { zmax = null, range = 80 } = {}) {
  const F = spec.values_db.length, T = spec.values_db[0].length;
  canvas.width = T;
  canvas.height = F;
  const top = zmax ?? peakDb(spec);
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(T, F);
  for (let f = 0; f < F; f++) {
    const row = spec.values_db[f];
    for (let t = 0; t < T; t++) {
      const level = Math.max(0, Math.min(255, Math.round(((row[t] - (top - range)) / range) * 255)));
      const [r, g, b] = LUT[level];
      const o = ((F - 1 - f) * T + t) * 4; // low frequencies at the bottom
      image.data[o] = r; image.data[o + 1] = g; image.data[o + 2] = b; image.data[o + 3] = 255;
    }
  }
  ctx.putImageData(image, 0, 0);
  return canvas;
}

// How sure the model is: one bar per class, best on top.
export function rankingChart(div, prediction, { top = 8, height = null, axisTitle = "how sure the model is", asPercent = true } = {}) {
  const shown = prediction.slice(0, top).reverse();
  const layout = {
    height: height ?? 54 + 26 * shown.length, font: FONT, margin: { l: 110, r: 60, t: 8, b: 44 },
    xaxis: { range: [0, 1], tickformat: asPercent ? ".0%" : ".1f", title: { text: axisTitle }, fixedrange: true },
    yaxis: { fixedrange: true, automargin: true },
  };
  const trace = {
    type: "bar", orientation: "h", x: shown.map((p) => p.score), y: shown.map((p) => pretty(p.label)),
    text: shown.map((p) => (asPercent ? `${(100 * p.score).toFixed(1)} %` : p.score.toFixed(3))), textposition: "outside", cliponaxis: false,
    marker: { color: shown.map((_, i) => (i === shown.length - 1 ? "#2f6fb0" : "#9bb7d4")) },
    hovertemplate: asPercent ? "%{y}: %{x:.1%}<extra></extra>" : "%{y}: %{x:.3f}<extra></extra>",
  };
  return draw(div, [trace], layout, () => rankingChart(div, prediction, { top, height, axisTitle, asPercent }));
}

// Empty cells white, a full row's worth deep blue.
const CONFUSION_SCALE = [[0, "#ffffff"], [0.1, "#deebf7"], [0.5, "#6baed6"], [1, "#08306b"]];

// Confusion matrix: true class down, predicted class across, counts and row fractions (the
// colour: the share of the true class's clips heard as the column's class).
export function confusionPlot(div, confusion) {
  const labels = confusion.labels.map(pretty);
  const rows = confusion.matrix.map((row) => {
    const n = row.reduce((a, b) => a + b, 0) || 1;
    return row.map((v) => v / n);
  });
  const text = confusion.matrix.map((row) => row.map((v) => (v ? String(v) : "")));
  const layout = {
    height: 120 + 24 * labels.length, font: FONT, margin: { l: 100, r: 10, t: 10, b: 100 },
    // upright names where 45 degrees would crowd them (narrow screens)
    xaxis: { title: { text: "heard as" }, tickangle: div.clientWidth < 1000 ? -90 : -45, fixedrange: true },
    yaxis: { title: { text: "actually" }, autorange: "reversed", fixedrange: true },
  };
  const trace = {
    type: "heatmap", z: rows, x: labels, y: labels, text, texttemplate: "%{text}", colorscale: CONFUSION_SCALE,
    zmin: 0, zmax: 1, showscale: false,
    hovertemplate: "actually %{y}, heard as %{x}: %{text} clips (%{z:.0%})<extra></extra>",
  };
  return draw(div, [trace], layout);
}

// The clip's spectrogram with the transformation curves under it, on one time axis: gain (dB),
// pitch shift (semitones), filter cut-offs (Hz, log scale). `range`: the colours' [lo, hi] dB;
// with `audio` (the clip's sound) a playhead follows it and a click seeks it; with the
// prototype's reference pitch `referenceMidi` (a MIDI number), the pitch panel shows the note
// played (reference + shift) on a note axis instead of the shift in semitones.
export function curvesPlot(div, clipSpec, curves, { range = null, audio = null, referenceMidi = null } = {}) {
  const reference = Number.isFinite(referenceMidi) ? referenceMidi : null;
  const height = 640, margin = { l: 80, r: 60, t: 34, b: 40 };
  const inner = height - margin.t - margin.b;
  const spec = [0.56, 1], gain = [0.38, 0.5], shift = [0.2, 0.32], cut = [0, 0.14];
  const freq = frequencyAxis(clipSpec.freqs_hz, inner * (spec[1] - spec[0]));
  const cutAxis = frequencyAxis([20, 12000], inner * (cut[1] - cut[0]), { title: false, scale: "log" });
  const traces = [{ ...heatmap(clipSpec, freq.coords, range ?? dbRange(clipSpec),
    { colorbar: { y: spec[0], yanchor: "bottom", len: spec[1] - spec[0] } }), xaxis: "x", yaxis: "y" }];
  const line = (y, name, axis, color, unit) => ({
    type: "scatter", mode: "lines", x: curves.times_s, y, name, xaxis: "x", yaxis: axis,
    line: { color, width: 2 }, hovertemplate: `%{x:.2f} s: %{y:.1f} ${unit}<extra>${name}</extra>`,
  });
  const cutoffLine = (y, name, color) => ({
    ...line(y, name, "y4", color, "Hz"), customdata: y.map((f) => noteName(f)),
    hovertemplate: `%{x:.2f} s: %{y:.0f} Hz (%{customdata})<extra>${name}</extra>`,
  });
  if (curves.gain_db) traces.push(line(curves.gain_db, "gain", "y2", "#c0392b", "dB"));
  let noteTicks = null;
  if (curves.shift_semitones && reference !== null) {
    // the note played: the prototype's reference pitch moved by the shift, on a note axis
    const played = curves.shift_semitones.map((st) => reference + st);
    traces.push({ ...line(played, "note played", "y3", "#27ae60", ""), customdata: curves.shift_semitones.map((st, i) =>
      [midiName(played[i]), `${st > 0 ? "+" : ""}${st.toFixed(1)}`]),
    hovertemplate: "%{x:.2f} s: %{customdata[0]} (%{customdata[1]} semitones)<extra>note played</extra>" });
    noteTicks = midiTicks(Math.min(...played), Math.max(...played), inner * (shift[1] - shift[0]), reference);
  } else if (curves.shift_semitones) {
    traces.push(line(curves.shift_semitones, "pitch shift", "y3", "#27ae60", "semitones"));
  }
  if (curves.lowcut_hz) traces.push(cutoffLine(curves.lowcut_hz, "low cut", "#8e44ad"));
  if (curves.highcut_hz) traces.push(cutoffLine(curves.highcut_hz, "high cut", "#d35400"));
  // each panel named in the gap above it, never on a rotated title that its neighbours overlap
  const name = (text, domain) => ({ text, xref: "paper", yref: "paper", x: 0, y: domain[1], xanchor: "left",
    yanchor: "bottom", showarrow: false, font: { size: 12, color: "#5b6878" } });
  const layout = {
    height, font: FONT, showlegend: true, margin,
    legend: { orientation: "h", x: 1, xanchor: "right", y: 1, yanchor: "bottom" },
    xaxis: { title: { text: "time (s)" }, anchor: "y4", fixedrange: true },
    yaxis: { ...freq.axis, domain: spec, title: undefined },
    yaxis2: { domain: gain, fixedrange: true, nticks: 4 },
    yaxis3: noteTicks ? { domain: shift, fixedrange: true, tickmode: "array", ...noteTicks } : { domain: shift, fixedrange: true, nticks: 4 },
    yaxis4: { ...cutAxis.axis, domain: cut },
    shapes: freq.grid("y"),
    annotations: [name(`your clip${tuning.notes ? ` (notes, A4 = ${tuning.a4} Hz)` : ""}`, spec), name("gain (dB)", gain),
      name(reference !== null ? `note played (the prototype's ${midiName(reference)} + its pitch shift)`
        : "pitch shift (semitones)", shift), name("filter cut-offs (Hz)", cut)],
  };
  const drawn = draw(div, traces, layout, () => curvesPlot(div, clipSpec, curves, { range, audio, referenceMidi }));
  if (audio) drawn.then(() => followAudio(div, audio));
  return drawn;
}

// Note ticks for MIDI numbers lo..hi on an axis `pixels` long, counted from the note `anchor`
// (the prototype's reference): every semitone, whole tone, minor third, fifth or octave, as
// room allows; {tickvals, ticktext, range}.
function midiTicks(lo, hi, pixels, anchor) {
  const bottom = Math.floor(lo - 0.5), top = Math.ceil(hi + 0.5);
  const step = [1, 2, 3, 7, 12, 24].find((s) => ((top - bottom) / s) * MIN_TICK_GAP <= pixels) ?? 24;
  const base = Math.round(anchor);
  const tickvals = [];
  for (let m = base + Math.ceil((bottom - base) / step) * step; m <= top; m += step) tickvals.push(m);
  return { tickvals, ticktext: tickvals.map(midiName), range: [bottom, top] };
}

// Which class's prototype explains each stretch of a long clip.
export function timelinePlot(div, segments) {
  const labels = [...new Set(segments.map((s) => s.label))];
  const palette = ["#2f6fb0", "#c0392b", "#27ae60", "#8e44ad", "#d35400", "#16a085", "#7f8c8d", "#b7950b"];
  const traces = labels.map((label, i) => {
    const mine = segments.filter((s) => s.label === label);
    return {
      type: "bar", orientation: "h", name: pretty(label), y: mine.map(() => "best prototype"),
      x: mine.map((s) => s.end_s - s.start_s), base: mine.map((s) => s.start_s),
      marker: { color: palette[i % palette.length] },
      hovertemplate: mine.map((s) => `${s.start_s.toFixed(1)}–${s.end_s.toFixed(1)} s: ${pretty(label)} (prototype ${s.prototype})<extra></extra>`),
    };
  });
  const layout = {
    barmode: "overlay", height: 180, font: FONT, margin: { l: 110, r: 10, t: 40, b: 40 },
    xaxis: { title: { text: "time (s)" }, fixedrange: true }, yaxis: { fixedrange: true },
    legend: { orientation: "h", x: 0, y: 1, yanchor: "bottom" },
  };
  return draw(div, traces, layout, () => timelinePlot(div, segments));
}

// A prototype's spectrum before and after a hand-made change: level (dB) per mel band at
// `freqs` (Hz), on the page's frequency scale with the note grid.
export function spectrumPlot(div, freqs, original, transformed) {
  const margin = { l: 60, r: 10, t: 30, b: 44 };
  const freq = frequencyAxis(freqs, Math.max(200, (div.clientWidth || 600) - margin.l - margin.r));
  const notes = freqs.map((f) => `${hz(f)} (${noteName(f)})`);
  const trace = (y, name, color, dash) => ({
    type: "scatter", mode: "lines", x: freq.coords, y, name, customdata: notes, line: { color, dash, width: 2 },
    hovertemplate: `%{customdata}: %{y:.0f} dB<extra>${name}</extra>`,
  });
  const layout = {
    height: 250, font: FONT, margin, legend: { orientation: "h", x: 1, xanchor: "right", y: 1, yanchor: "bottom" },
    xaxis: freq.axis, yaxis: { title: { text: "level (dB)" }, fixedrange: true },
    shapes: freq.grid("x", { across: "y", color: "rgba(36,48,64,0.3)" }),
  };
  return draw(div, [trace(original, "prototype", "#9bb7d4", "dot"), trace(transformed, "changed", "#2f6fb0")],
    layout, () => spectrumPlot(div, freqs, original, transformed));
}

// TCAV per class: the concept's score beside the random baseline, with their spread (std over
// runs); a star over classes where the difference is significant.
export function tcavChart(div, rows) {
  const x = rows.map((r) => r.label);
  const bars = (name, get, color) => ({
    type: "bar", name, x, y: rows.map((r) => get(r).mean), marker: { color },
    error_y: { type: "data", array: rows.map((r) => get(r).std), visible: true, color: "#556" },
    hovertemplate: `%{x}: %{y:.2f}<extra>${name}</extra>`,
  });
  const stars = rows.map((r) => (r.significant ? {
    x: r.label, y: Math.max(r.tcav.mean + r.tcav.std, r.null.mean + r.null.std) + 0.06, text: "★",
    showarrow: false, font: { size: 16, color: "#b7950b" },
  } : null)).filter(Boolean);
  const layout = {
    barmode: "group", height: 300, font: FONT, margin: { l: 50, r: 10, t: 10, b: 80 }, annotations: stars,
    yaxis: { range: [0, 1.15], title: { text: "TCAV score" }, fixedrange: true }, xaxis: { tickangle: -30, fixedrange: true },
    legend: { orientation: "h", y: 1.12 },
  };
  return draw(div, [bars("concept", (r) => r.tcav, "#2f6fb0"), bars("random baseline", (r) => r.null, "#c8d3df")], layout);
}

// A clip's spectrogram dimmed where a discovered concept is absent (presence: rows x frames, 0..1).
export function drawPresence(canvas, spec, presence) {
  drawSpectrogram(canvas, spec);
  const ctx = canvas.getContext("2d");
  const { width: T, height: F } = canvas;
  const image = ctx.getImageData(0, 0, T, F);
  const rows = presence.length, frames = presence[0].length;
  for (let y = 0; y < F; y++) {
    const band = F - 1 - y; // row 0 of the image is the highest band
    const row = presence[Math.min(rows - 1, Math.floor((band * rows) / F))];
    for (let t = 0; t < T; t++) {
      const p = row[Math.min(frames - 1, Math.floor((t * frames) / T))];
      const o = (y * T + t) * 4;
      const keep = 0.2 + 0.8 * p;
      image.data[o] *= keep; image.data[o + 1] *= keep; image.data[o + 2] *= keep;
    }
  }
  ctx.putImageData(image, 0, 0);
  return canvas;
}

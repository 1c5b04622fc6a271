// Figures: spectrograms (plotly heatmaps with Hz and note names on hover, or fast canvas
// thumbnails), class rankings, the confusion matrix, transformation curves, timelines.
import { hz, noteName, pretty } from "./ui.js";

const Plotly = () => window.Plotly;
const CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"] };
const FONT = { family: "system-ui, sans-serif", size: 12, color: "#243040" };
const HZ_TICKS = [50, 100, 200, 500, 1000, 2000, 5000, 10000];
const FEW_HZ_TICKS = [100, 300, 1000, 3000, 10000];
// A magma-like colour ramp (quiet = dark, loud = bright), for plotly and for canvases alike.
const ANCHORS = [[0, 0, 4], [59, 15, 112], [140, 41, 129], [222, 73, 104], [254, 159, 109], [252, 253, 191]];
const COLORSCALE = ANCHORS.map((c, i) => [i / (ANCHORS.length - 1), `rgb(${c.join(",")})`]);

// Fractional band index of a frequency, by interpolation between band centres.
function bandPosition(freqs, f) {
  if (f <= freqs[0]) return 0;
  for (let i = 1; i < freqs.length; i++) {
    if (f <= freqs[i]) return i - 1 + (f - freqs[i - 1]) / (freqs[i] - freqs[i - 1]);
  }
  return freqs.length - 1;
}

function frequencyAxis(freqs, extra = {}, few = false) {
  const ticks = (few ? FEW_HZ_TICKS : HZ_TICKS).filter((f) => f >= freqs[0] && f <= freqs[freqs.length - 1]);
  return {
    title: few ? undefined : { text: "frequency" }, tickvals: ticks.map((f) => bandPosition(freqs, f)),
    ticktext: ticks.map((f) => (few ? (f >= 1000 ? `${f / 1000}k` : String(f)) : hz(f))), zeroline: false, fixedrange: true, ...extra,
  };
}

function bandLabels(spec) {
  const labels = spec.freqs_hz.map((f) => `${hz(f)} (${noteName(f)})`);
  return spec.values_db.map((row, i) => row.map(() => labels[i]));
}

function heatmap(spec, extra = {}) {
  return {
    type: "heatmap", z: spec.values_db, x: spec.times_s, y: spec.freqs_hz.map((_, i) => i),
    customdata: bandLabels(spec), colorscale: COLORSCALE, zmin: extra.zmin ?? -100, zmax: extra.zmax ?? 0,
    hovertemplate: "%{x:.2f} s<br>%{customdata}<br>%{z:.0f} dB<extra></extra>",
    colorbar: { title: { text: "dB" }, thickness: 10 }, showscale: extra.showscale ?? true, ...extra.trace,
  };
}

// The loudest level of a spectrogram, to set a shared colour range (80 dB below it).
export function peakDb(spec) {
  let peak = -Infinity;
  for (const row of spec.values_db) for (const v of row) if (v > peak) peak = v;
  return peak;
}

// A spectrogram: time (s) across, frequency (Hz, mel-spaced) up; hover gives Hz, note and dB.
export function spectrogramPlot(div, spec, { title = "", height = 260, zmax = null, showscale = true } = {}) {
  const top = zmax ?? Math.ceil(peakDb(spec));
  const layout = {
    title: title ? { text: title, font: { size: 13 } } : undefined, height, font: FONT,
    margin: { l: height < 240 ? 44 : 70, r: 10, t: title ? 30 : 8, b: 36 },
    xaxis: { title: { text: "time (s)" } }, yaxis: frequencyAxis(spec.freqs_hz, {}, height < 240),
  };
  return Plotly().react(div, [heatmap(spec, { zmin: top - 80, zmax: top, showscale })], layout, CONFIG);
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
    height: height ?? 40 + 26 * shown.length, font: FONT, margin: { l: 110, r: 60, t: 8, b: 30 },
    xaxis: { range: [0, 1], tickformat: asPercent ? ".0%" : ".1f", title: { text: axisTitle }, fixedrange: true },
    yaxis: { fixedrange: true, automargin: true },
  };
  const trace = {
    type: "bar", orientation: "h", x: shown.map((p) => p.score), y: shown.map((p) => pretty(p.label)),
    text: shown.map((p) => (asPercent ? `${(100 * p.score).toFixed(1)} %` : p.score.toFixed(3))), textposition: "outside", cliponaxis: false,
    marker: { color: shown.map((_, i) => (i === shown.length - 1 ? "#2f6fb0" : "#9bb7d4")) },
    hovertemplate: asPercent ? "%{y}: %{x:.1%}<extra></extra>" : "%{y}: %{x:.3f}<extra></extra>",
  };
  return Plotly().react(div, [trace], layout, CONFIG);
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
    xaxis: { title: { text: "heard as" }, tickangle: -45, fixedrange: true },
    yaxis: { title: { text: "actually" }, autorange: "reversed", fixedrange: true },
  };
  const trace = {
    type: "heatmap", z: rows, x: labels, y: labels, text, texttemplate: "%{text}", colorscale: CONFUSION_SCALE,
    zmin: 0, zmax: 1, showscale: false,
    hovertemplate: "actually %{y}, heard as %{x}: %{text} clips (%{z:.0%})<extra></extra>",
  };
  return Plotly().react(div, [trace], layout, CONFIG);
}

// The clip's spectrogram with the transformation curves under it, on one time axis.
export function curvesPlot(div, clipSpec, curves, { title = "" } = {}) {
  const top = Math.ceil(peakDb(clipSpec));
  const traces = [{ ...heatmap(clipSpec, { zmin: top - 80, zmax: top, showscale: false }), xaxis: "x", yaxis: "y" }];
  const line = (y, name, axis, color, unit) => ({
    type: "scatter", mode: "lines", x: curves.times_s, y, name, xaxis: "x", yaxis: axis,
    line: { color, width: 2 }, hovertemplate: `%{x:.2f} s: %{y:.1f} ${unit}<extra>${name}</extra>`,
  });
  const cutoffLine = (y, name, color) => ({
    ...line(y, name, "y4", color, "Hz"), customdata: y.map((f) => noteName(f)),
    hovertemplate: `%{x:.2f} s: %{y:.0f} Hz (%{customdata})<extra>${name}</extra>`,
  });
  if (curves.gain_db) traces.push(line(curves.gain_db, "gain", "y2", "#c0392b", "dB"));
  if (curves.shift_semitones) traces.push(line(curves.shift_semitones, "pitch shift", "y3", "#27ae60", "semitones"));
  if (curves.lowcut_hz) traces.push(cutoffLine(curves.lowcut_hz, "low cut", "#8e44ad"));
  if (curves.highcut_hz) traces.push(cutoffLine(curves.highcut_hz, "high cut", "#d35400"));
  const layout = {
    title: title ? { text: title, font: { size: 13 } } : undefined, height: 620, font: FONT, showlegend: true,
    legend: { orientation: "h", y: -0.08 }, margin: { l: 80, r: 10, t: title ? 30 : 8, b: 40 },
    xaxis: { title: { text: "time (s)" }, anchor: "y4" },
    yaxis: { ...frequencyAxis(clipSpec.freqs_hz), domain: [0.58, 1], title: { text: "your clip" } },
    yaxis2: { domain: [0.4, 0.54], title: { text: "gain (dB)" }, fixedrange: true },
    yaxis3: { domain: [0.21, 0.36], title: { text: "shift (semitones)" }, fixedrange: true },
    yaxis4: { domain: [0, 0.17], title: { text: "cut-offs (Hz)" }, type: "log", fixedrange: true },
  };
  return Plotly().react(div, traces, layout, CONFIG);
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
    barmode: "overlay", height: 150, font: FONT, margin: { l: 110, r: 10, t: 8, b: 36 },
    xaxis: { title: { text: "time (s)" } }, yaxis: { fixedrange: true }, legend: { orientation: "h", y: -0.5 },
  };
  return Plotly().react(div, traces, layout, CONFIG);
}

// A prototype's spectrum before and after a hand-made change.
export function spectrumPlot(div, freqs, original, transformed) {
  const notes = freqs.map((f) => `${hz(f)} (${noteName(f)})`);
  const trace = (y, name, color, dash) => ({
    type: "scatter", mode: "lines", x: freqs, y, name, customdata: notes, line: { color, dash, width: 2 },
    hovertemplate: `%{customdata}: %{y:.0f} dB<extra>${name}</extra>`,
  });
  const layout = {
    height: 230, font: FONT, margin: { l: 60, r: 10, t: 8, b: 40 }, legend: { orientation: "h", y: 1.12 },
    xaxis: { type: "log", title: { text: "frequency (Hz)" }, tickvals: HZ_TICKS, ticktext: HZ_TICKS.map(hz) },
    yaxis: { title: { text: "level (dB)" } },
  };
  return Plotly().react(div, [trace(original, "prototype", "#9bb7d4", "dot"), trace(transformed, "changed", "#2f6fb0")],
    layout, CONFIG);
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
  return Plotly().react(div, [bars("concept", (r) => r.tcav, "#2f6fb0"), bars("random baseline", (r) => r.null, "#c8d3df")],
    layout, CONFIG);
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

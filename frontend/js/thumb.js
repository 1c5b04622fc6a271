// A spectrogram thumbnail with a frequency axis: a canvas (quick enough for a grid of dozens)
// drawn on the page's frequency scale (mel, log or linear), the labels C1..C8 (or Hz with the
// note grid off) beside it and the note grid over it, as on the other spectra; it is redrawn
// when the header's axis settings change (tuning.js). Hover tells time, Hz, note and dB.
//
//   card.append(spectrogramThumb(prototype.spectrogram, "Spectrum of the cello prototype"))
import { clear, el } from "./ui.js";
import { cNotes, offTuning, onTuning, tuning } from "./tuning.js";
import { bandPosition, drawSpectrogram, frequencyTicks, scaleFraction } from "./plots.js";
import { attachSpectrogramHover } from "./hover.js";

const HEIGHT = 110; // px: the thumbnail's height (style.css, .thumb-figure canvas.thumb)

// A mark at `fraction` (0 = bottom .. 1 = top) of the plot: a label or a grid line.
function mark(className, fraction, text = "") {
  const node = el("span", { class: className }, text);
  node.style.bottom = `${(100 * fraction).toFixed(2)}%`; // through the CSSOM: allowed by the page's CSP
  return node;
}

export function spectrogramThumb(spec, label) {
  const canvas = el("canvas", { class: "thumb", role: "img", "aria-label": label });
  const ticks = el("div", { class: "thumb-ticks", "aria-hidden": "true" });
  const grid = el("div", { class: "thumb-grid", "aria-hidden": "true" });
  const figure = el("div", { class: "thumb-figure" }, ticks, el("div", { class: "thumb-plot" }, canvas, grid));
  const freqs = spec.freqs_hz, rows = freqs.length;
  let drawn = false;
  const draw = () => {
    if (drawn && !figure.isConnected) { offTuning(draw); return; } // a card that is gone
    drawn = true;
    const fraction = scaleFraction(freqs);
    // row r from the bottom shows the band at the frequency the scale puts there
    const bands = Array.from({ length: rows }, (_, r) => Math.round(bandPosition(freqs, fraction.hz(r / (rows - 1)))));
    drawSpectrogram(canvas, { ...spec, values_db: bands.map((b) => spec.values_db[b]) });
    canvas.bandAt = (x) => bands[Math.min(rows - 1, Math.max(0, Math.floor(x * rows)))];
    clear(ticks, frequencyTicks(freqs, HEIGHT, fraction).map((t) => mark("tick", fraction(t.f), t.text)));
    clear(grid, tuning.notes ? cNotes().filter((n) => n.hz >= freqs[0] && n.hz <= freqs[rows - 1])
      .map((n) => mark("line", fraction(n.hz))) : []);
    figure.dataset.scale = tuning.scale;
    figure.title = tuning.notes ? `notes C1..C8 with A4 = ${tuning.a4} Hz; hover for Hz` : "frequency in Hz";
  };
  draw();
  onTuning(draw);
  attachSpectrogramHover(canvas, spec);
  return figure;
}

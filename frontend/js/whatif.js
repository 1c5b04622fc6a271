// What if: move a prototype's transformation by hand (transpose, louder, darker) and hear it,
// see its spectrum change and how the model would now classify it.
import { getJSON, query } from "./api.js";
import { clear, db, el, hz, midiName, noteName, percent, pretty, referenceMidi, semitones, showMessage } from "./ui.js";
import { rankingChart, spectrumPlot } from "./plots.js";

const dialog = () => document.getElementById("what-if");

// A labelled slider whose value is shown in plain units next to it.
function slider({ id, label, min, max, step, value, show }) {
  const input = el("input", { type: "range", id, min, max, step, value });
  const output = el("output", { for: id }, show(Number(value)));
  input.addEventListener("input", () => { output.textContent = show(Number(input.value)); });
  return { input, row: el("div", { class: "slider" }, el("label", { for: id }, label), input, output) };
}

// Cut-off sliders move on a logarithmic scale; the ends mean "no filter".
const logScale = (lo, hi) => ({
  toHz: (v) => lo * Math.pow(hi / lo, v / 100),
});

export function openWhatIf(modelId, prototype) {
  const box = dialog();
  const low = logScale(20, 5000), high = logScale(300, 11025);
  const gain = slider({ id: "wi-gain", label: "Louder or softer", min: -24, max: 24, step: 1, value: 0, show: db });
  // a prototype with a reference pitch says which note it now plays
  const reference = referenceMidi(prototype);
  const shift = slider({ id: "wi-shift", label: "Transpose", min: -24, max: 24, step: 0.5, value: 0,
    show: (v) => (reference === null ? semitones(v) : `${semitones(v)} (plays ${midiName(reference + v)})`) });
  const lowcut = slider({
    id: "wi-lowcut", label: "Cut the bass below", min: 0, max: 100, step: 1, value: 0,
    show: (v) => (v === 0 ? "no cut" : `${hz(low.toHz(v))} (${noteName(low.toHz(v))})`),
  });
  const highcut = slider({
    id: "wi-highcut", label: "Cut the treble above (darker)", min: 0, max: 100, step: 1, value: 100,
    show: (v) => (v === 100 ? "no cut" : `${hz(high.toHz(v))} (${noteName(high.toHz(v))})`),
  });
  const audio = el("audio", { controls: true, preload: "none", "aria-label": "Play the changed prototype" });
  const verdict = el("p", { class: "verdict", role: "status" });
  const chart = el("div", { class: "chart" });
  const spectrum = el("div", { class: "chart" });

  const params = () => ({
    gain_db: gain.input.value, shift_semitones: shift.input.value,
    lowcut_hz: Number(lowcut.input.value) === 0 ? null : low.toHz(Number(lowcut.input.value)).toFixed(1),
    highcut_hz: Number(highcut.input.value) === 100 ? null : high.toHz(Number(highcut.input.value)).toFixed(1),
  });
  let timer = null, generation = 0;
  async function update() {
    const mine = ++generation;
    const q = query(params());
    const base = `/api/models/${encodeURIComponent(modelId)}/prototypes/${prototype.index}`;
    audio.src = `${base}/audio.wav${q}`;
    try {
      const result = await getJSON(`${base}/what-if${q}`);
      if (mine !== generation) return;
      const best = result.prediction[0];
      const untouched = Object.values(params()).every((v) => v === null || Number(v) === 0);
      verdict.textContent = `The model hears this sound as ${pretty(best.label)} (${percent(best.score)} sure)` +
        (best.label === result.label ? ", the class this prototype stands for."
          : `; the prototype stands for ${pretty(result.label)}.` + (untouched
            ? " Untouched, it is not heard as its own class: this model decides with the transformations" +
              " its networks choose for a clip, so a prototype alone need not sound like its class to it."
            : ""));
      rankingChart(chart, result.prediction, { top: 5 });
      spectrumPlot(spectrum, result.freqs_hz, result.original_db, result.transformed_db);
    } catch (error) {
      showMessage(error.message);
    }
  }
  for (const s of [gain, shift, lowcut, highcut]) {
    s.input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(update, 250); });
  }
  const reset = el("button", {
    type: "button", onclick: () => {
      gain.input.value = 0; shift.input.value = 0; lowcut.input.value = 0; highcut.input.value = 100;
      [gain, shift, lowcut, highcut].forEach((s) => s.input.dispatchEvent(new Event("input")));
    },
  }, "Reset");
  clear(box,
    el("div", { class: "dialog-head" },
      el("h2", { id: "what-if-title" }, `What if the ${pretty(prototype.label)} prototype were changed?`),
      el("button", { type: "button", class: "quiet", "aria-label": "Close", onclick: () => box.close() }, "×")),
    el("p", { class: "hint" }, "Move the sliders, listen, and watch how the model's decision follows."),
    el("div", { class: "what-if-grid" },
      el("div", {}, gain.row, shift.row, lowcut.row, highcut.row, el("div", { class: "row" }, audio, reset)),
      el("div", {}, verdict, chart)),
    el("h3", {}, "Spectrum"), spectrum);
  box.showModal();
  // another view (a link, the back button) closes the dialog rather than leaving it over the page
  window.addEventListener("hashchange", () => box.close(), { once: true });
  update();
}

// The Model tab: what the model is, how well it does, and every prototype as a sound.
import { getAllClips, getJSON } from "./api.js";
import { clear, el, percent, player, pretty, prototypeTitle, rovingItems, showMessage, STAGE_NAMES, withBusy } from "./ui.js";
import { confusionPlot } from "./plots.js";
import { openWhatIf } from "./whatif.js";
import { spectrogramThumb } from "./thumb.js";
import { dbiWords, ERROR_MEANING, f1Words, headline, inTen, probeWords, term } from "./words.js";

function metricsList(m, nClasses) {
  if (!m || m.oa === undefined) return el("p", {}, "No figures were recorded for this model.");
  return el("dl", { class: "metrics" },
    el("dt", {}, "Correctly classified"),
    el("dd", {}, `${percent(m.oa)} of ${m.n} held-out ${m.split || "test"} clips (guessing: ${percent(1 / nClasses, 0)})`),
    el("dt", {}, "Average over classes"), el("dd", {}, `${percent(m.aa)} (each class counts the same)`),
    el("dt", {}, "Balance of hits and mix-ups"), el("dd", {}, f1Words(m.macro_f1, nClasses)),
    el("dt", {}, "How closely it re-creates clips"),
    el("dd", {}, `${m.reconstruction_error.toFixed(4)} on average over the test clips (`,
      term("re-creation error", "reconstruction error", ERROR_MEANING), "; the reference for every re-creation error on this page)"));
}

function stagesTable(stages) {
  if (!stages) return null;
  return el("table", { class: "table" },
    el("caption", {}, "What each transformation adds (same held-out clips)"),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Step"), el("th", { scope: "col" }, "Correct"),
      el("th", { scope: "col" }, "Re-creation error"))),
    el("tbody", {}, Object.entries(stages).map(([stage, s]) => el("tr", {},
      el("th", { scope: "row" }, STAGE_NAMES[stage] || stage), el("td", {}, percent(s.oa)),
      el("td", {}, s.reconstruction_error.toFixed(4))))));
}

function evaluationsTable(evaluations, nClasses) {
  const rows = Object.entries(evaluations || {});
  if (!rows.length) return null;
  return el("table", { class: "table" },
    el("caption", {}, `On other recordings (guessing: ${percent(1 / nClasses, 0)})`),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Data"), el("th", { scope: "col" }, "Clips"),
      el("th", { scope: "col" }, "Correct"))),
    el("tbody", {}, rows.map(([name, e]) => el("tr", {}, el("th", { scope: "row" }, name),
      el("td", {}, String(e.n)), el("td", {}, `${percent(e.oa)} (${inTen(e.oa)})`)))));
}

function spacesTable(spaces, together, nClasses) {
  if (!spaces.length) return null;
  const best = Math.min(...spaces.map((s) => s.quality.dbi ?? Infinity));
  return el("table", { class: "table", id: "spaces-table" },
    el("caption", {}, "Embedding spaces for neighbours (held-out test clips)"),
    el("thead", {}, el("tr", {}, ["Space", "Near means", "Nearest neighbour of the same class",
      "Are the classes apart? (Davies-Bouldin)", "A simple classifier reading it"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, spaces.map((s) => el("tr", {}, el("th", { scope: "row" }, s.id), el("td", {}, s.description),
      el("td", {}, s.quality.nn_macro_f1 !== undefined ? f1Words(s.quality.nn_macro_f1, nClasses)[0] : "–"),
      el("td", {}, s.quality.dbi !== undefined ? dbiWords(s.quality.dbi, best) : "–"),
      el("td", {}, s.quality.probe ? probeWords(s.quality.probe.accuracy, nClasses) : "–"))),
      together ? el("tr", {}, el("th", { scope: "row" }, "all together"), el("td", {}, "every space above, side by side"),
        el("td", {}, "–"), el("td", {}, "–"), el("td", {}, percent(together.accuracy))) : null));
}

function prototypeCard(info, p, corpusNames, context) {
  const title = prototypeTitle(p);
  const canvas = spectrogramThumb(p.spectrogram, `Spectrum of the ${title.includes("prototype") ? title : `${title} prototype`}`);
  const best = p.best_clips.length
    ? el("details", {}, el("summary", {}, `Corpus clips it explains best (${p.best_clips.length})`),
      el("ul", { class: "clip-list" }, p.best_clips.map((id) => el("li", {},
        el("span", {}, corpusNames[id] || id),
        player(`/api/clips/${encodeURIComponent(id)}/audio.wav`, `Play ${id}`),
        el("button", { type: "button", onclick: (event) => context.analyse(id, event.target.parentElement) }, "Analyse")))))
    : null;
  const sounds = p.renderings.length
    ? p.renderings.map((r) => el("div", { class: "rendering", title: r.description },
      el("span", { class: "muted" }, r.name === "decoded" ? "Decoded prototype" : "Nearest training clip"),
      player(r.audio_url, `Play the ${pretty(p.label)} prototype (${p.index}): ${r.description}`)))
    : [player(p.audio_url, `Play the ${pretty(p.label)} prototype (${p.index})`)];
  return el("article", { class: "card prototype", dataset: { index: p.index } },
    el("h3", {}, title, el("span", { class: "muted" }, title.includes("prototype") ? ` (no. ${p.index})` : ` prototype ${p.index}`)),
    canvas, sounds, best,
    info.shows.what_if ? el("button", { type: "button", onclick: () => openWhatIf(info.id, p) }, "What if…") : null);
}

export function createModelTab(panel, context) {
  const { bundle } = context;
  const select = el("select", { id: "model-select" },
    bundle.models.map((m) => el("option", { value: m.id }, `${m.id} (${m.n_prototypes} prototypes)`)));
  select.addEventListener("change", () => context.setModel(select.value));
  const about = el("div", { class: "about" });
  const figures = el("div", { class: "figures" });
  const confusion = el("div", { class: "chart confusion", id: "confusion" });
  const grid = el("div", { class: "grid prototypes", id: "prototype-grid" });
  rovingItems(grid, "article");
  const status = el("div");
  clear(panel,
    el("div", { class: "toolbar" }, el("label", { for: "model-select" }, "Model "), select),
    about,
    el("h2", {}, "How well it does"), figures,
    el("details", { class: "confusion-box" }, el("summary", {}, "Which classes it confuses (confusion matrix)"), confusion),
    el("h2", {}, "Prototypes"),
    el("p", { class: "hint" }, "Each prototype is the sound the model keeps for a class. Play it, see its spectrum " +
      "(on the header's frequency scale with its note grid; hover for Hz and notes), and try changing it by hand with “What if…”. Keyboard: Tab reaches one card, " +
      "the arrow keys move between cards."),
    status, grid);

  let shown = null, corpusNames = null;
  async function render(modelId) {
    const info = bundle.models.find((m) => m.id === modelId);
    select.value = modelId;
    clear(about, el("p", {},
      `${info.title}; ${info.supervised ? "trained with class labels" : "found without labels (clusters named after their majority class)"}` +
      (info.stages.length ? "; " : ".") +
      (info.stages.length ? `steps: ${info.stages.map((s) => STAGE_NAMES[s] || s).join(" → ")}.` : "")));
    const n = bundle.classes.length;
    clear(figures, headline(info.metrics, bundle.evaluations?.[modelId], n), metricsList(info.metrics, n),
      stagesTable(info.metrics?.stages), evaluationsTable(bundle.evaluations?.[modelId], n),
      spacesTable(bundle.embedding_spaces, bundle.embedding_probe, n));
    if (info.metrics?.confusion) {
      // plotly needs a visible box to size itself: draw when opened
      const box = confusion.parentElement;
      const draw = () => { if (box.open) confusionPlot(confusion, info.metrics.confusion); };
      box.ontoggle = draw;
      draw();
    }
    if (!corpusNames) {
      const list = await getAllClips("origin=corpus").catch(() => ({ clips: [] }));
      corpusNames = Object.fromEntries(list.clips.map((c) => [c.id, `${c.name} (${pretty(c.label)})`]));
    }
    const prototypes = await withBusy(status, "Loading the prototypes…",
      () => getJSON(`/api/models/${encodeURIComponent(modelId)}/prototypes`));
    if (!prototypes) return;
    clear(grid, prototypes.map((p) => prototypeCard(info, p, corpusNames, context)));
    shown = modelId;
  }
  context.onModel((id) => { if (!panel.hidden) render(id).catch((e) => showMessage(e.message)); else shown = null; });
  return {
    async show() {
      if (shown !== context.modelId) await render(context.modelId);
    },
  };
}

// Two models side by side (#/compare): on one clip (#/compare?clip=<id>&a=<model>&b=<model>),
// both rankings and both explanations next to each other with a sentence on where they agree;
// on a source of clips (#/compare?source=corpus|uploads|collection:<id>|selection&a=..&b=..; the
// selection is the clips picked in another tab, see selection.js), how often
// they agree, the table of one's predictions against the other's, and the clips where they
// disagree (each opens its side-by-side).
import { followJob, getJSON, postJSON, query } from "./api.js";
import { clear, el, percent, player, pretty, progressBar, showMessage, withBusy } from "./ui.js";
import { rankingChart } from "./plots.js";
import { errorWords } from "./words.js";
import { getSelection } from "./selection.js";

const SOURCES = [["corpus", "the corpus"], ["uploads", "your uploads"]];
const PAGE = 50;
const MAX_PICKED = 3000; // clips picked by hand per comparison, as the server takes them

// The model to set beside `modelId`: the first of another kind (a latent model beside a
// spectral one), else the first other model.
export function otherModel(bundle, modelId) {
  const me = bundle.models.find((m) => m.id === modelId);
  const others = bundle.models.filter((m) => m.id !== modelId);
  return others.find((m) => m.kind !== me?.kind) || others[0] || null;
}

// The address of a clip's side-by-side.
export const clipComparisonLink = (clipId, a, b) => `#/compare${query({ clip: clipId, a, b })}`;

// The address of a source's comparison.
export const sourceComparisonLink = (source, a, b) => `#/compare${query({ source, a, b })}`;

function modelSelect(id, bundle, chosen, label) {
  return el("select", { id, "aria-label": label },
    bundle.models.map((m) => el("option", { value: m.id, selected: m.id === chosen }, m.id)));
}

// The trust verdict of one side ({familiar, sentence}), when the model measures one.
function trustLine(trust) {
  if (!trust || typeof trust.sentence !== "string") return null;
  return el("p", { class: `trust ${trust.familiar === false ? "unfamiliar" : "familiar"}`, dataset: { verdict: trust.familiar === false ? "unlike" : "like" } },
    trust.familiar === false ? el("strong", {}, "Take care: ") : null, trust.sentence);
}

// One model's explanation: the prototype that re-creates the clip, with both sounds to hear; or
// the prototypes the clip is closest to, with the closest one heard decoded and as its nearest
// training clip.
function explanationBlock(x, model) {
  const typical = model?.metrics?.reconstruction_error;
  if (x.how === "re-creation") {
    return el("div", { class: "explanation", dataset: { how: x.how } },
      el("p", {}, x.sentence),
      el("p", { class: "muted" }, errorWords(x.error, typical)),
      el("div", { class: "row" }, el("span", {}, "Your clip as it re-creates it: "),
        player(x.recreation_url, `Play the clip re-created by the ${pretty(x.label)} prototype`)),
      el("div", { class: "row" }, el("span", {}, "The prototype alone: "),
        player(x.prototype_url, `Play the ${pretty(x.label)} prototype alone`)));
  }
  return el("div", { class: "explanation", dataset: { how: x.how } },
    el("p", {}, x.sentence),
    el("ol", { class: "closest" }, x.closest.map((c) => el("li", {},
      `${pretty(c.label)} (prototype ${c.index}): similarity ${c.similarity.toFixed(3)}`))),
    x.renderings.map((r) => el("div", { class: "row", title: r.description },
      el("span", {}, r.name === "decoded" ? "The prototype, decoded: " : "Its nearest training clip: "),
      player(r.audio_url, `Play the ${pretty(x.label)} prototype: ${r.description}`))));
}

function sideColumn(side, bundle, which) {
  const model = bundle.models.find((m) => m.id === side.model);
  const chart = el("div", { class: "chart", id: `ranking-${which}` });
  const column = el("section", { class: "compare-side", id: `side-${which}`, dataset: { model: side.model } },
    el("h3", {}, `${which === "a" ? "Left" : "Right"}: ${side.model}`),
    el("p", { class: "muted" }, side.title),
    trustLine(side.trust),
    el("p", { class: "verdict" }, "Hears ", el("strong", {}, pretty(side.top.label)), ` (${percent(side.top.score)} sure)`),
    chart,
    el("h4", {}, "Why"),
    explanationBlock(side.explanation, model),
    el("p", {}, el("a", { href: `#/analyses/${encodeURIComponent(side.analysis_id)}`, class: "button-link" }, "Open this analysis")));
  column.draw = () => rankingChart(chart, side.prediction, { top: 5 });
  return column;
}

export function createCompareView(panel, context) {
  const { bundle } = context;

  async function showClip(clipId, a, b) {
    const aSel = modelSelect("compare-a", bundle, a, "Left model");
    const bSel = modelSelect("compare-b", bundle, b, "Right model");
    const go = () => { location.hash = clipComparisonLink(clipId, aSel.value, bSel.value); };
    aSel.addEventListener("change", go);
    bSel.addEventListener("change", go);
    const body = el("div", { id: "compare-clip" });
    clear(panel, el("h2", {}, "Two models side by side"),
      el("div", { class: "toolbar" }, el("label", { for: "compare-a" }, "Left "), aSel,
        el("label", { for: "compare-b" }, "Right "), bSel,
        el("button", { type: "button", onclick: () => { location.hash = clipComparisonLink(clipId, bSel.value, aSel.value); } }, "Swap")),
      body);
    const found = await withBusy(body, "Asking both models…", () => postJSON("/api/compare/clip", { clip_id: clipId, a, b }));
    if (!found) return;
    const left = sideColumn(found.a, bundle, "a"), right = sideColumn(found.b, bundle, "b");
    clear(body,
      el("div", { class: "summary" },
        el("h3", {}, found.label ? `${pretty(found.label)} · ${found.name}` : found.name),
        el("div", { class: "row" }, el("span", {}, "The clip: "), player(found.audio_url, `Play ${found.name}`)),
        el("p", { class: `agreement ${found.agree ? "agree" : "disagree"}`, id: "compare-sentence", role: "status" }, found.sentence)),
      el("div", { class: "compare-sides" }, left, right));
    left.draw();
    right.draw();
  }

  async function showSource(source, a, b) {
    const picked = getSelection();
    const collections = await getJSON("/api/collections").catch(() => []);
    const sources = [...SOURCES, ...collections.map((c) => [c.source, `the collection “${c.name}”`]),
      ...(picked.ids.length || source === "selection"
        ? [["selection", `the clips you picked (${picked.ids.length}${picked.label ? `: ${picked.label}` : ""})`]] : [])];
    const sourceSel = el("select", { id: "compare-source", "aria-label": "Clips to compare on" },
      sources.map(([value, text]) => el("option", { value, selected: value === source }, text)),
      sources.some(([v]) => v === source) ? null : el("option", { value: source, selected: true }, source));
    const aSel = modelSelect("compare-a", bundle, a, "Model A (rows)");
    const bSel = modelSelect("compare-b", bundle, b, "Model B (columns)");
    const go = () => { location.hash = sourceComparisonLink(sourceSel.value, aSel.value, bSel.value); };
    [sourceSel, aSel, bSel].forEach((s) => s.addEventListener("change", go));
    const body = el("div", { id: "compare-source-result" });
    clear(panel, el("h2", {}, "Two models on a whole set of clips"),
      el("p", { class: "hint" }, "Where do the two models agree, and where not? Each clip is heard by both (once; later visits " +
        "are immediate). Click a clip where they disagree to see both explanations side by side."),
      el("div", { class: "toolbar" }, el("label", { for: "compare-source" }, "Clips "), sourceSel,
        el("label", { for: "compare-a" }, "A "), aSel, el("label", { for: "compare-b" }, "B "), bSel),
      body);
    if (source === "selection" && !picked.ids.length) {
      clear(body, el("p", { class: "muted" }, "No clips are picked: select some on the map or in a table first."));
      return;
    }
    if (source === "selection" && picked.ids.length > MAX_PICKED) {
      clear(body, el("p", { class: "muted" }, `${picked.ids.length} clips are picked; compare at most ${MAX_PICKED} at a time ` +
        "(or a whole collection)."));
      return;
    }
    const ask = (offset) => (source === "selection"
      ? postJSON("/api/compare/selection", { a, b, clip_ids: picked.ids, offset, limit: PAGE })
      : getJSON(`/api/compare${query({ source, a, b, offset, limit: PAGE })}`));
    const found = await withBusy(body, "Asking both models…", () => fetchComparison(body, () => ask(0)));
    if (!found) return;
    const list = el("ol", { class: "clip-list disagreements", id: "disagreements" });
    const more = el("button", { type: "button", id: "more-disagreements" }, "More");
    const addRows = (page) => {
      list.append(...page.disagreements.map((d) => el("li", { dataset: { clip: d.clip_id } },
        el("span", { class: "name" }, d.label ? `${pretty(d.label)} · ${d.name}` : d.name),
        el("span", {}, `${a}: `, el("strong", {}, pretty(d.a.label)), ` (${percent(d.a.score, 0)})`),
        el("span", {}, `${b}: `, el("strong", {}, pretty(d.b.label)), ` (${percent(d.b.score, 0)})`),
        player(`/api/clips/${encodeURIComponent(d.clip_id)}/audio.wav`, `Play ${d.name}`),
        el("a", { href: clipComparisonLink(d.clip_id, a, b), class: "button-link" }, "Side by side"))));
      more.hidden = list.children.length >= page.total_disagreements;
    };
    more.addEventListener("click", async () => {
      const page = await withBusy(body, "Loading…", () => ask(list.children.length));
      if (page) addRows(page);
    });
    const acc = Object.entries(found.accuracy).filter(([, v]) => v !== null);
    clear(body,
      el("p", { class: "agreement", id: "compare-sentence", role: "status" }, found.sentence),
      acc.length ? el("p", { class: "muted" }, `On the ${found.n_labelled} clips whose class is known: ` +
        acc.map(([m, v]) => `${m} is right ${percent(v, 0)}`).join(", ") + ".") : null,
      found.n ? el("h3", {}, `What ${a} hears (rows) against what ${b} hears (columns)`) : null,
      found.n ? confusionTable(found.confusion, a, b) : null,
      found.n ? el("h3", {}, `Where they disagree (${found.total_disagreements})`) : null,
      found.total_disagreements ? el("p", { class: "hint" }, "The clips both models are surest of first.")
        : found.n ? el("p", { class: "muted" }, "None: on every clip the two name the same class.") : null,
      list, more);
    addRows(found);
  }

  return {
    async show(params = {}) {
      const a = bundle.models.some((m) => m.id === params.a) ? params.a : context.modelId;
      const b = bundle.models.some((m) => m.id === params.b) && params.b !== a ? params.b : otherModel(bundle, a)?.id;
      const key = JSON.stringify([params.clip, params.source, a, b]);
      if (!b) {
        clear(panel, el("h2", {}, "Two models side by side"), el("p", {}, "This bundle has only one model."));
      } else if (params.clip) {
        await showClip(params.clip, a, b);
      } else {
        await showSource(params.source || "corpus", a, b);
      }
      panel.dataset.shown = key;
    },
  };
}

// GET the comparison; a 202 means a job works the clips out: follow it with a progress bar in
// `where`, then ask again.
async function fetchComparison(where, ask) {
  const first = await ask();
  if (!first.job_id) return first;
  const bar = progressBar("Both models listening to every clip");
  where.append(bar);
  try {
    await followJob(first.job_id, bar.update);
  } finally {
    bar.remove();
  }
  return ask();
}

// The table of model A's predictions (rows) against model B's (columns); the diagonal is where
// they agree.
function confusionTable(confusion, a, b) {
  const { labels, matrix } = confusion;
  return el("div", { class: "table-scroll" }, el("table", { class: "confusion-table", id: "compare-confusion" },
    el("caption", { class: "muted" }, `Clips per pair of answers; shaded: ${a} and ${b} agree.`),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, `${a} ↓ / ${b} →`), labels.map((l) => el("th", { scope: "col" }, pretty(l))))),
    el("tbody", {}, matrix.map((row, i) => el("tr", {}, el("th", { scope: "row" }, pretty(labels[i])),
      row.map((v, j) => el("td", { class: `${i === j ? "same" : ""}${v ? " some" : ""}` }, v ? String(v) : "")))))));
}

// The Map tab: the clips of a corpus or collection in two dimensions from an embedding space
// (PCA or UMAP), coloured by class, prediction, trust or a tag; hover a point to hear it, draw a
// lasso or a box to select clips, then table them, make a concept of them or listen to them.
// Address: #/map?source=corpus&space=timbre&method=pca&colour=class[&on=corpus] (on: lay the
// clips of another source on the corpus's map, the corpus drawn faint behind them)
import { ApiError, followJob, getJSON, getWithHeaders, postJSON, query } from "./api.js";
import { clear, el, percent, pretty, progressBar, showMessage } from "./ui.js";
import { hearOnHover } from "./hover.js";
import { createScatter } from "./scatter.js";
import { getSelection, setSelection } from "./selection.js";

const SPACE_NAMES = {
  timbre: "Tone colour", pitch: "Notes", learned: "What the model learned",
  "prototype-profile": "Prototype profile", tags: "Tags", aisfx: "Pretrained sound encoder",
};
const METHODS = { pca: "PCA (quick, straight lines)", umap: "UMAP (keeps neighbourhoods)" };
// 20 colours far apart from each other, then grey for "unknown"
const PALETTE = ["#1f77b4", "#e6550d", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
  "#bcbd22", "#393b79", "#fd8d3c", "#74c476", "#843c39", "#6baed6", "#7b4173", "#c49c94", "#636363",
  "#f7b6d2", "#9edae5", "#dbdb8d"];
const UNKNOWN = "#5b6370"; // darker than the faint points of a map the clips are laid on
const MAX_CONCEPT_CLIPS = 500; // as many example clips as the concepts API takes
const TRUST_COLOURS = { known: "#1e7a46", unknown: "#c0392b" };

function rgb(hex) {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

const collectionNames = {}; // "collection:<id>" -> its name, as the source list last read them

function sourceName(source) {
  if (source === "corpus") return "the corpus";
  if (source === "uploads") return "my uploads";
  if (!source.startsWith("collection:")) return source;
  return collectionNames[source] ? `the collection “${collectionNames[source]}”` : `collection ${source.slice(11)}`;
}

// What each point is coloured by: [{name, colour}] categories and a category per clip (-1 none).
function colouring(map, by) {
  const n = map.n;
  if (by === "class" || by === "prediction") {
    const codes = by === "class" ? map.label : map.prediction;
    return { categories: map.classes.map((c, i) => ({ name: pretty(c), colour: PALETTE[i % PALETTE.length] })), codes };
  }
  if (by === "right") {
    const codes = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      codes[i] = map.label[i] < 0 || map.prediction[i] < 0 ? -1 : map.label[i] === map.prediction[i] ? 0 : 1;
    }
    return { categories: [{ name: "heard as its class", colour: TRUST_COLOURS.known },
      { name: "heard as another class", colour: TRUST_COLOURS.unknown }], codes };
  }
  if (by === "trust") {
    const codes = new Int32Array(n);
    const threshold = map.trust_threshold;
    for (let i = 0; i < n; i++) {
      const t = map.trust[i];
      codes[i] = t === null || threshold === null ? -1 : t >= threshold ? 0 : 1;
    }
    return { categories: [{ name: "like what the model knows", colour: TRUST_COLOURS.known },
      { name: "unlike anything the model knows", colour: TRUST_COLOURS.unknown }], codes };
  }
  const tag = map.tags[by.replace(/^tag:/, "")];
  return { categories: tag.values.map((v, i) => ({ name: v, colour: PALETTE[i % PALETTE.length] })), codes: tag.codes };
}

export function createMapTab(panel, context) {
  const spaces = context.bundle.embedding_spaces || [];
  let state = null; // {source, space, method, colour}
  let map = null, plot = null, colours = null, loading = 0, playing = null;
  const listening = el("audio", { preload: "auto", id: "map-listen-audio", "aria-label": "The selected clips one after another" });

  const sourcePick = el("select", { id: "map-source", "aria-label": "Which clips" });
  const spacePick = el("select", { id: "map-space", "aria-label": "Embedding space" },
    spaces.map((s) => el("option", { value: s.id, title: s.description }, SPACE_NAMES[s.id] || s.id)));
  const methodPick = el("select", { id: "map-method", "aria-label": "How the map is drawn" },
    Object.entries(METHODS).map(([id, name]) => el("option", { value: id }, name)));
  const colourPick = el("select", { id: "map-colour", "aria-label": "Colour the points by" });
  const onPick = el("select", { id: "map-on", "aria-label": "Whose map the clips are laid on" },
    el("option", { value: "" }, "their own map"), el("option", { value: "corpus" }, "the corpus's map"));
  const onLabel = el("label", { hidden: true }, "Laid on ", onPick);
  const modeButtons = Object.fromEntries([["pan", "Move and zoom"], ["lasso", "Lasso"], ["box", "Box"]].map(([m, text]) =>
    [m, el("button", { type: "button", id: `map-mode-${m}`, "aria-pressed": String(m === "pan"),
      onclick: () => setMode(m) }, text)]));
  const status = el("p", { id: "map-status", class: "muted", role: "status" });
  const stage = el("div", { id: "map-plot", class: "map-plot" });
  const tooltip = el("div", { id: "map-tooltip", class: "map-tooltip", hidden: true });
  const axisX = el("p", { class: "map-axis x muted" }), axisY = el("p", { class: "map-axis y muted" });
  const legend = el("ul", { id: "map-legend", class: "map-legend", "aria-label": "Colours" });
  const count = el("strong", { id: "map-count" }, "No clips selected");
  const conceptName = el("input", { type: "text", id: "map-concept-name", maxlength: "80",
    placeholder: "name of the concept", "aria-label": "Name of the new concept" });
  const listenNote = el("span", { id: "map-listening", class: "muted", role: "status" });
  const selectedButtons = [
    el("button", { type: "button", id: "map-show-table", onclick: showInTable }, "Show in the table"),
    el("button", { type: "button", id: "map-make-concept", onclick: makeConcept }, "Make a concept"),
    el("button", { type: "button", id: "map-listen", onclick: listen }, "Listen"),
    el("button", { type: "button", id: "map-compare", onclick: () => { location.hash = "#/compare?source=selection"; } },
      "Compare two models"),
    el("button", { type: "button", id: "map-clear", class: "quiet", onclick: () => chooseIndices([], "") }, "Clear"),
  ];
  const selectionBar = el("div", { class: "row map-selection", id: "map-selection" },
    count, ...selectedButtons.slice(0, 1), conceptName, ...selectedButtons.slice(1), listenNote);
  const progressSlot = el("div", { id: "map-progress" });

  for (const pick of [sourcePick, spacePick, methodPick, onPick]) pick.addEventListener("change", () => go({}));
  colourPick.addEventListener("change", () => go({}, { replace: true }));

  function go(changes, { replace = false } = {}) {
    const next = { source: sourcePick.value, space: spacePick.value, method: methodPick.value,
      colour: colourPick.value || "class", on: sourcePick.value === "corpus" ? "" : onPick.value, ...changes };
    const hash = `#/map${query(next)}`;
    if (replace) {
      history.replaceState(null, "", hash);
      applyColour(next.colour);
      state = next;
    } else location.hash = hash;
  }

  function setMode(m) {
    for (const [k, b] of Object.entries(modeButtons)) b.setAttribute("aria-pressed", String(k === m));
    plot?.setMode(m);
  }

  // -- selection -------------------------------------------------------------------------------
  let chosen = []; // indices into the map
  function chooseIndices(indices, how) {
    chosen = indices;
    const ids = indices.map((i) => map.ids[i]);
    const label = how ? `${how} on the ${SPACE_NAMES[map.space] || map.space} map of ${sourceName(map.source)}` : "";
    setSelection(map.source, ids, label);
    plot.highlight(indices.length ? indices : null);
    count.textContent = indices.length ? `${indices.length} clip${indices.length === 1 ? "" : "s"} selected` : "No clips selected";
    for (const b of selectedButtons) b.disabled = !indices.length;
    conceptName.disabled = !indices.length;
  }

  function showInTable() {
    const { source } = getSelection();
    location.hash = `#/collections?source=${encodeURIComponent(source || state.source)}&selected=1`;
  }

  async function makeConcept() {
    const { ids } = getSelection();
    const name = conceptName.value.trim();
    if (!name) {
      showMessage("Give the concept a name first (for example “muted brass”).");
      conceptName.focus();
      return;
    }
    try {
      const concept = await postJSON("/api/concepts", {
        name, description: `Made from a ${getSelection().label || "selection on the map"}.`, clip_ids: ids.slice(0, MAX_CONCEPT_CLIPS) });
      const cut = ids.length > MAX_CONCEPT_CLIPS ? ` (a concept takes at most ${MAX_CONCEPT_CLIPS}: the first of the ${ids.length} selected)` : "";
      showMessage(`The concept “${concept.name}” was made from ${concept.n_clips} clips${cut}; test it in the Concepts tab.`, "info");
      conceptName.value = "";
    } catch (error) {
      showMessage(error.message);
    }
  }

  function listen() {
    if (playing) {
      playing.stop();
      return;
    }
    const ids = chosen.map((i) => map.ids[i]);
    const audio = listening;
    let k = 0, stopped = false;
    const next = () => {
      if (stopped || k >= ids.length) return stop();
      listenNote.textContent = `Playing ${k + 1} of ${ids.length}: ${ids[k]}`;
      plot.highlight([chosen[k]]);
      audio.src = `/api/clips/${encodeURIComponent(ids[k])}/audio.wav`;
      k += 1;
      audio.play().catch(() => stop());
    };
    const stop = () => {
      stopped = true;
      audio.pause();
      playing = null;
      listenNote.textContent = "";
      selectedButtons[2].textContent = "Listen";
      if (map) plot.highlight(chosen.length ? chosen : null);
    };
    audio.onended = next;
    playing = { stop };
    selectedButtons[2].textContent = "Stop";
    next();
  }

  // -- drawing ---------------------------------------------------------------------------------
  function applyColour(by) {
    if (!map) return;
    if (![...colourPick.options].some((o) => o.value === by)) by = "class";
    // clips nobody has labelled (uploads, mostly): what the model hears says more than "not known"
    if (by === "class" && map.model && !map.label.some((c) => c >= 0)) by = "prediction";
    colourPick.value = by;
    colours = colouring(map, by);
    const rgba = new Uint8Array(4 * map.n);
    const tints = colours.categories.map((c) => rgb(c.colour)), grey = rgb(UNKNOWN);
    const counts = new Array(colours.categories.length).fill(0);
    let unknown = 0;
    for (let i = 0; i < map.n; i++) {
      const c = colours.codes[i];
      const t = c >= 0 ? tints[c] : grey;
      if (c >= 0) counts[c] += 1; else unknown += 1;
      rgba.set([t[0], t[1], t[2], c >= 0 ? 220 : 150], 4 * i);
    }
    plot.setColors(rgba);
    clear(legend, colours.categories.map((c, i) => counts[i] ? el("li", {},
      el("button", { type: "button", class: "quiet", title: `Select the ${counts[i]} clips: ${c.name}`,
        onclick: () => chooseIndices([...colours.codes.keys()].filter((j) => colours.codes[j] === i), `“${c.name}”`) },
      el("span", { class: "swatch", style: `background:${c.colour}` }), `${c.name} (${counts[i]})`)) : null),
    unknown ? el("li", {}, el("span", { class: "swatch", style: `background:${UNKNOWN}` }), `not known (${unknown})`) : null);
    if (chosen.length) plot.highlight(chosen);
  }

  function colourOptions() {
    const options = [["class", "its class (label)"]];
    if (map.model) options.push(["prediction", "what the model hears"], ["right", "the model right or wrong"]);
    if (map.trust_threshold !== null && map.trust.some((t) => t !== null)) options.push(["trust", "the model's trust"]);
    for (const name of Object.keys(map.tags)) options.push([`tag:${name}`, `tag: ${name}`]);
    clear(colourPick, options.map(([v, text]) => el("option", { value: v }, text)));
  }

  function onHover(i, event) {
    if (i === null || !map) {
      tooltip.hidden = true;
      hearOnHover(null);
      return;
    }
    const cls = map.label[i] >= 0 ? pretty(map.classes[map.label[i]]) : "no label";
    const heard = map.prediction[i] >= 0
      ? `heard as ${pretty(map.classes[map.prediction[i]])} (${percent(map.confidence[i], 0)})` : "";
    const trust = map.trust[i] !== null && map.trust_threshold !== null
      ? (map.trust[i] >= map.trust_threshold ? "like what the model knows" : "unlike anything the model knows") : "";
    clear(tooltip, el("strong", {}, map.ids[i]), el("br"), [cls, heard, trust].filter(Boolean).join(" · "));
    const [sx, sy] = plot.screenOf(i);
    tooltip.style.left = `${Math.round(sx + 12)}px`;
    tooltip.style.top = `${Math.round(sy + 12)}px`;
    tooltip.hidden = false;
    if (!playing) hearOnHover(`/api/clips/${encodeURIComponent(map.ids[i])}/audio.wav`); // one sound at a time
  }

  function draw(answer, background = null) {
    map = answer;
    if (!plot) {
      plot = createScatter(stage, { onHover, onSelect: (indices, how) => chooseIndices(indices, how),
        label: "Map of the clips: each point is a clip" });
      stage.append(tooltip);
    }
    plot.setPoints(map.x, map.y, background);
    colourOptions();
    applyColour(state.colour);
    axisX.textContent = `→ ${map.axes[0]}`;
    axisY.textContent = `↑ ${map.axes[1]}`;
    const placed = map.fit.placed ? `; ${map.fit.placed} added since were placed on the fitted map` : "";
    const layout = map.on
      ? `placed on the map of ${sourceName(map.on)} (${map.method.toUpperCase()} of its ${map.fit.fitted} clips, drawn faint behind)`
      : `laid out by ${map.method.toUpperCase()} on ${map.fit.fitted} clips${placed}`;
    status.textContent = `${map.n} clips of ${sourceName(map.source)} in the ${SPACE_NAMES[map.space] || map.space} space, ` +
      `${layout}. Near means alike in this respect. ` +
      "Hover a point to hear it; choose Lasso or Box to select clips.";
    chooseIndices([], "");
  }

  async function load() {
    const mine = ++loading;
    playing?.stop();
    clear(progressSlot);
    status.textContent = "Drawing the map…";
    const url = `/api/map${query({ source: state.source, space: state.space, method: state.method, on: state.on })}`;
    try {
      let answer = await getWithHeaders(url);
      if (answer.status === 202) {
        const bar = progressBar(`Fitting the ${state.method.toUpperCase()} map (done once, then kept)`);
        progressSlot.append(bar);
        await followJob(answer.body.job_id, bar.update);
        if (mine !== loading) return;
        answer = await getWithHeaders(url);
        clear(progressSlot);
      }
      if (mine !== loading) return;
      let background = null;
      if (answer.body.on) { // the map they are laid on, fitted by now
        const under = await getJSON(`/api/map${query({ source: answer.body.on, space: state.space, method: state.method })}`);
        background = under.x ? { x: under.x, y: under.y } : null;
      }
      if (mine !== loading) return;
      draw(answer.body, background);
    } catch (error) {
      if (mine !== loading) return;
      clear(progressSlot);
      status.textContent = error instanceof ApiError ? error.message : String(error);
      if (plot) { plot.setPoints([], []); clear(legend); map = null; chooseIndices([], ""); }
    }
  }

  async function sources(current) {
    const options = [["corpus", "The corpus"], ["uploads", "My uploads"]];
    try { // the person's collections, where the server has them
      for (const c of await getJSON("/api/collections")) {
        collectionNames[c.source] = c.name;
        options.push([c.source, `Collection: ${c.name}`]);
      }
    } catch (error) { /* the list is the corpus and the uploads */ }
    if (current && !options.some(([v]) => v === current)) options.push([current, sourceName(current)]);
    clear(sourcePick, options.map(([v, text]) => el("option", { value: v }, text)));
  }

  let built = false;
  return {
    async show(params = {}) {
      if (!spaces.length) {
        clear(panel, el("h2", {}, "Map"), el("p", {}, "This bundle has no embedding spaces, so there is no map to draw " +
          "(a researcher adds them with “auralens bundle add-embeddings”)."));
        return;
      }
      const next = { source: params.source || "corpus", space: params.space || spaces[0].id,
        method: params.method || "pca", colour: params.colour || "class",
        on: params.source && params.source !== "corpus" && params.on === "corpus" ? "corpus" : "" };
      if (!built) {
        built = true;
        clear(panel, el("h2", {}, "Map"),
          el("p", { class: "muted" }, "Every clip as a point: clips that sound alike in the chosen respect lie close together."),
          el("div", { class: "row map-controls" },
            el("label", {}, "Clips ", sourcePick), el("label", {}, "Alike in ", spacePick),
            el("label", {}, "Drawn by ", methodPick), onLabel, el("label", {}, "Colour by ", colourPick)),
          el("div", { class: "row map-modes", role: "group", "aria-label": "What dragging on the map does" },
            ...Object.values(modeButtons),
            el("button", { type: "button", class: "quiet", onclick: () => plot?.resetView() }, "Whole map")),
          progressSlot, status,
          el("div", { class: "map-area" }, axisY, el("div", { class: "map-frame" }, stage, axisX), legend),
          selectionBar);
        chooseIndicesBlank();
      }
      await sources(next.source);
      sourcePick.value = next.source;
      spacePick.value = spaces.some((s) => s.id === next.space) ? next.space : spaces[0].id;
      methodPick.value = METHODS[next.method] ? next.method : "pca";
      onPick.value = next.on;
      onLabel.hidden = next.source === "corpus";
      const same = state && map && state.source === next.source && state.space === next.space &&
        state.method === next.method && state.on === next.on;
      state = { ...next, space: spacePick.value, method: methodPick.value };
      if (same) applyColour(state.colour);
      else await load();
    },
  };

  function chooseIndicesBlank() {
    for (const b of selectedButtons) b.disabled = true;
    conceptName.disabled = true;
  }
}

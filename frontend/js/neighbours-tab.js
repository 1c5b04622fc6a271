// The Neighbours tab: the corpus clips nearest to a clip in each embedding space, so that one
// can hear in what respect sounds are alike; and a search of the corpus by words.
import { getAllClips, getJSON, getWithHeaders, query } from "./api.js";
import { abSwitch, clear, el, noteName, player, pretty, rovingItems, seconds, showMessage, withBusy } from "./ui.js";
import { drawSpectrogram } from "./plots.js";
import { attachSpectrogramHover } from "./hover.js";

const SPACE_NAMES = {
  timbre: "Tone colour", pitch: "Notes", learned: "What the model learned",
  "prototype-profile": "Prototype profile", tags: "Tags", aisfx: "Pretrained sound encoder",
};

// A clip's tags in words: family, register, dynamics, articulation, the note's length, and
// vibrato and a reverberant room when it has them (the pitch is given as a note beside).
function tagLine(tags) {
  const words = ["family", "register", "dynamics", "articulation"].map((k) => tags[k]).filter(Boolean);
  if (Number(tags.duration) > 0) words.push(`${Number(tags.duration).toFixed(1)} s note`);
  if (Number(tags.vibrato) > 0) words.push("vibrato");
  if (Number(tags.reverb) >= 64) words.push("reverberant");
  return words.join(", ");
}

// The hits as a list: a small spectrogram of each (drawn when it comes into view), its tags,
// its distance, its sound and, with `query` (the query clip's audio element), A/B against it.
function hitList(hits, id, query = null) {
  const list = el("ol", { class: "clip-list neighbours", id },
    hits.map((h) => {
      const canvas = el("canvas", { class: "mini", role: "img", "aria-label": `Spectrogram of ${h.clip_id}` });
      const audio = player(h.audio_url, `Play the neighbour ${h.clip_id}`);
      return el("li", { dataset: { clip: h.clip_id } }, canvas,
        el("span", { class: "name" }, `${pretty(h.label) || "clip"} · ${h.clip_id}`,
          el("span", { class: "muted" }, ` ${tagLine(h.tags)}${h.tags.pitch ? ` · ${noteName(440 * 2 ** ((Number(h.tags.pitch) - 69) / 12))}` : ""}`)),
        h.aspects ? aspectBars(h) : el("span", { class: "distance", title: "cosine distance: 0 is the same direction, 2 the opposite" },
          `distance ${h.distance.toFixed(3)}`),
        audio, query ? abSwitch(audio, () => query) : null,
        el("a", { href: `#/neighbours?clip=${encodeURIComponent(h.clip_id)}`, class: "button-link" }, "Its neighbours"));
    }));
  rovingItems(list, "li");
  const seen = new IntersectionObserver((entries) => {
    for (const entry of entries.filter((e) => e.isIntersecting)) {
      seen.unobserve(entry.target);
      getJSON(`/api/clips/${encodeURIComponent(entry.target.closest("li").dataset.clip)}`).then((clip) => {
        drawSpectrogram(entry.target, clip.spectrogram);
        attachSpectrogramHover(entry.target, clip.spectrogram);
      }).catch(() => {});
    }
  });
  list.querySelectorAll("canvas.mini").forEach((c) => seen.observe(c));
  return list;
}

// A blended neighbour's likeness: the blend, then a small bar and number per aspect (0..1;
// 0.5 is as alike as a typical close neighbour in that space).
function aspectBars(h) {
  const bar = (name, value, cls) => el("span", { class: `aspect ${cls}`, dataset: { aspect: name } },
    el("span", { class: "aspect-name" }, name),
    el("meter", { min: "0", max: "1", low: "0.35", high: "0.65", optimum: "1", value: String(value), "aria-label": `${name}: ${value.toFixed(2)}` }),
    el("span", { class: "aspect-value" }, value.toFixed(2)));
  return el("span", { class: "aspects", title: "similarity from 0 to 1 in each aspect; 0.5 is as alike as a typical close neighbour" },
    bar("blend", h.similarity, "blended"),
    Object.entries(h.aspects).map(([space, value]) => bar(SPACE_NAMES[space] || space, value, "")));
}

// Weights as the API reads them: "timbre:0.5,pitch:0.3" (every slider, zeros too, so that
// each result reports every aspect).
const weightText = (weights) => Object.entries(weights).map(([s, w]) => `${s}:${+w.toFixed(3)}`).join(",");

function readWeights(text, spaces) {
  const out = {};
  for (const part of (text || "").split(",")) {
    const [name, value] = part.split(":");
    if (spaces.some((s) => s.id === name) && Number.isFinite(Number(value)) && Number(value) >= 0) out[name] = Number(value);
  }
  return Object.values(out).some((w) => w > 0) ? out : null;
}

export function createNeighboursTab(panel, context) {
  const spaces = context.bundle.embedding_spaces;
  let clipId = null, space = spaces[0]?.id, started = false, mode = "space";
  // the blend's starting point: tone colour first, notes and tags after (Sononym-like dials)
  const START = { timbre: 0.5, pitch: 0.3, tags: 0.2 };
  let weights = Object.fromEntries(spaces.map((s) => [s.id, START[s.id] ?? 0]));
  if (spaces.length && !Object.values(weights).some((w) => w > 0)) weights[spaces[0].id] = 1;

  if (!spaces.length) {
    clear(panel, el("h2", {}, "Neighbours"),
      el("p", {}, "This bundle has no embedding spaces, so there are no neighbours to list " +
        "(a researcher adds them with “auralens bundle add-embeddings”)."));
    return { async show() {} };
  }

  const clipSelect = el("select", { id: "neighbour-clip" });
  const spaceButtons = el("div", { class: "space-buttons", role: "radiogroup", "aria-label": "Embedding space" });
  const about = el("p", { class: "space-about", id: "space-about", role: "status" });
  const modeButtons = el("div", { class: "mode-buttons", role: "radiogroup", "aria-label": "How to find neighbours" });
  const sliders = el("div", { class: "aspect-sliders", id: "aspect-sliders", hidden: true });
  let debounce = null;
  const sliderInputs = spaces.map((s) => {
    const input = el("input", { type: "range", min: "0", max: "100", step: "5", value: String(Math.round(100 * weights[s.id])),
      id: `aspect-${s.id}`, dataset: { space: s.id }, "aria-label": `Weight of ${SPACE_NAMES[s.id] || s.id}` });
    const shown = el("output", { for: `aspect-${s.id}`, class: "aspect-weight" });
    const sync = () => { shown.textContent = `${input.value} %`; };
    sync();
    input.addEventListener("sync", sync);
    input.addEventListener("input", () => {
      sync();
      weights[s.id] = Number(input.value) / 100;
      clearTimeout(debounce);
      debounce = setTimeout(() => update(), 250); // the list follows the sliders, not every step of them
    });
    sliders.append(el("div", { class: "aspect-slider", title: s.description },
      el("label", { for: `aspect-${s.id}` }, SPACE_NAMES[s.id] || s.id), input, shown));
    return input;
  });
  sliders.prepend(el("p", { class: "hint" }, "Blend the spaces like the dials of a sound library: how much tone colour, notes, " +
    "tags… should count. Each result shows how alike it is in every aspect (0 to 1; 0.5 is as alike as a typical close " +
    "neighbour in that space)."));
  const queryBox = el("div", { class: "query" });
  const results = el("div", { id: "neighbour-results" });
  const words = el("input", { type: "search", id: "tag-search", placeholder: "e.g. brass ff low, staccato cello", "aria-label": "Search the corpus by tags" });
  const wordResults = el("div", { id: "tag-results" });

  function drawModeButtons() {
    clear(modeButtons, [["space", "One space"], ["aspects", "Aspects (a blend)"]].map(([m, text]) => el("button", {
      type: "button", role: "radio", "aria-checked": String(m === mode), dataset: { mode: m }, class: m === mode ? "chosen" : "",
      onclick: () => { mode = m; update(); },
    }, text)));
    spaceButtons.hidden = about.hidden = mode !== "space";
    sliders.hidden = mode !== "aspects";
  }

  function drawSpaceButtons() {
    drawModeButtons();
    clear(spaceButtons, spaces.map((s) => el("button", {
      type: "button", role: "radio", "aria-checked": String(s.id === space), dataset: { space: s.id },
      class: s.id === space ? "chosen" : "", title: s.description,
      onclick: () => { space = s.id; update(); },
    }, SPACE_NAMES[s.id] || s.id)));
    const s = spaces.find((x) => x.id === space);
    const q = s.quality || {};
    clear(about, el("strong", {}, `${SPACE_NAMES[s.id] || s.id}: `), s.description,
      q.nn_macro_f1 !== undefined ? el("span", { class: "muted" },
        ` (a clip's nearest neighbour has its class ${Math.round(100 * q.nn_macro_f1)} % of the time, macro F1 on held-out clips)`) : null,
      s.credit ? el("span", { class: "muted" }, ` ${s.credit}`) : null);
  }

  let generation = 0;
  async function update() {
    drawSpaceButtons();
    if (!clipId) return;
    const mine = ++generation;
    history.replaceState(null, "", mode === "aspects"
      ? `#/neighbours?clip=${encodeURIComponent(clipId)}&mode=aspects&weights=${encodeURIComponent(weightText(weights))}`
      : `#/neighbours?clip=${encodeURIComponent(clipId)}&space=${encodeURIComponent(space)}`);
    if (mode === "aspects") {
      await updateBlend(mine);
      return;
    }
    blendClip = null; // the query box is redrawn below
    clear(results);
    const clip = await getJSON(`/api/clips/${encodeURIComponent(clipId)}`).catch((e) => { showMessage(e.message); return null; });
    if (!clip) return;
    const queryAudio = player(clip.audio_url, `Play the clip: ${clip.name}`);
    queryAudio.id = "query-audio";
    clear(queryBox, el("span", {}, "Your clip: ", el("strong", {}, clip.label ? `${pretty(clip.label)} · ${clip.name}` : clip.name),
      ` (${seconds(clip.duration_s)}) `), queryAudio,
      el("span", { class: "hint" }, "“A/B” on a neighbour switches between your clip (A) and it (B) at the same moment."));
    const hits = await withBusy(results, "Finding neighbours…",
      () => getJSON(`/api/clips/${encodeURIComponent(clipId)}/neighbours${query({ space, k: 10 })}`));
    if (hits && mine === generation) {
      const list = hitList(hits, "neighbour-list", queryAudio);
      list.dataset.space = space;
      list.dataset.clip = clipId;
      clear(results, list);
    }
  }

  // The blended neighbours of the clip; the list is replaced only when the answer comes, so
  // that it does not flicker while a slider moves.
  let queryAudioOfBlend = null, blendClip = null;
  async function updateBlend(mine) {
    if (!Object.values(weights).some((w) => w > 0)) {
      clear(results, el("p", { class: "muted", id: "neighbour-list" }, "Give at least one aspect a weight above zero."));
      return;
    }
    if (blendClip !== clipId) {
      const clip = await getJSON(`/api/clips/${encodeURIComponent(clipId)}`).catch((e) => { showMessage(e.message); return null; });
      if (!clip || mine !== generation) return;
      blendClip = clipId;
      queryAudioOfBlend = player(clip.audio_url, `Play the clip: ${clip.name}`);
      queryAudioOfBlend.id = "query-audio";
      clear(queryBox, el("span", {}, "Your clip: ", el("strong", {}, clip.label ? `${pretty(clip.label)} · ${clip.name}` : clip.name),
        ` (${seconds(clip.duration_s)}) `), queryAudioOfBlend);
      clear(results);
    }
    const asked = weightText(weights);
    const found = await withBusy(results, "Blending…",
      () => getJSON(`/api/clips/${encodeURIComponent(clipId)}/neighbours/blend${query({ weights: asked, k: 10 })}`));
    if (!found || mine !== generation) return;
    const list = hitList(found.neighbours, "neighbour-list", queryAudioOfBlend);
    list.dataset.weights = asked;
    list.dataset.clip = clipId;
    clear(results, list);
  }

  async function loadClips() {
    const [corpus, uploads] = await Promise.all([getAllClips("origin=corpus"),
      getJSON("/api/clips?origin=upload&limit=100")]);
    clear(clipSelect,
      uploads.clips.length ? el("optgroup", { label: "Your uploads" },
        uploads.clips.map((c) => el("option", { value: c.id }, c.name))) : null,
      el("optgroup", { label: "Corpus" }, corpus.clips.map((c) => el("option", { value: c.id }, `${pretty(c.label)} · ${c.id}`))));
  }
  clipSelect.addEventListener("change", () => { clipId = clipSelect.value; update(); });

  async function searchWords() {
    const q = words.value.trim();
    if (!q) return;
    clear(wordResults);
    const found = await withBusy(wordResults, "Searching…", () => getWithHeaders(`/api/search${query({ q, k: 10 })}`));
    const hits = found?.body, ignored = found?.headers.get("X-Ignored-Words"), readAs = found?.headers.get("X-Read-As");
    if (hits) clear(wordResults,
      readAs ? el("p", { class: "hint", id: "read-as" }, `Read as tags: ${readAs}.`) : null,
      ignored ? el("p", { class: "hint", id: "ignored-words" }, `Left out (no clip is tagged with them): ${ignored}.`) : null,
      hits.length ? hitList(hits, "tag-list") : el("p", { class: "muted", id: "tag-list" }, "No corpus clip fits."));
  }
  words.addEventListener("keydown", (e) => { if (e.key === "Enter") searchWords(); });

  clear(panel,
    el("p", { class: "hint" }, "Two sounds can be alike in tone colour, in the notes they play, or in what the model " +
      "pays attention to. Pick a clip and a space, and listen to its nearest corpus clips."),
    el("div", { class: "toolbar" }, el("label", { for: "neighbour-clip" }, "Clip "), clipSelect),
    modeButtons, spaceButtons, about, sliders, queryBox, results,
    el("h2", {}, "Search the corpus by words"),
    el("p", { class: "hint" }, "Tag words (brass, ff, short, vibrato, reverberant, high…), instrument names (cello, " +
      "french horn) and the concept library's words (staccato = short, fortissimo = ff, high register = high)."),
    el("div", { class: "toolbar" }, words, el("button", { type: "button", id: "tag-search-run", onclick: searchWords }, "Search")),
    wordResults);

  return {
    async show(params = {}) {
      if (!started) {
        started = true;
        await loadClips().catch((e) => showMessage(e.message));
      }
      if (params.space && spaces.some((s) => s.id === params.space)) { space = params.space; mode = "space"; }
      if (params.mode === "aspects") {
        mode = "aspects";
        const given = readWeights(params.weights, spaces);
        if (given) {
          weights = Object.fromEntries(spaces.map((s) => [s.id, given[s.id] ?? 0]));
          sliderInputs.forEach((input) => { input.value = String(Math.round(100 * weights[input.dataset.space])); input.dispatchEvent(new Event("sync")); });
        }
      }
      const wanted = params.clip || clipId || clipSelect.value;
      if (wanted && ![...clipSelect.options].some((o) => o.value === wanted)) {
        clipSelect.prepend(el("option", { value: wanted }, wanted));
      }
      clipSelect.value = wanted;
      clipId = wanted;
      await update();
    },
  };
}

// The Concepts tab: a library of musical concepts (built into the bundle or made from example
// clips), tested against the model with TCAV, and concepts found without labels.
import { followJob, getAllClips, getJSON, getWithHeaders, postJSON, query } from "./api.js";
import { clear, el, excerptPlayer, percent, player, pretty, progressBar, rovingItems, seconds, showMessage, withBusy } from "./ui.js";
import { drawPresence, tcavChart } from "./plots.js";
import { cavWords } from "./words.js";

const pText = (p) => (p < 0.001 ? "< 0.001" : p.toFixed(3));

// The evidence of a TCAV row in one phrase with the p-value behind it: a result is significant
// only when both tests agree (run-level Welch and set-level), so the deciding p is the larger.
function evidence(r) {
  const ps = [r.p_adjusted, r.p_set_adjusted].filter((p) => p !== null && p !== undefined);
  if (!ps.length) return "no test possible";
  const p = Math.max(...ps);
  if (r.significant) return `significant (p = ${pText(p)})`;
  return p < 0.05 ? "no evidence (the two measures disagree in direction)" : `no evidence (p = ${pText(p)})`;
}

const MIN_CLIPS = 20;
// Depths a musicologist can choose, each a layer of the spectral model's encoder.
const DEPTHS = [
  { name: "early - spectral detail", layer: "encoder.levels.1" },
  { name: "middle", layer: "encoder.down.2" },
  { name: "late - close to the decision", layer: "encoder.last" },
];
const depthOf = (layer) => DEPTHS.find((d) => d.layer === layer)?.name;

function checkboxList(name, items, { checked = () => false, label = (x) => x, value = (x) => x } = {}) {
  return el("div", { class: "checks", role: "group", "aria-label": name },
    items.map((item, i) => {
      const id = `${name}-${i}`;
      return el("label", { for: id, class: "check" },
        el("input", { type: "checkbox", id, value: value(item), checked: checked(item) }), ` ${label(item)}`);
    }));
}
const checkedValues = (box) => [...box.querySelectorAll("input:checked")].map((i) => i.value);

export function createConceptsTab(panel, context) {
  const { bundle } = context;
  let library = [], layers = [], started = false;

  // -- the library -------------------------------------------------------------------------
  // "Hear its examples": the concept's clips, loaded when opened (a built-in concept's are
  // re-synthesised from the features the bundle keeps).
  function examplesBox(c) {
    const list = el("ul", { class: "clip-list concept-examples" });
    rovingItems(list, "li");
    const box = el("details", { class: "examples" }, el("summary", {}, "Hear its examples"), list);
    box.addEventListener("toggle", async () => {
      if (!box.open || list.childElementCount) return;
      const examples = await withBusy(list, "Loading the examples…", () => getJSON(`/api/concepts/${encodeURIComponent(c.id)}/examples`));
      if (!examples) return;
      clear(list, examples.length ? examples.map((e) => el("li", {},
        el("span", { class: "name" }, `${e.label ? pretty(e.label) + " · " : ""}${e.name}`,
          el("span", { class: "muted" }, ["register", "dynamics", "articulation"].map((k) => e.tags[k]).filter(Boolean)
            .map((t) => ` · ${t}`).join(""))),
        player(e.audio_url, `Play example ${e.index + 1} of ${c.name}`))) : el("li", { class: "muted" }, "No example to hear."));
      if (examples.some((e) => e.resynthesised)) {
        list.before(el("p", { class: "hint" }, "Re-synthesised from the features the bundle keeps of each clip (about a second; " +
          "the recordings themselves are not in the bundle)."));
      }
    });
    return box;
  }
  const libraryList = el("ul", { class: "concept-list", id: "concept-library" });
  async function loadLibrary() {
    library = await getJSON("/api/concepts");
    clear(libraryList, library.map((c) => el("li", { dataset: { concept: c.id } },
      el("strong", {}, c.name), c.builtin ? el("span", { class: "badge" }, "built in") : null,
      c.owner && !c.mine ? el("span", { class: "badge" }, `shared by ${c.owner}`) : null,
      el("span", { class: "muted" }, ` ${c.n_clips} clips${c.description ? " · " + c.description : ""}`),
      c.builtin || !c.mine ? null : el("button", { type: "button", class: "quiet-button", "aria-label": `Delete the concept ${c.name}`,
        onclick: async () => {
          const r = await fetch(`/api/concepts/${encodeURIComponent(c.id)}`, { method: "DELETE" });
          if (!r.ok) showMessage((await r.json()).detail); else { showMessage(`“${c.name}” deleted.`, "info"); refresh(); }
        } }, "Delete"),
      c.builtin || c.mine ? examplesBox(c) : null)));
    const before = new Set(checkedValues(testConcepts));
    clear(testConcepts, checkboxList("tcav-concept", library,
      { label: (c) => `${c.name} (${c.n_clips})`, value: (c) => c.id,
        checked: (c) => (before.size ? before.has(c.id) : c.id === "builtin-staccato") }));
  }

  // -- making a concept --------------------------------------------------------------------
  // Candidates filtered by class, tag and words (the corpus search, which knows instrument
  // names and concept words) and the uploads, each to hear and choose; the choice is kept
  // across filters and becomes a concept in one go.
  const nameInput = el("input", { type: "text", id: "concept-name", placeholder: "e.g. muted brass", maxlength: "80" });
  const descInput = el("input", { type: "text", id: "concept-description", placeholder: "what the examples share", maxlength: "500" });
  const pickClass = el("select", { id: "concept-pick-class" }, el("option", { value: "" }, "any class"),
    bundle.classes.map((c) => el("option", { value: c }, pretty(c))));
  const pickTag = el("select", { id: "concept-pick-tag" }, el("option", { value: "" }, "any tag"));
  const pickWords = el("input", { type: "search", id: "concept-pick-words", placeholder: "e.g. staccato cello",
    "aria-label": "Words the clips should fit" });
  const withUploads = el("input", { type: "checkbox", id: "concept-pick-uploads", checked: true });
  const onlyChosen = el("input", { type: "checkbox", id: "concept-pick-chosen" });
  const pickList = el("ul", { class: "clip-list", id: "concept-clips" });
  const pickNote = el("p", { class: "hint", id: "concept-pick-note", role: "status" });
  rovingItems(pickList, "li");
  const chosen = new Set();
  const known = new Map(); // clip id -> the clip as listed, for "only the chosen"
  const count = el("span", { class: "muted", id: "concept-count", role: "status" });
  const updateCount = () => {
    count.textContent = `${chosen.size} chosen${chosen.size < MIN_CLIPS ? ` (at least ${MIN_CLIPS} needed)` : ""}`;
    createButton.textContent = `Make a concept from ${chosen.size === 1 ? "this clip" : `these ${chosen.size} clips`}`;
  };
  const tagMatches = (clip) => {
    if (!pickTag.value) return true;
    const [key, value] = pickTag.value.split("=");
    return clip.tags?.[key] === value;
  };
  async function candidates() {
    const words = pickWords.value.trim(), label = pickClass.value;
    let corpus;
    if (words) {
      const found = await getWithHeaders(`/api/search${query({ q: words, k: 100 })}`);
      const readAs = found.headers.get("X-Read-As"), ignored = found.headers.get("X-Ignored-Words");
      pickNote.textContent = [readAs ? `Read as tags: ${readAs}.` : "", ignored ? `Left out: ${ignored}.` : ""].join(" ").trim();
      corpus = found.body.map((h) => ({ id: h.clip_id, name: h.clip_id, label: h.label, tags: h.tags, audio_url: h.audio_url }))
        .filter((c) => (!label || c.label === label) && tagMatches(c));
    } else {
      pickNote.textContent = "";
      corpus = (await getJSON(`/api/clips${query({ origin: "corpus", label, tag: pickTag.value, limit: 500 })}`)).clips;
    }
    const lowered = words.toLowerCase();
    const uploads = withUploads.checked && !pickTag.value
      ? (await getJSON("/api/clips?origin=upload&limit=200")).clips.filter((c) => (!label || c.label === label) &&
        (!words || `${c.name} ${c.label || ""}`.toLowerCase().includes(lowered))) : [];
    return [...uploads, ...corpus];
  }
  function candidateItem(clip) {
    const id = `pick-${clip.id}`;
    const box = el("input", { type: "checkbox", id, checked: chosen.has(clip.id) });
    box.addEventListener("change", () => { box.checked ? chosen.add(clip.id) : chosen.delete(clip.id); updateCount(); });
    const tags = ["register", "dynamics", "articulation"].map((k) => clip.tags?.[k]).filter(Boolean).join(", ");
    return el("li", { dataset: { clip: clip.id } }, box, el("label", { for: id, class: "name" },
      clip.origin === "upload" ? `your upload · ${clip.label ? pretty(clip.label) + " · " : ""}${clip.name}` : `${pretty(clip.label)} · ${clip.name}`,
      el("span", { class: "muted" }, `${clip.duration_s ? " " + seconds(clip.duration_s) : ""}${tags ? " · " + tags : ""}`)),
      player(clip.audio_url, `Play ${clip.name}`));
  }
  let picking = 0;
  async function loadPickList() {
    const mine = ++picking;
    let clips;
    try {
      clips = onlyChosen.checked ? [...chosen].map((id) => known.get(id)).filter(Boolean) : await candidates();
    } catch (error) {
      showMessage(error.message);
      clips = [];
    }
    if (mine !== picking) return;
    clips.forEach((c) => known.set(c.id, c));
    clear(pickList, clips.length ? clips.map(candidateItem) : el("li", { class: "muted" }, "No clip fits these filters."));
    updateCount();
  }
  async function loadPickTags() {
    const all = await getAllClips("origin=corpus").catch(() => ({ clips: [] }));
    for (const key of ["family", "register", "dynamics", "articulation"]) {
      const values = [...new Set(all.clips.map((c) => c.tags[key]).filter(Boolean))].sort();
      if (values.length) pickTag.append(el("optgroup", { label: key }, values.map((v) => el("option", { value: `${key}=${v}` }, v))));
    }
  }
  for (const control of [pickClass, pickTag, withUploads, onlyChosen]) control.addEventListener("change", loadPickList);
  pickWords.addEventListener("keydown", (e) => { if (e.key === "Enter") loadPickList(); });
  const chooseShown = el("button", { type: "button", id: "concept-choose-shown", onclick: () => {
    for (const li of pickList.querySelectorAll("li[data-clip]")) chosen.add(li.dataset.clip);
    pickList.querySelectorAll("input[type=checkbox]").forEach((b) => { b.checked = true; });
    updateCount();
  } }, "Choose all shown");
  const chooseNone = el("button", { type: "button", id: "concept-choose-none", onclick: () => {
    chosen.clear();
    loadPickList();
  } }, "Clear the choice");
  const shareBox = el("input", { type: "checkbox", id: "concept-shared" });
  const createStatus = el("div");
  const createButton = el("button", { type: "button", id: "concept-create", onclick: async () => {
    const made = await withBusy(createStatus, "Saving the concept…", () => postJSON("/api/concepts",
      { name: nameInput.value, description: descInput.value, clip_ids: [...chosen], shared: shareBox.checked }));
    if (made) {
      showMessage(`Concept “${made.name}” saved with ${made.n_clips} clips.`, "info");
      chosen.clear(); nameInput.value = ""; descInput.value = ""; onlyChosen.checked = false;
      await refresh();
    }
  } }, "Make a concept from these 0 clips");

  // -- testing concepts (TCAV) -------------------------------------------------------------
  const testConcepts = el("div");
  testConcepts.addEventListener("change", () => showSeparability());
  const testClasses = checkboxList("tcav-class", bundle.classes, { label: pretty, checked: () => true });
  const layerSelect = el("select", { id: "tcav-layer", multiple: true, size: "4",
    title: "Hold Ctrl or Shift to choose several layers (at most 4)" });
  // the named depths choose layers of the select (behind a disclosure), which the request reads
  const depthBoxes = el("div", { class: "checks", role: "group", "aria-label": "Depths in the model", id: "tcav-depths" });
  const syncDepths = () => {
    for (const box of depthBoxes.querySelectorAll("input")) {
      box.checked = [...layerSelect.selectedOptions].some((o) => o.value === box.value);
    }
  };
  layerSelect.addEventListener("change", syncDepths);
  // before a test: can each depth tell each chosen concept from random clips (CAV accuracy)?
  const separability = el("div", { id: "depth-separability", role: "status" });
  const measured = new Map(); // concept id -> its figures per layer
  let measuring = 0;
  async function showSeparability() {
    const mine = ++measuring;
    const ids = checkedValues(testConcepts).slice(0, 4);
    const depths = DEPTHS.filter((d) => depthBoxes.querySelector(`input[value="${d.layer}"]`));
    if (!ids.length || !depths.length) { clear(separability); return; }
    const missing = ids.filter((id) => !measured.has(id));
    if (missing.length) {
      clear(separability, el("p", { class: "busy" }, el("span", { class: "spinner", "aria-hidden": "true" }),
        "Measuring how well each depth tells the concepts from random clips…"));
      for (const id of missing) {
        const q = new URLSearchParams(depths.map((d) => ["layers", d.layer]));
        const found = await getJSON(`/api/concepts/${encodeURIComponent(id)}/separability?${q}`)
          .catch((e) => ({ error: e.message }));
        measured.set(id, found);
      }
    }
    if (mine !== measuring) return;
    const nameOf = (id) => library.find((c) => c.id === id)?.name || id;
    clear(separability, el("table", { class: "table separability" },
      el("caption", {}, "Can each depth tell the concept from random clips? (measured before the test)"),
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Concept"), depths.map((d) => el("th", { scope: "col" }, d.name)))),
      el("tbody", {}, ids.map((id) => {
        const found = measured.get(id);
        const byLayer = Object.fromEntries((found.layers || []).map((f) => [f.layer, f]));
        return el("tr", { dataset: { concept: id } }, el("th", { scope: "row" }, nameOf(id)),
          depths.map((d) => el("td", { dataset: { layer: d.layer } },
            byLayer[d.layer] ? cavWords(byLayer[d.layer].accuracy.mean) : found.error || "–")));
      }))));
  }
  const runsInput = el("input", { type: "number", id: "tcav-runs", min: "2", max: "100", value: "20" });
  const tcavOut = el("div", { id: "tcav-result" });
  const tcavButton = el("button", { type: "button", id: "tcav-run", disabled: true, onclick: () => runTcav() }, "Test the concepts");

  async function runTcav() {
    const body = { concepts: checkedValues(testConcepts), classes: checkedValues(testClasses),
                   layers: [...layerSelect.selectedOptions].map((o) => o.value).slice(0, 4), runs: Number(runsInput.value) };
    if (!body.concepts.length) { showMessage("Choose at least one concept to test."); return; }
    if (!body.classes.length) { showMessage("Choose at least one class to test the concepts on."); return; }
    if (!body.layers.length) { showMessage("Choose at least one layer."); return; }
    await runJob(tcavButton, tcavOut, "Testing the concepts", () => postJSON("/api/tcav", body), "tcav");
  }

  async function runJob(button, out, label, start, kind) {
    button.disabled = true;
    const bar = progressBar(label);
    clear(out, bar);
    try {
      const { job_id } = await start();
      history.replaceState(null, "", `#/concepts?${kind}=${job_id}`);
      const result = await followJob(job_id, bar.update);
      (kind === "tcav" ? showTcav : showDiscovery)(out, result);
    } catch (error) {
      clear(out);
      showMessage(error.message);
    } finally {
      button.disabled = false;
    }
  }

  // -- discovering concepts ----------------------------------------------------------------
  const discClasses = checkboxList("disc-class", bundle.classes,
    { label: pretty, checked: (c) => ["flute", "trumpet", "cello"].includes(c) });
  const discLayer = el("select", { id: "disc-layer" });
  const rankInput = el("input", { type: "number", id: "disc-rank", min: "3", max: "10", value: "4" });
  const discOut = el("div", { id: "discovery-result" });
  const discButton = el("button", { type: "button", id: "disc-run", disabled: true, onclick: () => runJob(discButton, discOut,
    "Looking for concepts", () => postJSON("/api/discoveries",
      { classes: checkedValues(discClasses), layer: discLayer.value, rank: Number(rankInput.value) }), "discovery") },
  "Find concepts");

  clear(panel,
    el("p", { class: "hint" }, "A concept is a set of example clips that share something a musician can name " +
      "(vibrato, a high register, muted brass). TCAV asks whether the model's decision for a class leans on " +
      "that concept, and compares the answer with random sets of clips so that chance is not mistaken for meaning."),
    el("section", {}, el("h2", {}, "The concept library"), libraryList),
    el("details", { class: "box", id: "concept-maker" }, el("summary", {}, "Make a concept from example clips"),
      el("div", { class: "toolbar" }, el("label", { for: "concept-name" }, "Name "), nameInput,
        el("label", { for: "concept-description" }, "Description "), descInput,
        el("label", { for: "concept-shared", class: "accounts-only" }, shareBox, " share it with the server's other users")),
      el("p", { class: "hint" }, "Find candidates by class, tag or words (tags, instrument names, concept words such as " +
        "“staccato”), listen, and tick the ones that show the concept; the choice is kept when the filters change."),
      el("div", { class: "toolbar" }, el("label", { for: "concept-pick-class" }, "Class "), pickClass,
        el("label", { for: "concept-pick-tag" }, "Tag "), pickTag,
        el("label", { for: "concept-pick-words" }, "Words "), pickWords,
        el("button", { type: "button", id: "concept-pick-search", onclick: () => loadPickList() }, "Find")),
      el("div", { class: "toolbar" },
        el("label", { for: "concept-pick-uploads", class: "check" }, withUploads, " your uploads"),
        el("label", { for: "concept-pick-chosen", class: "check" }, onlyChosen, " only the chosen"),
        chooseShown, chooseNone),
      pickNote,
      el("div", { class: "toolbar" }, count, createButton),
      createStatus, pickList),
    el("section", {}, el("h2", {}, "Test concepts against the model (TCAV)"),
      el("h3", {}, "Concepts"), testConcepts,
      el("h3", {}, "Classes"), testClasses,
      el("h3", {}, "How deep in the model"), depthBoxes, separability,
      el("details", { class: "technical" }, el("summary", {}, "Technical layers"),
        el("div", { class: "toolbar" }, el("label", { for: "tcav-layer" }, "Layers "), layerSelect)),
      el("div", { class: "toolbar" }, el("label", { for: "tcav-runs" }, "Runs "), runsInput, tcavButton),
      tcavOut),
    el("section", {}, el("h2", {}, "Find concepts without labels"),
      el("p", { class: "hint" }, "The model's activations on corpus clips of the chosen classes are split into a few " +
        "recurring patterns (non-negative matrix factorisation). Listen to the moments where each pattern is strongest."),
      el("h3", {}, "Classes"), discClasses,
      el("div", { class: "toolbar" }, el("label", { for: "disc-layer" }, "Layer "), discLayer,
        el("label", { for: "disc-rank" }, "How many concepts "), rankInput, discButton),
      discOut));

  async function refresh() {
    await Promise.all([loadLibrary(), loadPickList()]);
  }

  async function loadLayers() {
    // concepts are tested on the bundle's first model whose kind allows it (the API's default)
    const tested = bundle.models.find((m) => m.shows.concept_tests);
    if (!tested) return;
    layers = await getJSON(`/api/models/${encodeURIComponent(tested.id)}/layers`);
    const encoder = layers.filter((l) => l.name.startsWith("encoder."));
    const preferred = ["encoder.down.2", "encoder.levels.1", "encoder.last"];
    clear(layerSelect, [...preferred.filter((n) => encoder.some((l) => l.name === n)),
      ...encoder.map((l) => l.name).filter((n) => !preferred.includes(n))].map((n) => el("option", { value: n }, n)));
    if (layerSelect.options.length) layerSelect.options[0].selected = true;
    clear(depthBoxes, DEPTHS.filter((d) => encoder.some((l) => l.name === d.layer)).map((d, i) => {
      const box = el("input", { type: "checkbox", id: `tcav-depth-${i}`, value: d.layer });
      box.addEventListener("change", () => {
        const option = [...layerSelect.options].find((o) => o.value === d.layer);
        if (option) option.selected = box.checked;
      });
      return el("label", { for: `tcav-depth-${i}`, class: "check", title: d.layer }, box, ` ${d.name}`);
    }));
    syncDepths();
    const nonNegative = encoder.filter((l) => l.non_negative).map((l) => l.name);
    const preferredNN = ["encoder.levels.2.1", "encoder.levels.3.1", "encoder.levels.1.1"];
    clear(discLayer, [...preferredNN.filter((n) => nonNegative.includes(n)), ...nonNegative.filter((n) => !preferredNN.includes(n))]
      .map((n) => el("option", { value: n }, n)));
  }

  return {
    async show(params = {}) {
      if (!started) {
        started = true;
        await withBusy(panel, "Loading the concept library…", () => Promise.all([refresh(), loadLayers(), loadPickTags()]));
        // the buttons wait for the layers they send (a click before would have none to test)
        tcavButton.disabled = discButton.disabled = false;
        showSeparability();
      }
      for (const kind of ["tcav", "discovery"]) {
        if (!params[kind]) continue;
        const out = kind === "tcav" ? tcavOut : discOut;
        const job = await getJSON(`/api/jobs/${encodeURIComponent(params[kind])}`).catch((e) => { showMessage(e.message); return null; });
        if (job?.status === "done") (kind === "tcav" ? showTcav : showDiscovery)(out, job.result);
        else if (job) runJob(kind === "tcav" ? tcavButton : discButton, out, "Waiting for the job", async () => ({ job_id: job.id }), kind);
      }
    },
  };

  // -- results -------------------------------------------------------------------------------
  function showTcav(out, result) {
    const groups = {};
    for (const row of result.results) (groups[`${row.concept}|${row.layer}`] ??= []).push(row);
    const heard = Object.fromEntries(result.hear.map((h) => [`${h.concept}|${h.layer}`, h.clips]));
    clear(out,
      result.warnings.length ? el("ul", { class: "warnings" }, result.warnings.map((w) => el("li", {}, w))) : null,
      Object.entries(groups).map(([key, rows]) => {
        const [concept, layer] = key.split("|");
        const chart = el("div", { class: "chart tcav-chart" });
        const section = el("section", { class: "tcav-group", dataset: { concept } },
          el("h3", {}, `“${concept}” at ${depthOf(layer) ? `the ${depthOf(layer)} depth (${layer})` : `layer ${layer}`}`),
          el("p", { class: "hint" }, `How often a small move toward “${concept}” raises each class's score (TCAV, ` +
            "0 to 1), beside the same measure for random sets of clips (the baseline). ★ marks a significant " +
            `difference (${result.n_tests} tests, Bonferroni-corrected).`),
          el("p", { class: "hint" }, "Can this depth tell the concept from random clips? ", cavWords(rows[0].cav_accuracy.mean), "."),
          chart,
          el("table", { class: "table tcav-table" },
            el("thead", {}, el("tr", {}, ["Class", "TCAV", "Random", "Evidence", "In detail"].map((h) => el("th", { scope: "col" }, h)))),
            el("tbody", {}, rows.map((r) => el("tr", { class: r.significant ? "significant" : "" },
              el("th", { scope: "row" }, pretty(bundle.classes[r.class])),
              el("td", {}, `${r.tcav.mean.toFixed(2)} ± ${r.tcav.std.toFixed(2)}`),
              el("td", {}, `${r.null.mean.toFixed(2)} ± ${r.null.std.toFixed(2)}`),
              el("td", { class: "evidence" }, evidence(r)),
              el("td", {}, el("details", {}, el("summary", {}, "both tests"),
                el("p", {}, r.verdict),
                el("p", { class: "muted" }, `Run-level Welch test: p = ${r.p_adjusted === null ? "–" : pText(r.p_adjusted)}; ` +
                  `set-level test: p = ${r.p_set_adjusted === null || r.p_set_adjusted === undefined ? "–" : pText(r.p_set_adjusted)} ` +
                  "(both Bonferroni-adjusted).")),
                r.warnings.length ? el("ul", { class: "warnings" }, r.warnings.map((w) => el("li", {}, w))) : null))))),
          heard[key] ? el("div", {}, el("h4", {}, `Hear the concept: the corpus clips furthest toward “${concept}”`),
            el("ul", { class: "clip-list" }, heard[key].map((c) => el("li", {},
              el("span", { class: "name" }, `${pretty(c.label)} · ${c.clip_id}`), player(c.audio_url, `Play ${c.clip_id}`))))) : null);
        requestAnimationFrame(() => tcavChart(chart, rows.map((r) => ({ ...r, label: pretty(bundle.classes[r.class]) }))));
        return section;
      }));
  }

  function showDiscovery(out, result) {
    clear(out,
      el("p", {}, `Fidelity: ${percent(result.fidelity, 0)} of the clips keep their class when the layer is ` +
        `replaced by these ${result.components.length} concepts (how completely they describe what the model uses).`),
      result.warnings.length ? el("ul", { class: "warnings" }, result.warnings.map((w) => el("li", {}, w))) : null,
      el("div", { class: "grid components" }, result.components.map((c) => el("article", { class: "card component" },
        el("h3", {}, `Concept ${c.index + 1}`),
        el("p", { class: "muted" }, `${percent(c.share, 0)} of the activation; without it ${percent(c.fidelity_without, 0)} of the decisions hold`),
        el("p", {}, "Pushes toward: ", Object.entries(c.sensitivity).sort((a, b) => b[1].mean - a[1].mean)
          .map(([k, s]) => `${pretty(bundle.classes[Number(k)] ?? k)} ${s.mean > 0 ? "+" : "−"}`).join(", ")),
        c.excerpts.slice(0, 3).map((e) => {
          const canvas = el("canvas", { class: "thumb", role: "img", "aria-label": `Where concept ${c.index + 1} is present in ${e.name}` });
          getJSON(`/api/clips/${encodeURIComponent(e.clip_id)}`).then((clip) => drawPresence(canvas, clip.spectrogram, e.presence)).catch(() => {});
          return el("figure", { class: "excerpt" }, canvas,
            el("figcaption", {}, `${pretty(e.label)} · ${e.start_s.toFixed(2)}–${e.end_s.toFixed(2)} s`),
            excerptPlayer(e.audio_url, e.start_s, e.end_s, `Play ${e.name} from ${e.start_s.toFixed(2)} to ${e.end_s.toFixed(2)} s`));
        })))));
  }
}

// The Collections tab: a person's collections of recordings (made from many files, a dropped
// folder or a ZIP, analysed on the server with a progress bar), a table of the clips of any
// source (sorted, filtered and paged on the server), ticked rows as the shared selection
// (made into a concept, exported as CSV), and which prototypes explain the source.
// Address: #/collections?source=corpus|uploads|collection:<id>[&sort=..&order=..&prediction=..][&selected=1]
import { ApiError, deleteJSON, followJob, getJSON, postJSON } from "./api.js";
import { clear, el, percent, player, pretty, progressBar, showMessage, withBusy } from "./ui.js";
import { getSelection, onSelection, setSelection } from "./selection.js";

const PAGE = 50;
const FILTERS = ["label", "prediction", "trust", "tag", "prototype"];
const COLUMNS = [
  { key: "name", title: "Clip", sort: "name" },
  { key: "label", title: "Label", sort: "label", show: (r) => pretty(r.label) || "—" },
  { key: "prediction", title: "Heard as", sort: "prediction", show: (r) => pretty(r.prediction) || "not yet" },
  { key: "confidence", title: "How sure", sort: "confidence", show: (r) => (r.confidence === null ? "—" : percent(r.confidence)) },
  { key: "trust", title: "Like what it knows?", sort: "trust_score", show: (r) => ({ familiar: "yes", unlike: "no — take care", unknown: "not measured" })[r.trust] || "—" },
  { key: "best_prototype", title: "Best prototype", sort: "best_prototype", show: (r) => (r.best_prototype === null ? "—" : `${r.best_prototype} · ${pretty(r.best_prototype_label)}`) },
  { key: "error", title: "Re-creation error", sort: "error", show: (r) => (r.error === null ? "—" : r.error.toFixed(4)) },
  { key: "duration_s", title: "Length", sort: "duration_s", show: (r) => (r.duration_s === null ? "—" : `${r.duration_s.toFixed(1)} s`) },
];

// Every file under a dropped folder (DataTransfer entries), with its path inside the drop.
async function filesOfEntry(entry, prefix = "") {
  if (entry.isFile) {
    const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
    return [{ file, path: `${prefix}${file.name}` }];
  }
  if (!entry.isDirectory) return [];
  const reader = entry.createReader();
  const children = [];
  for (;;) { // readEntries answers in chunks
    const chunk = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
    if (!chunk.length) break;
    children.push(...chunk);
  }
  const nested = await Promise.all(children.map((c) => filesOfEntry(c, `${prefix}${entry.name}/`)));
  return nested.flat();
}

// Send a form with progress of the upload itself (fetch cannot tell it): resolves with the JSON.
function sendForm(url, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.responseType = "json";
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      const body = xhr.response;
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new ApiError(xhr.status, body && typeof body.detail === "string" ? body.detail : `The server answered with an error (${xhr.status}).`));
    };
    xhr.onerror = () => reject(new ApiError(0, "The server cannot be reached. Is auralens still running?"));
    xhr.send(form);
  });
}

export function createCollectionsTab(panel, context) {
  let built = false;
  let params = {};
  let collections = [];
  const ticked = new Set(); // clip ids of the source shown
  let lastPage = null;

  // -- the parts of the tab ----------------------------------------------------------------
  const sourceSelect = el("select", { id: "collection-source", "aria-label": "Clips of" });
  const listBox = el("ul", { id: "collection-list", class: "clip-list" });
  const createBox = el("div", { id: "collection-create" });
  const filterRow = el("div", { class: "row", id: "table-filters" });
  const chips = el("div", { class: "row", id: "table-chips" });
  const tableBox = el("div", { id: "clip-table-box", class: "table-box" });
  const pager = el("div", { class: "row", id: "table-pager" });
  const selectionBar = el("div", { class: "row", id: "table-selection" });
  const usageBox = el("div", { id: "prototype-usage" });
  const status = el("div", { id: "collection-status" });
  const selects = {
    label: el("select", { id: "filter-label", "aria-label": "Only clips labelled" }),
    prediction: el("select", { id: "filter-prediction", "aria-label": "Only clips heard as" }),
    trust: el("select", { id: "filter-trust", "aria-label": "Only clips the model" },
      el("option", { value: "" }, "trusted or not"), el("option", { value: "familiar" }, "like what it knows"),
      el("option", { value: "unlike" }, "unlike what it knows"), el("option", { value: "unknown" }, "not measured")),
    tag: el("select", { id: "filter-tag", "aria-label": "Only clips tagged" }),
  };

  function address(changes = {}) {
    const next = { ...params, ...changes };
    for (const [k, v] of Object.entries(next)) if (v === "" || v === null || v === undefined) delete next[k];
    return `#/collections?${new URLSearchParams(next)}`;
  }
  // Change what the table shows: the address (to reload or share), then the table.
  function go(changes) {
    params = { ...params, ...changes };
    for (const [k, v] of Object.entries(params)) if (v === "" || v === null || v === undefined) delete params[k];
    history.replaceState(null, "", address());
    loadTable();
  }
  const source = () => params.source || "corpus";

  function build() {
    built = true;
    sourceSelect.addEventListener("change", () => {
      ticked.clear();
      go({ source: sourceSelect.value, offset: "", prototype: "", label: "", prediction: "", tag: "", trust: "", selected: "" });
      loadUsage();
    });
    for (const [key, select] of Object.entries(selects)) {
      select.addEventListener("change", () => go({ [key]: select.value, offset: "" }));
    }
    filterRow.append(
      el("label", { for: "filter-label" }, "Label"), selects.label,
      el("label", { for: "filter-prediction" }, "Heard as"), selects.prediction,
      el("label", { for: "filter-trust" }, "Trust"), selects.trust,
      el("label", { for: "filter-tag" }, "Tag"), selects.tag);
    buildCreate();
    panel.append(
      el("h2", {}, "Collections"),
      el("p", { class: "hint" }, "A collection is many recordings analysed at once: for each, what the model hears, " +
        "how sure it is, whether the recording is like what it was trained on, and which prototype re-creates it best."),
      el("section", { "aria-labelledby": "collections-mine" },
        el("h3", { id: "collections-mine" }, "Your collections"), listBox, createBox, status),
      el("section", { "aria-labelledby": "clip-table-title" },
        el("h3", { id: "clip-table-title" }, "Table of clips"),
        el("div", { class: "row" }, el("label", { for: "collection-source" }, "Clips of"), sourceSelect),
        filterRow, chips, selectionBar, tableBox, pager),
      el("section", { "aria-labelledby": "usage-title" },
        el("h3", { id: "usage-title" }, "Which prototypes explain these clips"), usageBox));
    onSelection((s) => {
      if (s.source !== source()) return;
      ticked.clear();
      s.ids.forEach((id) => ticked.add(id));
      if (lastPage) drawTable(lastPage);
    });
  }

  // -- making a collection -----------------------------------------------------------------
  function buildCreate() {
    const name = el("input", { id: "collection-name", type: "text", maxlength: "200", placeholder: "e.g. my viola recordings", required: true });
    const files = el("input", { id: "collection-files", type: "file", multiple: true, accept: "audio/*,.wav,.flac,.ogg,.opus,.mp3" });
    const folder = el("input", { id: "collection-folder", type: "file", multiple: true, webkitdirectory: true });
    const zip = el("input", { id: "collection-zip", type: "file", accept: ".zip,application/zip" });
    const csv = el("input", { id: "collection-labels", type: "file", accept: ".csv,text/csv" });
    const labelsFrom = el("select", { id: "collection-labels-from" },
      el("option", { value: "folders" }, "from the folders' names"), el("option", { value: "csv" }, "from a CSV (filename,label)"),
      el("option", { value: "none" }, "none"));
    let dropped = [];
    const chosen = el("p", { class: "muted", id: "collection-chosen" }, "No files chosen yet.");
    const describe = () => {
      const n = dropped.length + files.files.length + folder.files.length;
      chosen.textContent = [n ? `${n} file${n === 1 ? "" : "s"}` : "", zip.files.length ? `the archive ${zip.files[0].name}` : ""]
        .filter(Boolean).join(" and ") || "No files chosen yet.";
    };
    for (const input of [files, folder, zip]) input.addEventListener("change", describe);
    const drop = el("div", { class: "drop", id: "collection-drop", tabindex: "0", role: "button",
      "aria-label": "Drop recordings, a folder of them, or a ZIP here" }, "Drop recordings, a folder of them, or a ZIP here");
    drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", async (e) => {
      e.preventDefault();
      drop.classList.remove("over");
      const entries = [...e.dataTransfer.items].map((i) => i.webkitGetAsEntry?.()).filter(Boolean);
      const found = entries.length ? (await Promise.all(entries.map((x) => filesOfEntry(x)))).flat()
        : [...e.dataTransfer.files].map((file) => ({ file, path: file.name }));
      const archives = found.filter((f) => /\.zip$/i.test(f.path));
      dropped = found.filter((f) => !/\.zip$/i.test(f.path));
      if (archives.length) {
        const t = new DataTransfer();
        t.items.add(archives[0].file);
        zip.files = t.files;
      }
      describe();
    });
    const progress = progressBar("Sending and analysing");
    progress.hidden = true;
    const create = el("button", { type: "button", id: "collection-create-button", onclick: async () => {
      if (!name.value.trim()) { showMessage("Give the collection a name first."); name.focus(); return; }
      const form = new FormData();
      form.append("name", name.value.trim());
      form.append("labels_from", labelsFrom.value);
      if (context.modelId) form.append("model", context.modelId);
      for (const f of files.files) form.append("files", f, f.name);
      for (const f of folder.files) form.append("files", f, f.webkitRelativePath || f.name);
      for (const { file, path } of dropped) form.append("files", file, path);
      if (zip.files.length) form.append("archive", zip.files[0], zip.files[0].name);
      if (csv.files.length) form.append("labels", csv.files[0], csv.files[0].name);
      progress.hidden = false;
      create.disabled = true;
      try {
        progress.update(0, "sending");
        const made = await sendForm("/api/collections", form, (f) => progress.update(0.1 * f, "running"));
        if (made.skipped.length) showSkipped(made);
        await followCollection(made, progress);
        dropped = [];
        for (const input of [files, folder, zip, csv]) input.value = "";
        createBox.querySelector("details").open = false;
        name.value = "";
        describe();
        await loadCollections();
        ticked.clear();
        params = { source: made.source };
        history.replaceState(null, "", address());
        sourceSelect.value = made.source;
        await Promise.all([loadTable(), loadUsage()]);
      } catch (error) {
        showMessage(error.message || String(error));
      } finally {
        create.disabled = false;
      }
    } }, "Make the collection");
    createBox.append(el("details", { id: "collection-new" }, el("summary", {}, "Make a new collection"),
      el("div", { class: "row" }, el("label", { for: "collection-name" }, "Name"), name),
      drop,
      el("div", { class: "row" }, el("label", { for: "collection-files" }, "Recordings"), files),
      el("div", { class: "row" }, el("label", { for: "collection-folder" }, "A folder"), folder),
      el("div", { class: "row" }, el("label", { for: "collection-zip" }, "A ZIP archive"), zip),
      el("div", { class: "row" }, el("label", { for: "collection-labels-from" }, "Labels"), labelsFrom,
        el("label", { for: "collection-labels" }, "CSV"), csv),
      chosen, el("div", { class: "row" }, create)), progress);
  }

  function showSkipped(c) {
    clear(status, el("details", { class: "skipped" },
      el("summary", {}, `${c.skipped.length} file${c.skipped.length === 1 ? " was" : "s were"} left out`),
      el("ul", {}, c.skipped.map((s) => el("li", {}, `${s.name}: ${s.reason}`)))));
  }

  // Follow the collection's analysis to the end on `progress` (the upload was the first tenth);
  // one still waiting for the server's queue is asked after again (which starts it when it can).
  async function followCollection(c, progress) {
    let failures = 0;
    while (c.status !== "done") {
      if (c.status === "analysing" && c.job_id) {
        try {
          await followJob(c.job_id, (f, st) => progress.update(0.1 + 0.9 * f, st === "queued" ? "queued" : "running"));
        } catch (error) {
          // the job stopped (the server restarted): ask again, which resumes it - but not forever
          if (!(error instanceof ApiError) || error.status !== 200 || ++failures >= 3) throw error;
        }
      } else {
        progress.update(0.1 + 0.9 * c.progress, "queued");
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
      c = await getJSON(`/api/collections/${encodeURIComponent(c.id)}`);
    }
    progress.update(1, "done");
    progress.querySelector(".progress-text").textContent = "analysed";
    progress.dataset.done = "true";
  }

  async function loadCollections() {
    collections = await getJSON("/api/collections");
    clear(listBox, collections.length ? collections.map((c) => el("li", { dataset: { collection: c.id } },
      el("a", { href: `#/collections?source=${encodeURIComponent(c.source)}` }, c.name),
      el("span", { class: "muted" }, ` · ${c.n_clips} clips · ${c.status === "done" ? "analysed" : `${percent(c.progress, 0)} analysed`} · `),
      el("a", { href: `#/map?source=${encodeURIComponent(c.source)}` }, "map"), " · ",
      el("a", { href: `#/compare?source=${encodeURIComponent(c.source)}` }, "two models side by side"), " ",
      el("button", { type: "button", class: "quiet delete", "aria-label": `Delete the collection ${c.name}`, onclick: async () => {
        if (!confirm(`Delete the collection “${c.name}”? Its recordings stay among your uploads.`)) return;
        try {
          await deleteJSON(`/api/collections/${encodeURIComponent(c.id)}`);
        } catch (error) { showMessage(error.message); return; }
        if (source() === c.source) go({ source: "corpus", offset: "", prototype: "", label: "", prediction: "", tag: "", trust: "", selected: "" });
        await loadCollections();
      } }, "Delete")))
      : el("li", { class: "muted" }, "None yet: make one below."));
    const current = source();
    clear(sourceSelect, el("option", { value: "corpus" }, "the corpus"), el("option", { value: "uploads" }, "your uploads"),
      collections.map((c) => el("option", { value: c.source }, `the collection ${c.name}`)));
    sourceSelect.value = current;
    // a collection still being analysed: show its progress
    const open = collections.find((c) => c.source === current && c.status !== "done");
    if (open) {
      const bar = progressBar(`Analysing ${open.name}`);
      clear(status, bar);
      getJSON(`/api/collections/${encodeURIComponent(open.id)}`).then((c) => followCollection(c, bar))
        .then(() => Promise.all([loadTable(), loadUsage(), loadCollections()])).catch((e) => showMessage(e.message));
    }
  }

  // -- the table ---------------------------------------------------------------------------
  function tableQuery(extra = {}) {
    const q = { source: source(), sort: params.sort || "position", order: params.order || "asc",
      offset: Number(params.offset || 0), limit: PAGE, ...extra };
    if (context.modelId && !source().startsWith("collection:")) q.model = context.modelId;
    for (const key of FILTERS) if (params[key]) q[key] = key === "prototype" ? Number(params[key]) : params[key];
    if (params.selected === "1") {
      const s = getSelection();
      q.ids = s.source === source() ? s.ids : [];
    }
    return q;
  }

  async function loadTable() {
    const page = await withBusy(tableBox, "Loading the table…", () => postJSON("/api/table", tableQuery()));
    if (!page) return;
    lastPage = page;
    fillOptions(selects.label, "any label", page.labels);
    fillOptions(selects.prediction, "any class", page.predictions);
    fillTags(page.tags);
    selects.trust.value = params.trust || "";
    drawChips();
    drawTable(page);
  }

  function fillOptions(select, anyText, values) {
    const key = Object.entries(selects).find(([, s]) => s === select)[0];
    clear(select, el("option", { value: "" }, anyText), values.map((v) => el("option", { value: v }, pretty(v))));
    if (params[key] && !values.includes(params[key])) select.append(el("option", { value: params[key] }, pretty(params[key])));
    select.value = params[key] || "";
  }

  // The tags, grouped by their name ("register: high", "register: low", ...).
  function fillTags(tags) {
    const groups = new Map();
    for (const t of tags) {
      const [key, value] = t.split(/=(.*)/s);
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push([t, value]);
    }
    clear(selects.tag, el("option", { value: "" }, "any tag"),
      [...groups].map(([key, values]) => el("optgroup", { label: key }, values.map(([t, v]) => el("option", { value: t }, v)))));
    if (params.tag && !tags.includes(params.tag)) selects.tag.append(el("option", { value: params.tag }, params.tag));
    selects.tag.value = params.tag || "";
  }

  function drawChips() {
    const parts = [];
    if (params.prototype) {
      parts.push(el("button", { type: "button", class: "chip", id: "chip-prototype", title: "Show every prototype's clips again",
        onclick: () => go({ prototype: "", offset: "" }) }, `explained best by prototype ${params.prototype} ×`));
    }
    if (params.selected === "1") {
      parts.push(el("button", { type: "button", class: "chip", id: "chip-selected", onclick: () => go({ selected: "", offset: "" }) },
        "only the selection ×"));
    }
    clear(chips, parts);
  }

  function sortBy(column) {
    const same = (params.sort || "position") === column.sort;
    const order = same ? ((params.order || "asc") === "asc" ? "desc" : "asc") : (["confidence", "error", "trust_score", "duration_s"].includes(column.sort) ? "desc" : "asc");
    go({ sort: column.sort, order, offset: "" });
  }

  function drawTable(page) {
    const sorted = params.sort || "position", order = params.order || "asc";
    const allBox = el("input", { type: "checkbox", id: "table-tick-page", "aria-label": "Tick every row of this page",
      checked: page.rows.length > 0 && page.rows.every((r) => ticked.has(r.id)) });
    allBox.addEventListener("change", () => {
      page.rows.forEach((r) => (allBox.checked ? ticked.add(r.id) : ticked.delete(r.id)));
      publish();
    });
    const head = el("tr", {}, el("th", { scope: "col" }, allBox),
      COLUMNS.map((c) => el("th", { scope: "col", "aria-sort": sorted === c.sort ? (order === "asc" ? "ascending" : "descending") : "none" },
        el("button", { type: "button", class: "sort", dataset: { sort: c.sort }, onclick: () => sortBy(c) },
          c.title, sorted === c.sort ? (order === "asc" ? " ▲" : " ▼") : ""))),
      el("th", { scope: "col" }, "Listen"), el("th", { scope: "col" }, ""));
    const body = page.rows.map((r) => {
      const box = el("input", { type: "checkbox", class: "tick", "aria-label": `Tick ${r.name}`, checked: ticked.has(r.id) });
      box.addEventListener("change", () => { box.checked ? ticked.add(r.id) : ticked.delete(r.id); publish(); });
      const listen = el("button", { type: "button", class: "play", "aria-label": `Play ${r.name}`, onclick: () => {
        const audio = player(r.audio_url, `Play ${r.name}`, { preload: "auto" });
        listen.replaceWith(audio);
        audio.play().catch(() => {});
      } }, "▶");
      const open = el("button", { type: "button", class: "open", onclick: () => context.analyse(r.id, status) }, "Open the analysis");
      return el("tr", { dataset: { clip: r.id } }, el("td", {}, box),
        COLUMNS.map((c) => el("td", { class: `col-${c.key}`, title: c.key === "name" ? r.path : null }, c.show ? c.show(r) : r[c.key])),
        el("td", {}, listen), el("td", {}, open));
    });
    clear(tableBox, el("table", { id: "clip-table", class: "clip-table" }, el("thead", {}, head), el("tbody", {}, body)),
      page.rows.length ? null : el("p", { class: "muted" }, "No clip passes these filters."));
    const from = page.total ? page.offset + 1 : 0, to = page.offset + page.rows.length;
    clear(pager,
      el("button", { type: "button", id: "table-previous", disabled: page.offset === 0,
        onclick: () => go({ offset: String(Math.max(0, page.offset - PAGE)) }) }, "← Previous"),
      el("span", { id: "table-count", role: "status" }, `rows ${from}–${to} of ${page.total}` +
        (page.total !== page.n_clips ? ` (of ${page.n_clips} clips)` : "")),
      el("button", { type: "button", id: "table-next", disabled: to >= page.total,
        onclick: () => go({ offset: String(page.offset + PAGE) }) }, "Next →"));
    drawSelectionBar(page);
  }

  function publish() {
    setSelection(source(), [...ticked], `${ticked.size} clips ticked in the table`);
  }

  function drawSelectionBar(page) {
    const conceptName = el("input", { type: "text", id: "selection-concept-name", maxlength: "80", placeholder: "concept name", "aria-label": "Name of the concept" });
    clear(selectionBar,
      el("span", { id: "selection-count" }, `${ticked.size} ticked`),
      el("button", { type: "button", id: "table-tick-all", onclick: async () => {
        const all = await withBusy(selectionBar, "Ticking…", () => postJSON("/api/table", tableQuery({ offset: 0, limit: 1, with_ids: true })));
        if (!all) return;
        all.matching_ids.forEach((id) => ticked.add(id));
        publish();
      } }, `Tick all ${page.total} that pass the filters`),
      el("button", { type: "button", id: "table-untick", onclick: () => { ticked.clear(); publish(); } }, "Untick all"),
      el("a", { id: "table-only-selected", href: address({ selected: "1", offset: "" }), onclick: (e) => {
        e.preventDefault(); publish(); go({ selected: "1", offset: "" });
      } }, "Show only the ticked"),
      conceptName,
      el("button", { type: "button", id: "table-make-concept", onclick: async () => {
        const name = conceptName.value.trim();
        if (!name) { showMessage("Name the concept first."); conceptName.focus(); return; }
        if (!ticked.size) { showMessage("Tick the clips the concept is made of first."); return; }
        try {
          const made = await postJSON("/api/concepts", { name, description: `made from ${ticked.size} clips of ${source()}`, clip_ids: [...ticked] });
          showMessage(`The concept “${made.name}” was made from ${made.n_clips} clips; test it in the Concepts tab.`, "info");
          selectionBar.dataset.concept = made.id;
        } catch (error) {
          showMessage(error.message);
        }
      } }, "Make a concept"),
      el("button", { type: "button", id: "table-export", onclick: exportCsv }, "Export CSV"),
      el("button", { type: "button", id: "table-compare", onclick: () => {
        if (!ticked.size) { showMessage("Tick the clips to compare the models on first."); return; }
        publish(); location.hash = "#/compare?source=selection";
      } }, "Compare two models"));
  }

  async function exportCsv() {
    const q = tableQuery();
    if (ticked.size) q.ids = [...ticked];
    const response = await fetch("/api/table.csv", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(q) });
    if (!response.ok) { showMessage("The table could not be exported."); return; }
    const url = URL.createObjectURL(await response.blob());
    const a = el("a", { href: url, download: `auralens-${source().replace(":", "-")}.csv` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  // -- prototype usage ---------------------------------------------------------------------
  async function loadUsage() {
    const q = new URLSearchParams({ source: source() });
    if (context.modelId && !source().startsWith("collection:")) q.set("model", context.modelId);
    const usage = await withBusy(usageBox, "Counting…", () => getJSON(`/api/usage?${q}`));
    if (!usage) return;
    const top = Math.max(1, ...usage.prototypes.map((p) => p.n_clips));
    const counts = (o) => Object.entries(o).map(([k, n]) => `${pretty(k)} ${n}`).join(", ");
    clear(usageBox,
      el("p", { class: "hint" }, `${usage.n_analysed} of ${usage.n_clips} clips analysed. Each clip counts once, for the prototype that re-creates it best; click a prototype to see its clips in the table.`),
      el("ol", { id: "usage-list", class: "usage-list" }, usage.prototypes.map((p) => el("li", { dataset: { prototype: p.index, count: p.n_clips } },
        el("button", { type: "button", class: "usage-open", onclick: () => { go({ prototype: String(p.index), offset: "" }); tableBox.scrollIntoView(); } },
          `Prototype ${p.index} · ${pretty(p.label)}`),
        el("span", { class: "bar", "aria-hidden": "true" }, el("span", { style: `width: ${(100 * p.n_clips) / top}%` })),
        el("span", { class: "usage-count" }, `${p.n_clips} clip${p.n_clips === 1 ? "" : "s"} (${percent(p.share, 0)})`),
        el("span", { class: "muted" }, ` · mean error ${p.mean_error.toFixed(4)}`),
        el("div", { class: "muted" }, `labels: ${counts(p.by_label) || "none"} · heard as: ${counts(p.by_prediction)}` +
          (Object.keys(p.tags).length ? ` · tags: ${counts(p.tags)}` : ""))))),
      usage.unused.length ? el("p", { id: "usage-unused" }, `Explain no clip best: ${usage.unused.map((p) => `${p.index} (${pretty(p.label)})`).join(", ")}.`) : null,
      usage.confusions.length ? el("details", { id: "usage-confusions" },
        el("summary", {}, `Where label and prediction differ (${usage.confusions.reduce((a, c) => a + c.n_clips, 0)} clips)`),
        el("ul", {}, usage.confusions.map((c) => el("li", {},
          el("button", { type: "button", class: "quiet", onclick: () => go({ label: c.label, prediction: c.prediction, prototype: String(c.prototype), offset: "" }) },
            `${c.n_clips} labelled ${pretty(c.label)}, heard as ${pretty(c.prediction)}, won by prototype ${c.prototype} (${pretty(c.prototype_label)})`))))) : null);
  }

  return {
    async show(newParams = {}) {
      if (!built) build();
      const changedSource = (newParams.source || "corpus") !== source() || !lastPage;
      params = { ...newParams };
      if (changedSource) ticked.clear();
      const s = getSelection();
      if (s.source === source()) s.ids.forEach((id) => ticked.add(id));
      await loadCollections();
      sourceSelect.value = source();
      await Promise.all([loadTable(), changedSource || !usageBox.childElementCount ? loadUsage() : null]);
    },
  };
}

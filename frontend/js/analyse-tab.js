// The Analyse tab: bring a clip (upload, corpus, microphone), see and hear how the model
// explains it: the prediction, the winning prototype step by step with its transformation
// curves, the timeline, and the clip as every class's prototype would render it.
import { deleteJSON, followJob, getAllClips, getJSON, patchJSON, postJSON, query, uploadFile } from "./api.js";
import {
  abSwitch, clear, el, percent, player, pretty, progressBar, prototypeTitle, referenceMidi, rovingItems, seconds, showMessage,
  STAGE_NAMES, withBusy,
} from "./ui.js";
import { curvesPlot, dbRange, drawSpectrogram, rankingChart, spectrogramPlot, timelinePlot } from "./plots.js";
import { attachSpectrogramHover } from "./hover.js";
import { openWhatIf } from "./whatif.js";
import { startRecording } from "./recorder.js";
import { confidenceWords, errorWords } from "./words.js";
import { clipComparisonLink, otherModel, sourceComparisonLink } from "./compare-view.js";

const TAG_KEYS = ["family", "register", "dynamics", "articulation"];
const ACCEPT = "audio/*,.wav,.flac,.ogg,.oga,.opus,.mp3";

// At most `n` requests at a time (the server has two model workers).
function limiter(n) {
  let active = 0;
  const waiting = [];
  const next = () => {
    if (active >= n || !waiting.length) return;
    active++;
    const { task, resolve, reject } = waiting.shift();
    task().then(resolve, reject).finally(() => { active--; next(); });
  };
  return (task) => new Promise((resolve, reject) => { waiting.push({ task, resolve, reject }); next(); });
}

export function createAnalyseTab(panel, context) {
  const { bundle } = context;
  let current = null, rendering = null, focusAnalysis = false, shownClip = null;

  // -- bringing a clip ----------------------------------------------------------------------
  // the drop zone and the label open it; as a Tab stop of its own it would be an invisible one
  const fileInput = el("input", { type: "file", id: "file-input", accept: ACCEPT, class: "visually-hidden", tabindex: "-1" });
  const drop = el("div", { class: "drop", id: "drop-zone", tabindex: "0", role: "button",
    "aria-label": "Upload a recording: drop a file here or press Enter to choose one" },
    el("strong", {}, "Drop a recording here"), el("span", {}, " or "),
    el("label", { for: "file-input", class: "button-link" }, "choose a file"),
    el("p", { class: "hint" }, "WAV, FLAC, Ogg, Opus or MP3; a few seconds is plenty."));
  const recordButton = el("button", { type: "button", id: "record" }, "● Record from the microphone");
  const inputStatus = el("div", { class: "input-status" });
  const modelSelect = el("select", { id: "analyse-model" },
    bundle.models.map((m) => el("option", { value: m.id }, m.id)));
  modelSelect.addEventListener("change", () => context.setModel(modelSelect.value));
  context.onModel((id) => { modelSelect.value = id; });

  const classSelect = el("select", { id: "corpus-class" }, el("option", { value: "" }, "any class"),
    bundle.classes.map((c) => el("option", { value: c }, pretty(c))));
  const tagSelect = el("select", { id: "corpus-tag" }, el("option", { value: "" }, "any"));
  const corpusList = el("ul", { class: "clip-list corpus", id: "corpus-list" });
  const uploadsList = el("ul", { class: "clip-list", id: "uploads-list" });
  rovingItems(corpusList, "li");
  rovingItems(uploadsList, "li");
  const classNames = el("datalist", { id: "class-names" }, bundle.classes.map((c) => el("option", { value: pretty(c) })));
  const result = el("div", { class: "analysis", id: "analysis" });

  const chooser = el("details", { class: "chooser", open: true },
    el("summary", {}, "Choose a clip"),
    el("div", { class: "bring" },
      el("div", {}, el("h3", {}, "Your own recording"), drop, fileInput, recordButton),
      el("div", {}, el("h3", {}, "From the corpus"),
        compareSourceLink("corpus", "Do two models agree on the whole corpus?"),
        el("div", { class: "toolbar" },
          el("label", { for: "corpus-class" }, "Class "), classSelect,
          el("label", { for: "corpus-tag" }, "Tag "), tagSelect),
        corpusList),
      el("div", {}, el("h3", {}, "Your earlier uploads"), uploadsList,
        compareSourceLink("uploads", "Do two models agree on your uploads?"), classNames)));
  clear(panel,
    el("div", { class: "toolbar" }, el("label", { for: "analyse-model" }, "Model "), modelSelect),
    chooser, inputStatus, result);

  // A link to two models compared on a source: the model in use and the other one.
  function compareSourceLink(source, text) {
    const link = el("a", { href: "#/compare", class: "compare-source-link", dataset: { source } }, text);
    link.addEventListener("click", () => { link.href = sourceComparisonLink(source, context.modelId, otherModel(bundle, context.modelId)?.id); });
    return el("p", { class: "hint" }, link);
  }

  // Analyse a clip (a new analysis is stored) and open it as a new entry in the history, so
  // that Back returns to where the user was; the busy note shows in `where`.
  async function analyseClip(clipId, where = inputStatus) {
    const analysis = await withBusy(where, "Analysing…",
      () => postJSON("/api/analyses", { clip_id: clipId, model: context.modelId }));
    if (!analysis) return;
    focusAnalysis = true;
    location.hash = `#/analyses/${analysis.id}`;
  }

  // `#/analyse?clip=<id>` offers that clip; only the button writes an analysis.
  async function offerClip(clipId) {
    const clip = await getJSON(`/api/clips/${encodeURIComponent(clipId)}`).catch((e) => { showMessage(e.message); return null; });
    if (!clip) return;
    chooser.open = true;
    const go = el("button", { type: "button", id: "analyse-offered", onclick: () => analyseClip(clip.id) },
      `Analyse “${clip.name}”`);
    clear(result, el("section", { class: "summary offered" },
      el("h2", {}, clip.label ? `${pretty(clip.label)} · ${clip.name}` : clip.name),
      el("div", { class: "row" }, player(clip.audio_url, `Play ${clip.name}`), go)));
    current = null;
    go.focus();
  }

  async function uploadAndAnalyse(file, name) {
    const sent = await withBusy(inputStatus, `Uploading ${name || file.name}…`, () => uploadFile(file, name));
    if (sent) {
      const { clip, again } = sent;
      showMessage(again ? `This file was uploaded before, as “${clip.name}”; that clip is analysed.`
        : `“${clip.name}” uploaded (${seconds(clip.duration_s)}).`, "info");
      loadUploads();
      await analyseClip(clip.id);
    }
  }

  fileInput.addEventListener("change", () => {
    if (fileInput.files.length) uploadAndAnalyse(fileInput.files[0]);
    fileInput.value = "";
  });
  drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); fileInput.click(); } });
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    const file = e.dataTransfer.files[0];
    if (file) uploadAndAnalyse(file);
  });

  let recording = null, ticker = null;
  recordButton.addEventListener("click", async () => {
    if (!recording) {
      try {
        recording = await startRecording();
      } catch (error) {
        showMessage(error.message);
        return;
      }
      recordButton.classList.add("recording");
      ticker = setInterval(() => { recordButton.textContent = `■ Stop recording (${recording.elapsed().toFixed(0)} s)`; }, 250);
      recordButton.textContent = "■ Stop recording";
      return;
    }
    clearInterval(ticker);
    const done = recording;
    recording = null;
    recordButton.classList.remove("recording");
    recordButton.textContent = "● Record from the microphone";
    try {
      const file = await done.stop();
      await uploadAndAnalyse(file, file.name);
    } catch (error) {
      showMessage(error.message);
    }
  });

  function clipItem(clip) {
    const tags = TAG_KEYS.map((k) => clip.tags[k]).filter(Boolean).join(", ");
    return el("li", { dataset: { clip: clip.id } },
      el("span", { class: "name" }, clip.label ? `${pretty(clip.label)} · ${clip.name}` : clip.name,
        el("span", { class: "muted" }, ` ${seconds(clip.duration_s)}${tags ? " · " + tags : ""}`)),
      player(clip.audio_url, `Play ${clip.name}`),
      el("button", { type: "button", onclick: () => analyseClip(clip.id) }, "Analyse"));
  }

  async function loadCorpus() {
    const q = query({ origin: "corpus", label: classSelect.value, tag: tagSelect.value, limit: 60 });
    const list = await getJSON(`/api/clips${q}`).catch((e) => { showMessage(e.message); return null; });
    if (!list) return;
    clear(corpusList, list.clips.length ? list.clips.map(clipItem) : el("li", { class: "muted" }, "No corpus clip matches."));
  }
  async function loadUploads() {
    const list = await getJSON("/api/clips?origin=upload&limit=50").catch(() => null);
    if (!list) return;
    clear(uploadsList, list.clips.length ? list.clips.map(uploadItem) : el("li", { class: "muted" }, "Nothing uploaded yet."));
  }

  // An upload in the list: as a clip, with "Rename or label" and "Delete" (after a confirmation).
  function uploadItem(clip) {
    const item = clipItem(clip);
    const name = item.querySelector(".name");
    const edit = el("button", { type: "button", class: "quiet-button", onclick: () => editing() }, "Rename or label");
    const remove = el("button", { type: "button", class: "quiet-button", onclick: () => confirming() }, "Delete");
    const tools = el("span", { class: "upload-tools" }, edit, remove);
    item.append(tools);
    const back = (focus) => { clear(tools, edit, remove); name.hidden = false; focus.focus(); };

    function editing() {
      const nameField = el("input", { type: "text", value: clip.name, maxlength: "200", "aria-label": `New name of ${clip.name}` });
      const labelField = el("input", { type: "text", value: clip.label || "", maxlength: "200", list: "class-names",
        placeholder: "what it is, e.g. cello", "aria-label": `Label of ${clip.name}` });
      const save = el("button", { type: "button", onclick: async () => {
        const changed = await patchJSON(`/api/clips/${encodeURIComponent(clip.id)}`,
          { name: nameField.value, label: labelField.value.trim() || null }).catch((e) => { showMessage(e.message); return null; });
        if (!changed) return;
        showMessage(`Saved: “${changed.name}”${changed.label ? ` (${changed.label})` : ""}.`, "info");
        await loadUploads();
        uploadsList.querySelector(`li[data-clip="${CSS.escape(clip.id)}"] .upload-tools button`)?.focus();
      } }, "Save");
      const cancel = el("button", { type: "button", onclick: () => back(edit) }, "Cancel");
      name.hidden = true;
      clear(tools, el("span", { class: "row edit-clip" }, nameField, labelField, save, cancel));
      nameField.focus();
    }

    function confirming() {
      const n = clip.n_analyses || 0;
      const yes = el("button", { type: "button", class: "danger", onclick: async () => {
        const done = await deleteJSON(`/api/clips/${encodeURIComponent(clip.id)}`).catch((e) => { showMessage(e.message); return null; });
        if (!done) { back(remove); return; }
        showMessage(`“${clip.name}” deleted${done.analyses_deleted ? ` with its ${done.analyses_deleted} ${done.analyses_deleted === 1 ? "analysis" : "analyses"}` : ""}.`, "info");
        if (shownClip === clip.id) { // the analysis shown has gone with it
          current = null; shownClip = null; clear(result); chooser.open = true;
          history.replaceState(null, "", "#/analyse");
        }
        await loadUploads();
        uploadsList.querySelector("button, [tabindex='0']")?.focus();
      } }, "Delete");
      const no = el("button", { type: "button", onclick: () => back(remove) }, "Keep it");
      clear(tools, el("span", { class: "confirm", role: "alert" },
        `Delete “${clip.name}”${n ? ` and its ${n} ${n === 1 ? "analysis" : "analyses"}` : ""}? This cannot be undone. `, yes, no));
      no.focus();
    }
    return item;
  }
  async function loadTagOptions() {
    const all = await getAllClips("origin=corpus").catch(() => ({ clips: [] }));
    for (const key of TAG_KEYS) {
      const values = [...new Set(all.clips.map((c) => c.tags[key]).filter(Boolean))].sort();
      if (!values.length) continue;
      tagSelect.append(el("optgroup", { label: key }, values.map((v) => el("option", { value: `${key}=${v}` }, v))));
    }
  }
  classSelect.addEventListener("change", loadCorpus);
  tagSelect.addEventListener("change", loadCorpus);
  let loaded = false;
  async function loadLists() {
    if (loaded) return;
    loaded = true;
    await Promise.all([loadTagOptions(), loadCorpus(), loadUploads()]);
  }

  // -- showing an analysis ---------------------------------------------------------------------
  async function renderAnalysis(a) {
    const clip = await getJSON(`/api/clips/${encodeURIComponent(a.clip_id)}`);
    shownClip = clip.id;
    const model = bundle.models.find((m) => m.id === a.model);
    const latent = model?.shows.reconstructions === false;
    const summary = summarySection(a, clip, bundle.embedding_spaces.length > 0,
      confidenceWords(model?.metrics, bundle.evaluations?.[a.model]));
    const other = otherModel(bundle, a.model);
    if (other) summary.append(el("p", { class: "row" }, el("a", { href: clipComparisonLink(clip.id, a.model, other.id),
      class: "button-link", id: "to-compare" }, `Compare with ${other.id}`)));
    // the reference for a re-creation error: the model's mean on its test clips at that stage
    const typical = (stage) => model?.metrics?.stages?.[stage]?.reconstruction_error ?? model?.metrics?.reconstruction_error;
    const ranking = el("div", { class: "chart", id: "prediction-chart" });
    const timeline = el("div", { class: "chart", id: "timeline" });
    if (latent) {
      await renderLatent(a, summary, ranking, timeline);
      return;
    }
    const stages = model ? model.stages : Object.keys(a.prototypes[0].stage_errors || {}).filter((s) => a.prototypes[0].stage_errors[s] !== null);
    const ranked = [...a.prototypes].sort((p, q) => p.error - q.error);
    const recons = reconstructionsOf(a.id);
    const steps = stepsSection(a, clip, stages, ranked, recons, typical);
    const crossGrid = el("div", { class: "grid recon", id: "cross-class" });
    rovingItems(crossGrid, "article");
    clear(result,
      summary,
      rankingSection(ranking),
      steps.section,
      timelineSection(a, timeline, "Which prototype explains each moment"),
      el("section", {}, el("h2", {}, "Your clip as every prototype would render it"),
        el("p", { class: "hint" }, "Best re-creation first. “A/B” switches between your original and the re-creation at the same moment. " +
          "Keyboard: Tab reaches one card, the arrow keys move between cards."),
        crossGrid));
    rankingChart(ranking, a.prediction);
    if (a.timeline.length > 1) timelinePlot(timeline, a.timeline);
    const cards = crossClassCards(ranked, stages[stages.length - 1], recons, typical, (k) => {
      steps.show(k).catch((e) => showMessage(e.message));
      steps.heading.scrollIntoView({ behavior: "smooth" });
    });
    clear(crossGrid, cards);
    // the winner's steps first, then the grid, best first, a few requests at a time
    const shown = steps.show(ranked[0].index);
    Promise.all(cards.map((c) => c.load())).catch(() => {});
    await shown;
  }

  // A latent prototype model: how close the clip is to each prototype, and the prototypes heard.
  async function renderLatent(a, summary, ranking, timeline) {
    const prototypes = await getJSON(`/api/models/${encodeURIComponent(a.model)}/prototypes`);
    const byIndex = Object.fromEntries(prototypes.map((p) => [p.index, p]));
    const ranked = [...a.prototypes].sort((p, q) => q.similarity - p.similarity);
    const similarity = el("div", { class: "chart", id: "similarity-chart" });
    const grid = el("div", { class: "grid recon", id: "cross-class" });
    rovingItems(grid, "article");
    clear(result, summary,
      rankingSection(ranking),
      el("section", {}, el("h2", {}, "How close your clip is to each prototype"),
        el("p", { class: "hint" }, "This model places every clip in a learned space and compares it with a few prototypes " +
          "per class; the closest ones decide. Similarity is exp(−distance): 1 would be identical."),
        similarity),
      timelineSection(a, timeline, "Which prototype is closest at each moment"),
      el("section", {}, el("h2", {}, "The prototypes, closest first"),
        el("p", { class: "hint" }, "Each prototype decoded into sound, and the training clip nearest to it. " +
          "“A/B” switches between your original and the decoded prototype."),
        grid));
    rankingChart(ranking, a.prediction);
    rankingChart(similarity, ranked.slice(0, 10).map((p) => ({ label: `${p.label} (prototype ${p.index})`, score: p.similarity })),
      { axisTitle: "similarity to your clip", asPercent: false });
    if (a.timeline.length > 1) timelinePlot(timeline, a.timeline);
    clear(grid, ranked.map((p, i) => decodedPrototypeCard(p, i, byIndex[p.index])));
  }

  async function open(analysisId) {
    loadLists();
    if (analysisId === current) return rendering;
    current = analysisId;
    chooser.open = false;
    clear(result);
    rendering = withBusy(result, "Loading the analysis…", async () => {
      const a = await getJSON(analysisPath(analysisId));
      if (a.model !== context.modelId && bundle.models.some((m) => m.id === a.model)) context.setModel(a.model);
      await renderAnalysis(a);
      document.body.dataset.analysis = a.id;
      if (focusAnalysis) result.querySelector(".summary h2")?.focus(); // after "Analyse": to what it made
      focusAnalysis = false;
      return true;
    });
    if ((await rendering) !== true) current = null; // a failed load may be retried
    return rendering;
  }

  return {
    get current() { return current; },
    async show(params = {}) {
      await loadLists();
      chooser.open = true; // "#/analyse": choosing a clip
      if (params.clip) await offerClip(params.clip);
    },
    open,
    analyseClip,
  };
}

// -- the sections of an analysis ---------------------------------------------------------------

const analysisPath = (id) => `/api/analyses/${encodeURIComponent(id)}`;
const originalAudio = () => document.getElementById("original-audio");

// The reconstructions of analysis `id`: `json(k, stage)` fetches prototype k's at a stage (at
// most three requests at a time), `audioUrl(k, stage)` is where its sound is.
function reconstructionsOf(id) {
  const fetchLimited = limiter(3);
  const base = analysisPath(id);
  return {
    json: (k, stage) => fetchLimited(() => getJSON(`${base}/reconstructions/${k}?stage=${stage}`)),
    audioUrl: (k, stage) => `${base}/reconstructions/${k}/audio.wav?stage=${stage}`,
  };
}

// The permalink of analysis `id` in a read-only field, and a button that copies it.
function permalinkControls(id) {
  const link = `${location.origin}${location.pathname}#/analyses/${id}`;
  const linkField = el("input", { type: "text", readonly: true, value: link, id: "permalink", "aria-label": "Link to this analysis" });
  const copy = el("button", { type: "button", onclick: async () => {
    try { await navigator.clipboard.writeText(link); showMessage("Link copied.", "info"); } catch { linkField.select(); }
  } }, "Copy link");
  return [linkField, copy];
}

// The export of analysis `id`: a button that prepares the zip (what the page shows: the analysis
// as JSON, curves and spectrograms as numbers, figures as SVG, the sounds) with a progress bar,
// and the box where the bar and then the download link appear.
function exportControls(id) {
  const box = el("div", { class: "export" });
  const button = el("button", { type: "button", id: "export", onclick: async () => {
    button.disabled = true;
    const bar = progressBar("Preparing the export");
    clear(box, bar);
    try {
      const started = await postJSON(`${analysisPath(id)}/export`, {});
      const done = await followJob(started.job_id, bar.update);
      clear(box, el("a", { href: done.download_url, download: `auralens-${id}.zip`, id: "export-link", class: "button-link" },
        `Download the export (${(done.bytes / 2 ** 20).toFixed(1)} MB: the analysis as JSON, curves as CSV, ` +
        "spectrograms as JSON, figures as SVG, the sounds as WAV)"));
    } catch (error) {
      clear(box);
      showMessage(error.message);
    } finally {
      button.disabled = false;
    }
  } }, "Export (numbers, figures and sounds)");
  return { button, box };
}

// The trust verdict an analysis may carry ({verdict: "unlike"|"like", message}, or an older
// {familiar, sentence}), read defensively: {unlike, message}, or null when there is none.
function trustOf(a) {
  const t = a.trust;
  if (!t || typeof t !== "object") return null;
  const message = typeof t.message === "string" ? t.message : typeof t.sentence === "string" ? t.sentence : "";
  if (!message.trim()) return null;
  const unlike = t.verdict !== undefined ? t.verdict === "unlike" : t.familiar === false;
  return { unlike, message };
}

// The top of analysis `a` of `clip`: the verdict, the original's player, the permalink, the
// export and, when the bundle has embedding spaces (`withNeighbours`), a way to similar clips.
function summarySection(a, clip, withNeighbours, meaning) {
  const trust = trustOf(a);
  const original = player(clip.audio_url, `Play the original: ${clip.name}`, { preload: "auto" });
  original.id = "original-audio";
  const [linkField, copy] = permalinkControls(a.id);
  const exporting = exportControls(a.id);
  const top = a.prediction[0];
  return el("section", { class: "summary" },
    el("h2", { tabindex: "-1" }, `Analysis of “${clip.name}”`),
    trust ? el("p", { class: `trust ${trust.unlike ? "unfamiliar" : "familiar"}`, id: "trust", role: trust.unlike ? "alert" : "note",
      dataset: { verdict: trust.unlike ? "unlike" : "like" } }, trust.unlike ? el("strong", {}, "Take care: ") : null, trust.message) : null,
    el("p", { class: "verdict", id: "verdict" },
      `The model hears ${/^[aeiou]/.test(top.label) ? "an" : "a"} `, el("strong", {}, pretty(top.label)),
      ` (${percent(top.score)} sure)${trust?.unlike ? ", though the clip is unlike what it knows (see above)" : ""}.`),
    el("p", { class: "hint", id: "confidence-meaning" }, meaning),
    el("p", { class: "muted" }, `${seconds(clip.duration_s)} · ${clip.origin === "corpus" ? `corpus clip (${pretty(clip.label)})` : "your upload"} · model ${a.model} · ${a.created.replace("T", " ").slice(0, 16)} UTC`),
    el("div", { class: "row" }, el("span", {}, "Original: "), original),
    el("div", { class: "row" }, linkField, copy, exporting.button,
      withNeighbours ? el("a", { href: `#/neighbours?clip=${encodeURIComponent(clip.id)}`, class: "button-link",
        id: "to-neighbours" }, "Find similar clips") : null), exporting.box);
}

// The class ranking, around the chart element `ranking`.
function rankingSection(ranking) {
  return el("section", {}, el("h2", {}, "What the model hears"), ranking);
}

// The timeline of analysis `a` under `title`, around the chart element `timeline`; none for a
// clip of a single window.
function timelineSection(a, timeline, title) {
  return a.timeline.length > 1 ? el("section", {}, el("h2", {}, title), timeline) : null;
}

// One stage of prototype `p`'s re-creation: caption with its error, an empty plot for its
// spectrogram, and its sound at `audioUrl`.
function stageFigure(p, stage, audioUrl, typical) {
  const plot = el("div", { class: "plot" });
  const err = p.stage_errors[stage];
  const audio = player(audioUrl, `Play the ${pretty(p.label)} prototype: ${STAGE_NAMES[stage] || stage}`);
  const cell = el("figure", { class: "stage", dataset: { stage } },
    el("figcaption", {}, el("strong", {}, STAGE_NAMES[stage] || stage),
      el("span", { class: "muted" }, " ", errorWords(err, typical(stage)))),
    plot, audio);
  return { plot, cell, audio };
}

// what each of the model's stages does to the prototype, in the order it takes them
const STEP_WORDS = { raw: "first as it is", gain: "made louder or softer over time", pitch: "shifted in pitch",
  filters: "filtered" };

function stepsHint(stages) {
  const told = stages.map((s) => STEP_WORDS[s] || s).join(", then ");
  return `The prototype is transformed step by step to re-create your clip: ${told}. Each step has its spectrogram and its sound.`;
}

// The chosen prototype step by step: a spectrogram and a sound per stage of its re-creation
// of `clip`, then the transformation curves of the last stage under the clip's spectrogram.
// Returns the section, its heading, and `show(k)`, which shows prototype k (a promise; a
// later call wins over an earlier one still loading).
function stepsSection(a, clip, stages, ranked, recons, typical) {
  const heading = el("h2", {});
  const pick = el("select", { id: "prototype-select", "aria-label": "Prototype to look at" },
    ranked.map((p, i) => el("option", { value: p.index }, `${i + 1}. ${pretty(p.label)} (prototype ${p.index})`)));
  const whatIf = el("button", { type: "button" }, "What if…");
  const stageRow = el("div", { class: "stages", id: "stages" });
  const curves = el("div", { class: "chart", id: "curves" });
  const range = dbRange(clip.spectrogram); // the same colours on every spectrogram of the analysis...
  const rangeText = (r) => `${r[0]} dB (black) to ${r[1] > 0 ? "+" : ""}${r[1]} dB (pale yellow)`;
  const colours = el("p", { class: "hint", id: "colour-range" });
  const section = el("section", {}, heading,
    el("p", { class: "hint" }, stepsHint(stages)),
    el("div", { class: "toolbar" }, el("label", { for: "prototype-select" }, "Prototype "), pick, whatIf),
    colours,
    stageRow,
    el("h3", {}, "How it was transformed over time"),
    el("p", { class: "hint" }, "Under your clip's spectrogram: the gain (dB)" +
      (stages.includes("filters") ? ", " : " and ") + "the pitch shift (semitones, or the note played " +
      "when the prototype has a reference pitch)" + (stages.includes("filters") ? " and the filter cut-offs (Hz)" : "") +
      " the model chose, frame by frame."),
    curves);

  let showing = 0;
  async function show(k) {
    const mine = ++showing;
    const p = a.prototypes.find((q) => q.index === k);
    pick.value = String(k);
    whatIf.onclick = () => openWhatIf(a.model, p);
    heading.textContent = `Step by step: how the ${pretty(p.label)} prototype re-creates your clip`;
    const cells = stages.map((stage) => stageFigure(p, stage, recons.audioUrl(k, stage), typical));
    clear(stageRow, cells.map((c) => c.cell));
    const recs = await Promise.all(stages.map((s) => recons.json(k, s)));
    if (mine !== showing) return;
    // ...but the prototype alone, far quieter than the clip before its gain, at its own level
    const own = dbRange(recs[0].spectrogram);
    colours.textContent = `Colours: from ${rangeText(range)} on every spectrogram of this analysis` +
      (stages[0] === "raw" ? `, except the prototype alone, at its own level: ${rangeText(own)}` : "") +
      ". Click a spectrogram to hear it from that moment.";
    recs.forEach((rec, i) => spectrogramPlot(cells[i].plot, rec.spectrogram,
      { height: 210, showscale: false, range: stages[i] === "raw" ? own : range, audio: cells[i].audio }));
    curvesPlot(curves, clip.spectrogram, recs[recs.length - 1].transforms,
      { range, audio: document.getElementById("original-audio"), referenceMidi: referenceMidi(recs[recs.length - 1].transforms, p) });
  }
  pick.addEventListener("change", () => show(Number(pick.value)).catch((e) => showMessage(e.message)));
  return { section, heading, show };
}

// The cross-class grid: a card per prototype of `ranked` (best first) with the clip as it
// re-creates it at `finalStage`, its sound, A/B and a button that calls `showSteps(k)`. Each
// card's `load()` fetches and draws its spectrogram.
function crossClassCards(ranked, finalStage, recons, typical, showSteps) {
  return ranked.map((p, i) => {
    const canvas = el("canvas", { class: "thumb", role: "img", "aria-label": `Your clip as the ${pretty(p.label)} prototype renders it` });
    const audio = player(recons.audioUrl(p.index, finalStage), `Play your clip as the ${pretty(p.label)} prototype (${p.index}) renders it`);
    const ab = abSwitch(audio, originalAudio);
    const card = el("article", { class: "card recon", dataset: { prototype: p.index } },
      el("h3", {}, el("span", { class: "rank" }, `${i + 1}.`), ` ${prototypeTitle(p)}`,
        el("span", { class: "muted" }, prototypeTitle(p).includes("prototype") ? ` (no. ${p.index})` : ` prototype ${p.index}`)),
      el("p", { class: "muted" }, errorWords(p.error, typical(finalStage))),
      canvas, audio,
      el("div", { class: "row" }, ab, el("button", { type: "button", onclick: () => showSteps(p.index) }, "Show its steps")));
    card.load = async () => {
      const rec = await recons.json(p.index, finalStage);
      drawSpectrogram(canvas, rec.spectrogram);
      attachSpectrogramHover(canvas, rec.spectrogram);
    };
    return card;
  });
}

// A latent model's prototype `p`, `i`-th closest: its decoded spectrogram and the sounds of
// `proto` (decoded, nearest training clip), with A/B against the original.
function decodedPrototypeCard(p, i, proto) {
  const canvas = el("canvas", { class: "thumb", role: "img", "aria-label": `The decoded ${pretty(p.label)} prototype` });
  drawSpectrogram(canvas, proto.spectrogram);
  attachSpectrogramHover(canvas, proto.spectrogram);
  const audios = proto.renderings.map((r) => el("div", { class: "rendering", title: r.description },
    el("span", { class: "muted" }, r.name === "decoded" ? "Decoded prototype" : "Nearest training clip"),
    player(r.audio_url, `Play the ${pretty(p.label)} prototype (${p.index}): ${r.description}`)));
  return el("article", { class: "card recon", dataset: { prototype: p.index } },
    el("h3", {}, el("span", { class: "rank" }, `${i + 1}.`), ` ${pretty(p.label)}`, el("span", { class: "muted" }, ` prototype ${p.index}`)),
    el("p", { class: "muted" }, `similarity ${p.similarity.toFixed(3)}`),
    canvas, audios, abSwitch(audios[0]?.querySelector("audio"), originalAudio));
}

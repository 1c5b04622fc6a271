// The page: header, tabs, and the address bar as the source of truth (#/model,
// #/analyse, #/analyses/<id>, #/neighbours, #/concepts, #/collections, #/map), so every view can be reloaded or shared.
import { getJSON } from "./api.js";
import { showMessage } from "./ui.js";
import { axisControls } from "./axis-controls.js";
import { createModelTab } from "./model-tab.js";
import { createAnalyseTab } from "./analyse-tab.js";
import { createNeighboursTab } from "./neighbours-tab.js";
import { createConceptsTab } from "./concepts-tab.js";
import { createCollectionsTab } from "./collections-tab.js";
import { createMapTab } from "./map-tab.js";
import { createCompareView } from "./compare-view.js";

const TABS = ["model", "analyse", "neighbours", "concepts", "collections", "map"];
const buttons = Object.fromEntries(TABS.map((t) => [t, document.getElementById(`tab-${t}`)]));
const panels = Object.fromEntries(TABS.map((t) => [t, document.getElementById(`panel-${t}`)]));
const comparePanel = document.getElementById("panel-compare"); // #/compare: a view of its own, reached from other tabs

function select(tab) {
  for (const t of TABS) {
    const on = t === tab;
    buttons[t].setAttribute("aria-selected", String(on));
    buttons[t].tabIndex = on || (tab === null && t === TABS[0]) ? 0 : -1; // none chosen: the first is the Tab stop
    panels[t].hidden = !on;
  }
}

async function start() {
  let health, bundle;
  try {
    [health, bundle] = await Promise.all([getJSON("/api/health"), getJSON("/api/bundle")]);
  } catch (error) {
    document.getElementById("bundle-info").textContent = error.message;
    return;
  }
  const device = health.device.startsWith("cuda") ? "GPU" : "CPU";
  document.getElementById("bundle-info").textContent =
    `${bundle.name} (version ${bundle.version}) · ${bundle.classes.length} classes · ` +
    `${bundle.corpus_size} corpus clips · running on ${device} · auralens ${health.version}`;

  document.querySelector("header.top").append(axisControls());

  // what the tabs share: the bundle and the model in use
  const context = { bundle, health, modelId: bundle.models[0]?.id, listeners: [] };
  context.setModel = (id) => {
    context.modelId = id;
    context.listeners.forEach((f) => f(id));
  };
  context.onModel = (f) => context.listeners.push(f);

  const views = {
    model: createModelTab(panels.model, context),
    analyse: createAnalyseTab(panels.analyse, context),
    neighbours: createNeighboursTab(panels.neighbours, context),
    concepts: createConceptsTab(panels.concepts, context),
    collections: createCollectionsTab(panels.collections, context),
    map: createMapTab(panels.map, context),
  };
  const compareView = createCompareView(comparePanel, context);
  // analyse a clip from any tab (`where` shows the busy note); opens the analysis
  context.analyse = (clipId, where) => views.analyse.analyseClip(clipId, where);

  async function route() {
    const [path, search] = location.hash.replace(/^#\/?/, "").split("?");
    const [first, second] = path.split("/");
    const params = Object.fromEntries(new URLSearchParams(search || ""));
    comparePanel.hidden = first !== "compare";
    if (first === "compare") {
      select(null); // no tab is chosen while two models are compared
      await compareView.show(params);
      return;
    }
    if (first === "analyses" && second) {
      select("analyse");
      await views.analyse.open(decodeURIComponent(second));
      return;
    }
    const tab = TABS.includes(first) ? first : "model";
    select(tab);
    await views[tab].show(params);
  }

  for (const t of TABS) {
    buttons[t].addEventListener("click", () => {
      // the Analyse tab keeps the analysis it shows
      location.hash = t === "analyse" && views.analyse.current ? `#/analyses/${views.analyse.current}` : `#/${t}`;
    });
    buttons[t].addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (!step) return;
      const next = TABS[(TABS.indexOf(t) + step + TABS.length) % TABS.length];
      buttons[next].focus();
      buttons[next].click();
    });
  }
  window.addEventListener("hashchange", () => route().catch((e) => showMessage(e.message)));
  await route();
  document.body.dataset.ready = "true";
}

start().catch((error) => showMessage(error.message || String(error)));

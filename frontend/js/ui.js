// Small DOM helpers and the plain-language formatting of numbers.
import { midiOf } from "./tuning.js";

// el("button", {class: "x", onclick: f}, "text", child...) -> HTMLElement
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

// A message for the person using the page, in the shared alert region.
export function showMessage(text, kind = "error") {
  const region = document.getElementById("messages");
  if (kind !== "error") region.querySelectorAll(".message.error").forEach((m) => m.remove()); // put right
  const note = el("div", { class: `message ${kind}`, role: kind === "error" ? "alert" : "status" },
    el("span", {}, text),
    el("button", { class: "quiet", "aria-label": "Dismiss this message", onclick: () => note.remove() }, "×"));
  region.append(note);
  if (kind !== "error") setTimeout(() => note.remove(), 6000);
  return note;
}

export function clearMessages() {
  document.getElementById("messages").replaceChildren();
}

// Run an async action with a busy note shown in `where`; errors become messages.
export async function withBusy(where, text, action) {
  const note = el("p", { class: "busy", role: "status" }, el("span", { class: "spinner", "aria-hidden": "true" }), text);
  where.append(note);
  try {
    return await action();
  } catch (error) {
    showMessage(error.message || String(error));
    return undefined;
  } finally {
    note.remove();
  }
}

const NOTES = ["C", "C♯", "D", "D♯", "E", "F", "F♯", "G", "G♯", "A", "A♯", "B"];

// A MIDI note number as a note: 57 -> "A3"; 57.3 -> "A3 +30 cents" (whatever the pitch of A4).
export function midiName(midi) {
  if (!Number.isFinite(midi)) return "";
  const nearest = Math.round(midi);
  const cents = Math.round((midi - nearest) * 100);
  const name = `${NOTES[((nearest % 12) + 12) % 12]}${Math.floor(nearest / 12) - 1}`;
  return Math.abs(cents) >= 10 ? `${name} ${cents > 0 ? "+" : "−"}${Math.abs(cents)} cents` : name;
}

// 440 -> "A4"; 452 -> "A4 +47 cents" (with A4 at 440 Hz; the page's setting decides)
export function noteName(hz) {
  return hz > 0 ? midiName(midiOf(hz)) : "";
}

// The reference pitch of a prototype (or of its curves), as a MIDI number, when it has one:
// `reference_midi`, or an older `reference_hz` (A4 = 440 Hz); else null.
export function referenceMidi(...sources) {
  for (const s of sources) {
    if (Number.isFinite(s?.reference_midi)) return s.reference_midi;
    if (s?.reference_hz > 0) return 69 + 12 * Math.log2(s.reference_hz / 440);
  }
  return null;
}

// A prototype's title: "cello prototype, A3" when it has a reference pitch, else "cello";
// with the note as the API names it (`reference_note`) or from its MIDI number.
export function prototypeTitle(p) {
  const midi = referenceMidi(p);
  const note = typeof p.reference_note === "string" && p.reference_note.trim() ? p.reference_note.trim()
    : midi !== null ? midiName(midi) : "";
  return note ? `${pretty(p.label)} prototype, ${note}` : pretty(p.label);
}

export const hz = (f) => (f >= 1000 ? `${(f / 1000).toFixed(f >= 10000 ? 1 : 2)} kHz` : `${Math.round(f)} Hz`);
export const percent = (x, digits = 1) => `${(100 * x).toFixed(digits)} %`;
export const seconds = (s) => `${s.toFixed(s < 10 ? 2 : 1)} s`;
export const db = (x) => `${x > 0 ? "+" : ""}${x.toFixed(1)} dB`;
export const semitones = (x) => `${x > 0 ? "+" : ""}${x.toFixed(1)} semitones`;
export const pretty = (label) => (label || "").replaceAll("_", " ");

export const STAGE_NAMES = {
  raw: "Prototype alone",
  gain: "+ loudness (gain)",
  pitch: "+ pitch shift",
  filters: "+ filters (tone colour)",
};

// An <audio> player with a label people (and screen readers) can read.
export function player(src, label, { preload = "none" } = {}) {
  return el("audio", { controls: true, preload, src, "aria-label": label, title: label });
}

// A moment of a clip, `start`..`end` seconds of the sound at `src`: a button that plays exactly
// that stretch, and the clip's player (opened at the moment, by a media fragment) to hear more.
export function excerptPlayer(src, start, end, label) {
  const audio = el("audio", { controls: true, preload: "none", src: `${src}#t=${start},${end}`, "aria-label": label, title: label });
  let stopAt = null, timer = null;
  const stop = () => {
    if (stopAt !== null && audio.currentTime >= stopAt - 0.01) { audio.pause(); stopAt = null; }
  };
  const watch = () => { // timeupdate alone comes only every quarter second or so
    stop();
    if (stopAt !== null && !audio.paused) timer = requestAnimationFrame(watch);
  };
  audio.addEventListener("playing", () => { cancelAnimationFrame(timer); watch(); });
  audio.addEventListener("pause", () => cancelAnimationFrame(timer));
  const button = el("button", { type: "button", class: "excerpt-play", title: label, onclick: () => {
    stopAt = end;
    audio.currentTime = start;
    audio.play().catch(() => {});
  } }, `▶ ${start.toFixed(2)}–${end.toFixed(2)} s`);
  return el("div", { class: "row excerpt-player" }, button, audio);
}

// One Tab stop for a whole grid or list: the controls of one item (`itemSelector`, children of
// `container`) are in the Tab order, the others' are not; the arrow keys, Home and End move to
// the same control of another item (up and down by a row of the grid). Items may come and go.
const CONTROLS = "button, a[href], audio, input, select, textarea, summary, [tabindex]";
const OWN_ARROWS = "audio, select, textarea, input:not([type=checkbox]):not([type=radio])";

export function rovingItems(container, itemSelector) {
  let active = null;
  const items = () => [...container.children].filter((c) => c.matches(itemSelector));
  const controls = (item) => [...item.querySelectorAll(CONTROLS)];
  const activate = (item) => {
    active = item;
    for (const it of items()) for (const c of controls(it)) c.tabIndex = it === item ? 0 : -1;
  };
  new MutationObserver(() => activate(items().includes(active) ? active : items()[0] || null))
    .observe(container, { childList: true, subtree: true });
  container.addEventListener("focusin", (event) => {
    const item = event.target.closest(itemSelector);
    if (item && item.parentElement === container && item !== active) activate(item);
  });
  container.addEventListener("keydown", (event) => {
    const all = items();
    const item = event.target.closest(itemSelector);
    if (!item || event.target.matches(OWN_ARROWS) || event.altKey || event.ctrlKey || event.metaKey) return;
    const columns = Math.max(1, all.filter((it) => it.offsetTop === all[0].offsetTop).length);
    const i = all.indexOf(item);
    const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns, ArrowUp: -columns }[event.key];
    const to = event.key === "Home" ? 0 : event.key === "End" ? all.length - 1 : step !== undefined ? i + step : null;
    if (to === null) return;
    event.preventDefault();
    const next = all[Math.max(0, Math.min(all.length - 1, to))];
    const position = controls(item).indexOf(event.target);
    const target = controls(next)[Math.max(0, position)] || controls(next)[0];
    activate(next);
    target?.focus();
  });
  activate(items()[0] || null);
}

// "A/B": switch between `original()` (A, an audio element) and `audio` (B) at the same moment.
// B playing -> A from where B is; otherwise B from where A is (playing, paused or moved by hand).
export function abSwitch(audio, original) {
  const ab = el("button", { type: "button", class: "ab", title: "Switch between the original (A) and this sound (B) at the same moment" }, "A/B");
  ab.addEventListener("click", () => {
    const orig = original();
    const [from, to, hearing] = !audio.paused ? [audio, orig, "A"] : [orig, audio, "B"];
    const at = from.currentTime;
    to.currentTime = Number.isFinite(to.duration) ? Math.min(at, to.duration) : at;
    to.play().catch(() => {}); // a play cut short by the next switch is not an error
    ab.textContent = `A/B: hearing ${hearing}`;
  });
  return ab;
}

// Only one sound at a time: starting a player pauses the others.
document.addEventListener("play", (event) => {
  for (const audio of document.querySelectorAll("audio")) if (audio !== event.target) audio.pause();
}, true);

// A progress bar that says what it measures.
export function progressBar(label) {
  const bar = el("progress", { max: "1", value: "0", "aria-label": label });
  const text = el("span", { class: "progress-text" }, "waiting…");
  const box = el("div", { class: "progress" }, el("span", {}, label), bar, text);
  box.update = (fraction, status) => {
    bar.value = fraction;
    text.textContent = status === "queued" ? "waiting for the server…" : percent(fraction, 0);
  };
  return box;
}

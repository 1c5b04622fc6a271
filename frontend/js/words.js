// Numbers in plain words, each beside a reference point a person can weigh it against; the
// technical name goes in a tooltip (`term`) for those who want it.
import { el, percent } from "./ui.js";

// A share as people say it: 0.38 -> "about 4 in 10"; 0.97 -> "nearly always".
export function inTen(x) {
  if (x >= 0.995) return "every time";
  if (x >= 0.95) return "nearly always";
  if (x < 0.05) return "almost never";
  return `about ${Math.round(10 * x)} in 10`;
}

// A word or phrase whose technical name and meaning are in a tooltip.
export const term = (text, name, meaning) => el("span", { class: "term", title: `${name}: ${meaning}`, tabindex: "0" }, text);

// Sample sets the model has never heard (flagged `unheard` by the bundle, or named so), else
// every other set: [[name, {n, oa, ...}], ...], the hardest first.
export function unheardSets(evaluations) {
  const all = Object.entries(evaluations || {});
  const unheard = all.filter(([name, e]) => e.unheard === true || /never heard|unheard/i.test(name));
  return (unheard.length ? unheard : all).sort((a, b) => a[1].oa - b[1].oa);
}

// What "N % sure" means for a model: how strongly it prefers the class, and how often it is right
// on recordings it has never heard (from `evaluations`) or on held-out clips (`metrics`).
// A model whose confidences were calibrated (`metrics.trust.calibration`) says so, and how far
// off they still are on the sample sets the fit never saw (its checks).
export function confidenceWords(metrics, evaluations) {
  const sets = unheardSets(evaluations);
  const calibration = metrics?.trust?.calibration;
  const checks = Object.keys(metrics?.trust?.checks_flagged || {}).map((name) => calibration?.sets?.[name]).filter(Boolean);
  if (calibration && checks.length) {
    const worst = checks.reduce((a, b) => (b.ece_after > a.ece_after ? b : a));
    const right = sets.length ? sets[0][1].oa : worst.accuracy;
    return "“Sure” is how often the model expects to be right, fitted on sample sets it was not trained on. " +
      `On recordings it has never heard it names the instrument right ${inTen(right)}, and its “sure” can be ` +
      `off by about ${Math.round(100 * worst.ece_after)} percentage points there (calibration error on ${worst.n} ` +
      "clips the fit never saw).";
  }
  const lead = "“Sure” says how strongly the model prefers this class to the others, not how often it is right.";
  if (sets.length) {
    return `${lead} On recordings it has never heard it names the instrument right ${inTen(sets[0][1].oa)}, ` +
      "often just as sure when it is wrong.";
  }
  return metrics?.oa !== undefined ? `${lead} On held-out clips like its training clips it is right ${inTen(metrics.oa)}.` : lead;
}

// The headline of a model: what it gets right on recordings it has never heard, beside the
// figure on held-out clips like its training clips, and chance (`nClasses` equally likely).
export function headline(metrics, evaluations, nClasses) {
  const chance = 1 / nClasses;
  const sets = unheardSets(evaluations);
  const parts = [];
  if (sets.length) {
    const [name, e] = sets[0];
    parts.push(el("p", { class: "headline-main" }, "On recordings it has never heard it names the instrument right ",
      el("strong", {}, `${inTen(e.oa)} (${percent(e.oa, 0)})`), ` - measured on ${e.n} clips of “${name}”.`));
  }
  if (metrics?.oa !== undefined) {
    parts.push(el("p", {}, `On held-out clips like those it learned from: ${inTen(metrics.oa)} (${percent(metrics.oa, 0)} of ` +
      `${metrics.n}). Guessing would be right ${percent(chance, 0)} of the time.` +
      (sets.length ? " Expect the first figure, not the second, on your own recordings." : "")));
  }
  return parts.length ? el("div", { class: "headline", id: "model-headline" }, parts) : null;
}

export const ERROR_MEANING = "mean squared difference between the log-mel spectrograms of the clip and its re-creation; 0 is identical";

// A re-creation error `err` against `typical` (the model's mean on its test clips, same measure).
export function errorWords(err, typical) {
  const name = term("re-creation error", "reconstruction error", ERROR_MEANING);
  if (!(typical > 0)) return [name, ` ${err.toFixed(4)}`];
  const ratio = err / typical;
  const words = ratio <= 1.5 ? "as close as a typical test clip's re-creation"
    : ratio <= 3 ? "somewhat looser than a typical test clip's" : `${Math.round(ratio)} times a typical test clip's: a loose fit`;
  return [name, ` ${err.toFixed(4)} (${words}, ${typical.toFixed(4)})`];
}

// Macro F1 in words, with chance for `nClasses`.
export function f1Words(f1, nClasses) {
  return [term(`${f1.toFixed(2)}`, "macro F1", "per class, the balance of finding its clips and not mistaking others for them, averaged over the classes"),
    ` on a scale where 1 means no class is ever missed or mistaken and random guessing scores about ${(1 / nClasses).toFixed(2)}`];
}

// The Davies-Bouldin index of an embedding space in words, against the best space (`best`).
export function dbiWords(dbi, best) {
  const words = dbi < 1 ? "classes well apart" : dbi < 3 ? "classes apart, with some overlap" : "classes overlapping";
  return [term(dbi.toFixed(2), "Davies-Bouldin index", "the spread of each class's cluster against the distance to the nearest other cluster; lower is better"),
    ` (${words}; best space here ${best.toFixed(2)})`];
}

// A linear probe's accuracy in words, with chance for `nClasses`.
export function probeWords(accuracy, nClasses) {
  return [term(percent(accuracy), "linear probe accuracy", "a logistic regression trained on this space alone, on held-out clips"),
    ` (chance ${percent(1 / nClasses, 0)})`];
}

// How well a concept's clips can be told from random clips at a layer (CAV accuracy) in words.
export function cavWords(accuracy) {
  const words = accuracy < 0.6 ? "hardly better than a coin toss: this depth cannot tell the concept apart, so its test means little"
    : accuracy < 0.8 ? "somewhat: the concept is partly visible at this depth" : "clearly: the concept is visible at this depth";
  return [term(percent(accuracy, 0), "CAV accuracy", "held-out accuracy of the linear classifier separating the concept's clips from random clips at this layer; 50 % is chance"),
    ` - ${words}`];
}

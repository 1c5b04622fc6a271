// The header's frequency-axis controls: the scale of every frequency axis, the note grid, and
// the pitch of A4 (tuning.js keeps them).
import { el, showMessage } from "./ui.js";
import { A4_RANGE, SCALES, setTuning, tuning } from "./tuning.js";

export function axisControls() {
  const scale = el("select", { id: "axis-scale" },
    Object.entries(SCALES).map(([value, text]) => el("option", { value, selected: value === tuning.scale }, text)));
  scale.addEventListener("change", () => setTuning({ scale: scale.value }));
  const notes = el("input", { type: "checkbox", id: "axis-notes", checked: tuning.notes });
  notes.addEventListener("change", () => setTuning({ notes: notes.checked }));
  const a4 = el("input", { type: "number", id: "axis-a4", min: String(A4_RANGE[0]), max: String(A4_RANGE[1]),
    step: "0.1", value: String(tuning.a4) });
  a4.addEventListener("change", () => {
    const value = Number(a4.value);
    if (!(value >= A4_RANGE[0] && value <= A4_RANGE[1])) {
      showMessage(`A4 must lie between ${A4_RANGE[0]} and ${A4_RANGE[1]} Hz (e.g. 440, or 415 for baroque pitch).`);
      a4.value = String(tuning.a4);
      return;
    }
    setTuning({ a4: value });
  });
  return el("div", { class: "axis-controls", role: "group", "aria-label": "Frequency axes" },
    el("label", { for: "axis-scale" }, "Frequency scale "), scale,
    el("label", { for: "axis-notes", class: "check" }, notes, " note grid"),
    el("label", { for: "axis-a4" }, "A4 = "), a4, el("span", {}, " Hz"));
}

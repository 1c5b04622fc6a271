// The page's frequency axes, as the person likes them: the scale (mel, log or linear), a grid
// of the notes C1..C8 on or off, and the pitch of A4 in Hz (440 by default; 415 for baroque
// pitch). Kept in the browser's localStorage; every figure redraws when they change.

const KEY = "auralens.axes";
export const SCALES = { mel: "mel (as the model hears)", log: "logarithmic (octaves equal)", linear: "linear (Hz)" };
export const A4_RANGE = [380, 480];

function stored() {
  try {
    return JSON.parse(localStorage.getItem(KEY) || "{}");
  } catch {
    return {};
  }
}

export const tuning = { scale: "mel", notes: true, a4: 440, ...stored() };
const listeners = new Set();

// Change some settings ({scale, notes, a4}); listeners are told.
export function setTuning(changes) {
  Object.assign(tuning, changes);
  localStorage.setItem(KEY, JSON.stringify(tuning));
  listeners.forEach((f) => f(tuning));
}

export const onTuning = (f) => listeners.add(f);
export const offTuning = (f) => listeners.delete(f);

// The MIDI note number of `hz` (fractional) under the current A4.
export const midiOf = (hz) => 69 + 12 * Math.log2(hz / tuning.a4);

// C1..C8 under the current A4: [{name: "C4", hz: 261.6}, ...].
export function cNotes() {
  return Array.from({ length: 8 }, (_, i) => ({ name: `C${i + 1}`, hz: tuning.a4 * 2 ** ((12 * (i + 2) - 69) / 12) }));
}

// Hover read-out for canvas spectrograms: time, frequency in Hz and the nearest note. A canvas
// with `bandAt(fraction up)` (thumb.js) maps its rows to bands itself.
import { hz, noteName } from "./ui.js";

export function attachSpectrogramHover(canvas, spec) {
  const F = spec.freqs_hz.length, T = spec.times_s.length;
  canvas.addEventListener("mousemove", (event) => {
    const box = canvas.getBoundingClientRect();
    const up = 1 - (event.clientY - box.top) / box.height; // 0 at the bottom .. 1 at the top
    // a canvas drawn on another frequency scale says which band lies where (`bandAt`)
    const band = canvas.bandAt ? canvas.bandAt(up) : Math.min(F - 1, Math.max(0, Math.floor(up * F)));
    const frame = Math.min(T - 1, Math.max(0, Math.floor(((event.clientX - box.left) / box.width) * T)));
    const f = spec.freqs_hz[band];
    canvas.title = `${spec.times_s[frame].toFixed(2)} s · ${hz(f)} (${noteName(f)}) · ${Math.round(spec.values_db[band][frame])} dB`;
  });
}

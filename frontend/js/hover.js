// Hover read-out for canvas spectrograms: time, frequency in Hz and the nearest note.
import { hz, noteName } from "./ui.js";

export function attachSpectrogramHover(canvas, spec) {
  const F = spec.freqs_hz.length, T = spec.times_s.length;
  canvas.addEventListener("mousemove", (event) => {
    const box = canvas.getBoundingClientRect();
    const band = Math.min(F - 1, Math.max(0, Math.floor((1 - (event.clientY - box.top) / box.height) * F)));
    const frame = Math.min(T - 1, Math.max(0, Math.floor(((event.clientX - box.left) / box.width) * T)));
    const f = spec.freqs_hz[band];
    canvas.title = `${spec.times_s[frame].toFixed(2)} s · ${hz(f)} (${noteName(f)}) · ${Math.round(spec.values_db[band][frame])} dB`;
  });
}

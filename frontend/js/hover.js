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

// Hear what the pointer rests on: `hearOnHover(url)` plays the sound at `url` after a short
// pause (so that sweeping across many points does not start them all), from one shared audio
// element; `hearOnHover(null)` stops it. Other players on the page pause, as for any player.
let hoverSound = null, hoverTimer = null;
export function hearOnHover(url, delayMs = 220) {
  clearTimeout(hoverTimer);
  if (!hoverSound) {
    hoverSound = new Audio();
    hoverSound.preload = "none";
    hoverSound.dataset.role = "hover-sound";
  }
  if (!url) {
    hoverSound.pause();
    return hoverSound;
  }
  hoverTimer = setTimeout(() => {
    hoverSound.src = url;
    hoverSound.play().catch(() => {}); // no sound before the person has touched the page: fine
  }, delayMs);
  return hoverSound;
}

// A WebGL scatter plot for many points (100 000 and more): one draw call, pan by dragging, zoom
// with the wheel around the pointer, the point under the pointer found for hovering, and a
// lasso or a box to select points. (plotly's WebGL scatter compiles its shaders with `eval`,
// which the page's Content-Security-Policy forbids; this one needs nothing of the kind.)
//
//   const plot = createScatter(div, { onHover(i | null, event), onSelect(indices, how) });
//   plot.setPoints(x, y, background); // Float32Array or arrays, data units; background: optional
//                                     // {x, y} drawn faint behind, neither hovered nor selected
//   plot.setColors(rgba);            // Uint8Array, 4 per point
//   plot.setMode("pan" | "lasso" | "box");
//   plot.highlight(indices | null);  // others are drawn faint
import { el } from "./ui.js";

const VERTEX = `
attribute vec2 a_pos;
attribute vec4 a_color;
uniform vec2 u_zoom;
uniform vec2 u_shift;
uniform float u_size;
varying vec4 v_color;
void main() {
  gl_Position = vec4(a_pos * u_zoom + u_shift, 0.0, 1.0);
  gl_PointSize = u_size;
  v_color = a_color;
}`;

const FRAGMENT = `
precision mediump float;
varying vec4 v_color;
void main() {
  vec2 d = gl_PointCoord - vec2(0.5);
  float r = dot(d, d);
  if (r > 0.25) discard;
  gl_FragColor = vec4(v_color.rgb, v_color.a * smoothstep(0.25, 0.15, r));
}`;

const MARGIN = 1.08; // the data's extent fills this share less than the whole canvas

function shader(gl, type, source) {
  const s = gl.createShader(type);
  gl.shaderSource(s, source);
  gl.compileShader(s);
  if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(s));
  return s;
}

// Is (px, py) inside the polygon `poly` ([[x, y], ...])? Even-odd rule.
function inside(poly, px, py) {
  let yes = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i], [xj, yj] = poly[j];
    if ((yi > py) !== (yj > py) && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) yes = !yes;
  }
  return yes;
}

export function createScatter(container, { onHover = () => {}, onSelect = () => {}, label = "Map of clips" } = {}) {
  const canvas = el("canvas", { class: "scatter-gl", role: "img", "aria-label": label });
  const overlay = el("canvas", { class: "scatter-overlay", "aria-hidden": "true" });
  container.append(canvas, overlay);
  // no multisampling and no kept drawing buffer: each frame of 100 000 points costs half as much
  // (the points are round and soft-edged in the fragment shader anyway)
  const gl = canvas.getContext("webgl", { antialias: false, preserveDrawingBuffer: false });
  if (!gl) throw new Error("This browser cannot draw the map (WebGL is switched off or missing).");
  const program = gl.createProgram();
  gl.attachShader(program, shader(gl, gl.VERTEX_SHADER, VERTEX));
  gl.attachShader(program, shader(gl, gl.FRAGMENT_SHADER, FRAGMENT));
  gl.linkProgram(program);
  gl.useProgram(program);
  const loc = {
    pos: gl.getAttribLocation(program, "a_pos"), color: gl.getAttribLocation(program, "a_color"),
    zoom: gl.getUniformLocation(program, "u_zoom"), shift: gl.getUniformLocation(program, "u_shift"),
    size: gl.getUniformLocation(program, "u_size"),
  };
  const posBuffer = gl.createBuffer(), colorBuffer = gl.createBuffer(), backBuffer = gl.createBuffer();
  let backN = 0;
  gl.enable(gl.BLEND);
  // colours blend over the points beneath; the canvas itself stays opaque (its alpha is 1)
  gl.blendFuncSeparate(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA, gl.ONE, gl.ONE_MINUS_SRC_ALPHA);

  let n = 0, norm = new Float32Array(0), colors = new Uint8Array(0), shown = new Uint8Array(0);
  let mask = null; // Uint8Array of highlighted points, or null: all
  let view = { k: 1, tx: 0, ty: 0 };
  let mode = "pan", dirty = false, firstFrame = null, hovered = null;
  const ctx = overlay.getContext("2d");

  function size() {
    return { w: canvas.clientWidth || 1, h: canvas.clientHeight || 1, dpr: window.devicePixelRatio || 1 };
  }

  function fit() {
    const { w, h, dpr } = size();
    for (const c of [canvas, overlay]) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
    }
    request();
  }

  function request() {
    if (!dirty) {
      dirty = true;
      requestAnimationFrame(draw);
    }
  }

  function pointSize() {
    const { dpr } = size();
    const base = n > 50000 ? 3 : n > 5000 ? 4.5 : n > 500 ? 7 : 10;
    return Math.min(base * Math.sqrt(view.k), 18) * dpr;
  }

  function draw() {
    dirty = false;
    gl.viewport(0, 0, canvas.width, canvas.height);
    gl.clearColor(1, 1, 1, 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
    gl.uniform2f(loc.zoom, view.k, view.k);
    gl.uniform2f(loc.shift, view.tx, view.ty);
    if (backN) { // one faint colour for all of them
      gl.bindBuffer(gl.ARRAY_BUFFER, backBuffer);
      gl.vertexAttribPointer(loc.pos, 2, gl.FLOAT, false, 0, 0);
      gl.disableVertexAttribArray(loc.color);
      gl.vertexAttrib4f(loc.color, 0.62, 0.66, 0.71, 0.45);
      gl.uniform1f(loc.size, pointSize() * 0.8);
      gl.drawArrays(gl.POINTS, 0, backN);
    }
    if (n) {
      gl.bindBuffer(gl.ARRAY_BUFFER, posBuffer);
      gl.vertexAttribPointer(loc.pos, 2, gl.FLOAT, false, 0, 0);
      gl.bindBuffer(gl.ARRAY_BUFFER, colorBuffer);
      gl.enableVertexAttribArray(loc.color);
      gl.vertexAttribPointer(loc.color, 4, gl.UNSIGNED_BYTE, true, 0, 0);
      gl.uniform1f(loc.size, pointSize() * (backN ? 1.5 : 1)); // larger among a map's faint points
      gl.drawArrays(gl.POINTS, 0, n);
    }
    drawOverlay();
    if ((n || backN) && firstFrame === null) {
      requestAnimationFrame(() => { // the frame the points were drawn in has been shown
        firstFrame = performance.now();
        container.dataset.drawnAt = firstFrame.toFixed(1); // ms since the page began to load
        container.dataset.drawn = String(n);
        container.dispatchEvent(new CustomEvent("drawn", { detail: { points: n, at: firstFrame } }));
      });
    }
  }

  // clip coordinates <-> CSS pixels of the canvas
  const toScreen = (i) => {
    const { w, h } = size();
    return [((norm[2 * i] * view.k + view.tx + 1) / 2) * w, ((1 - (norm[2 * i + 1] * view.k + view.ty)) / 2) * h];
  };
  const toClip = (px, py) => {
    const { w, h } = size();
    return [(px / w) * 2 - 1, 1 - (py / h) * 2];
  };

  let path = null, box = null;
  function drawOverlay() {
    const { dpr } = size();
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, overlay.width, overlay.height);
    if (hovered !== null && hovered < n) {
      const [sx, sy] = toScreen(hovered);
      ctx.beginPath();
      ctx.arc(sx, sy, 7, 0, 2 * Math.PI);
      ctx.strokeStyle = "#1f2a37";
      ctx.lineWidth = 2;
      ctx.stroke();
    }
    if (path && path.length > 1) {
      ctx.beginPath();
      ctx.moveTo(...path[0]);
      for (const p of path.slice(1)) ctx.lineTo(...p);
      ctx.closePath();
      ctx.fillStyle = "rgba(47, 111, 176, 0.12)";
      ctx.fill();
      ctx.setLineDash([5, 4]);
      ctx.strokeStyle = "#2f6fb0";
      ctx.lineWidth = 1.5;
      ctx.stroke();
      ctx.setLineDash([]);
    }
    if (box) {
      ctx.fillStyle = "rgba(47, 111, 176, 0.12)";
      ctx.strokeStyle = "#2f6fb0";
      ctx.fillRect(box.x0, box.y0, box.x1 - box.x0, box.y1 - box.y0);
      ctx.strokeRect(box.x0, box.y0, box.x1 - box.x0, box.y1 - box.y0);
    }
  }

  function upload() {
    shown = new Uint8Array(colors.length);
    for (let i = 0; i < n; i++) {
      const on = !mask || mask[i];
      shown[4 * i] = on ? colors[4 * i] : 190;
      shown[4 * i + 1] = on ? colors[4 * i + 1] : 196;
      shown[4 * i + 2] = on ? colors[4 * i + 2] : 204;
      shown[4 * i + 3] = on ? colors[4 * i + 3] : 120;
    }
    gl.bindBuffer(gl.ARRAY_BUFFER, colorBuffer);
    gl.bufferData(gl.ARRAY_BUFFER, shown, gl.STATIC_DRAW);
    request();
  }

  function nearest(px, py, radius = 8) {
    const { w, h } = size();
    let best = null, bestD = radius * radius;
    const ax = (view.k * w) / 2, bx = ((view.tx + 1) * w) / 2, ay = (-view.k * h) / 2, by = ((1 - view.ty) * h) / 2;
    for (let i = 0; i < n; i++) {
      const dx = norm[2 * i] * ax + bx - px, dy = norm[2 * i + 1] * ay + by - py;
      const d = dx * dx + dy * dy;
      if (d < bestD) { bestD = d; best = i; }
    }
    return best;
  }

  function select(test, how) {
    const { w, h } = size();
    const ax = (view.k * w) / 2, bx = ((view.tx + 1) * w) / 2, ay = (-view.k * h) / 2, by = ((1 - view.ty) * h) / 2;
    const chosen = [];
    for (let i = 0; i < n; i++) {
      if (test(norm[2 * i] * ax + bx, norm[2 * i + 1] * ay + by)) chosen.push(i);
    }
    onSelect(chosen, how);
  }

  // -- the pointer ------------------------------------------------------------------------------
  let drag = null;
  const at = (event) => {
    const r = overlay.getBoundingClientRect();
    return [event.clientX - r.left, event.clientY - r.top];
  };
  overlay.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    overlay.setPointerCapture(event.pointerId);
    const [px, py] = at(event);
    drag = { px, py, view: { ...view } };
    if (mode === "lasso") path = [[px, py]];
    if (mode === "box") box = { x0: px, y0: py, x1: px, y1: py };
  });
  overlay.addEventListener("pointermove", (event) => {
    const [px, py] = at(event);
    if (!drag) {
      const i = nearest(px, py);
      if (i !== hovered) {
        hovered = i;
        request();
        onHover(i, event);
      }
      return;
    }
    if (mode === "pan") {
      const { w, h } = size();
      view.tx = drag.view.tx + ((px - drag.px) / w) * 2;
      view.ty = drag.view.ty - ((py - drag.py) / h) * 2;
    } else if (mode === "lasso") {
      const last = path[path.length - 1];
      if (Math.hypot(px - last[0], py - last[1]) > 2) path.push([px, py]);
    } else if (mode === "box") {
      box = { x0: Math.min(drag.px, px), y0: Math.min(drag.py, py), x1: Math.max(drag.px, px), y1: Math.max(drag.py, py) };
    }
    request();
  });
  const finish = () => {
    if (!drag) return;
    drag = null;
    if (mode === "lasso" && path && path.length > 2) {
      const poly = path;
      const xs = poly.map((p) => p[0]), ys = poly.map((p) => p[1]);
      const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
      select((sx, sy) => sx >= x0 && sx <= x1 && sy >= y0 && sy <= y1 && inside(poly, sx, sy), "lasso");
    } else if (mode === "box" && box && box.x1 - box.x0 > 2 && box.y1 - box.y0 > 2) {
      const b = box;
      select((sx, sy) => sx >= b.x0 && sx <= b.x1 && sy >= b.y0 && sy <= b.y1, "box");
    }
    path = null;
    box = null;
    request();
  };
  overlay.addEventListener("pointerup", finish);
  overlay.addEventListener("pointercancel", finish);
  overlay.addEventListener("pointerleave", () => {
    if (!drag && hovered !== null) {
      hovered = null;
      request();
      onHover(null);
    }
  });
  overlay.addEventListener("wheel", (event) => {
    event.preventDefault();
    const [px, py] = at(event);
    const [cx, cy] = toClip(px, py);
    const factor = Math.exp(-event.deltaY * (event.deltaMode === 1 ? 0.05 : 0.0015));
    const k = Math.min(Math.max(view.k * factor, 0.2), 2000);
    // the data under the pointer stays under the pointer
    view.tx = cx - ((cx - view.tx) / view.k) * k;
    view.ty = cy - ((cy - view.ty) / view.k) * k;
    view.k = k;
    request();
  }, { passive: false });
  overlay.addEventListener("dblclick", () => plot.resetView());

  new ResizeObserver(fit).observe(container);

  const plot = {
    get count() { return n; },
    get firstFrame() { return firstFrame; },
    setPoints(x, y, background = null) {
      n = x.length;
      let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
      for (const [xs, ys] of [[x, y], background ? [background.x, background.y] : [[], []]]) {
        for (let i = 0; i < xs.length; i++) {
          if (xs[i] < x0) x0 = xs[i];
          if (xs[i] > x1) x1 = xs[i];
          if (ys[i] < y0) y0 = ys[i];
          if (ys[i] > y1) y1 = ys[i];
        }
      }
      const hx = ((x1 - x0) / 2 || 1) * MARGIN, hy = ((y1 - y0) / 2 || 1) * MARGIN;
      const mx = (x0 + x1) / 2, my = (y0 + y1) / 2;
      norm = new Float32Array(2 * n);
      for (let i = 0; i < n; i++) {
        norm[2 * i] = (x[i] - mx) / hx;
        norm[2 * i + 1] = (y[i] - my) / hy;
      }
      gl.bindBuffer(gl.ARRAY_BUFFER, posBuffer);
      gl.bufferData(gl.ARRAY_BUFFER, norm, gl.STATIC_DRAW);
      gl.enableVertexAttribArray(loc.pos);
      backN = background ? background.x.length : 0;
      const back = new Float32Array(2 * backN);
      for (let i = 0; i < backN; i++) {
        back[2 * i] = (background.x[i] - mx) / hx;
        back[2 * i + 1] = (background.y[i] - my) / hy;
      }
      gl.bindBuffer(gl.ARRAY_BUFFER, backBuffer);
      gl.bufferData(gl.ARRAY_BUFFER, back, gl.STATIC_DRAW);
      mask = null;
      hovered = null;
      firstFrame = null;
      delete container.dataset.drawn;
      view = { k: 1, tx: 0, ty: 0 };
      fit();
    },
    setColors(rgba) {
      colors = rgba;
      upload();
    },
    highlight(indices) {
      if (indices === null) mask = null;
      else {
        mask = new Uint8Array(n);
        for (const i of indices) mask[i] = 1;
      }
      upload();
    },
    setMode(m) {
      mode = m;
      overlay.dataset.mode = m;
    },
    resetView() {
      view = { k: 1, tx: 0, ty: 0 };
      request();
    },
    // CSS pixels of point i in the canvas (for tests and tooltips)
    screenOf(i) { return toScreen(i); },
    // draw now, in this task (the canvas keeps no drawing once shown: read it right after)
    drawNow() { draw(); },
  };
  plot.setMode("pan");
  container.scatter = plot;
  return plot;
}

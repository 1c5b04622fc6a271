"""Map figures: UMAP and PCA fit times, the map API's server time for 100 000 clips, and the
first paint (and zooming) of 100 000 points in headless Chromium.

Run: python bench/bench_map.py [--umap-clips 10000] [--clips 100000] [--space timbre] [--no-browser]

The vectors are synthetic, of the space's dimension (timbre: 12 on the default bundle): unit
vectors around 16 class centres (one per class of the bundle), each cluster about as wide as
the distance between centres, so that UMAP has neighbourhoods to keep. For the API and the
browser the app runs on the default bundle with its corpus source replaced by 100 000 such
clips (ids, classes, tags, predictions made up; every other step - fitting, storing, the
answer's columns, JSON - is the app's own). UMAP runs on one thread (a seeded layout).
"""
from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import numpy as np


def synthetic_vectors(n: int, dim: int, classes: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(n, dim)`` float32 unit vectors in ``classes`` clusters, and each one's cluster."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(classes, dim))
    label = rng.integers(0, classes, n)
    x = centres[label] + rng.normal(size=(n, dim)) * 0.8
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), label


def fit_figures(n_umap: int, dim: int) -> None:
    from auralens.models.embeddings.projection import fit_projection, umap_available

    print(f"\nfits on synthetic vectors of dimension {dim}")
    for n in (10_000, 100_000):
        v, _ = synthetic_vectors(n, dim)
        start = time.perf_counter()
        fit_projection(v, "pca")
        print(f"  PCA fit, {n:>7} clips: {1000 * (time.perf_counter() - start):8.1f} ms")
    if not umap_available():
        print("  UMAP: skipped (pip install umap-learn)")
        return
    v, _ = synthetic_vectors(200, dim, seed=1)
    start = time.perf_counter()
    fit_projection(v, "umap")  # the first fit compiles umap-learn's numba code
    print(f"  UMAP first fit of 200 clips (numba compiling): {time.perf_counter() - start:.1f} s")
    v, _ = synthetic_vectors(n_umap, dim)
    start = time.perf_counter()
    p = fit_projection(v, "umap")
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    p.transform(synthetic_vectors(100, dim, seed=2)[0])
    print(f"  UMAP fit, {n_umap} clips: {fit_s:.1f} s; placing 100 new clips: "
          f"{1000 * (time.perf_counter() - start):.1f} ms")


def app_with_many_clips(n: int, data_dir: Path, space: str):
    """The app on the default bundle, its corpus source replaced by ``n`` synthetic clips."""
    from auralens.server import sources
    from auralens.server.app import create_app
    from auralens.server.clip_ref import ClipRef
    from auralens.server.maps import maps_of
    from auralens.server.routers import maps as map_routes

    app = create_app(device="cpu", data_dir=data_dir)
    state = app.state.auralens
    dim = state.spaces.info(space)["dim"]
    vectors, label = synthetic_vectors(n, dim)
    classes = state.bundle.classes
    rng = np.random.default_rng(3)
    registers, dynamics = ["low", "mid", "high"], ["pp", "p", "mf", "f", "ff"]
    first = next(iter(state.corpus.values()))
    clips = [ClipRef(f"s-{i:06d}", "corpus", f"s-{i:06d}.flac", 1.0, 22050, first.path, classes[label[i]], "test",
                     {"family": classes[label[i]][:4], "register": registers[i % 3], "dynamics": dynamics[i % 5]})
             for i in range(n)]
    row = {c.id: i for i, c in enumerate(clips)}
    maps = maps_of(state)
    maps.vectors = lambda sp, cs, progress=None: vectors[[row[c.id] for c in cs]]
    wrong = rng.random(n) < 0.1
    predicted = np.where(wrong, rng.integers(0, len(classes), n), label)
    maps._corpus_predictions = {c.id: [int(p), 0.9, None] for c, p in zip(clips, predicted)}
    original = sources.clips_of
    map_routes.clips_of = lambda st, owner, source: clips if source == "corpus" else original(st, owner, source)
    return app


def api_figures(app, n: int, space: str, repeat: int = 10) -> None:
    from fastapi.testclient import TestClient

    print(f"\nmap API, {n} clips (space {space}, PCA)")
    with TestClient(app, base_url="http://localhost") as client:
        params = {"source": "corpus", "space": space, "method": "pca"}
        start = time.perf_counter()
        r = client.get("/api/map", params=params)
        cold = time.perf_counter() - start
        assert r.status_code == 200, r.text
        print(f"  first answer (fit, store, columns, JSON): {1000 * cold:.0f} ms, {len(r.content) / 2**20:.1f} MiB")
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            r = client.get("/api/map", params=params)
            times.append(1000 * (time.perf_counter() - start))
        print(f"  later answers (kept): p50 {np.percentile(times, 50):.1f} ms, p95 {np.percentile(times, 95):.1f} ms")
        app.state.auralens.maps._answers = type(app.state.auralens.maps._answers)(8)  # forget the kept answer
        start = time.perf_counter()
        client.get("/api/map", params=params)
        print(f"  answer from the stored fit (columns and JSON again): {1000 * (time.perf_counter() - start):.0f} ms")


ZOOM = """async (frames) => {
  const overlay = document.querySelector('#map-plot canvas.scatter-overlay');
  const box = overlay.getBoundingClientRect();
  const times = [];
  for (let i = 0; i < frames; i++) {
    overlay.dispatchEvent(new WheelEvent('wheel', { deltaY: i < frames / 2 ? -40 : 40, clientX: box.x + box.width / 2,
      clientY: box.y + box.height / 2, bubbles: true, cancelable: true }));
    const t0 = performance.now();
    await new Promise((r) => requestAnimationFrame(r));
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return [times[Math.floor(times.length / 2)], times[Math.floor(times.length * 0.95)]];
}"""


def browser_figures(app, n: int, space: str) -> None:
    import uvicorn
    from playwright.sync_api import sync_playwright

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=8765, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:8765/#/map?source=corpus&space={space}&method=pca"
    print(f"\nfirst paint in headless Chromium, {n} points (the map's answer kept on the server)")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            for size in [(1280, 900), (1920, 1080)]:
                for attempt in range(2):
                    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
                    page.set_default_timeout(120_000)
                    page.goto(url)
                    page.wait_for_selector("#map-plot[data-drawn]")
                    drawn = float(page.get_attribute("#map-plot", "data-drawn-at"))
                    fetched = page.evaluate("performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/map'))"
                                            ".map((e) => e.responseEnd)[0]")
                    if attempt:
                        zoom = page.evaluate(ZOOM, 60)
                        print(f"  {size[0]}x{size[1]}: first frame {drawn:.0f} ms after navigation "
                              f"(map data in at {fetched:.0f} ms); zooming: frame p50 {zoom[0]:.1f} ms ({1000 / zoom[0]:.0f} frames/s), "
                              f"p95 {zoom[1]:.1f} ms")
                    page.close()
            browser.close()
    finally:
        server.should_exit = True
        thread.join(10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--umap-clips", type=int, default=10_000)
    ap.add_argument("--clips", type=int, default=100_000)
    ap.add_argument("--space", default="timbre")
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()
    from auralens.models.embeddings import load_spaces

    dim = load_spaces().info(args.space)["dim"]
    fit_figures(args.umap_clips, dim)
    with tempfile.TemporaryDirectory() as tmp:
        app = app_with_many_clips(args.clips, Path(tmp) / "data", args.space)
        api_figures(app, args.clips, args.space)
        if not args.no_browser:
            browser_figures(app, args.clips, args.space)


if __name__ == "__main__":
    main()

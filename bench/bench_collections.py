"""Figures of collections on this machine: the table of a 100 000-clip collection, prototype
usage across it, and how fast a collection is analysed (locally and on two Ray workers).

Run: python bench/bench_collections.py [--clips 100000] [--pages 60] [--analyse 1000] [--no-ray]

The 100 000 clips are rows written straight into a fresh data folder (clip records, the
collection, and figures as the analysis job stores them; no audio), so that the table's own
cost is measured: the first page (the columns built from the database), then pages sorted by
every column and filtered by class, trust, tag and error, each asked through the app
(FastAPI's TestClient: server time, no network). The analysis runs on real 1 s notes through
the default bundle's model: clips per second on 2 cores, then on a local Ray of 2 workers
with and without its start-up.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from auralens.models.collection import Analyser, analyse_clips  # noqa: E402
from auralens.server.app import create_app  # noqa: E402
from tests.sounds import SR, TIMBRES, timbre_tone  # noqa: E402


def fill_collection(app, n: int, seed: int = 0) -> str:
    """A collection of ``n`` clips with figures, written in bulk; returns its source name."""
    state = app.state.auralens
    storage, classes = state.storage, state.bundle.classes
    model = state.bundle.entry().id
    owner_of = state.models[model].prototype_class.tolist()
    cid = storage.add_collection("bench", model, state.bundle.name, "local")
    rng = random.Random(seed)
    now = "2026-01-01T00:00:00+00:00"
    clips, members, results = [], [], []
    for i in range(n):
        clip_id = f"u-bench{i:07d}"
        label = rng.choice(classes)
        k = rng.randrange(len(owner_of))
        clips.append((clip_id, "upload", f"take_{i:06d}.wav", f"{i:064x}", "wav", rng.uniform(0.5, 30), 22050, 1, now,
                      None, "local"))
        members.append((cid, clip_id, i, f"{label}/take_{i:06d}.wav", label,
                        json.dumps({"folder": label, "session": f"s{i % 40}"})))
        score = rng.random()
        results.append((clip_id, model, state.bundle.name, json.dumps({
            "prediction": classes[owner_of[k]], "confidence": rng.random(), "trusted": score > 0.1,
            "trust_score": score, "best_prototype": k, "best_prototype_label": classes[owner_of[k]],
            "error": rng.uniform(0.005, 0.05), "duration_s": 1.0})))
    with storage._transaction() as db:  # the bench's shortcut past the per-file checks of an upload
        db.executemany("INSERT INTO clips (id, origin, name, sha256, ext, duration_s, sample_rate, channels, created, "
                       "label, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", clips)
        db.executemany("INSERT INTO collection_clips VALUES (?, ?, ?, ?, ?, ?)", members)
        db.executemany("INSERT INTO clip_results VALUES (?, ?, ?, ?)", results)
    return f"collection:{cid}"


def timed(call) -> float:
    start = time.perf_counter()
    r = call()
    assert r.status_code == 200, r.text
    return (time.perf_counter() - start) * 1000


def pct(values, q) -> float:
    return float(np.percentile(values, q))


def bench_table(n: int, pages: int) -> None:
    with tempfile.TemporaryDirectory() as data:
        app = create_app(device="cpu", data_dir=data)
        with TestClient(app, base_url="http://localhost") as client:
            start = time.perf_counter()
            source = fill_collection(app, n)
            print(f"{n} clips written in {time.perf_counter() - start:.1f} s")
            first = timed(lambda: client.get("/api/table", params={"source": source}))
            print(f"first page (columns built from the database): {first:.0f} ms")
            classes = app.state.auralens.bundle.classes
            rng = random.Random(1)
            queries = []
            for i in range(pages):
                q = {"source": source, "sort": rng.choice(["confidence", "error", "name", "prediction", "label",
                                                           "duration_s", "trust_score", "best_prototype"]),
                     "order": rng.choice(["asc", "desc"]), "offset": rng.randrange(0, 2000) * 10, "limit": 50}
                extra = rng.choice([{}, {"prediction": rng.choice(classes)}, {"label": rng.choice(classes)},
                                    {"trust": "unlike"}, {"tag": f"session=s{rng.randrange(40)}"},
                                    {"min_error": 0.01, "max_error": 0.02}, {"prototype": rng.randrange(16)}])
                queries.append({**q, **extra})
            for q in queries[:8]:  # each sort's order computed once, then kept
                client.get("/api/table", params=q)
            times = [timed(lambda q=q: client.get("/api/table", params=q)) for q in queries]
            print(f"table page of {n} clips (sorted, filtered, 50 rows): p50 {pct(times, 50):.1f} ms, "
                  f"p95 {pct(times, 95):.1f} ms over {len(times)} pages (target p50 < 50 ms)")
            usage = [timed(lambda: client.get("/api/usage", params={"source": source})) for _ in range(5)]
            print(f"prototype usage of {n} clips: {usage[0]:.0f} ms the first time, then {pct(usage[1:], 50):.1f} ms "
                  "(kept with the table)")
            state = app.state.auralens
            state.storage.add_results(state.bundle.entry().id, state.bundle.name, [("u-bench0000000", {
                "prediction": "cello", "confidence": 0.5, "trusted": True, "trust_score": 0.9, "best_prototype": 4,
                "best_prototype_label": "cello", "error": 0.01, "duration_s": 1.0})], source.split(":", 1)[1])
            again = timed(lambda: client.get("/api/table", params={"source": source}))
            print(f"first page after one clip's figures changed outside a job (the columns built again): {again:.0f} ms")
            from auralens.server.source_tables import note_results

            cid, model = source.split(":", 1)[1], state.bundle.entry().id
            during = []
            for b in range(10):  # as the collection's job stores a batch of 16 clips' figures
                batch = {f"u-bench{16 * b + i:07d}": {
                    "prediction": "viola", "confidence": 0.7, "trusted": True, "trust_score": 0.8, "best_prototype": 14,
                    "best_prototype_label": "viola", "error": 0.02, "duration_s": 1.0} for i in range(16)}
                start = time.perf_counter()
                state.storage.add_results(model, state.bundle.name, list(batch.items()), cid)
                note_results(state, "local", cid, model, batch)
                stored = (time.perf_counter() - start) * 1000
                during.append(timed(lambda: client.get("/api/table", params={"source": source, "sort": "confidence"})))
            print(f"a batch of 16 clips' figures stored and patched into the table: {stored:.0f} ms; the next page "
                  f"(sorted again): p50 {pct(during, 50):.0f} ms")


def write_notes(folder: Path, n: int) -> list[Path]:
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        timbre = list(TIMBRES)[i % len(TIMBRES)]
        path = folder / timbre / f"{i:04d}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, timbre_tone(110 * 2 ** rng.uniform(0, 2), timbre, 1.0), SR)
        paths.append(path)
    return paths


def bench_analysis(n: int, ray: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        paths = write_notes(Path(folder), n)
        analyser = Analyser()
        for threads in (1, 2):  # one: as the app's collection job runs
            torch.set_num_threads(threads)
            analyse_clips(analyser, paths[:8])  # the model loaded and warm
            start = time.perf_counter()
            analyse_clips(analyser, paths)
            local = time.perf_counter() - start
            print(f"analysis of {n} clips of 1 s here ({threads} torch thread{'s' if threads > 1 else ''}): "
                  f"{n / local:.1f} clips/s")
        if not ray:
            return
        import ray as ray_lib

        start = time.perf_counter()
        ray_lib.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        analyse_clips(Analyser(), paths, ray_address="local")
        with_start = time.perf_counter() - start
        start = time.perf_counter()
        analyse_clips(Analyser(), paths, ray_address="local")
        warm = time.perf_counter() - start
        ray_lib.shutdown()
        print(f"analysis of {n} clips on 2 Ray workers: {n / with_start:.1f} clips/s with Ray's start-up "
              f"({with_start:.1f} s), {n / warm:.1f} clips/s once the workers are up")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=100_000, help="clips of the collection whose table is timed")
    parser.add_argument("--pages", type=int, default=60, help="table pages to time")
    parser.add_argument("--analyse", type=int, default=1000, help="clips to analyse for the throughput")
    parser.add_argument("--no-ray", action="store_true", help="leave out the Ray figures")
    args = parser.parse_args()
    bench_analysis(args.analyse, not args.no_ray)  # first: the 100 000-clip app's memory slows what follows it
    bench_table(args.clips, args.pages)


if __name__ == "__main__":
    main()

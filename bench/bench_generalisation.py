"""How well a bundle's models recognise instruments from sample sets and melodies they have never
heard, next to baselines trained on the same clips: MFCC statistics + logistic regression, and
(when the `aisfx` package is installed) the pretrained aiSFX embedding + logistic regression.

Run (corpora built with `auralens corpus build`):
    auralens corpus build --soundfont /usr/share/sounds/sf2/FluidR3_GM.sf2 --melodies 0 --negatives 0 \
        --no-augmentation --concept-size 0 --out o16            # the default bundle's corpus
    auralens corpus build --out o16v2                           # the second edition
    auralens corpus build --soundfont /usr/share/sounds/sf2/TimGM6mb.sf2 --unheard-check \
        --per-class 40 --seed 2 --out timgm                     # the unheard check
    python bench/bench_generalisation.py --train o16 --other o16v2 timgm [--per-class 12] [--bundle DIR]

Prints overall accuracy on the training corpus's test split (in domain) and on each other
corpus's test split, grouped by source (the `soundfont` column) and by clip (single notes,
melodies) where the corpus records them, for every model of the bundle and the baselines.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import librosa
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from auralens.models.audio import AudioConfig
from auralens.models.bundle import load_bundle
from auralens.models.data import ClipTable, FeatureSet, load_features, read_collection
from auralens.models.evaluate import evaluate_model

CLIP_NAMES = {"note": "notes", "melody": "melodies"}


def mfcc_statistics(features: FeatureSet, config: AudioConfig) -> np.ndarray:
    """Mean and deviation of 20 MFCCs and their deltas per clip: ``(N, 80)``."""
    rows = []
    for f in features.features:
        db = 10 * np.log10(np.maximum(config.log_to_power(f.double().numpy()), 1e-10))
        mfcc = librosa.feature.mfcc(S=db, n_mfcc=20)
        delta = librosa.feature.delta(mfcc, mode="nearest")
        rows.append(np.concatenate([mfcc.mean(1), mfcc.std(1), delta.mean(1), delta.std(1)]))
    return np.array(rows)


def aisfx_vectors(records, sample_rate: int) -> np.ndarray:
    """aiSFX embeddings of clips, one at a time (they differ in length): ``(N, 512)``."""
    import torch

    from auralens.models.audio import load_audio
    from auralens.models.aisfx_network import load_encoder
    from auralens.models.embeddings.aisfx import embed

    encoder = load_encoder("cpu").eval()
    with torch.inference_mode():
        return np.stack([embed(encoder, load_audio(r.path, sample_rate).samples[None].astype(np.float32),
                               sample_rate)[0].numpy() for r in records])


def at_most(table: ClipTable, per_class: int | None, seed: int = 0) -> ClipTable:
    """At most ``per_class`` clips of each class of ``table`` (a seeded choice; None: all)."""
    if per_class is None:
        return table
    rng = np.random.default_rng(seed)
    keep = []
    for label in table.labels:
        members = [r for r in table.records if r.label == label]
        keep += [members[i] for i in sorted(rng.choice(len(members), min(per_class, len(members)), replace=False))]
    return ClipTable(table.root, keep, table.has_splits)


def groups(root: str, per_class: int | None) -> dict[str, ClipTable]:
    """The test split of a corpus by source and clip kind (``"<source> notes"``...), or as one
    group named after its folder when it records neither."""
    test = read_collection(root).subset("test")
    keys = sorted({(r.source, r.tags.get("clip", "")) for r in test.records})
    out = {}
    for source, clip in keys:
        name = " ".join(part for part in (source or Path(root).name, CLIP_NAMES.get(clip, "")) if part)
        members = [r for r in test.records if r.source == source and r.tags.get("clip", "") == clip]
        out[name] = at_most(ClipTable(test.root, members, test.has_splits), per_class)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", required=True, help="the corpus the bundle was trained on")
    parser.add_argument("--other", required=True, nargs="+", help="corpora of other samples and melodies")
    parser.add_argument("--bundle", default=None)
    parser.add_argument("--model", default=None)
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--per-class", type=int, default=None,
                        help="at most this many test clips per class in each group (default all)")
    parser.add_argument("--train-per-class", type=int, default=None,
                        help="at most this many training clips per class for the baselines (default all)")
    parser.add_argument("--no-aisfx", action="store_true", help="leave out the aiSFX baseline")
    args = parser.parse_args()

    bundle = load_bundle(args.bundle)
    if args.model:
        bundle.entry(args.model)  # an unknown model id fails here, before any work
    cfg = bundle.audio

    def feats(table):
        return load_features(table, cfg, bundle.classes, cache_dir=args.cache_dir, progress=False)

    corpus = read_collection(args.train)
    train = feats(at_most(corpus.subset("train"), args.train_per_class))
    sets = {"in domain": feats(at_most(corpus.subset("test"), args.per_class))}
    for root in args.other:
        sets.update({name: feats(table) for name, table in groups(root, args.per_class).items()})
    baseline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))
    baseline.fit(mfcc_statistics(train, cfg), train.targets.numpy())

    columns: list[tuple[str, list[float]]] = []
    for mid, e in bundle.models.items():
        if args.model in (None, mid):
            m = bundle.load_model(mid)
            columns.append((f"{mid} ({e.kind})", [evaluate_model(m, d)["oa"] for d in sets.values()]))
    columns.append(("MFCC + LR", [float((baseline.predict(mfcc_statistics(d, cfg)) == d.targets.numpy()).mean())
                                  for d in sets.values()]))
    from auralens.models.aisfx_network import available
    if available() and not args.no_aisfx:
        index = {c: i for i, c in enumerate(bundle.classes)}

        def vectors(data):
            return aisfx_vectors(data.records, cfg.sample_rate), np.array([index[r.label] for r in data.records])

        probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000)).fit(*vectors(train))
        columns.append(("aiSFX + LR", [float((probe.predict(v) == t).mean()) for v, t in map(vectors, sets.values())]))
    print(f"bundle '{bundle.name}'; baselines trained on {len(train)} clips of {args.train}; overall accuracy")
    print("| clips | n | " + " | ".join(name for name, _ in columns) + " |")
    print("|---|---|" + "---|" * len(columns))
    for k, (name, data) in enumerate(sets.items()):
        print(f"| {name} | {len(data)} | " + " | ".join(f"{values[k]:.3f}" for _, values in columns) + " |")


if __name__ == "__main__":
    main()

"""Do source-filter prototypes (a harmonic part that moves with the note, an envelope that stays
in place) explain an instrument better than prototypes that are only transposed?

Closed-form nearest prototype with the annotated pitch, no network: per class (and per register
with --per-class 3) a prototype is fitted on the training clips' sounding, pitched frames
(`fit_source_filter`, or the pitch-aligned mean alone), and a test clip goes to the class whose
prototype explains its frames best, gain fitted per frame. Beside it, MFCC statistics + logistic
regression trained on the same clips.

Run (corpora built with `auralens corpus build`, notes annotated):
    python bench/bench_source_filter.py --train fr7 --other ms timgm opl3 [--per-class 1 3]

Prints overall accuracy per test set, and on single notes and melodies.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).parent))
from bench_generalisation import mfcc_statistics  # noqa: E402

from auralens.models.audio import AudioConfig  # noqa: E402
from auralens.models.data import FeatureSet, load_features, read_collection  # noqa: E402
from auralens.models.prototypes.anchor import (  # noqa: E402
    clip_pitch_tracks, fit_source_filter, median_pitch, pitched_sounding, reference_pitches, source_filter_errors)
from auralens.models.prototypes.pitch import hold_unvoiced, sounding_frames  # noqa: E402
from auralens.models.prototypes.transforms import SpectralTables  # noqa: E402

FRAME_SECONDS = 512 / 22050


def pitched_frames(data: FeatureSet) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Each clip's sounding frames with an annotated pitch: ``[(frames (N, F), pitch (N,))]``."""
    out = []
    for x, track in zip(data.features, clip_pitch_tracks(data.records, data.features, FRAME_SECONDS)):
        keep = pitched_sounding(x, track)
        if not keep.any():  # no note annotated where it sounds: hold the nearest note
            keep, track = sounding_frames(x.unsqueeze(0))[0], hold_unvoiced(track)
        out.append((x[:, keep].T.contiguous(), track[keep]))
    return out


def fit_prototypes(clips, targets: np.ndarray, n_classes: int, per_class: int, envelope: bool, centre_hz):
    """``(harmonic (K, F), envelope (K, F), references (K,), class (K,))`` over registers."""
    harmonic, env, refs, owner = [], [], [], []
    for c in range(n_classes):
        mine = [clips[i] for i in np.flatnonzero(targets == c)]
        medians = np.array([median_pitch(p) for _, p in mine])
        references = reference_pitches(medians, per_class)
        nearest = [int(np.argmin([abs(m - r) for r in references])) for m in medians]
        for j, ref in enumerate(references):
            group = [clip for clip, a in zip(mine, nearest) if a == j] or mine
            frames, pitch = torch.cat([f for f, _ in group]), torch.cat([p for _, p in group])
            h, e = fit_source_filter(frames, pitch, ref, centre_hz, iterations=6 if envelope else 0)
            harmonic.append(h)
            env.append(e if envelope else torch.zeros_like(e))
            refs.append(ref)
            owner.append(c)
    return torch.stack(harmonic), torch.stack(env), torch.tensor(refs), torch.tensor(owner)


def predict(clips, harmonic, env, refs, owner, n_classes: int, centre_hz) -> np.ndarray:
    out = []
    for frames, pitch in clips:
        errors = source_filter_errors(frames, pitch, harmonic, env, refs, centre_hz)
        per_class = torch.full((n_classes,), float("inf")).scatter_reduce(0, owner, errors, "amin")
        out.append(int(per_class.argmin()))
    return np.array(out)


def accuracy_by_clip(data: FeatureSet, pred: np.ndarray) -> str:
    y = data.targets.numpy()
    kinds = np.array([r.tags.get("clip", "note") for r in data.records])
    parts = [f"{(pred == y).mean():.3f}"]
    parts += [f"{k} {(pred[kinds == k] == y[kinds == k]).mean():.3f}" for k in ("note", "melody") if (kinds == k).any()]
    return " / ".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", required=True, help="collection whose train split fits the prototypes")
    ap.add_argument("--other", nargs="*", default=[], help="further collections to test on (test split)")
    ap.add_argument("--per-class", nargs="+", type=int, default=[1, 3], help="prototypes per class")
    args = ap.parse_args()
    config = AudioConfig()
    centre_hz = SpectralTables(config.n_mels, config.fmin, config.mel_fmax).centre_hz
    train = load_features(read_collection(args.train).subset("train"), progress=False)
    names = train.class_names
    sets = {}
    for root in [args.train, *args.other]:
        table = read_collection(root).subset("test")
        table.records = [r for r in table.records if r.label in names]
        sets[root] = load_features(table, class_names=names, progress=False)
    train_clips = pitched_frames(train)
    test_clips = {name: pitched_frames(data) for name, data in sets.items()}
    columns = []
    for per_class in args.per_class:
        for envelope in (False, True):
            tick = time.perf_counter()
            fitted = fit_prototypes(train_clips, train.targets.numpy(), len(names), per_class, envelope, centre_hz)
            label = f"{per_class}/class, {'source-filter' if envelope else 'transposed only'}"
            columns.append((label, [accuracy_by_clip(d, predict(test_clips[n], *fitted, len(names), centre_hz))
                                    for n, d in sets.items()]))
            print(f"{label}: fitted in {time.perf_counter() - tick:.1f} s", file=sys.stderr)
    baseline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))
    baseline.fit(mfcc_statistics(train, config), train.targets.numpy())
    columns.append(("MFCC + LR", [accuracy_by_clip(d, baseline.predict(mfcc_statistics(d, config))) for d in sets.values()]))
    print(f"trained on {len(train)} clips of {args.train}; overall accuracy / notes / melodies")
    print("| test set | n | " + " | ".join(name for name, _ in columns) + " |")
    print("|---|---|" + "---|" * len(columns))
    for k, (name, data) in enumerate(sets.items()):
        print(f"| {name} | {len(data)} | " + " | ".join(values[k] for _, values in columns) + " |")


if __name__ == "__main__":
    main()

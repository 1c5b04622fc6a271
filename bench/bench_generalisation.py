"""How well a bundle's models recognise instruments from sample sets they have never heard,
next to baselines trained on the same clips: MFCC statistics + logistic regression, and (when
the `aisfx` package is installed) the pretrained aiSFX embedding + logistic regression.

Run (corpora built with `auralens corpus build`, e.g. from FluidR3_GM, TimGM6mb, sf_GMbank):
    python bench/bench_generalisation.py --train o16/ --other o16_timgm/ o16_csgm/ [--bundle DIR] [--model ID]

Prints overall accuracy on the training corpus's test split (in domain) and on each other
corpus's test split (unheard samples), for every model of the bundle and for the baselines.
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
from auralens.models.data import FeatureSet, load_features, read_collection
from auralens.models.evaluate import evaluate_model


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", required=True, help="the corpus the bundle was trained on")
    parser.add_argument("--other", required=True, nargs="+", help="corpora rendered from other samples")
    parser.add_argument("--bundle", default=None)
    parser.add_argument("--model", default=None)
    parser.add_argument("--cache-dir", default=None)
    args = parser.parse_args()

    bundle = load_bundle(args.bundle)
    if args.model:
        bundle.entry(args.model)  # an unknown model id fails here, before any work
    cfg = bundle.audio

    def feats(root, split):
        return load_features(read_collection(root).subset(split), cfg, bundle.classes,
                             cache_dir=args.cache_dir, progress=False)

    train, test = feats(args.train, "train"), feats(args.train, "test")
    others = {Path(root).name: feats(root, "test") for root in args.other}
    baseline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))
    baseline.fit(mfcc_statistics(train, cfg), train.targets.numpy())

    def baseline_oa(data):
        return float((baseline.predict(mfcc_statistics(data, cfg)) == data.targets.numpy()).mean())

    rows = []
    for mid, e in bundle.models.items():
        if args.model in (None, mid):
            m = bundle.load_model(mid)
            rows.append((f"{mid} ({e.kind})", [evaluate_model(m, d)["oa"] for d in (test, *others.values())]))
    rows.append(("MFCC + logistic regression", [baseline_oa(d) for d in (test, *others.values())]))
    from auralens.models.aisfx_network import available
    if available():
        index = {c: i for i, c in enumerate(bundle.classes)}

        def vectors(data):
            return aisfx_vectors(data.records, cfg.sample_rate), np.array([index[r.label] for r in data.records])

        probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000)).fit(*vectors(train))
        rows.append(("aiSFX + logistic regression",
                     [float((probe.predict(v) == t).mean()) for v, t in map(vectors, (test, *others.values()))]))
    print(f"bundle '{bundle.name}'; {len(test)} test clips in domain; other samples: "
          + ", ".join(f"{name} {len(d)}" for name, d in others.items()))
    print(f"  {'':<40} {'in domain':>10}" + "".join(f" {name:>14}" for name in others))
    for name, values in rows:
        print(f"  {name:<40} {values[0]:>10.3f}" + "".join(f" {v:>14.3f}" for v in values[1:]))


if __name__ == "__main__":
    main()

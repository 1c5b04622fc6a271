"""How well a bundle's model recognises instruments from sample sets it has never heard,
next to an MFCC + logistic-regression baseline trained on the same clips.

Run (two corpora built with `auralens corpus build`, e.g. FluidR3_GM and TimGM6mb):
    python bench/bench_generalisation.py --train o16/ --other o16_timgm/ [--bundle DIR] [--model ID]

Prints overall accuracy on the training corpus's test split (in domain) and on the other
corpus's test split (unheard samples), for the model and for the baseline.
"""
from __future__ import annotations

import argparse

import librosa
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from models.audio import AudioConfig
from models.bundle import load_bundle
from models.data import FeatureSet, load_features, read_collection
from models.evaluate import evaluate_model


def mfcc_statistics(features: FeatureSet, config: AudioConfig) -> np.ndarray:
    """Mean and deviation of 20 MFCCs and their deltas per clip: ``(N, 80)``."""
    rows = []
    for f in features.features:
        db = 10 * np.log10(np.maximum(config.log_to_power(f.double().numpy()), 1e-10))
        mfcc = librosa.feature.mfcc(S=db, n_mfcc=20)
        delta = librosa.feature.delta(mfcc, mode="nearest")
        rows.append(np.concatenate([mfcc.mean(1), mfcc.std(1), delta.mean(1), delta.std(1)]))
    return np.array(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", required=True, help="the corpus the bundle was trained on")
    parser.add_argument("--other", required=True, help="a corpus rendered from other samples")
    parser.add_argument("--bundle", default=None)
    parser.add_argument("--model", default=None)
    parser.add_argument("--cache-dir", default=None)
    args = parser.parse_args()

    bundle = load_bundle(args.bundle)
    model = bundle.load_model(args.model)
    cfg = bundle.audio

    def feats(root, split):
        return load_features(read_collection(root).subset(split), cfg, bundle.classes,
                             cache_dir=args.cache_dir, progress=False)

    train, test, other = feats(args.train, "train"), feats(args.train, "test"), feats(args.other, "test")
    baseline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))
    baseline.fit(mfcc_statistics(train, cfg), train.targets.numpy())

    def baseline_oa(data):
        return float((baseline.predict(mfcc_statistics(data, cfg)) == data.targets.numpy()).mean())

    print(f"bundle '{bundle.name}', model '{bundle.entry(args.model).id}'; {len(test)} test clips in domain, "
          f"{len(other)} from the other samples")
    print(f"  {'':<28} {'in domain':>10} {'other samples':>14}")
    print(f"  {'spectral prototypes':<28} {evaluate_model(model, test)['oa']:>10.3f} {evaluate_model(model, other)['oa']:>14.3f}")
    print(f"  {'MFCC + logistic regression':<28} {baseline_oa(test):>10.3f} {baseline_oa(other):>14.3f}")


if __name__ == "__main__":
    main()

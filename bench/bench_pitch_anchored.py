"""Do a pitch-anchored model's prototypes sound like their instrument, does its pitch follow the
melody, are its cross-class renderings real attempts, and is it level-invariant?

Run (corpora built with `auralens corpus build`; accuracy beside the baselines is
`bench/bench_generalisation.py`, trust and calibration `auralens bundle add-trust`):
    python bench/bench_pitch_anchored.py --bundle B --data o16fo --melodies o16fo musescore timgm \
        [--model prototypes] [--per-set 96] [--cross-clips 24]

Prints, for the model:
  - per prototype: its reference note and the pitch pYIN hears in its rendering (cents off);
  - pitch following on annotated melody clips of each collection's test split: median over
    clips of the correlation and of the median error (semitones) of `ref + shift` (the model's
    own pitch track) against the notes, voiced frames;
  - cross-class renderings on test clips: the share of (clip, prototype) renderings whose level
    is within 10 dB of the clip's, and the median ratio of each prototype's error with the
    model's transformations to its error with transformations fitted to the clip;
  - level: test-split accuracy with the audio played 20 and 10 dB softer and 10 dB louder;
  - what if: how many untouched prototypes at their reference are classified as their class.
"""
from __future__ import annotations

import argparse
import time

import librosa
import numpy as np
import torch

from auralens.models.audio import LogMel, load_audio
from auralens.models.bundle import load_bundle
from auralens.models.data import ClipTable, load_features, read_collection
from auralens.models.prototypes.anchor import clip_pitch_tracks
from auralens.models.prototypes.fit import fit_transforms
from auralens.models.prototypes.pitch import note_name, sounding_frames
from auralens.models.prototypes.sound import prototype_tone
from auralens.models.prototypes.whatif import steady_scores


def sample(table: ClipTable, n: int, seed: int = 0, clip: str | None = None) -> ClipTable:
    records = [r for r in table.records if clip is None or r.tags.get("clip") == clip]
    rng = np.random.default_rng(seed)
    keep = sorted(rng.choice(len(records), min(n, len(records)), replace=False)) if records else []
    return ClipTable(table.root, [records[i] for i in keep], table.has_splits)


def prototype_pitches(model, audio) -> list[tuple[int, str, float, float]]:
    """(k, class index, reference, pYIN median in MIDI) for every prototype."""
    out = []
    for k in range(model.cfg.n_prototypes):
        ref = float(model.reference_midi[k])
        y = prototype_tone(model, model.reference_spectra()[k].detach(), k, 1.0, audio).numpy()
        lo, hi = librosa.midi_to_hz(max(ref - 14, 20)), librosa.midi_to_hz(min(ref + 14, 110))
        f0, voiced, _ = librosa.pyin(y, fmin=lo, fmax=hi, sr=audio.sample_rate, frame_length=2048)
        heard = float(librosa.hz_to_midi(np.nanmedian(f0[voiced]))) if voiced.any() else float("nan")
        out.append((k, int(model.prototype_class[k]), ref, heard))
    return out


def pitch_following(model, feats, audio) -> tuple[float, float, int]:
    """Median over clips of (correlation, median |error| in semitones) of the model's pitch track
    against annotated notes, on sounding annotated frames; and the clips measured."""
    tracks = clip_pitch_tracks(feats.records, feats.features, audio.frame_seconds)
    rs, errs = [], []
    with torch.inference_mode():
        for x, truth in zip(feats.features, tracks):
            estimate, voiced = model.pitch.track(x.unsqueeze(0))
            ok = ~torch.isnan(truth) & sounding_frames(x.unsqueeze(0))[0]
            if ok.sum() < 5:
                continue
            e, t = estimate[0][ok].numpy(), truth[ok].numpy()
            errs.append(float(np.median(np.abs(e - t))))
            if t.std() > 0 and e.std() > 0:
                rs.append(float(np.corrcoef(e, t)[0, 1]))
    return float(np.median(rs)) if rs else float("nan"), float(np.median(errs)), len(errs)


def cross_class(model, feats, audio, steps: int) -> tuple[float, float]:
    """Share of renderings within 10 dB of the clip, median model/fitted error ratio."""
    within, ratios = [], []
    for x in feats.features:
        xb = x.unsqueeze(0).clone()
        with torch.no_grad():
            recs, _ = model.reconstruct(xb, model.stage)  # (1, K, F, T)
            sounding = sounding_frames(xb)[0]
            clip_db = x[:, sounding].mean(0) * audio.db_per_unit
            rec_db = recs[0][:, :, sounding].mean(1) * audio.db_per_unit  # (K, T')
            within += ((rec_db - clip_db).abs().mean(1) <= 10).tolist()
            errors = model(xb).errors[0]
        fitted, _ = fit_transforms(model, xb, steps=steps) if steps else (errors.unsqueeze(0), None)
        ratios += (errors / fitted[0].clamp_min(1e-9)).tolist()
    return float(np.mean(within)), float(np.median(ratios))


def level_accuracy(model, table: ClipTable, classes, audio, db: float) -> float:
    logmel = LogMel(audio)
    index = {c: i for i, c in enumerate(classes)}
    right = 0
    with torch.inference_mode():
        for r in table.records:
            y = torch.as_tensor(load_audio(r.path, audio.sample_rate).samples) * 10 ** (db / 20)
            right += int(model(logmel(y).unsqueeze(0)).class_errors.argmin(1)) == index[r.label]
    return right / max(len(table.records), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", default=None)
    parser.add_argument("--model", default="prototypes")
    parser.add_argument("--data", required=True, help="the training collection (its test split)")
    parser.add_argument("--melodies", nargs="+", default=[], help="collections with annotated melodies")
    parser.add_argument("--per-set", type=int, default=96, help="test clips per set")
    parser.add_argument("--cross-clips", type=int, default=24, help="clips for the cross-class figures")
    parser.add_argument("--level-clips", type=int, default=None,
                        help="test clips for the level figures (default: --per-set)")
    parser.add_argument("--fit-steps", type=int, default=100, help="gradient steps of the fitted optimum")
    parser.add_argument("--cache-dir", default=None)
    args = parser.parse_args()
    torch.manual_seed(0)

    bundle = load_bundle(args.bundle)
    model = bundle.load_model(args.model)
    audio, classes = bundle.audio, bundle.classes
    if not model.cfg.pitch_anchored:
        raise SystemExit(f"'{args.model}' is not a pitch-anchored model")
    feats = lambda t: load_features(t, audio, classes, cache_dir=args.cache_dir, progress=False)  # noqa: E731
    test = read_collection(args.data).subset("test")

    t0 = time.perf_counter()
    rows = prototype_pitches(model, audio)
    print("prototype | class | reference | pYIN hears | cents off")
    per_class_ok: dict[int, bool] = {}
    for k, c, ref, heard in rows:
        cents = 100 * (heard - ref)
        per_class_ok[c] = per_class_ok.get(c, True) and abs(cents) <= 50
        print(f"{k:>3} | {classes[c]:<12} | {note_name(ref):>4} ({ref:.0f}) | "
              f"{'-' if np.isnan(heard) else f'{heard:.2f}'} | {'-' if np.isnan(cents) else f'{cents:+.0f}'}")
    heard_ok = sum(1 for _, _, ref, h in rows if abs(100 * (h - ref)) <= 50)
    print(f"prototypes heard within 50 cents: {heard_ok} of {len(rows)}; classes with all their prototypes "
          f"within 50 cents: {sum(per_class_ok.values())} of {len(per_class_ok)} ({time.perf_counter() - t0:.0f} s)")

    print("\npitch following (model's pitch track vs annotated notes, sounding frames)")
    print("collection | clips | median r | median error (semitones)")
    for root in args.melodies:
        table = read_collection(root).subset("test")
        r, err, n = pitch_following(model, feats(sample(table, args.per_set, clip="melody")), audio)
        print(f"{root} melodies | {n} | {r:.3f} | {err:.3f}")

    cross = feats(sample(test, args.cross_clips, seed=1))
    share, ratio = cross_class(model, cross, audio, args.fit_steps)
    print(f"\ncross-class renderings on {len(cross)} test clips x {model.cfg.n_prototypes} prototypes: "
          f"{100 * share:.1f} % within 10 dB of the clip's level; median model/fitted error ratio {ratio:.3f}")

    levels = sample(test, args.level_clips or args.per_set, seed=2)
    print(f"\nlevel ({len(levels.records)} test clips): " + ", ".join(
        f"{db:+.0f} dB {level_accuracy(model, levels, classes, audio, db):.3f}" for db in (-20, -10, 0, 10)))

    frames = audio.n_frames(int(1.5 * audio.sample_rate))
    own = sum(int(steady_scores(model, model.reference_spectra()[k].detach(), frames, audio.db_per_unit,
                                float(model.reference_midi[k])).argmax()) == int(model.prototype_class[k])
              for k in range(model.cfg.n_prototypes))
    print(f"what if: {own} of {model.cfg.n_prototypes} untouched prototypes at their reference are their own class")


if __name__ == "__main__":
    main()

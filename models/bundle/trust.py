"""Trust and calibration of a bundle's spectral prototype model, fitted after training.

``add_trust`` fits the "none of these" score on the training collection's ``val`` clips
against half of its negatives (``<data>/negatives/``, written by ``auralens corpus build``),
fits the calibration (a temperature that grows with the clip's best error,
:func:`auralens.models.trust.clip_temperature`) on those ``val`` clips together with one or
more collections from sample sets the model was not trained on, and measures both on what
neither saw: the other half of the negatives, the ``test`` split, and any further check
collections. Everything goes into the model's entry: the fitted parameters in its ``config``
(the model applies them), the figures in ``metrics["trust"]``.
"""
from __future__ import annotations

import csv
from pathlib import Path

import torch

from ..audio import LogMel, load_audio
from ..data import load_features, read_collection
from ..prototypes.evidence import evidence, trust_feature_names
from ..trust import clip_temperature, expected_calibration_error, fit_error_temperature, fit_temperature, fit_trust
from .card import write_model_card
from .format import BundleError, load_bundle


def negative_features(data: str | Path, audio) -> dict[str, list[torch.Tensor]]:
    """Log-mels of a corpus's negatives by kind (``<data>/negatives/manifest.csv``)."""
    folder = (Path(data) if Path(data).is_dir() else Path(data).parent) / "negatives"
    manifest = folder / "manifest.csv"
    if not manifest.is_file():
        raise ValueError(f"{folder} has no manifest.csv: build the collection with `auralens corpus build` "
                         "(its negatives are the sounds a trust score learns to flag).")
    logmel = LogMel(audio)
    out: dict[str, list[torch.Tensor]] = {}
    with open(manifest, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            samples = load_audio(folder / row["path"], audio.sample_rate).samples
            out.setdefault(row["kind"], []).append(logmel(torch.as_tensor(samples)))
    return out


def add_trust(bundle_path: str | Path, data: str | Path, calibrate_on: str | Path | list[str | Path], model_id: str = "prototypes",
              checks: dict[str, str | Path] | None = None, flag_rate: float = 0.03, device="cpu",
              cache_dir=None, progress: bool = False, known_splits: tuple[str, ...] = ("val",)) -> dict:
    """Fit and measure trust and calibration; returns the figures stored in ``metrics["trust"]``.

    Parameters
    ----------
    bundle_path : the bundle; its model ``model_id`` must be a spectral prototype model.
    data : the collection the model was trained on (its ``val`` and ``test`` splits, its negatives).
    calibrate_on : one or more collections from sample sets the model was not trained on; their
        ``train`` and ``val`` clips fit the calibration beside ``data``'s ``val`` clips (each
        collection weighing as much as the others, whatever its size), their ``test`` clips
        measure it.
    checks : further held-out collections (name -> folder) to measure calibration error and the
        share of flagged clips on, e.g. ``{"TimGM6mb": "timgm/"}``.
    flag_rate : share of the known clips the threshold flags.
    known_splits : the splits of ``data`` the model was not trained on that the trust score and
        the calibration learn the known clips from (default its ``val``; all but ``test`` when
        ``data`` is another collection of the training sample sets).

    Examples
    --------
    >>> add_trust("orchestra16/", "o16/", "musescore/", checks={"TimGM6mb": "timgm/"})  # doctest: +SKIP
    {'negatives_flagged': 0.97, 'test_flagged': 0.04, ...}
    """
    bundle = load_bundle(bundle_path)
    entry = bundle.entry(model_id)
    model = bundle.load_model(model_id, device=device)
    if not hasattr(model.cfg, "trust"):
        raise BundleError(f"Trust and calibration are fitted for spectral prototype models; '{model_id}' is "
                          f"{entry.kind}.")
    model.cfg.calibration_temperature, model.cfg.calibration_slope, model.cfg.trust = 1.0, 0.0, None

    def features_of(collection, splits):
        table = read_collection(collection)
        table = type(table)(table.root, [r for r in table.records if r.split in splits], table.has_splits)
        return load_features(table, bundle.audio, bundle.classes, cache_dir=cache_dir, progress=progress)

    if not known_splits or "test" in known_splits:
        raise BundleError("The known clips come from splits other than test (the test split measures).")
    val, test = features_of(data, set(known_splits)), features_of(data, {"test"})
    if len(val) == 0:
        raise BundleError(f"The collection {data} has no clips in its {', '.join(known_splits)} split.")
    ev_val, ev_test = evidence(model, val.features, device), evidence(model, test.features, device)
    negatives = negative_features(data, bundle.audio)
    fit_neg = [f for clips in negatives.values() for f in clips[0::2]]
    names = trust_feature_names(model)
    n_model_columns = 3 if model.cfg.pitch_anchored else 2  # the model's own figures, then the spectral summary
    trust = fit_trust(ev_val.trust, evidence(model, fit_neg, device).trust, flag_rate, names)
    flagged_by_kind = {kind: float(trust.flagged(evidence(model, clips[1::2], device).trust).float().mean())
                       for kind, clips in negatives.items()}
    held_neg = [f for clips in negatives.values() for f in clips[1::2]]
    figures = {
        "features": names[:n_model_columns] + [f"spectral summary ({len(names) - n_model_columns} columns)"],
        "flag_rate": flag_rate, "known_clips": len(val), "known_splits": list(known_splits),
        "negatives_flagged": float(trust.flagged(evidence(model, held_neg, device).trust).float().mean()),
        "negatives_flagged_by_kind": flagged_by_kind, "negatives_measured": len(held_neg),
        "test_flagged": float(trust.flagged(ev_test.trust).float().mean()), "test_measured": len(test),
    }

    sources = [Path(c) for c in ([calibrate_on] if isinstance(calibrate_on, (str, Path)) else calibrate_on)]
    if not sources:
        raise BundleError("Name at least one collection to calibrate on (--calibrate-on).")
    both = {Path(folder).resolve() for folder in (checks or {}).values()} & {s.resolve() for s in sources}
    if both:
        raise BundleError(f"{', '.join(map(str, sorted(both)))} is both a calibration source and a check: a check "
                          "measures calibration on clips it was not fitted on.")
    fits = [features_of(source, {"train", "val"}) for source in sources]
    for source, fit in zip(sources, fits):
        if len(fit) == 0:
            raise BundleError(f"The collection {source} has no train or val clips to fit the temperature on "
                              "(a check corpus built with --unheard-check has only a test split; build one without "
                              "it).")
    ev_fits = [evidence(model, fit.features, device) for fit in fits]
    tau = model.temperature.detach().cpu()
    temperature_alone = fit_temperature(-tau * torch.cat([ev.class_errors for ev in ev_fits]),
                                        torch.cat([fit.targets for fit in fits]))
    centre = float(ev_val.class_errors.amin(1).clamp_min(1e-8).log().median())
    groups = [ev_val, *ev_fits]
    temperature, slope = fit_error_temperature([-tau * ev.class_errors for ev in groups],
                                               [ev.class_errors for ev in groups],
                                               [val.targets, *(fit.targets for fit in fits)], centre)
    figures["calibration"] = {"temperature": temperature, "slope": slope, "centre": centre,
                              "fitted_on": [f"{data} ({', '.join(known_splits)})", *map(str, sources)],
                              "fitted_clips": len(val) + sum(map(len, fits)), "one_temperature": temperature_alone,
                              "sets": {}}
    own_test = f"{Path(data).name} (the training sample sets), test split"
    sets, targets = {own_test: ev_test}, {own_test: test.targets}
    for source in sources:
        held = features_of(source, {"test"})
        name = "calibration source, test split" if len(sources) == 1 else f"calibration source {source.name}, test split"
        sets[name], targets[name] = evidence(model, held.features, device), held.targets
    for name, folder in (checks or {}).items():
        fs = features_of(folder, {"train", "val", "test"})
        sets[name], targets[name] = evidence(model, fs.features, device), fs.targets
        figures.setdefault("checks_flagged", {})[name] = float(trust.flagged(sets[name].trust).float().mean())
    for name, ev in sets.items():
        logits = -tau * ev.class_errors
        raw = torch.softmax(logits, -1)
        alone = torch.softmax(logits / temperature_alone, -1)
        calibrated = torch.softmax(logits / clip_temperature(ev.class_errors, temperature, slope, centre), -1)
        figures["calibration"]["sets"][name] = {
            "n": len(targets[name]), "accuracy": float((raw.argmax(1) == targets[name]).float().mean()),
            "ece_before": expected_calibration_error(raw, targets[name]),
            "ece_one_temperature": expected_calibration_error(alone, targets[name]),
            "ece_after": expected_calibration_error(calibrated, targets[name])}

    entry.config.update(calibration_temperature=temperature, calibration_slope=slope, calibration_centre=centre)
    entry.config["trust"] = trust.to_dict()
    entry.metrics["trust"] = figures
    bundle.save()
    write_model_card(bundle)
    return figures

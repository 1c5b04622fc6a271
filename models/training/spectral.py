"""The spectral prototype model from a labelled collection into a bundle."""
from __future__ import annotations

import shutil
import time
from dataclasses import replace
from pathlib import Path

from .. import distributed
from ..bundle import Bundle, ModelEntry, checkpoint_folder, new_or_existing_bundle, weights_path, write_model_card
from ..checkpoints import Checkpoint, TrainingInterrupted
from ..data import FeatureSet, load_features, read_collection
from ..evaluate import evaluate_model
from ..metrics import SUMMARY
from ..prototypes.anchor import has_notes
from ..prototypes.model import KIND, PrototypeConfig, PrototypeModel
from ..prototypes.train import TrainConfig, stage_weights, train_prototypes
from ..prototypes.transforms import STAGES, stage_index
from ..weights import read_weights, write_weights
from ..corpus.sources import refuse_unheard_check
from .augmentation import augment_training, resolve_augmentation
from .record import RunOptions, readable, training_record


def train_prototypes_into_bundle(
    data: str | Path, out: str | Path, train_cfg: TrainConfig, protos_per_class: int = 1,
    model_id: str | None = None, temperature_init: float = PrototypeConfig.temperature_init,
    run: RunOptions = RunOptions(), pitch_anchored: bool | None = None, source_filter: bool = False,
    last_stage: str | None = None,
) -> ModelEntry | None:
    """Train a spectral prototype model on ``data`` and store it in the bundle at ``out``.

    Under ``torchrun`` every process trains on its share of each batch
    (DistributedDataParallel); rank 0 writes the bundle and returns the entry, the others None.

    The collection's ``train`` split trains, ``val`` selects (early stopping within each
    curriculum stage), ``test`` is evaluated at every stage and recorded in the bundle.
    ``model_id`` defaults to ``prototypes`` (supervised) or ``clusters``. ``pitch_anchored``:
    the second version (prototypes at reference pitches, shifted by the clip's melody), which
    needs note annotations; None chooses it whenever the collection has them. ``source_filter``:
    its prototypes as a harmonic part that moves with the note plus an envelope that stays in
    place (pitch-anchored only). ``last_stage``: where the curriculum ends (default filters;
    a pitch-anchored model ends at pitch or filters). Returns the bundle's
    entry for the model. An interrupted run (Ctrl-C, a crash, the epoch limit: then
    :class:`TrainingInterrupted`) leaves a checkpoint under ``<out>/checkpoints/<model id>``:
    the same call resumes it.
    """
    started = time.perf_counter()
    ctx, dev = distributed.start(run.device)  # under torchrun: one process of several
    progress = run.progress and ctx.is_main
    table = read_collection(data, seed=train_cfg.seed)
    classes = table.labels
    splits = {s: table.subset(s) for s in ("train", "val", "test")}
    if len(splits["train"]) == 0:
        raise ValueError(f"The collection at {data} has no training clips.")
    refuse_unheard_check({r.source for r in splits["train"].records})
    feats = {s: load_features(t, run.audio, classes, cache_dir=run.cache_dir, on_error=run.on_error,
                              progress=progress)
             for s, t in splits.items()}
    train, augmented = augment_training(
        feats["train"], resolve_augmentation(run.augmentation, data), run.audio, train_cfg.seed, progress)
    model_id = model_id or ("prototypes" if train_cfg.supervised else "clusters")
    out = Path(out)
    bundle = new_or_existing_bundle(out, out.name, run.audio, classes)
    anchored = has_notes(train.records) if pitch_anchored is None else pitch_anchored
    if anchored and not has_notes(train.records):
        raise ValueError(f"The collection at {data} has no note annotations (notes.csv) for most of its "
                         "training clips; a pitch-anchored model trains on them. Train the first version "
                         "(no --pitch-anchored) or add the notes.")
    if anchored and last_stage is not None and stage_index(last_stage) < stage_index("pitch"):
        raise ValueError(f"A pitch-anchored model trains with its pitch shift on from the start: its last "
                         f"stage is pitch or filters, not {last_stage}.")
    if source_filter and not anchored:
        raise ValueError("Source-filter prototypes are pitch-anchored: they need the collection's note "
                         "annotations (notes.csv) and a pitch-anchored model.")
    model_cfg = PrototypeConfig(n_classes=len(classes), protos_per_class=protos_per_class,
                                supervised=train_cfg.supervised, n_mels=run.audio.n_mels,
                                fmin=run.audio.fmin, fmax=run.audio.mel_fmax, temperature_init=temperature_init,
                                pitch_anchored=anchored, source_filter=source_filter,
                                last_stage=last_stage or STAGES[-1])
    train_cfg = replace(train_cfg, frame_seconds=run.audio.frame_seconds)
    checkpoint = Checkpoint(checkpoint_folder(out, model_id))
    earlier = checkpoint.trained_seconds()
    model, history = train_prototypes(train, feats["val"], model_cfg, train_cfg, checkpoint.folder, dev,
                                      progress)
    if not ctx.is_main:
        return None  # rank 0 evaluates and writes the bundle
    if not history.finished:
        raise TrainingInterrupted(f"Training stopped after {history.epoch} epochs (the epoch limit); "
                                  f"run the same command again to resume from {checkpoint.folder}.")

    stage_paths = store_stages(checkpoint.folder, out, model_id, model_cfg)
    entry = ModelEntry(
        id=model_id, kind=KIND, config=model_cfg.to_dict(),
        weights=stage_paths[model_cfg.last_stage], stages=stage_paths,  # the final model is the last stage's best
        training=training_record(train_cfg, data, feats, {"epochs": history.epoch, "history": readable(history.log)},
                                 history.calls, time.perf_counter() - started + earlier, model, dev, run.command),
    )
    entry.training["audio_augmentation"] = augmented
    bundle.models[model_id] = entry
    held_out = "test" if len(feats["test"]) else "val"
    entry.metrics = stage_metrics(bundle, model_id, model, held_out, feats[held_out], dev)
    bundle.save()
    write_model_card(bundle)
    checkpoint.remove()
    return entry


def store_stages(workdir: Path, out: Path, model_id: str, model_cfg: PrototypeConfig) -> dict[str, str]:
    """Copy each curriculum stage's weights from the run's folder into the bundle at ``out``;
    returns stage -> path in the bundle (``models/<model id>/<stage>.safetensors``).

    The last stage is stored whole; an earlier stage without what it does not run
    (:meth:`PrototypeModel.stage_state`: at the raw stage, no network). A pitch-anchored model's
    stages are its final weights with fewer transformations switched on (its earlier stages
    need no network of their own): one file, ``models/<model id>/model.safetensors``, for all."""
    last = model_cfg.last_stage
    if model_cfg.pitch_anchored:
        rel = weights_path(model_id, "model.safetensors")
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(stage_weights(workdir, last), out / rel)
        return {stage: rel for stage in model_cfg.stages}
    stage_paths = {stage: weights_path(model_id, f"{stage}.safetensors") for stage in model_cfg.stages}
    for stage, rel in stage_paths.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        if stage == last:
            shutil.copyfile(stage_weights(workdir, stage), out / rel)
        else:
            staged = PrototypeModel(model_cfg)
            staged.load_state_dict(read_weights(stage_weights(workdir, stage)))
            write_weights(out / rel, staged.stage_state())
    return stage_paths


def stage_metrics(bundle: Bundle, model_id: str, model: PrototypeModel, split: str, held_out: FeatureSet,
                  device) -> dict:
    """The entry's metrics: ``split`` (the held-out split's name), the final model's (the last
    stage's) evaluation of its clips ``held_out``, and under ``stages`` the summary figures
    (:data:`SUMMARY` less ``n``) of every stage's stored weights."""
    final = evaluate_model(model, held_out, device)
    metrics = {"split": split, **final, "stages": {}}
    for stage in model.cfg.stages:
        m = final if stage == model.cfg.last_stage else evaluate_model(bundle.load_model(model_id, stage, device),
                                                             held_out, device)
        metrics["stages"][stage] = {k: m[k] for k in SUMMARY if k != "n"}
    return metrics

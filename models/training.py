"""From a labelled collection to a model in a bundle: features, training, evaluation, model card."""
from __future__ import annotations

import shutil
import sys
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path


from . import distributed
from .audio import AudioConfig
from .bundle import ModelEntry, new_or_existing_bundle
from .data import load_features, read_collection
from .evaluate import SUMMARY, evaluate_model
from .model_card import write_model_card
from .prototypes.model import PrototypeConfig
from .prototypes.train import TrainConfig, hardware_summary, train_prototypes
from .runtime import pick_device
from .prototypes.transforms import STAGES


class TrainingInterrupted(RuntimeError):
    """Training stopped before its curriculum ended; its checkpoint resumes it."""


def train_prototypes_into_bundle(
    data: str | Path, out: str | Path, train_cfg: TrainConfig, protos_per_class: int = 1,
    model_id: str | None = None, device: str = "auto", cache_dir=None, on_error: str = "skip",
    progress: bool = True, audio: AudioConfig = AudioConfig(), command: str | None = None,
    temperature_init: float = PrototypeConfig.temperature_init,
) -> ModelEntry | None:
    """Train a spectral prototype model on ``data`` and store it in the bundle at ``out``.

    Under ``torchrun`` every process trains on its share of each batch
    (DistributedDataParallel); rank 0 writes the bundle and returns the entry, the others None.

    The collection's ``train`` split trains, ``val`` selects (early stopping within each
    curriculum stage), ``test`` is evaluated at every stage and recorded in the bundle.
    Returns the bundle's entry for the model. An interrupted run (Ctrl-C, a crash, the epoch
    limit) leaves a checkpoint under ``<out>/checkpoints/<model id>``: the same call resumes it.
    """
    started = time.perf_counter()
    ctx, dev = distributed.start(device)  # under torchrun: one process of several
    progress = progress and ctx.is_main
    table = read_collection(data, seed=train_cfg.seed)
    classes = table.labels
    splits = {s: table.subset(s) for s in ("train", "val", "test")}
    if len(splits["train"]) == 0:
        raise ValueError(f"The collection at {data} has no training clips.")
    feats = {s: load_features(t, audio, classes, cache_dir=cache_dir, on_error=on_error, progress=progress)
             for s, t in splits.items()}
    model_id = model_id or ("prototypes" if train_cfg.supervised else "clusters")
    out = Path(out)
    bundle = new_or_existing_bundle(out, out.name, audio, classes)
    model_cfg = PrototypeConfig(n_classes=len(classes), protos_per_class=protos_per_class,
                                supervised=train_cfg.supervised, n_mels=audio.n_mels,
                                fmin=audio.fmin, fmax=audio.mel_fmax, temperature_init=temperature_init)
    workdir = out / "checkpoints" / model_id
    model, history = train_prototypes(feats["train"], feats["val"], model_cfg, train_cfg, workdir, dev, progress)
    if not ctx.is_main:
        return None  # rank 0 evaluates and writes the bundle
    if not history.finished:
        raise TrainingInterrupted(f"Training stopped after {history.epoch} epochs (the epoch limit); "
                                  f"run the same command again to resume from {workdir}.")

    stage_paths = {stage: f"models/{model_id}/{stage}.safetensors" for stage in STAGES}
    for stage, rel in stage_paths.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(workdir / f"stage-{stage}.safetensors", out / rel)

    counts = {s: dict(sorted(Counter(r.label for r in f.records).items())) for s, f in feats.items()}
    entry = ModelEntry(
        id=model_id, kind="spectral-prototypes", config=model_cfg.to_dict(),
        weights=stage_paths[STAGES[-1]], stages=stage_paths,  # the final model is the last stage's best
        training={
            "command": command or " ".join(["auralens"] + sys.argv[1:]),
            "seed": train_cfg.seed, "settings": asdict(train_cfg),
            "data": {"source": str(Path(data).resolve()), "clips": {s: len(f) for s, f in feats.items()},
                     "per_class": counts, "skipped": sum(len(f.skipped) for f in feats.values())},
            "epochs": history.epoch, "history": history.log,
            "wall_time_s": round(time.perf_counter() - started, 1), "hardware": hardware_summary(dev),
            "n_parameters": sum(p.numel() for p in model.parameters()),
        },
    )
    bundle.models[model_id] = entry
    held_out = "test" if len(feats["test"]) else "val"
    final = evaluate_model(model, feats[held_out], dev)  # the final model is the last stage's
    entry.metrics = {"split": held_out, **final, "stages": {}}
    for stage in STAGES:
        m = final if stage == STAGES[-1] else evaluate_model(bundle.load_model(model_id, stage, dev),
                                                             feats[held_out], dev)
        entry.metrics["stages"][stage] = {k: m[k] for k in SUMMARY if k != "n"}
    bundle.save()
    write_model_card(bundle)
    shutil.rmtree(workdir)
    if not any((out / "checkpoints").iterdir()):
        (out / "checkpoints").rmdir()
    return entry

"""From a labelled collection to a model in a bundle: features, training, evaluation, model card."""
from __future__ import annotations


import json
import shutil
import sys
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path


from . import distributed
from .audio import AudioConfig
from .bundle import ModelEntry, new_or_existing_bundle, write_model_card
from .data import load_features, read_collection
from .evaluate import evaluate_model
from .metrics import SUMMARY
from .kinds import kind_named
from .prototypes.model import KIND as SPECTRAL, PrototypeConfig
from .prototypes.train import TrainConfig, hardware_summary, train_prototypes
from .runtime import pick_device
from .prototypes.transforms import STAGES


class TrainingInterrupted(RuntimeError):
    """Training stopped before its curriculum ended; its checkpoint resumes it."""


def readable(log: list[dict], digits: int = 5) -> list[dict]:
    """An epoch log as the bundle records it: floats to ``digits`` significant digits.

    >>> readable([{"epoch": 1, "train_loss": 0.08636818858129637}])
    [{'epoch': 1, 'train_loss': 0.086368}]
    """
    return [{k: float(f"{v:.{digits}g}") if isinstance(v, float) else v for k, v in entry.items()} for entry in log]


def earlier_training_seconds(workdir: Path) -> float:
    """Seconds an interrupted run spent training before this call (0 for a new run).

    ``workdir``: the run's checkpoint folder (``<out>/checkpoints/<model id>``); its
    ``history.json`` keeps the time trained up to the last checkpoint.
    """
    path = Path(workdir) / "history.json"
    return float(json.loads(path.read_text()).get("seconds", 0.0)) if path.is_file() else 0.0


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
    earlier = earlier_training_seconds(workdir)
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
        id=model_id, kind=SPECTRAL, config=model_cfg.to_dict(),
        weights=stage_paths[STAGES[-1]], stages=stage_paths,  # the final model is the last stage's best
        training={
            "command": command or " ".join(["auralens"] + sys.argv[1:]),
            "seed": train_cfg.seed, "settings": asdict(train_cfg),
            "data": {"source": str(Path(data).resolve()), "clips": {s: len(f) for s, f in feats.items()},
                     "per_class": counts, "skipped": sum(len(f.skipped) for f in feats.values())},
            "epochs": history.epoch, "history": readable(history.log),
            "wall_time_s": round(time.perf_counter() - started + earlier, 1), "calls": history.calls,
            "hardware": hardware_summary(dev),
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


HALF_PRECISION_PREFIXES = ("encoder.", "decoder.")  # stored as float16: halves the bundle's share


def train_latent_into_bundle(
    data: str | Path, out: str | Path, train_cfg, protos_per_class: int = 3, model_id: str = "latent",
    device: str = "auto", cache_dir=None, on_error: str = "skip", progress: bool = True,
    audio: AudioConfig = AudioConfig(), command: str | None = None, latent_dim: int = 128,
    judge: str | None = "auto", half_precision: bool = True, model_options: dict | None = None,
    encoder: str = "own",
) -> ModelEntry:
    """Train a latent prototype model on ``data`` and store it in the bundle at ``out``.

    The collection's ``train`` split trains the autoencoder and the prototypes, ``val`` selects
    (early stopping in both phases), ``test`` is evaluated and recorded. Besides OA and AA the
    metrics hold the decoder's reconstruction error and the accuracy on *decoded* test clips,
    by the latent model itself and by ``judge``: another model of the bundle (``"auto"``: its
    first supervised spectral prototype model, if any; ``None``: none). Each prototype's
    nearest training clip is copied into the bundle (see :mod:`auralens.models.bundle.nearest`).
    ``model_options`` sets further :class:`~auralens.models.latent.model.LatentConfig` fields (sizes).
    ``encoder``: ``"own"`` trains one here; ``"aisfx"`` uses the pretrained aiSFX network,
    frozen, with a 512-number space (needs ``pip install --no-deps aisfx==0.1.2`` to train; its
    weights go into the bundle); ``"auto"``: aisfx when installed, else own.

    Encoder and decoder weights are stored as float16 when ``half_precision`` (the metrics
    are those of the stored model). An interrupted run resumes from
    ``<out>/checkpoints/<model id>`` with the same call.

    Examples
    --------
    >>> from auralens.models.latent.train import LatentTrainConfig
    >>> entry = train_latent_into_bundle("o16/", "bundle/", LatentTrainConfig())   # doctest: +SKIP
    >>> entry.metrics["oa"], entry.metrics["decoded"]["oa"]                         # doctest: +SKIP
    (0.97, 0.9)
    """
    from .bundle import write_nearest_clips
    from .weights import write_weights
    from .latent.evaluate import decoded_metrics, embed_clips, reconstruction_errors
    from .latent.model import KIND, LatentConfig
    from .latent.train import settings_for, train_latent

    from .embeddings.aisfx import available as aisfx_available

    if encoder == "auto":
        encoder = "aisfx" if aisfx_available() else "own"
    if encoder not in ("own", "aisfx"):
        raise ValueError(f"Unknown encoder '{encoder}': own, aisfx or auto.")
    if encoder == "aisfx" and not aisfx_available():
        raise ValueError("The aisfx encoder needs the aisfx package's weights: pip install --no-deps aisfx==0.1.2")
    if encoder == "aisfx" and train_cfg.augment:
        raise ValueError("Augmentation trains the encoder, and the aisfx encoder is frozen: leave out --augment.")
    started = time.perf_counter()
    dev = pick_device(device)
    table = read_collection(data, seed=train_cfg.seed)
    classes = table.labels
    if len(table.subset("train")) == 0:
        raise ValueError(f"The collection at {data} has no training clips.")
    # all clips in one call: the feature cache of a collection then holds every split at once
    feats = _by_split(load_features(table, audio, classes, cache_dir=cache_dir, on_error=on_error,
                                    progress=progress))
    out = Path(out)
    bundle = new_or_existing_bundle(out, out.name, audio, classes)
    if judge not in (None, "auto"):
        bundle.entry(judge)  # fail now, not after training, when there is no such model
    lengths = sorted(f.shape[-1] for f in feats["train"].features)
    pretrained = {"encoder": "aisfx", "latent_dim": 512, "audio": audio.to_dict()} if encoder == "aisfx" else {}
    model_cfg = LatentConfig(n_classes=len(classes), protos_per_class=protos_per_class, n_mels=audio.n_mels,
                             frames=max(16, lengths[len(lengths) // 2]),
                             **{"latent_dim": latent_dim, **(model_options or {}), **pretrained})
    train_cfg = settings_for(model_cfg, train_cfg)  # what is recorded is what applied
    workdir = out / "checkpoints" / model_id
    earlier = earlier_training_seconds(workdir)
    model, history = train_latent(feats["train"], feats["val"], model_cfg, train_cfg, workdir, dev, progress)
    if not history.finished:
        raise TrainingInterrupted(f"Training stopped after {history.epoch} autoencoder epochs (the epoch limit); "
                                  f"run the same command again to resume from {workdir}.")

    rel = f"models/{model_id}/model.safetensors"
    (out / rel).parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.half() if half_precision and k.startswith(HALF_PRECISION_PREFIXES) and v.is_floating_point()
             else v for k, v in model.state_dict().items()}
    write_weights(out / rel, state)
    train_recs = feats["train"].records
    nearest = write_nearest_clips(out, model_id, [
        {"prototype": k, "label": classes[int(model.prototype_class[k])], "path": train_recs[i].path,
         "source": _relative(train_recs[i].path, table.root), "clip_label": train_recs[i].label,
         "split": train_recs[i].split, "distance": d}
        for k, (i, d) in enumerate(zip(history.nearest, history.nearest_distance))], audio.sample_rate)

    counts = {s: dict(sorted(Counter(r.label for r in f.records).items())) for s, f in feats.items()}
    log = history.prototype_log
    entry = ModelEntry(
        id=model_id, kind=KIND, config=model_cfg.to_dict(), weights=rel, stages={},
        training={
            "command": command or " ".join(["auralens"] + sys.argv[1:]),
            "seed": train_cfg.seed, "settings": asdict(train_cfg),
            "data": {"source": str(Path(data).resolve()), "clips": {s: len(f) for s, f in feats.items()},
                     "per_class": counts, "skipped": sum(len(f.skipped) for f in feats.values())},
            "epochs": history.epoch, "prototype_epochs": history.prototype_epochs,
            "history": readable(history.log),
            "prototype_history": readable([e for e in log if e["epoch"] % 10 == 0 or e is log[-1]]),
            "nearest_clips": [{"prototype": n.prototype, "source": n.source, "clip_label": n.clip_label,
                               "distance": round(n.distance, 5)} for n in nearest],
            "wall_time_s": round(time.perf_counter() - started + earlier, 1), "calls": history.calls,
            "hardware": hardware_summary(dev),
            "n_parameters": sum(p.numel() for p in model.parameters()),
            "n_trained_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
            "encoder": ("the pretrained aiSFX network (Ma and Lerch, CC BY 4.0), frozen"
                        if encoder == "aisfx" else "trained here"),
            "weights_dtype": "float16 encoder and decoder" if half_precision else "float32",
        },
    )
    bundle.models[model_id] = entry
    stored = bundle.load_model(model_id, device=dev)  # the metrics are those of what was written
    held_out = "test" if len(feats["test"]) else "val"
    final = evaluate_model(stored, feats[held_out], dev)
    judge_model, judge_id = None, None
    if judge == "auto":
        judge_id = next((e.id for e in bundle.models.values()
                         if e.kind != KIND and kind_named(e.kind).supervised(e.config)), None)
    elif judge:
        judge_id = bundle.entry(judge).id
    if judge_id is not None:
        judge_model = bundle.load_model(judge_id, device=dev)
    decoded = decoded_metrics(stored, feats[held_out], dev,
                              judge_model and (lambda data: evaluate_model(judge_model, data, dev)))
    if judge_id is not None:
        decoded["judge"]["model"] = judge_id
    probe = _embedding_probe(embed_clips(stored, feats["train"].features, dev), feats["train"].targets,
                             embed_clips(stored, feats[held_out].features, dev), feats[held_out].targets,
                             train_cfg.seed)
    entry.metrics = {"split": held_out, **final, "decoded": decoded, "embedding_probe_oa": probe,
                     "train_reconstruction_error": float(reconstruction_errors(stored, feats["train"].features,
                                                                               dev).mean())}
    bundle.save()
    _refresh_best_clips(bundle, model_id, stored)
    write_model_card(bundle)
    shutil.rmtree(workdir)
    if not any((out / "checkpoints").iterdir()):
        (out / "checkpoints").rmdir()
    return entry


def _by_split(features):
    """``{"train", "val", "test"}`` -> the FeatureSet of the clips of that split."""
    import torch

    from .data import FeatureSet

    out = {}
    for split in ("train", "val", "test"):
        idx = [i for i, r in enumerate(features.records) if r.split == split]
        out[split] = FeatureSet([features.features[i] for i in idx],
                                features.targets[torch.tensor(idx, dtype=torch.long)], features.class_names,
                                [features.records[i] for i in idx], features.skipped if split == "train" else [],
                                features.n_decoded if split == "train" else 0)
    return out


def _relative(path: Path, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path(root).resolve()))
    except ValueError:
        return str(path)


def _embedding_probe(S, y, S_test, y_test, seed: int) -> float:
    """Accuracy of a logistic regression on the embeddings: what the space itself allows (the
    prototype model should keep most of it)."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(max_iter=2000, random_state=seed).fit(S.numpy(), y.numpy())
    return float((clf.predict(S_test.numpy()) == y_test.numpy()).mean()) if len(y_test) else 0.0


def _refresh_best_clips(bundle, model_id: str, model) -> None:
    """When the bundle has a listening corpus, name each new prototype's best clips in it."""
    import json

    import torch

    from .atomic import write_bytes_atomic
    from .audio import load_audio, log_mel
    from .bundle import CORPUS_DIR, best_clips, read_corpus
    from .metrics import model_errors

    clips = read_corpus(bundle.path)
    if not clips:
        return
    features = [log_mel(load_audio(c.path, bundle.audio.sample_rate).samples, bundle.audio) for c in clips]
    errors = model_errors(model, features, next(model.parameters()).device)  # (N, K)
    order = torch.argsort(errors, dim=0)[:3]  # (3, K)
    best = best_clips(bundle.path)
    best[model_id] = [[clips[int(i)].id for i in order[:, k]] for k in range(errors.shape[1])]
    write_bytes_atomic(bundle.path / CORPUS_DIR / "best_clips.json", json.dumps(best).encode())

"""The latent prototype model from a labelled collection into a bundle.

:func:`train_latent_into_bundle` reads the clips, trains (:func:`auralens.models.latent.train.train_latent`),
then stores the weights and each prototype's nearest training clip, evaluates what was stored
(besides OA and AA: reconstructions, decoded clips, also by a judge model, and an embedding
probe) and writes the bundle's entry and model card.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch

from ..audio import AudioConfig
from ..bundle import (LATENT_WEIGHTS, Bundle, ModelEntry, NearestClip, checkpoint_folder, new_or_existing_bundle,
                      refresh_best_clips, weights_path, write_model_card, write_nearest_clips)
from ..checkpoints import Checkpoint, TrainingInterrupted
from ..data import FeatureSet, load_features, read_collection
from ..aisfx_network import available as aisfx_available
from ..evaluate import evaluate_model
from ..kinds import KINDS
from ..latent.evaluate import decoded_metrics, embed_clips, reconstruction_errors
from ..latent.model import KIND, LatentConfig, LatentPrototypeModel
from ..latent.train import History, LatentTrainConfig, settings_for, train_latent
from ..runtime import pick_device
from ..weights import write_weights
from ..corpus.sources import refuse_unheard_check
from .augmentation import augment_training, resolve_augmentation
from .record import RunOptions, readable, training_record

HALF_PRECISION_PREFIXES = ("encoder.", "decoder.")  # stored as float16: halves the bundle's share


@dataclass(frozen=True)
class LatentOptions:
    """The latent model a run puts into a bundle, besides its training settings."""

    protos_per_class: int = 3
    model_id: str = "latent"  # its name in the bundle
    latent_dim: int = 128  # size of the embedding with an encoder trained here (aisfx: 512)
    # own: an encoder trained here; aisfx: the pretrained aiSFX network, frozen (needs
    # pip install --no-deps aisfx==0.1.2 to train; its weights go into the bundle); auto: aisfx when installed
    encoder: str = "own"
    # the model of the bundle that also classifies decoded clips (auto: its first supervised model
    # of another kind, if any; None: none)
    judge: str | None = "auto"
    half_precision: bool = True  # store encoder and decoder weights as float16
    model_options: dict | None = None  # further LatentConfig fields (sizes)


def train_latent_into_bundle(data: str | Path, out: str | Path, train_cfg: LatentTrainConfig,
                             options: LatentOptions = LatentOptions(), run: RunOptions = RunOptions()) -> ModelEntry:
    """Train a latent prototype model on ``data`` and store it in the bundle at ``out``.

    The collection's ``train`` split trains the autoencoder and the prototypes, ``val`` selects
    (early stopping in both phases), ``test`` is evaluated and recorded. Besides OA and AA the
    metrics hold the decoder's reconstruction error and the accuracy on *decoded* test clips,
    by the latent model itself and by ``options.judge``. Each prototype's nearest training clip
    is copied into the bundle (see :mod:`auralens.models.bundle.nearest`). The metrics are those
    of the stored model (float16 encoder and decoder with ``options.half_precision``).

    An interrupted run (the epoch limit: then :class:`TrainingInterrupted`) resumes from
    ``<out>/checkpoints/<model id>`` with the same call.

    Examples
    --------
    >>> entry = train_latent_into_bundle("o16/", "bundle/", LatentTrainConfig())   # doctest: +SKIP
    >>> entry.metrics["oa"], entry.metrics["decoded"]["oa"]                         # doctest: +SKIP
    (0.97, 0.9)
    """
    encoder = resolve_encoder(options.encoder, train_cfg)
    model_id = options.model_id
    started = time.perf_counter()
    dev = pick_device(run.device)
    table = read_collection(data, seed=train_cfg.seed)
    classes = table.labels
    if len(table.subset("train")) == 0:
        raise ValueError(f"The collection at {data} has no training clips.")
    refuse_unheard_check({r.source for r in table.subset("train").records})
    # all clips in one call: the feature cache of a collection then holds every split at once
    feats = by_split(load_features(table, run.audio, classes, cache_dir=run.cache_dir, on_error=run.on_error,
                                   progress=run.progress))
    train, augmented = augment_training(
        feats["train"], resolve_augmentation(run.augmentation, data), run.audio, train_cfg.seed, run.progress)
    out = Path(out)
    bundle = new_or_existing_bundle(out, out.name, run.audio, classes)
    if options.judge not in (None, "auto"):
        bundle.entry(options.judge)  # fail now, not after training, when there is no such model
    model_cfg = latent_config(len(classes), train, run.audio, options, encoder)
    train_cfg = settings_for(model_cfg, train_cfg)  # what is recorded is what applied
    checkpoint = Checkpoint(checkpoint_folder(out, model_id))
    earlier = checkpoint.trained_seconds()
    model, history = train_latent(train, feats["val"], model_cfg, train_cfg, checkpoint.folder, dev,
                                  run.progress)
    if not history.finished:
        raise TrainingInterrupted(f"Training stopped after {history.epoch} autoencoder epochs (the epoch limit); "
                                  f"run the same command again to resume from {checkpoint.folder}.")

    rel = store_weights(model, out, model_id, options.half_precision)
    nearest = store_nearest_clips(out, model_id, model, history, train, table.root, run.audio)
    log = history.prototype_log
    epochs = {
        "epochs": history.epoch, "prototype_epochs": history.prototype_epochs,
        "history": readable(history.log),
        "prototype_history": readable([e for e in log if e["epoch"] % 10 == 0 or e is log[-1]]),
        "nearest_clips": [{"prototype": n.prototype, "source": n.source, "clip_label": n.clip_label,
                           "distance": round(n.distance, 5)} for n in nearest],
    }
    training = training_record(train_cfg, data, feats, epochs, history.calls, time.perf_counter() - started + earlier,
                               model, dev, run.command)
    training.update({
        "n_trained_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "encoder": ("the pretrained aiSFX network (Ma and Lerch, CC BY 4.0), frozen"
                    if encoder == "aisfx" else "trained here"),
        "weights_dtype": "float16 encoder and decoder" if options.half_precision else "float32",
        "audio_augmentation": augmented,
    })
    entry = ModelEntry(id=model_id, kind=KIND, config=model_cfg.to_dict(), weights=rel, stages={}, training=training)
    bundle.models[model_id] = entry
    stored = bundle.load_model(model_id, device=dev)  # the metrics are those of what was written
    entry.metrics = latent_metrics(bundle, stored, feats, options.judge, train_cfg.seed, dev)
    bundle.save()
    refresh_best_clips(bundle, model_id, stored)
    write_model_card(bundle)
    checkpoint.remove()
    return entry


def resolve_encoder(encoder: str, train_cfg: LatentTrainConfig) -> str:
    """``own`` or ``aisfx`` (``auto``: aisfx when its weights are installed); a ValueError for
    an unknown name, missing aisfx weights, or augmentation with the frozen aisfx encoder."""
    if encoder == "auto":
        encoder = "aisfx" if aisfx_available() else "own"
    if encoder not in ("own", "aisfx"):
        raise ValueError(f"Unknown encoder '{encoder}': own, aisfx or auto.")
    if encoder == "aisfx" and not aisfx_available():
        raise ValueError("The aisfx encoder needs the aisfx package's weights: pip install --no-deps aisfx==0.1.2")
    if encoder == "aisfx" and train_cfg.augment:
        raise ValueError("Augmentation trains the encoder, and the aisfx encoder is frozen: leave out --augment.")
    return encoder


def latent_config(n_classes: int, train: FeatureSet, audio: AudioConfig, options: LatentOptions,
                  encoder: str) -> LatentConfig:
    """The model's configuration: the decoder's length is the training clips' median (at least
    16 frames); ``options.model_options`` set further fields; the aisfx encoder fixes its own."""
    lengths = sorted(f.shape[-1] for f in train.features)
    pretrained = {"encoder": "aisfx", "latent_dim": 512, "audio": audio.to_dict()} if encoder == "aisfx" else {}
    return LatentConfig(n_classes=n_classes, protos_per_class=options.protos_per_class, n_mels=audio.n_mels,
                        frames=max(16, lengths[len(lengths) // 2]),
                        **{"latent_dim": options.latent_dim, **(options.model_options or {}), **pretrained})


def store_weights(model: LatentPrototypeModel, out: Path, model_id: str, half_precision: bool) -> str:
    """Write the model's weights into the bundle (encoder and decoder as float16 when
    ``half_precision``); returns their path in the bundle (``models/<model id>/model.safetensors``)."""
    rel = weights_path(model_id, LATENT_WEIGHTS)
    (out / rel).parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.half() if half_precision and k.startswith(HALF_PRECISION_PREFIXES) and v.is_floating_point()
             else v for k, v in model.state_dict().items()}
    write_weights(out / rel, state)
    return rel


def store_nearest_clips(out: Path, model_id: str, model: LatentPrototypeModel, history: History,
                        train: FeatureSet, root: Path, audio: AudioConfig) -> list[NearestClip]:
    """Copy each prototype's nearest training clip (``history.nearest``, indices into ``train``)
    into the bundle; ``root``: the collection's folder, which the clips' sources are named from."""
    classes, recs = train.class_names, train.records
    return write_nearest_clips(out, model_id, [
        {"prototype": k, "label": classes[int(model.prototype_class[k])], "path": recs[i].path,
         "source": _relative(recs[i].path, root), "clip_label": recs[i].label,
         "split": recs[i].split, "distance": d}
        for k, (i, d) in enumerate(zip(history.nearest, history.nearest_distance))], audio.sample_rate)


def judge_of(bundle: Bundle, judge: str | None, device) -> tuple[str | None, torch.nn.Module | None]:
    """The judge's id and model (eval mode on ``device``): ``judge`` by id, the bundle's first
    supervised model of another kind for ``"auto"`` (none when there is none), none for None."""
    judge_id = None
    if judge == "auto":
        judge_id = next((e.id for e in bundle.models.values()
                         if e.kind != KIND and e.kind in KINDS and KINDS[e.kind].supervised(e.config)), None)
    elif judge:
        judge_id = bundle.entry(judge).id
    return judge_id, (bundle.load_model(judge_id, device=device) if judge_id is not None else None)


def latent_metrics(bundle: Bundle, stored: LatentPrototypeModel, feats: dict[str, FeatureSet], judge: str | None,
                   seed: int, device) -> dict:
    """The entry's metrics for the stored model, on the test split (val when there is none):
    ``{split, <evaluate_model's figures>, decoded: decoded_metrics(...) [with judge.model],
    embedding_probe_oa, train_reconstruction_error}``."""
    held_out = "test" if len(feats["test"]) else "val"
    final = evaluate_model(stored, feats[held_out], device)
    judge_id, judge_model = judge_of(bundle, judge, device)
    judge_figures = (lambda data: evaluate_model(judge_model, data, device)) if judge_model is not None else None
    decoded = decoded_metrics(stored, feats[held_out], device, judge_figures)
    if judge_id is not None:
        decoded["judge"]["model"] = judge_id
    probe = _embedding_probe(embed_clips(stored, feats["train"].features, device), feats["train"].targets,
                             embed_clips(stored, feats[held_out].features, device), feats[held_out].targets, seed)
    return {"split": held_out, **final, "decoded": decoded, "embedding_probe_oa": probe,
            "train_reconstruction_error": float(reconstruction_errors(stored, feats["train"].features, device).mean())}


def by_split(features: FeatureSet) -> dict[str, FeatureSet]:
    """``{"train", "val", "test"}`` -> the FeatureSet of the clips of that split (the skipped
    files and the decoded count go with ``train``)."""
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

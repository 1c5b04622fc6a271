"""Training of the spectral prototype model: curriculum, checkpoints, resume, clustering.

The curriculum switches the transformations on one at a time - raw prototypes, + gain,
+ pitch shift, + filters - each when the training loss has stopped improving for
``patience`` epochs (or after ``max_epochs_per_stage``). Within a stage the state with the
best validation score is kept (honest early stopping) and saved: the app shows every stage.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from .. import distributed
from ..checkpoints import Checkpoint
from ..data import FeatureSet
from ..metrics import classification_metrics, model_errors
from ..runtime import pick_device
from ..weights import read_weights, write_weights
from .anchor import anchored_init, clip_pitch_tracks
from .augment import Augmentation, augment
from .model import PrototypeConfig, PrototypeModel
from .pitch import hold_unvoiced, sounding_frames
from .transforms import STAGES, stage_index


@dataclass
class TrainConfig:
    supervised: bool = True
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-6  # none on prototypes and temperature
    ce_weight: float = 0.02  # lambda of the cross-entropy term (supervised); lambda * tau ~ 1
    temperature_lr_scale: float = 5.0
    patience: int = 4  # epochs without training-loss improvement before the next stage
    max_epochs_per_stage: int = 15
    min_delta: float = 1e-4  # relative improvement that counts
    warmup_steps: int = 200  # a new decoder's learning rate grows from 1e-3x to 1x
    frames: int = 256  # longest training excerpt (frames); shorter clips are padded with silence
    augment: bool = True
    reseed_fraction: float = 0.02  # clustering: re-seed prototypes used by fewer clips
    seed: int = 0
    max_epochs: int | None = None  # stop (resumable) after this many epochs in all
    compile: bool = False  # torch.compile the networks (needs a C++ compiler on CPU; faster steps)
    frame_seconds: float = 512 / 22050  # of the features: places annotated notes on frames
    clips_per_epoch: int | None = None  # draw this many training clips per epoch (None: all)
    # Ours: a pitch-anchored model's prototypes are pulled toward their pitch-aligned start by
    # ``anchor_weight * mean((P - P0) ** 2)``, so that discriminative training sharpens their
    # timbre without washing out the partials that make them sound at their reference (0: off).
    anchor_weight: float = 0.0
    # Learning rate of the prototypes (and envelopes), times ``lr``. None: 0.1 for a pitch-anchored
    # model, which starts from spectra fitted to its class's frames (at the full rate discriminative
    # steps undo that fit within a few epochs: fr7 test 0.93 at the start, 0.82 after six epochs),
    # 1 for the first version, which starts from k-means centres.
    prototype_lr_scale: float | None = None


@dataclass
class History:
    """What happened, epoch by epoch; enough to resume."""

    epoch: int = 0
    stage: str = "raw"
    epochs_in_stage: int = 0
    best_train: float = math.inf
    since_improved: int = 0
    best_val: float = -math.inf
    step: int = 0
    stage_started_step: int = 0
    finished: bool = False
    calls: int = 0  # calls that trained this run: 1 + the times it was resumed
    seconds: float = 0.0  # wall time spent training, all calls together, up to the last checkpoint
    log: list = field(default_factory=list)


def active_frames_mean(x: torch.Tensor, margin: float = 0.2) -> torch.Tensor:
    """Mean spectrum over a clip's sounding frames (within ``margin`` log units of its loudest)."""
    level = x.mean(0)  # (T,)
    active = level >= level.max() - margin
    return x[:, active].mean(1)


def init_prototypes(model: PrototypeModel, data: FeatureSet, cfg: TrainConfig, gen: torch.Generator) -> None:
    """k-means++ on the clips' sounding-frame mean spectra (per class when supervised), plus noise."""
    from sklearn.cluster import KMeans

    spectra = torch.stack([active_frames_mean(f) for f in data.features]).numpy()
    K, ppc = model.cfg.n_prototypes, model.cfg.protos_per_class
    seed = int(cfg.seed)
    if cfg.supervised:
        centres = []
        for c in range(model.cfg.n_classes):
            members = spectra[(data.targets == c).numpy()]
            if len(members) == 0:
                members = spectra
            k = min(ppc, len(members))
            km = KMeans(k, init="k-means++", n_init=3, random_state=seed).fit(members)
            rows = km.cluster_centers_
            centres.append(np.concatenate([rows, rows[: ppc - k]]) if k < ppc else rows)
        init = np.concatenate(centres)
    else:
        init = KMeans(min(K, len(spectra)), init="k-means++", n_init=3, random_state=seed).fit(spectra).cluster_centers_
        if len(init) < K:
            init = np.concatenate([init, init[: K - len(init)]])
    noise = 0.01 * torch.randn(K, model.cfg.n_mels, generator=gen)
    with torch.no_grad():
        model.prototypes.copy_(torch.from_numpy(init).float() + noise)


def init_anchored(model: PrototypeModel, data: FeatureSet, tracks: list[torch.Tensor], cfg: TrainConfig,
                  gen: torch.Generator) -> None:
    """Pitch-anchored start: reference pitches over each class's register and pitch-aligned
    mean spectra (:func:`auralens.models.prototypes.anchor.anchored_init`), plus noise."""
    mc = model.cfg
    prototypes, references, owner, envelopes = anchored_init(
        data.features, tracks, data.targets if cfg.supervised else None, mc.n_classes, mc.protos_per_class,
        model.tables.centre_hz, cfg.seed, source_filter=mc.source_filter)
    with torch.no_grad():
        model.prototypes.copy_(prototypes + 0.01 * torch.randn(prototypes.shape, generator=gen))
        if model.envelopes is not None:
            model.envelopes.copy_(envelopes)
        model.reference_midi.copy_(torch.tensor(references))
        if cfg.supervised:
            model.prototype_class.copy_(owner)


def make_optimizer(model: PrototypeModel, cfg: TrainConfig) -> torch.optim.AdamW:
    groups = [
        {"name": "prototypes", "params": [model.prototypes] + ([] if model.envelopes is None else [model.envelopes]),
         "weight_decay": 0.0, "scale": prototype_lr_scale(model.cfg, cfg)},
        {"name": "temperature", "params": [model.theta], "weight_decay": 0.0, "scale": cfg.temperature_lr_scale},
    ]
    if model.encoder is not None:  # a model without networks that predict has none
        groups.append({"name": "encoder", "params": list(model.encoder.parameters()),
                       "weight_decay": cfg.weight_decay, "scale": 1.0})
    groups += [{"name": f"decoder.{n}", "params": list(d.parameters()), "weight_decay": cfg.weight_decay, "scale": 1.0}
               for n, d in model.decoders.items()]
    if model.cfg.pitch_anchored:
        groups.append({"name": "pitch", "params": list(model.pitch.parameters()), "weight_decay": cfg.weight_decay,
                       "scale": 1.0})
    return torch.optim.AdamW(groups, lr=cfg.lr, foreach=True)


def prototype_lr_scale(model_cfg: PrototypeConfig, cfg: TrainConfig) -> float:
    """The prototypes' learning rate relative to ``cfg.lr`` (see ``TrainConfig.prototype_lr_scale``)."""
    if cfg.prototype_lr_scale is not None:
        return float(cfg.prototype_lr_scale)
    return 0.1 if model_cfg.pitch_anchored else 1.0


def set_learning_rates(opt, cfg: TrainConfig, hist: History) -> None:
    """Base rate x group scale, with the newest decoder warming up from 1e-3x."""
    warm = min(1.0, (hist.step - hist.stage_started_step) / max(cfg.warmup_steps, 1))
    for g in opt.param_groups:  # decoders are named after the stage that switches them on
        factor = 10 ** (-3 * (1 - warm)) if g["name"] == f"decoder.{hist.stage}" else 1.0
        g["lr"] = cfg.lr * g["scale"] * factor


def first_stage(model_cfg: PrototypeConfig) -> str:
    """Where the curriculum starts: a pitch-anchored model trains with its pitch shift on from
    the start (prototypes trained at one pitch become envelopes), the first version raw."""
    return "pitch" if model_cfg.pitch_anchored else STAGES[0]


def loss_of(model: PrototypeModel, x: torch.Tensor, y: torch.Tensor, cfg: TrainConfig,
            track: torch.Tensor | None = None):
    """The training loss of a batch and what the model said. ``track (B, T)``: the annotated
    pitch (NaN: no note) that a pitch-anchored model trains with."""
    core = model.module if hasattr(model, "module") else model
    if core.cfg.pitch_anchored:
        return anchored_loss(model, core, x, y, cfg, track)
    out = model(x)
    if cfg.supervised:
        own = out.class_errors.gather(1, y[:, None]).squeeze(1)
        loss = own.mean() + cfg.ce_weight * F.cross_entropy(out.logits, y)
    else:
        loss = out.errors.min(1).values.mean()
    return loss, out


def anchored_loss(net, model: PrototypeModel, x: torch.Tensor, y: torch.Tensor, cfg: TrainConfig,
                  track: torch.Tensor):
    """Pitch-anchored training: every prototype's error for the filter network, the own
    class's error and the classification term for the prototypes and the temperature
    (:meth:`PrototypeModel.fair_terms`), and the pitch network against the annotation."""
    terms = net(x, f0=hold_unvoiced(track), fair=True)
    class_errors = model.class_errors(terms.errors)
    if cfg.supervised:
        own = class_errors.gather(1, y[:, None]).squeeze(1)
        loss = own.mean() + cfg.ce_weight * F.cross_entropy(-model.temperature * class_errors, y)
    else:
        loss = terms.errors.min(1).values.mean()
    loss = loss + terms.fit_errors.mean() + model.pitch.loss(terms.pitch_logits, track, sounding_frames(x))
    anchor = getattr(model, "anchor", None)
    if cfg.anchor_weight and anchor is not None:
        loss = loss + cfg.anchor_weight * anchor_term(model.prototypes, anchor)
    return loss, terms


def anchor_term(prototypes: torch.Tensor, anchor: torch.Tensor) -> torch.Tensor:
    """``mean((P - P0) ** 2)`` over prototypes ``(K, F)`` and their pitch-aligned start ``(K, F)``
    (log units squared): how far training has moved the prototypes from harmonic tones."""
    return (prototypes - anchor).square().mean()


def anchor_file(workdir: Path) -> Path:
    """Where a pitch-anchored run keeps its prototypes' pitch-aligned start (for the anchor term
    on resume)."""
    return Path(workdir) / "anchor.safetensors"


def fixed_length(features: list[torch.Tensor], frames: int, gen: torch.Generator,
                 tracks: list[torch.Tensor] | None = None):
    """``(N, F, L)``: each clip cropped at random to ``L`` frames or padded with silence.

    With ``tracks`` (``[(T_i,)]`` per-frame values, e.g. annotated pitch), also returns them
    cropped alike, ``(N, L)``, NaN where padded.
    """
    L = min(frames, max(f.shape[-1] for f in features))
    out = torch.zeros(len(features), features[0].shape[0], L)
    cropped = torch.full((len(features), L), float("nan"))
    for i, f in enumerate(features):
        T = f.shape[-1]
        if T > L:
            start = int(torch.randint(T - L + 1, (1,), generator=gen))
            out[i] = f[:, start:start + L]
            if tracks is not None:
                cropped[i] = tracks[i][start:start + L]
        else:
            out[i, :, :T] = f
            if tracks is not None:
                cropped[i, :T] = tracks[i]
    return out if tracks is None else (out, cropped)


def validation_score(model, val: FeatureSet, device, cfg: TrainConfig, assignment_labels=None) -> dict:
    """Supervised: accuracy (higher is better); clustering: minus the reconstruction error."""
    errors = model_errors(model, val.features, device)
    best_error = float(errors.min(1).values.mean())
    if cfg.supervised:
        pred = model.class_errors(errors.to(model.prototype_class.device)).argmin(1).cpu().numpy()
        acc = classification_metrics(val.targets.numpy(), pred, val.class_names)["oa"]
        return {"score": acc + 1e-3 * (1 - best_error), "accuracy": acc, "error": best_error}
    return {"score": -best_error, "error": best_error}


def reseed_unused(model: PrototypeModel, opt, counts: torch.Tensor, fraction: float, gen: torch.Generator) -> list[int]:
    """Clustering: copy a well-used prototype (plus noise, with its optimiser state and decoder
    rows) over every prototype chosen by fewer than ``fraction`` of the clips."""
    total = counts.sum()
    unused = [k for k in range(len(counts)) if counts[k] < fraction * total]
    K = model.cfg.n_prototypes
    for k in unused:
        j = int(counts.argmax())
        with torch.no_grad():
            noise = 0.01 * torch.randn(model.cfg.n_mels, generator=gen).to(model.prototypes.device)
            model.prototypes[k] = model.prototypes[j] + noise
            if model.cfg.pitch_anchored:
                model.reference_midi[k] = model.reference_midi[j]
            _copy_state(opt, model.prototypes, k, j)
            if model.envelopes is not None:
                model.envelopes[k] = model.envelopes[j]
                _copy_state(opt, model.envelopes, k, j)
            for decoder in model.decoders.values():
                head = decoder.head[-1]
                n_params = head.out_channels // K
                for p in range(n_params):
                    for param in (head.weight, head.bias):
                        param[p * K + k] = param[p * K + j]
                        _copy_state(opt, param, p * K + k, p * K + j)
        counts[j] = counts[j] / 2
        counts[k] = counts[j]
    return unused


def _copy_state(opt, param, dst: int, src: int) -> None:
    state = opt.state.get(param, {})
    for key in ("exp_avg", "exp_avg_sq"):
        if key in state:
            state[key][dst] = state[key][src]


def stage_weights(workdir: Path, stage: str) -> Path:
    """The file of a stage's best validation state in a training run's folder."""
    return Path(workdir) / f"stage-{stage}.safetensors"


def train_prototypes(train: FeatureSet, val: FeatureSet, model_cfg: PrototypeConfig, cfg: TrainConfig,
                     workdir: Path, device="auto", progress: bool = True) -> tuple[PrototypeModel, History]:
    """Train with the curriculum; resume from ``workdir`` when it holds a checkpoint.

    Parameters
    ----------
    train, val : features of the training and validation clips (same ``class_names``).
    model_cfg : the model's configuration (``n_classes`` = number of classes).
    cfg : training settings.
    workdir : folder for the checkpoint (:mod:`auralens.models.checkpoints`; weights in
        ``last.safetensors``) and per-stage weights (:func:`stage_weights`).

    Returns
    -------
    The model and the history; ``history.finished`` is False when ``cfg.max_epochs`` stopped
    the run early (call again with the same ``workdir`` to resume). Once finished: the trained
    model (best validation state of the last stage; clusters named after the
    majority class of their training clips when unsupervised), and the history.
    """
    device = pick_device(device) if isinstance(device, str) else device
    ctx = distributed.current()  # under torchrun: this process's share of each batch
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    checkpoint = Checkpoint(workdir, "last.safetensors")
    gen = torch.Generator().manual_seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    model = PrototypeModel(model_cfg)
    opt = make_optimizer(model, cfg)
    tick = time.perf_counter()
    hist = History(stage=first_stage(model_cfg))
    tracks = clip_pitch_tracks(train.records, train.features, cfg.frame_seconds) if model_cfg.pitch_anchored else None
    if checkpoint.exists:
        hist = checkpoint.read_history(History)
        model.load_state_dict(checkpoint.restore(opt, gen, device))
    elif model_cfg.pitch_anchored:
        init_anchored(model, train, tracks, cfg, gen)
        if ctx.is_main:
            write_weights(anchor_file(workdir), {"prototypes": model.prototypes.detach().clone()})
    else:
        init_prototypes(model, train, cfg, gen)
    if model_cfg.pitch_anchored:
        model_cfg.reference_midi = tuple(float(r) for r in model.reference_midi.tolist())
        if cfg.anchor_weight and anchor_file(workdir).exists():  # not in the state dict: training only
            model.register_buffer("anchor", read_weights(anchor_file(workdir))["prototypes"], persistent=False)
    if not hist.finished:
        hist.calls += 1
    model.to(device)
    distributed.broadcast_state(model)
    if cfg.compile:
        for net in (*([model.encoder] if model.encoder is not None else []), *model.decoders.values()):
            net.compile()  # in place: the state dict keeps its names
    if hist.finished:
        model.load_state_dict(read_weights(stage_weights(workdir, model_cfg.last_stage)))
        return model, hist
    # the order of clips and the crops are drawn alike everywhere; augmentation differs per process
    aug_gen = gen if not ctx.active else torch.Generator().manual_seed(cfg.seed * 1000 + ctx.rank)
    net = model if not ctx.active else torch.nn.parallel.DistributedDataParallel(model, find_unused_parameters=True)
    bar = tqdm(total=None, desc="training", unit="epoch", disable=not (progress and ctx.is_main), leave=True)
    while not hist.finished:
        if cfg.max_epochs is not None and hist.epoch >= cfg.max_epochs:
            break  # the checkpoint in workdir resumes from here
        model.stage = hist.stage
        model.train()
        train_loss, counts = train_epoch(net, opt, train, cfg, hist, gen, aug_gen, device, tracks)
        hist.epoch += 1
        hist.epochs_in_stage += 1
        if not cfg.supervised:
            reseeded = reseed_unused(model, opt, distributed.sum_across(counts), cfg.reseed_fraction, gen)
        val_stats = shared_validation_score(model, val, device, cfg, train_loss)
        hist.log.append({"epoch": hist.epoch, "stage": hist.stage, "train_loss": train_loss,
                         **{f"val_{k}": v for k, v in val_stats.items() if k != "score"}})
        if not cfg.supervised:
            hist.log[-1]["reseeded"] = reseeded
        if val_stats["score"] > hist.best_val:
            hist.best_val = val_stats["score"]
            if ctx.is_main:
                write_weights(stage_weights(workdir, hist.stage), model.state_dict())
        if train_loss < hist.best_train * (1 - cfg.min_delta):
            hist.best_train, hist.since_improved = train_loss, 0
        else:
            hist.since_improved += 1
        bar.update(1)
        bar.set_postfix(stage=hist.stage, loss=f"{train_loss:.4f}",
                        **({"val_acc": f"{val_stats['accuracy']:.3f}"} if "accuracy" in val_stats else
                           {"val_err": f"{val_stats.get('error', 0):.4f}"}))
        if stage_is_over(hist, cfg):
            _next_stage(model, workdir, hist, device)
        hist.seconds, tick = hist.seconds + time.perf_counter() - tick, time.perf_counter()
        if ctx.is_main:
            checkpoint.save(model.state_dict(), opt, gen, hist)
    bar.close()
    if hist.finished:
        _final_weights(model, train, cfg, workdir, device)
    return model, hist


def train_epoch(net, opt: torch.optim.Optimizer, train: FeatureSet, cfg: TrainConfig, hist: History,
                gen: torch.Generator, aug_gen: torch.Generator, device,
                tracks: list[torch.Tensor] | None = None) -> tuple[float, torch.Tensor]:
    """One pass over the training clips at ``hist.stage``, this process taking its share of
    each batch; advances ``hist.step``.

    ``net``: the model (in train mode), or its DistributedDataParallel wrapper. ``gen`` draws
    the crops and the order of clips, ``aug_gen`` the augmentation; ``tracks`` are the clips'
    annotated pitch (a pitch-anchored model). Returns the mean training
    loss over all processes and, for clustering, ``(K,)`` how often each prototype explained a
    clip of this process best (zeros when supervised).
    """
    ctx = distributed.current()
    model = net.module if ctx.active else net
    if tracks is None:
        X, P = fixed_length(train.features, cfg.frames, gen), None
    else:
        X, P = fixed_length(train.features, cfg.frames, gen, tracks)
    order = torch.randperm(len(train), generator=gen)
    if cfg.clips_per_epoch:
        order = order[:cfg.clips_per_epoch]
    counts = torch.zeros(model.cfg.n_prototypes)
    per_step = cfg.batch_size * ctx.world_size  # clips per optimiser step, all processes together
    n_batches = max(1, len(order) // per_step)
    # stretching the band or time axis would move notes away from their annotation
    aug = Augmentation(stretch=0.0, time_stretch=0.0) if P is not None else Augmentation()
    total = 0.0
    for b in range(n_batches):
        idx = order[b * per_step:(b + 1) * per_step][ctx.rank::ctx.world_size]
        x = X[idx].to(device)
        if cfg.augment:
            x = augment(x, aug, aug_gen)
        set_learning_rates(opt, cfg, hist)
        loss, out = loss_of(net, x, train.targets[idx].to(device), cfg, None if P is None else P[idx].to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        hist.step += 1
        total += loss.item()
        if not cfg.supervised:  # how often each prototype explains a clip best, for re-seeding
            counts += torch.bincount(out.errors.argmin(1).cpu(), minlength=model.cfg.n_prototypes)
    train_loss = float(distributed.sum_across(torch.tensor([total], dtype=torch.float64))) / n_batches / ctx.world_size
    return train_loss, counts


def shared_validation_score(model, val: FeatureSet, device, cfg: TrainConfig, train_loss: float) -> dict:
    """:func:`validation_score` measured by rank 0 and sent to every process (so that all take
    rank 0's decisions); without validation clips the score is minus ``train_loss``."""
    ctx = distributed.current()
    if not len(val):
        stats = {"score": -train_loss}
    elif ctx.is_main:
        stats = validation_score(model, val, device, cfg)
    else:  # filled in from rank 0's measurement below
        stats = dict.fromkeys(["accuracy", "error", "score"] if cfg.supervised else ["error", "score"], 0.0)
    if ctx.active:
        keys = sorted(stats)
        stats = dict(zip(keys, distributed.broadcast_floats([float(stats[k]) for k in keys])))
    return stats


def stage_is_over(hist: History, cfg: TrainConfig) -> bool:
    """The curriculum moves on: no training-loss improvement for ``patience`` epochs, or the
    stage's epoch budget spent."""
    return hist.since_improved >= cfg.patience or hist.epochs_in_stage >= cfg.max_epochs_per_stage


def _next_stage(model: PrototypeModel, workdir: Path, hist: History, device) -> None:
    """Go back to the stage's best validation state, then switch the next transformation on."""
    if distributed.current().is_main:
        model.load_state_dict(read_weights(stage_weights(workdir, hist.stage)))
    model.to(device)
    distributed.broadcast_state(model)
    i = stage_index(hist.stage)
    if i == stage_index(model.cfg.last_stage):
        hist.finished = True
        return
    hist.stage = STAGES[i + 1]
    model.stage = hist.stage
    hist.epochs_in_stage, hist.since_improved = 0, 0
    hist.best_train, hist.best_val = math.inf, -math.inf
    hist.stage_started_step = hist.step


def _final_weights(model: PrototypeModel, train: FeatureSet, cfg: TrainConfig, workdir: Path, device) -> None:
    """The end of the curriculum: ``model`` takes the last stage's best state; for clustering,
    every saved stage first names its clusters from its own assignments. Rank 0 holds the
    files; the other processes get the result from it. A pitch-anchored model's stages before
    its first trained one are that stage's weights with fewer transformations on."""
    if distributed.current().is_main:
        start = stage_index(first_stage(model.cfg))
        for stage in STAGES[:start]:
            weights = read_weights(stage_weights(workdir, STAGES[start]))
            weights["stage_buffer"] = torch.tensor(stage_index(stage))
            write_weights(stage_weights(workdir, stage), weights)
        model.load_state_dict(read_weights(stage_weights(workdir, model.cfg.last_stage)))
        if not cfg.supervised:
            for stage in model.cfg.stages:
                staged = PrototypeModel(model.cfg).to(device)
                staged.load_state_dict(read_weights(stage_weights(workdir, stage)))
                name_clusters(staged, train, device)
                write_weights(stage_weights(workdir, stage), staged.state_dict())
            model.load_state_dict(read_weights(stage_weights(workdir, model.cfg.last_stage)))
    distributed.broadcast_state(model)


@torch.inference_mode()
def name_clusters(model: PrototypeModel, train: FeatureSet, device) -> None:
    """Clustering: each prototype takes the majority class of the training clips it explains best."""
    errors = model_errors(model, train.features, device)
    choice = errors.argmin(1)
    overall = int(torch.bincount(train.targets).argmax())
    classes = []
    for k in range(model.cfg.n_prototypes):
        members = train.targets[choice == k]
        classes.append(int(torch.bincount(members).argmax()) if len(members) else overall)
    model.prototype_class.copy_(torch.tensor(classes))

"""``auralens train prototypes`` and ``auralens train latent``: train a model into a bundle."""
from __future__ import annotations

from pathlib import Path

from .options import add_collection_options, add_device_option, group, set_torch_threads


def _in_calls(training: dict) -> str:
    """``, 2 calls`` when the run was resumed after an interruption."""
    return f", {training['calls']} calls" if training.get("calls", 1) > 1 else ""


def _augmentation(args):
    """``--audio-augment``: "corpus" (what the collection asks for), "none", or kinds to use."""
    from auralens.models.augment import AugmentConfig

    choice = args.audio_augment
    if choice == ["corpus"]:
        return "corpus"
    if choice == ["none"]:
        return None
    return AugmentConfig(views=args.augment_views).only(choice)


def _add_augmentation_options(parser) -> None:
    from auralens.models.augment import KINDS

    parser.add_argument("--audio-augment", nargs="+", default=["corpus"], metavar="KIND",
                        help="train-time augmentation of the clips' audio: corpus (default: what the collection's "
                             "augmentation.json asks for; none when it has none), none, or kinds among "
                             + ", ".join(KINDS))
    parser.add_argument("--augment-views", type=int, default=1,
                        help="augmented copies of each training clip with --audio-augment KIND... (default 1)")


def run_prototypes(args) -> int:
    from auralens.models.prototypes.train import TrainConfig
    from auralens.models.runtime import keep_freed_memory
    from auralens.models.training.record import RunOptions
    from auralens.models.training.spectral import train_prototypes_into_bundle

    keep_freed_memory()
    if args.anchor_weight < 0:
        raise ValueError("--anchor-weight must be 0 (off) or more.")
    if args.prototype_lr_scale is not None and args.prototype_lr_scale < 0:
        raise ValueError("--prototype-lr-scale must be 0 (prototypes held) or more.")
    cfg = TrainConfig(supervised=not args.unsupervised, batch_size=args.batch_size, lr=args.lr,
                      patience=args.patience, max_epochs_per_stage=args.epochs_per_stage,
                      augment=not args.no_augment, seed=args.seed, ce_weight=args.ce_weight,
                      compile=args.compile, clips_per_epoch=args.clips_per_epoch, frames=args.frames,
                      anchor_weight=args.anchor_weight, prototype_lr_scale=args.prototype_lr_scale)
    set_torch_threads(args.threads)
    entry = train_prototypes_into_bundle(
        args.data, args.out, cfg, protos_per_class=args.protos_per_class, model_id=args.model_id,
        temperature_init=args.temperature_init,
        pitch_anchored={"auto": None, "yes": True, "no": False}[args.pitch_anchored],
        source_filter=args.source_filter, last_stage=args.last_stage,
        run=RunOptions(device=args.device, cache_dir=args.cache_dir, on_error=args.on_error, progress=not args.quiet,
                       augmentation=_augmentation(args)))
    if entry is None:  # another process of a torchrun launch: rank 0 reports
        return 0
    m = entry.metrics
    print(f"model '{entry.id}' saved in {args.out} after {entry.training['epochs']} epochs "
          f"({entry.training['wall_time_s']:.0f} s{_in_calls(entry.training)})")
    print(f"{m['split']} split, {m['n']} clips: OA {m['oa']:.3f}, AA {m['aa']:.3f}, macro F1 {m['macro_f1']:.3f}")
    for stage, s in m["stages"].items():
        print(f"  {stage:<8} OA {s['oa']:.3f}  reconstruction error {s['reconstruction_error']:.5f}")
    return 0


def run_latent(args) -> int:
    from auralens.models.latent.train import LatentTrainConfig
    from auralens.models.runtime import keep_freed_memory
    from auralens.models.training.latent import LatentOptions, train_latent_into_bundle
    from auralens.models.training.record import RunOptions

    keep_freed_memory()
    if args.protos_per_class < 1:
        raise ValueError("--protos-per-class must be at least 1.")
    cfg = LatentTrainConfig(batch_size=args.batch_size, lr=args.lr, ae_epochs=args.ae_epochs,
                            ae_patience=args.ae_patience, class_weight=args.class_weight,
                            cycle_weight=args.cycle_weight, augment=args.augment,
                            alpha=args.alpha, proto_epochs=args.proto_epochs, seed=args.seed)
    set_torch_threads(args.threads)
    entry = train_latent_into_bundle(
        args.data, args.out, cfg,
        LatentOptions(protos_per_class=args.protos_per_class, model_id=args.model_id, latent_dim=args.latent_dim,
                      judge=None if args.judge == "none" else args.judge, encoder=args.encoder),
        RunOptions(device=args.device, cache_dir=args.cache_dir, on_error=args.on_error, progress=not args.quiet,
                   augmentation=_augmentation(args)))
    m, d = entry.metrics, entry.metrics["decoded"]
    print(f"model '{entry.id}' saved in {args.out} after {entry.training['epochs']} autoencoder and "
          f"{entry.training['prototype_epochs']} prototype epochs ({entry.training['wall_time_s']:.0f} s"
          f"{_in_calls(entry.training)})")
    print(f"{m['split']} split, {m['n']} clips: OA {m['oa']:.3f}, AA {m['aa']:.3f}, macro F1 {m['macro_f1']:.3f}")
    print(f"  decoder reconstruction error {m['reconstruction_error']:.5f} (training clips "
          f"{m['train_reconstruction_error']:.5f})")
    print(f"  decoded clips: OA {d['oa']:.3f}, AA {d['aa']:.3f}" + (
        f"; by model '{d['judge']['model']}': OA {d['judge']['oa']:.3f}" if "judge" in d else ""))
    return 0


def add_commands(sub) -> None:
    from auralens.models.latent.train import LatentTrainConfig
    from auralens.models.prototypes.model import PrototypeConfig
    from auralens.models.prototypes.train import TrainConfig
    from auralens.models.prototypes.transforms import STAGES

    train = group(sub, "train", "train a model into a bundle", metavar="MODEL")
    protos = train.add_parser(
        "prototypes", help="the spectral prototype model (supervised, or clustering)",
        epilog="On several processes or machines, run it under torchrun (DistributedDataParallel, gloo on CPU, "
               "nccl on GPU): torchrun --standalone --nproc-per-node 2 -m auralens.server.cli train prototypes ...")
    add_collection_options(protos)
    protos.add_argument("--out", required=True, type=Path, help="bundle folder (created, or a model is added)")
    protos.add_argument("--unsupervised", action="store_true", help="clustering: no labels used in training")
    protos.add_argument("--model-id", default=None, help="name in the bundle (default prototypes / clusters)")
    protos.add_argument("--protos-per-class", type=int, default=1, help="prototypes for each class (default 1)")
    add_device_option(protos, "training runs")
    protos.add_argument("--seed", type=int, default=0, help="same seed, same model (default 0)")
    protos.add_argument("--batch-size", type=int, default=TrainConfig.batch_size, help="clips per step")
    protos.add_argument("--lr", type=float, default=TrainConfig.lr, help="AdamW learning rate")
    protos.add_argument("--patience", type=int, default=TrainConfig.patience,
                        help="epochs without improvement before the next stage")
    protos.add_argument("--epochs-per-stage", type=int, default=TrainConfig.max_epochs_per_stage,
                        help="most epochs in one curriculum stage")
    protos.add_argument("--ce-weight", type=float, default=TrainConfig.ce_weight,
                        help="weight of the classification term (supervised)")
    protos.add_argument("--temperature-init", type=float, default=PrototypeConfig.temperature_init,
                        help="initial inverse temperature parameter of the classification term")
    protos.add_argument("--no-augment", action="store_true", help="train without augmentation")
    protos.add_argument("--pitch-anchored", choices=("auto", "yes", "no"), default="auto",
                        help="prototypes at reference pitches, shifted by the clip's melody (needs the "
                             "collection's notes.csv); auto: whenever the notes are there (default)")
    protos.add_argument("--source-filter", action="store_true",
                        help="pitch-anchored prototypes as source and filter: a harmonic part that moves with the "
                             "note and an envelope (body resonances, formants) that stays in place")
    protos.add_argument("--last-stage", choices=STAGES, default=None,
                        help="where the curriculum ends, the transformations the model decides with (default "
                             "filters; a pitch-anchored model: pitch or filters)")
    protos.add_argument("--anchor-weight", type=float, default=TrainConfig.anchor_weight,
                        help="pull a pitch-anchored model's prototypes toward their pitch-aligned start, so that "
                             "they keep their partials (weight of the mean squared difference; default 0: off)")
    protos.add_argument("--prototype-lr-scale", type=float, default=None,
                        help="the prototypes' learning rate as a share of --lr (default 0.1 for a pitch-anchored "
                             "model, which starts from spectra fitted to its classes, 1 for the first version)")
    protos.add_argument("--clips-per-epoch", type=int, default=None,
                        help="training clips drawn per epoch (default: all)")
    protos.add_argument("--frames", type=int, default=TrainConfig.frames,
                        help=f"longest training excerpt in frames (default {TrainConfig.frames})")
    protos.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    protos.add_argument("--compile", action="store_true",
                        help="compile the networks with torch.compile (faster steps; needs a C++ compiler)")
    _add_augmentation_options(protos)
    protos.set_defaults(func=run_prototypes)

    latent = train.add_parser("latent", help="latent prototypes in an autoencoder's space, heard through its decoder")
    add_collection_options(latent)
    latent.add_argument("--out", required=True, type=Path, help="bundle folder (created, or a model is added)")
    latent.add_argument("--model-id", default="latent", help="name in the bundle (default latent)")
    latent.add_argument("--protos-per-class", type=int, default=3, help="prototypes for each class (default 3)")
    add_device_option(latent, "training runs")
    latent.add_argument("--seed", type=int, default=0, help="same seed, same model (default 0)")
    latent.add_argument("--batch-size", type=int, default=LatentTrainConfig.batch_size,
                        help="clips per autoencoder step")
    latent.add_argument("--lr", type=float, default=LatentTrainConfig.lr, help="autoencoder AdamW learning rate")
    latent.add_argument("--ae-epochs", type=int, default=LatentTrainConfig.ae_epochs,
                        help="most autoencoder epochs")
    latent.add_argument("--ae-patience", type=int, default=LatentTrainConfig.ae_patience,
                        help="autoencoder epochs without validation improvement before stopping")
    latent.add_argument("--encoder", choices=("auto", "own", "aisfx"), default="auto",
                        help="aisfx: the pretrained aiSFX network, frozen (needs pip install --no-deps "
                             "aisfx==0.1.2; its weights go into the bundle); own: one trained here; "
                             "auto (default): aisfx when installed, else own")
    latent.add_argument("--latent-dim", type=int, default=128,
                        help="size of the embedding with an encoder trained here (default 128; aisfx: 512)")
    latent.add_argument("--class-weight", type=float, default=LatentTrainConfig.class_weight,
                        help="weight of a classification term on the embedding while the autoencoder trains")
    latent.add_argument("--cycle-weight", type=float, default=LatentTrainConfig.cycle_weight,
                        help="weight of a classification term on re-encoded decodings (trains the decoder)")
    latent.add_argument("--augment", action="store_true", help="augment the autoencoder's training clips")
    latent.add_argument("--alpha", type=float, default=LatentTrainConfig.alpha,
                        help="weight of the prototype loss (1 - alpha: the cross-entropy)")
    latent.add_argument("--proto-epochs", type=int, default=LatentTrainConfig.proto_epochs,
                        help="most prototype epochs")
    latent.add_argument("--judge", default="auto",
                        help="model of the bundle that also classifies decoded clips (auto: the first "
                             "supervised spectral prototype model; none: no judge)")
    latent.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    _add_augmentation_options(latent)
    latent.set_defaults(func=run_latent)

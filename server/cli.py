"""The `auralens` command line: serve the app, build corpora, inspect audio, prepare data.

Errors a person can fix (a missing file, audio that cannot be used, a malformed collection)
are printed as one line on stderr with exit status 2, never as a traceback.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

from . import __version__


def _cmd_serve(args) -> int:
    import uvicorn

    from auralens.models.runtime import keep_freed_memory

    from .app import create_app

    keep_freed_memory()
    app = create_app(device=args.device, bundle=args.bundle, data_dir=args.data_dir,
                     max_upload_mb=args.max_upload_mb, max_seconds=args.max_seconds)
    print(f"auralens {__version__}: open http://{args.host}:{args.port}/ in a browser", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def _cmd_corpus_build(args) -> int:
    from auralens.models.corpus import build_corpus

    report = build_corpus(
        args.soundfont, args.out, per_class=args.per_class, seed=args.seed,
        concept_size=args.concept_size, random_sets=args.random_sets,
        audio_format=args.format, workers=args.workers, progress=not args.quiet,
    )
    print(report.summary())
    return 0


def _cmd_audio_info(args) -> int:
    from auralens.models.audio import AudioError, load_audio

    status = 0
    for path in args.files:
        try:
            audio = load_audio(path, sample_rate=None, max_seconds=args.max_seconds)
        except (AudioError, FileNotFoundError) as err:
            print(f"{path}: {err}")
            status = 2
            continue
        peak = float(abs(audio.samples).max())
        print(f"{path}: {audio.source_format}, {audio.source_channels} channel(s), "
              f"{audio.sample_rate} Hz, {audio.duration_s:.2f} s, peak {20 * math.log10(peak):.1f} dBFS")
    return status


def _cmd_data_prepare(args) -> int:
    from auralens.models.audio import AudioConfig
    from auralens.models.data import load_features, read_collection

    start = time.perf_counter()
    table = read_collection(args.data, seed=args.seed)
    features = load_features(table, AudioConfig(), cache_dir=args.cache_dir, on_error=args.on_error,
                             workers=args.workers, progress=not args.quiet)
    counts: dict[str, dict[str, int]] = {}
    for rec in features.records:
        counts.setdefault(rec.label, {"train": 0, "val": 0, "test": 0})[rec.split] += 1
    print(f"{len(features)} clips in {len(counts)} classes "
          f"({features.n_decoded} decoded now, {len(features) - features.n_decoded} from the cache) "
          f"in {time.perf_counter() - start:.1f} s")
    width = max(map(len, counts), default=5)
    print(f"{'class':<{width}}  train  val  test")
    for label, c in sorted(counts.items()):
        print(f"{label:<{width}}  {c['train']:>5}  {c['val']:>3}  {c['test']:>4}")
    if features.skipped:
        print(f"{len(features.skipped)} file(s) could not be read and were left out:")
        for path, reason in features.skipped:
            print(f"  {path}: {reason}")
    return 0


def _in_calls(training: dict) -> str:
    """``, 2 calls`` when the run was resumed after an interruption."""
    return f", {training['calls']} calls" if training.get("calls", 1) > 1 else ""


def _cmd_train_prototypes(args) -> int:
    from auralens.models.prototypes.train import TrainConfig
    from auralens.models.runtime import keep_freed_memory
    from auralens.models.training.record import RunOptions
    from auralens.models.training.spectral import train_prototypes_into_bundle

    keep_freed_memory()
    cfg = TrainConfig(supervised=not args.unsupervised, batch_size=args.batch_size, lr=args.lr,
                      patience=args.patience, max_epochs_per_stage=args.epochs_per_stage,
                      augment=not args.no_augment, seed=args.seed, ce_weight=args.ce_weight,
                      compile=args.compile)
    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    entry = train_prototypes_into_bundle(
        args.data, args.out, cfg, protos_per_class=args.protos_per_class, model_id=args.model_id,
        temperature_init=args.temperature_init,
        run=RunOptions(device=args.device, cache_dir=args.cache_dir, on_error=args.on_error, progress=not args.quiet))
    if entry is None:  # another process of a torchrun launch: rank 0 reports
        return 0
    m = entry.metrics
    print(f"model '{entry.id}' saved in {args.out} after {entry.training['epochs']} epochs "
          f"({entry.training['wall_time_s']:.0f} s{_in_calls(entry.training)})")
    print(f"{m['split']} split, {m['n']} clips: OA {m['oa']:.3f}, AA {m['aa']:.3f}, macro F1 {m['macro_f1']:.3f}")
    for stage, s in m["stages"].items():
        print(f"  {stage:<8} OA {s['oa']:.3f}  reconstruction error {s['reconstruction_error']:.5f}")
    return 0


def _cmd_train_latent(args) -> int:
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
    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    entry = train_latent_into_bundle(
        args.data, args.out, cfg,
        LatentOptions(protos_per_class=args.protos_per_class, model_id=args.model_id, latent_dim=args.latent_dim,
                      judge=None if args.judge == "none" else args.judge, encoder=args.encoder),
        RunOptions(device=args.device, cache_dir=args.cache_dir, on_error=args.on_error, progress=not args.quiet))
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


def _cmd_evaluate(args) -> int:
    import json

    from auralens.models.bundle import load_bundle
    from auralens.models.data import load_features, read_collection
    from auralens.models.evaluate import evaluate_model
    from auralens.models.kinds import kind_named
    from auralens.models.metrics import SUMMARY
    from auralens.models.runtime import pick_device

    bundle = load_bundle(args.bundle)
    entry = bundle.entry(args.model)
    table = read_collection(args.data)
    if args.split != "all" and table.has_splits:
        table = table.subset(args.split)
    if len(table) == 0:
        raise ValueError(f"The data at {args.data} has no clips in the split '{args.split}'.")
    features = load_features(table, bundle.audio, bundle.classes, cache_dir=args.cache_dir,
                             on_error=args.on_error, progress=not args.quiet)
    device = pick_device(args.device)
    model = bundle.load_model(entry.id, device=device)
    metrics = {"model": entry.id, **evaluate_model(model, features, device)}
    extra_figures = kind_named(entry.kind).extra_figures  # e.g. how much of each class survives a decoder
    if extra_figures is not None:
        metrics.update(extra_figures(model, features, device))
    if args.stages:
        metrics["stages"] = {}
        for stage in entry.stages:
            m = evaluate_model(bundle.load_model(entry.id, stage, device), features, device)
            metrics["stages"][stage] = {k: m[k] for k in SUMMARY if k != "n"}
    if features.skipped:
        metrics["skipped"] = [str(p) for p, _ in features.skipped]
    if args.record:
        from auralens.models.bundle import write_model_card

        summary = {k: metrics[k] for k in SUMMARY}
        bundle.extra.setdefault("evaluations", {}).setdefault(entry.id, {})[args.record] = {
            **summary, "data": str(args.data.resolve()), "split": args.split}
        bundle.save()
        write_model_card(bundle)
    if args.json:
        print(json.dumps(metrics))
        return 0
    print(f"model '{entry.id}' of bundle '{bundle.name}' on {metrics['n']} clips")
    print(f"  overall accuracy {metrics['oa']:.3f}, average per-class accuracy {metrics['aa']:.3f}, "
          f"macro F1 {metrics['macro_f1']:.3f}, reconstruction error {metrics['reconstruction_error']:.5f}")
    for label, c in metrics["per_class"].items():
        print(f"  {label:<14} {c['accuracy']:.3f}  ({c['n']} clips)")
    if "decoded" in metrics:
        print(f"  decoded clips (each clip through the autoencoder): OA {metrics['decoded']['oa']:.3f}, "
              f"AA {metrics['decoded']['aa']:.3f}")
    for stage, s in metrics.get("stages", {}).items():
        print(f"  stage {stage:<8} OA {s['oa']:.3f}  reconstruction error {s['reconstruction_error']:.5f}")
    return 0


def _cmd_bundle_add_corpus(args) -> int:
    from auralens.models.bundle import add_corpus

    n = add_corpus(args.bundle, args.data, per_class=args.per_class, split=args.split, seed=args.seed)
    print(f"{n} clips of {args.data} ({args.split} split) added to the bundle at {args.bundle}")
    return 0


def _cmd_bundle_add_concepts(args) -> int:
    from auralens.models.bundle import add_concepts

    sets = add_concepts(args.bundle, args.corpus, targets_per_class=args.targets_per_class, seed=args.seed)
    concepts = [k.split("/", 1)[1] for k in sets if k.startswith("concept/")]
    print(f"{len(concepts)} concept sets ({', '.join(concepts)}) and {args.targets_per_class} target clips "
          f"for each of {len(sets) - len(concepts)} classes added to the bundle at {args.bundle}")
    return 0


def _cmd_bundle_add_embeddings(args) -> int:
    from auralens.models.embeddings import build_embeddings
    from auralens.models.runtime import pick_device

    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    log = (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr))
    meta = build_embeddings(args.bundle, data=args.data, device=pick_device(args.device), spaces=args.spaces,
                            tags_epochs=args.tags_epochs, seed=args.seed, test_per_class=args.test_per_class,
                            reference_per_class=args.reference_per_class, cache_dir=args.cache_dir,
                            progress=not args.quiet, log=log)
    print(f"{len(meta['spaces'])} spaces of {len(meta['ids'])} corpus clips stored in the bundle "
          f"({meta['build']['wall_time_s']:.0f} s); quality on {meta['quality_protocol']}:")
    print(f"  {'space':<18} {'dim':>4}  {'NN macro F1':>11}  {'DBI':>5}  {'probe acc.':>10}")
    for name, s in meta["spaces"].items():
        q = s["quality"]
        print(f"  {name:<18} {s['dim']:>4}  {q['nn_macro_f1']:>11.3f}  {q['dbi']:>5.2f}  {q['probe']['accuracy']:>10.3f}")
    print(f"  {'all together':<18} {'':>4}  {'':>11}  {'':>5}  {meta['probes']['all']['accuracy']:>10.3f}")
    if "aisfx" in meta["spaces"]:
        print(f"  aisfx: {meta['spaces']['aisfx']['credit']}")
    return 0


def _group(sub, name: str, help: str, metavar: str = "ACTION"):
    """A command with sub-commands of its own (``auralens corpus build``...)."""
    return sub.add_parser(name, help=help).add_subparsers(dest=f"{name}_command", metavar=metavar, required=True)


def _add_device_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                        help=f"where {what} (auto: a GPU when there is one)")


def _add_collection_options(parser: argparse.ArgumentParser) -> None:
    """The options every command that reads a labelled collection shares."""
    parser.add_argument("--data", required=True, type=Path, help="labelled folder or manifest CSV")
    parser.add_argument("--cache-dir", type=Path, default=None, help="feature cache folder")
    parser.add_argument("--on-error", choices=["skip", "fail"], default="skip",
                        help="unreadable files: leave out and count them, or stop (default skip)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def build_parser() -> argparse.ArgumentParser:
    from auralens.models.prototypes.model import PrototypeConfig
    from auralens.models.prototypes.train import TrainConfig

    parser = argparse.ArgumentParser(
        prog="auralens",
        description="Explore audio classifiers that explain themselves in sound.",
    )
    parser.add_argument("--version", action="version", version=f"auralens {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the web app")
    serve.add_argument("--bundle", type=Path, default=None, help="bundle folder (default: the one shipped)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=8000)
    _add_device_option(serve, "models run")
    serve.add_argument("--data-dir", type=Path, default=None,
                       help="where uploads and analyses are kept (default ~/.local/share/auralens)")
    serve.add_argument("--max-upload-mb", type=float, default=50.0, help="largest accepted upload (default 50)")
    serve.add_argument("--max-seconds", type=float, default=600.0, help="longest accepted clip (default 600)")
    serve.set_defaults(func=_cmd_serve)

    corpus = _group(sub, "corpus", "build the orchestra16 demo corpus")
    build = corpus.add_parser("build", help="render isolated notes of 16 instruments from a SoundFont")
    build.add_argument("--soundfont", required=True, type=Path, help="a General MIDI .sf2 file")
    build.add_argument("--out", required=True, type=Path, help="folder to write the corpus into")
    build.add_argument("--per-class", type=int, default=400, help="clips per instrument (default 400)")
    build.add_argument("--seed", type=int, default=0, help="same seed, same files (default 0)")
    build.add_argument("--concept-size", type=int, default=30, help="clips per concept set (default 30)")
    build.add_argument("--random-sets", type=int, default=20, help="random sets for TCAV (default 20)")
    build.add_argument("--format", choices=["flac", "wav"], default="flac", help="audio file format")
    build.add_argument("--workers", type=int, default=2, help="FluidSynth processes in parallel")
    build.add_argument("--quiet", action="store_true", help="no progress bars")
    build.set_defaults(func=_cmd_corpus_build)

    audio = _group(sub, "audio", "inspect audio files")
    info = audio.add_parser("info", help="decode files and say what they hold, or why they cannot be used")
    info.add_argument("files", nargs="+", type=Path)
    info.add_argument("--max-seconds", type=float, default=600.0, help="longest accepted clip (default 600)")
    info.set_defaults(func=_cmd_audio_info)

    data = _group(sub, "data", "labelled collections for training")
    prepare = data.add_parser("prepare", help="read a labelled folder or manifest and cache its features")
    _add_collection_options(prepare)
    prepare.add_argument("--seed", type=int, default=0, help="seed for splits the data does not give")
    prepare.add_argument("--workers", type=int, default=2, help="decoding threads")
    prepare.set_defaults(func=_cmd_data_prepare)

    train = _group(sub, "train", "train a model into a bundle", metavar="MODEL")
    protos = train.add_parser(
        "prototypes", help="the spectral prototype model (supervised, or clustering)",
        epilog="On several processes or machines, run it under torchrun (DistributedDataParallel, gloo on CPU, "
               "nccl on GPU): torchrun --standalone --nproc-per-node 2 -m auralens.server.cli train prototypes ...")
    _add_collection_options(protos)
    protos.add_argument("--out", required=True, type=Path, help="bundle folder (created, or a model is added)")
    protos.add_argument("--unsupervised", action="store_true", help="clustering: no labels used in training")
    protos.add_argument("--model-id", default=None, help="name in the bundle (default prototypes / clusters)")
    protos.add_argument("--protos-per-class", type=int, default=1, help="prototypes for each class (default 1)")
    _add_device_option(protos, "training runs")
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
    protos.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    protos.add_argument("--compile", action="store_true",
                        help="compile the networks with torch.compile (faster steps; needs a C++ compiler)")
    protos.set_defaults(func=_cmd_train_prototypes)

    from auralens.models.latent.train import LatentTrainConfig

    latent = train.add_parser("latent", help="latent prototypes in an autoencoder's space, heard through its decoder")
    _add_collection_options(latent)
    latent.add_argument("--out", required=True, type=Path, help="bundle folder (created, or a model is added)")
    latent.add_argument("--model-id", default="latent", help="name in the bundle (default latent)")
    latent.add_argument("--protos-per-class", type=int, default=3, help="prototypes for each class (default 3)")
    _add_device_option(latent, "training runs")
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
    latent.set_defaults(func=_cmd_train_latent)

    bundle = _group(sub, "bundle", "look after a bundle")
    corpus_add = bundle.add_parser("add-corpus", help="put a listening corpus (a few clips per class) in a bundle")
    corpus_add.add_argument("--bundle", required=True, type=Path, help="bundle folder")
    corpus_add.add_argument("--data", required=True, type=Path, help="labelled folder or manifest CSV")
    corpus_add.add_argument("--per-class", type=int, default=12, help="clips per class (default 12)")
    corpus_add.add_argument("--split", default="test", choices=["train", "val", "test"],
                            help="which split to draw from (default test)")
    corpus_add.add_argument("--seed", type=int, default=0, help="seeds which clips are drawn")
    corpus_add.set_defaults(func=_cmd_bundle_add_corpus)
    concepts_add = bundle.add_parser("add-concepts", help="put the corpus's concept sets and per-class target "
                                                          "clips in a bundle, for concept testing")
    concepts_add.add_argument("--bundle", required=True, type=Path, help="bundle folder")
    concepts_add.add_argument("--corpus", required=True, type=Path, help="a folder made by `auralens corpus build`")
    concepts_add.add_argument("--targets-per-class", type=int, default=30, help="target clips per class (default 30)")
    concepts_add.add_argument("--seed", type=int, default=0, help="seeds which target clips are drawn")
    concepts_add.set_defaults(func=_cmd_bundle_add_concepts)
    emb_add = bundle.add_parser("add-embeddings", help="compute the embedding spaces of the corpus, measure them, "
                                                       "store them in the bundle")
    emb_add.add_argument("--bundle", type=Path, default=None, help="bundle folder (default: the one shipped)")
    emb_add.add_argument("--data", type=Path, default=None,
                         help="labelled manifest with splits and tags: trains the tags space on its train split and "
                              "measures the spaces on its test split (default: both on the corpus)")
    emb_add.add_argument("--spaces", nargs="+", default=None, metavar="SPACE",
                         help="which spaces to (re)build (default: all; aisfx when installed); the bundle keeps its "
                              "other spaces when they still fit its corpus and model, and measures them again")
    emb_add.add_argument("--tags-epochs", type=int, default=20, help="training epochs of the tags space (default 20)")
    emb_add.add_argument("--reference-per-class", type=int, default=50,
                         help="train clips per class the test clips are compared with (default 50)")
    emb_add.add_argument("--test-per-class", type=int, default=None, help="test clips per class (default all)")
    emb_add.add_argument("--cache-dir", type=Path, default=None, help="feature cache folder")
    emb_add.add_argument("--seed", type=int, default=0, help="same seed, same spaces (default 0)")
    emb_add.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    emb_add.add_argument("--quiet", action="store_true", help="no progress bars")
    _add_device_option(emb_add, "the models run")
    emb_add.set_defaults(func=_cmd_bundle_add_embeddings)

    ev = sub.add_parser("evaluate", help="metrics of a bundle's model on a labelled folder or manifest")
    ev.add_argument("--bundle", type=Path, default=None, help="bundle folder (default: the one shipped)")
    _add_collection_options(ev)
    ev.add_argument("--model", default=None, help="model id in the bundle (default: its first)")
    ev.add_argument("--split", default="test", choices=["train", "val", "test", "all"],
                    help="split of a manifest with splits (default test); a plain folder is evaluated whole")
    ev.add_argument("--stages", action="store_true", help="also each saved curriculum stage")
    ev.add_argument("--json", action="store_true", help="one JSON object on stdout")
    ev.add_argument("--record", metavar="NAME", default=None,
                    help="also store the figures in the bundle (and its model card) under NAME")
    _add_device_option(ev, "the model runs")
    ev.set_defaults(func=_cmd_evaluate)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except (FileNotFoundError, ValueError) as err:  # AudioError and DatasetError are ValueErrors
        print(f"auralens: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (e.g. `| head`): nothing more to say
        sys.stdout = open(os.devnull, "w")
        return 0
    except KeyboardInterrupt:
        print("auralens: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

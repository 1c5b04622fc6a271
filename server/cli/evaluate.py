"""``auralens evaluate``: a bundle's model measured on a labelled folder or manifest."""
from __future__ import annotations

from pathlib import Path

from .options import add_collection_options, add_device_option


def run_evaluate(args) -> int:
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



def add_commands(sub) -> None:
    ev = sub.add_parser("evaluate", help="metrics of a bundle's model on a labelled folder or manifest")
    ev.add_argument("--bundle", type=Path, default=None, help="bundle folder (default: the one shipped)")
    add_collection_options(ev)
    ev.add_argument("--model", default=None, help="model id in the bundle (default: its first)")
    ev.add_argument("--split", default="test", choices=["train", "val", "test", "all"],
                    help="split of a manifest with splits (default test); a plain folder is evaluated whole")
    ev.add_argument("--stages", action="store_true", help="also each saved curriculum stage")
    ev.add_argument("--json", action="store_true", help="one JSON object on stdout")
    ev.add_argument("--record", metavar="NAME", default=None,
                    help="also store the figures in the bundle (and its model card) under NAME")
    add_device_option(ev, "the model runs")
    ev.set_defaults(func=run_evaluate)

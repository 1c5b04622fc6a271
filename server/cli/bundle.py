"""``auralens bundle add-corpus | add-concepts | add-embeddings``: look after a bundle."""
from __future__ import annotations

import math
import sys
from pathlib import Path

from .options import add_device_option, group, set_torch_threads


def run_add_corpus(args) -> int:
    from auralens.models.bundle import add_corpus

    n = add_corpus(args.bundle, args.data, per_class=args.per_class, split=args.split, seed=args.seed)
    print(f"{n} clips of {args.data} ({args.split} split) added to the bundle at {args.bundle}")
    return 0


def run_add_concepts(args) -> int:
    from auralens.models.bundle import add_concepts

    sets = add_concepts(args.bundle, args.corpus, targets_per_class=args.targets_per_class, seed=args.seed)
    concepts = [k.split("/", 1)[1] for k in sets if k.startswith("concept/")]
    print(f"{len(concepts)} concept sets ({', '.join(concepts)}) and {args.targets_per_class} target clips "
          f"for each of {len(sets) - len(concepts)} classes added to the bundle at {args.bundle}")
    return 0


def run_add_embeddings(args) -> int:
    from auralens.models.embeddings import build_embeddings
    from auralens.models.runtime import pick_device

    set_torch_threads(args.threads)
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


def run_add_trust(args) -> int:
    from auralens.models.bundle.trust import add_trust
    from auralens.models.runtime import pick_device

    set_torch_threads(args.threads)
    checks = dict(c.split("=", 1) if "=" in c else (Path(c).name, c) for c in args.check)
    figures = add_trust(args.bundle, args.data, args.calibrate_on, model_id=args.model, checks=checks,
                        flag_rate=args.flag_rate, device=pick_device(args.device), cache_dir=args.cache_dir,
                        progress=not args.quiet, known_splits=tuple(args.known_splits))
    print(f"trust: {100 * figures['negatives_flagged']:.1f} % of {figures['negatives_measured']} held-out negatives "
          f"flagged, {100 * figures['test_flagged']:.1f} % of {figures['test_measured']} test clips")
    for kind, share in figures["negatives_flagged_by_kind"].items():
        print(f"  {kind:<12} {100 * share:5.1f} % flagged")
    cal = figures["calibration"]
    print(f"calibration temperature {cal['temperature']:.3f} x (best error / {math.exp(cal['centre']):.5f}) ^ "
          f"{cal['slope']:.2f} (fitted on {cal['fitted_clips']} clips of {', '.join(cal['fitted_on'])}; one "
          f"temperature on the unheard sets alone: {cal['one_temperature']:.3f})")
    for name, s in cal["sets"].items():
        print(f"  {name:<34} n {s['n']:>5}  OA {s['accuracy']:.3f}  ECE {s['ece_before']:.3f} -> {s['ece_after']:.3f}"
              f" (one temperature: {s['ece_one_temperature']:.3f})")
    return 0


def add_commands(sub) -> None:
    bundle = group(sub, "bundle", "look after a bundle")
    corpus_add = bundle.add_parser("add-corpus", help="put a listening corpus (a few clips per class) in a bundle")
    corpus_add.add_argument("--bundle", required=True, type=Path, help="bundle folder")
    corpus_add.add_argument("--data", required=True, type=Path, help="labelled folder or manifest CSV")
    corpus_add.add_argument("--per-class", type=int, default=12, help="clips per class (default 12)")
    corpus_add.add_argument("--split", default="test", choices=["train", "val", "test"],
                            help="which split to draw from (default test)")
    corpus_add.add_argument("--seed", type=int, default=0, help="seeds which clips are drawn")
    corpus_add.set_defaults(func=run_add_corpus)
    concepts_add = bundle.add_parser("add-concepts", help="put the corpus's concept sets and per-class target "
                                                          "clips in a bundle, for concept testing")
    concepts_add.add_argument("--bundle", required=True, type=Path, help="bundle folder")
    concepts_add.add_argument("--corpus", required=True, type=Path, help="a folder made by `auralens corpus build`")
    concepts_add.add_argument("--targets-per-class", type=int, default=30, help="target clips per class (default 30)")
    concepts_add.add_argument("--seed", type=int, default=0, help="seeds which target clips are drawn")
    concepts_add.set_defaults(func=run_add_concepts)
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
    add_device_option(emb_add, "the models run")
    emb_add.set_defaults(func=run_add_embeddings)
    trust_add = bundle.add_parser("add-trust", help="fit a spectral model's trust score (flags sounds that are no "
                                                    "class) and its calibration, measure both, store them")
    trust_add.add_argument("--bundle", required=True, type=Path, help="bundle folder")
    trust_add.add_argument("--data", required=True, type=Path,
                           help="the collection the model was trained on (val and test splits, negatives/)")
    trust_add.add_argument("--calibrate-on", required=True, type=Path, nargs="+", metavar="DIR",
                           help="one or more collections from sample sets the model was not trained on (their train "
                                "and val clips fit the calibration beside --data's val clips, each collection "
                                "weighing the same; their test clips measure it)")
    trust_add.add_argument("--check", nargs="*", default=[], metavar="[NAME=]DIR",
                           help="further held-out collections to measure on (e.g. TimGM6mb=timgm/)")
    trust_add.add_argument("--known-splits", nargs="+", default=["val"], choices=["train", "val"], metavar="SPLIT",
                           help="splits of --data the model was not trained on, the known clips the trust score and "
                                "calibration learn from (default val; train val when --data is another collection "
                                "of the training sample sets)")
    trust_add.add_argument("--model", default="prototypes", help="model id in the bundle (default prototypes)")
    trust_add.add_argument("--flag-rate", type=float, default=0.03,
                           help="share of known held-out clips the threshold flags (default 0.03)")
    trust_add.add_argument("--cache-dir", type=Path, default=None, help="feature cache folder")
    trust_add.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    trust_add.add_argument("--quiet", action="store_true", help="no progress bars")
    add_device_option(trust_add, "the model runs")
    trust_add.set_defaults(func=run_add_trust)

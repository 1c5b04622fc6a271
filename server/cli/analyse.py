"""``auralens analyse DIR --out results.csv|results.parquet``: every recording of a folder
through a bundle's model - the same analysis a collection gets in the app - locally or, with
``--ray ADDRESS``, as Ray tasks on a cluster."""
from __future__ import annotations

import sys
from pathlib import Path

from .options import add_device_option, set_torch_threads

COLUMNS = ("path", "label", "prediction", "confidence", "trusted", "trust_score", "best_prototype",
           "best_prototype_label", "error", "duration_s", "skipped")


def audio_files(folder: Path) -> list[Path]:
    """The audio files under ``folder`` (by extension, hidden ones left out), sorted."""
    from auralens.models.data import AUDIO_EXTENSIONS

    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder.")
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def write_table(rows: list[dict], out: Path) -> None:
    """Rows as CSV, or as Parquet when ``out`` ends in ``.parquet`` (needs ``auralens[parquet]``)."""
    table = {c: [r.get(c) for r in rows] for c in COLUMNS}
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".parquet":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise ValueError("Writing Parquet needs pyarrow: pip install 'auralens[parquet]' (or write a .csv).") from None
        pq.write_table(pa.table(table), out)
        return
    import csv

    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows({c: "" if r.get(c) is None else r[c] for c in COLUMNS} for r in rows)


def run_analyse(args) -> int:
    from tqdm import tqdm

    from auralens.models.bundle import load_bundle
    from auralens.models.collection import Analyser, analyse_clips
    from auralens.models.runtime import pick_device

    if args.out.suffix.lower() not in (".csv", ".parquet"):
        raise ValueError(f"--out {args.out}: write a .csv or a .parquet file.")
    files = audio_files(args.folder)
    if not files:
        raise ValueError(f"{args.folder} holds no audio files (wav, flac, ogg, opus, mp3).")
    set_torch_threads(args.threads)
    bundle = load_bundle(args.bundle)
    entry = bundle.entry(args.model)
    device = "cpu" if args.ray else str(pick_device(args.device))
    analyser = Analyser(bundle=None if args.bundle is None else str(args.bundle.resolve()), model_id=entry.id,
                        device=device)
    bar = tqdm(total=len(files), desc="analyse", unit="clip", disable=args.quiet, file=sys.stderr)
    rows = analyse_clips(analyser, files, args.batch, on_batch=lambda idx, _: bar.update(len(idx)),
                         ray_address=args.ray)
    bar.close()
    out = []
    for path, row in zip(files, rows):
        rel = path.relative_to(args.folder)
        out.append({"path": rel.as_posix(), "label": rel.parts[-2] if len(rel.parts) > 1 else None, **row})
    write_table(out, args.out)
    skipped = [r for r in out if r.get("skipped")]
    if not args.quiet:
        print(f"{len(out) - len(skipped)} clips analysed with model '{entry.id}' of bundle '{bundle.name}'"
              f"{f', {len(skipped)} skipped' if skipped else ''}: {args.out}", file=sys.stderr)
    for r in skipped:
        print(f"  skipped {r['path']}: {r['skipped']}", file=sys.stderr)
    return 0


def add_commands(sub) -> None:
    an = sub.add_parser("analyse", help="analyse every recording of a folder into a CSV or Parquet table")
    an.add_argument("folder", type=Path, metavar="DIR", help="folder of recordings (sub-folders are their labels)")
    an.add_argument("--out", required=True, type=Path, help="results.csv or results.parquet")
    an.add_argument("--bundle", type=Path, default=None, help="bundle folder (default: the one shipped)")
    an.add_argument("--model", default=None, help="model id in the bundle (default: its first)")
    an.add_argument("--ray", metavar="ADDRESS", default=None,
                    help="run the batches as Ray tasks on this cluster ('auto', 'ray://host:10001', or 'local' "
                         "for a Ray started here); needs auralens[ray]")
    an.add_argument("--batch", type=int, default=32, help="clips per batch (and per Ray task; default 32)")
    an.add_argument("--threads", type=int, default=None,
                    help="CPU threads for the model here (default torch's; on a busy machine 1 is often fastest)")
    an.add_argument("--quiet", action="store_true", help="no progress bar")
    add_device_option(an, "the model runs (with --ray: the CPUs of the workers)")
    an.set_defaults(func=run_analyse)

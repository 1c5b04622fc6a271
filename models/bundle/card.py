"""A bundle's MODEL_CARD.md, written from what the bundle records: classes and audio settings,
a section per model (its kind's :attr:`~auralens.models.kinds.ModelKind.card_section`, then its
figures on further data), storage, the embedding spaces, limits."""
from __future__ import annotations

from ..atomic import write_bytes_atomic
from ..card_text import percent
from ..kinds import KINDS, kind_named
from .format import Bundle
from .layout import MODEL_CARD

EMBEDDINGS_HEADING = "## Embedding spaces"


def write_model_card(bundle: Bundle) -> None:
    """Write ``MODEL_CARD.md``: data, training, metrics per model and stage, limits."""
    lines = [f"# {bundle.name}: model card", "",
             f"Classes ({len(bundle.classes)}): {', '.join(bundle.classes)}.", "",
             f"Audio: {bundle.audio.sample_rate} Hz mono, {bundle.audio.n_mels} mel bands, "
             f"hop {bundle.audio.hop_length} samples ({1000 * bundle.audio.frame_seconds:.1f} ms).", ""]
    evaluations = bundle.extra.get("evaluations", {})  # model id -> {name: figures on further data}
    for entry in bundle.models.values():
        lines += kind_named(entry.kind).card_section(entry)
        for name, e in evaluations.get(entry.id, {}).items():
            lines.append(f"\nOn {name}: OA {percent(e.get('oa'))}, AA {percent(e.get('aa'))} ({e.get('n')} clips).")
        lines.append("")
    if any(e.metrics.get("stages_storage") for e in bundle.models.values()):
        lines += ["## Storage", "",
                  "The final weights of each model are stored as float32; the earlier stages' weights (raw, gain, "
                  "pitch), kept for per-stage evaluation, as float16 and without the networks a stage does not "
                  "run (none at the raw stage): their figures above are measured on the stored weights. A "
                  "pitch-anchored model's stages share its final weights.", ""]
    lines += embeddings_section(bundle)
    if lines[-1] != "":
        lines.append("")
    lines += ["## Limits", "",
              "- Trained on isolated notes rendered from one General MIDI SoundFont: real recordings, "
              "ensembles, and playing techniques outside the corpus are out of its experience.",
              "- Accuracy on sounds from other sample sets (the figures 'On ...' above) can be far below "
              "the test split's: the test clips come from the same samples as the training clips.",
              "- Lossy compression (MP3, Ogg/Vorbis) changes the fine spectral detail the prototypes are "
              "matched on; compare the figures on encoded clips above when they are recorded.",
              trust_limit(bundle),
              "- Reconstructions are heard through Griffin-Lim phase recovery from 128 mel bands: "
              "they sound smeared and are for listening to the model, not as audio of quality.", ""]
    for kind in KINDS.values():
        if kind.card_limit and any(e.kind == kind.name for e in bundle.models.values()):
            lines.insert(-1, f"- {kind.card_limit}")
    write_bytes_atomic(bundle.path / MODEL_CARD, "\n".join(lines).encode())


def trust_limit(bundle: Bundle) -> str:
    """The limit on unfamiliar sounds: what the fitted trust scores miss, or that there is none."""
    fitted = [(e.id, e.metrics["trust"]) for e in bundle.models.values() if (e.metrics or {}).get("trust")]
    if not fitted:
        return ("- A class is the class of the best-explaining prototype: a clip unlike every prototype is "
                "still given a class; look at the reconstruction error before trusting it.")
    parts = [f"`{mid}` misses {100 * (1 - t['negatives_flagged']):.0f} % of held-out sounds that are no class"
             + (f" (the kind missed most: {max(t['negatives_flagged_by_kind'], key=lambda k: 1 - t['negatives_flagged_by_kind'][k])})"
                if t.get("negatives_flagged_by_kind") else "") for mid, t in fitted]
    return ("- A class is the class of the best-explaining prototype: a clip unlike every prototype is still given "
            "a class. A fitted trust score says when a clip is unlike what the model knows, but not always: "
            + "; ".join(parts) + ". An instrument the model has no class for can sound familiar to it.")


def embeddings_section(bundle: Bundle) -> list[str]:
    """Markdown lines of the section on the embedding spaces, from what ``bundle.json`` records of
    them (empty when the bundle has no embeddings)."""
    meta = bundle.extra.get("embeddings")
    if not meta:
        return []
    lines = [EMBEDDINGS_HEADING, "",
             f"Every corpus clip ({len(meta['ids'])}) has a vector in each space; neighbours are the clips "
             "with the most similar vectors (cosine). Quality measured on " + meta["quality_protocol"] + ".",
             "NN macro F1: a clip's class taken from its nearest neighbour (higher is better). DBI: Davies-Bouldin "
             "index of the classes (lower: tighter, better separated classes). Probe: accuracy of a logistic "
             "regression on the space alone. When the test and reference clips share their recordings or samples "
             "(as a corpus rendered from one SoundFont does), a neighbour can be the same sample at the same pitch: "
             "the figures are then an upper bound for recordings the bundle has never heard.", "",
             "| space | what near means | size | NN macro F1 | DBI | probe accuracy |", "|---|---|---|---|---|---|"]
    for name, s in meta["spaces"].items():
        q = s["quality"]
        lines.append(f"| `{name}` | {s['description']} | {s['dim']} | {100 * q['nn_macro_f1']:.1f} % | "
                     f"{q['dbi']:.2f} | {100 * q['probe']['accuracy']:.1f} % |")
    lines.append(f"| all together | | | | | {100 * meta['probes']['all']['accuracy']:.1f} % |")
    if "tags" in meta:
        t = meta["tags"]
        lines += ["", f"The `tags` space was trained on {t['clips']} clips of {t['trained_on']} for {t['epochs']} "
                      f"epochs; words it knows: {', '.join(t['config']['vocabulary'])}."]
        ws = meta["spaces"].get("tags", {}).get("quality", {}).get("word_search")
        if ws:
            lines.append(f"Searching by one word, {100 * ws['precision_at_k']:.1f} % of the top {ws['k']} clips carry "
                         f"the word (a random pick: {100 * ws['base_rate']:.1f} %).")
    if "aisfx" in meta["spaces"]:
        lines += ["", f"The `aisfx` space uses the {meta['spaces']['aisfx']['credit']}."]
    return lines + [""]


def write_embeddings_section(bundle: Bundle) -> None:
    """Put the section on the embedding spaces into the bundle's model card (replacing an earlier
    one), before 'Limits'."""
    path = bundle.path / MODEL_CARD
    text = path.read_text() if path.is_file() else f"# {bundle.name}: model card\n"
    lines = text.split("\n")
    if EMBEDDINGS_HEADING in lines:  # drop the old section: up to the next second-level heading
        start = lines.index(EMBEDDINGS_HEADING)
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        lines = lines[:start] + lines[end:]
    at = lines.index("## Limits") if "## Limits" in lines else len(lines)
    lines = lines[:at] + embeddings_section(bundle) + lines[at:]
    write_bytes_atomic(path, "\n".join(lines).encode())

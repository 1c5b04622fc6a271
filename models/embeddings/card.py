"""The model card's section on the embedding spaces, written from what the bundle records."""
from __future__ import annotations

from ..atomic import write_bytes_atomic
from ..bundle import Bundle

HEADING = "## Embedding spaces"


def card_lines(bundle: Bundle) -> list[str]:
    """Markdown lines of the section (empty when the bundle has no embeddings)."""
    meta = bundle.extra.get("embeddings")
    if not meta:
        return []
    lines = [HEADING, "",
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


def write_card_section(bundle: Bundle) -> None:
    """Put the section into the bundle's MODEL_CARD.md (replacing an earlier one), before 'Limits'."""
    path = bundle.path / "MODEL_CARD.md"
    text = path.read_text() if path.is_file() else f"# {bundle.name}: model card\n"
    lines = text.split("\n")
    if HEADING in lines:  # drop the old section: up to the next second-level heading
        start = lines.index(HEADING)
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        lines = lines[:start] + lines[end:]
    at = lines.index("## Limits") if "## Limits" in lines else len(lines)
    lines = lines[:at] + card_lines(bundle) + lines[at:]
    write_bytes_atomic(path, "\n".join(lines).encode())

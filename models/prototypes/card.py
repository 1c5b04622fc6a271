"""The model card's section on a spectral prototype model, written from its bundle entry."""
from __future__ import annotations

from ..card_text import percent, resumed

LIMIT = ("A spectral model's networks choose how each prototype is transformed, and that choice "
         "carries the decision: other classes' prototypes fit a clip badly mostly because the "
         "networks make them fit badly. Transformations fitted directly to the clip let another "
         "class's prototype explain it almost as well (`bench/bench_fitted_transforms.py`). Hear "
         "cross-class reconstructions as the model's judgement, not as the limit of those prototypes.")


def card_section(entry) -> list[str]:
    """Markdown lines on one model: data, training, metrics per curriculum stage.

    ``entry``: the model's :class:`~auralens.models.bundle.ModelEntry` (its ``id``, ``kind``,
    ``config``, ``training`` and ``metrics`` records).
    """
    t, m, cfg = entry.training, entry.metrics, entry.config
    lines = [f"## Model `{entry.id}` ({entry.kind}, {'supervised' if cfg.get('supervised') else 'clustering'})", "",
             "### Data", "",
             f"- Source: `{t.get('data', {}).get('source', '?')}`",
             f"- Clips: {t.get('data', {}).get('clips')} (unreadable, skipped: {t.get('data', {}).get('skipped', 0)})",
             "", "### Training", "",
             f"- Command: `{t.get('command', '?')}`",
             f"- Seed {t.get('seed')}, {t.get('epochs')} epochs, {t.get('wall_time_s')} s{resumed(t)} on "
             f"{t.get('hardware', {}).get('device', '?')} ({t.get('hardware', {}).get('cpu_threads', '?')} threads)",
             f"- {cfg.get('n_classes', 0) * cfg.get('protos_per_class', 1)} prototypes, "
             f"{t.get('n_parameters', '?')} parameters",
             "", f"### Metrics on the held-out `{m.get('split', 'test')}` split ({m.get('n', 0)} clips)", "",
             *([] if cfg.get("supervised") else
               ["Accuracies of the clustering model name each cluster after the majority class of its "
                "training clips (clustering accuracy); chance is "
                f"{100 / max(cfg.get('n_classes', 1), 1):.1f} %.", ""]),
             "| stage | OA | AA | macro F1 | reconstruction error |", "|---|---|---|---|---|"]
    for stage, s in m.get("stages", {}).items():
        lines.append(f"| {stage} | {percent(s['oa'])} | {percent(s['aa'])} | {percent(s['macro_f1'])} | "
                     f"{s['reconstruction_error']:.5f} |")
    return lines

"""The model card's section on a latent prototype model, written from its bundle entry."""
from __future__ import annotations

from ..card_text import percent, resumed

LIMIT = ("A latent prototype is a point of a learned embedding space; its decoded sound is the "
         "decoder's best guess at that point (blurred, of fixed length), and its nearest training "
         "clip is a real sound that is only near it. Hear both.")


def card_section(entry) -> list[str]:
    """Markdown lines on one model: its autoencoder and prototypes, data, training, metrics
    (on the clips and on the decoded clips), the decoder's reconstruction error.

    ``entry``: the model's :class:`~auralens.models.bundle.ModelEntry` (its ``id``, ``kind``,
    ``config``, ``training`` and ``metrics`` records).
    """
    t, m, cfg = entry.training, entry.metrics, entry.config
    dec = m.get("decoded", {})
    judge = dec.get("judge")
    s = t.get("settings", {})
    if cfg.get("encoder") == "aisfx":
        autoencoder = ("The pretrained aiSFX encoder (Ma and Lerch, CC BY 4.0; frozen, reading the bundle's log-mel; "
                       f"{cfg.get('latent_dim')} numbers) with a decoder back to {cfg.get('frames')} frames trained "
                       "on the training clips; then, with both frozen, ")
    else:
        autoencoder = ("An autoencoder (1-D convolutions over time, pooled over time into one vector of "
                       f"{cfg.get('latent_dim')} numbers, decoded back to {cfg.get('frames')} frames) trained on the "
                       "training clips; then, with it frozen, ")
    lines = [f"## Model `{entry.id}` ({entry.kind}, supervised)", "", autoencoder +
             f"{cfg.get('protos_per_class')} prototypes per class in its standardised embedding space, "
             "classifying by similarity exp(-mean squared difference) through a linear layer "
             f"(loss {s.get('alpha', 0.75)} L_p + {1 - s.get('alpha', 0.75):.2f} L_c).", "",
             "### Data", "",
             f"- Source: `{t.get('data', {}).get('source', '?')}`",
             f"- Clips: {t.get('data', {}).get('clips')} (unreadable, skipped: {t.get('data', {}).get('skipped', 0)})",
             "", "### Training", "",
             f"- Command: `{t.get('command', '?')}`",
             f"- Seed {t.get('seed')}, {t.get('epochs')} autoencoder epochs (classification weight on z: "
             f"{s.get('class_weight', 0)}), {t.get('prototype_epochs')} prototype epochs, {t.get('wall_time_s')} s{resumed(t)} "
             f"on {t.get('hardware', {}).get('device', '?')} ({t.get('hardware', {}).get('cpu_threads', '?')} threads)",
             f"- {cfg.get('n_classes', 0) * cfg.get('protos_per_class', 1)} prototypes, "
             f"{t.get('n_parameters', '?')} parameters ({t.get('weights_dtype', 'float32')})",
             "", f"### Metrics on the held-out `{m.get('split', 'test')}` split ({m.get('n', 0)} clips)", "",
             "| what | OA | AA | macro F1 |", "|---|---|---|---|",
             f"| latent prototypes | {percent(m.get('oa'))} | {percent(m.get('aa'))} | {percent(m.get('macro_f1'))} |",
             f"| logistic regression on the same embeddings | {percent(m.get('embedding_probe_oa'))} | - | - |",
             f"| latent prototypes on decoded clips | {percent(dec.get('oa'))} | {percent(dec.get('aa'))} | - |"]
    if judge:
        lines.append(f"| model `{judge.get('model')}` on decoded clips | {percent(judge.get('oa'))} | "
                     f"{percent(judge.get('aa'))} | - |")
    rec, train_rec = m.get("reconstruction_error"), m.get("train_reconstruction_error")
    lines += ["", f"Decoder reconstruction error (mean squared difference, log units squared): "
                  f"{'-' if rec is None else f'{rec:.5f}'} on the held-out clips, "
                  f"{'-' if train_rec is None else f'{train_rec:.5f}'} on the training clips. "
                  "`auralens evaluate` reports this error as `reconstruction_error` for this model."]
    return lines

"""MODEL_CARD.md of a bundle, written from what the bundle records."""
from __future__ import annotations

from .atomic import write_bytes_atomic
from .bundle import Bundle
from .embeddings.card import card_lines


def _resumed(training: dict) -> str:
    """`` in 2 calls (resumed from its checkpoint)`` for a run that was interrupted, else ''."""
    calls = training.get("calls") or 1
    return f" in {calls} calls (resumed from its checkpoint)" if calls > 1 else ""


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.1f} %"


def write_model_card(bundle: Bundle) -> None:
    """Write ``MODEL_CARD.md``: data, training, metrics per model and stage, limits."""
    lines = [f"# {bundle.name}: model card", "",
             f"Classes ({len(bundle.classes)}): {', '.join(bundle.classes)}.", "",
             f"Audio: {bundle.audio.sample_rate} Hz mono, {bundle.audio.n_mels} mel bands, "
             f"hop {bundle.audio.hop_length} samples ({1000 * bundle.audio.frame_seconds:.1f} ms).", ""]
    for entry in bundle.models.values():
        if entry.kind == "latent-prototypes":
            lines += _latent_section(bundle, entry)
            continue
        t, m, cfg = entry.training, entry.metrics, entry.config
        lines += [f"## Model `{entry.id}` ({entry.kind}, {'supervised' if cfg.get('supervised') else 'clustering'})", "",
                  "### Data", "",
                  f"- Source: `{t.get('data', {}).get('source', '?')}`",
                  f"- Clips: {t.get('data', {}).get('clips')} (unreadable, skipped: {t.get('data', {}).get('skipped', 0)})",
                  "", "### Training", "",
                  f"- Command: `{t.get('command', '?')}`",
                  f"- Seed {t.get('seed')}, {t.get('epochs')} epochs, {t.get('wall_time_s')} s{_resumed(t)} on "
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
            lines.append(f"| {stage} | {_pct(s['oa'])} | {_pct(s['aa'])} | {_pct(s['macro_f1'])} | "
                         f"{s['reconstruction_error']:.5f} |")
        extra = bundle.extra.get("evaluations", {}).get(entry.id, {})
        for name, e in extra.items():
            lines.append(f"\nOn {name}: OA {_pct(e.get('oa'))}, AA {_pct(e.get('aa'))} ({e.get('n')} clips).")
        lines.append("")
    if any(e.metrics.get("stages_storage") for e in bundle.models.values()):
        lines += ["## Storage", "",
                  "The final weights of each model are stored as float32; the earlier stages' weights (raw, gain, "
                  "pitch), kept for per-stage evaluation, as float16: their figures above are measured on the "
                  "stored weights.", ""]
    lines += card_lines(bundle)
    if lines[-1] != "":
        lines.append("")
    lines += ["## Limits", "",
              "- Trained on isolated notes rendered from one General MIDI SoundFont: real recordings, "
              "ensembles, and playing techniques outside the corpus are out of its experience.",
              "- Accuracy on sounds from other sample sets (the figures 'On ...' above) can be far below "
              "the test split's: the test clips come from the same samples as the training clips.",
              "- Lossy compression (MP3, Ogg/Vorbis) changes the fine spectral detail the prototypes are "
              "matched on; compare the figures on encoded clips above when they are recorded.",
              "- A class is the class of the best-explaining prototype: a clip unlike every prototype is "
              "still given a class; look at the reconstruction error before trusting it.",
              "- Reconstructions are heard through Griffin-Lim phase recovery from 128 mel bands: "
              "they sound smeared and are for listening to the model, not as audio of quality.", ""]
    if any(e.kind == "spectral-prototypes" for e in bundle.models.values()):
        lines.insert(-1, "- A spectral model's networks choose how each prototype is transformed, and that choice "
                         "carries the decision: other classes' prototypes fit a clip badly mostly because the "
                         "networks make them fit badly. Transformations fitted directly to the clip let another "
                         "class's prototype explain it almost as well (`bench/bench_fitted_transforms.py`). Hear "
                         "cross-class reconstructions as the model's judgement, not as the limit of those prototypes.")
    if any(e.kind == "latent-prototypes" for e in bundle.models.values()):
        lines.insert(-1, "- A latent prototype is a point of a learned embedding space; its decoded sound is the "
                         "decoder's best guess at that point (blurred, of fixed length), and its nearest training "
                         "clip is a real sound that is only near it. Hear both.")
    write_bytes_atomic(bundle.path / "MODEL_CARD.md", "\n".join(lines).encode())


def _latent_section(bundle: Bundle, entry) -> list[str]:
    """The model card section of a latent prototype model."""
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
             f"{s.get('class_weight', 0)}), {t.get('prototype_epochs')} prototype epochs, {t.get('wall_time_s')} s{_resumed(t)} "
             f"on {t.get('hardware', {}).get('device', '?')} ({t.get('hardware', {}).get('cpu_threads', '?')} threads)",
             f"- {cfg.get('n_classes', 0) * cfg.get('protos_per_class', 1)} prototypes, "
             f"{t.get('n_parameters', '?')} parameters ({t.get('weights_dtype', 'float32')})",
             "", f"### Metrics on the held-out `{m.get('split', 'test')}` split ({m.get('n', 0)} clips)", "",
             "| what | OA | AA | macro F1 |", "|---|---|---|---|",
             f"| latent prototypes | {_pct(m.get('oa'))} | {_pct(m.get('aa'))} | {_pct(m.get('macro_f1'))} |",
             f"| logistic regression on the same embeddings | {_pct(m.get('embedding_probe_oa'))} | - | - |",
             f"| latent prototypes on decoded clips | {_pct(dec.get('oa'))} | {_pct(dec.get('aa'))} | - |"]
    if judge:
        lines.append(f"| model `{judge.get('model')}` on decoded clips | {_pct(judge.get('oa'))} | "
                     f"{_pct(judge.get('aa'))} | - |")
    rec, train_rec = m.get("reconstruction_error"), m.get("train_reconstruction_error")
    lines += ["", f"Decoder reconstruction error (mean squared difference, log units squared): "
                  f"{'-' if rec is None else f'{rec:.5f}'} on the held-out clips, "
                  f"{'-' if train_rec is None else f'{train_rec:.5f}'} on the training clips. "
                  "`auralens evaluate` reports this error as `reconstruction_error` for this model."]
    extra = bundle.extra.get("evaluations", {}).get(entry.id, {})
    for name, e in extra.items():
        lines.append(f"\nOn {name}: OA {_pct(e.get('oa'))}, AA {_pct(e.get('aa'))} ({e.get('n')} clips).")
    lines.append("")
    return lines

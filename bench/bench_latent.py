"""Latent prototype model figures: what serving it costs.

Run: python bench/bench_latent.py [--threads 2] [--device cpu|cuda] [--model latent]

* Classify a 2 s clip (scores and all K similarities), and a 30 s clip as a timeline.
* Decode all K prototypes to log-mels (the app's "decoded" rendering before Griffin-Lim).
* Sound of one decoded prototype (decode + mel inversion + 32 Griffin-Lim iterations).
* Autoencoder training step at B = 32, T = 87 (forward, backward, AdamW).
Uses the default bundle's model when it holds one, else an untrained model of the default size.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from auralens.models.audio import AudioConfig
from auralens.models.bundle import DEFAULT_BUNDLE, BundleError, load_bundle
from auralens.models.latent.analysis import timeline
from auralens.models.latent.model import LatentConfig, LatentPrototypeModel
from auralens.models.latent.sonify import prototype_audio, prototype_log_mel
from auralens.models.latent.train import LatentTrainConfig, autoencoder_loss


def timed(fn, device, repeat: int) -> float:
    """Median wall time of ``fn`` in ms, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--model", default="latent")
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    try:
        model = load_bundle(DEFAULT_BUNDLE).load_model(args.model, device=device)
        source = f"default bundle's '{args.model}'"
    except BundleError:
        model = LatentPrototypeModel(LatentConfig()).to(device).eval()
        source = "untrained, default size"
    cfg, audio = model.cfg, AudioConfig()
    print(f"latent prototype model ({source}): K = {cfg.n_prototypes}, D = {cfg.latent_dim}, "
          f"{sum(p.numel() for p in model.parameters())} parameters; {args.threads} threads on {device}")

    clip = torch.rand(1, cfg.n_mels, audio.n_frames(2 * audio.sample_rate), device=device) * 0.6
    long_clip = torch.rand(cfg.n_mels, audio.n_frames(30 * audio.sample_rate)) * 0.6
    with torch.inference_mode():
        print(f"classify a 2 s clip:                 {timed(lambda: model(clip), device, args.repeat):7.1f} ms")
        print(f"timeline of a 30 s clip:             "
              f"{timed(lambda: timeline(model, long_clip, audio.frame_seconds), device, args.repeat):7.1f} ms")
        print(f"decode all {cfg.n_prototypes} prototypes:            "
              f"{timed(lambda: prototype_log_mel(model), device, args.repeat):7.1f} ms")
    print(f"sound of one decoded prototype:      "
          f"{timed(lambda: prototype_audio(model, 0, audio), device, args.repeat):7.1f} ms")

    train = LatentPrototypeModel(cfg).to(device).train()
    head = torch.nn.Linear(cfg.latent_dim, cfg.n_classes).to(device)
    opt = torch.optim.AdamW([*train.encoder.parameters(), *train.decoder.parameters(), *head.parameters()])
    x = torch.rand(32, cfg.n_mels, cfg.frames, device=device) * 0.6
    y = torch.randint(cfg.n_classes, (32,), device=device)

    def step():
        loss, _ = autoencoder_loss(train, head, x, y, LatentTrainConfig())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    print(f"autoencoder training step (B = 32):  {timed(step, device, args.repeat):7.1f} ms")


if __name__ == "__main__":
    main()

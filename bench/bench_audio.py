"""Audio front end figures: log-mel speed, Griffin-Lim speed and re-synthesis quality.

Run: python bench/bench_audio.py [--device cpu|cuda] [--threads 2]

Spectral convergence ``||S - |STFT(y)|||_F / ||S||_F`` (0 is perfect) is printed against two
targets: the magnitude recovered from the mel spectrogram (what Griffin-Lim is asked to
match) and the original clip's full STFT magnitude (what a listener would compare with).
"""
from __future__ import annotations

import argparse
import time

import librosa
import numpy as np
import torch

from auralens.models.audio import AudioConfig, griffin_lim, log_mel, mel_to_magnitude, spectral_convergence

SR = 22_050


def test_signals() -> dict[str, np.ndarray]:
    t = np.arange(2 * SR) / SR
    rng = np.random.default_rng(0)
    tone = sum(0.3 / k * np.sin(2 * np.pi * 220 * k * t) for k in range(1, 11))
    vibrato = sum(0.3 / k * np.sin(2 * np.pi * k * (440 * t + 3 * np.sin(2 * np.pi * 5 * t))) for k in range(1, 8))
    return {
        "harmonic 220 Hz": tone.astype(np.float32),
        "vibrato 440 Hz": (vibrato * np.exp(-t)).astype(np.float32),
        "chirp 60-9000 Hz": (0.5 * librosa.chirp(fmin=60, fmax=9000, sr=SR, duration=2.0)).astype(np.float32),
        "noise": (0.2 * rng.standard_normal(2 * SR)).astype(np.float32),
    }


def timed(fn, repeat: int = 5) -> float:
    fn()  # warm up
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    from auralens.models.runtime import keep_freed_memory

    keep_freed_memory()  # as auralens train and serve do
    torch.set_num_threads(args.threads)
    cfg, dev = AudioConfig(), args.device
    print(f"device {dev}, {torch.get_num_threads()} threads, torch {torch.__version__}")

    signals = test_signals()
    batch = torch.from_numpy(np.stack(list(signals.values()))).to(dev)
    print("\nlog-mel of 2 s clips")
    for b in (1, 16, 64):
        x = batch[:1].repeat(b, 1)
        print(f"  batch {b:3d}: {timed(lambda: log_mel(x, cfg, dev)) * 1000:8.1f} ms")

    print("\nre-synthesis quality (spectral convergence; lower is better)")
    print(f"  {'signal':<18} {'iters':>5} {'vs mel target':>14} {'vs original':>12}")
    for name, y in signals.items():
        spec = log_mel(y, cfg, dev)
        target = mel_to_magnitude(spec, cfg)
        original = torch.stft(torch.from_numpy(y).to(dev), cfg.n_fft, cfg.hop_length,
                              window=torch.hann_window(cfg.n_fft, device=dev), return_complex=True).abs()
        for n_iter in (16, 32, 64):
            audio = griffin_lim(target, cfg, n_iter=n_iter, length=len(y))
            print(f"  {name:<18} {n_iter:>5} {spectral_convergence(target, audio, cfg).item():>14.3f} "
                  f"{spectral_convergence(original, audio, cfg).item():>12.3f}")

    print("\nmel -> audio time, 2 s clips, 32 iterations")
    spec = log_mel(batch[:1], cfg, dev)
    for b in (1, 8, 33):
        specs = spec.repeat(b, 1, 1)
        seconds = timed(lambda: griffin_lim(mel_to_magnitude(specs, cfg), cfg, n_iter=32), repeat=2)
        print(f"  batch {b:3d}: {seconds * 1000:8.1f} ms  ({seconds * 1000 / b:6.1f} ms per clip)")


if __name__ == "__main__":
    main()

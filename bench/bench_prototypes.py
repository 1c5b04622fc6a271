"""Spectral prototype model figures: training step time and the time to analyse a clip.

Run: python bench/bench_prototypes.py [--threads 2] [--device cpu|cuda] [--compile]

* Training step (forward, backward, AdamW) at B = 16 clips, T = 256 frames, K = 33
  prototypes, F = 128 bands, at every curriculum stage. Target at the last stage: <= 0.25 s
  on 2 CPU threads (the reference implementation of "A Model You Can Hear: Audio
  Identification with Playable Prototypes" takes 1.25 s there).
* Analysis of a 2 s clip: prediction, errors of all K prototypes at all 4 stages and all
  K x 4 reconstructions (the default bundle's supervised model when it exists, else an
  untrained model with K = 16). Target: < 100 ms.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from auralens.models.prototypes.analysis import analyse
from auralens.models.prototypes.model import PrototypeConfig, PrototypeModel
from auralens.models.prototypes.train import TrainConfig, make_optimizer
from auralens.models.prototypes.transforms import STAGES


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed(fn, device, repeat: int) -> list[float]:
    fn()  # warm up (and compile)
    times = []
    for _ in range(repeat):
        sync(device)
        start = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - start)
    return times


def bench_training_step(device, repeat: int, compile_model: bool) -> None:
    B, T, K, Fb = 16, 256, 33, 128
    model = PrototypeModel(PrototypeConfig(n_classes=K)).to(device)
    if compile_model:
        model.encoder = torch.compile(model.encoder)
        for name in list(model.decoders):
            model.decoders[name] = torch.compile(model.decoders[name])
    opt = make_optimizer(model, TrainConfig())
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(B, Fb, T, generator=gen).to(device)
    y = torch.randint(K, (B,), generator=gen).to(device)

    def step():
        out = model(x)
        loss = out.class_errors.gather(1, y[:, None]).mean() + 0.01 * F.cross_entropy(out.logits, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    print(f"\ntraining step, B={B} T={T} K={K} F={Fb}{' (compiled networks)' if compile_model else ''}")
    for stage in STAGES:
        model.stage = stage
        t = timed(step, device, repeat)
        print(f"  {stage:<8} median {1000 * statistics.median(t):7.1f} ms   min {1000 * min(t):7.1f} ms")
    print("  target at the last stage: <= 250 ms on 2 CPU threads (the published implementation of A Model You Can Hear: 1250 ms)")


def bench_analysis(device, repeat: int) -> None:
    from auralens.models.audio import AudioConfig, log_mel
    from auralens.models.bundle import BundleError, load_bundle

    try:
        bundle = load_bundle()
        model = bundle.load_model(device=device)
        source = f"default bundle '{bundle.name}', model '{bundle.entry().id}'"
    except BundleError:
        model = PrototypeModel(PrototypeConfig(n_classes=16)).to(device).eval()
        model.stage = "filters"
        source = "untrained model"
    gen = torch.Generator().manual_seed(1)
    audio = 0.1 * torch.randn(2 * 22_050, generator=gen)
    x = log_mel(audio, AudioConfig(), device)
    t = timed(lambda: analyse(model, x), device, repeat)
    K = model.cfg.n_prototypes
    print(f"\nanalysis of a 2 s clip ({x.shape[-1]} frames), {K} prototypes x 4 stages, with reconstructions; {source}")
    print(f"  median {1000 * statistics.median(t):7.1f} ms   min {1000 * min(t):7.1f} ms   (target < 100 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--compile", action="store_true", help="torch.compile the networks")
    parser.add_argument("--system-malloc", action="store_true",
                        help="leave glibc's allocator as it is (auralens train and serve tune it)")
    args = parser.parse_args()
    if not args.system_malloc:
        from auralens.models.runtime import keep_freed_memory
        keep_freed_memory()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(f"device {device}, {torch.get_num_threads()} threads, torch {torch.__version__}")
    bench_analysis(device, args.repeat * 4)
    bench_training_step(device, args.repeat, args.compile)


if __name__ == "__main__":
    main()

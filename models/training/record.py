"""What every training run into a bundle shares: its options and the record the bundle keeps."""
from __future__ import annotations

import platform
import sys
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from .. import distributed
from ..audio import AudioConfig
from ..augment import AugmentConfig
from ..data import FeatureSet


@dataclass(frozen=True)
class RunOptions:
    """How a training run reads its clips and where it runs (the same for every kind of model)."""

    device: str = "auto"  # auto (cuda when a GPU is usable), cpu or cuda
    cache_dir: Path | None = None  # folder of the feature cache (None: no cache)
    on_error: str = "skip"  # an unreadable clip: skip (and report it) or raise
    progress: bool = True  # progress bars
    audio: AudioConfig = AudioConfig()  # the bundle's audio settings (a new bundle takes them)
    command: str | None = None  # the command recorded in the bundle (None: this process's arguments)
    # train-time augmentation of the waveforms (an AugmentConfig; "corpus": what the
    # collection's augmentation.json asks for, if it has one; None: none)
    augmentation: AugmentConfig | str | None = None


def readable(log: list[dict], digits: int = 5) -> list[dict]:
    """An epoch log as the bundle records it: floats to ``digits`` significant digits.

    >>> readable([{"epoch": 1, "train_loss": 0.08636818858129637}])
    [{'epoch': 1, 'train_loss': 0.086368}]
    """
    return [{k: float(f"{v:.{digits}g}") if isinstance(v, float) else v for k, v in entry.items()} for entry in log]


def hardware_summary(device: torch.device) -> dict:
    """``{machine, processor, cpu_threads, device, torch, processes[, gpu]}``: where a run trained
    (``processes``: how many trained together under torchrun)."""
    info = {"machine": platform.machine(), "processor": platform.processor() or platform.machine(),
            "cpu_threads": torch.get_num_threads(), "device": str(device), "torch": torch.__version__,
            "processes": distributed.current().world_size}
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def training_record(settings, data: str | Path, feats: dict[str, FeatureSet], epochs: dict, calls: int,
                    seconds: float, model: torch.nn.Module, device: torch.device, command: str | None) -> dict:
    """The bundle's record of how a model was trained (its entry's ``training``).

    ``settings``: the training settings (a dataclass with ``seed``); ``data``: the collection;
    ``feats``: split name -> its features; ``epochs``: the kind's account of its epochs
    (counts, readable logs), placed after the data; ``calls``: calls that trained the run (1 +
    times resumed); ``seconds``: wall time of all calls together. Returns ``{command, seed,
    settings, data: {source, clips, per_class, skipped}, **epochs, wall_time_s, calls, hardware,
    n_parameters}``.
    """
    counts = {s: dict(sorted(Counter(r.label for r in f.records).items())) for s, f in feats.items()}
    return {
        "command": command or " ".join(["auralens"] + sys.argv[1:]),
        "seed": settings.seed, "settings": asdict(settings),
        "data": {"source": str(Path(data).resolve()), "clips": {s: len(f) for s, f in feats.items()},
                 "per_class": counts, "skipped": sum(len(f.skipped) for f in feats.values())},
        **epochs,
        "wall_time_s": round(seconds, 1), "calls": calls,
        "hardware": hardware_summary(device),
        "n_parameters": sum(p.numel() for p in model.parameters()),
    }

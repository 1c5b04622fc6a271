"""Training across processes and machines with PyTorch DistributedDataParallel.

Launched by ``torchrun`` (which sets ``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``, ``MASTER_ADDR``),
training code calls :func:`start` once; without ``torchrun`` it is a single process and
nothing changes. The backend is ``gloo`` on CPU and ``nccl`` on CUDA (one GPU per process).

Examples
--------
>>> ctx, device = start("cpu")     # a plain run: one process
>>> ctx.world_size, ctx.is_main
(1, True)
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from .runtime import pick_device


@dataclass(frozen=True)
class Context:
    rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        """The process that writes files, shows progress and decides (rank 0)."""
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world_size > 1


def start(device: str | torch.device = "auto") -> tuple[Context, torch.device]:
    """Join the process group when launched by torchrun; returns the context and this
    process's device (``cuda:LOCAL_RANK`` on GPUs)."""
    device = pick_device(device) if isinstance(device, str) else device
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return Context(), device
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Context(dist.get_rank(), dist.get_world_size()), device


def current() -> Context:
    """The context of a process group already joined (a single process otherwise)."""
    if dist.is_available() and dist.is_initialized():
        return Context(dist.get_rank(), dist.get_world_size())
    return Context()


def stop() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def broadcast_state(module: torch.nn.Module) -> None:
    """Copy rank 0's parameters and buffers to every process (after rank 0 changed them)."""
    if current().active:
        for tensor in module.state_dict().values():
            dist.broadcast(tensor, 0)


def broadcast_floats(values: list[float]) -> list[float]:
    """Rank 0's numbers on every process (so that all take rank 0's decisions)."""
    if not current().active:
        return values
    t = torch.tensor(values, dtype=torch.float64)
    dist.broadcast(t, 0)
    return t.tolist()


def sum_across(tensor: torch.Tensor) -> torch.Tensor:
    """The element-wise sum of ``tensor`` over all processes (in place; returned)."""
    if current().active:
        dist.all_reduce(tensor)
    return tensor

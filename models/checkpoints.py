"""A training run's checkpoint: what resumes it, in one folder, each file written atomically.

A trainer saves after every epoch and, called again on the same folder, resumes where it left
off with the same random draws (both generators are kept), so that an interrupted run ends
with the weights of an uninterrupted one. The folder holds

    history.json            the trainer's History (epochs done, best scores, epoch log, calls,
                            ``seconds``: wall time trained, all calls together)
    <weights>.safetensors   the networks' state dicts (each trainer names the file)
    optimizer.safetensors   the optimiser's state, one tensor per ``<group>.<param>.<key>``, and
                            the random generators: ``rng`` (the trainer's own ``torch.Generator``)
                            and ``torch_rng`` (torch's global one)

Trainers that write into a bundle keep a model's checkpoint in ``<bundle>/checkpoints/<model id>``
(:func:`auralens.models.bundle.checkpoint_folder`) and remove it once the model is stored
(:meth:`Checkpoint.remove`).

Examples
--------
>>> ckpt = Checkpoint(Path("run/"), "last.safetensors")                       # doctest: +SKIP
>>> ckpt.save(model.state_dict(), opt, gen, history)                         # doctest: +SKIP
>>> history = ckpt.read_history(History)                                     # doctest: +SKIP
>>> model.load_state_dict(ckpt.restore(opt, gen, device))                    # doctest: +SKIP
"""
from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeVar

import torch

from .atomic import write_bytes_atomic
from .weights import read_weights, write_weights

HISTORY = "history.json"
OPTIMIZER = "optimizer.safetensors"

H = TypeVar("H")


class TrainingInterrupted(RuntimeError):
    """Training stopped before its end (the epoch limit); its checkpoint resumes it."""


@dataclass(frozen=True)
class Checkpoint:
    """The checkpoint in ``folder``; ``weights``: the name of its file of network weights."""

    folder: Path
    weights: str = "last.safetensors"

    @property
    def exists(self) -> bool:
        """True when the folder holds a run to resume (its ``history.json``)."""
        return (self.folder / HISTORY).is_file()

    def read_history(self, history_class: type[H]) -> H:
        """The saved history, as an instance of the trainer's ``history_class`` (a dataclass)."""
        return history_class(**json.loads((self.folder / HISTORY).read_text()))

    def write_history(self, history) -> None:
        """Save ``history`` (a dataclass instance) alone, atomically."""
        write_bytes_atomic(self.folder / HISTORY, json.dumps(asdict(history), indent=1).encode())

    def trained_seconds(self) -> float:
        """Seconds the run spent training in earlier calls, up to its last checkpoint (0 for a new run)."""
        path = self.folder / HISTORY
        return float(json.loads(path.read_text()).get("seconds", 0.0)) if path.is_file() else 0.0

    def save(self, state: dict[str, torch.Tensor], opt: torch.optim.Optimizer, gen: torch.Generator,
             history) -> None:
        """Save the networks' ``state`` (name -> tensor), the optimiser's state, ``gen``'s and
        torch's random state, then ``history``."""
        write_weights(self.folder / self.weights, state)
        tensors = {}
        for gi, group in enumerate(opt.param_groups):
            for pi, p in enumerate(group["params"]):
                for key, value in opt.state.get(p, {}).items():
                    tensors[f"{gi}.{pi}.{key}"] = value if torch.is_tensor(value) else torch.tensor(value)
        tensors["rng"] = gen.get_state()
        tensors["torch_rng"] = torch.get_rng_state()
        write_weights(self.folder / OPTIMIZER, tensors)
        self.write_history(history)

    def restore(self, opt: torch.optim.Optimizer, gen: torch.Generator,
                device: torch.device) -> dict[str, torch.Tensor]:
        """Put the saved optimiser state (on ``device``; step counts stay on the CPU) into ``opt``
        and the saved random states into ``gen`` and torch; returns the saved network weights
        (name -> tensor, CPU) for the caller to load."""
        weights = read_weights(self.folder / self.weights)
        tensors = read_weights(self.folder / OPTIMIZER)
        gen.set_state(tensors.pop("rng"))
        torch.set_rng_state(tensors.pop("torch_rng"))
        for name, value in tensors.items():
            gi, pi, key = name.split(".", 2)
            p = opt.param_groups[int(gi)]["params"][int(pi)]
            opt.state.setdefault(p, {})[key] = value if key == "step" else value.to(device)
        return weights

    def remove(self) -> None:
        """Delete the folder, and its parent when that is left empty (a bundle's ``checkpoints/``)."""
        shutil.rmtree(self.folder)
        if not any(self.folder.parent.iterdir()):
            self.folder.parent.rmdir()

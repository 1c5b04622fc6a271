"""A cache of activations and CAVs keyed by content: model weights, layer and clip samples.

Names never enter a key: a concept that keeps its name but changes its clips gets new keys,
so a stale CAV can never be returned for it. Entries live in memory (least recently used
first out, bounded in bytes) and, when a directory is given, also on disk as safetensors
files written atomically, so they survive a restart.
"""
from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from pathlib import Path

import torch
import torch.nn as nn
from safetensors.torch import load_file, save_file

from ..atomic import atomic_path


def tensor_digest(t: torch.Tensor) -> str:
    """SHA-256 of a tensor's dtype, shape and values (hex).

    Examples
    --------
    >>> tensor_digest(torch.zeros(2)) == tensor_digest(torch.zeros(2))
    True
    >>> tensor_digest(torch.zeros(2)) == tensor_digest(torch.zeros(3))
    False
    """
    t = t.detach().to("cpu").contiguous()
    h = hashlib.sha256(f"{t.dtype}|{tuple(t.shape)}|".encode())
    h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def model_digest(model: nn.Module) -> str:
    """SHA-256 over every parameter and buffer of ``model`` (names, shapes and values)."""
    h = hashlib.sha256()
    for name, t in model.state_dict().items():
        h.update(name.encode())
        h.update(tensor_digest(t).encode())
    return h.hexdigest()


def key_of(*parts) -> str:
    """One hex key from strings, numbers and lists of them."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


class ConceptCache:
    """Content-keyed store of tensors (activations, CAVs).

    Parameters
    ----------
    max_bytes : memory budget of the in-memory part; the least recently used entries go first.
    directory : if given, entries are also written there (one safetensors file per key) and
        read back on a miss.

    Examples
    --------
    >>> cache = ConceptCache(max_bytes=1 << 20)
    >>> cache.put("k", {"v": torch.ones(3)})
    >>> cache.get("k")["v"].tolist()
    [1.0, 1.0, 1.0]
    >>> cache.get("other") is None
    True
    """

    def __init__(self, max_bytes: int = 512 << 20, directory: str | Path | None = None):
        self.max_bytes = max_bytes
        self.directory = Path(directory) if directory is not None else None
        self._items: OrderedDict[str, dict[str, torch.Tensor]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def _size(entry: dict[str, torch.Tensor]) -> int:
        return sum(t.numel() * t.element_size() for t in entry.values())

    def get(self, key: str) -> dict[str, torch.Tensor] | None:
        with self._lock:
            entry = self._items.get(key)
            if entry is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return entry
        path = self._path(key)
        if path is not None and path.is_file():
            try:
                entry = load_file(str(path))
            except Exception:  # noqa: BLE001 - an unreadable file is a miss, recomputed and rewritten
                entry = None
            if entry is not None:
                self._remember(key, entry)
                with self._lock:
                    self.hits += 1
                return entry
        with self._lock:
            self.misses += 1
        return None

    def put(self, key: str, entry: dict[str, torch.Tensor]) -> None:
        entry = {k: v.detach().to("cpu").contiguous() for k, v in entry.items()}
        self._remember(key, entry)
        path = self._path(key)
        if path is not None:
            with atomic_path(path) as tmp:
                save_file(entry, str(tmp))

    def _remember(self, key: str, entry: dict[str, torch.Tensor]) -> None:
        size = self._size(entry)
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._items:
                self._bytes -= self._size(self._items.pop(key))
            self._items[key] = entry
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, old = self._items.popitem(last=False)
                self._bytes -= self._size(old)

    def _path(self, key: str) -> Path | None:
        return None if self.directory is None else self.directory / key[:2] / f"{key}.safetensors"

    def __len__(self) -> int:
        return len(self._items)

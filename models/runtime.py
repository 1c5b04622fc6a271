"""Process-wide settings that make CPU work faster."""
from __future__ import annotations

import ctypes
import ctypes.util

import torch

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def keep_freed_memory(limit_bytes: int = 1 << 30) -> bool:
    """Let glibc's allocator reuse freed memory instead of handing it back to the system.

    By default every tensor larger than a few MB is a fresh ``mmap`` whose pages are faulted
    in anew each time; a training step that allocates the same large tensors over and over
    spends a fifth of its time there. With this, blocks up to ``limit_bytes`` come from the
    heap and stay mapped after they are freed (the process keeps its peak memory).

    Returns True when the setting took effect (glibc), False elsewhere (it is then a no-op).

    Examples
    --------
    >>> keep_freed_memory()  # doctest: +SKIP
    True
    """
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, limit_bytes)) and bool(mallopt(_M_TRIM_THRESHOLD, limit_bytes))


def release_freed_memory() -> bool:
    """Hand the memory glibc's allocator holds free (in every arena) back to the system, so that
    a process returns near its working set after a spike; True when done (glibc), else False.

    Examples
    --------
    >>> release_freed_memory()  # doctest: +SKIP
    True
    """
    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return False
    trim(0)
    return True


def pick_device(device: str = "auto") -> torch.device:
    """``auto`` -> ``cuda`` when a GPU is usable, else ``cpu``; ``cuda`` without one is an error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for, but no CUDA GPU is available here.")
    return torch.device(device)

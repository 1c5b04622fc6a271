"""Timing shared by the benchmarks (run as scripts: ``python bench/bench_x.py`` finds this file
beside them)."""
from __future__ import annotations

import time

import numpy as np


def percentile_ms(fn, repeat: int) -> tuple[float, float]:
    """p50 and p95 of ``repeat`` calls of ``fn()``, in ms (after one warm-up call).

    Example: ``p50, p95 = percentile_ms(lambda: sorted(range(1000)), 100)``.
    """
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - start))
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))

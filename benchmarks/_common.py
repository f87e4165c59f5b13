"""Shared helpers for benchmark scripts: machine description and robust timing.

Benchmarks print their figures; they are never unit tests. Ratios are measured
in one run with interleaved repetitions, so a noisy shared machine slows both
sides alike.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from typing import Callable


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    parts = [f"{cpu}, {os.cpu_count()} cores"]
    try:
        import torch

        parts.append(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
        if torch.cuda.is_available():
            parts.append(f"GPU {torch.cuda.get_device_name(0)}")
    except ImportError:
        pass
    return "; ".join(parts)


def interleaved_timings(candidates: dict[str, Callable[[], None]], repeats: int,
                        warmup: int = 2) -> dict[str, dict[str, float]]:
    """Seconds per call (min and median) for each candidate, alternating A, B, A, B, ...

    The minimum is the figure least disturbed by other processes on a shared machine.
    """
    for _ in range(warmup):
        for run in candidates.values():
            run()
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, run in candidates.items():
            started = time.perf_counter()
            run()
            samples[name].append(time.perf_counter() - started)
    return {name: {"min": min(values), "median": statistics.median(values)} for name, values in samples.items()}


def synchronize() -> None:
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.synchronize()
    except ImportError:
        pass

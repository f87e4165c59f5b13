"""Shared helpers for benchmark scripts: machine description and robust timing.

Benchmarks print their figures; they are never unit tests. Ratios are measured
in one run with interleaved repetitions, so a noisy shared machine slows both
sides alike.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from typing import Callable


def machine_description() -> str:
    """CPU model, usable cores, load average, and torch / GPU when torch is importable."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    parts = [f"{platform.machine()} {cpu}, {cpus} usable cores, load average {load:.2f}"]
    if "torch" in sys.modules:  # never import torch here: runtime benchmarks must stay torch-free
        torch = sys.modules["torch"]
        parts.append(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
        if torch.cuda.is_available():
            parts.append(f"GPU {torch.cuda.get_device_name(0)}")
    return "; ".join(parts)


def qt_platform_description() -> str:
    return os.environ.get("QT_QPA_PLATFORM") or f"xcb on DISPLAY {os.environ.get('DISPLAY', '?')}"


def time_interleaved(contenders: dict[str, Callable[[], object]], rounds: int, warmup: int = 3,
                     repeats: int = 3) -> dict[str, dict[str, list[float]]]:
    """Wall and process-CPU milliseconds per call; each round runs every contender ``repeats`` times, in turn.

    On a machine shared with other jobs, wall time includes waiting for a core; CPU time
    (all threads of this process) does not, so CPU times compare fairly even then.
    """
    for function in contenders.values():
        for _ in range(warmup):
            function()
    times = {name: {"wall": [], "cpu": []} for name in contenders}
    for _ in range(rounds):
        for name, function in contenders.items():
            for _ in range(repeats):
                wall, cpu = time.perf_counter(), time.process_time()
                function()
                times[name]["cpu"].append((time.process_time() - cpu) * 1000)
                times[name]["wall"].append((time.perf_counter() - wall) * 1000)
    return times


def synchronize() -> None:
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.synchronize()
    except ImportError:
        pass

"""Task switching and bundle sizes for the ViT-S/16 bundle (10 deep prompts, three tasks).

    python benchmarks/bench_runtime_switch.py [--switches 20000] [--work /tmp/vpt-bench-vits]

Goal (issue 3): ``Station.set_task`` well under 1 ms, and the first frame
after a switch no slower than a frame without one (nothing is reloaded).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from _common import machine_description
from bench_export_common import ensure_bundle, print_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/vpt-bench-vits"))
    parser.add_argument("--switches", type=int, default=20000)
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    from export.runtime import Station

    bundle_dir = ensure_bundle(args.work)
    started = time.perf_counter()
    station = Station(bundle_dir, backend="onnxruntime", threads=args.threads)
    open_s = time.perf_counter() - started
    names = station.task_names

    switch_us = []
    for index in range(args.switches):
        started = time.perf_counter()
        station.set_task(names[index % len(names)])
        switch_us.append((time.perf_counter() - started) * 1e6)

    rgb = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    station.predict_rgb(rgb)
    after_switch, steady = [], []
    for index in range(args.frames):
        station.set_task(names[index % len(names)])
        after_switch.append(_frame_ms(station, rgb))
        steady.append(_frame_ms(station, rgb))

    sizes = {"backbone.onnx": (bundle_dir / "backbone.onnx").stat().st_size}
    sizes.update({f"tasks/{name}.vptask": station.bundle.task(name).size_bytes for name in names})
    largest_pack = max(v for k, v in sizes.items() if k.startswith("tasks/"))
    print(f"machine: {machine_description()}")
    print_json({
        "station_open_s": open_s,
        "set_task_us": {"median": statistics.median(switch_us), "p99": float(np.percentile(switch_us, 99)),
                        "max": max(switch_us), "switches": args.switches},
        "frame_ms_first_after_switch_median": statistics.median(after_switch),
        "frame_ms_without_switch_median": statistics.median(steady),
        "sizes_bytes": sizes,
        "backbone_over_largest_pack": sizes["backbone.onnx"] / largest_pack,
    })


def _frame_ms(station, rgb) -> float:
    started = time.perf_counter()
    station.predict_rgb(rgb)
    return (time.perf_counter() - started) * 1000


if __name__ == "__main__":
    main()

"""Few-shot accuracy of the default training against the baselines, on real defects, with the embedded model.

    python benchmarks/bench_accuracy.py [--datasets x-sdd,magnetic-tile] [--shots 5,10] [--seeds 3] [--threads 2]

For each dataset of ``../shared/data`` (one folder per class) it runs, resumably,
one grid with the product's own bench library (``vpt bench``):

* k = 5 and 10 pictures per class for training, **all the other pictures for
  testing** (no cap), the same split for every method within a seed;
* **default**: what ``vpt train DATA --out TASK.vptask`` does (embedded model,
  every engine default);
* baselines on the same split: the linear probe on the frozen pooled token
  (``linear``), the same probe on the pooled token and the mean patch token
  (``linear_wide``), on the block maxima the default head reads (``linear_max``:
  the default without prompts), nearest class mean (``class_mean``);
* ``--variants`` adds named variants (engine settings changed one at a time).

It writes ``benchmarks/results/accuracy/<dataset>/results.{md,json,png}`` and a
``summary.md`` deciding the issue's goal -- default >= linear probe + 3 points
of balanced accuracy -- with the paired rule of ``vpt_engine.bench.report``
(one-sided 95% lower bound of the mean paired difference over seeds), plus the
time every cell took on this machine. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
OUT = REPO / "benchmarks" / "results" / "accuracy"
GOAL_MARGIN = 0.03
# Named variants: (prompt-config changes, train-config changes). "default" is always run.
VARIANTS = {
    "mean_pool": ({"init": "mean_pool"}, {}),
    "normal_head": ({"head_init": "normal"}, {}),
    "pooled_and_mean": ({"head_features": "pooled+mean"}, {"standardize_features": True}),
    "lr_5e-3": ({}, {"learning_rate": 5e-3}),
    "no_augment": ({}, {"augment": {"enabled": False}}),
    "batch_32": ({}, {"batch_size": 32}),
    "head_lr_5e-2": ({}, {"head_learning_rate": 5e-2}),
    "head_lr_1e-3": ({}, {"head_learning_rate": 1e-3}),
    "trained_head": ({}, {"refit_head": False}),
}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="x-sdd,magnetic-tile")
    parser.add_argument("--shots", default="5,10")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--variants", default="", help=f"comma-separated, from {', '.join(VARIANTS)}")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--report-only", action="store_true")
    return parser.parse_args(argv)


def log(message: str) -> None:
    print(f"{dt.datetime.now():%H:%M:%S} {message}", flush=True)


def variant_configs(names):
    """(name, PromptConfig, TrainConfig) for the default and each asked variant."""
    from vpt_engine.augment import AugmentConfig
    from vpt_engine.prompts import PromptConfig
    from vpt_engine.train_config import TrainConfig

    out = [("default", PromptConfig(), TrainConfig())]
    for name in names:
        prompt_changes, train_changes = VARIANTS[name]
        train_changes = {k: AugmentConfig.from_dict({**TrainConfig().augment.to_dict(), **v}) if k == "augment" else v
                         for k, v in train_changes.items()}
        out.append((name, dataclasses.replace(PromptConfig(), **prompt_changes),
                    dataclasses.replace(TrainConfig(), **train_changes)))
    return out


def run_dataset(name: str, args, variants) -> list[dict]:
    from vpt_engine.backbone import load_backbone
    from vpt_engine.bench import BenchConfig
    from vpt_engine.bench.runner import run_benchmark
    from vpt_engine.bench.store import CellStore
    from vpt_engine.dataset import load_images, scan_image_folder
    from vpt_engine.embedded import embedded_backbone_config

    shots = tuple(int(k) for k in args.shots.split(","))
    seeds = tuple(range(args.seeds))
    out = OUT / name
    if not args.report_only:
        backbone = load_backbone(embedded_backbone_config("whole"))
        data = load_images(scan_image_folder(SHARED / name), backbone.preprocess)
        log(f"{name}: {len(data)} pictures {data.counts()}")
        for index, (variant, prompt_config, train_config) in enumerate(variants):
            config = BenchConfig(shots=shots, seeds=seeds, inits=(prompt_config.init.value,),
                                 prompts=(prompt_config.num_prompts,), head_init=prompt_config.head_init,
                                 head_features=prompt_config.head_features, train=train_config,
                                 baselines=("linear", "linear_wide", "linear_max", "class_mean") if index == 0 else ())
            run_benchmark(backbone, data, config, out / variant, log=lambda m, v=variant: log(f"{name}/{v} {m}"))
    cells = []
    for variant, *_ in variants:
        for cell in CellStore(out / variant).all_cells():
            if cell["method"].startswith("vpt-"):
                cell = {**cell, "method": f"vpt-{variant}"}
            cells.append(cell)
    return cells


def summary_lines(name: str, cells: list[dict]) -> list[str]:
    from vpt_engine.bench.report import compare_methods, format_verdict

    lines = [f"## {name}", ""]
    for reference in ("linear", "linear_wide", "linear_max", "class_mean"):
        for entry in compare_methods(cells, "vpt-default", reference, GOAL_MARGIN if reference == "linear" else 0.0):
            row = entry["balanced_accuracy"]
            goal = "goal" if reference == "linear" else "comparison"
            lines.append(f"- {entry['shots']}-shot balanced accuracy, default {row['method_mean']:.1%} vs "
                         f"{reference} {row['reference_mean']:.1%} ({goal}): {format_verdict(row)}")
    variants = sorted({c["method"] for c in cells if c["method"].startswith("vpt-") and c["method"] != "vpt-default"})
    for variant in variants:
        for entry in compare_methods(cells, variant, "vpt-default", 0.0):
            row = entry["balanced_accuracy"]
            lines.append(f"- {entry['shots']}-shot, variant {variant[4:]} {row['method_mean']:.1%} vs default "
                         f"{row['reference_mean']:.1%}: {format_verdict(row)}")
    timed = [c for c in cells if c["method"] == "vpt-default" and c.get("status") == "done"]
    for shots in sorted({c["shots"] for c in timed}):
        at_shots = [c for c in timed if c["shots"] == shots]
        lines.append(f"- {shots}-shot default training time on this machine ({at_shots[0]['train_images']} "
                     f"pictures, {len(at_shots[0]['classes'])} classes): "
                     + ", ".join(f"{c['seconds']['total']:.0f} s" for c in at_shots)
                     + "; training pictures fitted: " + ", ".join(f"{c['train_accuracy']:.0%}" for c in at_shots))
    return lines + [""]


def main(argv=None) -> int:
    import torch
    from _common import machine_description

    from vpt_core.atomicio import atomic_write_text
    from vpt_engine.bench import write_report
    from vpt_engine.bench.report import DECISION_RULE

    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    names = [n for n in args.variants.split(",") if n]
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown variants {unknown}; choose from {', '.join(VARIANTS)}")
    variants = variant_configs(names)
    started = time.perf_counter()
    machine = machine_description()
    if args.report_only:   # the load now says nothing about when the stored runs ran
        machine = re.sub(r", load average [0-9.]+", "", machine) + " (report regenerated from the stored runs)"
    summary = ["# Few-shot accuracy: default training against the baselines", "",
               f"Machine: {machine}. Embedded model (FDSL ViT-Tiny), image fit whole. Rule: {DECISION_RULE}.", ""]
    for name in args.datasets.split(","):
        cells = run_dataset(name, args, variants)
        settings = {"title": f"{name}: default training vs baselines (embedded FDSL ViT-Tiny)",
                    "data": f"../shared/data/{name}, every picture not used for training is a test picture",
                    "machine": machine,
                    "cells wall time": f"{sum(c.get('wall_seconds', 0) for c in cells) / 3600:.2f} h"}
        paths = write_report(OUT / name, cells, settings)
        print(paths["markdown"].read_text())
        summary += summary_lines(name, cells)
    if not args.report_only:
        summary.append(f"Wall time of this invocation: {(time.perf_counter() - started) / 60:.1f} min.")
    path = atomic_write_text(OUT / "summary.md", "\n".join(summary) + "\n")
    print(path.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())

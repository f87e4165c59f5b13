"""Few-shot accuracy on magnetic-tile with the FDSL ViT-Tiny: prompts, auto choice and baselines.

Issues 2 and 6. Runs (or resumes) one grid in ``--out``:

* 5 and 10 images per class for training, every other image for testing (the
  full, heavily imbalanced remainder: no cap), the same split for every method
  within a seed; seeds 0..4;
* VPT-deep with 10 prompts, initialised ``random`` / ``sample`` / ``mean_pool`` /
  ``max_pool`` / ``kmeans``, with the engine's default training settings;
* ``auto`` (initialisation and prompt count chosen by cross-validation on the
  training images, as ``vpt train --init auto --prompts auto``);
* linear probe and nearest class mean on frozen features.

and writes two reports next to the cells:

* ``issue2_accuracy_3seeds.{md,json,png}``: seeds 0-2, linear probe versus VPT
  random versus each prototype initialisation;
* ``issue6_auto_vs_fixed.{md,json,png}``: all seeds, auto versus every fixed
  strategy and the linear probe, with the paired goal check.

Each cell is a separate JSON file written when it finishes; start the script
again with the same ``--out`` to resume. Running two copies on one folder (one
per core) splits the cells between them. Prints figures; asserts nothing.

    OMP_NUM_THREADS=1 nohup python benchmarks/bench_accuracy_magnetic_tile.py --threads 1 \
        > benchmarks/results/magnetic_tile.log 2>&1 &
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DEFAULT_DATA = SHARED / "data" / "magnetic-tile"
DEFAULT_WEIGHTS = SHARED / "backbones" / "fdsl_vit_tiny_patch16_224.pth"
FIXED_INITS = ("random", "sample", "mean_pool", "max_pool", "kmeans")
ISSUE2_SEEDS = (0, 1, 2)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "magnetic_tile")
    parser.add_argument("--shots", default="5,10")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--no-auto", action="store_true", help="fixed strategies and baselines only")
    parser.add_argument("--auto-budget", type=float, help="seconds per auto selection (default: AutoSelectConfig's)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--report-only", action="store_true")
    return parser.parse_args(argv)


def build_config(args: argparse.Namespace):
    from vpt_engine.bench import BenchConfig, VptMethod

    auto = None
    if args.auto_budget is not None:
        from vpt_engine.autoselect import AutoSelectConfig

        auto = AutoSelectConfig(time_budget_s=args.auto_budget)
    extra = () if args.no_auto else (VptMethod("auto", "auto", "deep"),)
    return BenchConfig(shots=tuple(int(k) for k in args.shots.split(",")), seeds=tuple(range(args.seeds)),
                       inits=FIXED_INITS, prompts=(10,), baselines=("linear", "class_mean"),
                       extra_methods=extra, auto=auto)


def cross_validation_signal(cells: list[dict]) -> list[str]:
    """Did the search's first-fold scores rank the initialisations like their test accuracy did?

    For each auto cell: Spearman correlation, over the five initialisations, between the balanced accuracy
    each reached on the first held-out fold (every candidate is measured there) and the test balanced
    accuracy of the fixed cell with that initialisation, same seed and shots.
    """
    import numpy as np

    fixed = {(c["shots"], c["seed"], c["settings"]["init"]): c for c in cells
             if c.get("status") == "done" and c["method"].startswith("vpt-deep-10-")}
    lines = []
    for cell in sorted((c for c in cells if c.get("auto_report")), key=lambda c: (c["shots"], c["seed"])):
        stage = next((s for s in cell["auto_report"]["stages"] if s["choose"] == "init"), None)
        if stage is None:
            continue
        inits = [name.split("/")[0] for name in stage["scores"]]
        if not all((cell["shots"], cell["seed"], i) in fixed for i in inits):
            continue
        cv = [stage["scores"][f"{i}/P=10"]["per_fold"]["0"]["balanced_accuracy"] for i in inits]
        test = [fixed[(cell["shots"], cell["seed"], i)]["balanced_accuracy"] for i in inits]
        rho = np.corrcoef(np.argsort(np.argsort(cv)), np.argsort(np.argsort(test)))[0, 1]
        chosen = cell["prompt_config"]
        lines.append(f"- {cell['shots']}-shot seed {cell['seed']}: Spearman {rho:+.2f}; chose {chosen['init']}/P="
                     f"{chosen['num_prompts']}; best fixed on test {inits[int(np.argmax(test))]}; "
                     f"search took {cell['auto_report']['seconds']:.0f} s"
                     + (" (budget exhausted)" if cell["auto_report"]["budget_exhausted"] else ""))
    return lines


def log(message: str) -> None:
    print(f"{dt.datetime.now():%Y-%m-%d %H:%M:%S} {message}", flush=True)


def main(argv=None) -> int:
    import torch
    from _common import machine_description

    from vpt_core.atomicio import atomic_write_text
    from vpt_engine.backbone import BackboneConfig, load_backbone
    from vpt_engine.bench import write_report
    from vpt_engine.bench.runner import run_benchmark
    from vpt_engine.bench.store import CellStore
    from vpt_engine.dataset import load_images, scan_image_folder

    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    config = build_config(args)
    if not args.report_only:
        started = time.perf_counter()
        backbone = load_backbone(BackboneConfig("vit_tiny_patch16_224", weights=str(args.weights)))
        data = load_images(scan_image_folder(args.data), backbone.preprocess)
        log(f"decoded {len(data)} images in {time.perf_counter() - started:.0f} s: {data.counts()}")
        run_benchmark(backbone, data, config, args.out, log=log)
    cells = list(CellStore(args.out).all_cells())
    settings = {
        "data": f"{args.data} (all images not used for training are test images)",
        "backbone": f"vit_tiny_patch16_224, {args.weights.name}",
        "prompts": "VPT-deep, 10 prompts, head init class_mean; auto = --init auto --prompts auto",
        "training": f"engine defaults: {config.train.epochs} epochs, lr {config.train.learning_rate}, "
                    f"batch {config.train.batch_size}, AdamW, warmup {config.train.warmup_fraction:.0%} + cosine, "
                    f"augmentation on, class-balanced loss",
        "machine": f"{machine_description()}; shared with other jobs, so wall times are indicative only",
        "cells wall time": f"{sum(c.get('wall_seconds', 0) for c in cells) / 3600:.2f} h summed over "
                           f"{len(cells)} cells",
    }
    issue2 = [c for c in cells if c["method"] in ("linear", *(f"vpt-deep-10-{i}" for i in FIXED_INITS))]
    paths2 = write_report(args.out, issue2, {"title": "Issue 2: few-shot accuracy, magnetic-tile, FDSL ViT-Tiny "
                                                      "(seeds 0-2)", **settings},
                          seeds=ISSUE2_SEEDS, stem="issue2_accuracy_3seeds")
    paths6 = write_report(args.out, cells, {"title": "Issue 6: auto versus fixed strategies and baselines, "
                                                     "magnetic-tile, FDSL ViT-Tiny", **settings},
                          seeds=config.seeds, stem="issue6_auto_vs_fixed")
    signal = cross_validation_signal(cells)
    if signal:
        text = paths6["markdown"].read_text() + ("\n## Does the cross-validation rank the initialisations like the "
                                                 "test set? (first held-out fold vs test, balanced accuracy)\n\n"
                                                 + "\n".join(signal) + "\n")
        atomic_write_text(paths6["markdown"], text)
    for paths in (paths2, paths6):
        print(paths["markdown"].read_text())
    print("wrote", *[str(p) for paths in (paths2, paths6) for p in paths.values()], file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

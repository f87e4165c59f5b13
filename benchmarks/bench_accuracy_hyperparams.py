"""Are the engine's default training settings right for few-shot? A small sweep on magnetic-tile.

Each variant changes TrainConfig fields against the defaults and runs a small
grid (shots, seeds, initialisations) with the bench library, one sub-folder per
variant (resumable). To keep the sweep affordable on a CPU, the test set is
capped per class (``--test-cap``, default 25): plain accuracy then no longer
reflects the real class mix, so read the *balanced* accuracy here; the final
numbers come from bench_accuracy_magnetic_tile.py on the full test set.
Also reported: training accuracy and loss at the last epoch (underfitting shows
there). Prints figures; asserts nothing.

    OMP_NUM_THREADS=1 python benchmarks/bench_accuracy_hyperparams.py --variants default,lr2e-2,lr5e-2
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

# name -> TrainConfig overrides (everything else: the engine's defaults); "head_init" goes to the PromptConfig
VARIANTS = {
    "default": {},
    "lr2e-2": {"learning_rate": 2e-2},
    "lr5e-2": {"learning_rate": 5e-2},
    "lr1e-1": {"learning_rate": 1e-1},
    "lr2e-2-ep60": {"learning_rate": 2e-2, "epochs": 60},
    "lr5e-2-ep60": {"learning_rate": 5e-2, "epochs": 60},
    "lr5e-3-ep100": {"epochs": 100},
    "lr2e-2-bs8": {"learning_rate": 2e-2, "batch_size": 8},
    "lr5e-2-bs8": {"learning_rate": 5e-2, "batch_size": 8},
    "lr2e-2-noaug": {"learning_rate": 2e-2, "augment": {"enabled": False}},
    "noaug": {"augment": {"enabled": False}},
    "normal-head": {"head_init": "normal"},
    "lr2e-2-normal-head": {"learning_rate": 2e-2, "head_init": "normal"},
    "lr5e-2-ep60-normal-head": {"learning_rate": 5e-2, "epochs": 60, "head_init": "normal"},
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=SHARED / "data" / "magnetic-tile")
    parser.add_argument("--weights", type=Path, default=SHARED / "backbones" / "fdsl_vit_tiny_patch16_224.pth")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "hyperparams")
    parser.add_argument("--variants", default="default,lr2e-2,lr5e-2", help=f"from {', '.join(VARIANTS)}")
    parser.add_argument("--shots", default="5")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--inits", default="mean_pool")
    parser.add_argument("--test-cap", type=int, default=25)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--report-only", action="store_true")
    return parser.parse_args(argv)


def log(message: str) -> None:
    print(f"{dt.datetime.now():%Y-%m-%d %H:%M:%S} {message}", flush=True)


def config_for(args, overrides):
    from vpt_engine.bench import BenchConfig
    from vpt_engine.training import TrainConfig

    overrides = dict(overrides)
    head_init = overrides.pop("head_init", "class_mean")
    return BenchConfig(shots=tuple(int(k) for k in args.shots.split(",")), seeds=tuple(range(args.seeds)),
                       inits=tuple(args.inits.split(",")), prompts=(10,), baselines=(), head_init=head_init,
                       train=TrainConfig(**overrides), test_cap_per_class=args.test_cap)


def summary_lines(args, names) -> list[str]:
    from vpt_engine.bench.store import CellStore

    lines = ["| variant | shots | init | balanced acc. (%) | accuracy (%) | last-epoch train acc. | last-epoch loss "
             "| cells | mean train s |", "|---" * 9 + "|"]
    for name in names:
        folder = args.out / name
        cells = [c for c in CellStore(folder).all_cells() if c.get("status") == "done"] if folder.is_dir() else []
        groups = {}
        for cell in cells:
            groups.setdefault((cell["shots"], cell["settings"]["init"]), []).append(cell)
        for (shots, init), members in sorted(groups.items()):
            def stat(values):
                sd = statistics.stdev(values) if len(values) > 1 else 0.0
                return f"{statistics.fmean(values) * 100:.1f} ± {sd * 100:.1f}"
            last = [c["train_history"][-1] for c in members]
            lines.append(f"| {name} | {shots} | {init} | {stat([c['balanced_accuracy'] for c in members])} | "
                         f"{stat([c['accuracy'] for c in members])} | "
                         f"{stat([h['train_accuracy'] for h in last])} | "
                         f"{statistics.fmean(h['train_loss'] for h in last):.3f} | {len(members)} | "
                         f"{statistics.fmean(c['seconds']['train'] for c in members):.0f} |")
    return lines


def main(argv=None) -> int:
    import torch

    from vpt_core.atomicio import atomic_write_text
    from vpt_engine.backbone import BackboneConfig, load_backbone
    from vpt_engine.bench.runner import run_benchmark
    from vpt_engine.dataset import load_images, scan_image_folder

    args = parse_args(argv)
    names = args.variants.split(",")
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown variant(s) {unknown}; choose from {', '.join(VARIANTS)}")
    torch.set_num_threads(args.threads)
    if not args.report_only:
        backbone = load_backbone(BackboneConfig("vit_tiny_patch16_224", weights=str(args.weights)))
        data = load_images(scan_image_folder(args.data), backbone.preprocess)
        for name in names:
            log(f"variant {name}: {VARIANTS[name] or 'engine defaults'}")
            run_benchmark(backbone, data, config_for(args, VARIANTS[name]), args.out / name, log=log)
    lines = summary_lines(args, list(VARIANTS))
    header = (f"# Training-settings sweep, magnetic-tile, FDSL ViT-Tiny, VPT-deep 10 prompts\n\n"
              f"Test set capped at {args.test_cap} images per class (read balanced accuracy). Variants change "
              f"TrainConfig fields against the engine defaults (30 epochs, lr 5e-3, batch 16, AdamW, warmup 10% + "
              f"cosine, augmentation on):\n\n" + "\n".join(f"- {n}: {v or 'defaults'}" for n, v in VARIANTS.items())
              + "\n\n")
    text = header + "\n".join(lines) + "\n"
    atomic_write_text(args.out / "summary.md", text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

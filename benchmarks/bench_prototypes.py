"""Prototype construction time as a share of one training run with default settings (goal < 5%).

Uses the magnetic-tile dataset with the FDSL ViT-Tiny when ../shared has them,
otherwise synthetic parts on a random ViT-Tiny. Each initialisation strategy is
trained once with the engine's defaults; the share is prototype seconds over
prototype plus training seconds, both measured inside the same run.

    python benchmarks/bench_prototypes.py [--shots 10] [--data DIR --weights FILE]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_description  # noqa: E402

from vpt_engine import events as ev  # noqa: E402
from vpt_engine.backbone import BackboneConfig, load_backbone  # noqa: E402
from vpt_engine.dataset import load_images, scan_image_folder  # noqa: E402
from vpt_engine.prompts import PromptConfig, PromptInit  # noqa: E402
from vpt_engine.train_config import TrainConfig  # noqa: E402
from vpt_engine.training import train  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared"
GOAL = 0.05


def few_shot(data, shots: int, seed: int):
    rng = np.random.default_rng(seed)
    picks = [int(i) for label in np.unique(data.labels)
             for i in rng.permutation(np.flatnonzero(data.labels == label))[:shots]]
    return data.subset(sorted(picks))


def dataset_and_backbone(args):
    data_dir, weights = Path(args.data) if args.data else SHARED / "data" / "magnetic-tile", args.weights
    if weights is None and (SHARED / "backbones" / "fdsl_vit_tiny_patch16_224.pth").is_file():
        weights = str(SHARED / "backbones" / "fdsl_vit_tiny_patch16_224.pth")
    if data_dir.is_dir() and weights:
        config = BackboneConfig("vit_tiny_patch16_224", weights=weights)
        label = f"{data_dir.name} with {Path(weights).name}"
    else:
        from vpt_engine.synthetic import generate_parts, write_task_folders

        data_dir = write_task_folders(generate_parts(120, seed=0), Path(tempfile.mkdtemp()) / "parts", "surface")
        config = BackboneConfig("vit_tiny_patch16_224", random_init=True)
        label = "synthetic parts with a random ViT-Tiny"
    backbone = load_backbone(config)
    return load_images(scan_image_folder(data_dir), backbone.preprocess), backbone, label


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shots", type=int, default=10)
    parser.add_argument("--data")
    parser.add_argument("--weights")
    args = parser.parse_args()
    data, backbone, label = dataset_and_backbone(args)
    subset = few_shot(data, args.shots, seed=0)
    defaults = TrainConfig()
    print(f"machine: {machine_description()}")
    print(f"data: {label}, {args.shots} shots x {len(data.classes)} classes = {len(subset)} training images; "
          f"default settings (budget {defaults.passes_per_image:g} looks per picture, at least {defaults.min_steps} steps), "
          "deep, 10 prompts")
    worst = 0.0
    for init in [i for i in PromptInit if i.uses_prototypes]:
        events = train(backbone, subset, PromptConfig(init=init), defaults)
        metrics = next(e.result.metrics for e in events if isinstance(e, ev.Finished))
        share = metrics["start_seconds"] / (metrics["start_seconds"] + metrics["train_seconds"])
        worst = max(worst, share)
        print(f"  {init.value:<10} prototypes {metrics['start_seconds']:6.2f} s, "
              f"training {metrics['train_seconds']:7.1f} s, share {share * 100:5.2f}%")
    print(f"largest share {worst * 100:.2f}% (goal < {GOAL * 100:.0f}%) -> {'PASS' if worst < GOAL else 'FAIL'}")


if __name__ == "__main__":
    main()

"""Prompt/patch information on magnetic-tile: does training pull the prompts towards the patch tokens?

Trains one VPT-deep task (10 prompts, default settings, ``--init``) on a k-shot
split of magnetic-tile with the FDSL ViT-Tiny, recording at every observation point of the fit the
diagnostic (``analysis.PromptInformationObserver``), then measures per layer
the normalised prompt/patch mutual information and the cosine similarity of
each prompt to its nearest patch tokens, with the exact starting prompts
(``TrainResult.prompt_init_values``) and the trained ones, on held-out images.
Writes the task pack, analysis.{json,md,png} and what was observed during training (during_training.json) to
``--out``; prints the table. Asserts nothing.

    OMP_NUM_THREADS=1 python benchmarks/bench_accuracy_prompt_information.py --init mean_pool
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=SHARED / "data" / "magnetic-tile")
    parser.add_argument("--weights", type=Path, default=SHARED / "backbones" / "fdsl_vit_tiny_patch16_224.pth")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "prompt_information")
    parser.add_argument("--init", default="mean_pool")
    parser.add_argument("--shots", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--images", type=int, default=32, help="held-out images for the statistics")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)

    import torch

    from vpt_core.atomicio import atomic_write_json
    from vpt_core.splits import spread_over_classes
    from vpt_engine.analysis import (PromptInformationObserver, compare_prompts, estimator_settings, format_analysis,
                                     image_tensor, summarise_layers, write_analysis)
    from vpt_engine.backbone import BackboneConfig, load_backbone
    from vpt_engine.bench import few_shot_split, split_images
    from vpt_engine.dataset import load_images, scan_image_folder
    from vpt_engine.events import Finished
    from vpt_engine.prompts import PromptConfig
    from vpt_engine.taskpack import save_task
    from vpt_engine.train_config import TrainConfig
    from vpt_engine.training import train

    torch.set_num_threads(args.threads)
    backbone = load_backbone(BackboneConfig("vit_tiny_patch16_224", weights=str(args.weights)))
    data = load_images(scan_image_folder(args.data), backbone.preprocess)
    split = few_shot_split(data.labels, data.classes, args.shots, args.seed)
    train_set, test_set = split_images(data, split)
    config = TrainConfig(seed=args.seed, device="cpu")
    observer = PromptInformationObserver(image_tensor(backbone, train_set, list(range(min(8, len(train_set))))))
    result = next(e for e in train(backbone, train_set, PromptConfig(init=args.init), config, observers=[observer])
                  if isinstance(e, Finished)).result
    save_task(result, backbone, args.out / f"{args.init}-{args.shots}shot.vptask")
    images = image_tensor(backbone, test_set, spread_over_classes(test_set.labels, args.images, args.seed))
    layers = compare_prompts(backbone.model, result.prompt_init_values, result.model.prompts.detach(), images,
                             args.seed)
    report = {"task": f"{args.init}, {args.shots}-shot, seed {args.seed}", "data": str(args.data),
              "images": int(images.shape[0]), "prompt_config": result.prompt_config.to_dict(),
              "initial_prompts": "exact (TrainResult.prompt_init_values)",
              "estimator": estimator_settings(backbone.embed_dim, 8), "layers": layers,
              "summary": summarise_layers(layers)}
    write_analysis(report, args.out)
    atomic_write_json(args.out / "during_training.json", result.observations)
    print(format_analysis(report))
    first, last = result.observations[0], result.observations[-1]
    print(f"\nwhile training, mean over layers: NMI {sum(first['nmi']) / len(first['nmi']):.3f} at the start -> "
          f"{sum(last['nmi']) / len(last['nmi']):.3f} after step {last['step']}; cosine "
          f"{sum(first['cosine_nearest']) / len(first['cosine_nearest']):.3f} -> "
          f"{sum(last['cosine_nearest']) / len(last['cosine_nearest']):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

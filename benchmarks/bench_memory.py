"""Peak memory: VPT-deep training vs full fine-tuning, and the prototype pass over 1,000 images.

Each measurement runs in its own process (peak RSS cannot be reset on CPU);
figures are the growth of peak memory over the loaded, frozen model. On a GPU
the CUDA allocator's peak is reported instead.

    python benchmarks/bench_memory.py [--model vit_base_patch16_224] [--batch 16] [--images 1000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_description  # noqa: E402

MODES = ("vpt_deep", "full_finetune", "prototypes")


def peak_bytes() -> int:
    import torch

    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated()
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def measure(mode: str, model_name: str, batch: int, steps: int, images: int) -> dict:
    import torch
    import torch.nn.functional as F

    from vpt_engine.backbone import BackboneConfig, load_backbone
    from vpt_engine.prompted_vit import PromptedViT
    from vpt_engine.prompts import PromptConfig

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    backbone = load_backbone(BackboneConfig(model_name, random_init=True)).to(device)
    shape = (batch, *backbone.preprocess.input_size)
    with torch.no_grad():  # touch everything once so the baseline includes allocator warm-up
        backbone.model(torch.randn(shape, device=device))
    baseline = peak_bytes()
    if mode == "prototypes":
        return {"baseline": baseline, "peak": _prototype_pass(backbone, device, batch, images)}
    model = PromptedViT(backbone, PromptConfig(num_prompts=10, depth="deep"), 10).to(device)
    if mode == "full_finetune":
        for parameter in backbone.model.parameters():
            parameter.requires_grad_(True)
        params = list(model.parameters())
    else:
        params = model.trainable_parameters()
    optimizer = torch.optim.AdamW(params, lr=1e-4)
    for _ in range(steps):
        loss = F.cross_entropy(model(torch.randn(shape, device=device)), torch.randint(0, 10, (batch,), device=device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return {"baseline": baseline, "peak": peak_bytes()}


def _prototype_pass(backbone, device, batch: int, images: int) -> int:
    import torch

    from vpt_engine.prompts import PromptConfig
    from vpt_engine.prototypes import frozen_pass, initial_prompts

    config = PromptConfig(num_prompts=10, depth="deep", init="kmeans")
    generator = torch.Generator().manual_seed(0)

    def batches():  # streamed, never held: as images arrive from disk
        for start in range(0, images, batch):
            count = min(batch, images - start)
            yield torch.randn(count, *backbone.preprocess.input_size, generator=generator), torch.zeros(count)

    work = frozen_pass(backbone.model, batches(), config, device, seed=0, collect_tokens=True)
    try:
        while True:
            next(work)
    except StopIteration as stop:
        frozen = stop.value
    initial_prompts(config.init, frozen.layer_tokens, config, backbone.depth, backbone.embed_dim,
                    backbone.architecture.patch_size, seed=0)
    return peak_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="vit_base_patch16_224")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--worker", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(measure(args.worker, args.model, args.batch, args.steps, args.images)))
        return
    print(f"machine: {machine_description()}")
    print(f"model {args.model}, batch {args.batch}, {args.steps} optimiser steps; prototype pass over "
          f"{args.images} images (kmeans, deep, 10 prompts, default token cap)")
    growth = {}
    for mode in MODES:
        output = subprocess.run([sys.executable, __file__, "--worker", mode, "--model", args.model,
                                 "--batch", str(args.batch), "--steps", str(args.steps), "--images", str(args.images)],
                                capture_output=True, text=True, check=True).stdout
        figures = json.loads(output.strip().splitlines()[-1])
        growth[mode] = (figures["peak"] - figures["baseline"]) / 2**20
        print(f"  {mode:<14} peak {figures['peak'] / 2**20:8.0f} MiB, beyond the loaded model {growth[mode]:8.0f} MiB")
    print(f"VPT-deep training needs {growth['vpt_deep'] / max(growth['full_finetune'], 1e-9):.2f}x the extra memory "
          "of full fine-tuning")
    print(f"prototype pass over {args.images} images: {growth['prototypes'] / 1024:.2f} GiB beyond the model "
          f"(goal <= ~2 GiB) -> {'PASS' if growth['prototypes'] <= 2048 else 'FAIL'}")


if __name__ == "__main__":
    main()

"""Training-step time of VPT-deep against a plain reference written here.

The reference is the textbook prompted forward and backward on the frozen
timm ViT (torch.cat of prompts per block, CLS pooling, linear head, AdamW on
prompts and head only). The engine's step must cost at most 1.10x of it.

    python benchmarks/bench_train_step.py [--model vit_small_patch16_224] [--batch 8] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_description, synchronize, time_interleaved  # noqa: E402

from vpt_engine.backbone import BackboneConfig, load_backbone  # noqa: E402
from vpt_engine.prompted_vit import PromptedViT  # noqa: E402
from vpt_engine.prompts import PromptConfig  # noqa: E402

GOAL = 1.10


class ReferencePromptedViT(torch.nn.Module):
    """Deep VPT spelled out directly on the ViT's modules."""

    def __init__(self, vit, prompts: torch.Tensor, head: torch.nn.Linear):
        super().__init__()
        self.vit = vit
        self.prompts = torch.nn.Parameter(prompts.clone())
        self.head = torch.nn.Linear(head.in_features, head.out_features)
        self.head.load_state_dict(head.state_dict())

    def forward(self, images):
        vit = self.vit
        x = vit.patch_embed(images)
        x = torch.cat([vit.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + vit.pos_embed
        batch, count = x.shape[0], self.prompts.shape[1]
        for index, block in enumerate(vit.blocks):
            prompts = self.prompts[index].expand(batch, -1, -1)
            rest = x[:, 1:] if index == 0 else x[:, 1 + count:]
            x = block(torch.cat([x[:, :1], prompts, rest], dim=1))
        return self.head(vit.norm(x)[:, 0])


def make_step(model: torch.nn.Module, params, images, labels, with_scheduler: bool):
    optimizer = torch.optim.AdamW(params, lr=1e-3)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1.0) if with_scheduler else None

    def step():
        model.train()
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if scheduler:
            scheduler.step()
        synchronize()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="vit_small_patch16_224")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--prompts", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    backbone = load_backbone(BackboneConfig(args.model, random_init=True)).to(device)
    engine = PromptedViT(backbone, PromptConfig(num_prompts=args.prompts, depth="deep"), 10).to(device)
    with torch.no_grad():
        engine.prompts.normal_(0, 0.02)
    reference = ReferencePromptedViT(backbone.model, engine.prompts.detach(), engine.head).to(device)
    images = torch.randn(args.batch, *backbone.preprocess.input_size, device=device)
    labels = torch.randint(0, 10, (args.batch,), device=device)
    with torch.no_grad():
        agree = torch.allclose(engine(images), reference(images), atol=1e-4)
    steps = {
        "reference": make_step(reference, [reference.prompts, *reference.head.parameters()], images, labels, False),
        "engine": make_step(engine, engine.trainable_parameters(), images, labels, True),
    }
    times = time_interleaved(steps, rounds=args.repeats, warmup=2, repeats=1)
    ratio = min(times["engine"]["wall"]) / min(times["reference"]["wall"])
    print(f"machine: {machine_description()}")
    print(f"model {args.model}, deep prompts {args.prompts}, batch {args.batch}, device {device}")
    print(f"outputs agree with the reference: {agree}")
    for name, series in times.items():
        print(f"  {name:<10} min {min(series['wall']):8.1f} ms/step, median {statistics.median(series['wall']):8.1f}, "
              f"CPU median {statistics.median(series['cpu']):8.1f} (of {args.repeats}, interleaved)")
    print(f"ratio engine/reference (min): {ratio:.3f} (goal <= {GOAL}) -> {'PASS' if ratio <= GOAL else 'FAIL'}")


if __name__ == "__main__":
    main()

"""Shared pieces of the export/runtime benchmarks (not a benchmark itself).

Builds, once per work folder, a deploy bundle for ViT-S/16 (random weights;
latency does not depend on them) with deep prompts, plus the same backbone
exported without prompts, and times callables fairly: warm-up first, then
rounds that interleave the contenders so load from other processes hits all
of them alike.
"""

from __future__ import annotations

import json
import shutil
import statistics
import time
from pathlib import Path

import numpy as np

MODEL = "vit_small_patch16_224"
NUM_PROMPTS = 10
TASKS = {"surface": 4, "variant": 3, "holes": 6}


def backbone_config():
    from vpt_engine.backbone import BackboneConfig

    return BackboneConfig(MODEL, random_init=True)


def write_packs(folder: Path, backbone) -> list[Path]:
    """Task packs with random prompts and heads: what latency and sizes depend on is their shape."""
    from vpt_core.packformat import BackboneFingerprint, TaskPackData
    from vpt_engine.taskpack import weights_source

    fingerprint = BackboneFingerprint.from_dict({**backbone.fingerprint.to_dict(),
                                                 "weights_source": weights_source(backbone.config)})
    rng = np.random.default_rng(0)
    paths = []
    for name, classes in TASKS.items():
        pack = TaskPackData(prompts=rng.normal(0, 0.05, (backbone.depth, NUM_PROMPTS, backbone.embed_dim)),
                            head_weight=rng.normal(0, 0.05, (classes, backbone.embed_dim)),
                            head_bias=np.zeros(classes), classes=[f"{name}_{i}" for i in range(classes)],
                            backbone=fingerprint, prompt_config={"num_prompts": NUM_PROMPTS, "depth": "deep"},
                            preprocess=backbone.preprocess.to_dict(), name=name)
        paths.append(pack.save(folder / f"{name}.vptask"))
    return paths


def ensure_bundle(work: Path) -> Path:
    """The ViT-S bundle in ``work/bundle`` (exported on first use, with parity on synthetic images)."""
    bundle = work / "bundle"
    if (bundle / "manifest.json").is_file():
        if _current_contract(bundle):
            return bundle
        shutil.rmtree(bundle)     # a scratch bundle of an older contract: this version cannot open it
    from vpt_engine.backbone import load_backbone

    from export.bundle_builder import export_bundle

    work.mkdir(parents=True, exist_ok=True)
    backbone = load_backbone(backbone_config())
    started = time.perf_counter()
    report = export_bundle(write_packs(work, backbone), bundle, parity_images=None)
    print(f"exported {bundle} in {time.perf_counter() - started:.1f} s; parity "
          + ", ".join(f"{k} {v['max_logit_diff']:.1e}" for k, v in report.parity.items()))
    return bundle


def _current_contract(bundle: Path) -> bool:
    """False for a bundle this version refuses (an older contract): it is exported again."""
    from vpt_core.contract import CONTRACT_VERSION

    return json.loads((bundle / "manifest.json").read_text()).get("contract", {}).get("version") == CONTRACT_VERSION


def ensure_plain_backbone(work: Path, backbone) -> Path:
    """The same ViT exported without prompts (timm's own forward), dynamic batch, same exporter."""
    path = work / "plain_backbone.onnx"
    if path.is_file():
        return path
    import torch

    class Plain(torch.nn.Module):
        def __init__(self, vit):
            super().__init__()
            self.vit = vit

        def forward(self, images):
            return self.vit.forward_head(self.vit.forward_features(images), pre_logits=True)

    example = (torch.randn(2, *backbone.preprocess.input_size),)
    with torch.no_grad():
        torch.onnx.export(Plain(backbone.model).eval(), example, str(path), dynamo=True, opset_version=18,
                          input_names=["images"], output_names=["features"], external_data=False,
                          dynamic_shapes=({0: torch.export.Dim("batch", min=1)},), verbose=False)
    return path


def summarise(times: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, float]]:
    return {name: {"median_ms": statistics.median(t["wall"]), "min_ms": min(t["wall"]),
                   "p90_ms": float(np.percentile(t["wall"], 90)), "cpu_median_ms": statistics.median(t["cpu"]),
                   "samples": len(t["wall"])}
            for name, t in times.items()}


def print_json(document) -> None:
    print(json.dumps(document, indent=2))

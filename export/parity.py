"""PyTorch versus ONNX Runtime, task by task, on a batch of images (needs torch).

Export is only trusted once the exported graph, fed each task's own prompts
and head through ONNX Runtime, gives the logits PyTorch gives (within 1e-4 in
fp32) and the same top-1 class on every image.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from vpt_core.errors import ImageReadError
from vpt_core.images import read_image_rgb

from vpt_core.contract import IMAGE_INPUT, task_feed
from vpt_core.errors import ExportError, ParityError
from vpt_core.imagefiles import list_images, spread

DEFAULT_TOLERANCE = 1e-4
DEFAULT_PARITY_IMAGES = 16


@dataclass
class ParityImages:
    images: list[np.ndarray] = field(repr=False)   # uint8 RGB, as decoded
    source: str
    real: bool
    skipped: list[str] = field(default_factory=list)


@dataclass
class ParityResult:
    task: str
    images: int
    max_logit_diff: float
    max_feature_diff: float
    top1_matches: int
    tolerance: float
    image_source: str = ""

    @property
    def passed(self) -> bool:
        return self.max_logit_diff <= self.tolerance and self.top1_matches == self.images

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}

    def describe(self) -> str:
        return (f"task {self.task!r}: logits differ by up to {self.max_logit_diff:.2e} (tolerance "
                f"{self.tolerance:.0e}); top-1 agrees on {self.top1_matches}/{self.images} images")


def collect_parity_images(source: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
                          limit: int = DEFAULT_PARITY_IMAGES) -> ParityImages:
    """Real images from a folder (searched recursively) or a list of files; synthetic parts when None."""
    if source is None:
        return ParityImages(_synthetic_parts(limit), "synthetic machined-part images (no parity images given)",
                            real=False)
    if isinstance(source, (str, os.PathLike)):
        paths, description = list_images(source), str(source)
    else:
        paths, description = [Path(p) for p in source], f"{len(source)} image files"
    images, skipped = [], []
    for path in spread(paths, limit):
        try:
            images.append(read_image_rgb(path))
        except ImageReadError as error:
            skipped.append(str(error))
    if not images:
        raise ExportError(f"no readable parity images in {description}")
    return ParityImages(images, description, real=True, skipped=skipped)


def _synthetic_parts(limit: int) -> list[np.ndarray]:
    from vpt_engine.synthetic import generate_parts

    return [np.ascontiguousarray(sample.image[:, :, ::-1]) for sample in generate_parts(limit, seed=0, size=(240, 320))]


def compare_task(name: str, model: torch.nn.Module, pack, runner, images: ParityImages,
                 tolerance: float = DEFAULT_TOLERANCE) -> ParityResult:
    """One task: the PyTorch model of the pack against ``runner`` fed the pack's tensors."""
    spec = pack.preprocess_spec
    batch = np.stack([spec(image) for image in images.images]).astype(np.float32)
    model.eval()
    with torch.no_grad():
        features = model.features(torch.from_numpy(batch))
        logits = model.head(features)
    outputs = runner.infer({IMAGE_INPUT: batch, **task_feed(pack.prompts, pack.head_weight, pack.head_bias)})
    reference_logits, reference_features = logits.numpy(), features.numpy()
    return ParityResult(
        task=name, images=len(batch),
        max_logit_diff=float(np.max(np.abs(outputs["logits"] - reference_logits))),
        max_feature_diff=float(np.max(np.abs(outputs["features"] - reference_features))),
        top1_matches=int(np.sum(outputs["logits"].argmax(axis=1) == reference_logits.argmax(axis=1))),
        tolerance=tolerance, image_source=images.source)


def raise_on_failures(results: Sequence[ParityResult]) -> None:
    failed = [result for result in results if not result.passed]
    if failed:
        worst = max(failed, key=lambda r: r.max_logit_diff)
        raise ParityError("ONNX Runtime does not match PyTorch: " + "; ".join(r.describe() for r in failed),
                          task=worst.task, max_logit_diff=worst.max_logit_diff)

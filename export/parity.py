"""PyTorch versus ONNX Runtime, task by task and with tasks mixed in one batch (needs torch).

Export is only trusted once the exported graph, fed each task's own prompts
through ONNX Runtime (padded to the bundle's prompt slots, unused slots
masked) and followed by the task's head, gives the logits PyTorch gives
(within 1e-4 in fp32) and the same top-1 class on every image; and once a
batch mixing every task of the bundle gives, image by image, what each image
gives alone with its own task.
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

from vpt_core.contract import FEATURES_OUTPUT, BundleContract
from vpt_core.errors import ExportError, ParityError
from vpt_core.imagefiles import list_images
from vpt_core.splits import spread

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
    images, skipped = [], []
    if isinstance(source, (str, os.PathLike)):
        paths, description = list_images(source, skipped), str(source)
    else:
        paths, description = [Path(p) for p in source], f"{len(source)} image files"
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


@dataclass
class ParityTask:
    """What parity needs of one task: its name, PyTorch model, pack and tensors prepared for the bundle."""

    name: str
    model: torch.nn.Module
    pack: Any
    tensors: Any   # vpt_core.contract.TaskTensors

    def batch(self, images: ParityImages) -> np.ndarray:
        spec = self.pack.preprocess_spec
        return np.stack([spec(image) for image in images.images]).astype(np.float32)

    def reference(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """PyTorch logits and head features (as wide as the task's head) of the unpadded, unmasked model."""
        self.model.eval()
        with torch.no_grad():
            features = self.model.features(torch.from_numpy(batch))
            return self.model.head(features).numpy(), features.numpy()


def compare_task(task: ParityTask, runner, contract: BundleContract, images: ParityImages,
                 tolerance: float = DEFAULT_TOLERANCE) -> ParityResult:
    """One task: its PyTorch model against ``runner`` fed the task's prepared tensors."""
    batch = task.batch(images)
    reference_logits, reference_features = task.reference(batch)
    features = runner.infer(contract.feed(batch, task.tensors))[FEATURES_OUTPUT]
    logits = task.tensors.logits(features)
    return ParityResult(
        task=task.name, images=len(batch),
        max_logit_diff=float(np.max(np.abs(logits - reference_logits))),
        max_feature_diff=float(np.max(np.abs(features[:, :reference_features.shape[1]] - reference_features))),
        top1_matches=int(np.sum(logits.argmax(axis=1) == reference_logits.argmax(axis=1))),
        tolerance=tolerance, image_source=images.source)


def compare_mixed(tasks: Sequence[ParityTask], runner, contract: BundleContract, images: ParityImages,
                  tolerance: float = DEFAULT_TOLERANCE) -> ParityResult:
    """Every task in one batch (image i with task i mod T) against each image run alone with its task."""
    chosen = [tasks[index % len(tasks)] for index in range(len(images.images))]
    one_image = [ParityImages([image], images.source, images.real) for image in images.images]
    batch = np.concatenate([task.batch(single) for task, single in zip(chosen, one_image)])
    mixed = runner.infer(contract.feed(batch, [task.tensors for task in chosen]))[FEATURES_OUTPUT]
    logit_diff = feature_diff = 0.0
    matches = 0
    for row, (task, image) in enumerate(zip(chosen, batch)):
        alone = runner.infer(contract.feed(image[None], task.tensors))[FEATURES_OUTPUT]
        mixed_logits, alone_logits = task.tensors.logits(mixed[row:row + 1]), task.tensors.logits(alone)
        logit_diff = max(logit_diff, float(np.max(np.abs(mixed_logits - alone_logits))))
        feature_diff = max(feature_diff, float(np.max(np.abs(mixed[row] - alone[0]))))
        matches += int(mixed_logits.argmax() == alone_logits.argmax())
    return ParityResult(task="+".join(task.name for task in tasks), images=len(batch), max_logit_diff=logit_diff,
                        max_feature_diff=feature_diff, top1_matches=matches, tolerance=tolerance,
                        image_source=images.source)


def raise_on_failures(results: Sequence[ParityResult]) -> None:
    failed = [result for result in results if not result.passed]
    if failed:
        worst = max(failed, key=lambda r: r.max_logit_diff)
        raise ParityError("ONNX Runtime does not match PyTorch: " + "; ".join(r.describe() for r in failed),
                          task=worst.task, max_logit_diff=worst.max_logit_diff)

"""Evaluate and predict with a loaded task (torch)."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
import torch

from .dataset import LoadedImages, eval_batches
from vpt_core.errors import ImageReadError
from vpt_core.images import read_image_rgb
from vpt_core.metrics import ClassificationReport, classification_report, softmax
from .taskpack import LoadedTask


def task_logits(task: LoadedTask, images: Sequence[np.ndarray], batch_size: int = 32) -> np.ndarray:
    """Logits for images already ``resize``d by the task's preprocessing."""
    device = next(task.model.parameters()).device
    outputs = []
    task.model.eval()
    with torch.no_grad():
        for batch in eval_batches(images, task.backbone.preprocess, batch_size):
            outputs.append(task.model(torch.from_numpy(batch).to(device)).float().cpu().numpy())
    return np.concatenate(outputs) if outputs else np.zeros((0, task.pack.num_classes), np.float32)


def evaluate(task: LoadedTask, data: LoadedImages, batch_size: int = 32) -> ClassificationReport:
    return classification_report(task.pack.classes, data.labels, task_logits(task, data.images, batch_size))


@dataclass
class Prediction:
    path: str
    label: str | None
    confidence: float | None
    probabilities: dict[str, float] | None
    error: str | None = None
    uncertain: bool | None = None   # confidence below the task's calibrated threshold

    def to_dict(self) -> dict:
        return asdict(self)


def predict_files(task: LoadedTask, paths: Sequence[str | os.PathLike], batch_size: int = 32) -> list[Prediction]:
    """Per file: label and confidence, or the reason it could not be read."""
    spec = task.backbone.preprocess
    readable, results = [], []
    for path in paths:
        try:
            readable.append((len(results), spec.resize(read_image_rgb(path))))
            results.append(Prediction(str(path), None, None, None))
        except ImageReadError as error:
            results.append(Prediction(str(path), None, None, None, error=str(error)))
    if readable:
        probabilities = softmax(task_logits(task, [image for _, image in readable], batch_size))
        classes = task.pack.classes
        for (slot, _), row in zip(readable, probabilities):
            best = int(row.argmax())
            results[slot] = Prediction(results[slot].path, classes[best], float(row[best]),
                                       {c: float(p) for c, p in zip(classes, row)},
                                       uncertain=bool(row[best] < task.pack.min_confidence))
    return results

"""One honest accuracy figure per task, read from its task pack, and the split of pictures it has and has not seen.

The headline is accuracy on pictures the task did not train on: the training's
own check pictures (held out) or cross-validation, as the task pack records
them (``check_accuracy``, ``check_images``, ``check_method``). Older packs only
have ``val_accuracy`` and the number of held-out pictures under
``training.data.val_images``; they are read the same way. Accuracy on the
training pictures is kept apart and always named as such. Qt-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from vpt_core.metrics import ClassificationReport

HELD_OUT, CROSS_VALIDATION = "held-out", "cross-validation"


@dataclass(frozen=True)
class CheckFigure:
    accuracy: float          # 0..1
    images: int | None       # how many pictures it was measured on (None: an old pack that did not say)
    method: str              # HELD_OUT or CROSS_VALIDATION


def _fraction(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1 \
        else None


def _count(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def check_figure(metrics: dict[str, Any], training: dict[str, Any] | None = None) -> CheckFigure | None:
    """Accuracy on pictures the task did not train on, or None when it was never checked on any."""
    accuracy = _fraction(metrics.get("check_accuracy"))
    if accuracy is not None:
        method = metrics.get("check_method") if metrics.get("check_method") in (HELD_OUT, CROSS_VALIDATION) \
            else HELD_OUT
        return CheckFigure(accuracy, _count(metrics.get("check_images")), method)
    accuracy = _fraction(metrics.get("val_accuracy"))
    data = (training or {}).get("data") if isinstance((training or {}).get("data"), dict) else {}
    images = _count(data.get("val_images")) if data else None
    if accuracy is None or (data and not images):
        return None
    return CheckFigure(accuracy, images, HELD_OUT)


def training_accuracy(metrics: dict[str, Any]) -> float | None:
    return _fraction(metrics.get("train_accuracy"))


def run_seconds(extra: dict[str, Any], metrics: dict[str, Any]) -> tuple[float | None, bool]:
    """(seconds, whole_run): the whole run's time when the app recorded it, else the training part only."""
    app = extra.get("app") if isinstance(extra.get("app"), dict) else {}
    seconds = app.get("run_seconds")
    if isinstance(seconds, (int, float)) and seconds >= 0:
        return float(seconds), True
    seconds = metrics.get("train_seconds")
    return (float(seconds), False) if isinstance(seconds, (int, float)) else (None, False)


def training_file_names(extra: dict[str, Any]) -> set[str] | None:
    """File names the task was given for training (its check pictures included); None for older packs."""
    app = extra.get("app") if isinstance(extra.get("app"), dict) else {}
    files = app.get("training_files")
    if not isinstance(files, list):
        return None
    return {Path(str(item)).name for item in files}


def split_seen(paths: Sequence[Path], seen_names: set[str] | None) -> tuple[list[int], list[int]]:
    """Indices of pictures new to the task and of pictures it was trained with.

    Matched by file name (captures have unique names). Without a record (older
    packs) every picture counts as seen: the safe side, never a false test.
    """
    if seen_names is None:
        return [], list(range(len(paths)))
    new = [i for i, path in enumerate(paths) if Path(path).name not in seen_names]
    seen = [i for i, path in enumerate(paths) if Path(path).name in seen_names]
    return new, seen


def subset_report(report: ClassificationReport, indices: Iterable[int]) -> ClassificationReport:
    indices = np.asarray(list(indices), dtype=np.int64)
    labels, predictions = report.labels[indices], report.predictions[indices]
    confusion = np.zeros_like(report.confusion)
    np.add.at(confusion, (labels, predictions), 1)
    return ClassificationReport(list(report.classes), confusion, predictions, labels, report.confidences[indices])


def classes_without_pictures(report: ClassificationReport) -> list[str]:
    support = report.confusion.sum(axis=1)
    return [name for name, count in zip(report.classes, support) if count == 0]

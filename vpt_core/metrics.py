"""Classification metrics with numpy only (shared by the engine, the GUI and the runtime)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np


@dataclass
class ClassificationReport:
    classes: list[str]
    confusion: np.ndarray                   # [true, predicted] counts
    predictions: np.ndarray = field(repr=False)
    labels: np.ndarray = field(repr=False)
    confidences: np.ndarray = field(repr=False)

    @property
    def total(self) -> int:
        return int(self.confusion.sum())

    @property
    def accuracy(self) -> float:
        return float(np.trace(self.confusion) / max(1, self.total))

    @property
    def per_class_accuracy(self) -> dict[str, float | None]:
        """Recall per class; None for a class without test images."""
        out = {}
        for index, name in enumerate(self.classes):
            support = self.confusion[index].sum()
            out[name] = float(self.confusion[index, index] / support) if support else None
        return out

    @property
    def balanced_accuracy(self) -> float:
        return balanced_accuracy(self.labels, self.predictions)

    def misclassified(self) -> dict[tuple[int, int], list[int]]:
        """(true, predicted) -> sample indices, for every off-diagonal cell."""
        cells: dict[tuple[int, int], list[int]] = {}
        for index, (truth, guess) in enumerate(zip(self.labels, self.predictions)):
            if truth != guess:
                cells.setdefault((int(truth), int(guess)), []).append(index)
        return cells

    def routing(self, min_confidence: float) -> dict[str, Any]:
        """What a "below this confidence: uncertain" rule does here: share routed, accuracy of the rest."""
        routed = self.confidences < min_confidence
        kept = ~routed
        correct = self.predictions == self.labels
        return {"min_confidence": float(min_confidence), "routed": int(routed.sum()),
                "routed_fraction": float(routed.mean()) if len(routed) else 0.0,
                "accuracy_of_rest": float(correct[kept].mean()) if kept.any() else None,
                "accuracy_of_routed": float(correct[routed].mean()) if routed.any() else None}

    def to_dict(self) -> dict[str, Any]:
        return {
            "accuracy": self.accuracy,
            "balanced_accuracy": self.balanced_accuracy,
            "per_class_accuracy": self.per_class_accuracy,
            "support": {name: int(self.confusion[i].sum()) for i, name in enumerate(self.classes)},
            "confusion_matrix": self.confusion.tolist(),
            "classes": list(self.classes),
            "images": self.total,
        }


def classification_report(classes: Sequence[str], labels: np.ndarray, logits: np.ndarray) -> ClassificationReport:
    labels = np.asarray(labels, dtype=np.int64)
    probabilities = softmax(np.asarray(logits, dtype=np.float64))
    predictions = probabilities.argmax(axis=1)
    confusion = np.zeros((len(classes), len(classes)), dtype=np.int64)
    np.add.at(confusion, (labels, predictions), 1)
    return ClassificationReport(list(classes), confusion, predictions, labels, probabilities.max(axis=1))


def balanced_accuracy(labels: np.ndarray, predictions: np.ndarray) -> float:
    """Mean recall over the classes present in ``labels`` (0.0 with no labels)."""
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    recalls = [float((predictions[labels == c] == c).mean()) for c in np.unique(labels)]
    return float(np.mean(recalls)) if recalls else 0.0


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def format_confusion(report: ClassificationReport) -> str:
    width = max(6, *(len(c) for c in report.classes)) + 1
    header = "true \\ pred".ljust(width) + "".join(c[:width - 1].rjust(width) for c in report.classes)
    rows = [header]
    for index, name in enumerate(report.classes):
        rows.append(name.ljust(width) + "".join(str(v).rjust(width) for v in report.confusion[index]))
    return "\n".join(rows)

"""When a task should answer "uncertain" instead of forcing one of its known classes.

A few-shot task asked about a new kind of defect still names one of the
classes it knows. The station compares the top-class probability with the
task's ``min_confidence`` and reports ``uncertain`` below it, so the line can
route the part to a person.

The threshold is calibrated on the task's own training pictures without
looking at them twice: a linear head is fitted on all folds but one of the
trained task's features and asked about the held-out fold (out-of-fold
confidences); the threshold is the ``QUANTILE`` of the confidences of the
pictures it got right. About that share of pictures like the training ones
would be routed; a part unlike any class is usually below it. ``vpt eval``
reports what the threshold does on labelled pictures the task never saw.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .linear_probe import out_of_fold_probabilities

QUANTILE = 0.10
PENALTY = 1e-2
MAX_FOLDS = 5
METHOD = (f"{QUANTILE:.0%} quantile of the out-of-fold top-class probability of correctly classified training "
          "pictures (linear head refitted per fold on the trained task's features)")


def calibrate_rejection(features: np.ndarray, labels: np.ndarray, num_classes: int, seed: int) -> dict[str, Any]:
    counts = np.bincount(labels, minlength=num_classes)
    folds = int(min(MAX_FOLDS, counts.min()))
    if folds < 2:
        return {"method": "none", "min_confidence": 0.0,
                "reason": "a class has a single training picture: nothing to calibrate on; never uncertain"}
    probabilities = out_of_fold_probabilities(features, labels, num_classes, folds, seed, PENALTY)
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    threshold = float(np.quantile(confidence[correct], QUANTILE)) if correct.any() else 0.0
    routed = confidence < threshold
    kept = ~routed
    return {"method": METHOD, "min_confidence": round(threshold, 4), "folds": folds,
            "out_of_fold_accuracy": round(float(correct.mean()), 4),
            "out_of_fold_routed": round(float(routed.mean()), 4),
            "out_of_fold_accuracy_of_rest": round(float(correct[kept].mean()), 4) if kept.any() else None}

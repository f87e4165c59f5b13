"""Checks before training, as data; the Train page words them for the user (Qt-free)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FEW_IMAGES = 5   # below this a class trains, but its accuracy cannot be checked well


@dataclass(frozen=True)
class Check:
    key: str                  # "classes", "images", "weights", "few_images", "random_weights", "pretrained"
    ok: bool
    blocking: bool            # False: a warning that does not stop training
    values: dict[str, Any] = field(default_factory=dict)


def training_checks(class_counts: dict[str, int], backbone: dict[str, Any]) -> list[Check]:
    checks = [Check("classes", len(class_counts) >= 2, True, {"count": len(class_counts)})]
    empty = [name for name, count in class_counts.items() if count == 0]
    checks.append(Check("images", not empty and bool(class_counts), True, {"classes": ", ".join(empty)}))
    weights = backbone.get("weights")
    if weights:
        checks.append(Check("weights", Path(weights).is_file(), True, {"path": weights}))
    elif backbone.get("pretrained"):
        checks.append(Check("pretrained", True, False, {"name": backbone.get("name", "")}))
    elif backbone.get("random_init"):
        checks.append(Check("random_weights", False, False, {}))
    else:
        checks.append(Check("weights", False, True, {"path": ""}))
    few = [name for name, count in class_counts.items() if 0 < count < FEW_IMAGES]
    if few:
        checks.append(Check("few_images", False, False, {"classes": ", ".join(few), "minimum": FEW_IMAGES}))
    return checks


def can_train(checks: list[Check]) -> bool:
    return all(check.ok for check in checks if check.blocking)

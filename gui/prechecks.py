"""Checks before training, as data; the Train page words them for the user (Qt-free)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vpt_core.errors import VptError

from .model_catalogue import CUSTOM, DOWNLOAD, EMBEDDED, FILE, catalogue_model, choice_kind, is_downloaded

FEW_IMAGES = 5   # below this a class trains, but its accuracy cannot be checked well


@dataclass(frozen=True)
class Check:
    # "classes", "images", "model_builtin", "model_download", "weights", "model_name", "model_arguments",
    # "pretrained", "random_weights", "few_images"
    key: str
    ok: bool
    blocking: bool            # False: a warning that does not stop training
    values: dict[str, Any] = field(default_factory=dict)


def training_checks(class_counts: dict[str, int], backbone: dict[str, Any],
                    model_arguments_valid: bool = True) -> list[Check]:
    """``backbone`` is the model choice as stored in the project (see gui.model_catalogue)."""
    checks = [Check("classes", len(class_counts) >= 2, True, {"count": len(class_counts)})]
    empty = [name for name, count in class_counts.items() if count == 0]
    if class_counts:   # with no class at all, the check above already says what to do
        checks.append(Check("images", not empty, True, {"classes": ", ".join(empty)}))
    checks += model_checks(backbone)
    if not model_arguments_valid:
        checks.append(Check("model_arguments", False, True, {}))
    few = [name for name, count in class_counts.items() if 0 < count < FEW_IMAGES]
    if few:
        checks.append(Check("few_images", False, False, {"classes": ", ".join(few), "minimum": FEW_IMAGES}))
    return checks


def model_checks(backbone: dict[str, Any]) -> list[Check]:
    """The model must be named and its weights on this computer before training starts."""
    kind = choice_kind(backbone)
    if kind == EMBEDDED:
        from vpt_engine.embedded import DEFAULT_MODEL

        try:
            DEFAULT_MODEL.verified_path()
        except VptError as error:
            return [Check("model_builtin", False, True, {"problem": str(error)})]
        return [Check("model_builtin", True, True, {})]
    if kind == DOWNLOAD:
        model = catalogue_model(backbone.get("model"))
        return [Check("model_download", is_downloaded(model), True, {"name": model.short_name})]
    if not str(backbone.get("name") or "").strip():
        return [Check("model_name", False, True, {})]
    weights = backbone.get("weights")
    if kind == FILE or weights:
        return [Check("weights", bool(weights) and Path(weights).is_file(), True, {"path": weights or ""})]
    if kind == CUSTOM and backbone.get("pretrained"):
        return [Check("pretrained", True, False, {"name": backbone.get("name", "")})]
    if backbone.get("random_init"):
        return [Check("random_weights", False, False, {})]
    return [Check("weights", False, True, {"path": ""})]


def can_train(checks: list[Check]) -> bool:
    return all(check.ok for check in checks if check.blocking)

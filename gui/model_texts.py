"""How models are named and described on screen, in the operator's language (no ML words).

Each text is a literal ``QCoreApplication.translate("ModelTexts", ...)`` call so
that lupdate collects it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication

from .model_catalogue import BUILT_IN, CUSTOM, EMBEDDED, FILE, CatalogueModel, architecture_of, catalogue_model, \
    choice_kind


def title(model: CatalogueModel) -> str:
    titles = {
        "fdsl-vit-tiny": QCoreApplication.translate("ModelTexts", "Built-in model (small, works offline)"),
        "dinov2-small": QCoreApplication.translate(
            "ModelTexts", "General-purpose model, self-taught on web pictures (DINOv2 small)"),
        "augreg-small-in21k": QCoreApplication.translate(
            "ModelTexts", "Photo model taught on 14 million labelled photos (ViT small, ImageNet-21k)"),
        "deit-small": QCoreApplication.translate(
            "ModelTexts", "Photo model taught on 1.3 million labelled photos (DeiT small)"),
    }
    return titles.get(model.key, model.short_name)


def description(model: CatalogueModel) -> str:
    texts = {
        "fdsl-vit-tiny": QCoreApplication.translate(
            "ModelTexts", "Ships with the app and needs no internet. It learned from drawn patterns, not photos, "
                          "so it is the weakest choice: good for trying the app, often not enough for real "
                          "defects."),
        "dinov2-small": QCoreApplication.translate(
            "ModelTexts", "Usually the best start for defects and surfaces. Downloaded once, then used without "
                          "internet."),
        "augreg-small-in21k": QCoreApplication.translate(
            "ModelTexts", "A strong choice for telling kinds of parts apart. Downloaded once, then used without "
                          "internet."),
        "deit-small": QCoreApplication.translate(
            "ModelTexts", "Smaller to download than the one above and as fast. Downloaded once, then used without "
                          "internet."),
    }
    return texts.get(model.key, "")


def facts(model: CatalogueModel) -> str:
    seconds = model.cpu_ms / 1000
    if seconds >= 0.1:
        speed = QCoreApplication.translate(
            "ModelTexts", "about {seconds:.1f} s per picture on a small PC without a graphics card").format(
            seconds=seconds)
    else:
        speed = QCoreApplication.translate("ModelTexts",
                                           "under 0.1 s per picture on a small PC without a graphics card")
    if model.source == EMBEDDED:
        size = QCoreApplication.translate("ModelTexts", "{size:.0f} MB, built in")
    else:
        size = QCoreApplication.translate("ModelTexts", "{size:.0f} MB download")
    return QCoreApplication.translate("ModelTexts", "{size} · {speed} · licence: {licence}").format(
        size=size.format(size=model.file_megabytes), speed=speed, licence=model.licence)


def choice_title(stored: dict[str, Any]) -> str:
    """One line for the model a project uses."""
    kind = choice_kind(stored)
    model = catalogue_model(stored.get("model"))
    if model is not None or kind == EMBEDDED:
        return title(model or BUILT_IN)
    if kind == FILE:
        architecture = architecture_of(stored.get("name", ""))
        return QCoreApplication.translate("ModelTexts", "Model file {file} (same kind as: {model})").format(
            file=Path(stored.get("weights") or "").name,
            model=architecture.short_name if architecture else stored.get("name", ""))
    if kind == CUSTOM and stored.get("random_init"):
        return QCoreApplication.translate("ModelTexts", "Test model with random values (for trying the app only)")
    return QCoreApplication.translate("ModelTexts", "Model chosen by an engineer: {name}").format(
        name=stored.get("name", ""))

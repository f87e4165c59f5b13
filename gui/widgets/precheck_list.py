"""The checks before training, in plain words with a tick, a cross or a warning sign."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from ..i18n import Retranslating
from ..prechecks import Check


class PreCheckList(Retranslating, QLabel):
    """One rich-text label, one line per check."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.checks: list[Check] = []
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)

    def set_checks(self, checks: list[Check]) -> None:
        self.checks = checks
        self.retranslate()

    def lines(self) -> list[str]:
        return [self.text_for(check) for check in self.checks]

    def text_for(self, check: Check) -> str:
        v = check.values
        texts = {
            ("classes", True): self.tr("At least two classes: you have {count}."),
            ("classes", False): self.tr("Add at least two classes (for example “ok” and “defect”). "
                                        "You have {count}."),
            ("images", True): self.tr("Every class has pictures."),
            ("images", False): self.tr("These classes have no pictures yet: {classes}. Capture or import some."),
            ("model_builtin", True): self.tr("Model: the built-in model is ready."),
            ("model_builtin", False): self.tr("The built-in model cannot be used: {problem}"),
            ("model_download", True): self.tr("Model: {name} is on this computer."),
            ("model_download", False): self.tr("Model {name} is not downloaded yet: press Change… next to Model "
                                               "and download it, or choose another."),
            ("model_name", False): self.tr("No model chosen: press Change… next to Model."),
            ("model_arguments", False): self.tr("The model arguments under Advanced settings are not valid: "
                                                "write them like {{\"img_size\": 224}} or leave them empty."),
            ("weights", True): self.tr("Model file found: {path}"),
            ("weights", False): self.tr("Model file not found: {path}. Press Change… next to Model.")
            if v.get("path") else self.tr("No model file chosen. Press Change… next to Model."),
            ("pretrained", True): self.tr("The model {name} is downloaded once from the internet."),
            ("random_weights", False): self.tr("Test model with random values: training works, but the results "
                                               "say nothing about real use."),
            ("few_images", False): self.tr("Few pictures in {classes}: training works, but take at least {minimum} "
                                           "per class to check accuracy."),
        }
        return texts[(check.key, check.ok)].format(**v)

    def retranslate(self) -> None:
        rows = []
        for check in self.checks:
            if check.ok:
                mark, colour = "✔", "#1b7f3b"
            else:
                mark, colour = ("✖", "#b00020") if check.blocking else ("⚠", "#a15c00")
            rows.append(f"<tr><td style='color:{colour}; font-weight:bold; padding-right:6px'>{mark}</td>"
                        f"<td style='padding-bottom:6px'>{html.escape(self.text_for(check))}</td></tr>")
        self.setText(f"<table>{''.join(rows)}</table>")

"""The live verdict in large type beside the picture: good, defect, sorted or "not sure", readable from two metres."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QVBoxLayout, QWidget

from ..i18n import Retranslating
from ..verdicts import DEFECT, GOOD, SORTED, UNSURE

IDLE, WAITING = "idle", "waiting"
# Background, text colour. Good is green, a defect red, "not sure" amber, sorting results neutral blue-grey.
COLOURS = {GOOD: ("#1b7f3b", "#ffffff"), DEFECT: ("#c62828", "#ffffff"), UNSURE: ("#ffb300", "#202020"),
           SORTED: ("#37474f", "#ffffff"), IDLE: ("#e0e0e0", "#404040"), WAITING: ("#e0e0e0", "#404040")}


def verdict_colour(kind: str) -> QColor:
    return QColor(COLOURS.get(kind, COLOURS[IDLE])[0])


class VerdictBanner(Retranslating, QFrame):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.kind, self.label, self.details = IDLE, "", ""
        self.headline = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.detail_label = QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        layout.setSpacing(2)
        layout.addWidget(self.headline)
        layout.addWidget(self.detail_label)
        self.retranslate()

    def show_verdict(self, kind: str, label: str, details: str) -> None:
        self.kind, self.label, self.details = kind, label, details
        self.retranslate()

    def clear(self, kind: str = IDLE) -> None:
        self.show_verdict(kind, "", "")

    def headline_text(self) -> str:
        texts = {GOOD: self.tr("✔ Good: {label}"), DEFECT: self.tr("✖ Defect: {label}"),
                 UNSURE: self.tr("? Not sure — check this part by hand"), SORTED: "{label}",
                 IDLE: self.tr("Not inspecting"), WAITING: self.tr("Waiting for the first result…")}
        return texts[self.kind].format(label=self.label)

    def retranslate(self) -> None:
        background, text = COLOURS[self.kind]
        self.setStyleSheet(f"VerdictBanner {{ background: {background}; border-radius: 6px; }}"
                           f"QLabel {{ color: {text}; background: transparent; }}")
        big = self.kind not in (IDLE, WAITING)
        self.headline.setStyleSheet(f"font-size: {26 if big else 16}pt; font-weight: bold;")
        self.headline.setText(self.headline_text())
        self.detail_label.setText(self.details)
        self.detail_label.setVisible(bool(self.details))

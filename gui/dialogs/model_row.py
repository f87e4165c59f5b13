"""One line naming the project's model, with a button that opens the model chooser."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from ..i18n import Retranslating
from ..model_catalogue import default_backbone
from ..model_texts import choice_title
from .model_dialog import ModelDialog


class ModelRow(Retranslating, QWidget):
    chosen = Signal(dict)     # the new choice, as stored in the project

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.choice: dict[str, Any] = default_backbone()
        self.name_label = QLabel(wordWrap=True)
        self.change_button = QPushButton()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.name_label, 1)
        layout.addWidget(self.change_button)
        self.change_button.clicked.connect(self.ask)
        self.retranslate()

    def retranslate(self) -> None:
        self.change_button.setText(self.tr("Change…"))
        self.name_label.setText(choice_title(self.choice))

    def set_choice(self, choice: dict[str, Any]) -> None:
        self.choice = dict(choice)
        self.retranslate()

    def ask(self) -> None:
        dialog = ModelDialog(self.choice, self)
        if dialog.exec() == ModelDialog.DialogCode.Accepted:
            self.set_choice(dialog.choice())
            self.chosen.emit(dict(self.choice))

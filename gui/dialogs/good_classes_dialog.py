"""Which results of a task are good parts (green) and which are defects (red), or whether it only sorts parts."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QDialog, QDialogButtonBox, QLabel, QRadioButton, QVBoxLayout, QWidget

from ..i18n import Retranslating
from ..verdicts import TaskRoles


class GoodClassesDialog(Retranslating, QDialog):
    def __init__(self, task: str, classes: list[str], roles: TaskRoles, parent: QWidget | None = None):
        super().__init__(parent)
        self.task, self.classes = task, list(classes)
        self.intro = QLabel(wordWrap=True)
        self.inspect_button, self.sort_button = QRadioButton(), QRadioButton()
        self.boxes = {name: QCheckBox(name) for name in self.classes}
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.inspect_button)
        for name, box in self.boxes.items():
            box.setChecked(name in roles.good)
            layout.addWidget(box)
        layout.addWidget(self.sort_button)
        layout.addWidget(self.buttons)
        (self.sort_button if roles.sorting else self.inspect_button).setChecked(True)
        self.inspect_button.toggled.connect(self._update)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.retranslate()

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Good results of “{task}”").format(task=self.task))
        self.intro.setText(self.tr("Live inspection shows good parts in green and every other result as a defect "
                                   "in red."))
        self.inspect_button.setText(self.tr("This task finds defects. Good parts are:"))
        self.sort_button.setText(self.tr("This task sorts kinds of parts: no result is a defect"))
        self._update()

    def _update(self) -> None:
        for box in self.boxes.values():
            box.setEnabled(self.inspect_button.isChecked())

    def roles(self) -> TaskRoles:
        good = frozenset(name for name, box in self.boxes.items() if box.isChecked())
        return TaskRoles(sorting=self.sort_button.isChecked(), good=good)

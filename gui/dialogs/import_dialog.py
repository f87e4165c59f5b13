"""Before importing a folder of class folders: say what will happen and let the operator choose."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QListWidget, QPushButton, QVBoxLayout, QWidget

from ..error_texts import translate_error
from ..i18n import Retranslating
from ..import_plan import ImportPlan

AS_CLASSES, INTO_SELECTED = 1, 2


class ImportDialog(Retranslating, QDialog):
    def __init__(self, plan: ImportPlan, selected_class: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.plan, self.selected_class = plan, selected_class
        self.intro = QLabel(wordWrap=True)
        self.listing = QListWidget()
        self.as_classes_button = QPushButton(objectName="primary")
        self.into_selected_button = QPushButton()
        self.cancel_button = QPushButton()
        buttons = QHBoxLayout()
        buttons.addWidget(self.as_classes_button)
        buttons.addWidget(self.into_selected_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.listing, 1)
        layout.addLayout(buttons)
        self.as_classes_button.clicked.connect(lambda: self.done(AS_CLASSES))
        self.into_selected_button.clicked.connect(lambda: self.done(INTO_SELECTED))
        self.cancel_button.clicked.connect(self.reject)
        self.resize(640, 420)
        self.retranslate()

    def retranslate(self) -> None:
        plan = self.plan
        self.setWindowTitle(self.tr("Import a folder of class folders"))
        self.intro.setText(self.tr("This folder holds {count} folders of pictures. Import each folder as the class "
                                   "of the same name? This is what will happen:").format(count=len(plan.groups)))
        self.listing.clear()
        for line in self.lines():
            self.listing.addItem(line)
        self.as_classes_button.setText(self.tr("Import as classes"))
        self.as_classes_button.setEnabled(bool(plan.usable_groups()))
        total = len(plan.loose) + sum(len(group.paths) for group in plan.groups)
        self.into_selected_button.setText(self.tr("Put all {count} into “{name}”").format(
            count=total, name=self.selected_class))
        self.into_selected_button.setEnabled(bool(self.selected_class))
        self.cancel_button.setText(self.tr("Cancel"))

    def lines(self) -> list[str]:
        lines = []
        for group in self.plan.groups:
            if group.problem:
                lines.append(self.tr("“{folder}”: left out: {reason}").format(
                    folder=group.folder.name, reason=translate_error(group.problem)))
            elif group.new_class:
                lines.append(self.tr("“{folder}”: {count} pictures → new class “{name}”").format(
                    folder=group.folder.name, count=len(group.paths), name=group.target))
            else:
                lines.append(self.tr("“{folder}”: {count} pictures → existing class “{name}”").format(
                    folder=group.folder.name, count=len(group.paths), name=group.target))
        if self.plan.loose:
            lines.append(self.tr("{count} files lying directly in the folder → the selected class “{name}”").format(
                count=len(self.plan.loose), name=self.selected_class) if self.selected_class
                else self.tr("{count} files lying directly in the folder: left out (no class selected)").format(
                count=len(self.plan.loose)))
        return lines

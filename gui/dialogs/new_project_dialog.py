"""New project: a name, a folder and the model to build on (the built-in one unless another is chosen)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QWidget)

from ..i18n import Retranslating
from .model_row import ModelRow


class NewProjectDialog(Retranslating, QDialog):
    def __init__(self, default_parent: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.name_edit = QLineEdit()
        self.folder_edit = QLineEdit(str(default_parent))
        self.folder_button = QPushButton()
        self.model_row = ModelRow()
        self.where = QLabel(objectName="hint", wordWrap=True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.labels = [QLabel() for _ in range(3)]
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(self.folder_button)
        form = QFormLayout(self)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        for label, field in zip(self.labels, (self.name_edit, folder_row, self.model_row)):
            form.addRow(label, field)
        form.addRow(self.where)
        form.addRow(self.buttons)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.folder_button.clicked.connect(self._browse_folder)
        for edit in (self.name_edit, self.folder_edit):
            edit.textChanged.connect(self._update)
        self.resize(640, 240)
        self.retranslate()

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("New project"))
        for label, text in zip(self.labels, (self.tr("Project name"), self.tr("Save in folder"), self.tr("Model"))):
            label.setText(text)
        self.folder_button.setText(self.tr("Browse…"))
        self.name_edit.setPlaceholderText(self.tr("for example: line 3 housings"))
        self._update()

    def _update(self) -> None:
        """OK only with a name; the line below says why, or where the project will go."""
        named = bool(self.name_edit.text().strip())
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(named)
        self.where.setText(self.tr("The project will be the folder {folder}").format(folder=self.project_folder())
                           if named else self.tr("Type a name for the project to continue."))

    def project_folder(self) -> Path:
        return Path(self.folder_edit.text().strip()).expanduser() / self.name_edit.text().strip()

    def backbone(self) -> dict:
        return dict(self.model_row.choice)

    def _browse_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Where to keep the project"), self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

"""New project: a name, a folder and (optionally) the model file to build on."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QWidget)

from ..i18n import Retranslating


class NewProjectDialog(Retranslating, QDialog):
    def __init__(self, default_parent: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.name_edit = QLineEdit()
        self.folder_edit = QLineEdit(str(default_parent))
        self.folder_button = QPushButton()
        self.weights_edit = QLineEdit()
        self.weights_button = QPushButton()
        self.model_edit = QLineEdit("vit_small_patch16_224")
        self.hint = QLabel(objectName="hint", wordWrap=True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.labels = [QLabel() for _ in range(4)]
        folder_row, weights_row = QHBoxLayout(), QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(self.folder_button)
        weights_row.addWidget(self.weights_edit, 1)
        weights_row.addWidget(self.weights_button)
        form = QFormLayout(self)
        for label, field in zip(self.labels, (self.name_edit, folder_row, self.model_edit, weights_row)):
            form.addRow(label, field)
        form.addRow(self.hint)
        form.addRow(self.buttons)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.folder_button.clicked.connect(self._browse_folder)
        self.weights_button.clicked.connect(self._browse_weights)
        self.resize(640, 260)
        self.retranslate()

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("New project"))
        for label, text in zip(self.labels, (self.tr("Project name"), self.tr("Save in folder"),
                                             self.tr("Model name"), self.tr("Model file (weights)"))):
            label.setText(text)
        self.folder_button.setText(self.tr("Browse…"))
        self.weights_button.setText(self.tr("Browse…"))
        self.hint.setText(self.tr("The model file comes from your engineer (for example a DINOv2 or MAE ViT saved "
                                  "as .safetensors). You can also set it later on the Train page."))

    def project_folder(self) -> Path:
        return Path(self.folder_edit.text().strip()).expanduser() / self.name_edit.text().strip()

    def backbone(self) -> dict:
        weights = self.weights_edit.text().strip()
        return {"name": self.model_edit.text().strip() or "vit_small_patch16_224",
                "weights": weights or None, "pretrained": False, "random_init": False, "model_kwargs": {}}

    def _browse_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Where to keep the project"), self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

    def _browse_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Choose the model file"), "",
                                              self.tr("Model weights (*.safetensors *.pth *.pt *.bin);;All files (*)"))
        if path:
            self.weights_edit.setText(path)

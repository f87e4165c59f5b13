"""Training settings: a task name and good defaults up front, the rest under "Advanced settings"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox,
                               QHBoxLayout, QLabel, QLineEdit, QPushButton, QSpinBox, QToolButton, QVBoxLayout,
                               QWidget)

from vpt_engine.prompts import PromptConfig
from vpt_engine.train_config import TrainConfig

from ..i18n import Retranslating

INITIALISATIONS = ("mean_pool", "max_pool", "kmeans", "sample", "random")
IMAGE_FITS = ("crop", "whole", "pad")
DEFAULTS = {"epochs": TrainConfig().epochs, "num_prompts": PromptConfig().num_prompts,
            "depth": PromptConfig().depth.value, "init": PromptConfig().init.value,
            "learning_rate": TrainConfig().learning_rate}


class TrainSettingsForm(Retranslating, QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.backbone: dict[str, Any] = {}
        self.name_edit = QLineEdit()
        self.auto_box = QCheckBox()
        self.auto_box.setChecked(True)
        self.auto_note = QLabel(objectName="hint")
        self.auto_note.setWordWrap(True)
        self.advanced_toggle = QToolButton(checkable=True)
        self.advanced = QGroupBox()
        self.backbone_edit = QLineEdit()
        self.weights_edit = QLineEdit()
        self.weights_button = QPushButton()
        self.prompts_spin = QSpinBox(minimum=1, maximum=200, value=DEFAULTS["num_prompts"])
        self.depth_box = QComboBox()
        self.init_box = QComboBox()
        self.fit_box = QComboBox()
        self.epochs_spin = QSpinBox(minimum=1, maximum=1000, value=DEFAULTS["epochs"])
        self.lr_spin = QDoubleSpinBox(decimals=4, minimum=0.0001, maximum=1.0, singleStep=0.001,
                                      value=DEFAULTS["learning_rate"])
        self._build()
        self.retranslate()

    def _build(self) -> None:
        weights_row = QHBoxLayout()
        weights_row.addWidget(self.weights_edit, 1)
        weights_row.addWidget(self.weights_button)
        self.advanced_form = QFormLayout(self.advanced)
        fields = (self.backbone_edit, weights_row, self.fit_box, self.prompts_spin, self.depth_box, self.init_box,
                  self.epochs_spin, self.lr_spin)
        self.advanced_labels = [QLabel() for _ in fields]
        for label, field in zip(self.advanced_labels, fields):
            self.advanced_form.addRow(label, field)
        self.advanced.setVisible(False)
        self.basic_form = QFormLayout()
        self.name_label = QLabel()
        self.basic_form.addRow(self.name_label, self.name_edit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.basic_form)
        layout.addWidget(self.auto_box)
        layout.addWidget(self.auto_note)
        layout.addWidget(self.advanced_toggle)
        layout.addWidget(self.advanced)
        for value in ("deep", "shallow"):
            self.depth_box.addItem("", value)
        for value in INITIALISATIONS:
            self.init_box.addItem("", value)
        for value in IMAGE_FITS:
            self.fit_box.addItem("", value)
        self.advanced_toggle.toggled.connect(self._toggle_advanced)
        self.auto_box.toggled.connect(self._auto_toggled)
        self.weights_button.clicked.connect(self._browse_weights)
        for edit in (self.backbone_edit, self.weights_edit):
            edit.textChanged.connect(self.changed)
        self._auto_toggled(self.auto_box.isChecked())

    def retranslate(self) -> None:
        self.name_label.setText(self.tr("Task name"))
        self.name_edit.setPlaceholderText(self.tr("for example: surface-check"))
        self.auto_box.setText(self.tr("Let the app choose the prompt settings (recommended)"))
        self.auto_note.setText(
            self.tr("The app tries a few settings on your pictures and keeps the best. This takes longer."))
        texts = (self.tr("Model name"), self.tr("Model file (weights)"), self.tr("Picture framing"),
                 self.tr("Prompt tokens per layer"),
                 self.tr("Prompt depth"), self.tr("Prompt start values"), self.tr("Training rounds (epochs)"),
                 self.tr("Learning rate"))
        for label, text in zip(self.advanced_labels, texts):
            label.setText(text)
        self.advanced.setTitle(self.tr("Advanced settings"))
        self._toggle_advanced(self.advanced_toggle.isChecked())
        self.weights_button.setText(self.tr("Browse…"))
        self.weights_edit.setPlaceholderText(
            self.tr("random weights (testing only)") if self.backbone.get("random_init")
            else self.tr(".safetensors, .pth or .bin file"))
        self.backbone_edit.setToolTip(self.tr("A timm model name, e.g. vit_base_patch16_224.mae"))
        depth_names = {"deep": self.tr("Every layer (deep, more accurate)"),
                       "shallow": self.tr("First layer only (shallow, faster)")}
        init_names = {"mean_pool": self.tr("From the pictures: averages (recommended)"),
                      "max_pool": self.tr("From the pictures: strongest features"),
                      "kmeans": self.tr("From the pictures: typical patterns (k-means)"),
                      "sample": self.tr("From the pictures: random samples"), "random": self.tr("Random")}
        fit_names = {"crop": self.tr("Centre of the picture (the model's own; edges are cut off)"),
                     "whole": self.tr("Whole picture, stretched to fit"),
                     "pad": self.tr("Whole picture, with borders added")}
        self.fit_box.setToolTip(self.tr("Choose a whole-picture setting when defects can be near the edge."))
        for box, names in ((self.depth_box, depth_names), (self.init_box, init_names), (self.fit_box, fit_names)):
            for row in range(box.count()):
                box.setItemText(row, names[box.itemData(row)])

    def _toggle_advanced(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        self.advanced_toggle.setText(("▾ " if shown else "▸ ") + self.tr("Advanced settings"))

    def _auto_toggled(self, on: bool) -> None:
        for widget in (self.prompts_spin, self.init_box):
            widget.setEnabled(not on)

    def _browse_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Choose the model file"), "",
                                              self.tr("Model weights (*.safetensors *.pth *.pt *.bin);;All files (*)"))
        if path:
            self.weights_edit.setText(path)

    # -- values -------------------------------------------------------------
    def load(self, backbone: dict[str, Any], settings: dict[str, Any]) -> None:
        """Show a project's backbone and its last used settings."""
        self.backbone = dict(backbone)
        self.backbone_edit.setText(backbone.get("name", ""))
        self.weights_edit.setText(backbone.get("weights") or "")
        self.fit_box.setCurrentIndex(max(0, self.fit_box.findData(backbone.get("image_fit", "crop"))))
        self.prompts_spin.setValue(int(settings.get("num_prompts", DEFAULTS["num_prompts"])))
        self.depth_box.setCurrentIndex(max(0, self.depth_box.findData(settings.get("depth", DEFAULTS["depth"]))))
        self.init_box.setCurrentIndex(max(0, self.init_box.findData(settings.get("init", DEFAULTS["init"]))))
        self.epochs_spin.setValue(int(settings.get("epochs", DEFAULTS["epochs"])))
        self.lr_spin.setValue(float(settings.get("learning_rate", DEFAULTS["learning_rate"])))
        if "auto" in settings:
            self.auto_box.setChecked(bool(settings["auto"]))
        self.retranslate()

    def backbone_config(self) -> dict[str, Any]:
        """The backbone as edited: a weights file replaces random or downloaded weights."""
        config = dict(self.backbone)
        name = self.backbone_edit.text().strip()
        if name and name != config.get("name"):
            config.update(name=name, model_kwargs={})
        weights = self.weights_edit.text().strip()
        if weights:
            config.update(weights=str(Path(weights).expanduser()), pretrained=False, random_init=False)
        elif config.get("weights"):
            config["weights"] = None
            if not config.get("pretrained"):
                config["random_init"] = False
        config["image_fit"] = self.fit_box.currentData()
        return config

    def settings(self) -> dict[str, Any]:
        return {"num_prompts": self.prompts_spin.value(), "depth": self.depth_box.currentData(),
                "init": self.init_box.currentData(), "epochs": self.epochs_spin.value(),
                "learning_rate": round(self.lr_spin.value(), 6), "auto": self.auto_box.isChecked()}

    def task_name(self) -> str:
        return self.name_edit.text().strip()

"""Training settings: a task name and good defaults up front, the rest under "Advanced settings"."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QLabel, QLineEdit,
                               QSpinBox, QToolButton, QVBoxLayout, QWidget)

from vpt_engine.prompts import PromptConfig
from vpt_engine.train_config import TrainConfig

from .. import setting_names
from ..dialogs.model_row import ModelRow
from ..i18n import Retranslating
from ..model_catalogue import DOWNLOAD, EMBEDDED, choice_kind, default_backbone, resolve
from .combo_popup import fit_popup, make_narrow

INITIALISATIONS = ("random", "mean_pool", "max_pool", "kmeans", "sample")
IMAGE_FITS = ("crop", "whole", "pad")
DEFAULTS = {"steps": 0, "num_prompts": PromptConfig().num_prompts,
            "depth": PromptConfig().depth.value, "init": PromptConfig().init.value,
            "learning_rate": TrainConfig().learning_rate}


class TrainSettingsForm(Retranslating, QWidget):
    changed = Signal()
    modelChosen = Signal(dict)      # a new model choice, to be stored in the project at once

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.choice: dict[str, Any] = default_backbone()
        self.name_edit = QLineEdit()
        self.model_row = ModelRow()
        self.auto_box = QCheckBox()
        self.auto_box.setChecked(False)   # it measured no better here and takes about three times as long
        self.auto_note = QLabel(objectName="hint")
        self.auto_note.setWordWrap(True)
        self.advanced_toggle = QToolButton(checkable=True)
        self.advanced = QGroupBox()
        self.timm_edit = QLineEdit()          # the engineer's view of the model
        self.arguments_edit = QLineEdit()
        self.prompts_spin = QSpinBox(minimum=0, maximum=200, value=DEFAULTS["num_prompts"])
        self.depth_box = QComboBox()
        self.init_box = QComboBox()
        self.fit_box = QComboBox()
        self.steps_spin = QSpinBox(minimum=0, maximum=100_000, value=DEFAULTS["steps"])   # 0: automatic length
        self.lr_spin = QDoubleSpinBox(decimals=4, minimum=0.0001, maximum=1.0, singleStep=0.001,
                                      value=DEFAULTS["learning_rate"])
        self._build()
        self.retranslate()

    def _build(self) -> None:
        self.advanced_form = QFormLayout(self.advanced)
        # Long labels wrap above their field rather than widening the page (1280-pixel screens, Japanese).
        self.advanced_form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        fields = (self.fit_box, self.prompts_spin, self.depth_box, self.init_box, self.steps_spin, self.lr_spin,
                  self.timm_edit, self.arguments_edit)
        self.advanced_labels = [QLabel(wordWrap=True) for _ in fields]
        for label, field in zip(self.advanced_labels, fields):
            self.advanced_form.addRow(label, field)
        for box in (self.fit_box, self.depth_box, self.init_box):
            make_narrow(box, 12)
        self.advanced.setVisible(False)
        self.basic_form = QFormLayout()
        self.basic_form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.name_label = QLabel()
        self.model_label = QLabel()
        self.basic_form.addRow(self.name_label, self.name_edit)
        self.basic_form.addRow(self.model_label, self.model_row)
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
        self.model_row.chosen.connect(self._model_chosen)
        for edit in (self.timm_edit, self.arguments_edit):
            edit.textChanged.connect(self.changed)
        self._auto_toggled(self.auto_box.isChecked())

    def retranslate(self) -> None:
        self.name_label.setText(self.tr("Task name"))
        self.name_edit.setPlaceholderText(self.tr("for example: surface-check"))
        self.auto_box.setText(self.tr("Try other settings on my pictures"))
        self.auto_note.setText(
            self.tr("The app tries a few settings on your pictures and keeps the best. This takes about three times "
                    "as long."))
        self.model_label.setText(self.tr("Model"))
        texts = (self.tr("Picture framing"), self.tr("Prompt tokens per layer"), self.tr("Prompt depth"),
                 self.tr("Prompt start values"), self.tr("Training steps"), self.tr("Learning rate"),
                 self.tr("Model (timm name, for engineers)"), self.tr("Model arguments (JSON, for engineers)"))
        for label, text in zip(self.advanced_labels, texts):
            label.setText(text)
        self._toggle_advanced(self.advanced_toggle.isChecked())
        self.timm_edit.setToolTip(self.tr("A timm model name, e.g. vit_base_patch16_224.mae. Changing it replaces "
                                          "the model chosen above."))
        self.arguments_edit.setPlaceholderText("{}")
        self.steps_spin.setSpecialValueText(self.tr("automatic"))
        self.prompts_spin.setToolTip(self.tr("0: no prompt tokens (only the final layer is trained)"))
        depth_names, init_names, fit_names = setting_names.depth_names(), setting_names.init_names(), \
            setting_names.fit_names()
        self.fit_box.setToolTip(self.tr("Choose a whole-picture setting when defects can be near the edge."))
        for box, names in ((self.depth_box, depth_names), (self.init_box, init_names), (self.fit_box, fit_names)):
            for row in range(box.count()):
                box.setItemText(row, names[box.itemData(row)])
            fit_popup(box)

    def _toggle_advanced(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        self.advanced_toggle.setText(("▾ " if shown else "▸ ") + self.tr("Advanced settings"))

    def _auto_toggled(self, on: bool) -> None:
        for widget in (self.prompts_spin, self.init_box):
            widget.setEnabled(not on)

    def _model_chosen(self, choice: dict[str, Any]) -> None:
        self.set_choice(choice)
        self.modelChosen.emit(self.backbone_choice())

    # -- values -------------------------------------------------------------
    def set_choice(self, choice: dict[str, Any]) -> None:
        """Show a model choice (as stored in the project); an empty one means the built-in model."""
        self.choice = dict(choice) if choice.get("name") or choice.get("model") else default_backbone()
        self.model_row.set_choice(self.choice)
        for edit, text in ((self.timm_edit, self.choice.get("name", "")),
                           (self.arguments_edit, json.dumps(self.choice.get("model_kwargs") or {}))):
            edit.blockSignals(True)
            edit.setText(text)
            edit.blockSignals(False)
        fit = self.choice.get("image_fit") or "whole"
        self.fit_box.setCurrentIndex(max(0, self.fit_box.findData(fit)))
        self.changed.emit()

    def load(self, backbone: dict[str, Any], settings: dict[str, Any]) -> None:
        """Show a project's model choice and its last used settings."""
        self.set_choice(backbone)
        self.prompts_spin.setValue(int(settings.get("num_prompts", DEFAULTS["num_prompts"])))
        self.depth_box.setCurrentIndex(max(0, self.depth_box.findData(settings.get("depth", DEFAULTS["depth"]))))
        self.init_box.setCurrentIndex(max(0, self.init_box.findData(settings.get("init", DEFAULTS["init"]))))
        self.steps_spin.setValue(int(settings.get("steps", DEFAULTS["steps"]) or 0))
        self.lr_spin.setValue(float(settings.get("learning_rate", DEFAULTS["learning_rate"])))
        if "auto" in settings:
            self.auto_box.setChecked(bool(settings["auto"]))
        self.retranslate()

    def model_arguments(self) -> dict[str, Any] | None:
        """The engineer's model arguments; None when they are not a JSON object."""
        text = self.arguments_edit.text().strip() or "{}"
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            return None
        return value if isinstance(value, dict) else None

    def backbone_choice(self) -> dict[str, Any]:
        """The model as stored in the project, with the engineer's changes from Advanced settings."""
        choice = dict(self.choice)
        name = self.timm_edit.text().strip() or choice.get("name", "")
        arguments = self.model_arguments()
        arguments = dict(choice.get("model_kwargs") or {}) if arguments is None else arguments
        if name != choice.get("name") or arguments != (choice.get("model_kwargs") or {}):
            if choice_kind(choice) in (EMBEDDED, DOWNLOAD):
                # Another model than the catalogue's: timm's own download of that name.
                choice = {"name": name, "weights": None, "pretrained": True, "random_init": False}
            choice.update(name=name, model_kwargs=arguments)
        choice["image_fit"] = self.fit_box.currentData()
        return choice

    def backbone_config(self) -> dict[str, Any]:
        """The chosen model as a BackboneConfig dict (what training loads)."""
        return resolve(self.backbone_choice())

    def settings(self) -> dict[str, Any]:
        return {"num_prompts": self.prompts_spin.value(), "depth": self.depth_box.currentData(),
                "init": self.init_box.currentData(), "steps": self.steps_spin.value() or None,
                "learning_rate": round(self.lr_spin.value(), 6), "auto": self.auto_box.isChecked()}

    def task_name(self) -> str:
        return self.name_edit.text().strip()

"""Choose the model a project builds on: built in, a recommended download, or a model file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (QButtonGroup, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QGridLayout,
                               QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton, QRadioButton, QScrollArea,
                               QVBoxLayout, QWidget)

from ..i18n import Retranslating
from ..model_catalogue import (CATALOGUE, DOWNLOAD, FILE, MODEL_FILE_KEY, CatalogueModel, catalogue_model,
                               choice_for, choice_kind, file_choice, is_downloaded)
from ..model_jobs import DownloadOutcome, DownloadProgress, FileCheckResult, download_job, file_check_job
from ..model_texts import description, facts, title
from ..workers import start_job

IDLE, DOWNLOADING, CHECKING = "idle", "downloading", "checking"


class ModelDialog(Retranslating, QDialog):
    def __init__(self, current: dict[str, Any], parent: QWidget | None = None):
        super().__init__(parent)
        self.image_fit = current.get("image_fit") or "whole"
        self.state = IDLE
        self.thread = None
        self.checked_file: Path | None = None      # a model file that loaded into its architecture
        self.problem = ""
        self.group = QButtonGroup(self)
        self.buttons: dict[str, QRadioButton] = {}
        self.details: dict[str, QLabel] = {}
        self.file_edit = QLineEdit(readOnly=True)
        self.file_button = QPushButton()
        self.architecture_box = QComboBox()
        self.status = QLabel(objectName="hint", wordWrap=True)
        self.progress = QProgressBar(visible=False)
        self.download_button = QPushButton()
        self.stop_button = QPushButton(visible=False)
        self.box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self._build()
        self._select_current(current)
        self.retranslate()

    def _build(self) -> None:
        grid = QGridLayout()
        keys = [model.key for model in CATALOGUE] + [MODEL_FILE_KEY]
        for row, key in enumerate(keys):
            button = QRadioButton()
            detail = QLabel(objectName="hint", wordWrap=True)
            self.group.addButton(button, row)
            self.buttons[key], self.details[key] = button, detail
            grid.addWidget(button, 2 * row, 0)
            grid.addWidget(detail, 2 * row + 1, 0)
        file_row = QHBoxLayout()
        file_row.addWidget(self.file_edit, 1)
        file_row.addWidget(self.file_button)
        grid.addLayout(file_row, 2 * len(keys), 0)
        grid.addWidget(self.architecture_box, 2 * len(keys) + 1, 0)
        for model in CATALOGUE:
            self.architecture_box.addItem(model.short_name, model.key)
        choices = QWidget()
        choices.setLayout(grid)
        scroll = QScrollArea(widgetResizable=True)   # stays usable on a 720-pixel-high screen
        scroll.setWidget(choices)
        actions = QHBoxLayout()
        actions.addWidget(self.download_button)
        actions.addWidget(self.progress, 1)
        actions.addWidget(self.stop_button)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.status)
        layout.addLayout(actions)
        layout.addWidget(self.box)
        self.group.idToggled.connect(lambda *_: self._refresh())
        self.file_button.clicked.connect(self.ask_file)
        self.architecture_box.currentIndexChanged.connect(self._architecture_changed)
        self.download_button.clicked.connect(self.download)
        self.stop_button.clicked.connect(self.stop)
        self.box.accepted.connect(self.accept)
        self.box.rejected.connect(self.reject)
        self.resize(760, 600)

    def _select_current(self, current: dict[str, Any]) -> None:
        kind = choice_kind(current)
        if kind == FILE:
            self.buttons[MODEL_FILE_KEY].setChecked(True)
            self.file_edit.setText(current.get("weights") or "")
            self.checked_file = Path(current["weights"]) if current.get("weights") else None
            index = next((i for i, m in enumerate(CATALOGUE) if m.timm_name == current.get("name")), 0)
            self.architecture_box.setCurrentIndex(index)
            return
        model = catalogue_model(current.get("model")) or CATALOGUE[0]
        self.buttons[model.key].setChecked(True)

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Choose the model"))
        for model in CATALOGUE:
            self.buttons[model.key].setText(title(model))
            self.details[model.key].setText(f"{description(model)}\n{facts(model)}")
        self.buttons[MODEL_FILE_KEY].setText(self.tr("Use a model file… (for computers without internet)"))
        self.details[MODEL_FILE_KEY].setText(self.tr(
            "Your engineer gives you the file (for example on a USB stick) and tells you which kind of model it "
            "is. The app checks at once that the file fits."))
        self.file_button.setText(self.tr("Choose file…"))
        self.file_edit.setPlaceholderText(self.tr("no file chosen"))
        self.architecture_box.setToolTip(self.tr("Which kind of model the file holds"))
        self.stop_button.setText(self.tr("Cancel"))
        self._refresh()

    # -- state --------------------------------------------------------------
    def selected_key(self) -> str:
        return next(key for key, button in self.buttons.items() if button.isChecked())

    def selected_model(self) -> CatalogueModel | None:
        return catalogue_model(self.selected_key())

    def architecture(self) -> CatalogueModel:
        return catalogue_model(self.architecture_box.currentData()) or CATALOGUE[0]

    def choice(self) -> dict[str, Any]:
        """The chosen model as stored in the project."""
        if self.selected_key() == MODEL_FILE_KEY:
            return file_choice(self.architecture(), self.checked_file or "", self.image_fit)
        return choice_for(self.selected_model(), self.image_fit)

    def usable(self) -> bool:
        if self.state != IDLE:
            return False
        if self.selected_key() == MODEL_FILE_KEY:
            return self.checked_file is not None
        return is_downloaded(self.selected_model())

    def _refresh(self) -> None:
        is_file = self.selected_key() == MODEL_FILE_KEY
        for widget in (self.file_edit, self.file_button, self.architecture_box):
            widget.setEnabled(is_file and self.state == IDLE)
        model = self.selected_model()
        needs_download = model is not None and model.source == DOWNLOAD and not is_downloaded(model)
        self.download_button.setVisible(needs_download and self.state == IDLE)
        if model is not None:
            self.download_button.setText(self.tr("Download ({size:.0f} MB)").format(size=model.file_megabytes))
        self.box.button(QDialogButtonBox.StandardButton.Ok).setEnabled(self.usable())
        self.group.setExclusive(True)
        for button in self.buttons.values():
            button.setEnabled(self.state == IDLE)
        self.status.setText(self._status_text(model, needs_download))

    def _status_text(self, model: CatalogueModel | None, needs_download: bool) -> str:
        if self.problem:
            return self.problem
        if self.state == DOWNLOADING:
            return self.tr("Downloading… You can keep working; Cancel stops the download.")
        if self.state == CHECKING:
            return self.tr("Checking the model file…")
        if model is None:
            if self.checked_file is None:
                return self.tr("Choose the model file and the kind of model it holds.")
            return self.tr("✔ The file fits: {name}").format(name=self.checked_file.name)
        if needs_download:
            return self.tr("This model is not on this computer yet: press Download (needs internet once).")
        return self.tr("✔ Ready to use.")

    # -- download -------------------------------------------------------------
    def download(self) -> bool:
        model = self.selected_model()
        if model is None or self.state != IDLE or is_downloaded(model):
            return False
        self._start(DOWNLOADING, download_job(model), self._downloaded)
        return True

    def _downloaded(self, outcome: DownloadOutcome) -> None:
        self._finish()
        if outcome.offline:
            self.problem = self.tr(
                "This computer cannot reach the internet, so the model cannot be downloaded. The built-in model "
                "stays selected. Without internet, ask your engineer for the model file and choose “Use a model "
                "file…”.")
            self.buttons[CATALOGUE[0].key].setChecked(True)
        elif outcome.path is None:
            self.problem = self.tr("Download cancelled. Nothing was changed.")
        self._refresh()

    # -- model file -------------------------------------------------------------
    def ask_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Choose the model file"), "",
                                              self.tr("Model files (*.safetensors *.pth *.pt *.bin);;All files (*)"))
        if path:
            self.check_file(Path(path))

    def check_file(self, path: Path) -> bool:
        if self.state != IDLE:
            return False
        self.file_edit.setText(str(path))
        self.checked_file = None
        self._start(CHECKING, file_check_job(self.architecture(), path), self._file_checked)
        return True

    def _architecture_changed(self) -> None:
        if self.file_edit.text() and self.state == IDLE:
            self.check_file(Path(self.file_edit.text()))   # a file fits one kind of model only

    def _file_checked(self, result: FileCheckResult) -> None:
        self._finish()
        self.checked_file = result.path
        self._refresh()

    # -- background work ---------------------------------------------------------
    def _start(self, state: str, job, on_success) -> None:
        self.state, self.problem = state, ""
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.stop_button.setVisible(state == DOWNLOADING)
        self.thread = start_job(job, self._on_event, on_success, self._failed, self)
        self._refresh()

    def _on_event(self, event) -> None:
        if isinstance(event, DownloadProgress) and event.total_bytes:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * event.done_bytes / event.total_bytes))
            self.progress.setFormat(self.tr("{done:.0f} of {total:.0f} MB").format(
                done=event.done_bytes / 1e6, total=event.total_bytes / 1e6))

    def _failed(self, text: str) -> None:
        was_download = self.state == DOWNLOADING
        self._finish()
        if was_download:
            self.problem = self.tr("The download stopped before the end; the built-in model stays selected. "
                                   "Try again later: it continues where it stopped.")
            self.buttons[CATALOGUE[0].key].setChecked(True)
        else:
            self.problem = self.tr("This file does not fit “{model}”: it holds another kind of model, or it is "
                                   "damaged. Choose the kind your engineer named, or another file.").format(
                model=self.architecture().short_name)
        self.status.setToolTip(text)   # the technical detail, for an engineer
        self._refresh()

    def _finish(self) -> None:
        self.state, self.thread = IDLE, None
        self.progress.setVisible(False)
        self.stop_button.setVisible(False)

    def stop(self) -> None:
        if self.thread is not None:
            self.thread.cancel()

    def reject(self) -> None:
        self.stop()
        if self.thread is not None:
            self.thread.wait(5000)
        super().reject()

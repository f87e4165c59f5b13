"""Export: pick tasks, build a deploy bundle (with its parity check), show sizes, open the folder."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QHBoxLayout, QHeaderView, QLabel, QListWidget, QListWidgetItem, QProgressBar,
                               QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from ..i18n import Retranslating, set_text
from ..jobs import ExportOutcome, ExportProgress, export_job
from ..open_folder import open_folder
from ..session import ProjectSession
from ..workers import start_job

PARITY_IMAGES_PER_CLASS = 4


def _size(num_bytes: float) -> str:
    return f"{num_bytes / 1e6:.1f} MB" if num_bytes >= 1e6 else f"{num_bytes / 1e3:.1f} KB"


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


class ExportPage(Retranslating, QWidget):
    exported = Signal(object)     # ExportOutcome or None
    message = Signal(str)

    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.thread = None
        self.status_kind = ""            # "idle" while the status only says what to do next
        self.outcome: ExportOutcome | None = None
        self.title = QLabel(objectName="pageTitle")
        self.intro = QLabel(wordWrap=True)
        self.tasks = QListWidget()
        self.build_button = QPushButton(objectName="primary")
        self.open_button = QPushButton()
        self.cancel_button = QPushButton(visible=False)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.status = QLabel(wordWrap=True)
        self.details = QTableWidget(0, 2)
        self.details.verticalHeader().setVisible(False)
        self.details.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.details.horizontalHeader().setStretchLastSection(True)
        self.details.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        buttons = QHBoxLayout()
        buttons.addWidget(self.build_button, 2)
        buttons.addWidget(self.cancel_button, 1)
        buttons.addWidget(self.open_button, 1)
        layout = QVBoxLayout(self)
        for widget in (self.title, self.intro, self.tasks):
            layout.addWidget(widget)
        layout.addLayout(buttons)
        for widget in (self.progress, self.status):
            layout.addWidget(widget)
        layout.addWidget(self.details, 1)
        self.build_button.clicked.connect(self.build)
        self.open_button.clicked.connect(self.open_folder)
        self.cancel_button.clicked.connect(self.cancel)
        self.tasks.itemChanged.connect(lambda _: self._update_buttons())
        session.tasksChanged.connect(self.refresh_tasks)
        self.retranslate()
        self.refresh_tasks()

    def retranslate(self) -> None:
        self.title.setText(self.tr("Export for the inspection station"))
        self.intro.setText(self.tr("Tick the tasks the station should run. The bundle holds the model once and each "
                                   "task as a small file; the app checks that the exported model gives the same "
                                   "answers as here."))
        self.build_button.setText(self.tr("Build bundle"))
        self.open_button.setText(self.tr("Open folder"))
        self.cancel_button.setText(self.tr("Cancel"))
        self.details.setHorizontalHeaderLabels([self.tr("Item"), self.tr("Value")])
        self._show_rows()
        self._update_buttons()

    def refresh_tasks(self) -> None:
        checked = set(self.checked_tasks())
        paths = list(reversed(self.session.project.task_paths()))
        self.tasks.blockSignals(True)
        self.tasks.clear()
        for index, path in enumerate(paths):
            item = QListWidgetItem(path.stem)
            item.setData(Qt.ItemDataRole.UserRole, path)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if path in checked or (not checked and index == 0)
                               else Qt.CheckState.Unchecked)
            self.tasks.addItem(item)
        self.tasks.blockSignals(False)
        self._update_buttons()
        self._show_idle_status()

    def checked_tasks(self) -> list[Path]:
        items = (self.tasks.item(row) for row in range(self.tasks.count()))
        return [item.data(Qt.ItemDataRole.UserRole) for item in items if item.checkState() == Qt.CheckState.Checked]

    def set_checked(self, paths: list[Path]) -> None:
        wanted = {Path(p) for p in paths}
        for row in range(self.tasks.count()):
            item = self.tasks.item(row)
            item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole) in wanted
                               else Qt.CheckState.Unchecked)

    def _update_buttons(self) -> None:
        self.build_button.setEnabled(self.thread is None and bool(self.checked_tasks()))
        self.cancel_button.setVisible(self.thread is not None)
        self.open_button.setEnabled(self.outcome is not None)

    def _show_idle_status(self) -> None:
        """Before any build: say what to do (tasks may appear or disappear while the page exists)."""
        if self.thread is not None or self.outcome is not None or self.status_kind not in ("", "idle"):
            return
        self.status_kind = "idle"
        set_text(self.status, lambda: self.tr("Tick the tasks and press Build bundle.") if self.tasks.count()
                 else self.tr("No task yet: train one on the Train page."))

    def parity_images(self) -> list[Path]:
        project = self.session.project
        return [p for name in project.class_names for p in project.image_paths(name)[:PARITY_IMAGES_PER_CLASS]]

    def build(self) -> bool:
        tasks = self.checked_tasks()
        if not tasks or self.thread is not None:
            return False
        bundle_dir = self.session.project.new_export_dir()
        self.outcome = None
        self.details.setRowCount(0)
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.status_kind = "busy"
        set_text(self.status, lambda: self.tr("Building the bundle: exporting the model and checking its answers…"))
        self.thread = start_job(export_job(tasks, bundle_dir, self.parity_images()), self._on_event,
                                self._on_success, self._on_failure, self)
        self._update_buttons()
        return True

    def _on_event(self, event) -> None:
        if isinstance(event, ExportProgress):
            if event.total:
                self.progress.setRange(0, event.total)
                self.progress.setValue(event.done)
            if event.message:
                set_text(self.status, lambda: self.tr("Building the bundle: {step}").format(
                    step=self._stage_text(event.message)))

    def _stage_text(self, stage: str) -> str:
        """The exporter's stage names in plain words (unknown ones are shown as they are)."""
        if stage.startswith("parity: "):
            return self.tr("checking the answers of “{name}”").format(name=stage[len("parity: "):])
        return {"loading backbone": self.tr("loading the model"),
                "exporting backbone.onnx": self.tr("exporting the model"),
                "writing bundle": self.tr("writing the files"), "done": self.tr("done")}.get(stage, stage)

    def cancel(self) -> None:
        if self.thread is not None:
            self.thread.cancel()
            set_text(self.status, lambda: self.tr("Stopping… (after the current step)"))

    def _on_success(self, outcome: ExportOutcome | None) -> None:
        self.thread = None
        self.outcome = outcome
        self.progress.setVisible(False)
        self._show_rows()
        if outcome is None:
            set_text(self.status, lambda: self.tr("Export cancelled; no bundle was written."))
            self._update_buttons()
            self.exported.emit(None)
            return
        set_text(self.status, lambda: self.tr("Bundle ready: {folder}").format(folder=outcome.bundle_dir))
        self._update_buttons()
        self.message.emit(self.status.text())
        self.exported.emit(outcome)

    def _show_rows(self) -> None:
        rows = self.summary_rows(self.outcome) if self.outcome is not None else []
        self.details.setRowCount(len(rows))
        for row, (key, value) in enumerate(rows):
            self.details.setItem(row, 0, QTableWidgetItem(key))
            self.details.setItem(row, 1, QTableWidgetItem(value))

    def summary_rows(self, outcome: ExportOutcome) -> list[tuple[str, str]]:
        """What an operator needs: sizes, whether the exported model answers like the original, where it is."""
        report = outcome.report
        rows = [(self.tr("Folder"), str(outcome.bundle_dir)),
                (self.tr("Whole bundle"), _size(_folder_bytes(outcome.bundle_dir))),
                (self.tr("Model, shared by all tasks"), _size(report.backbone_bytes))]
        for name, size in report.task_bytes.items():
            rows.append((self.tr("Task “{name}”").format(name=name), _size(size)))
        for name, figures in report.parity.items():
            images, matches = figures.get("images", 0), figures.get("top1_matches", 0)
            rows.append((self.tr("Same answers as here (“{name}”)").format(name=name),
                         self.tr("{matches} of {images} pictures, largest score difference {diff:.1e}").format(
                             matches=matches, images=images, diff=float(figures.get("max_logit_diff", 0.0)))))
        rows.append((self.tr("Time taken"), self.tr("{seconds:.0f} s").format(seconds=report.seconds)))
        rows += [(self.tr("Note"), note) for note in report.notes]
        return rows

    def _on_failure(self, text: str) -> None:
        self.thread = None
        self.progress.setVisible(False)
        set_text(self.status, lambda: self.tr("The bundle could not be built: {error}").format(error=text))
        self._update_buttons()
        self.message.emit(text)
        self.exported.emit(None)

    def open_folder(self) -> str:
        """Open the bundle's folder; without a file manager, say where it is (returned for tests)."""
        if self.outcome is None:
            return ""
        problem = open_folder(self.outcome.bundle_dir, self)
        if problem:
            self.message.emit(problem.replace("\n", " "))
        return problem

    def shutdown(self) -> None:
        if self.thread is not None:
            self.thread.cancel()
            self.thread.wait(120000)

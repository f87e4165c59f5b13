"""Live: run an exported bundle on the current picture source; label, confidence and time drawn over it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton,
                               QVBoxLayout, QWidget)

from ..camera import CameraController
from ..i18n import Retranslating, set_text
from ..live_worker import LiveResult, LiveWorker
from ..session import ProjectSession
from ..widgets.preview_view import PreviewView
from ..widgets.source_bar import SourceBar

MANIFEST_NAMES = ("manifest.json", "bundle.json")


def project_bundles(exports_dir: Path) -> list[Path]:
    """Bundles under the project's exports/ folder, newest first."""
    if not exports_dir.is_dir():
        return []
    found = [p for p in exports_dir.iterdir() if p.is_dir() and any((p / n).is_file() for n in MANIFEST_NAMES)]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


class LivePage(Retranslating, QWidget):
    message = Signal(str)
    resultShown = Signal(object)     # LiveResult, for tests and benchmarks

    def __init__(self, session: ProjectSession, camera: CameraController, parent: QWidget | None = None):
        super().__init__(parent)
        self.session, self.camera = session, camera
        self.worker: LiveWorker | None = None
        self.last_result: LiveResult | None = None
        self.title = QLabel(objectName="pageTitle")
        self.bundle_label = QLabel()
        self.bundle_box = QComboBox()
        self.other_button = QPushButton()
        self.run_button = QPushButton(objectName="primary")
        self.task_label = QLabel()
        self.task_buttons_row = QHBoxLayout()
        self.task_group = QButtonGroup(self, exclusive=True)
        self.status = QLabel(objectName="hint", wordWrap=True)
        self.source_bar = SourceBar()
        self.preview = PreviewView()
        self._build()
        self.run_button.clicked.connect(self.toggle)
        self.other_button.clicked.connect(self.ask_bundle)
        self.source_bar.startRequested.connect(camera.start)
        self.source_bar.stopRequested.connect(camera.stop)
        self.source_bar.problem.connect(lambda text: set_text(self.status, lambda: text))
        camera.frameArrived.connect(self._on_frame)
        camera.stateChanged.connect(self._on_camera_state)
        camera.fpsChanged.connect(self.preview.set_fps)
        self.preview.set_state(camera.state, camera.detail)
        self.source_bar.set_running(camera.state)
        self.retranslate()
        self.refresh_bundles()

    def _build(self) -> None:
        bundle_row = QHBoxLayout()
        bundle_row.addWidget(self.bundle_label)
        bundle_row.addWidget(self.bundle_box, 1)
        bundle_row.addWidget(self.other_button)
        bundle_row.addWidget(self.run_button)
        task_row = QHBoxLayout()
        task_row.addWidget(self.task_label)
        task_row.addLayout(self.task_buttons_row, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(bundle_row)
        layout.addLayout(task_row)
        layout.addWidget(self.source_bar)
        layout.addWidget(self.preview, 1)
        layout.addWidget(self.status)

    def retranslate(self) -> None:
        self.title.setText(self.tr("Live inspection"))
        self.bundle_label.setText(self.tr("Bundle:"))
        self.other_button.setText(self.tr("Other bundle…"))
        self.run_button.setText(self.tr("Stop inspection") if self.worker else self.tr("Start inspection"))
        self.task_label.setText(self.tr("Task:"))
        if self.worker is None and not self.status.text():
            set_text(self.status,
                     lambda: self.tr("Choose a bundle (made on the Export page) and press Start inspection."))
        self._draw_result()

    def refresh_bundles(self) -> None:
        current = self.bundle_box.currentData()
        self.bundle_box.clear()
        for folder in project_bundles(self.session.project.exports_dir):
            self.bundle_box.addItem(folder.name, str(folder))   # text data: QComboBox compares it reliably
        if current is not None and self.bundle_box.findData(current) < 0:
            self.bundle_box.addItem(Path(current).name, current)
        if current is not None:
            self.bundle_box.setCurrentIndex(self.bundle_box.findData(current))
        self.run_button.setEnabled(self.bundle_box.count() > 0 or self.worker is not None)

    def ask_bundle(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Choose a bundle folder"))
        if folder:
            self.bundle_box.addItem(Path(folder).name, str(folder))
            self.bundle_box.setCurrentIndex(self.bundle_box.count() - 1)
            self.run_button.setEnabled(True)

    def showEvent(self, event) -> None:  # noqa: N802
        self.refresh_bundles()
        super().showEvent(event)

    # -- running ----------------------------------------------------------------
    def toggle(self) -> None:
        if self.worker is not None:
            self.stop()
        else:
            self.start()

    def start(self, bundle_dir: Path | None = None) -> bool:
        bundle_dir = bundle_dir or self.bundle_box.currentData()
        if bundle_dir is None or self.worker is not None:
            return False
        self.worker = LiveWorker(Path(bundle_dir))
        self.worker.ready.connect(self._on_ready)
        self.worker.result.connect(self._on_result)
        self.worker.failed.connect(self._on_failed)
        self.worker.taskChanged.connect(self._on_task_changed)
        set_text(self.status, lambda: self.tr("Loading the bundle…"))
        self.worker.start()
        self.retranslate()
        return True

    def stop(self) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.stop()
        self.last_result = None
        self._clear_task_buttons()
        self.preview.set_overlay([])
        set_text(self.status, lambda: "")
        self.retranslate()

    def switch_task(self, name: str) -> None:
        if self.worker is not None:
            self.worker.switch_task(name)

    def _on_ready(self, names: list, current: str) -> None:
        self._clear_task_buttons()
        for number, name in enumerate(names, start=1):
            button = QPushButton(f"{name}", checkable=True)
            button.setToolTip(self.tr("Switch to this task (Ctrl+Shift+{number})").format(number=number))
            if number <= 9:
                button.setShortcut(f"Ctrl+Shift+{number}")
            button.setChecked(name == current)
            button.clicked.connect(lambda _=False, task=name: self.switch_task(task))
            self.task_group.addButton(button)
            self.task_buttons_row.addWidget(button)
        self.task_buttons_row.addStretch(1)
        set_text(self.status, lambda: self.tr("Running. Start a picture source above if none is shown."))

    def _clear_task_buttons(self) -> None:
        for button in self.task_group.buttons():
            self.task_group.removeButton(button)
            button.deleteLater()
        while self.task_buttons_row.count():
            self.task_buttons_row.takeAt(0)

    def _on_task_changed(self, name: str) -> None:
        for button in self.task_group.buttons():
            button.setChecked(button.text() == name)
        self.last_result = None
        self._draw_result()

    def _on_frame(self, frame) -> None:
        if self.isVisible():
            self.preview.show_frame(frame)
        if self.worker is not None:
            self.worker.submit(frame)

    def _on_camera_state(self, state: str, detail: str) -> None:
        self.preview.set_state(state, detail)
        if state != "off" and self.camera.spec is not None:
            self.source_bar.set_spec(self.camera.spec)   # the other page may have started it
        self.source_bar.set_running(state)

    def _on_result(self, result: LiveResult) -> None:
        self.last_result = result
        self._draw_result()
        self.resultShown.emit(result)

    def _on_failed(self, text: str) -> None:
        set_text(self.status, lambda: self.tr("The bundle cannot run: {error}").format(error=text))
        self.message.emit(text)
        if self.worker is not None and self.worker.station is None:
            self.stop()
            set_text(self.status, lambda: self.tr("The bundle cannot run: {error}").format(error=text))

    def _draw_result(self) -> None:
        result = self.last_result
        if result is None:
            self.preview.set_overlay([])
            return
        colour = QColor("#ffffff")
        for info in self.session.project.classes:
            if info.name == result.label:
                colour = QColor(info.colour).lighter(140)
        self.preview.set_overlay([
            (result.label, colour),
            (self.tr("{confidence:.0f} % sure · task {task}").format(confidence=100 * result.confidence,
                                                                     task=result.task), QColor("#ffffff")),
            (self.tr("{total:.0f} ms (preparing {pre:.0f} ms, model {model:.0f} ms)").format(
                total=result.preprocess_ms + result.inference_ms, pre=result.preprocess_ms,
                model=result.inference_ms), QColor("#cfd8dc")),
        ])

    def shutdown(self) -> None:
        self.stop()

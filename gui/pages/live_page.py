"""Live: run an exported bundle on the current picture source; the verdict in large type beside the picture.

While inspecting, the picture shown is the one the verdict was computed on (it
arrives with its result), so a verdict is never seen over another part. When
inspection stops, the verdict goes and the plain camera picture comes back.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton,
                               QVBoxLayout, QWidget)

from vpt_core.errors import VptError

from ..camera import OFF, RUNNING, CameraController
from ..dialogs.good_classes_dialog import GoodClassesDialog
from ..i18n import Retranslating, set_text
from ..live_worker import LiveResult, LiveWorker
from ..session import ProjectSession
from ..verdicts import SETTING, TaskRoles, roles_for, roles_setting, verdict_kind
from ..widgets.preview_view import PreviewView
from ..widgets.source_bar import SourceBar
from ..widgets.verdict_banner import WAITING, VerdictBanner, verdict_colour

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
        self.runs_started = 0
        self.last_result: LiveResult | None = None
        self.task, self.classes = "", []
        self.title = QLabel(objectName="pageTitle")
        self.bundle_label = QLabel()
        self.bundle_box = QComboBox()
        self.other_button = QPushButton()
        self.run_button = QPushButton(objectName="primary")
        self.task_label = QLabel()
        self.task_buttons_row = QHBoxLayout()
        self.task_group = QButtonGroup(self, exclusive=True)
        self.good_button = QPushButton()
        self.status = QLabel(objectName="hint", wordWrap=True)
        self.source_bar = SourceBar()
        self.banner = VerdictBanner()
        self.preview = PreviewView()
        self._build()
        self.run_button.clicked.connect(self.toggle)
        self.other_button.clicked.connect(self.ask_bundle)
        self.good_button.clicked.connect(self.ask_good_classes)
        self.source_bar.startRequested.connect(camera.start)
        self.source_bar.stopRequested.connect(camera.stop)
        self.source_bar.problem.connect(lambda text: set_text(self.status, lambda: text))
        camera.frameArrived.connect(self._on_frame)
        camera.stateChanged.connect(self._on_camera_state)
        camera.fpsChanged.connect(self.preview.set_fps)
        self.preview.set_state(camera.state, camera.detail)
        self._on_camera_state(camera.state, camera.detail)
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
        task_row.addWidget(self.good_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(bundle_row)
        layout.addWidget(self.source_bar)
        layout.addLayout(task_row)
        layout.addWidget(self.banner)
        layout.addWidget(self.preview, 1)
        layout.addWidget(self.status)
        self.good_button.setVisible(False)

    def retranslate(self) -> None:
        self.title.setText(self.tr("Live inspection"))
        self.bundle_label.setText(self.tr("Bundle:"))
        self.other_button.setText(self.tr("Other bundle…"))
        self.run_button.setText(self.tr("Stop inspection") if self.worker else self.tr("Start inspection"))
        self.run_button.setToolTip(self.tr("Starts the picture source too, if it is not running"))
        self.task_label.setText(self.tr("Task:"))
        self.good_button.setText(self.tr("Good results…"))
        self.good_button.setToolTip(self.tr("Choose which results are good parts (green) and which are defects "
                                            "(red)"))
        if self.worker is None and not self.status.text():
            set_text(self.status,
                     lambda: self.tr("Choose a bundle (made on the Export page) and press Start inspection."))
        self._show_banner()

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
        """Start inspecting (and the picture source, when none is running): one Start for both."""
        bundle_dir = bundle_dir or self.bundle_box.currentData()
        if bundle_dir is None or self.worker is not None:
            return False
        if self.camera.state == OFF:
            try:
                self.camera.start(self.source_bar.spec())
            except VptError as error:   # no source chosen yet: say what is missing
                problem = str(error)
                set_text(self.status, lambda: problem)
                return False
        self.runs_started += 1
        self.worker = LiveWorker(Path(bundle_dir), run=self.runs_started)
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
        self.preview.clear_verdict()
        self._clear_task_buttons()
        set_text(self.status, lambda: "")
        self.retranslate()

    def switch_task(self, name: str) -> None:
        if self.worker is not None:
            self.worker.switch_task(name)

    def _on_ready(self, names: list, current: str, classes: list) -> None:
        self._clear_task_buttons()
        for number, name in enumerate(names, start=1):
            button = QPushButton(name, checkable=True, objectName="taskButton")
            button.setProperty("task", name)
            button.setToolTip(self.tr("Switch to this task (Ctrl+Shift+{number})").format(number=number))
            if number <= 9:
                button.setShortcut(f"Ctrl+Shift+{number}")
            button.clicked.connect(lambda _=False, task=name: self.switch_task(task))
            self.task_group.addButton(button)
            self.task_buttons_row.addWidget(button)
        self.task_buttons_row.addStretch(1)
        self._on_task_changed(current, classes)
        set_text(self.status, lambda: self.tr("Running. Start a picture source above if none is shown."))

    def _clear_task_buttons(self) -> None:
        for button in self.task_group.buttons():
            self.task_group.removeButton(button)
            button.deleteLater()
        while self.task_buttons_row.count():
            self.task_buttons_row.takeAt(0)
        self.task, self.classes = "", []
        self.good_button.setVisible(False)

    def _on_task_changed(self, name: str, classes: list) -> None:
        self.task, self.classes = name, list(classes)
        for button in self.task_group.buttons():
            active = button.property("task") == name
            button.setChecked(active)
            button.setText(("✔ " if active else "") + button.property("task"))   # not only by colour
        self.good_button.setVisible(True)
        self.last_result = None
        self.preview.clear_verdict()
        self._show_banner()

    def _on_frame(self, frame) -> None:
        if self.worker is None:
            if self.isVisible():
                self.preview.show_frame(frame)   # no inspection: the plain picture, never a verdict
        else:
            self.worker.submit(frame)            # shown when its verdict comes back

    def _on_camera_state(self, state: str, detail: str) -> None:
        self.preview.set_state(state, detail)
        if state != OFF and self.camera.spec is not None:
            self.source_bar.set_spec(self.camera.spec)   # the other page may have started it
        self.source_bar.set_running(state)
        self.source_bar.start_button.setVisible(state != OFF)   # Start inspection starts it: one Start
        if state != RUNNING:
            self.last_result = None
            self._show_banner()

    def _on_result(self, result: LiveResult) -> None:
        if self.worker is None or result.run != self.worker.run_number or result.task != self.task:
            return   # from a stopped run or the task before a switch: not about what is on screen now
        self.last_result = result
        kind = self.verdict_kind(result)
        details = self.tr("{confidence:.0f} % sure · {total:.0f} ms").format(
            confidence=100 * result.confidence, total=result.preprocess_ms + result.inference_ms)
        if result.frame is not None:
            self.preview.show_frame(result.frame, (verdict_colour(kind), details))
        self._show_banner()
        self.resultShown.emit(result)

    def roles(self) -> TaskRoles:
        return roles_for(self.session.project.settings, self.task, self.classes)

    def verdict_kind(self, result: LiveResult) -> str:
        return verdict_kind(result.label, result.uncertain, self.roles())

    def _show_banner(self) -> None:
        result = self.last_result
        if result is None:
            self.banner.clear(WAITING if self.worker is not None else "idle")
            return
        kind = self.verdict_kind(result)
        details = self.tr("{confidence:.0f} % sure · task {task}").format(confidence=100 * result.confidence,
                                                                         task=result.task)
        if result.uncertain:
            details = self.tr("Maybe “{label}” ({confidence:.0f} % sure) · task {task}").format(
                label=result.label, confidence=100 * result.confidence, task=result.task)
        self.banner.show_verdict(kind, result.label, details)

    def ask_good_classes(self) -> None:
        if not self.task:
            return
        dialog = GoodClassesDialog(self.task, self.classes, self.roles(), self)
        if dialog.exec() == GoodClassesDialog.DialogCode.Accepted:
            self.set_roles(dialog.roles())

    def set_roles(self, roles: TaskRoles) -> None:
        """Store which results of the current task are good (saved in the project)."""
        stored = dict(self.session.project.settings.get(SETTING) or {})
        stored[self.task] = roles_setting(roles)
        self.session.set_setting(SETTING, stored)
        self._show_banner()

    def _on_failed(self, text: str) -> None:
        set_text(self.status, lambda: self.tr("The bundle cannot run: {error}").format(error=text))
        self.message.emit(text)
        if self.worker is not None and self.worker.station is None:
            self.stop()
            set_text(self.status, lambda: self.tr("The bundle cannot run: {error}").format(error=text))

    def shutdown(self) -> None:
        self.stop()

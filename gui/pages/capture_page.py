"""Capture and label: live picture, capture to a class (Space, bursts), import, class list and picture grid."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QPushButton,
                               QSpinBox, QSplitter, QVBoxLayout, QWidget)

from ..camera import RUNNING, CameraController
from ..dialogs.image_viewer import ImageViewer
from ..i18n import Retranslating
from ..importer import PictureImporter
from ..session import ProjectSession
from vpt_core.frames import SourceSpec
from ..undo_commands import DeleteImagesCommand, MoveImagesCommand
from ..widgets.class_list import ClassList
from ..widgets.preview_view import PreviewView
from ..widgets.source_bar import SourceBar
from ..widgets.thumbnail_grid import ThumbnailGrid
from ..widgets.thumbnail_model import THUMB_SIZE, ThumbnailLoader, ThumbnailModel

BURST_INTERVAL_S = 0.2          # at most five pictures a second: a moving part shows different sides
BURST_MAX_REPEATS = 10          # frames in a row that repeat a taken picture before a burst gives up


class CapturePage(Retranslating, QWidget):
    message = Signal(str)        # for the status bar

    def __init__(self, session: ProjectSession, camera: CameraController, parent: QWidget | None = None):
        super().__init__(parent)
        self.session, self.camera = session, camera
        self.burst_left = 0
        self.burst_taken: set[bytes] = set()   # digests of the pictures this burst saved
        self.burst_repeats = 0                 # frames in a row that repeated one of them
        self.last_captured_number = -1
        self.importer = PictureImporter(session, self)
        self.importFinished = self.importer.finished
        self.source_bar = SourceBar()
        self.preview = PreviewView()
        self.capture_button = QPushButton(objectName="primary")
        self.burst_count = QSpinBox(minimum=2, maximum=500, value=10)
        self.burst_button = QPushButton()
        self.problem_label = QLabel(objectName="problem")
        self.problem_label.setWordWrap(True)
        self.class_list = ClassList(session)
        self.loader = ThumbnailLoader()
        self.loader.start()
        self.model = ThumbnailModel(self.loader, self)
        self.grid = ThumbnailGrid(self.model)
        self.grid.setMinimumHeight(THUMB_SIZE + 40)   # at least one whole row: thumbnails are never cut
        self.grid_title = QLabel()
        self.import_files_button, self.import_folder_button = QPushButton(), QPushButton()
        self.burst_last_time = 0.0
        self._build()
        self._connect()
        self._make_shortcuts()
        self.retranslate()
        spec = session.project.settings.get("source")
        if spec:
            try:
                self.source_bar.set_spec(SourceSpec.from_dict(spec))
            except Exception:  # noqa: BLE001 - an old or hand-edited setting: just start blank
                pass
        self.show_class(self.class_list.current_class() or "")

    def _build(self) -> None:
        capture_row = QHBoxLayout()
        capture_row.addWidget(self.capture_button, 2)
        capture_row.addWidget(self.burst_count)
        capture_row.addWidget(self.burst_button, 1)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.source_bar)
        left_layout.addWidget(self.preview, 1)
        left_layout.addLayout(capture_row)
        left_layout.addWidget(self.problem_label)
        grid_header = QHBoxLayout()
        grid_header.addWidget(self.grid_title, 1)
        grid_header.addWidget(self.import_files_button)
        grid_header.addWidget(self.import_folder_button)
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addLayout(grid_header)
        bottom_layout.addWidget(self.grid, 1)
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(left)
        top.addWidget(self.class_list)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 1)
        vertical = QSplitter(Qt.Orientation.Vertical)
        vertical.addWidget(top)
        vertical.addWidget(bottom)
        vertical.setStretchFactor(0, 3)
        vertical.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(vertical)

    def _connect(self) -> None:
        self.source_bar.startRequested.connect(self.start_source)
        self.source_bar.stopRequested.connect(self.camera.stop)
        self.source_bar.problem.connect(self.show_problem)
        self.camera.frameArrived.connect(self._on_frame)
        self.camera.stateChanged.connect(self._on_camera_state)
        self.camera.fpsChanged.connect(self.preview.set_fps)
        self.capture_button.clicked.connect(self.capture_one)
        self.burst_button.clicked.connect(self.toggle_burst)
        self.class_list.currentClassChanged.connect(self.show_class)
        self.session.imagesChanged.connect(self._images_changed)
        self.session.classesChanged.connect(lambda: self._images_changed(""))
        self.session.writeFailed.connect(self._write_failed)
        self.grid.openRequested.connect(self.open_viewer)
        self.grid.deleteRequested.connect(self.delete_images)
        self.grid.moveRequested.connect(self.move_images)
        self.grid.filesDropped.connect(self.import_paths)
        self.import_files_button.clicked.connect(self.ask_import_files)
        self.import_folder_button.clicked.connect(self.ask_import_folder)
        self.importer.message.connect(self.message)
        self.importer.problem.connect(self.show_problem)

    def _make_shortcuts(self) -> None:
        context = Qt.ShortcutContext.WidgetWithChildrenShortcut
        QShortcut(QKeySequence(Qt.Key.Key_Space), self, self.capture_one, context=context)
        QShortcut(QKeySequence("B"), self, self.toggle_burst, context=context)
        for number in range(1, 10):
            QShortcut(QKeySequence(str(number)), self, lambda row=number - 1: self.class_list.select_class(row),
                      context=context)

    def retranslate(self) -> None:
        self.burst_count.setSuffix(self.tr(" pictures"))
        self.burst_count.setToolTip(self.tr("How many pictures one burst takes (one every 0.2 s)"))
        self.import_files_button.setText(self.tr("Import pictures…"))
        self.import_folder_button.setText(self.tr("Import folder…"))
        self._update_capture_texts()

    def _update_capture_texts(self) -> None:
        name = self.class_list.current_class()
        if name:
            self.capture_button.setText(self.tr("Capture to “{name}”  (Space)").format(name=name))
            self.grid_title.setText(self.tr("Pictures in “{name}”: {count}").format(
                name=name, count=len(self.model.paths)))
        else:
            self.capture_button.setText(self.tr("Add a class first"))
            self.grid_title.setText(self.tr("No class yet: press Add… to make one."))
        self.burst_button.setText(self.tr("Stop burst ({left} left)").format(left=self.burst_left)
                                  if self.burst_left else self.tr("Burst  (B)"))
        ready = bool(name) and self.camera.state == RUNNING
        self.capture_button.setEnabled(ready)
        self.burst_button.setEnabled(ready or self.burst_left > 0)
        self.import_files_button.setEnabled(bool(name))   # a folder of class folders needs no class first

    # -- source -----------------------------------------------------------
    def start_source(self, spec: SourceSpec) -> None:
        self.problem_label.clear()
        self.session.set_setting("source", spec.to_dict())
        self.camera.start(spec)

    def _on_frame(self, frame) -> None:
        if self.isVisible():
            self.preview.show_frame(frame)
        if self.burst_left:
            self._burst_frame(frame)

    def _on_camera_state(self, state: str, detail: str) -> None:
        self.preview.set_state(state, detail)
        if state != "off" and self.camera.spec is not None:
            self.source_bar.set_spec(self.camera.spec)   # the other page may have started it
        self.source_bar.set_running(state)
        if state != RUNNING:
            self._stop_burst()
        self._update_capture_texts()

    def show_problem(self, text: str) -> None:
        self.problem_label.setText(text)
        self.message.emit(text)

    # -- capture ------------------------------------------------------------
    def capture_one(self, burst: bool = False) -> bool:
        """Save the newest frame to the chosen class; False (with a reason shown) if it cannot."""
        name = self.class_list.current_class()
        frame = self.camera.latest_frame
        if not name:
            self.show_problem(self.tr("Add a class first, then capture."))
            return False
        if frame is None or self.camera.state != RUNNING:
            self.show_problem(self.tr("No picture to capture: start a camera or another source first."))
            return False
        self.session.capture(name, frame.rgb)
        self.last_captured_number = frame.number
        if burst:
            taken = self.burst_count.value() - self.burst_left + 1
            notice = self.tr("✔ {taken} of {total} taken for “{name}”").format(
                taken=taken, total=self.burst_count.value(), name=name)
        else:
            notice = self.tr("✔ Picture taken for “{name}”").format(name=name)
        self.preview.show_notice(notice)
        self.message.emit(notice)
        return True

    def toggle_burst(self) -> None:
        if self.burst_left:
            self._stop_burst()
        elif self.class_list.current_class() and self.camera.state == RUNNING:
            self.burst_left = self.burst_count.value()
            self.burst_taken.clear()
            self.burst_repeats, self.burst_last_time = 0, 0.0
            self.problem_label.clear()
            self._update_capture_texts()
            if self.camera.latest_frame is not None:
                self._burst_frame(self.camera.latest_frame)

    def _burst_frame(self, frame) -> None:
        """Take this frame if it differs from every picture the burst took.

        Each arriving frame is looked at (a timer could keep landing on the same
        picture of a folder played in a loop), and the pixels are compared: a
        folder starts again at its end and a still video repeats frames.
        """
        if time.monotonic() - self.burst_last_time < BURST_INTERVAL_S:
            return
        digest = hashlib.blake2b(frame.rgb.tobytes(), digest_size=16).digest()
        if digest in self.burst_taken:
            self.burst_repeats += 1
            if self.burst_repeats > max(BURST_MAX_REPEATS, 2 * len(self.burst_taken)):
                self._burst_ran_out()   # a whole round of repeats: nothing new is coming
            return
        self.burst_repeats = 0
        if self.capture_one(burst=True):
            self.burst_taken.add(digest)
            self.burst_last_time = time.monotonic()
            self.burst_left -= 1
        if self.burst_left <= 0:
            self._stop_burst()
        self._update_capture_texts()

    def _burst_ran_out(self) -> None:
        taken = len(self.burst_taken)
        self._stop_burst()
        self.show_problem(self.tr("The picture source shows only {count} different pictures, so the burst stopped "
                                  "after {count}. Repeats are not saved.").format(count=taken))

    def _stop_burst(self) -> None:
        self.burst_left = 0
        self._update_capture_texts()

    def _write_failed(self, text: str) -> None:
        self._stop_burst()
        self.show_problem(self.tr("A picture could not be saved: {error}").format(error=text))

    # -- grid ---------------------------------------------------------------
    def show_class(self, name: str) -> None:
        self.model.set_paths(self.session.project.image_paths(name) if name else [])
        self.grid.class_names = self.session.project.class_names
        self._update_capture_texts()

    def _images_changed(self, name: str) -> None:
        current = self.class_list.current_class() or ""
        if name in ("", current):
            self.show_class(current)

    def open_viewer(self, path: Path) -> None:
        paths = self.model.paths
        viewer = ImageViewer(paths, paths.index(path) if path in paths else 0, parent=self)
        viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        viewer.show()

    def delete_images(self, paths: list) -> None:
        self.model.forget(paths)
        self.session.undo_stack.push(DeleteImagesCommand(self.session, paths))
        self.message.emit(self.tr("{count} picture(s) moved to the trash (Ctrl+Z to undo)").format(count=len(paths)))

    def move_images(self, paths: list, target: str) -> None:
        paths = [p for p in paths if p.parent.name != target]
        if paths:
            self.session.undo_stack.push(MoveImagesCommand(self.session, paths, target))

    # -- import ---------------------------------------------------------------
    def ask_import_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self, self.tr("Import pictures"), "",
            self.tr("Pictures (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp);;All files (*)"))
        if files:
            self.import_paths([Path(f) for f in files])

    def ask_import_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Import all pictures in a folder"))
        if folder:
            self.import_paths([Path(folder)])

    def import_paths(self, items: list) -> bool:
        """Copy pictures (folders searched inside) into the chosen class, or folders of classes as classes."""
        return self.importer.import_items([Path(item) for item in items], self.class_list.current_class() or "")

    @property
    def import_thread(self):
        return self.importer.thread

    def shutdown(self) -> None:
        self._stop_burst()
        self.importer.shutdown()
        self.loader.stop()

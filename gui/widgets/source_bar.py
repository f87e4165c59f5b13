"""Choosing the picture source: camera, video file, network stream or a folder of images."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLineEdit, QPushButton, QStackedWidget,
                               QWidget)

from vpt_core.errors import VptError
from vpt_core.frames import CAMERA, FOLDER, KINDS, STREAM, VIDEO, SourceSpec, list_cameras

from ..camera import OFF
from ..i18n import Retranslating
from .combo_popup import fit_popup, make_narrow

RESOLUTIONS = ((640, 480), (1280, 720), (1920, 1080))


class _CameraFinder(QObject):
    """Probing cameras can take seconds: do it in a plain thread and report back with a signal."""

    found = Signal(list)

    def search(self) -> None:
        threading.Thread(target=lambda: self.found.emit(list_cameras()), daemon=True).start()


class SourceBar(Retranslating, QWidget):
    startRequested = Signal(object)   # SourceSpec
    stopRequested = Signal()
    problem = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.running = False
        self.kind_box = QComboBox()
        self.camera_box = QComboBox()
        self.camera_box.setEditable(True)
        self.find_button = QPushButton()
        self.path_edit = QLineEdit()
        self.browse_button = QPushButton()
        self.resolution_box = QComboBox()
        self.start_button = QPushButton(objectName="primary")
        self.finder = _CameraFinder(self)
        self.finder.found.connect(self._show_cameras)
        self._build()
        self.retranslate()
        self.camera_box.addItem("0", 0)

    def _build(self) -> None:
        camera_row = QWidget()
        camera_layout = QHBoxLayout(camera_row)
        camera_layout.setContentsMargins(0, 0, 0, 0)
        camera_layout.addWidget(self.camera_box, 1)
        camera_layout.addWidget(self.find_button)
        path_row = QWidget()
        path_layout = QHBoxLayout(path_row)
        path_layout.setContentsMargins(0, 0, 0, 0)
        path_layout.addWidget(self.path_edit, 1)
        path_layout.addWidget(self.browse_button)
        self.target_stack = QStackedWidget()
        self.target_stack.addWidget(camera_row)
        self.target_stack.addWidget(path_row)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        # The boxes may shrink on a small screen and share the room on a large one.
        for widget, stretch in ((self.kind_box, 1), (self.target_stack, 3), (self.resolution_box, 1),
                                (self.start_button, 0)):
            layout.addWidget(widget, stretch)
        for box in (self.kind_box, self.resolution_box):
            make_narrow(box, 8)
        self.path_edit.setMinimumWidth(120)
        for kind in KINDS:
            self.kind_box.addItem("", kind)
        self.resolution_box.addItem("", None)
        for width, height in RESOLUTIONS:
            self.resolution_box.addItem(f"{width} × {height}", f"{width}x{height}")
        self.kind_box.currentIndexChanged.connect(self._kind_changed)
        self.find_button.clicked.connect(self.find_cameras)
        self.browse_button.clicked.connect(self._browse)
        self.start_button.clicked.connect(self._start_or_stop)
        self.path_edit.returnPressed.connect(self._start_or_stop)

    def retranslate(self) -> None:
        names = {CAMERA: self.tr("Camera"), VIDEO: self.tr("Video file"), STREAM: self.tr("Network camera (URL)"),
                 FOLDER: self.tr("Folder of images")}
        for row in range(self.kind_box.count()):
            self.kind_box.setItemText(row, names[self.kind_box.itemData(row)])
        self.resolution_box.setItemText(0, self.tr("Camera's own size"))
        self.find_button.setText(self.tr("Find cameras"))
        self.browse_button.setText(self.tr("Browse…"))
        self.kind_box.setToolTip(self.tr("Where the pictures come from"))
        self.resolution_box.setToolTip(self.tr("Picture size to ask the camera for"))
        self._kind_changed()
        self._update_start_text()
        for box in (self.kind_box, self.resolution_box):
            fit_popup(box)

    # -- state ------------------------------------------------------------
    def spec(self) -> SourceSpec:
        """The chosen source; a VptError says what is missing."""
        kind = self.kind_box.currentData()
        if kind == CAMERA:
            target = self.camera_box.currentText().strip()
            target = target.split()[0] if target else ""
        else:
            target = self.path_edit.text().strip()
        size = self.resolution_box.currentData()
        width, height = (int(v) for v in size.split("x")) if size else (None, None)
        return SourceSpec(kind, target, width, height)

    def set_spec(self, spec: SourceSpec) -> None:
        self.kind_box.setCurrentIndex(KINDS.index(spec.kind))
        if spec.kind == CAMERA:
            self.camera_box.setEditText(str(spec.target))
        else:
            self.path_edit.setText(str(spec.target))
        index = self.resolution_box.findData(f"{spec.width}x{spec.height}") if spec.width else 0
        self.resolution_box.setCurrentIndex(max(0, index))

    def set_running(self, state: str) -> None:
        self.running = state != OFF
        for widget in (self.kind_box, self.target_stack, self.resolution_box):
            widget.setEnabled(not self.running)
        self._update_start_text()

    def _update_start_text(self) -> None:
        self.start_button.setText(self.tr("Stop") if self.running else self.tr("Start"))

    # -- actions ----------------------------------------------------------
    def _start_or_stop(self) -> None:
        if self.running:
            self.stopRequested.emit()
            return
        try:
            self.startRequested.emit(self.spec())
        except VptError as error:
            self.problem.emit(str(error))

    def _kind_changed(self) -> None:
        kind = self.kind_box.currentData()
        self.target_stack.setCurrentIndex(0 if kind == CAMERA else 1)
        self.browse_button.setVisible(kind in (VIDEO, FOLDER))
        placeholders = {VIDEO: self.tr("Video file, e.g. line3.mp4"),
                        STREAM: self.tr("Address, e.g. rtsp://192.168.0.20/stream1"),
                        FOLDER: self.tr("Folder with pictures, played like a camera")}
        self.path_edit.setPlaceholderText(placeholders.get(kind, ""))

    def _browse(self) -> None:
        if self.kind_box.currentData() == FOLDER:
            path = QFileDialog.getExistingDirectory(self, self.tr("Choose a folder of images"))
        else:
            path, _ = QFileDialog.getOpenFileName(self, self.tr("Choose a video file"), "",
                                                  self.tr("Videos (*.mp4 *.avi *.mov *.mkv);;All files (*)"))
        if path:
            self.path_edit.setText(path)

    def find_cameras(self) -> None:
        self.find_button.setEnabled(False)
        self.find_button.setText(self.tr("Searching…"))
        self.finder.search()

    def _show_cameras(self, indices: list) -> None:
        self.find_button.setEnabled(True)
        self.find_button.setText(self.tr("Find cameras"))
        self.camera_box.clear()
        for index in indices:
            self.camera_box.addItem(self.tr("{number} (camera {number})").format(number=index), index)
        if not indices:
            self.problem.emit(self.tr("No camera was found. Check the cable, or choose a video file or a folder "
                                      "of images instead."))
            self.camera_box.addItem("0", 0)
        self.camera_box.setFocus(Qt.FocusReason.OtherFocusReason)

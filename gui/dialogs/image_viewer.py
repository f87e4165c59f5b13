"""A larger view of one image, with Left/Right to step through a list of images."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QImageReader, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from ..i18n import Retranslating


class ImageViewer(Retranslating, QDialog):
    def __init__(self, paths: list[Path], start: int = 0, captions: list[str] | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.paths = list(paths)
        self.captions = captions
        self.position = max(0, min(start, len(self.paths) - 1))
        self.picture = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.picture.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.picture.setMinimumSize(480, 360)
        self.caption = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.caption.setWordWrap(True)
        self.previous_button, self.next_button, self.close_button = QPushButton(), QPushButton(), QPushButton()
        buttons = QHBoxLayout()
        buttons.addWidget(self.previous_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        buttons.addStretch(1)
        buttons.addWidget(self.next_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.picture, 1)
        layout.addWidget(self.caption)
        layout.addLayout(buttons)
        self.previous_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        self.close_button.clicked.connect(self.accept)
        QShortcut(QKeySequence(Qt.Key.Key_Left), self, lambda: self.step(-1))
        QShortcut(QKeySequence(Qt.Key.Key_Right), self, lambda: self.step(1))
        self.resize(900, 700)
        self.retranslate()

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Picture"))
        self.previous_button.setText(self.tr("◀ Previous"))
        self.next_button.setText(self.tr("Next ▶"))
        self.close_button.setText(self.tr("Close"))
        self._show()

    def step(self, delta: int) -> None:
        if self.paths:
            self.position = (self.position + delta) % len(self.paths)
            self._show()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._show()

    def _show(self) -> None:
        if not self.paths:
            self.caption.setText(self.tr("No pictures"))
            return
        path = self.paths[self.position]
        reader = QImageReader(str(path))
        reader.setAutoTransform(True)
        image = reader.read()
        if image.isNull():
            self.picture.setText(self.tr("Cannot read this picture: {error}").format(error=reader.errorString()))
        else:
            self.picture.setPixmap(QPixmap.fromImage(image).scaled(
                self.picture.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
        extra = self.captions[self.position] if self.captions else path.parent.name
        self.caption.setText(self.tr("{number} of {total}: {name} ({extra})").format(
            number=self.position + 1, total=len(self.paths), name=path.name, extra=extra))
        self.previous_button.setEnabled(len(self.paths) > 1)
        self.next_button.setEnabled(len(self.paths) > 1)

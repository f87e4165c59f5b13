"""The live picture, scaled to fit, with the source state and any overlay text drawn over it."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from ..camera import CONNECTING, LOST, OFF, RUNNING
from ..i18n import Retranslating


class PreviewView(Retranslating, QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)
        self.image: QImage | None = None
        self.state, self.detail = OFF, ""
        self.fps = 0.0
        self.frames_shown = 0
        self.overlay: list[tuple[str, QColor]] = []
        self.flash = False
        self.retranslate()

    def retranslate(self) -> None:
        self.state_texts = {
            OFF: self.tr("No picture source. Choose one above and press Start."),
            CONNECTING: self.tr("Connecting to {source}…"),
            LOST: self.tr("Picture source lost: {source}\nTrying to reconnect…"),
        }
        self.fps_text = self.tr("{fps:.0f} frames/s")
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(640, 480)

    def show_frame(self, frame) -> None:
        self.image = frame.image
        self.frames_shown += 1
        self.update()

    def set_state(self, state: str, detail: str) -> None:
        self.state, self.detail = state, detail
        if state in (OFF, LOST):
            self.image = None
        self.update()

    def set_fps(self, fps: float) -> None:
        self.fps = fps

    def set_overlay(self, lines: list[tuple[str, QColor]]) -> None:
        self.overlay = lines
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#202020"))
        if self.image is not None and self.state == RUNNING:
            self._draw_image(painter)
            self._draw_corner_text(painter, self.fps_text.format(fps=self.fps), Qt.AlignmentFlag.AlignRight)
            self._draw_overlay(painter)
        else:
            painter.setPen(QColor("#ffb74d") if self.state == LOST else QColor("#e0e0e0"))
            painter.setFont(QFont(self.font().family(), 14))
            text = self.state_texts.get(self.state, "").format(source=self.detail)
            painter.drawText(self.rect().adjusted(20, 20, -20, -20),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text)
        if self.flash:
            painter.setPen(QPen(QColor("#ffffff"), 8))
            painter.drawRect(self.rect())
        painter.end()

    def _draw_image(self, painter: QPainter) -> None:
        size = self.image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        target = QRectF((self.width() - size.width()) / 2, (self.height() - size.height()) / 2,
                        size.width(), size.height())
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)  # fast; the picture is live
        painter.drawImage(target, self.image)

    def _draw_corner_text(self, painter: QPainter, text: str, alignment) -> None:
        painter.setFont(QFont(self.font().family(), 10))
        rect = self.rect().adjusted(8, 8, -8, -8)
        bounds = painter.boundingRect(rect, alignment, text).adjusted(-4, -2, 4, 2)
        painter.fillRect(bounds, QColor(0, 0, 0, 150))
        painter.setPen(QColor("#ffffff"))
        painter.drawText(rect, alignment, text)

    def _draw_overlay(self, painter: QPainter) -> None:
        """Result lines (label, confidence, latency) in a band at the bottom."""
        if not self.overlay:
            return
        line_height = 34
        height = line_height * len(self.overlay) + 16
        band = QRectF(0, self.height() - height, self.width(), height)
        painter.fillRect(band, QColor(0, 0, 0, 170))
        for row, (text, colour) in enumerate(self.overlay):
            first = row == 0   # the label itself, large
            painter.setFont(QFont(self.font().family(), 20 if first else 12,
                                  QFont.Weight.Bold if first else QFont.Weight.Normal))
            painter.setPen(colour)
            painter.drawText(QRectF(16, band.top() + 8 + row * line_height, self.width() - 32, line_height),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)

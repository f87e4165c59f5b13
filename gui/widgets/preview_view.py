"""The live picture, scaled to fit, with the source state, a verdict border and short notices drawn over it.

A verdict border belongs to one frame: it is drawn only while that frame is the
one shown, so a verdict can never appear over a picture it was not computed on.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from ..camera import CONNECTING, LOST, OFF, RUNNING
from ..i18n import Retranslating


class PreviewView(Retranslating, QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 160)
        self.image: QImage | None = None
        self.state, self.detail = OFF, ""
        self.fps = 0.0
        self.frames_shown = 0
        self.frame_number = -1                 # the frame on screen
        self.verdict: tuple[int, QColor, str] | None = None   # (its frame number, border colour, corner text)
        self.notice = ""                       # e.g. "Saved to “ok”", shown for a moment
        self.flash = False
        self._notice_timer = QTimer(self, singleShot=True, interval=1500)
        self._notice_timer.timeout.connect(self._end_notice)
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

    def show_frame(self, frame, verdict: tuple[QColor, str] | None = None) -> None:
        """Show ``frame``; ``verdict`` (border colour, corner text) was computed on this very frame."""
        self.image = frame.image
        self.frame_number = frame.number
        self.frames_shown += 1
        self.verdict = (frame.number, verdict[0], verdict[1]) if verdict is not None else None
        self.update()

    def clear_verdict(self) -> None:
        self.verdict = None
        self.update()

    def verdict_shown(self) -> bool:
        """Whether a verdict is drawn now (only ever over the frame it belongs to)."""
        return self.verdict is not None and self.verdict[0] == self.frame_number and self.image is not None

    def show_notice(self, text: str) -> None:
        """A short message over the picture (and a white flash), e.g. that a picture was taken."""
        self.notice, self.flash = text, True
        self._notice_timer.start()
        QTimer.singleShot(150, self._end_flash)
        self.update()

    def _end_flash(self) -> None:
        self.flash = False
        self.update()

    def _end_notice(self) -> None:
        self.notice = ""
        self.update()

    def set_state(self, state: str, detail: str) -> None:
        self.state, self.detail = state, detail
        if state in (OFF, LOST):
            self.image = None
        self.update()

    def set_fps(self, fps: float) -> None:
        self.fps = fps

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#202020"))
        if self.image is not None and self.state == RUNNING:
            self._draw_image(painter)
            self._draw_corner_text(painter, self.fps_text.format(fps=self.fps), Qt.AlignmentFlag.AlignRight)
            self._draw_verdict(painter)
            if self.notice:
                self._draw_notice(painter)
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
        rect = self.rect().adjusted(18, 18, -18, -18)   # inside a verdict border
        bounds = painter.boundingRect(rect, alignment, text).adjusted(-4, -2, 4, 2)
        painter.fillRect(bounds, QColor(0, 0, 0, 150))
        painter.setPen(QColor("#ffffff"))
        painter.drawText(rect, alignment, text)

    def _draw_verdict(self, painter: QPainter) -> None:
        """A thick border in the verdict's colour, and its details small in a corner: the picture stays visible."""
        if not self.verdict_shown():
            return
        _, colour, text = self.verdict
        painter.setPen(QPen(colour, 12))
        painter.drawRect(self.rect().adjusted(6, 6, -6, -6))
        if text:
            self._draw_corner_text(painter, text, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom)

    def _draw_notice(self, painter: QPainter) -> None:
        painter.setFont(QFont(self.font().family(), 16, QFont.Weight.Bold))
        rect = self.rect().adjusted(16, 16, -16, -16)
        bounds = painter.boundingRect(rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                                      self.notice).adjusted(-10, -6, 10, 6)
        painter.fillRect(bounds, QColor(27, 127, 59, 230))
        painter.setPen(QColor("#ffffff"))
        painter.drawText(rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, self.notice)

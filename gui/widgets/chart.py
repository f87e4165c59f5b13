"""A small line chart drawn with QPainter (QtCharts is not part of PySide6-Essentials)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget


@dataclass
class Series:
    label: str
    colour: str
    points: list[tuple[float, float]] = field(default_factory=list)
    dashed: bool = False


class LineChart(QWidget):
    """Series of (x, y) points on shared axes; ``y_range`` fixes the y axis (e.g. 0..1 for accuracy)."""

    MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 48, 12, 28, 34

    def __init__(self, title: str = "", y_range: tuple[float, float] | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = title
        self.y_range = y_range
        self.x_label = ""
        self.series: dict[str, Series] = {}
        self.setMinimumSize(180, 150)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(420, 240)

    def set_series(self, key: str, label: str, colour: str, dashed: bool = False) -> None:
        existing = self.series.get(key)
        self.series[key] = Series(label, colour, existing.points if existing else [], dashed)
        self.update()

    def add_point(self, key: str, x: float, y: float | None) -> None:
        if y is not None and math.isfinite(y) and key in self.series:
            self.series[key].points.append((float(x), float(y)))
            self.update()

    def clear(self) -> None:
        for series in self.series.values():
            series.points.clear()
        self.update()

    def bounds(self) -> tuple[float, float, float, float]:
        points = [p for s in self.series.values() for p in s.points]
        xs = [p[0] for p in points] or [0.0, 1.0]
        x0, x1 = min(xs), max(max(xs), min(xs) + 1)
        if self.y_range:
            y0, y1 = self.y_range
        else:
            ys = [p[1] for p in points] or [0.0, 1.0]
            y0, y1 = min(0.0, min(ys)), max(ys) * 1.1 or 1.0
        return x0, x1, y0, y1

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("#ffffff"))
        line = painter.fontMetrics().height()   # CJK fonts are taller: margins follow the font
        top, bottom = max(self.MARGIN_TOP, 2 * line + 8), max(self.MARGIN_BOTTOM, line + 12)
        plot = QRectF(self.MARGIN_LEFT, top, self.width() - self.MARGIN_LEFT - self.MARGIN_RIGHT,
                      self.height() - top - bottom)
        x0, x1, y0, y1 = self.bounds()
        self._draw_axes(painter, plot, x0, x1, y0, y1)

        def to_screen(x: float, y: float) -> QPointF:
            return QPointF(plot.left() + (x - x0) / (x1 - x0) * plot.width(),
                           plot.bottom() - (y - y0) / (y1 - y0) * plot.height())

        for series in self.series.values():
            if not series.points:
                continue
            pen = QPen(QColor(series.colour), 2, Qt.PenStyle.DashLine if series.dashed else Qt.PenStyle.SolidLine)
            painter.setPen(pen)
            path = QPainterPath(to_screen(*series.points[0]))
            for x, y in series.points[1:]:
                path.lineTo(to_screen(x, y))
            painter.drawPath(path)
            if len(series.points) == 1:
                painter.drawEllipse(to_screen(*series.points[0]), 3, 3)
        self._draw_legend(painter, plot)
        painter.end()

    def _draw_axes(self, painter: QPainter, plot: QRectF, x0, x1, y0, y1) -> None:
        painter.setPen(QColor("#202020"))
        painter.drawText(QRectF(0, 2, self.width(), painter.fontMetrics().height() + 2),
                         Qt.AlignmentFlag.AlignHCenter, self.title)
        painter.setPen(QPen(QColor("#e0e0e0"), 1))
        for k in range(5):
            y = plot.top() + plot.height() * k / 4
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        painter.setPen(QColor("#606060"))
        painter.drawRect(plot)
        for k in range(5):
            value = y1 - (y1 - y0) * k / 4
            y = plot.top() + plot.height() * k / 4
            painter.drawText(QRectF(0, y - 9, self.MARGIN_LEFT - 6, 18),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{value:.2g}")
        row = QRectF(plot.left(), plot.bottom() + 4, plot.width(), painter.fontMetrics().height() + 2)
        for value, align in ((x0, Qt.AlignmentFlag.AlignLeft), (x1, Qt.AlignmentFlag.AlignRight)):
            painter.drawText(row, align, f"{value:g}")
        painter.drawText(row, Qt.AlignmentFlag.AlignHCenter, self.x_label)

    def _draw_legend(self, painter: QPainter, plot: QRectF) -> None:
        """Between the title and the plot, so it never covers a curve."""
        metrics = painter.fontMetrics()
        x, y = plot.left(), plot.top() - 6
        for series in self.series.values():
            if not series.points:
                continue
            painter.setPen(QPen(QColor(series.colour), 3))
            painter.drawLine(QPointF(x, y - metrics.ascent() / 2), QPointF(x + 18, y - metrics.ascent() / 2))
            painter.setPen(QColor("#202020"))
            painter.drawText(QPointF(x + 22, y), series.label)
            x += metrics.horizontalAdvance(series.label) + 40

"""Confusion matrix: rows are the true class, columns what the task said; a click opens those pictures."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from ..i18n import Retranslating


class ConfusionView(Retranslating, QTableWidget):
    cellOpened = Signal(int, int)      # true class index, predicted class index

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.classes: list[str] = []
        self.confusion = np.zeros((0, 0), dtype=np.int64)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.cellClicked.connect(self._clicked)
        self.cellActivated.connect(self._clicked)
        self.retranslate()

    def retranslate(self) -> None:
        self.setToolTip(self.tr("Rows: the real class. Columns: what the task said. "
                                "Click a red cell to see those pictures."))
        self.set_matrix(self.classes, self.confusion)

    def set_matrix(self, classes: list[str], confusion: np.ndarray) -> None:
        self.classes, self.confusion = list(classes), np.asarray(confusion)
        count = len(self.classes)
        self.setRowCount(count)
        self.setColumnCount(count)
        self.setHorizontalHeaderLabels([self.tr("said: {name}").format(name=n) for n in self.classes])
        self.setVerticalHeaderLabels([self.tr("is: {name}").format(name=n) for n in self.classes])
        peak = max(1, int(self.confusion.max())) if self.confusion.size else 1
        for row in range(count):
            for column in range(count):
                value = int(self.confusion[row, column])
                item = QTableWidgetItem(str(value))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                strength = value / peak
                if row == column:
                    colour = QColor(27, 127, 59, int(40 + 160 * strength))
                elif value:
                    colour = QColor(198, 40, 40, int(60 + 180 * strength))
                else:
                    colour = QColor(255, 255, 255)
                item.setBackground(QBrush(colour))
                if row != column and value:
                    tip = self.tr("{count} picture(s) of “{truth}” taken for “{guess}”: click to see them")
                    item.setToolTip(tip.format(count=value, truth=self.classes[row], guess=self.classes[column]))
                self.setItem(row, column, item)

    def _clicked(self, row: int, column: int) -> None:
        if row != column and self.confusion.size and self.confusion[row, column] > 0:
            self.cellOpened.emit(row, column)

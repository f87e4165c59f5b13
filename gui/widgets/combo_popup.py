"""Narrow combo boxes whose open list still shows every item in full."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QSizePolicy


def make_narrow(box: QComboBox, characters: int = 10) -> None:
    """Long item texts (Japanese especially) must not widen the window."""
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(characters)
    box.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)


def fit_popup(box: QComboBox) -> None:
    """Call after the item texts change (e.g. a language switch)."""
    view = box.view()
    widest = max((view.fontMetrics().horizontalAdvance(box.itemText(row)) for row in range(box.count())), default=0)
    view.setMinimumWidth(widest + 2 * view.frameWidth() + 32)   # the list is not laid out yet: measure the texts

"""Save state in the status bar; a failed save stays visible in red with a Retry button until it succeeds."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from ..i18n import Retranslating
from ..session import FAILED, PENDING, SAVED


class SaveBanner(Retranslating, QFrame):
    retryRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.state, self.error = SAVED, ""
        self.label = QLabel()
        self.retry_button = QPushButton()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.retry_button)
        self.retry_button.clicked.connect(self.retryRequested)
        self.retranslate()

    def set_state(self, state: str, error: str) -> None:
        self.state, self.error = state, error
        self.retranslate()

    def retranslate(self) -> None:
        texts = {SAVED: self.tr("All changes saved"), PENDING: self.tr("Saving…"),
                 FAILED: self.tr("Could not save the project: {error}").format(error=self.error)}
        self.label.setText(texts[self.state])
        self.retry_button.setText(self.tr("Retry"))
        self.retry_button.setVisible(self.state == FAILED)
        self.setObjectName("saveBanner" if self.state == FAILED else "")
        self.style().unpolish(self)
        self.style().polish(self)

"""Shown when no project is open: new, open, recent projects and the demo."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from ..i18n import Retranslating


class WelcomePage(Retranslating, QWidget):
    newRequested = Signal()
    openRequested = Signal()
    demoRequested = Signal()
    recentChosen = Signal(object)    # Path

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = QLabel(objectName="pageTitle")
        self.intro = QLabel(wordWrap=True)
        self.new_button = QPushButton(objectName="primary")
        self.open_button = QPushButton()
        self.demo_button = QPushButton()
        self.recent_title = QLabel()
        self.recent = QListWidget()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(60, 40, 60, 40)
        for widget in (self.title, self.intro, self.new_button, self.open_button, self.demo_button,
                       self.recent_title, self.recent):
            layout.addWidget(widget)
        self.new_button.clicked.connect(self.newRequested)
        self.open_button.clicked.connect(self.openRequested)
        self.demo_button.clicked.connect(self.demoRequested)
        self.recent.itemActivated.connect(self._chosen)
        self.recent.itemClicked.connect(self._chosen)
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText(self.tr("Welcome"))
        self.intro.setText(self.tr("Teach the inspection station to recognise your parts: take pictures of each "
                                   "kind of part or defect, train a task, check it, and send it to the station."))
        self.new_button.setText(self.tr("New project…  (Ctrl+N)"))
        self.open_button.setText(self.tr("Open project…  (Ctrl+O)"))
        self.demo_button.setText(self.tr("Try the demo project"))
        self.recent_title.setText(self.tr("Recent projects"))

    def _chosen(self, item: QListWidgetItem) -> None:
        self.recentChosen.emit(Path(item.data(Qt.ItemDataRole.UserRole)))

    def set_recent(self, folders: list[Path]) -> None:
        self.recent.clear()
        for folder in folders:
            item = QListWidgetItem(f"{folder.name}    {folder}")
            item.setData(Qt.ItemDataRole.UserRole, str(folder))
            self.recent.addItem(item)
        self.recent_title.setVisible(bool(folders))
        self.recent.setVisible(bool(folders))

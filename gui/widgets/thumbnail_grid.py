"""The grid of thumbnails for one class: select, open larger, move, delete, drag out, drop files in."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QListView, QMenu, QWidget

from ..i18n import Retranslating
from .thumbnail_model import IMAGE_MIME, THUMB_SIZE, PathRole, ThumbnailModel


class ThumbnailGrid(Retranslating, QListView):
    openRequested = Signal(object)           # Path
    deleteRequested = Signal(list)           # [Path]
    moveRequested = Signal(list, str)        # [Path], class name
    filesDropped = Signal(list)              # [Path] from outside the app

    def __init__(self, model: ThumbnailModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.setModel(model)
        self.class_names: list[str] = []
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)           # layout of thousands of items without asking each one
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(200)
        self.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        self.setGridSize(QSize(THUMB_SIZE + 12, THUMB_SIZE + 12))
        self.setSpacing(4)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.doubleClicked.connect(lambda index: self.openRequested.emit(index.data(PathRole)))
        # Keys are handled in keyPressEvent (not as shortcuts) so they act only on this grid.
        self.delete_action = QAction(self)
        self.delete_action.triggered.connect(self._delete_selected)
        self.open_action = QAction(self)
        self.open_action.triggered.connect(self._open_current)
        self.retranslate()

    def retranslate(self) -> None:
        self.delete_action.setText(self.tr("Delete (can be undone)") + "\tDel")
        self.open_action.setText(self.tr("Show larger") + "\tEnter")
        self.setToolTip(self.tr("Double-click to enlarge. Drag pictures onto a class to move them; "
                                "Ctrl+1…9 moves them to that class; Delete removes them."))

    def selected_paths(self) -> list[Path]:
        rows = sorted(index.row() for index in self.selectionModel().selectedIndexes())
        return [self.model().paths[row] for row in rows]

    def keyPressEvent(self, event) -> None:  # noqa: N802
        """Ctrl+number moves the selection to that class (number keys alone choose the class)."""
        if event.matches(QKeySequence.StandardKey.Delete) or event.key() == Qt.Key.Key_Backspace:
            self._delete_selected()
            event.accept()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._open_current()
            event.accept()
            return
        modifiers = event.modifiers()
        if modifiers & Qt.KeyboardModifier.ControlModifier and Qt.Key.Key_1 <= event.key() <= Qt.Key.Key_9:
            number = event.key() - Qt.Key.Key_1
            paths = self.selected_paths()
            if paths and number < len(self.class_names):
                self.moveRequested.emit(paths, self.class_names[number])
            event.accept()
            return
        super().keyPressEvent(event)

    def contextMenuEvent(self, event) -> None:  # noqa: N802
        paths = self.selected_paths()
        if not paths:
            return
        menu = QMenu(self)
        menu.addAction(self.open_action)
        move_menu = menu.addMenu(self.tr("Move to class"))
        for number, name in enumerate(self.class_names, start=1):
            action = move_menu.addAction(f"{name}\tCtrl+{number}" if number <= 9 else name)
            action.triggered.connect(
                lambda _=False, target=name: self.moveRequested.emit(self.selected_paths(), target))
        menu.addSeparator()
        menu.addAction(self.delete_action)
        menu.exec(event.globalPos())

    def _delete_selected(self) -> None:
        paths = self.selected_paths()
        if paths:
            self.deleteRequested.emit(paths)

    def _open_current(self) -> None:
        index = self.currentIndex()
        if index.isValid():
            self.openRequested.emit(index.data(PathRole))

    # -- files dropped from outside (a file manager) ---------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802
        mime = event.mimeData()
        if mime.hasUrls() and not mime.hasFormat(IMAGE_MIME):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        mime = event.mimeData()
        if mime.hasUrls() and not mime.hasFormat(IMAGE_MIME):
            event.acceptProposedAction()
        elif mime.hasFormat(IMAGE_MIME):
            event.ignore()   # dropping our own images on their own grid does nothing
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802
        mime = event.mimeData()
        if mime.hasUrls() and not mime.hasFormat(IMAGE_MIME):
            paths = [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
            if paths:
                self.filesDropped.emit(paths)
            event.acceptProposedAction()
        else:
            event.ignore()

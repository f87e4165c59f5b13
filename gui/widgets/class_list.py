"""Class list: colour, number key, name and image count; add, rename, delete; a drop target for moving images."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (QHBoxLayout, QInputDialog, QLabel, QListWidget, QListWidgetItem, QMessageBox,
                               QPushButton, QVBoxLayout, QWidget)

from vpt_core.errors import VptError

from ..error_texts import translate_error
from ..i18n import Retranslating
from ..session import ProjectSession
from ..undo_commands import AddClassCommand, DeleteClassCommand, MoveImagesCommand, RenameClassCommand
from .thumbnail_model import IMAGE_MIME, paths_from_mime


class _ClassListWidget(QListWidget):
    """Accepts images dragged from the grid and reports onto which class they were dropped."""

    imagesDropped = Signal(list, str)

    def __init__(self):
        super().__init__()
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        event.acceptProposedAction() if event.mimeData().hasFormat(IMAGE_MIME) else event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        item = self.itemAt(event.position().toPoint())
        event.acceptProposedAction() if item and event.mimeData().hasFormat(IMAGE_MIME) else event.ignore()

    def dropEvent(self, event) -> None:  # noqa: N802
        item = self.itemAt(event.position().toPoint())
        paths = paths_from_mime(event.mimeData())
        if item and paths:
            self.imagesDropped.emit(paths, item.data(Qt.ItemDataRole.UserRole))
            event.acceptProposedAction()
        else:
            event.ignore()


class ClassList(Retranslating, QWidget):
    currentClassChanged = Signal(str)

    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.title = QLabel(objectName="pageTitle")
        self.list = _ClassListWidget()
        self.list.setObjectName("classList")
        self.list.setIconSize(QSize(22, 22))
        self.add_button = QPushButton()
        self.rename_button = QPushButton()
        self.delete_button = QPushButton(objectName="danger")
        buttons = QHBoxLayout()
        for button in (self.add_button, self.rename_button, self.delete_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self.add_button.clicked.connect(self.ask_add)
        self.rename_button.clicked.connect(self.ask_rename)
        self.delete_button.clicked.connect(self.ask_delete)
        self.list.currentItemChanged.connect(self._current_changed)
        self.list.itemDoubleClicked.connect(lambda _: self.ask_rename())
        self.list.imagesDropped.connect(self._move_dropped)
        session.classesChanged.connect(self.refresh)
        session.imagesChanged.connect(lambda _: self.refresh())
        self.retranslate()
        self.refresh()

    def retranslate(self) -> None:
        self.title.setText(self.tr("Classes"))
        self.add_button.setText(self.tr("Add…"))
        self.rename_button.setText(self.tr("Rename…"))
        self.delete_button.setText(self.tr("Delete…"))
        self.list.setToolTip(self.tr("Press 1–9 to choose a class. Drop pictures here to move them."))
        self.refresh()

    # -- display ----------------------------------------------------------
    def current_class(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def select_class(self, name_or_number) -> None:
        for row in range(self.list.count()):
            item = self.list.item(row)
            if name_or_number in (row, item.data(Qt.ItemDataRole.UserRole)):
                self.list.setCurrentRow(row)
                return

    def refresh(self) -> None:
        project = self.session.project
        current = self.current_class()
        counts = project.image_counts()
        self.list.blockSignals(True)
        self.list.clear()
        for number, info in enumerate(project.classes, start=1):
            key = f"{number}   " if number <= 9 else "    "
            text = self.tr("{key}{name}   ({count} images)").format(key=key, name=info.name,
                                                                   count=counts.get(info.name, 0))
            item = QListWidgetItem(_colour_icon(info.colour), text)
            item.setData(Qt.ItemDataRole.UserRole, info.name)
            self.list.addItem(item)
        self.list.blockSignals(False)
        names = project.class_names
        if current in names:
            self.select_class(current)
        elif names:
            self.list.setCurrentRow(0)
        if self.current_class() != current:
            self.currentClassChanged.emit(self.current_class() or "")
        has_class = bool(self.current_class())
        self.rename_button.setEnabled(has_class)
        self.delete_button.setEnabled(has_class)

    def _current_changed(self, *_):
        self.currentClassChanged.emit(self.current_class() or "")

    # -- edits (each one undoable) -------------------------------------------
    def add_class(self, name: str) -> bool:
        return self._push(lambda: AddClassCommand(self.session, name), select=name.strip())

    def rename_class(self, old: str, new: str) -> bool:
        return self._push(lambda: RenameClassCommand(self.session, old, new), select=new.strip())

    def delete_class(self, name: str) -> bool:
        return self._push(lambda: DeleteClassCommand(self.session, name))

    def _push(self, make_command, select: str | None = None) -> bool:
        try:
            command = make_command()
        except VptError as error:
            QMessageBox.warning(self, self.tr("Class"), translate_error(str(error)))
            return False
        self.session.undo_stack.push(command)
        if select:
            self.select_class(select)
        return True

    def ask_text(self, title: str, label: str, text: str = "") -> str | None:
        """A one-line question wide enough for its title in any language; None when cancelled."""
        dialog = QInputDialog(self)
        dialog.setWindowTitle(title)
        dialog.setLabelText(label)
        dialog.setTextValue(text)
        dialog.setMinimumWidth(max(460, dialog.fontMetrics().horizontalAdvance(title) + 200))
        return dialog.textValue() if dialog.exec() == QInputDialog.DialogCode.Accepted else None

    def ask_add(self) -> None:
        name = self.ask_text(self.tr("New class"), self.tr("Name of the new class (for example: ok, scratch, dent):"))
        if name and name.strip():
            self.add_class(name)

    def ask_rename(self) -> None:
        old = self.current_class()
        if not old:
            return
        new = self.ask_text(self.tr("Rename class"), self.tr("New name for “{name}”:").format(name=old), old)
        if new and new.strip() and new.strip() != old:
            self.rename_class(old, new)

    def ask_delete(self) -> None:
        name = self.current_class()
        if not name:
            return
        count = len(self.session.project.image_paths(name))
        answer = QMessageBox.question(
            self, self.tr("Delete class"),
            self.tr("Delete the class “{name}” and its {count} images?\n\nThey go to the project's trash; "
                    "Edit > Undo brings them back.").format(name=name, count=count))
        if answer == QMessageBox.StandardButton.Yes:
            self.delete_class(name)

    def _move_dropped(self, paths: list, target: str) -> None:
        paths = [p for p in paths if p.parent.name != target]
        if paths:
            self.session.undo_stack.push(MoveImagesCommand(self.session, paths, target))


def _colour_icon(colour: str) -> QIcon:
    pixmap = QPixmap(22, 22)
    pixmap.fill(QColor(colour))
    return QIcon(pixmap)

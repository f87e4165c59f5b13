"""Undoable edits of a project (Edit > Undo, Ctrl+Z).

Each command does its work in ``redo`` and reverses it in ``undo``; nothing is
ever deleted outright, deleted images and classes go to the project trash.
A failure (a file locked by another program, a full disk) is reported through
the session instead of escaping into Qt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QUndoCommand

from vpt_core.errors import VptError

from .error_texts import translate_error
from .project import ClassInfo
from .session import ProjectSession


class _SafeCommand(QUndoCommand):
    """``make_text`` gives the Edit menu's name in the current language (called again after a switch)."""

    def __init__(self, session: ProjectSession, make_text: Callable[[], str]):
        super().__init__(make_text())
        self.session = session
        self.make_text = make_text

    def retranslate(self) -> None:
        self.setText(self.make_text())

    def redo(self) -> None:
        self._guard(self.do)

    def undo(self) -> None:
        self._guard(self.revert)

    def _guard(self, action) -> None:
        try:
            action()
        except (VptError, OSError) as error:
            self.session.errorOccurred.emit(translate_error(str(error)))
            self.setObsolete(True)
        finally:
            self.notify()

    def do(self) -> None:
        raise NotImplementedError

    def revert(self) -> None:
        raise NotImplementedError

    def notify(self) -> None:
        self.session.classes_edited()


class AddClassCommand(_SafeCommand):
    def __init__(self, session: ProjectSession, name: str):
        super().__init__(session, lambda: QCoreApplication.translate("UndoCommands", "Add class “{name}”").format(
            name=name))
        self.name = session.project.check_class_name(name)
        self.info: ClassInfo | None = None
        self.trashed: Path | None = None

    def do(self) -> None:
        project = self.session.project
        if self.info is None:
            self.info = project.add_class(self.name)
        else:
            project.restore_class(self.info, len(project.classes), self.trashed)

    def revert(self) -> None:
        _, self.trashed = self.session.project.remove_class(self.info.name)


class RenameClassCommand(_SafeCommand):
    def __init__(self, session: ProjectSession, old: str, new: str):
        super().__init__(session, lambda: QCoreApplication.translate(
            "UndoCommands", "Rename class “{old}” to “{new}”").format(old=old, new=new))
        self.old = old
        self.new = session.project.check_class_name(new, ignore=old)

    def do(self) -> None:
        self.session.project.rename_class(self.old, self.new)

    def revert(self) -> None:
        self.session.project.rename_class(self.new, self.old)


class DeleteClassCommand(_SafeCommand):
    def __init__(self, session: ProjectSession, name: str):
        super().__init__(session, lambda: QCoreApplication.translate(
            "UndoCommands", "Delete class “{name}”").format(name=name))
        self.info = session.project.class_info(name)
        self.position, self.trashed = 0, None

    def do(self) -> None:
        self.position, self.trashed = self.session.project.remove_class(self.info.name)

    def revert(self) -> None:
        self.session.project.restore_class(self.info, self.position, self.trashed)


class _ImageCommand(_SafeCommand):
    """Base for edits that move image files: remembers (before, after) pairs to move back."""

    def __init__(self, session: ProjectSession, make_text: Callable[[], str], paths: list[Path]):
        super().__init__(session, make_text)
        self.paths = [Path(p) for p in paths]
        self.pairs: list[tuple[Path, Path]] = []

    def revert(self) -> None:
        self.session.project.move_back(self.pairs)

    def notify(self) -> None:
        touched = {p.parent.name for pair in self.pairs for p in pair} or {p.parent.name for p in self.paths}
        self.session.images_edited(touched)


class DeleteImagesCommand(_ImageCommand):
    def __init__(self, session: ProjectSession, paths: list[Path]):
        count = len(paths)
        super().__init__(session, lambda: QCoreApplication.translate(
            "UndoCommands", "Delete {count} image(s)").format(count=count), paths)

    def do(self) -> None:
        self.pairs = self.session.project.trash_images([original for original, _ in self.pairs] or self.paths)


class MoveImagesCommand(_ImageCommand):
    def __init__(self, session: ProjectSession, paths: list[Path], target: str):
        count = len(paths)
        super().__init__(session, lambda: QCoreApplication.translate(
            "UndoCommands", "Move {count} image(s) to “{name}”").format(count=count, name=target), paths)
        self.target = target

    def do(self) -> None:
        self.pairs = self.session.project.move_images([original for original, _ in self.pairs] or self.paths,
                                                      self.target)


class ImportImagesCommand(_ImageCommand):
    """Images already copied in by the import job; undo sends them to the trash."""

    def __init__(self, session: ProjectSession, added: list[Path]):
        count = len(added)
        super().__init__(session, lambda: QCoreApplication.translate(
            "UndoCommands", "Import {count} image(s)").format(count=count), added)
        self.trashed: list[tuple[Path, Path]] = []

    def do(self) -> None:
        if self.trashed:
            self.session.project.move_back(self.trashed)

    def revert(self) -> None:
        self.trashed = self.session.project.trash_images(self.paths)


class AddClassesCommand(_SafeCommand):
    """Several new classes at once (from a folder of class folders): one step in Edit > Undo."""

    def __init__(self, session: ProjectSession, names: list[str]):
        count = len(names)
        super().__init__(session, lambda: QCoreApplication.translate(
            "UndoCommands", "Add {count} classes from folders").format(count=count))
        self.names = [session.project.check_class_name(name) for name in names]
        self.added: list[tuple[ClassInfo, Path | None]] = []   # each class, and where its folder went on undo

    def do(self) -> None:
        project = self.session.project
        if not self.added:
            self.added = [(project.add_class(name), None) for name in self.names]
        else:
            for info, trashed in self.added:
                project.restore_class(info, len(project.classes), trashed)

    def revert(self) -> None:
        project = self.session.project
        self.added = [(info, project.remove_class(info.name)[1]) for info, _ in reversed(self.added)][::-1]


def retranslate_stack(stack) -> None:
    """Name every edit in Edit > Undo/Redo in the current language."""
    for index in range(stack.count()):
        command = stack.command(index)
        if hasattr(command, "retranslate"):
            command.retranslate()

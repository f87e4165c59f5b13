"""Importing pictures and folders into the project: plan, ask when folders look like classes, copy, undo.

Copies run in the background with a progress dialog and Cancel. A folder of
class folders is offered as classes (see gui.import_plan); the classes it makes
and the pictures it copies are each one undoable edit.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

from .dialogs.import_dialog import AS_CLASSES, INTO_SELECTED, ImportDialog
from .error_texts import translate_error
from .import_plan import ImportPlan, plan_import
from .jobs import import_job
from .project_files import expand_image_paths
from .session import ProjectSession
from .undo_commands import AddClassesCommand, ImportImagesCommand
from .workers import start_job


class PictureImporter(QObject):
    message = Signal(str)        # a summary for the status bar
    problem = Signal(str)
    finished = Signal()

    def __init__(self, session: ProjectSession, window: QWidget):
        super().__init__(window)
        self.session, self.window = session, window
        self.thread = None

    def ask_how(self, plan: ImportPlan, selected: str) -> int:
        """AS_CLASSES, INTO_SELECTED or 0 (cancel); replaced in tests."""
        return ImportDialog(plan, selected, self.window).exec()

    def import_items(self, items: list, selected: str) -> bool:
        """Import files and folders; False if nothing was started."""
        if self.thread is not None:
            return False
        project = self.session.project
        plan = plan_import(items, project.class_names, project.check_class_name)
        if plan.has_class_folders:
            choice = self.ask_how(plan, selected)
            if choice == AS_CLASSES:
                return self._start(self._groups_as_classes(plan, selected))
            if choice != INTO_SELECTED:
                return False
        if not selected:
            self.problem.emit(self.tr("Choose or add a class first: the pictures go into the selected class."))
            return False
        return self._start([(expand_image_paths(items), project.class_dir(selected))])

    def _groups_as_classes(self, plan: ImportPlan, selected: str) -> list[tuple[list[Path], Path]]:
        project, stack = self.session.project, self.session.undo_stack
        new = [group for group in plan.usable_groups() if group.new_class]
        if new:
            stack.push(AddClassesCommand(self.session, [group.target for group in new]))
        groups = [(group.paths, project.class_dir(group.target)) for group in plan.usable_groups()]
        if plan.loose and selected:
            groups.append((plan.loose, project.class_dir(selected)))
        return groups

    def _start(self, groups: list[tuple[list[Path], Path]]) -> bool:
        total = sum(len(paths) for paths, _ in groups)
        progress = QProgressDialog(self.tr("Importing {count} pictures…").format(count=total), self.tr("Cancel"),
                                   0, max(1, total), self.window)
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(500)
        self.thread = start_job(import_job(groups), on_event=lambda e: progress.setValue(e.done),
                                on_success=lambda result: self._done(result, progress),
                                on_failure=lambda text: self._failed(text, progress), parent=self)
        progress.canceled.connect(self.thread.cancel)
        return True

    def _done(self, result, progress) -> None:
        progress.close()
        self.thread = None
        if result.added:
            self.session.undo_stack.push(ImportImagesCommand(self.session, result.added))
        summary = self.tr("Imported {added} picture(s).").format(added=len(result.added))
        self.message.emit(summary)
        if result.skipped:
            reasons = [translate_error(reason) for reason in result.skipped]
            listing = "\n".join(reasons[:15]) + ("\n…" if len(reasons) > 15 else "")
            QMessageBox.information(self.window, self.tr("Import"), self.tr(
                "{summary}\n\n{skipped} file(s) were left out because they are not readable pictures:\n{listing}"
            ).format(summary=summary, skipped=len(reasons), listing=listing))
        self.finished.emit()

    def _failed(self, text: str, progress) -> None:
        progress.close()
        self.thread = None
        self.problem.emit(self.tr("Import stopped: {error}").format(error=translate_error(text)))
        self.finished.emit()

    def shutdown(self) -> None:
        if self.thread is not None:   # pictures copied so far stay; the rest is not started
            self.thread.cancel()
            self.thread.wait(30000)

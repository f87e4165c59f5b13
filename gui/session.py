"""The open project as the window sees it: change signals, autosave, undo stack, background writes.

Autosave follows labelme: changes are saved shortly after they happen, a failed
save stays visible (``saveStateChanged``) with a retry, and nothing is lost from
memory until a save succeeds.
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QThread, QTimer, Signal
from PySide6.QtGui import QUndoStack

from vpt_core.errors import VptError

from .project import Project

AUTOSAVE_DELAY_MS = 400
SAVED, PENDING, FAILED = "saved", "pending", "failed"


class ProjectSession(QObject):
    classesChanged = Signal()
    imagesChanged = Signal(str)              # class name; "" when several classes changed
    saveStateChanged = Signal(str, str)      # SAVED / PENDING / FAILED, and the error if failed
    writeFailed = Signal(str)                # a captured frame could not be written
    tasksChanged = Signal()
    errorOccurred = Signal(str)              # an edit or its undo failed; the message names the file

    def __init__(self, project: Project, parent: QObject | None = None):
        super().__init__(parent)
        self.project = project
        self.undo_stack = QUndoStack(self)
        self.save_state, self.save_error = SAVED, ""
        self._timer = QTimer(self, singleShot=True, interval=AUTOSAVE_DELAY_MS)
        self._timer.timeout.connect(self.save_now)
        self.writer = FrameWriter(project)
        self.writer.written.connect(self._on_frame_written)
        self.writer.failed.connect(self.writeFailed)
        self.writer.start()

    # -- saving -----------------------------------------------------------
    def mark_dirty(self) -> None:
        self._set_save_state(PENDING, "")
        self._timer.start()

    def save_now(self) -> bool:
        self._timer.stop()
        try:
            self.project.save()
        except VptError as error:
            self._set_save_state(FAILED, str(error))
            return False
        except OSError as error:
            self._set_save_state(FAILED, f"{self.project.project_file}: {error.strerror or error}")
            return False
        self._set_save_state(SAVED, "")
        return True

    def _set_save_state(self, state: str, error: str) -> None:
        if (state, error) != (self.save_state, self.save_error):
            self.save_state, self.save_error = state, error
            self.saveStateChanged.emit(state, error)

    def close(self) -> bool:
        """Stop background work and save; False if the last save failed (the caller may ask to retry)."""
        self.writer.stop()
        return self.save_now() if self.save_state != SAVED else True

    # -- changes (each also recorded by an undo command) ------------------
    def classes_edited(self) -> None:
        self.classesChanged.emit()
        self.mark_dirty()

    def images_edited(self, class_names: set[str] | list[str]) -> None:
        names = list(set(class_names))
        self.imagesChanged.emit(names[0] if len(names) == 1 else "")

    def set_setting(self, key: str, value) -> None:
        if self.project.settings.get(key) != value:
            self.project.settings[key] = value
            self.mark_dirty()

    def capture(self, class_name: str, rgb: np.ndarray) -> None:
        """Queue a frame for writing; ``imagesChanged`` follows once it is safely on disk."""
        self.writer.submit(class_name, rgb)

    def _on_frame_written(self, class_name: str, path: str) -> None:
        self.imagesChanged.emit(class_name)


class FrameWriter(QThread):
    """Writes captured frames one by one, off the window's thread (PNG encoding takes a while)."""

    written = Signal(str, str)
    failed = Signal(str)

    def __init__(self, project: Project):
        super().__init__()
        self.project = project
        self._jobs: queue.Queue = queue.Queue()
        self._idle = threading.Event()
        self._idle.set()

    def submit(self, class_name: str, rgb: np.ndarray) -> None:
        self._idle.clear()
        self._jobs.put((class_name, rgb))

    def wait_idle(self, timeout: float = 10.0) -> bool:
        return self._idle.wait(timeout)

    def stop(self) -> None:
        self._jobs.put(None)
        self.wait(10000)

    def run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                break
            class_name, rgb = job
            try:
                path = self.project.write_frame(class_name, rgb)
            except VptError as error:
                self.failed.emit(str(error))
            else:
                self.written.emit(class_name, str(Path(path)))
            if self._jobs.empty():
                self._idle.set()
        self._idle.set()

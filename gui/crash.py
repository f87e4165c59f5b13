"""No stack traces on screen: unexpected errors are logged to a file and shown as a plain message.

A ``VptError`` is a message written for the user and is shown as it is. Anything
else is a bug: the details go to the log file, the user is told the app keeps
running and where the details are.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import threading
import traceback
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QStandardPaths, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from vpt_core.errors import VptError

log = logging.getLogger("vpt.gui")
_state = {"showing": False, "log_file": None}


def log_folder() -> Path:
    override = os.environ.get("VPT_GUI_LOG_DIR")
    if override:
        return Path(override)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation)
    return Path(base or Path.home() / ".vpt") / "logs"


def setup_logging() -> Path:
    """Rotating log file for the app's own messages and every unexpected error."""
    folder = log_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            folder / "vpt-gui.log", maxBytes=2_000_000, backupCount=3, encoding="utf-8")
        path = folder / "vpt-gui.log"
    except OSError:
        handler, path = logging.StreamHandler(sys.stderr), Path("stderr")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("vpt")
    root.handlers = [h for h in root.handlers if not getattr(h, "_vpt_gui", False)]
    handler._vpt_gui = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    _state["log_file"] = path
    return path


def friendly_message(error: BaseException) -> str:
    if isinstance(error, VptError):
        return str(error)
    where = _state["log_file"] or "the log file"
    return QCoreApplication.translate(
        "Crash", "Something went wrong, but your images and tasks are safe and the app keeps running.\n\n"
                 "What happened: {what}\n\nDetails for a developer were written to:\n{where}").format(
        what=f"{type(error).__name__}: {error}", where=where)


def handle_exception(kind, error, trace) -> None:
    """sys.excepthook: log, then show a plain dialog (never a traceback)."""
    if issubclass(kind, KeyboardInterrupt):
        QApplication.quit()
        return
    if not isinstance(error, VptError):
        log.error("unexpected error:\n%s", "".join(traceback.format_exception(kind, error, trace)))
    if QApplication.instance() is None or _state["showing"]:
        return
    message = friendly_message(error)
    if threading.current_thread() is threading.main_thread():
        _show(message)
    else:  # widgets only from the window's thread
        QTimer.singleShot(0, QApplication.instance(), lambda: _show(message))


def _show(message: str) -> None:
    if os.environ.get("VPT_GUI_NO_DIALOGS"):   # tests and screenshots: the log is enough
        return
    _state["showing"] = True
    try:
        box = QMessageBox(QMessageBox.Icon.Warning, QCoreApplication.translate("Crash", "Problem"), message,
                          QMessageBox.StandardButton.Ok, QApplication.activeWindow())
        box.exec()
    finally:
        _state["showing"] = False


def install() -> Path:
    path = setup_logging()
    sys.excepthook = handle_exception
    threading.excepthook = lambda args: handle_exception(args.exc_type, args.exc_value, args.exc_traceback)
    return path

"""Open a folder in the file manager, or say where it is when no file manager can be opened."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QMessageBox, QWidget


def open_folder(folder: Path, parent: QWidget | None = None) -> str:
    """'' when a file manager opened it; otherwise the message shown (the path is copied to the clipboard)."""
    if QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
        return ""
    QGuiApplication.clipboard().setText(str(folder))
    text = QCoreApplication.translate(
        "OpenFolder", "No file manager could be opened on this computer. The folder is:\n{folder}\n\n"
                      "Its path was copied, so you can paste it elsewhere.").format(folder=folder)
    if not os.environ.get("VPT_GUI_NO_DIALOGS"):
        QMessageBox.information(parent, QCoreApplication.translate("OpenFolder", "Folder"), text)
    return text

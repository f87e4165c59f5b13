"""Help > About: what this is and the versions of everything it runs on (for a support call)."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import qVersion
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

import vpt_core

from ..i18n import Retranslating

PACKAGES = ("torch", "timm", "onnxruntime", "numpy", "opencv-python-headless")


def versions() -> list[tuple[str, str]]:
    found = [("VPT Toolkit", vpt_core.__version__), ("Python", platform.python_version()),
             ("Qt", f"{qVersion()} (PySide6 {pyside_version})")]
    for package in PACKAGES:
        try:
            found.append((package, metadata.version(package)))
        except metadata.PackageNotFoundError:
            found.append((package, "–"))
    found.append(("OS", f"{platform.system()} {platform.release()} ({sys.platform})"))
    return found


class AboutDialog(Retranslating, QDialog):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.intro = QLabel(wordWrap=True)
        self.table = QLabel()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.table)
        layout.addWidget(self.buttons)
        self.buttons.rejected.connect(self.reject)
        self.retranslate()

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("About"))
        self.intro.setText(self.tr("VPT Inspection teaches one inspection model many tasks from a few pictures "
                                   "each. Licence: Apache-2.0. Versions, for a support call:"))
        rows = "".join(f"<tr><td>{name}</td><td>&nbsp;&nbsp;{value}</td></tr>" for name, value in versions())
        self.table.setText(f"<table>{rows}</table>")

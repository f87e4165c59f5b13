"""Look and feel: large text and targets for a touch screen or gloved hands on the shop floor."""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

BASE_POINT_SIZE = 12
STYLE_SHEET = """
QPushButton, QToolButton { min-height: 36px; padding: 4px 14px; }
QPushButton#primary { background: #0a6ebd; color: white; font-weight: bold; border-radius: 4px; min-height: 44px; }
QPushButton#primary:disabled { background: #9bb7cf; }
QPushButton#danger { color: #b00020; }
QToolButton#nav { min-width: 120px; min-height: 64px; font-size: 14pt; border: none; border-radius: 6px;
                  text-align: left; padding: 6px 12px; }
QToolButton#nav:checked { background: #0a6ebd; color: white; }
QToolButton#nav:hover:!checked { background: #dbe8f4; }
QPushButton#taskButton { min-width: 90px; font-weight: bold; }
QPushButton#taskButton:checked { background: #0a6ebd; color: white; font-weight: bold; border: 3px solid #063e6b;
                                 border-radius: 4px; }
QLabel#pageTitle { font-size: 18pt; font-weight: bold; }
QLabel#bigResult { font-size: 20pt; font-weight: bold; }
QLabel#hint { color: #555; }
QLabel#problem { color: #b00020; }
QFrame#saveBanner { background: #fde7e9; border: 1px solid #b00020; border-radius: 4px; }
QListWidget#classList::item { min-height: 40px; }
QProgressBar { min-height: 26px; }
"""


def apply_style(app: QApplication) -> None:
    app.setStyle("Fusion")
    font = QFont(app.font())
    font.setPointSize(BASE_POINT_SIZE)
    # Japanese text needs a CJK font; Noto CJK is the usual one on Linux.
    font.setFamilies([font.family(), "Noto Sans CJK JP", "Noto Sans JP", "Yu Gothic UI", "Meiryo",
                      "Hiragino Sans"])
    app.setFont(font)
    app.setStyleSheet(STYLE_SHEET)

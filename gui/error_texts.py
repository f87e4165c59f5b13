"""Messages from the Qt-free project code (class names, imported files), in the operator's language.

The project modules raise plain English messages (they also serve the command
line). The ones an operator meets every day are recognised here by their form
and said again in the current language; anything else is shown unchanged.
tests/test_gui_language.py feeds the project code's real messages through this
module, so a changed wording is noticed.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QCoreApplication

_QUOTED = r"(?P<q>['\"])(?P<name>.*?)(?P=q)"
_PATTERNS = (
    ("no_name", re.compile(r"^a class needs a name$")),
    ("bad_characters", re.compile(rf"^{_QUOTED} cannot be a class name")),
    ("too_long", re.compile(r"^the class name .* is too long")),
    ("duplicate", re.compile(rf"^there is already a class named {_QUOTED}$")),
    ("folder_exists", re.compile(rf"^a folder named {_QUOTED} is already in (?P<folder>.*)$")),
    ("not_image_type", re.compile(r"^(?P<file>.+): not an image file type$")),
    ("unreadable_image", re.compile(r"^(?P<file>.+): not a readable image \(.*\)$")),
)


def _texts() -> dict[str, str]:
    return {
        "no_name": QCoreApplication.translate("ErrorTexts", "A class needs a name."),
        "bad_characters": QCoreApplication.translate(
            "ErrorTexts", "“{name}” cannot be a class name: leave out / \\ : * ? \" < > | and do not start with a "
                          "dot."),
        "too_long": QCoreApplication.translate("ErrorTexts",
                                               "That class name is too long: 80 characters at most."),
        "duplicate": QCoreApplication.translate("ErrorTexts", "There is already a class named “{name}”."),
        "folder_exists": QCoreApplication.translate(
            "ErrorTexts", "A folder named “{name}” is already in {folder}: choose another name."),
        "not_image_type": QCoreApplication.translate("ErrorTexts", "{file}: not a picture file"),
        "unreadable_image": QCoreApplication.translate("ErrorTexts", "{file}: damaged, or not a picture"),
    }


def translate_error(text: str) -> str:
    for key, pattern in _PATTERNS:
        match = pattern.match(text)
        if match:
            values = {k: v for k, v in match.groupdict().items() if k != "q"}
            return _texts()[key].format(**values)
    return text

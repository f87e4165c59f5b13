"""Refuse a Qt binding known to crash this Python, with a message that says what to install.

PySide6 6.12.0 drops a reference to ``None`` on every Qt call that returns
nothing and to ``True`` on every signal emission. Python 3.12+ makes those
objects immortal, so it is harmless there; on 3.11 a running app (a 30 fps
preview makes many calls) aborts within minutes ("deallocating None").
pyproject.toml therefore asks for PySide6 < 6.12; this check catches an
environment that installed it anyway, at start-up rather than mid-shift.
"""

from __future__ import annotations

import sys

from vpt_core.errors import VptError

BROKEN_ON_OLD_PYTHON = ((6, 12),)


def check_qt_binding() -> None:
    import PySide6

    version = tuple(PySide6.__version_info__[:2])
    if sys.version_info < (3, 12) and version in BROKEN_ON_OLD_PYTHON:
        raise VptError(
            f"PySide6 {PySide6.__version__} crashes on Python {sys.version_info[0]}.{sys.version_info[1]} "
            "after a few minutes (a reference-count bug); install a working version with: "
            "pip install 'PySide6-Essentials<6.12'")

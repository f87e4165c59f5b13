"""What the app remembers between runs: language and recent projects (QSettings)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings

MAX_RECENT = 8


class AppSettings:
    """``VPT_GUI_SETTINGS`` (a file path) overrides the platform location, for tests and portable installs."""

    def __init__(self, path: str | os.PathLike | None = None):
        path = path or os.environ.get("VPT_GUI_SETTINGS")
        if path:
            self.store = QSettings(str(path), QSettings.Format.IniFormat)
        else:
            self.store = QSettings("vpt-toolkit", "vpt-gui")

    @property
    def language(self) -> str | None:
        value = self.store.value("language")
        return str(value) if value else None

    @language.setter
    def language(self, value: str) -> None:
        self.store.setValue("language", value)

    def recent_projects(self) -> list[Path]:
        value = self.store.value("recent_projects") or []
        items = [value] if isinstance(value, str) else list(value)
        return [Path(p) for p in items if p and (Path(p) / "project.json").is_file()]

    def add_recent(self, folder: Path) -> None:
        folder = Path(folder).resolve()
        items = [folder] + [p for p in self.recent_projects() if p.resolve() != folder]
        self.store.setValue("recent_projects", [str(p) for p in items[:MAX_RECENT]])

    def value(self, key: str, default=None):
        return self.store.value(key, default)

    def sync(self) -> None:
        self.store.sync()

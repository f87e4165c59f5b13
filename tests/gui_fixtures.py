"""Fixtures shared by the GUI tests: no real dialogs, settings and logs in the test's folder."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def quiet_app(monkeypatch, tmp_path):
    monkeypatch.setenv("VPT_GUI_NO_DIALOGS", "1")
    monkeypatch.setenv("VPT_GUI_SETTINGS", str(tmp_path / "settings.ini"))
    monkeypatch.setenv("VPT_GUI_LOG_DIR", str(tmp_path / "logs"))


@pytest.fixture
def silent_message_boxes(monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: QMessageBox.StandardButton.Ok)
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: QMessageBox.StandardButton.Ok)

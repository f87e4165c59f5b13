"""Closing the window or the project during training or export asks first and then stops cleanly."""

from __future__ import annotations

import shutil

import pytest

pytest.importorskip("PySide6")

from conftest import tiny_backbone_config  # noqa: E402
from gui_fixtures import quiet_app, silent_message_boxes  # noqa: E402,F401 - autouse / used below

pytestmark = pytest.mark.usefixtures("silent_message_boxes")
from gui.project import Project  # noqa: E402
from vpt_engine import events as ev  # noqa: E402


@pytest.fixture
def window(qtbot, tmp_path, make_image_folder):
    from gui.app import build_window

    data = make_image_folder({"ok": 5, "bad": 5})
    project = Project.create(tmp_path / "project", "test", tiny_backbone_config().to_dict(), classes=["ok", "bad"])
    for name in ("ok", "bad"):
        shutil.copytree(data / name, project.class_dir(name), dirs_exist_ok=True)
    window = build_window("en")
    qtbot.addWidget(window)
    window.set_project(Project.open(project.root))
    window.show()
    yield window
    window.close_project()


def start_training(page, qtbot, epochs):
    form = page.form
    form.auto_box.setChecked(False)
    form.epochs_spin.setValue(epochs)
    form.prompts_spin.setValue(2)
    assert page.start()


def test_closing_during_training_asks_and_cancels_cleanly(window, qtbot, monkeypatch):
    """Issue 11.3: closing the window during training quit at once and lost the run without a question."""
    page = window.pages["train"]
    tasks_dir = window.session.project.tasks_dir
    start_training(page, qtbot, 500)
    qtbot.waitUntil(lambda: page.phase == ev.Phase.TRAIN, timeout=60000)
    asked = []
    monkeypatch.setattr(window, "confirm_stop_work", lambda work: asked.append(work) or False)
    assert not window.close()                                     # "Keep working"
    assert asked == [["training"]] and window.isVisible() and page.state == "running"

    monkeypatch.setattr(window, "confirm_stop_work", lambda work: True)
    with qtbot.waitSignal(page.trainingFinished, timeout=60000) as finished:
        assert window.close()                                    # "Stop and close"
    assert finished.args[0] is None and window.session is None
    assert not list(tasks_dir.glob("*.vptask"))                 # nothing half-written


def test_closing_the_project_during_export_asks_and_leaves_no_half_bundle(window, qtbot, monkeypatch):
    pytest.importorskip("export.bundle_builder")
    page = window.pages["train"]
    start_training(page, qtbot, 1)
    qtbot.waitUntil(lambda: page.state == "idle", timeout=60000)
    project = window.session.project
    export = window.pages["export"]
    export.refresh_tasks()
    assert export.build() and not export.cancel_button.isHidden()
    monkeypatch.setattr(window, "confirm_stop_work", lambda work: work == ["export"])
    assert window.close_project()
    assert not any(project.exports_dir.iterdir())                # no bundle, no staging folder


def test_export_cancel_button_stops_the_build(window, qtbot):
    pytest.importorskip("export.bundle_builder")
    page = window.pages["train"]
    start_training(page, qtbot, 1)
    qtbot.waitUntil(lambda: page.state == "idle", timeout=60000)
    export = window.pages["export"]
    export.refresh_tasks()
    with qtbot.waitSignal(export.exported, timeout=120000) as done:
        assert export.build()
        export.cancel_button.click()
    assert done.args[0] is None and "cancelled" in export.status.text()
    assert not any(window.session.project.exports_dir.iterdir())

"""The small things an operator trips over (issue 11.12)."""

from __future__ import annotations

import shutil

import pytest

pytest.importorskip("PySide6")
from PySide6.QtGui import QDesktopServices, QGuiApplication  # noqa: E402

from conftest import tiny_backbone_config  # noqa: E402
from gui_fixtures import quiet_app, silent_message_boxes  # noqa: E402,F401 - autouse / used below

pytestmark = pytest.mark.usefixtures("silent_message_boxes")
from gui.project import Project  # noqa: E402


@pytest.fixture
def window(qtbot):
    from gui.app import build_window

    window = build_window("en")
    qtbot.addWidget(window)
    window.show()
    yield window
    window.close_project()


def test_no_class_means_no_delete_and_no_empty_list_of_classes(window, tmp_path):
    window.set_project(Project.create(tmp_path / "p", backbone=tiny_backbone_config().to_dict()))
    class_list = window.pages["capture"].class_list
    assert not class_list.delete_button.isEnabled() and not class_list.rename_button.isEnabled()
    lines = window.pages["train"].checks.lines()
    assert not any("no pictures yet: ." in line for line in lines)
    assert any("Add at least two classes" in line for line in lines)
    class_list.add_class("ok")
    assert class_list.delete_button.isEnabled()
    class_list.delete_class("ok")
    assert not class_list.delete_button.isEnabled()


def test_training_says_it_is_starting_not_ready(window, qtbot, tmp_path, make_image_folder):
    project = Project.create(tmp_path / "p", backbone=tiny_backbone_config().to_dict(), classes=["a", "b"])
    data = make_image_folder({"a": 2, "b": 2})
    for name in ("a", "b"):
        shutil.copytree(data / name, project.class_dir(name), dirs_exist_ok=True)
    window.set_project(Project.open(project.root))
    page = window.pages["train"]
    page.form.auto_box.setChecked(False)
    page.form.epochs_spin.setValue(1)
    with qtbot.waitSignal(page.trainingFinished, timeout=60000):
        assert page.start()
        assert page.phase_label.text() != "Ready."


def test_a_new_project_needs_a_name_and_says_so(qtbot, tmp_path):
    from gui.dialogs.new_project_dialog import NewProjectDialog

    dialog = NewProjectDialog(tmp_path)
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    assert not ok.isEnabled() and "Type a name" in dialog.where.text()
    dialog.name_edit.setText("line 3")
    assert ok.isEnabled() and str(tmp_path / "line 3") in dialog.where.text()
    assert dialog.backbone()["model"] == "fdsl-vit-tiny"


def test_open_folder_without_a_file_manager_says_where_the_folder_is(window, monkeypatch, tmp_path):
    from gui.open_folder import open_folder

    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: False)
    text = open_folder(tmp_path)
    assert str(tmp_path) in text and QGuiApplication.clipboard().text() == str(tmp_path)
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: True)
    assert open_folder(tmp_path) == ""


def test_help_has_a_guide_and_versions(window, qtbot):
    from gui.dialogs.about_dialog import AboutDialog, versions
    from gui.dialogs.guide_dialog import GuideDialog

    texts = [action.text() for action in window.help_menu.actions()]
    assert texts[:2] == ["Operator guide", "About"] and "Open the log folder" in texts
    names = dict(versions())
    assert names["Python"] and names["torch"] != "–" and "PySide6" in names["Qt"]
    about, guide = AboutDialog(window), GuideDialog(window)
    qtbot.addWidget(about)
    qtbot.addWidget(guide)
    assert "Python" in about.table.text()
    assert "Start inspection" in guide.text.toPlainText()


def test_tall_pictures_fit_their_thumbnail(qtbot, tmp_path):
    import cv2
    import numpy as np

    from gui.widgets.thumbnail_model import THUMB_SIZE, ThumbnailLoader

    tall = tmp_path / "tall.png"
    cv2.imwrite(str(tall), np.full((900, 150, 3), 200, np.uint8))
    image = ThumbnailLoader().decode(str(tall))
    assert image.height() <= THUMB_SIZE and image.width() <= THUMB_SIZE

"""Capture and label in the app: classes, folder camera, Space and number keys, bursts, import, move, undo."""

from __future__ import annotations

import shutil
import time

import cv2
import numpy as np
import pytest

pytest.importorskip("PySide6")
from PySide6.QtCore import Qt  # noqa: E402

from conftest import tiny_backbone_config  # noqa: E402
from gui_fixtures import quiet_app, silent_message_boxes  # noqa: E402,F401 - autouse / used below

pytestmark = pytest.mark.usefixtures("silent_message_boxes")
from gui.camera import LOST, RUNNING  # noqa: E402
from gui.project import Project  # noqa: E402
from vpt_core.frames import FOLDER, SourceSpec  # noqa: E402
from gui.dialogs.import_dialog import AS_CLASSES  # noqa: E402


@pytest.fixture
def window(qtbot):
    from gui.app import build_window

    window = build_window("en")
    qtbot.addWidget(window)
    window.show()
    yield window
    window.close_project()


@pytest.fixture
def camera_folder(make_image_folder):
    return make_image_folder({"frames": 6}) / "frames"


def open_new_project(window, tmp_path, classes=()):
    project = Project.create(tmp_path / "project", "test", tiny_backbone_config().to_dict(), classes=classes)
    window.set_project(project)
    return window.pages["capture"]


def start_folder_camera(page, qtbot, folder):
    page.start_source(SourceSpec(FOLDER, str(folder), fps=60))
    qtbot.waitUntil(lambda: page.camera.state == RUNNING and page.camera.latest_frame is not None, timeout=10000)


def count(page, name):
    return len(page.session.project.image_paths(name))


def test_add_classes_capture_with_space_number_keys_and_burst(window, qtbot, tmp_path, camera_folder):
    page = open_new_project(window, tmp_path)
    assert not page.capture_button.isEnabled()            # no class yet: nothing to capture into
    assert page.class_list.add_class("ok") and page.class_list.add_class("bad")
    assert not page.class_list.add_class("ok ")            # duplicate refused with a message, not added
    assert window.session.project.class_names == ["ok", "bad"]
    start_folder_camera(page, qtbot, camera_folder)
    page.class_list.select_class("ok")
    page.setFocus()
    qtbot.keyClick(page, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: count(page, "ok") == 1, timeout=5000)
    qtbot.keyClick(page, Qt.Key.Key_2)                     # number keys choose the class
    assert page.class_list.current_class() == "bad"
    page.burst_count.setValue(3)
    page.toggle_burst()
    qtbot.waitUntil(lambda: count(page, "bad") == 3 and len(page.model.paths) == 3, timeout=10000)
    assert page.burst_left == 0 and count(page, "ok") == 1
    saved = page.session.project.image_paths("bad")
    assert all(cv2.imread(str(p)) is not None for p in saved)          # complete pictures
    assert len(page.model.paths) == 3                                    # the grid shows them
    assert "(3 images)" in page.class_list.list.item(1).text()


def test_lost_camera_is_shown_and_reconnects(window, qtbot, tmp_path, camera_folder):
    page = open_new_project(window, tmp_path, ["ok"])
    start_folder_camera(page, qtbot, camera_folder)
    moved = camera_folder.with_name("unplugged")
    camera_folder.rename(moved)
    qtbot.waitUntil(lambda: page.camera.state == LOST, timeout=10000)
    assert page.preview.state == LOST and "unplugged" not in page.camera.detail
    assert not page.capture_one()                          # nothing stale gets saved while lost
    moved.rename(camera_folder)
    qtbot.waitUntil(lambda: page.camera.state == RUNNING, timeout=10000)
    qtbot.waitUntil(lambda: page.camera.latest_frame is not None, timeout=5000)
    assert page.capture_one()


def test_import_move_delete_and_undo(window, qtbot, tmp_path, make_image_folder):
    page = open_new_project(window, tmp_path, ["ok", "bad"])
    incoming = make_image_folder({"pictures": 4}) / "pictures"
    (incoming / "damaged.png").write_bytes(b"\x89PNG not really")
    page.class_list.select_class("ok")
    with qtbot.waitSignal(page.importFinished, timeout=10000):
        page.import_paths([incoming])
    assert count(page, "ok") == 4
    stack = window.session.undo_stack
    stack.undo()                                           # undo the import: pictures go to the trash
    assert count(page, "ok") == 0
    stack.redo()
    assert count(page, "ok") == 4

    page.grid.selectAll()
    page.grid.setFocus()
    qtbot.keyClick(page.grid, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)   # move to class 2
    assert (count(page, "ok"), count(page, "bad")) == (0, 4)
    stack.undo()
    assert (count(page, "ok"), count(page, "bad")) == (4, 0)

    page.grid.clearSelection()
    page.grid.selectionModel().select(page.model.index(0), page.grid.selectionModel().SelectionFlag.Select)
    doomed = page.grid.selected_paths()[0]
    page.grid.setFocus()
    qtbot.keyClick(page.grid, Qt.Key.Key_Delete)
    assert not doomed.exists() and count(page, "ok") == 3
    assert any(p.name == doomed.name for p in window.session.project.trash_dir.rglob("*.png"))
    stack.undo()
    assert doomed.exists() and count(page, "ok") == 4


def test_drag_images_onto_a_class_moves_them(window, qtbot, tmp_path, make_image_folder):
    from gui.widgets.thumbnail_model import paths_from_mime

    page = open_new_project(window, tmp_path, ["ok", "bad"])
    shutil.copytree(make_image_folder({"x": 2}) / "x", window.session.project.class_dir("ok"), dirs_exist_ok=True)
    page.show_class("ok")
    mime = page.model.mimeData([page.model.index(0), page.model.index(1)])
    assert len(paths_from_mime(mime)) == 2
    page.class_list.list.imagesDropped.emit(paths_from_mime(mime), "bad")
    assert (count(page, "ok"), count(page, "bad")) == (0, 2)
    window.session.undo_stack.undo()
    assert (count(page, "ok"), count(page, "bad")) == (2, 0)


def test_rename_and_delete_class_are_undoable(window, qtbot, tmp_path):
    page = open_new_project(window, tmp_path, ["ok", "bad"])
    project = window.session.project
    project.write_frame("bad", np.zeros((8, 8, 3), np.uint8))
    assert page.class_list.rename_class("bad", "scratch")
    assert project.class_names == ["ok", "scratch"] and count(page, "scratch") == 1
    assert page.class_list.delete_class("scratch")
    assert project.class_names == ["ok"] and not project.class_dir("scratch").exists()
    window.session.undo_stack.undo()
    assert project.class_names == ["ok", "scratch"] and count(page, "scratch") == 1
    window.session.undo_stack.undo()
    assert project.class_names == ["ok", "bad"]
    qtbot.waitUntil(lambda: window.session.save_state == "saved", timeout=5000)   # autosaved
    assert Project.open(project.root).class_names == ["ok", "bad"]


def test_thumbnail_grid_stays_lazy_with_thousands_of_images(window, qtbot, tmp_path):
    page = open_new_project(window, tmp_path, ["many"])
    folder = window.session.project.class_dir("many")
    ok, png = cv2.imencode(".png", np.full((60, 80, 3), 128, np.uint8))
    for index in range(3000):
        (folder / f"img_{index:05d}.png").write_bytes(png.tobytes())
    started = time.perf_counter()
    page.show_class("many")
    for row in range(page.model.rowCount()):               # what a view could ask for: must not decode
        page.model.data(page.model.index(row), Qt.ItemDataRole.DecorationRole)
    assert time.perf_counter() - started < 2.0
    assert len(page.model.paths) == 3000
    assert len(page.loader._pending) <= 256                # requests beyond what a view shows are dropped
    qtbot.waitUntil(lambda: len(page.model.cache) >= 50, timeout=10000)   # decoded in the background


def test_a_full_disk_stops_the_burst_and_says_so(window, qtbot, tmp_path, camera_folder, monkeypatch):
    from vpt_core.errors import DiskWriteError

    page = open_new_project(window, tmp_path, ["ok"])
    start_folder_camera(page, qtbot, camera_folder)

    def disk_full(class_name, rgb):
        raise DiskWriteError(f"cannot write {page.session.project.class_dir(class_name)}/img.png: the disk is full")
    monkeypatch.setattr(page.session.project, "write_frame", disk_full)
    page.burst_count.setValue(50)
    page.toggle_burst()
    qtbot.waitUntil(lambda: "the disk is full" in page.problem_label.text(), timeout=5000)
    assert page.burst_left == 0
    written = page.session.project.image_paths("ok")
    qtbot.wait(500)                                                  # frames keep coming: no more attempts
    assert page.burst_left == 0 and page.session.project.image_paths("ok") == written
    assert "img.png" in page.problem_label.text()


def test_burst_from_a_looping_folder_saves_only_distinct_pictures(window, qtbot, tmp_path, make_image_folder):
    """Issue 11.11: a 10-picture burst from a folder played as a camera saved repeats."""
    page = open_new_project(window, tmp_path, ["ok"])
    start_folder_camera(page, qtbot, make_image_folder({"three": 3}) / "three")
    page.class_list.select_class("ok")
    page.burst_count.setValue(10)
    page.toggle_burst()
    qtbot.waitUntil(lambda: page.burst_left == 0, timeout=20000)
    assert page.session.writer.wait_idle()
    qtbot.waitUntil(lambda: count(page, "ok") == 3, timeout=5000)
    pixels = {cv2.imread(str(p)).tobytes() for p in page.session.project.image_paths("ok")}
    assert len(pixels) == 3                                          # three different pictures, no repeats
    assert "only 3 different pictures" in page.problem_label.text()


def test_taking_a_picture_shows_on_screen(window, qtbot, tmp_path, camera_folder):
    page = open_new_project(window, tmp_path, ["ok"])
    start_folder_camera(page, qtbot, camera_folder)
    page.class_list.select_class("ok")
    assert page.capture_one()
    assert page.preview.notice == "✔ Picture taken for “ok”" and page.preview.flash
    qtbot.waitUntil(lambda: not page.preview.notice, timeout=5000)   # and goes away by itself


def test_a_folder_of_class_folders_is_offered_as_classes(window, qtbot, tmp_path, make_image_folder):
    """Issue 11.6: Import folder… on a parent folder put every sub-folder into the selected class unasked."""
    page = open_new_project(window, tmp_path, ["ok", "Scratch"])
    parent = make_image_folder({"OK": 3, "scratch": 2, "dent": 2})
    make_image_folder({"x": 1}, root=parent / "dent")                 # nested deeper: still part of "dent"
    (parent / "bad:name").mkdir()
    make_image_folder({"y": 1}, root=parent / "bad:name")
    page.class_list.select_class("ok")
    asked = []

    def answer(plan, selected):
        asked.append(plan)
        return AS_CLASSES
    page.importer.ask_how = answer
    with qtbot.waitSignal(page.importFinished, timeout=20000):
        assert page.import_paths([parent])
    plan = asked[0]
    targets = {g.folder.name: (g.target, g.new_class, bool(g.problem)) for g in plan.groups}
    assert targets == {"OK": ("ok", False, False), "scratch": ("Scratch", False, False),
                       "dent": ("dent", True, False), "bad:name": ("", False, True)}
    project = window.session.project
    assert project.class_names == ["ok", "Scratch", "dent"]          # matched by name, one new class
    assert (count(page, "ok"), count(page, "Scratch"), count(page, "dent")) == (3, 2, 3)
    stack = window.session.undo_stack
    stack.undo()                                                      # the pictures...
    stack.undo()                                                      # ...then the new class
    assert project.class_names == ["ok", "Scratch"] and count(page, "ok") == 0


def test_the_import_dialog_says_what_it_will_do_before_doing_it(qtbot, tmp_path, make_image_folder):
    from gui.dialogs.import_dialog import ImportDialog
    from gui.import_plan import plan_import
    from gui.project import Project as P

    project = P.create(tmp_path / "p", classes=["ok"])
    parent = make_image_folder({"ok": 2, "pit": 1})
    cv2.imwrite(str(parent / "loose.png"), np.zeros((8, 8, 3), np.uint8))
    dialog = ImportDialog(plan_import([parent], project.class_names, project.check_class_name), "ok")
    qtbot.addWidget(dialog)
    lines = [dialog.listing.item(i).text() for i in range(dialog.listing.count())]
    assert lines == ["“ok”: 2 pictures → existing class “ok”", "“pit”: 1 pictures → new class “pit”",
                     "1 files lying directly in the folder → the selected class “ok”"]
    assert dialog.into_selected_button.text() == "Put all 4 into “ok”"


def test_importing_without_a_class_folder_or_class_says_what_to_do(window, qtbot, tmp_path, make_image_folder):
    page = open_new_project(window, tmp_path)
    flat = make_image_folder({"flat": 2}) / "flat"
    assert not page.import_paths([flat])
    assert "Choose or add a class first" in page.problem_label.text()

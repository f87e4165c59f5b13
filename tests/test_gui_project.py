"""The app's project folder and frame sources, without a window (gui.project, gui.project_files, vpt_core.frames as the app uses it)."""

from __future__ import annotations

import json
import os
import time

import cv2
import numpy as np
import pytest

from gui.project import PROJECT_FILE, DamagedProjectError, Project, ProjectError
from gui.project_files import clean_stale_temporaries, import_images
from vpt_core.errors import VptError
from vpt_core.frames import FOLDER, FrameStream, Pacer, SourceSpec


@pytest.fixture
def project(tmp_path):
    return Project.create(tmp_path / "proj", "demo", {"name": "vit_tiny_patch16_224", "random_init": True},
                          classes=["ok", "scratch"])


def test_create_writes_folders_and_reopens_with_the_same_classes(project):
    for folder in ("images/ok", "images/scratch", "tasks", "exports"):
        assert (project.root / folder).is_dir()
    again = Project.open(project.root)
    assert again.class_names == ["ok", "scratch"]
    assert again.backbone["random_init"] is True
    assert [c.colour for c in again.classes] == [c.colour for c in project.classes]
    with pytest.raises(ProjectError, match="already holds a project"):
        Project.create(project.root)


def test_class_folders_copied_in_by_hand_become_classes(project):
    (project.images_dir / "dent").mkdir()
    assert Project.open(project.root).class_names == ["ok", "scratch", "dent"]


@pytest.mark.parametrize("bad", ["", "  ", "a/b", "..", ".hidden", "x" * 81, "OK"])
def test_bad_class_names_are_refused_with_a_reason(project, bad):
    with pytest.raises(ProjectError):
        project.add_class(bad)


def test_rename_and_remove_class_keep_the_images(project):
    project.write_frame("scratch", np.zeros((8, 8, 3), np.uint8))
    project.rename_class("scratch", "傷")   # Japanese class names are fine
    assert len(project.image_paths("傷")) == 1
    position, trashed = project.remove_class("傷")
    assert "傷" not in project.class_names and len(list(trashed.iterdir())) == 1
    project.restore_class(type(project.classes[0])("傷", "#000000"), position, trashed)
    assert project.class_names == ["ok", "傷"] and len(project.image_paths("傷")) == 1


def test_captured_frames_are_complete_pngs_and_leave_no_temporaries(project):
    rgb = np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    paths = [project.write_frame("ok", rgb) for _ in range(3)]
    assert len(set(paths)) == 3
    decoded = cv2.imread(str(paths[0]))[:, :, ::-1]
    assert np.array_equal(decoded, rgb)   # lossless, colours in the right order
    assert not list(project.class_dir("ok").glob(".*"))


def test_stale_partial_writes_are_cleaned_but_fresh_ones_kept(project):
    folder = project.class_dir("ok")
    stale, fresh = folder / ".img_1.png.abc.tmp", folder / ".img_2.png.def.tmp"
    stale.write_bytes(b"half a png")
    fresh.write_bytes(b"being written")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    clean_stale_temporaries(folder)
    assert not stale.exists() and fresh.exists()
    assert project.image_paths("ok") == []   # temporaries are never shown as pictures


def test_trash_and_move_back(project):
    path = project.write_frame("ok", np.zeros((4, 4, 3), np.uint8))
    pairs = project.trash_images([path])
    assert not path.exists() and pairs[0][1].is_file() and project.trash_dir in pairs[0][1].parents
    project.move_back(pairs)
    assert path.is_file()
    moved = project.move_images([path], "scratch")
    assert moved[0][1].parent == project.class_dir("scratch")


def test_damaged_project_file_is_reported_and_left_untouched(project):
    damaged = b'{"format": "vpt-project", "classes": [ {"name": "ok"'
    project.project_file.write_bytes(damaged)
    with pytest.raises(DamagedProjectError, match=r"project.json.*damaged.*line 1") as caught:
        Project.open(project.root)
    assert "has not been changed" in str(caught.value)
    project.classes.append(type(project.classes[0])("new", "#000"))
    with pytest.raises(DamagedProjectError):
        project.save()                    # an open project never overwrites a file damaged meanwhile
    assert project.project_file.read_bytes() == damaged


def test_rebuild_keeps_the_damaged_file_and_adopts_class_folders(project):
    project.project_file.write_text("not json at all")
    rebuilt = Project.rebuild(project.root)
    assert sorted(rebuilt.class_names) == ["ok", "scratch"]
    kept = list(project.root.glob("project.damaged-*.json"))
    assert len(kept) == 1 and kept[0].read_text() == "not json at all"
    assert json.loads((project.root / PROJECT_FILE).read_text())["format"] == "vpt-project"


def test_import_copies_readable_images_and_names_the_rest(project, tmp_path):
    source = tmp_path / "incoming"
    source.mkdir()
    cv2.imwrite(str(source / "good.png"), np.zeros((10, 10, 3), np.uint8))
    (source / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    (source / "notes.txt").write_text("hello")
    result = import_images(sorted(source.iterdir()), project.class_dir("ok"))
    assert [p.name for p in result.added] == ["good.png"]
    assert any("broken.png" in reason for reason in result.skipped)
    assert any("notes.txt" in reason for reason in result.skipped)


def test_folder_source_loops_resizes_and_reports_a_missing_folder(tmp_path):
    folder = tmp_path / "cam"
    folder.mkdir()
    for index in range(2):
        cv2.imwrite(str(folder / f"{index}.png"), np.full((30, 40, 3), index * 100, np.uint8))
    stream = iter(FrameStream(SourceSpec(FOLDER, str(folder), width=20, height=10, loop=True)))
    frames = [next(stream).rgb for _ in range(3)]
    assert frames[0].shape == (10, 20, 3)
    assert frames[0].mean() == 0 and frames[1].mean() == 100 and frames[2].mean() == 0   # loops
    with pytest.raises(VptError, match="folder not found"):
        list(FrameStream(SourceSpec(FOLDER, str(tmp_path / "gone"))))


def test_source_spec_rejects_unusable_input():
    with pytest.raises(Exception, match="camera is chosen by its number"):
        SourceSpec("camera", "front")
    with pytest.raises(Exception, match="choose a camera, file"):
        SourceSpec(FOLDER, " ")


def test_pacer_spaces_frames_without_racing_to_catch_up():
    pacer = Pacer(0.1)
    assert pacer.delay() == 0.0
    assert 0.05 < pacer.delay() <= 0.1
    time.sleep(0.35)                      # a stall: the next frame comes at once, then normal spacing
    assert pacer.delay() == 0.0
    assert pacer.delay() > 0.05

"""project.json is checked against its schema on load; class names are plain names (issue 14, cases 7 and 8).

Qt-free: the project model and ``vpt gui PROJECT``'s check run before any window.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from gui.project import DamagedProjectError, Project, ProjectError, check_project_folder


def write_project(root, **changes):
    document = {"format": "vpt-project", "format_version": 1, "name": "p", "created": "",
                "classes": [{"name": "ok", "colour": "#0072B2"}, {"name": "scratch", "colour": "#E69F00"}],
                "backbone": {}, "settings": {}}
    document.update(changes)
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "project.json").write_text(json.dumps(document))
    return root


@pytest.mark.parametrize("name", ["../../victim", "../victim", "/tmp/victim", "a/b", "..", ".hidden", "x\\y",
                                  "tab\tname", " padded", "new\nline"])
def test_a_class_name_that_is_not_a_plain_name_is_refused_on_load(tmp_path, name):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_text("keep me")
    root = write_project(tmp_path / "project", classes=[{"name": "ok"}, {"name": name}])
    before = (root / "project.json").read_text()
    with pytest.raises(DamagedProjectError, match=r"classes\[1\]\.name"):
        Project.open(root)
    assert (root / "project.json").read_text() == before   # never rewritten
    assert (victim / "precious.txt").read_text() == "keep me" and not (root / "trash").exists()
    assert sorted(p.name for p in (root / "images").iterdir()) == []   # no folder made for any class


def test_duplicate_class_names_are_refused_on_load_and_on_entry(tmp_path):
    root = write_project(tmp_path / "p", classes=[{"name": "Scratch"}, {"name": "scratch"}])
    with pytest.raises(DamagedProjectError, match=r"classes\[1\]\.name repeats 'scratch'"):
        Project.open(root)
    project = Project.create(tmp_path / "fresh", classes=["ok"])
    with pytest.raises(ProjectError, match="already a class named 'ok'"):
        project.add_class("OK")
    with pytest.raises(ProjectError, match="'../../victim' cannot be a class name"):
        project.add_class("../../victim")
    with pytest.raises(ProjectError, match="'a/b' cannot be a class name"):
        project.rename_class("ok", "a/b")
    with pytest.raises(ProjectError, match="cannot be a class name: .*control characters"):
        project.add_class("tab\there")


def test_folders_that_could_not_be_class_names_are_not_adopted(tmp_path):
    root = write_project(tmp_path / "p")
    (root / "images" / " padded").mkdir()
    (root / "images" / "OK").mkdir()   # the same class as "ok" on a case-insensitive disk
    (root / "images" / "pits").mkdir()
    project = Project.open(root)
    assert project.class_names == ["ok", "scratch", "pits"]
    assert Project.open(root).class_names == ["ok", "scratch", "pits"]   # what was saved loads again


@pytest.mark.parametrize("changes, field", [
    ({"format_version": "x"}, "format_version must be a whole number"),
    ({"settings": "abc"}, "settings must be a JSON object"),
    ({"backbone": [1]}, "backbone must be a JSON object"),
    ({"classes": "abc"}, "classes must be a list"),
    ({"classes": [{"colour": "#000000"}]}, r"classes\[0\]\.name is missing"),
    ({"name": 5}, "name must be text"),
])
def test_malformed_project_fields_are_one_line_naming_the_field(tmp_path, changes, field):
    root = write_project(tmp_path / "p", **changes)
    with pytest.raises(DamagedProjectError, match=field):
        check_project_folder(root)
    done = subprocess.run([sys.executable, "-m", "vpt_core.cli", "gui", str(root)], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vpt gui: error: ") and "project.json" in lines[0]

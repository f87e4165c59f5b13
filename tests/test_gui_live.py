"""Live inspection: a verdict only over its own picture, good/defect/not-sure styles, one Start, task buttons."""

from __future__ import annotations

import dataclasses
import shutil
import threading

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("onnxruntime")
from gui_fixtures import quiet_app, silent_message_boxes  # noqa: E402,F401 - autouse / used below

pytestmark = pytest.mark.usefixtures("silent_message_boxes")
from conftest import tiny_backbone_config  # noqa: E402
from gui.camera import RUNNING  # noqa: E402
from gui.live_worker import LiveResult  # noqa: E402
from gui.project import Project  # noqa: E402
from gui.verdicts import DEFECT, GOOD, SORTED, UNSURE, TaskRoles, default_roles, looks_good  # noqa: E402
from vpt_core.frames import FOLDER, SourceSpec  # noqa: E402


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """One small bundle (classes ok / bad) for every test here: exporting takes a while."""
    from conftest import draw_class_image
    import cv2
    import numpy as np

    from export.bundle_builder import export_bundle
    from gui.jobs import TrainRequest, training_job

    root = tmp_path_factory.mktemp("live")
    rng = np.random.default_rng(0)
    for label, name in enumerate(("ok", "bad")):
        (root / "images" / name).mkdir(parents=True)
        for index in range(4):
            cv2.imwrite(str(root / "images" / name / f"{index}.png"), draw_class_image(label, rng))
    request = TrainRequest(root / "images", ["ok", "bad"], tiny_backbone_config().to_dict(), root / "check.vptask",
                           num_prompts=2, epochs=1)
    run = training_job(request)(lambda event: None, threading.Event())
    export_bundle([run.path], root / "bundle", parity=False)
    return root


@pytest.fixture
def window(qtbot, tmp_path, bundle):
    from gui.app import build_window

    project = Project.create(tmp_path / "project", "live", tiny_backbone_config().to_dict(), classes=["ok", "bad"])
    shutil.copytree(bundle / "bundle", project.exports_dir / "bundle-1")
    window = build_window("en")
    qtbot.addWidget(window)
    window.set_project(Project.open(project.root))
    window.show()
    window.show_page("live")
    yield window
    window.close_project()


def result_for(live, label, uncertain=False, confidence=0.9):
    return LiveResult(live.task, label, confidence, 1.0, 2.0, 1, 3.0, uncertain)


def test_a_verdict_is_never_shown_over_a_picture_it_was_not_computed_on(window, qtbot, bundle):
    """Issue 11.1: after Stop inspection the last verdict stayed over new parts while the camera played."""
    live = window.pages["live"]
    live.source_bar.set_spec(SourceSpec(FOLDER, str(bundle / "images" / "ok"), fps=30))
    assert live.start()                                          # one Start: starts the picture source too
    qtbot.waitUntil(lambda: window.camera.state == RUNNING, timeout=10000)
    qtbot.waitUntil(lambda: live.last_result is not None, timeout=30000)
    shown = []
    real_show = live.preview.show_frame
    live.preview.show_frame = lambda frame, verdict=None: shown.append((frame.number, verdict)) or \
        real_show(frame, verdict)
    qtbot.waitUntil(lambda: len(shown) >= 5, timeout=20000)
    assert all(verdict is not None for _, verdict in shown)      # while inspecting: only judged pictures
    assert live.preview.verdict_shown() and live.preview.frame_number == live.last_result.frame_number
    finished = live.last_result

    live.run_button.click()                                      # Stop inspection; the camera keeps playing
    assert window.camera.state == RUNNING and not live.preview.verdict_shown()
    assert live.banner.headline.text() == "Not inspecting"
    count = len(shown)
    qtbot.waitUntil(lambda: len(shown) >= count + 3, timeout=10000)
    assert all(verdict is None for _, verdict in shown[count:]) and not live.preview.verdict_shown()
    live._on_result(finished)                                    # a result still on its way from the stopped run
    assert live.last_result is None and not live.preview.verdict_shown()
    window.camera.stop()


def test_good_parts_defects_and_unsure_results_look_different(window, qtbot, tmp_path):
    live = window.pages["live"]
    live.task, live.classes = "check", ["ok", "bad"]
    styles = {}
    for label, uncertain in (("ok", False), ("bad", False), ("bad", True)):
        live.last_result = result_for(live, label, uncertain)
        live._show_banner()
        styles[(label, uncertain)] = (live.banner.kind, live.banner.headline.text(), live.banner.styleSheet())
    assert styles[("ok", False)][0] == GOOD and "#1b7f3b" in styles[("ok", False)][2]
    assert styles[("bad", False)][0] == DEFECT and "Defect: bad" in styles[("bad", False)][1]
    assert "#c62828" in styles[("bad", False)][2]
    assert styles[("bad", True)][0] == UNSURE and "check this part by hand" in styles[("bad", True)][1]
    assert "Maybe “bad”" in live.banner.detail_label.text()

    live.set_roles(TaskRoles(sorting=True, good=frozenset()))   # a task that sorts kinds of parts
    live.last_result = result_for(live, "bad")
    live._show_banner()
    assert live.banner.kind == SORTED
    window.session.save_now()
    stored = Project.open(window.session.project.root).settings["good_classes"]["check"]
    assert stored == {"sorting": True, "good": []}


def test_classes_named_like_good_parts_are_good_by_default():
    assert looks_good("ok") and looks_good("MT_Free") and looks_good("良品") and looks_good("Good part")
    assert not looks_good("scratch") and not looks_good("flange4") and not looks_good("broken")
    assert default_roles(["ok", "pit", "crack"]) == TaskRoles(False, frozenset({"ok"}))
    assert default_roles(["flange4", "washer"]).sorting


def test_the_active_task_is_marked_by_more_than_colour(window, qtbot, bundle):
    live = window.pages["live"]
    live.source_bar.set_spec(SourceSpec(FOLDER, str(bundle / "images" / "bad"), fps=30))
    assert not live.source_bar.start_button.isVisible()         # the camera is off: only Start inspection
    assert live.start()
    qtbot.waitUntil(lambda: bool(live.task_group.buttons()) and live.last_result is not None, timeout=30000)
    button = live.task_group.buttons()[0]
    assert button.isChecked() and button.text().startswith("✔ ") and button.objectName() == "taskButton"
    assert live.good_button.isVisible()
    live.stop()
    window.camera.stop()


def test_unsure_results_from_the_station_reach_the_banner(window, qtbot):
    live = window.pages["live"]
    live.task, live.classes = "check", ["ok", "bad"]
    live.last_result = dataclasses.replace(result_for(live, "ok", uncertain=True, confidence=0.51))
    live._show_banner()
    assert live.banner.kind == UNSURE and "51 %" in live.banner.detail_label.text()

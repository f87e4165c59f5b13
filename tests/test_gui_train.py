"""Train, cancel, evaluate, export and live in the app, on the tiny backbone."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

pytest.importorskip("PySide6")

from conftest import tiny_backbone_config  # noqa: E402
from gui_fixtures import quiet_app, silent_message_boxes  # noqa: E402,F401 - autouse / used below

pytestmark = pytest.mark.usefixtures("silent_message_boxes")
from gui.project import Project  # noqa: E402
from vpt_core.frames import FOLDER, SourceSpec  # noqa: E402
from vpt_engine import events as ev  # noqa: E402


@pytest.fixture
def window(qtbot, tmp_path, make_image_folder):
    from gui.app import build_window

    data = make_image_folder({"ok": 6, "bad": 6})
    project = Project.create(tmp_path / "project", "test", tiny_backbone_config().to_dict(), classes=["ok", "bad"])
    for name in ("ok", "bad"):
        shutil.copytree(data / name, project.class_dir(name), dirs_exist_ok=True)
    window = build_window("en")
    qtbot.addWidget(window)
    window.set_project(Project.open(project.root))
    window.show()
    yield window
    window.close_project()


def quick_settings(page, epochs=2, name="quick"):
    form = page.form
    form.auto_box.setChecked(False)
    form.epochs_spin.setValue(epochs)
    form.prompts_spin.setValue(4)
    form.name_edit.setText(name)


def train_once(qtbot, page, name, epochs=2):
    quick_settings(page, epochs, name)
    with qtbot.waitSignal(page.trainingFinished, timeout=60000) as finished:
        assert page.start()
    return finished.args[0]


def test_checks_in_plain_words_block_training_until_fixed(window, qtbot):
    page = window.pages["train"]
    assert page.start_button.isEnabled()
    window.pages["capture"].class_list.add_class("dent")           # a class without pictures
    assert not page.start_button.isEnabled() and not page.start()
    assert any("no pictures yet: dent" in line for line in page.checks.lines())
    window.session.undo_stack.undo()
    assert page.start_button.isEnabled()
    page.form.set_choice({"model": "file", "name": "vit_tiny_patch16_224",   # a model file that is not there
                          "weights": "/nowhere/vit.safetensors"})
    assert not page.start_button.isEnabled()
    assert any("Model file not found: /nowhere/vit.safetensors" in line for line in page.checks.lines())


def test_train_shows_progress_saves_a_task_pack_and_cancel_writes_nothing(window, qtbot):
    page = window.pages["train"]
    seen = []
    page_events = page._on_event

    def spy(event):
        seen.append(event)
        page_events(event)
    page._on_event = spy
    page.form.fit_box.setCurrentIndex(page.form.fit_box.findData("pad"))   # whole picture, borders added
    run = train_once(qtbot, page, "surface", epochs=3)
    assert run is not None and run.path.is_file() and run.path.parent == window.session.project.tasks_dir
    assert any(isinstance(e, ev.TrainStep) for e in seen) and any(isinstance(e, ev.EpochEnd) for e in seen)
    assert len(page.loss_chart.series["train"].points) == 3                    # one point per round
    assert page.runs.rowCount() == 1 and "surface" in page.runs.item(0, 0).text()
    assert "Saved as task “surface”" in page.result_label.text()
    from vpt_core.packformat import read_task_pack
    pack = read_task_pack(run.path)
    assert pack.classes == ["ok", "bad"] and pack.extra["app"]["settings"]["epochs"] == 3
    assert (pack.preprocess["crop_mode"], pack.preprocess["crop_pct"]) == ("border", 1.0)

    quick_settings(page, epochs=500, name="never")
    page.thread = None
    with qtbot.waitSignal(page.trainingFinished, timeout=60000) as finished:
        page.start()
        qtbot.waitUntil(lambda: page.progress.maximum() > 0 and page.phase == ev.Phase.TRAIN, timeout=30000)
        page.cancel()
    assert finished.args[0] is None
    assert "cancelled" in page.phase_label.text()
    assert [p.stem for p in window.session.project.task_paths()] == ["surface"]   # nothing half-written


def test_evaluate_shows_per_class_accuracy_and_cells_open_the_wrong_pictures(window, qtbot):
    train_once(qtbot, window.pages["train"], "surface")
    page = window.pages["evaluate"]
    page.refresh_tasks()
    with qtbot.waitSignal(page.evaluated, timeout=60000) as done:
        assert page.evaluate()
    outcome = done.args[0]
    assert outcome.report.total == 12 and page.per_class.rowCount() == 2
    assert page.confusion.item(0, 0).text() == str(outcome.report.confusion[0, 0])

    # Force one known mistake to check that a click opens exactly that picture.
    from vpt_core.metrics import classification_report
    labels = np.array([0] * 6 + [1] * 6)
    logits = np.eye(2)[labels] * 5
    logits[7] = [5, 0]                                           # picture 7 ("bad") taken for "ok"
    outcome.report = classification_report(["ok", "bad"], labels, logits)
    page.show_outcome(outcome)
    assert page.confusion.item(1, 0).text() == "1"
    page.confusion.cellClicked.emit(1, 0)
    assert page.viewer is not None and page.viewer.paths == [outcome.paths[7]]
    assert "taken for" in page.viewer.windowTitle()
    page.viewer.close()


def test_export_then_live_switches_tasks(window, qtbot, make_image_folder):
    pytest.importorskip("export.bundle_builder")
    pytest.importorskip("onnxruntime")
    train_once(qtbot, window.pages["train"], "first")
    train_once(qtbot, window.pages["train"], "second")
    export = window.pages["export"]
    export.refresh_tasks()
    export.set_checked(window.session.project.task_paths())
    with qtbot.waitSignal(export.exported, timeout=180000) as done:
        assert export.build()
    outcome = done.args[0]
    assert outcome is not None, export.status.text()
    assert outcome.bundle_dir.parent == window.session.project.exports_dir
    labels = [export.details.item(row, 0).text() for row in range(export.details.rowCount())]
    assert "Model, shared by all tasks" in labels and "Task “first”" in labels
    assert export.open_button.isEnabled()

    live = window.pages["live"]
    window.show_page("live")
    live.refresh_bundles()
    assert live.bundle_box.count() == 1
    window.camera.start(SourceSpec(FOLDER, str(make_image_folder({"cam": 3}) / "cam"), fps=30))
    assert live.start()
    qtbot.waitUntil(lambda: live.last_result is not None, timeout=30000)
    assert live.last_result.label in ("ok", "bad") and 0 <= live.last_result.confidence <= 1
    assert live.preview.verdict_shown() and live.last_result.label in live.banner.headline.text()
    other = "second" if live.last_result.task == "first" else "first"
    live.switch_task(other)
    qtbot.waitUntil(lambda: live.last_result is not None and live.last_result.task == other, timeout=15000)
    checked = [b.property("task") for b in live.task_group.buttons() if b.isChecked()]
    assert checked == [other]
    live.stop()
    window.camera.stop()


def test_one_progress_bar_for_the_whole_run_that_never_goes_back(window, qtbot):
    """Issue 11.8: the bar fell from 71 % back to 0 between phases; the time shown was per phase."""
    page = window.pages["train"]
    values, times = [], []
    page.progress.valueChanged.connect(values.append)
    show = page._show_progress

    def spy():
        show()
        times.append(page.eta_label.text())
    page._show_progress = spy
    quick_settings(page, epochs=3)
    with qtbot.waitSignal(page.trainingFinished, timeout=60000):
        assert page.start()
    assert values == sorted(values) and values[-1] == 1000           # monotone, and full at the end
    assert page.progress.maximum() == 1000
    assert any("so far" in text for text in times)
    assert page.phase_label.text().startswith("Done in ")


def test_run_progress_from_the_engine_is_preferred_and_never_goes_back():
    from gui.run_progress import LOADING_BACKBONE, RunProgressTracker

    now = [0.0]
    fallback = RunProgressTracker(automatic_choice=True, clock=lambda: now[0])   # an engine without RunProgress
    fallback.feed(ev.PhaseStarted("select", 10))
    fallback.feed(ev.Progress("select", 10, 10))
    after_choice = fallback.fraction
    fallback.feed(ev.PhaseStarted(ev.Phase.PROTOTYPES, 4))            # a later phase starts at zero itself...
    fallback.feed(ev.Progress(ev.Phase.PROTOTYPES, 0, 4))
    assert fallback.fraction >= after_choice > 0.5                     # ...the whole run does not
    now[0] = 30.0
    assert fallback.eta_seconds is not None and fallback.eta_seconds > 0

    tracker = RunProgressTracker(automatic_choice=True, clock=lambda: now[0])
    tracker.feed(ev.PhaseStarted(LOADING_BACKBONE, 0))                 # the app's own first steps
    tracker.feed(ev.Progress(ev.Phase.LOADING, 10, 10))
    base = tracker.fraction
    tracker.feed(ev.RunProgress(0.5, 30.0, 42.0, "train"))
    assert tracker.fraction == pytest.approx(base + (1 - base) * 0.5)
    assert (tracker.eta_seconds, tracker.from_engine) == (42.0, True)
    reached = tracker.fraction
    tracker.feed(ev.RunProgress(0.4, 31.0, 40.0, "check"))             # never back, even if told so
    tracker.feed(ev.TrainStep(1, 1, 1, 1, 0.1, 0.01, None))           # the engine's figure wins over steps
    assert tracker.fraction == reached


def test_notices_are_shown_in_the_operators_words():
    from gui.training_texts import notice_text

    keyed = ev.Notice("early stopping after epoch 7: ...", "early_stopping", (("epoch", 7),))
    assert notice_text(keyed) == "Stopped early after round 7: it was no longer getting better."
    legacy = ev.Notice("no validation split: too few images per class (need at least 2 in a class); ...")
    assert notice_text(legacy).startswith("Too few pictures to keep some aside")
    assert notice_text(ev.Notice("something new", "new_key")) == "something new"

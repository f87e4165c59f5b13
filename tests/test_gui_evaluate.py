"""One honest accuracy figure everywhere; Evaluate keeps new pictures apart from the ones a task trained on."""

from __future__ import annotations

import shutil

import pytest

pytest.importorskip("PySide6")

from conftest import tiny_backbone_config  # noqa: E402
from gui_fixtures import quiet_app, silent_message_boxes  # noqa: E402,F401 - autouse / used below

pytestmark = pytest.mark.usefixtures("silent_message_boxes")
from gui.accuracy import check_figure  # noqa: E402
from gui.project import Project  # noqa: E402
from vpt_core.packformat import read_task_pack  # noqa: E402


@pytest.fixture
def project(tmp_path, make_image_folder):
    data = make_image_folder({"ok": 5, "bad": 5})
    project = Project.create(tmp_path / "project", "test", tiny_backbone_config().to_dict(), classes=["ok", "bad"])
    for name in ("ok", "bad"):
        shutil.copytree(data / name, project.class_dir(name), dirs_exist_ok=True)
    return project


@pytest.fixture
def window(qtbot):
    from gui.app import build_window

    window = build_window("en")
    qtbot.addWidget(window)
    yield window
    window.close_project()


def train(window, qtbot, name):
    page = window.pages["train"]
    page.form.auto_box.setChecked(False)
    page.form.epochs_spin.setValue(2)
    page.form.prompts_spin.setValue(2)
    page.form.name_edit.setText(name)
    with qtbot.waitSignal(page.trainingFinished, timeout=60000) as finished:
        assert page.start()
    return finished.args[0]


def set_metrics(path, **metrics):
    pack = read_task_pack(path)
    pack.metrics.update(metrics)
    pack.save(path)


def test_pages_show_the_tasks_a_reopened_project_has(window, qtbot, project):
    """Issue 11.5: Evaluate and Export said "No task yet" on every project open although tasks existed."""
    window.set_project(project)
    train(window, qtbot, "first")
    window.close_project()
    assert window.open_project(project.root)
    evaluate, export = window.pages["evaluate"], window.pages["export"]
    assert evaluate.task_box.count() == 1 and "No task yet" not in evaluate.summary.text()
    assert "“first”" in evaluate.summary.text()
    assert "No task yet" not in export.status.text() and export.build_button.isEnabled()


def test_a_new_run_replaces_the_old_results_on_evaluate(window, qtbot, project):
    window.set_project(project)
    train(window, qtbot, "first")
    evaluate = window.pages["evaluate"]
    with qtbot.waitSignal(evaluate.evaluated, timeout=60000):
        assert evaluate.evaluate()
    assert evaluate.per_class.rowCount() == 2
    second = train(window, qtbot, "second")
    assert evaluate.task_box.currentData() == str(second.path)       # the new task is selected...
    assert evaluate.outcome is None and evaluate.per_class.rowCount() == 0   # ...and the old results are gone
    assert "“second”" in evaluate.summary.text()


def test_one_headline_accuracy_on_pictures_it_did_not_train_on(window, qtbot, project):
    """Issue 11.7: four different figures for one task; the headline must be the held-out one, with its count."""
    window.set_project(project)
    run = train(window, qtbot, "honest")
    set_metrics(run.path, check_accuracy=0.75, check_images=8, check_method="held-out", train_accuracy=1.0)
    train_page, evaluate, runs = window.pages["train"], window.pages["evaluate"], window.pages["train"].runs
    assert "Right on 75 % of 8 pictures it did not train on" in train_page.result_text(run)
    evaluate.refresh_tasks()
    assert evaluate.summary.text() == "“honest”: 75 % right on 8 pictures it did not train on"
    assert "On the pictures it trained on: 100 % (not a test" in evaluate.note.text()
    train_page.refresh_runs()
    headers = [runs.horizontalHeaderItem(c).text() for c in range(runs.columnCount())]
    row = [runs.item(0, c).text() for c in range(runs.columnCount())]
    assert row[headers.index("Right on unseen pictures")] == "75 % of 8"
    assert row[headers.index("On training pictures")] == "100 %"
    assert "deep" not in " ".join(row) and "mean_pool" not in " ".join(row)   # settings in plain words


def test_older_task_packs_are_read_defensively():
    assert check_figure({"val_accuracy": 0.5}, {"data": {"val_images": 4}}).images == 4
    assert check_figure({"val_accuracy": None}, {"data": {"val_images": 0}}) is None
    assert check_figure({"check_accuracy": "high"}) is None                  # a hand-edited pack
    figure = check_figure({"check_accuracy": 0.9, "check_images": 20, "check_method": "cross-validation"})
    assert (figure.accuracy, figure.images, figure.method) == (0.9, 20, "cross-validation")


def test_evaluate_tests_on_new_pictures_and_names_training_pictures_as_such(window, qtbot, project,
                                                                               make_image_folder):
    window.set_project(project)
    train(window, qtbot, "split")
    fresh = make_image_folder({"ok": 2}, seed=7)
    for path in sorted((fresh / "ok").iterdir()):
        shutil.copy(path, project.class_dir("ok") / f"new_{path.name}")   # taken after training
    evaluate = window.pages["evaluate"]
    with qtbot.waitSignal(evaluate.evaluated, timeout=60000):
        assert evaluate.evaluate()
    assert "New pictures, taken after training:" in evaluate.note.text() and "right on 2." in evaluate.note.text()
    items = [evaluate.group_box.itemText(i) for i in range(evaluate.group_box.count())]
    assert items == ["New pictures (2): a real test", "Pictures it trained on (10): not a test"]
    assert sum(int(evaluate.per_class.item(r, 1).text()) for r in range(2)) == 2   # the table shows the new ones
    assert "No new pictures of “bad” yet" in evaluate.note.text()     # the new ones cover "ok" only
    evaluate.group_box.setCurrentIndex(1)
    assert sum(int(evaluate.per_class.item(r, 1).text()) for r in range(2)) == 10


def test_evaluate_warns_about_classes_without_pictures(window, qtbot, project):
    window.set_project(project)
    train(window, qtbot, "warn")
    for path in project.image_paths("bad"):
        path.unlink()
    evaluate = window.pages["evaluate"]
    with qtbot.waitSignal(evaluate.evaluated, timeout=60000):
        assert evaluate.evaluate()
    assert "No pictures of “bad” in the project: these classes are not checked at all." in evaluate.note.text()

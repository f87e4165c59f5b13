"""The model chooser and the checks that cover the model: built in by default, downloads, model files."""

from __future__ import annotations

import shutil
import threading
import time

import pytest

pytest.importorskip("PySide6")
from gui_fixtures import quiet_app, silent_message_boxes  # noqa: E402,F401 - autouse / used below

pytestmark = pytest.mark.usefixtures("silent_message_boxes")
from gui.model_catalogue import (CATALOGUE, DOWNLOAD, catalogue_model, choice_for, default_backbone,  # noqa: E402
                                 resolve)
from gui.model_jobs import DownloadProgress, download_job  # noqa: E402
from gui.prechecks import can_train, training_checks  # noqa: E402
from gui.project import Project  # noqa: E402
from vpt_engine.embedded import DEFAULT_MODEL  # noqa: E402

DINO = catalogue_model("dinov2-small")


@pytest.fixture
def empty_hub_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    return tmp_path / "hub"


@pytest.fixture
def window(qtbot):
    from gui.app import build_window

    window = build_window("en")
    qtbot.addWidget(window)
    yield window
    window.close_project()


# -- the default and the checks --------------------------------------------------------------------
def test_a_new_folder_opened_with_vpt_gui_uses_the_built_in_model_and_trains(window, qtbot, tmp_path,
                                                                               make_image_folder):
    """Issue 11.2: `vpt gui NEWFOLDER` made a project without a model; training then failed with KeyError."""
    from gui.app import open_or_create

    assert open_or_create(window, tmp_path / "fresh")
    project = window.session.project
    assert project.backbone["model"] == DEFAULT_MODEL.key
    assert Project.open(project.root).backbone["model"] == DEFAULT_MODEL.key     # saved, not only shown
    page = window.pages["train"]
    assert "the built-in model is ready" in " ".join(page.checks.lines())
    data = make_image_folder({"ok": 2, "bad": 2})
    for name in ("ok", "bad"):
        window.pages["capture"].class_list.add_class(name)
        shutil.copytree(data / name, project.class_dir(name), dirs_exist_ok=True)
    page.refresh_checks()
    form = page.form
    form.auto_box.setChecked(False)
    form.epochs_spin.setValue(1)
    form.prompts_spin.setValue(2)
    with qtbot.waitSignal(page.trainingFinished, timeout=180000) as finished:
        assert page.start()
    run = finished.args[0]
    assert run is not None, page.result_label.text()
    from vpt_core.packformat import read_task_pack
    assert read_task_pack(run.path).backbone.timm_name == DEFAULT_MODEL.timm_name


def test_an_old_project_without_a_model_is_shown_the_built_in_one(window, tmp_path):
    project = Project.create(tmp_path / "old", classes=["ok", "bad"])     # backbone {} as older versions wrote
    window.set_project(project)
    form = window.pages["train"].form
    assert form.backbone_choice()["model"] == DEFAULT_MODEL.key
    assert resolve(form.backbone_choice())["weights"] == str(DEFAULT_MODEL.path)


def test_the_checks_cover_the_model():
    counts = {"ok": 6, "bad": 6}
    assert can_train(training_checks(counts, default_backbone()))
    nameless_file = {"model": "file", "name": "", "weights": None}
    checks = training_checks(counts, nameless_file)
    assert not can_train(checks) and any(c.key == "model_name" and not c.ok for c in checks)
    missing = {"model": "file", "name": "vit_tiny_patch16_224", "weights": "/nowhere/model.safetensors"}
    assert not can_train(training_checks(counts, missing))
    assert not can_train(training_checks(counts, default_backbone(), model_arguments_valid=False))


def test_a_recommended_model_must_be_downloaded_before_training(empty_hub_cache):
    checks = training_checks({"ok": 6, "bad": 6}, choice_for(DINO))
    assert not can_train(checks)
    assert [c.key for c in checks if not c.ok] == ["model_download"]


def test_no_classes_gives_one_clear_check_not_an_empty_list():
    keys = [c.key for c in training_checks({}, default_backbone())]
    assert "images" not in keys and "classes" in keys


def test_catalogue_names_real_timm_models_with_their_download_repositories():
    from timm.models import get_pretrained_cfg

    assert CATALOGUE[0].timm_name == DEFAULT_MODEL.timm_name
    for model in CATALOGUE:
        if model.source == DOWNLOAD:
            config = get_pretrained_cfg(model.timm_name)
            assert config is not None and config.hf_hub_id == model.hf_repo, model.key
            assert model.licence == "Apache-2.0"


# -- downloads ------------------------------------------------------------------------------------------
def fake_hub_download(chunks: int, gate: threading.Event | None = None, pause_s: float = 0.0):
    """Stands in for huggingface_hub.hf_hub_download: reports progress through tqdm_class like it does."""
    def download(repo, filename, tqdm_class, cache_dir=None):
        bar = tqdm_class(total=chunks * 1000)
        for _ in range(chunks):
            if gate is not None:
                gate.wait(5)
            time.sleep(pause_s)
            bar.update(1000)
        bar.close()
        return f"/cache/{repo}/{filename}"
    return download


def test_download_job_reports_progress_and_returns_the_cached_file():
    seen = []
    job = download_job(DINO, reachable=lambda: True, download=fake_hub_download(4))
    outcome = job(seen.append, threading.Event())
    assert str(outcome.path).endswith("model.safetensors") and not outcome.offline
    assert [e.done_bytes for e in seen if isinstance(e, DownloadProgress)] == [1000, 2000, 3000, 4000]


def test_download_job_stops_when_cancelled_and_says_when_offline():
    cancel = threading.Event()
    cancel.set()
    outcome = download_job(DINO, reachable=lambda: True, download=fake_hub_download(4))(lambda e: None, cancel)
    assert outcome.path is None and not outcome.offline
    outcome = download_job(DINO, reachable=lambda: False)(lambda e: None, threading.Event())
    assert outcome.offline and outcome.path is None


def test_chooser_offers_the_built_in_model_first_and_offline_keeps_it(qtbot, empty_hub_cache, monkeypatch):
    from gui.dialogs.model_dialog import ModelDialog

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    dialog = ModelDialog({})
    qtbot.addWidget(dialog)
    ok = dialog.box.button(dialog.box.StandardButton.Ok)
    assert dialog.selected_key() == DEFAULT_MODEL.key and ok.isEnabled()
    dialog.buttons["dinov2-small"].setChecked(True)
    assert not ok.isEnabled() and dialog.download_button.isVisibleTo(dialog)
    assert "88 MB" in dialog.download_button.text()
    assert dialog.download()
    qtbot.waitUntil(lambda: dialog.state == "idle", timeout=10000)
    assert "cannot reach the internet" in dialog.status.text()
    assert dialog.selected_key() == DEFAULT_MODEL.key and ok.isEnabled()


def test_chooser_download_shows_progress_and_cancel_stops_it(qtbot, empty_hub_cache, monkeypatch):
    import gui.dialogs.model_dialog as module

    gate = threading.Event()
    monkeypatch.setattr(module, "download_job", lambda model: download_job(
        model, reachable=lambda: True, download=fake_hub_download(200, gate, pause_s=0.05)))
    dialog = module.ModelDialog({})
    qtbot.addWidget(dialog)
    dialog.buttons["dinov2-small"].setChecked(True)
    assert dialog.download()
    assert dialog.stop_button.isVisibleTo(dialog) and dialog.progress.isVisibleTo(dialog)
    gate.set()
    qtbot.waitUntil(lambda: dialog.progress.maximum() == 1000 and dialog.progress.value() > 0, timeout=5000)
    dialog.stop_button.click()
    qtbot.waitUntil(lambda: dialog.state == "idle", timeout=10000)
    assert "cancelled" in dialog.status.text()


# -- model files -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_vit_state():
    import timm

    return {k: v.contiguous() for k, v in timm.create_model("vit_tiny_patch16_224", num_classes=0).state_dict().items()}


def test_a_model_file_is_checked_against_its_kind_when_chosen(qtbot, tmp_path, tiny_vit_state):
    from safetensors.torch import save_file

    from gui.dialogs.model_dialog import ModelDialog

    good = tmp_path / "tiny.safetensors"
    save_file(tiny_vit_state, str(good))
    broken = dict(tiny_vit_state)
    broken["blocks.0.mlp.fc1.weight"] = broken["blocks.0.mlp.fc1.weight"][:10]
    bad = tmp_path / "other.safetensors"
    save_file(broken, str(bad))
    garbage = tmp_path / "notes.bin"
    garbage.write_bytes(b"this is not a model")

    dialog = ModelDialog({})
    qtbot.addWidget(dialog)
    ok = dialog.box.button(dialog.box.StandardButton.Ok)
    dialog.buttons["file"].setChecked(True)
    assert not ok.isEnabled()                                   # no file yet
    for path in (bad, garbage):
        assert dialog.check_file(path)
        qtbot.waitUntil(lambda: dialog.state == "idle", timeout=60000)
        assert "does not fit" in dialog.status.text() and not ok.isEnabled()
        assert dialog.status.toolTip()                          # the detail, for an engineer
    assert dialog.check_file(good)
    qtbot.waitUntil(lambda: dialog.state == "idle", timeout=60000)
    assert ok.isEnabled() and "fits" in dialog.status.text()
    choice = dialog.choice()
    assert (choice["model"], choice["name"], choice["weights"]) == ("file", "vit_tiny_patch16_224", str(good))
    assert can_train(training_checks({"a": 5, "b": 5}, choice))

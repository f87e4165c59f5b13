"""``vpt gui --screenshot DIR``: drive a demo project through every page and save each page as a PNG.

Training is kept short (a few rounds); the pictures are for the README, not a
benchmark. ``DIR/screenshots.json`` records what happened (trained, exported,
a live result) and where the window was on its screen for every picture, so a
test can check that each page fitted the screen. ``VPT_SCREENSHOT_STEPS`` and
``VPT_SCREENSHOT_PER_CLASS`` make the run shorter (the real-window test).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from PySide6.QtWidgets import QApplication

from .i18n import LANGUAGES

SCREENSHOT_STEPS = int(os.environ.get("VPT_SCREENSHOT_STEPS", "6"))
PICTURES_PER_CLASS = int(os.environ.get("VPT_SCREENSHOT_PER_CLASS", "10"))
PAGE_ORDER = ("capture", "train", "evaluate", "export", "live")


def wait_until(predicate, timeout_s: float = 120.0) -> bool:
    """Keep the window working until ``predicate()`` is true (or time runs out)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        QApplication.processEvents()
        if predicate():
            return True
        time.sleep(0.01)
    return False


def render_pages(window, out_dir: Path, project_dir: Path) -> int:
    from .demo import prepare_demo

    out_dir.mkdir(parents=True, exist_ok=True)
    project, camera_folder = prepare_demo(project_dir, per_class=PICTURES_PER_CLASS)
    window.show()
    fit_to_screen(window)
    window.set_project(project)
    wait_until(lambda: False, 0.3)
    record = {"screen": _rect(window.screen().availableGeometry()), "after_open": _rect(window.frameGeometry()),
              "pages": []}
    window.start_demo_camera(camera_folder)
    record.update(prepare_pages(window))
    written = []
    original = window.languages.language
    for language in [original] + [code for code in LANGUAGES if code != original]:
        window.set_language(language)
        for number, key in enumerate(PAGE_ORDER, start=1):
            window.show_page(key)
            wait_until(lambda: False, 0.6)   # let the page lay out and the preview draw new frames
            path = out_dir / f"{number:02d}-{key}-{language}.png"
            window.grab().save(str(path))
            written.append(path)
            record["pages"].append({"file": path.name, "window": _rect(window.frameGeometry()),
                                    "minimum": [window.minimumSizeHint().width(), window.minimumSizeHint().height()]})
    window.set_language(original)
    (out_dir / "screenshots.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    window.camera.stop()
    window.close_project()
    for path in written:
        print(path)
    return 0


def fit_to_screen(window, wanted=(1360, 880)) -> None:
    """The README size where the screen allows it; never larger than the screen (1280 x 720 panel PCs)."""
    available = window.screen().availableGeometry()
    window.resize(min(wanted[0], available.width()), min(wanted[1], available.height()))
    wait_until(lambda: False, 0.3)


def _rect(rect) -> list[int]:
    return [rect.x(), rect.y(), rect.width(), rect.height()]


def prepare_pages(window) -> dict:
    """Fill each page with real content: a trained task, its evaluation, a bundle and live results."""
    pages = window.pages
    capture = pages["capture"]
    wait_until(lambda: capture.preview.frames_shown >= 5, 30)
    capture.class_list.select_class("scratch")
    wait_until(lambda: len(capture.model.cache) >= min(8, len(capture.model.paths)), 20)
    train = pages["train"]
    if not window.session.project.task_paths():
        train.form.steps_spin.setValue(SCREENSHOT_STEPS)
        train.form.auto_box.setChecked(False)
        train.form.name_edit.setText("surface-check")
        window.show_page("train")
        if train.start():
            wait_until(lambda: train.state == "idle", 600)
    runs = window.session.project.task_paths()
    if runs:
        train.refresh_runs()
        evaluate = pages["evaluate"]
        evaluate.refresh_tasks()
        if evaluate.evaluate():
            wait_until(lambda: evaluate.thread is None, 300)
        export = pages["export"]
        export.refresh_tasks()
        if export.build():
            wait_until(lambda: export.thread is None, 600)
        live = pages["live"]
        live.refresh_bundles()
        if export.outcome is not None and live.start(export.outcome.bundle_dir):
            wait_until(lambda: live.last_result is not None, 60)
    live = pages["live"]
    return {"trained": bool(window.session.project.task_paths()),
            "exported": pages["export"].outcome is not None,
            "live_result": live.last_result.label if live.last_result is not None else None}

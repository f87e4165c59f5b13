"""The app as a whole: damaged and unsaveable projects, languages, the crash handler, and where Qt may live."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from vpt_core.errors import VptError

pytest.importorskip("PySide6")
from gui_fixtures import quiet_app  # noqa: E402,F401 - autouse
from PySide6.QtCore import QCoreApplication, QTranslator  # noqa: E402

from conftest import REPO_ROOT, tiny_backbone_config  # noqa: E402
from gui.project import Project  # noqa: E402
from vpt_core.errors import DiskWriteError  # noqa: E402

TRANSLATIONS = REPO_ROOT / "resources" / "translations"


@pytest.fixture
def window(qtbot):
    from gui.app import build_window

    window = build_window("en")
    qtbot.addWidget(window)
    yield window
    window.close_project()
    window.languages.apply("en")


@pytest.fixture
def project(tmp_path):
    return Project.create(tmp_path / "project", "test", tiny_backbone_config().to_dict(), classes=["ok", "bad"])


# -- projects ---------------------------------------------------------------
def test_damaged_project_is_reported_not_overwritten_and_can_be_rebuilt(window, project, monkeypatch):
    damaged = b'{"format": "vpt-project", "classes": [oops'
    project.project_file.write_bytes(damaged)
    asked = []
    monkeypatch.setattr(window, "confirm_rebuild", lambda error: asked.append(error) or False)
    assert not window.open_project(project.root)
    assert "line 1" in str(asked[0]) and window.session is None
    assert project.project_file.read_bytes() == damaged                  # left exactly as it was

    monkeypatch.setattr(window, "confirm_rebuild", lambda error: True)
    assert window.open_project(project.root)
    assert sorted(window.session.project.class_names) == ["bad", "ok"]   # rebuilt from the folders
    kept = list(project.root.glob("project.damaged-*.json"))
    assert len(kept) == 1 and kept[0].read_bytes() == damaged


def test_a_failed_save_stays_visible_until_retry_succeeds(window, project, qtbot, monkeypatch):
    window.set_project(project)
    window.show()
    import gui.project as project_module

    real_write = project_module.atomic_write_json

    def disk_full(path, document):
        raise DiskWriteError(f"cannot write {path}: the disk is full")
    monkeypatch.setattr(project_module, "atomic_write_json", disk_full)
    window.pages["capture"].class_list.add_class("dent")
    qtbot.waitUntil(lambda: window.session.save_state == "failed", timeout=5000)
    banner = window.save_banner
    assert "the disk is full" in banner.label.text() and banner.retry_button.isVisible()
    qtbot.wait(600)                                                   # still failed later: not hidden
    assert banner.retry_button.isVisible()
    monkeypatch.setattr(project_module, "atomic_write_json", real_write)
    banner.retry_button.click()
    assert window.session.save_state == "saved" and not banner.retry_button.isVisible()
    assert "dent" in Project.open(project.root).class_names


def test_a_project_file_damaged_while_open_is_not_overwritten(window, project, qtbot):
    window.set_project(project)
    project.project_file.write_text("{ broken by another program")
    window.pages["capture"].class_list.add_class("dent")
    qtbot.waitUntil(lambda: window.session.save_state == "failed", timeout=5000)
    assert "damaged" in window.save_banner.label.text()
    assert project.project_file.read_text() == "{ broken by another program"


def test_new_folder_becomes_a_project_and_recent_list_remembers_it(window, tmp_path):
    from gui.app import open_or_create

    assert open_or_create(window, tmp_path / "fresh")
    assert (tmp_path / "fresh" / "project.json").is_file()
    window.close_project()
    assert [p.name for p in window.settings.recent_projects()] == ["fresh"]
    assert window.welcome.recent.count() == 1


# -- languages -----------------------------------------------------------------
def test_japanese_catalogue_loads_and_switches_the_window(window, project):
    translator = QTranslator()
    assert translator.load(str(TRANSLATIONS / "vpt_ja.qm"))
    assert translator.translate("MainWindow", "2  Train") == "2  学習"
    window.set_project(project)
    assert window.nav_buttons["train"].text() == "2  Train"
    window.set_language("ja")
    assert window.nav_buttons["train"].text() == "2  学習"
    assert window.pages["train"].start_button.text() == "学習を開始"
    assert window.file_menu.title() == "ファイル(&F)"
    assert window.settings.language == "ja"
    window.set_language("en")
    assert window.pages["train"].start_button.text() == "Start training"


def _messages(ts_path: Path):
    for context in ET.parse(ts_path).getroot().iter("context"):
        for message in context.iter("message"):
            yield context.findtext("name"), message.findtext("source"), message.find("translation")


def test_every_string_is_translated_and_keeps_its_placeholders():
    problems = []
    for context, source, translation in _messages(TRANSLATIONS / "vpt_ja.ts"):
        if translation.get("type") in ("unfinished", "obsolete", "vanished") or not translation.text:
            problems.append(f"{context}: untranslated {source!r}")
        elif sorted(re.findall(r"\{[^}]*\}", source)) != sorted(re.findall(r"\{[^}]*\}", translation.text)):
            problems.append(f"{context}: placeholders differ in {source!r}")
    assert not problems, "\n".join(problems)


def test_catalogue_matches_the_code_and_the_compiled_file(tmp_path):
    lupdate = shutil.which("pyside6-lupdate") or Path(sys.executable).parent / "pyside6-lupdate"
    lrelease = shutil.which("pyside6-lrelease") or Path(sys.executable).parent / "pyside6-lrelease"
    if not Path(lupdate).exists() or not Path(lrelease).exists():
        pytest.skip("pyside6-lupdate/lrelease not installed")
    fresh = tmp_path / "fresh.ts"
    sources = sorted(str(p) for p in (REPO_ROOT / "gui").rglob("*.py"))
    subprocess.run([str(lupdate), *sources, "-ts", str(fresh), "-silent"], check=True)
    in_code = {(c, s) for c, s, _ in _messages(fresh)}
    shipped = {(c, s) for c, s, _ in _messages(TRANSLATIONS / "vpt_ja.ts")}
    assert in_code == shipped, ("run python resources/translations/update_ja.py; differences: "
                                f"{sorted(in_code ^ shipped)[:5]}")
    compiled = tmp_path / "vpt_ja.qm"
    subprocess.run([str(lrelease), "-silent", str(TRANSLATIONS / "vpt_ja.ts"), "-qm", str(compiled)], check=True)
    assert compiled.read_bytes() == (TRANSLATIONS / "vpt_ja.qm").read_bytes()


def test_no_visible_text_bypasses_translation():
    """Widget texts in gui/ must come from tr()/translate(), not bare string literals."""
    setters = {"setText", "setWindowTitle", "setToolTip", "setPlaceholderText", "setTitle", "addItem",
               "setHorizontalHeaderLabels", "setSuffix", "showMessage"}
    offenders = []
    for path in (REPO_ROOT / "gui").rglob("*.py"):
        if path.name == "screenshots.py":   # fills in fields like an operator would: data, not interface text
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in setters:
                for argument in node.args[:1]:
                    if isinstance(argument, ast.Constant) and isinstance(argument.value, str) and \
                            re.search(r"[A-Za-z]{3}", argument.value):
                        offenders.append(f"{path.name}:{node.lineno} {argument.value!r}")
    assert not offenders, offenders


# -- crashes and boundaries ---------------------------------------------------------
def test_unexpected_errors_are_logged_with_details_and_shown_without_a_traceback(tmp_path):
    from gui import crash

    log_file = crash.setup_logging()
    try:
        raise ZeroDivisionError("division by zero in a widget")
    except ZeroDivisionError:
        crash.handle_exception(*sys.exc_info())
    for handler in __import__("logging").getLogger("vpt").handlers:
        handler.flush()
    logged = log_file.read_text(encoding="utf-8")
    assert "Traceback" in logged and "division by zero in a widget" in logged
    message = crash.friendly_message(ZeroDivisionError("division by zero"))
    assert "Traceback" not in message and str(log_file) in message and "keeps running" in message
    from vpt_core.errors import DatasetError
    assert crash.friendly_message(DatasetError("x.png: not a readable image")) == "x.png: not a readable image"
    logger = __import__("logging").getLogger("vpt")
    for handler in [h for h in logger.handlers if getattr(h, "_vpt_gui", False)]:
        logger.removeHandler(handler)
        handler.close()


def test_vpt_gui_command_line():
    from vpt_core.cli import build_parser

    args = build_parser().parse_args(["gui", "some/project", "--lang", "ja", "--screenshot", "out"])
    assert (args.project_dir, args.lang, args.screenshot, args.demo) == ("some/project", "ja", "out", False)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["gui", "--lang", "de"])
    assert QCoreApplication.translate("MainWindow", "Quit") in ("Quit", "終了")


def test_known_broken_qt_binding_is_refused_with_advice(monkeypatch):
    import PySide6

    from gui.qtcheck import check_qt_binding

    monkeypatch.setattr(PySide6, "__version_info__", (6, 12, 0, "", ""))
    monkeypatch.setattr(PySide6, "__version__", "6.12.0")
    monkeypatch.setattr(sys, "version_info", (3, 11, 7, "final", 0))
    with pytest.raises(VptError, match="PySide6-Essentials<6.12"):
        check_qt_binding()


def test_many_qt_calls_do_not_exhaust_none():
    """PySide6 6.12.0 on Python 3.11 drops a reference to None per void call and aborts; the pinned range must not."""
    code = ("import os, sys\nos.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
            "from PySide6.QtCore import QObject, Signal\n"
            "class Probe(QObject):\n    pinged = Signal()\n"
            "probe = Probe()\nbefore = sys.getrefcount(None), sys.getrefcount(True)\n"
            "for _ in range(300000):\n    probe.setObjectName('x')\n    probe.pinged.emit()\n"
            "lost = before[0] - sys.getrefcount(None), before[1] - sys.getrefcount(True)\n"
            "print('alive', max(lost) < 100)\n")
    # 300,000 calls take a 3.11 process with the broken binding past its references to True.
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)
    assert result.returncode == 0, result.stderr[-1000:]
    assert result.stdout.strip().endswith("alive True")

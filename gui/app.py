"""Start the app: QApplication, style, language, crash handler, main window, optional demo or screenshots."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from vpt_core.errors import VptError


def make_application():
    from .qtcheck import check_qt_binding
    from .system_libraries import check_window_libraries

    check_qt_binding()
    check_window_libraries()   # before Qt, which would abort with a message naming no package
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("vpt-gui")
    app.setOrganizationName("vpt-toolkit")
    app.setApplicationDisplayName("VPT Inspection")
    from .style import apply_style

    apply_style(app)
    return app


def build_window(language: str | None = None, settings=None):
    """The main window with its language applied (from the argument, the last choice, or the system)."""
    from .i18n import LanguageSwitcher, system_language
    from .main_window import MainWindow
    from .settings import AppSettings

    settings = settings or AppSettings()
    languages = LanguageSwitcher()
    languages.apply(language or settings.language or system_language())
    return MainWindow(settings, languages)


def open_or_create(window, folder: Path) -> bool:
    """An existing project opens; a missing or empty folder becomes a new project."""
    from .model_catalogue import default_backbone
    from .project import PROJECT_FILE, Project

    if (folder / PROJECT_FILE).exists() or (folder.exists() and any(folder.iterdir())):
        return window.open_project(folder)
    window.set_project(Project.create(folder, backbone=default_backbone()))
    return True


def run(project_dir: str | None = None, demo: bool = False, screenshot_dir: str | None = None,
        language: str | None = None) -> int:
    if screenshot_dir and not os.environ.get("QT_QPA_PLATFORM") and not os.environ.get("DISPLAY"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    app = make_application()
    if not screenshot_dir:
        from .jobs import import_engine_libraries

        import_engine_libraries()
    from . import crash

    crash.install()
    window = build_window(language)
    folder = Path(project_dir).expanduser() if project_dir else None
    if screenshot_dir:
        from .screenshots import render_pages

        with tempfile.TemporaryDirectory(prefix="vpt-screenshots-") as scratch:
            return render_pages(window, Path(screenshot_dir), folder or Path(scratch) / "demo")
    if demo:
        from .demo import default_demo_folder, prepare_demo

        project, camera_folder = prepare_demo(folder or default_demo_folder())
        window.set_project(project)
        window.start_demo_camera(camera_folder)
    elif folder is not None:
        try:
            open_or_create(window, folder)
        except VptError as error:
            window.show_error(str(error))
    window.show()
    return app.exec()

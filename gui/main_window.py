"""The main window: page buttons on the left, menus, save state; opens, creates and closes projects."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QStandardPaths, Qt
from PySide6.QtGui import QAction, QActionGroup, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (QButtonGroup, QFileDialog, QHBoxLayout, QMainWindow, QMessageBox, QStackedWidget,
                               QToolButton, QVBoxLayout, QWidget)

from vpt_core.errors import VptError

from . import crash
from .camera import CameraController
from .dialogs.about_dialog import AboutDialog
from .dialogs.guide_dialog import GuideDialog
from .dialogs.new_project_dialog import NewProjectDialog
from .i18n import LANGUAGES, LanguageSwitcher, Retranslating
from .open_folder import open_folder
from .pages.capture_page import CapturePage
from .pages.evaluate_page import EvaluatePage
from .pages.export_page import ExportPage
from .pages.live_page import LivePage
from .pages.train_page import TrainPage
from .pages.welcome_page import WelcomePage
from .project import DamagedProjectError, Project
from .session import FAILED, SAVED, ProjectSession
from .settings import AppSettings
from .undo_commands import retranslate_stack
from .widgets.save_banner import SaveBanner

PAGE_KEYS = ("capture", "train", "evaluate", "export", "live")


class MainWindow(Retranslating, QMainWindow):
    def __init__(self, settings: AppSettings, languages: LanguageSwitcher, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings, self.languages = settings, languages
        self.session: ProjectSession | None = None
        self.pages: dict[str, QWidget] = {}
        self.camera = CameraController(self)
        self.welcome = WelcomePage()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.welcome)
        self.nav_group = QButtonGroup(self, exclusive=True)
        self.nav_buttons: dict[str, QToolButton] = {}
        self.save_banner = SaveBanner()
        self._build()
        self._make_actions()
        self._make_menus()
        self.welcome.newRequested.connect(self.ask_new_project)
        self.welcome.openRequested.connect(self.ask_open_project)
        self.welcome.recentChosen.connect(self.open_project)
        self.welcome.demoRequested.connect(self.open_demo)
        self.save_banner.retryRequested.connect(lambda: self.session and self.session.save_now())
        self.statusBar().addPermanentWidget(self.save_banner, 1)
        self.fit_on_screen((1280, 860))
        self.retranslate()
        self._show_welcome()

    # -- layout ------------------------------------------------------------------
    def _build(self) -> None:
        nav = QWidget()
        nav_layout = QVBoxLayout(nav)
        for number, key in enumerate(PAGE_KEYS, start=1):
            button = QToolButton(objectName="nav", checkable=True)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setShortcut(QKeySequence(f"Alt+{number}"))
            button.clicked.connect(lambda _=False, page=key: self.show_page(page))
            self.nav_group.addButton(button)
            self.nav_buttons[key] = button
            nav_layout.addWidget(button)
        nav_layout.addStretch(1)
        self.nav = nav
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(nav)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

    def _make_actions(self) -> None:
        self.new_action = QAction(self, shortcut=QKeySequence.StandardKey.New, triggered=self.ask_new_project)
        self.open_action = QAction(self, shortcut=QKeySequence.StandardKey.Open, triggered=self.ask_open_project)
        self.close_action = QAction(self, triggered=self.close_project)
        self.trash_action = QAction(self, triggered=self.ask_empty_trash)
        self.quit_action = QAction(self, shortcut=QKeySequence.StandardKey.Quit, triggered=self.close)
        self.logs_action = QAction(self, triggered=lambda: open_folder(crash.log_folder(), self))
        self.guide_action = QAction(self, shortcut=QKeySequence.StandardKey.HelpContents,
                                    triggered=lambda: GuideDialog(self).exec())
        self.about_action = QAction(self, triggered=lambda: AboutDialog(self).exec())
        self.language_group = QActionGroup(self)
        self.language_actions = {}
        for code, name in LANGUAGES.items():
            action = QAction(name, self, checkable=True)
            action.triggered.connect(lambda _=False, language=code: self.set_language(language))
            self.language_group.addAction(action)
            self.language_actions[code] = action
        self.language_actions.get(self.languages.language, self.language_actions["en"]).setChecked(True)

    def _make_menus(self) -> None:
        bar = self.menuBar()
        self.file_menu = bar.addMenu("")
        self.recent_menu = self.file_menu.addMenu("")
        for action in (self.new_action, self.open_action):
            self.file_menu.insertAction(self.recent_menu.menuAction(), action)
        self.file_menu.addAction(self.close_action)
        self.file_menu.addSeparator()
        self.file_menu.addAction(self.trash_action)
        self.file_menu.addSeparator()
        self.file_menu.addAction(self.quit_action)
        self.file_menu.aboutToShow.connect(self._fill_recent_menu)
        self.edit_menu = bar.addMenu("")
        self.language_menu = bar.addMenu("")
        self.language_menu.addActions(list(self.language_actions.values()))
        self.help_menu = bar.addMenu("")
        self.help_menu.addActions([self.guide_action, self.about_action])
        self.help_menu.addSeparator()
        self.help_menu.addAction(self.logs_action)
        self.undo_action = self.redo_action = None

    def retranslate(self) -> None:
        project = self.session.project.name if self.session else None
        # The window system adds the application's name ("project — VPT Inspection"): name it in this language.
        QGuiApplication.setApplicationDisplayName(self.tr("VPT Inspection"))
        self.setWindowTitle(project or "")
        names = {"capture": self.tr("1  Capture"), "train": self.tr("2  Train"), "evaluate": self.tr("3  Evaluate"),
                 "export": self.tr("4  Export"), "live": self.tr("5  Live")}
        tips = {"capture": self.tr("Take and sort pictures (Alt+1)"), "train": self.tr("Teach a task (Alt+2)"),
                "evaluate": self.tr("See how well it works (Alt+3)"),
                "export": self.tr("Make a bundle for the station (Alt+4)"), "live": self.tr("Try it live (Alt+5)")}
        for key, button in self.nav_buttons.items():
            button.setText(names[key])
            button.setToolTip(tips[key])
        self.file_menu.setTitle(self.tr("&File"))
        self.recent_menu.setTitle(self.tr("Recent projects"))
        self.new_action.setText(self.tr("New project…"))
        self.open_action.setText(self.tr("Open project…"))
        self.close_action.setText(self.tr("Close project"))
        self.trash_action.setText(self.tr("Empty the project's trash…"))
        self.quit_action.setText(self.tr("Quit"))
        self.edit_menu.setTitle(self.tr("&Edit"))
        self.language_menu.setTitle(self.tr("&Language"))
        self.help_menu.setTitle(self.tr("&Help"))
        self.logs_action.setText(self.tr("Open the log folder"))
        self.guide_action.setText(self.tr("Operator guide"))
        self.about_action.setText(self.tr("About"))
        self._install_undo_actions()

    def fit_on_screen(self, wanted: tuple[int, int] | None = None) -> None:
        """Keep the whole window on its screen (a 1280 x 720 panel PC), at ``wanted`` size where it fits."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        available = screen.availableGeometry()
        width, height = wanted or (self.width(), self.height())
        # The frame (title bar, borders) is not part of the size: leave room for it.
        frame_w = max(0, self.frameGeometry().width() - self.width())
        frame_h = max(0, self.frameGeometry().height() - self.height())
        self.resize(min(width, available.width() - frame_w), min(height, available.height() - frame_h))
        frame = self.frameGeometry()
        x = min(max(frame.x(), available.left()), available.right() + 1 - frame.width())
        y = min(max(frame.y(), available.top()), available.bottom() + 1 - frame.height())
        if (x, y) != (frame.x(), frame.y()):
            self.move(max(x, available.left()), max(y, available.top()))

    # -- pages ---------------------------------------------------------------------
    def show_page(self, key: str) -> None:
        page = self.pages.get(key)
        if page is None:
            return
        self.stack.setCurrentWidget(page)
        self.nav_buttons[key].setChecked(True)
        page.setFocus()

    def current_page_key(self) -> str | None:
        for key, page in self.pages.items():
            if self.stack.currentWidget() is page:
                return key
        return None

    def _show_welcome(self) -> None:
        self.welcome.set_recent(self.settings.recent_projects())
        self.stack.setCurrentWidget(self.welcome)
        self.nav.setVisible(False)
        for action in (self.close_action, self.trash_action):
            action.setEnabled(False)

    # -- projects --------------------------------------------------------------------
    def open_project(self, folder: Path) -> bool:
        folder = Path(folder)
        try:
            project = Project.open(folder)
        except DamagedProjectError as error:
            if not self.confirm_rebuild(error):
                return False
            try:
                project = Project.rebuild(folder)
            except (VptError, OSError) as rebuild_error:
                self.show_error(str(rebuild_error))
                return False
        except VptError as error:
            self.show_error(str(error))
            return False
        self.set_project(project)
        return True

    def set_project(self, project: Project) -> None:
        self.close_project()
        self.session = ProjectSession(project, self)
        self.session.saveStateChanged.connect(self._save_state_changed)
        self.session.errorOccurred.connect(self.show_error)
        self.pages = {"capture": CapturePage(self.session, self.camera), "train": TrainPage(self.session),
                      "evaluate": EvaluatePage(self.session), "export": ExportPage(self.session),
                      "live": LivePage(self.session, self.camera)}
        for page in self.pages.values():
            self.stack.addWidget(page)
            if hasattr(page, "message"):
                page.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.pages["train"].trainingFinished.connect(
            lambda run: run and self.pages["evaluate"].select_task(run.path))
        self._install_undo_actions()
        self.nav.setVisible(True)
        for action in (self.close_action, self.trash_action):
            action.setEnabled(True)
        self.settings.add_recent(project.root)
        self.save_banner.set_state("saved", "")
        self.show_page("capture")
        self.retranslate()
        self.fit_on_screen()   # new pages must not push the window past the screen edge

    def close_project(self) -> bool:
        """Close the open project; False (and nothing changed) when the user keeps it open."""
        if self.session is None:
            return True
        if not self.stop_running_work():
            return False
        self.session.writer.wait_idle()
        if self.session.save_state != SAVED and not self.session.save_now() and \
                not self.confirm_discard(self.session.save_error):
            return False
        self.camera.stop()
        for page in self.pages.values():
            if hasattr(page, "shutdown"):
                page.shutdown()
        self.session.close()
        for page in self.pages.values():
            self.stack.removeWidget(page)
            page.deleteLater()
        self.pages = {}
        self.session.deleteLater()
        self.session = None
        self._show_welcome()
        self.retranslate()
        return True

    def running_work(self) -> list[str]:
        """Long jobs that closing would cut short: "training", "export"."""
        work = []
        if self.pages and self.pages["train"].state != "idle":
            work.append("training")
        if self.pages and self.pages["export"].thread is not None:
            work.append("export")
        return work

    def stop_running_work(self) -> bool:
        """Ask before cutting a training run or an export short; cancel them cleanly if confirmed."""
        work = self.running_work()
        if not work:
            return True
        if not self.confirm_stop_work(work):
            return False
        self.pages["train"].shutdown()      # cancels and waits: nothing half-written is left
        self.pages["export"].shutdown()
        return True

    def confirm_stop_work(self, work: list[str]) -> bool:
        if os.environ.get("VPT_GUI_NO_DIALOGS"):   # nobody to ask (tests, screenshots): stop cleanly
            return True
        lines = []
        if "training" in work:
            lines.append(self.tr("A task is still being trained. Stopping now loses this run; tasks trained "
                                 "earlier are kept."))
        if "export" in work:
            lines.append(self.tr("A bundle is still being built. Stopping now leaves no bundle; nothing else "
                                 "changes."))
        box = QMessageBox(QMessageBox.Icon.Question, self.tr("Stop and close?"), "\n\n".join(lines),
                          QMessageBox.StandardButton.NoButton, self)
        stop = box.addButton(self.tr("Stop and close"), QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton(self.tr("Keep working"), QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.exec()
        return box.clickedButton() is stop

    def ask_new_project(self) -> None:
        documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        dialog = NewProjectDialog(Path(documents or Path.home()), self)
        if dialog.exec() and dialog.name_edit.text().strip():
            try:
                self.set_project(Project.create(dialog.project_folder(), dialog.name_edit.text().strip(),
                                                dialog.backbone()))
            except VptError as error:
                self.show_error(str(error))

    def ask_open_project(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Open a project folder"))
        if folder:
            self.open_project(Path(folder))

    def open_demo(self) -> None:
        from .demo import default_demo_folder, prepare_demo

        self.statusBar().showMessage(self.tr("Preparing the demo project…"))
        try:
            project, camera_folder = prepare_demo(default_demo_folder())
        except VptError as error:
            self.show_error(str(error))
            return
        self.set_project(project)
        self.start_demo_camera(camera_folder)

    def start_demo_camera(self, folder: Path) -> None:
        from vpt_core.frames import FOLDER, SourceSpec

        spec = SourceSpec(FOLDER, str(folder), fps=15)
        self.pages["capture"].source_bar.set_spec(spec)
        self.pages["capture"].start_source(spec)

    def ask_empty_trash(self) -> None:
        if self.session and QMessageBox.question(
                self, self.tr("Empty trash"),
                self.tr("Delete the pictures and classes in the project's trash for good? This cannot be undone.")
        ) == QMessageBox.StandardButton.Yes:
            self.session.project.empty_trash()
            self.session.undo_stack.clear()   # undo would need the trashed files

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for folder in self.settings.recent_projects():
            action = self.recent_menu.addAction(f"{folder.name}   ({folder})")
            action.triggered.connect(lambda _=False, path=folder: self.open_project(path))
        self.recent_menu.setEnabled(bool(self.recent_menu.actions()))

    # -- feedback --------------------------------------------------------------------
    def _save_state_changed(self, state: str, error: str) -> None:
        self.save_banner.set_state(state, error)
        if state == FAILED:
            self.statusBar().showMessage(error)

    def _install_undo_actions(self) -> None:
        """Undo/Redo actions named in the current language (the stack adds each edit's own text)."""
        self.edit_menu.clear()   # also deletes the previous actions: the menu owns them
        if self.session is None:
            self.undo_action = self.redo_action = None
            return
        stack = self.session.undo_stack
        retranslate_stack(stack)
        self.undo_action = stack.createUndoAction(self.edit_menu, self.tr("Undo"))
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.redo_action = stack.createRedoAction(self.edit_menu, self.tr("Redo"))
        self.redo_action.setShortcuts([QKeySequence.StandardKey.Redo, QKeySequence("Ctrl+Shift+Z")])
        self.edit_menu.addActions([self.undo_action, self.redo_action])

    def show_error(self, text: str) -> None:
        """A plain, non-blocking message (never a stack trace)."""
        self.statusBar().showMessage(text, 15000)
        if os.environ.get("VPT_GUI_NO_DIALOGS"):
            return
        box = QMessageBox(QMessageBox.Icon.Warning, self.tr("Problem"), text, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def confirm_rebuild(self, error: DamagedProjectError) -> bool:
        box = QMessageBox(QMessageBox.Icon.Warning, self.tr("Damaged project file"), self.tr(
            "The project file {path} cannot be read ({detail}).\n\nIt has not been changed. You can repair it "
            "from a backup, or rebuild the project from its picture folders: the damaged file is kept as "
            "project.damaged-….json and class colours and settings start fresh.").format(
            path=error.path, detail=error.detail), QMessageBox.StandardButton.Cancel, self)
        rebuild = box.addButton(self.tr("Rebuild from picture folders"), QMessageBox.ButtonRole.AcceptRole)
        box.exec()
        return box.clickedButton() is rebuild

    def confirm_discard(self, error: str) -> bool:
        if os.environ.get("VPT_GUI_NO_DIALOGS"):   # nobody to ask (tests, screenshots): pictures are safe anyway
            return True
        return QMessageBox.question(self, self.tr("Not saved"), self.tr(
            "The project could not be saved: {error}\n\nClose anyway? Pictures and tasks are already on disk; "
            "only class order, colours and settings would be lost.").format(error=error)
        ) == QMessageBox.StandardButton.Yes

    def set_language(self, language: str) -> None:
        if not self.languages.apply(language):
            self.show_error(self.tr("The translation for {language} is missing; using English.").format(
                language=LANGUAGES.get(language, language)))
        self.settings.language = self.languages.language
        self.language_actions[self.languages.language].setChecked(True)
        # Qt posts LanguageChange to each window; deliver it now so the switch is immediate.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LanguageChange)

    def closeEvent(self, event) -> None:  # noqa: N802
        if self.close_project():
            self.settings.sync()
            event.accept()
        else:
            event.ignore()

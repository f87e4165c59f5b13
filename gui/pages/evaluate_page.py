"""Evaluate: one honest figure per task, then how it does on the project's pictures, new ones apart from seen ones.

The headline is always the task's accuracy on pictures it did not train on (as
its task pack records it). Checking on the project's pictures splits them into
pictures taken after training (a real test) and pictures it trained on (shown,
but never called a test), and warns about classes with no pictures to check.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QHeaderView, QLabel, QProgressBar, QPushButton, QSplitter,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from vpt_core.errors import VptError
from vpt_core.packformat import read_task_pack
from vpt_engine import events as ev

from ..accuracy import (check_figure, classes_without_pictures, split_seen, subset_report, training_accuracy,
                        training_file_names)
from ..dialogs.image_viewer import ImageViewer
from ..i18n import Retranslating, set_text
from ..jobs import EvaluationOutcome, evaluation_job
from ..session import ProjectSession
from ..widgets.confusion_view import ConfusionView
from ..workers import start_job

NEW, SEEN = "new", "seen"


class EvaluatePage(Retranslating, QWidget):
    evaluated = Signal(object)     # EvaluationOutcome or None
    message = Signal(str)

    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.thread = None
        self.outcome: EvaluationOutcome | None = None
        self.groups: dict[str, list[int]] = {NEW: [], SEEN: []}
        self.viewer: ImageViewer | None = None
        self.title = QLabel(objectName="pageTitle")
        self.task_label = QLabel()
        self.task_box = QComboBox()
        self.run_button = QPushButton(objectName="primary")
        self.progress = QProgressBar(visible=False)
        self.summary = QLabel(objectName="bigResult", wordWrap=True)
        self.note = QLabel(objectName="hint", wordWrap=True)
        self.group_box = QComboBox(visible=False)
        self.per_class = QTableWidget(0, 3)
        self.per_class.verticalHeader().setVisible(False)
        self.per_class.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.per_class.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.confusion = ConfusionView()
        self.confusion_title = QLabel(wordWrap=True)
        self._build()
        self.run_button.clicked.connect(self.evaluate)
        self.confusion.cellOpened.connect(self.open_cell)
        self.task_box.currentIndexChanged.connect(self._task_changed)
        self.group_box.currentIndexChanged.connect(lambda _: self._show_group())
        session.tasksChanged.connect(self.refresh_tasks)
        self.refresh_tasks()
        self.retranslate()

    def _build(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.task_label)
        top.addWidget(self.task_box, 1)
        top.addWidget(self.run_button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(self.group_box)
        left_layout.addWidget(self.per_class, 1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(self.confusion_title)
        right_layout.addWidget(self.confusion, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(top)
        layout.addWidget(self.progress)
        layout.addWidget(self.summary)
        layout.addWidget(self.note)
        layout.addWidget(splitter, 1)

    def retranslate(self) -> None:
        self.title.setText(self.tr("Evaluate a task"))
        self.task_label.setText(self.tr("Task:"))
        self.run_button.setText(self.tr("Check on the project's pictures"))
        self.per_class.setHorizontalHeaderLabels([self.tr("Class"), self.tr("Pictures"), self.tr("Recognised")])
        self.confusion_title.setText(self.tr("What the task said for each class (click a red cell to see the "
                                             "pictures it got wrong)"))
        self._fill_group_box()
        self.show_state()

    # -- tasks --------------------------------------------------------------
    def refresh_tasks(self) -> None:
        current = self.task_box.currentData()
        self.task_box.blockSignals(True)
        self.task_box.clear()
        for path in reversed(self.session.project.task_paths()):   # newest first
            self.task_box.addItem(path.stem, str(path))
        if current is not None and self.task_box.findData(current) >= 0:
            self.task_box.setCurrentIndex(self.task_box.findData(current))
        self.task_box.blockSignals(False)
        self._task_changed()

    def select_task(self, path: Path) -> None:
        index = self.task_box.findData(str(path))
        if index >= 0:
            self.task_box.setCurrentIndex(index)

    def _task_changed(self) -> None:
        """Results on screen always belong to the task in the menu."""
        if self.outcome is not None and str(self.outcome.task_path) != self.task_box.currentData():
            self.outcome = None
            self.groups = {NEW: [], SEEN: []}
            self._fill_group_box()
        self.run_button.setEnabled(self.task_box.count() > 0 and self.thread is None)
        self.show_state()

    def current_pack(self):
        path = self.task_box.currentData()
        if path is None:
            return None
        try:
            return read_task_pack(Path(path))
        except VptError:
            return None

    # -- what is shown ---------------------------------------------------------
    def show_state(self) -> None:
        if self.thread is not None:
            return
        if not self.task_box.count():
            set_text(self.summary, lambda: self.tr("No task yet: train one on the Train page."))
            set_text(self.note, lambda: "")
        else:
            set_text(self.summary, self.headline_text)
            set_text(self.note, self.note_text)
        self._show_group()

    def headline_text(self) -> str:
        pack = self.current_pack()
        if pack is None:
            return self.tr("This task file cannot be read.")
        figure = check_figure(pack.metrics, pack.training)
        name = self.task_box.currentText()
        if figure is None:
            return self.tr("“{task}”: not checked on pictures it did not train on (too few pictures per class)."
                           ).format(task=name)
        if figure.images is None:
            return self.tr("“{task}”: {accuracy:.0f} % right on pictures it did not train on").format(
                task=name, accuracy=100 * figure.accuracy)
        return self.tr("“{task}”: {accuracy:.0f} % right on {count} pictures it did not train on").format(
            task=name, accuracy=100 * figure.accuracy, count=figure.images)

    def note_text(self) -> str:
        pack = self.current_pack()
        lines = []
        if pack is not None:
            figure = check_figure(pack.metrics, pack.training)
            if figure is not None and figure.method == "cross-validation":
                lines.append(self.tr("Measured by training again without each group of pictures in turn."))
            trained = training_accuracy(pack.metrics)
            if trained is not None:
                lines.append(self.tr("On the pictures it trained on: {accuracy:.0f} % (not a test: it has seen "
                                     "them).").format(accuracy=100 * trained))
        lines += self.outcome_lines()
        if self.outcome is None and pack is not None:
            lines.append(self.tr("Press “Check on the project's pictures” to test it on pictures taken after "
                                 "training."))
        return "\n".join(lines)

    def outcome_lines(self) -> list[str]:
        outcome = self.outcome
        if outcome is None:
            return []
        lines = []
        new = self.groups[NEW]
        if new:
            report = subset_report(outcome.report, new)
            lines.append(self.tr("New pictures, taken after training: {accuracy:.0f} % right on {count}.").format(
                accuracy=100 * report.accuracy, count=report.total))
            untested = [name for name in classes_without_pictures(report)
                        if name not in classes_without_pictures(outcome.report)]
            if untested:
                lines.append(self.tr("No new pictures of {classes} yet: that figure does not cover them.").format(
                    classes=", ".join(f"“{name}”" for name in untested)))
        else:
            lines.append(self.tr("No new pictures since this task was trained: capture new parts to test it."))
        empty = classes_without_pictures(outcome.report)
        if empty:
            lines.append(self.tr("No pictures of {classes} in the project: these classes are not checked at all."
                                 ).format(classes=", ".join(f"“{name}”" for name in empty)))
        if outcome.ignored_classes:
            lines.append(self.tr("Not part of this task (left out): {classes}.").format(
                classes=", ".join(outcome.ignored_classes)))
        if outcome.skipped:
            lines.append(self.tr("{count} unreadable picture(s) left out.").format(count=len(outcome.skipped)))
        return lines

    def _show_group(self) -> None:
        """The table and matrix for new pictures, or for the pictures it trained on (named as such)."""
        outcome = self.outcome
        self.group_box.setVisible(outcome is not None)
        if outcome is None:
            self.per_class.setRowCount(0)
            self.confusion.set_matrix([], self.confusion.confusion[:0, :0])
            return
        key = self.group_box.currentData() or (NEW if self.groups[NEW] else SEEN)
        report = subset_report(outcome.report, self.groups[key])
        support = report.confusion.sum(axis=1)
        self.per_class.setRowCount(len(report.classes))
        for row, (name, value) in enumerate(report.per_class_accuracy.items()):
            cells = [name, str(int(support[row])), "–" if value is None else f"{100 * value:.0f} %"]
            for column, text in enumerate(cells):
                self.per_class.setItem(row, column, QTableWidgetItem(text))
        self.confusion.set_matrix(report.classes, report.confusion)

    def _fill_group_box(self) -> None:
        current = self.group_box.currentData()
        self.group_box.blockSignals(True)
        self.group_box.clear()
        if self.groups[NEW]:
            self.group_box.addItem(self.tr("New pictures ({count}): a real test").format(
                count=len(self.groups[NEW])), NEW)
        if self.groups[SEEN]:
            self.group_box.addItem(self.tr("Pictures it trained on ({count}): not a test").format(
                count=len(self.groups[SEEN])), SEEN)
        if current is not None and self.group_box.findData(current) >= 0:
            self.group_box.setCurrentIndex(self.group_box.findData(current))
        self.group_box.blockSignals(False)

    # -- checking ----------------------------------------------------------------
    def evaluate(self) -> bool:
        path = self.task_box.currentData()
        if path is None or self.thread is not None:
            return False
        project = self.session.project
        self.outcome = None
        self.run_button.setEnabled(False)
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        set_text(self.summary, lambda: self.tr("Checking…"))
        set_text(self.note, lambda: "")
        self.thread = start_job(evaluation_job(Path(path), project.images_dir, project.class_names),
                                self._on_event, self._on_success, self._on_failure, self)
        return True

    def _on_event(self, event) -> None:
        if isinstance(event, ev.Progress):
            self.progress.setRange(0, max(1, event.total))
            self.progress.setValue(event.done)

    def _done(self) -> None:
        self.thread = None
        self.progress.setVisible(False)
        self.run_button.setEnabled(self.task_box.count() > 0)

    def _on_success(self, outcome: EvaluationOutcome | None) -> None:
        self._done()
        if outcome is not None and str(outcome.task_path) == self.task_box.currentData():
            self.show_outcome(outcome)
        else:
            self.show_state()
        self.evaluated.emit(outcome)

    def show_outcome(self, outcome: EvaluationOutcome) -> None:
        self.outcome = outcome
        pack = read_task_pack(outcome.task_path)
        new, seen = split_seen(outcome.paths, training_file_names(pack.extra))
        self.groups = {NEW: new, SEEN: seen}
        self._fill_group_box()
        self.show_state()

    def _on_failure(self, text: str) -> None:
        self._done()
        set_text(self.summary, lambda: self.tr("The check could not run."))
        self.note.setText(text)
        self.message.emit(text)
        self.evaluated.emit(None)

    # -- wrong pictures ------------------------------------------------------------
    def shown_indices(self) -> list[int]:
        key = self.group_box.currentData() or (NEW if self.groups[NEW] else SEEN)
        return self.groups[key]

    def misclassified_paths(self, truth: int, guess: int) -> list[Path]:
        if self.outcome is None:
            return []
        shown = self.shown_indices()
        cells = subset_report(self.outcome.report, shown).misclassified()
        return [self.outcome.paths[shown[i]] for i in cells.get((truth, guess), [])]

    def open_cell(self, truth: int, guess: int) -> None:
        paths = self.misclassified_paths(truth, guess)
        if not paths:
            return
        shown = self.shown_indices()
        report = subset_report(self.outcome.report, shown)
        indices = report.misclassified()[(truth, guess)]
        captions = [self.tr("is “{truth}”, task said “{guess}” ({confidence:.0f} % sure)").format(
            truth=report.classes[truth], guess=report.classes[guess], confidence=100 * report.confidences[i])
            for i in indices]
        self.viewer = ImageViewer(paths, 0, captions, self)
        self.viewer.setWindowTitle(self.tr("Pictures of “{truth}” taken for “{guess}”").format(
            truth=report.classes[truth], guess=report.classes[guess]))
        self.viewer.show()

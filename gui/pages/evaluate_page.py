"""Evaluate: how well a task recognises each class, and which pictures it gets wrong."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QHeaderView, QLabel, QProgressBar, QPushButton,
                               QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from vpt_engine import events as ev

from ..dialogs.image_viewer import ImageViewer
from ..i18n import Retranslating, set_text
from ..jobs import EvaluationOutcome, evaluation_job
from ..session import ProjectSession
from ..widgets.confusion_view import ConfusionView
from ..workers import start_job


class EvaluatePage(Retranslating, QWidget):
    evaluated = Signal(object)     # EvaluationOutcome or None
    message = Signal(str)

    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.thread = None
        self.outcome: EvaluationOutcome | None = None
        self.viewer: ImageViewer | None = None
        self.title = QLabel(objectName="pageTitle")
        self.task_label = QLabel()
        self.task_box = QComboBox()
        self.run_button = QPushButton(objectName="primary")
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.summary = QLabel(objectName="bigResult")
        self.note = QLabel(objectName="hint")
        self.note.setWordWrap(True)
        self.per_class = QTableWidget(0, 3)
        self.per_class.verticalHeader().setVisible(False)
        self.per_class.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.per_class.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.confusion = ConfusionView()
        self.confusion_title = QLabel()
        self._build()
        self.run_button.clicked.connect(self.evaluate)
        self.confusion.cellOpened.connect(self.open_cell)
        session.tasksChanged.connect(self.refresh_tasks)
        self.retranslate()
        self.refresh_tasks()

    def _build(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.task_label)
        top.addWidget(self.task_box, 1)
        top.addWidget(self.run_button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(self.summary)
        left_layout.addWidget(self.note)
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
        layout.addWidget(splitter, 1)

    def retranslate(self) -> None:
        self.title.setText(self.tr("Evaluate a task"))
        self.task_label.setText(self.tr("Task:"))
        self.run_button.setText(self.tr("Check the task on the project's pictures"))
        self.per_class.setHorizontalHeaderLabels([self.tr("Class"), self.tr("Pictures"), self.tr("Recognised")])
        self.confusion_title.setText(self.tr("What the task said for each class (click a red cell to see the "
                                             "pictures it got wrong)"))
        if self.outcome is not None:
            self.show_outcome(self.outcome)
        elif not self.task_box.count():
            set_text(self.summary, lambda: self.tr("No task yet: train one on the Train page."))

    def refresh_tasks(self) -> None:
        current = self.task_box.currentData()
        self.task_box.clear()
        for path in reversed(self.session.project.task_paths()):   # newest first
            self.task_box.addItem(path.stem, str(path))
        if current is not None:
            self.task_box.setCurrentIndex(max(0, self.task_box.findData(current)))
        self.run_button.setEnabled(self.task_box.count() > 0 and self.thread is None)
        if not self.task_box.count():
            set_text(self.summary, lambda: self.tr("No task yet: train one on the Train page."))

    def select_task(self, path: Path) -> None:
        self.task_box.setCurrentIndex(max(0, self.task_box.findData(str(path))))

    def evaluate(self) -> bool:
        path = self.task_box.currentData()
        if path is None or self.thread is not None:
            return False
        project = self.session.project
        self.run_button.setEnabled(False)
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        set_text(self.summary, lambda: self.tr("Checking…"))
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
        self.outcome = outcome
        if outcome is not None:
            self.show_outcome(outcome)
        self.evaluated.emit(outcome)

    def _on_failure(self, text: str) -> None:
        self._done()
        set_text(self.summary, lambda: self.tr("The check could not run."))
        self.note.setText(text)
        self.message.emit(text)
        self.evaluated.emit(None)

    def show_outcome(self, outcome: EvaluationOutcome) -> None:
        report = outcome.report
        set_text(self.summary, lambda: self.tr("“{task}”: {accuracy:.1f} % right on {count} pictures").format(
            task=outcome.task_path.stem, accuracy=100 * report.accuracy, count=report.total))
        notes = [self.tr("These are the project's own pictures, most of them used for training: new pictures "
                         "may score lower. Keep capturing new parts and check again.")]
        if outcome.ignored_classes:
            notes.append(self.tr("Not part of this task (left out): {classes}.").format(
                classes=", ".join(outcome.ignored_classes)))
        if outcome.skipped:
            notes.append(self.tr("{count} unreadable picture(s) left out.").format(count=len(outcome.skipped)))
        set_text(self.note, lambda: "\n".join(notes))
        support = report.confusion.sum(axis=1)
        self.per_class.setRowCount(len(report.classes))
        for row, (name, value) in enumerate(report.per_class_accuracy.items()):
            cells = [name, str(int(support[row])), "–" if value is None else f"{100 * value:.1f} %"]
            for column, text in enumerate(cells):
                self.per_class.setItem(row, column, QTableWidgetItem(text))
        self.confusion.set_matrix(report.classes, report.confusion)

    def misclassified_paths(self, truth: int, guess: int) -> list[Path]:
        if self.outcome is None:
            return []
        indices = self.outcome.report.misclassified().get((truth, guess), [])
        return [self.outcome.paths[i] for i in indices]

    def open_cell(self, truth: int, guess: int) -> None:
        paths = self.misclassified_paths(truth, guess)
        if not paths:
            return
        report = self.outcome.report
        indices = report.misclassified()[(truth, guess)]
        captions = [self.tr("is “{truth}”, task said “{guess}” ({confidence:.0f} % sure)").format(
            truth=report.classes[truth], guess=report.classes[guess], confidence=100 * report.confidences[i])
            for i in indices]
        self.viewer = ImageViewer(paths, 0, captions, self)
        self.viewer.setWindowTitle(self.tr("Pictures of “{truth}” taken for “{guess}”").format(
            truth=report.classes[truth], guess=report.classes[guess]))
        self.viewer.show()

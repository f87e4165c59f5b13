"""Train: settings with good defaults, checks in plain words, progress with a live chart, Cancel, earlier runs."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QListWidget, QProgressBar, QPushButton, QScrollArea,
                               QSplitter, QVBoxLayout, QWidget)

from vpt_core.errors import VptError
from vpt_core.packformat import read_task_pack
from vpt_engine import events as ev

from ..accuracy import check_figure
from ..i18n import Retranslating, set_text
from ..jobs import TrainedRun, TrainRequest, training_job
from ..prechecks import can_train, training_checks
from ..run_progress import RunProgressTracker
from ..session import ProjectSession
from ..training_texts import duration_text, notice_text, phase_text, time_line
from ..widgets.chart import LineChart
from ..widgets.precheck_list import PreCheckList
from ..widgets.runs_table import RunsTable, RunSummary
from ..widgets.train_settings import TrainSettingsForm
from ..workers import start_job

IDLE, RUNNING, CANCELLING = "idle", "running", "cancelling"


class TrainPage(Retranslating, QWidget):
    trainingFinished = Signal(object)     # TrainedRun, or None when cancelled or failed
    message = Signal(str)

    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.state = IDLE
        self.thread = None
        self.phase = ""
        self.last_run: TrainedRun | None = None
        self.events_seen = 0
        self.notice_events: list = []
        self.tracker = RunProgressTracker()
        self.clock_timer = QTimer(self, interval=1000)     # time so far keeps counting between events
        self.clock_timer.timeout.connect(self._show_progress)
        self.title = QLabel(objectName="pageTitle")
        self.form = TrainSettingsForm()
        self.checks = PreCheckList()
        self.start_button = QPushButton(objectName="primary")
        self.cancel_button = QPushButton()
        self.phase_label = QLabel()
        self.eta_label = QLabel(objectName="hint")
        self.progress = QProgressBar()
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.loss_chart = LineChart()
        self.accuracy_chart = LineChart(y_range=(0.0, 1.0))
        self.notices = QListWidget()
        self.notices.setMaximumHeight(90)
        self.runs_title = QLabel()
        self.runs = RunsTable()
        self._build()
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.form.changed.connect(self.refresh_checks)
        self.form.modelChosen.connect(self._store_model)
        self.runs.runSelected.connect(self.show_run)
        session.classesChanged.connect(self.refresh_checks)
        session.imagesChanged.connect(lambda _: self.refresh_checks())
        session.tasksChanged.connect(self.refresh_runs)
        self.form.load(session.project.backbone, session.project.settings.get("training", {}))
        self.retranslate()
        self.refresh_checks()
        self.refresh_runs()

    def _build(self) -> None:
        settings = QWidget()
        settings_layout = QVBoxLayout(settings)
        settings_layout.addWidget(self.title)
        settings_layout.addWidget(self.form)
        settings_layout.addWidget(self.checks)
        settings_layout.addStretch(1)
        # Only the settings scroll, never sideways; Start and Cancel stay below them, always in view.
        scroll = QScrollArea(widgetResizable=True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(settings)
        self.settings_scroll = scroll
        self.form.advanced_toggle.toggled.connect(lambda _: self._fit_settings_width())
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button, 2)
        buttons.addWidget(self.cancel_button, 1)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(scroll, 1)
        left_layout.addLayout(buttons)
        charts = QHBoxLayout()
        charts.addWidget(self.loss_chart)
        charts.addWidget(self.accuracy_chart)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        status = QHBoxLayout()
        status.addWidget(self.phase_label, 1)
        status.addWidget(self.eta_label)
        right_layout.addLayout(status)
        right_layout.addWidget(self.progress)
        right_layout.addWidget(self.result_label)
        right_layout.addLayout(charts, 1)
        right_layout.addWidget(self.notices)
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(left)
        top.addWidget(right)
        top.setStretchFactor(1, 2)
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(self.runs_title)
        bottom_layout.addWidget(self.runs)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(bottom)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

    def retranslate(self) -> None:
        self.title.setText(self.tr("Train a task"))
        self.start_button.setText(self.tr("Start training"))
        self.cancel_button.setText(self.tr("Cancel"))
        self.runs_title.setText(self.tr("Earlier runs (select one to see its curves)"))
        self.loss_chart.title = self.tr("Mistakes: lower is better")
        self.accuracy_chart.title = self.tr("Accuracy: higher is better")
        for chart in (self.loss_chart, self.accuracy_chart):
            chart.x_label = self.tr("step")
        self.loss_chart.set_series("train", self.tr("training"), "#0072B2")
        self.accuracy_chart.set_series("train", self.tr("training"), "#0072B2")
        self._fit_settings_width()
        self.notices.clear()   # notices are kept as events, so they can be said again in the new language
        self.notices.addItems([notice_text(event) for event in self.notice_events])
        if getattr(self.phase_label, "_make_text", None) is None:   # nothing shown yet
            set_text(self.phase_label, lambda: self.tr("Ready."))
        self._update_buttons()

    def _fit_settings_width(self) -> None:
        """The settings never narrower than their content (no sideways scrolling hides Change… or a field)."""
        scroll = self.settings_scroll
        scroll.widget().adjustSize()
        width = scroll.widget().minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 4
        scroll.setMinimumWidth(width)

    # -- checks -------------------------------------------------------------
    def current_checks(self):
        return training_checks(self.session.project.image_counts(), self.form.backbone_choice(),
                               self.form.model_arguments() is not None)

    def _store_model(self, choice: dict) -> None:
        """A model chosen in the chooser is the project's model from now on (saved at once)."""
        self.session.project.backbone = dict(choice)
        self.session.mark_dirty()
        self.refresh_checks()

    def refresh_checks(self) -> None:
        self.checks.set_checks(self.current_checks())
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.start_button.setEnabled(self.state == IDLE and can_train(self.current_checks()))
        self.cancel_button.setEnabled(self.state == RUNNING)
        self.form.setEnabled(self.state == IDLE)

    # -- running --------------------------------------------------------------
    def build_request(self) -> TrainRequest:
        project = self.session.project
        settings = self.form.settings()
        backbone = self.form.backbone_config()
        name = self.form.task_name() or f"task-{len(project.task_paths()) + 1}"
        return TrainRequest(images_dir=project.images_dir, classes=project.class_names, backbone=backbone,
                            task_path=project.new_task_path(name), num_prompts=settings["num_prompts"],
                            depth=settings["depth"], init=settings["init"], steps=settings["steps"],
                            learning_rate=settings["learning_rate"], auto=settings["auto"],
                            settings={**settings, "backbone": self.form.backbone_choice()})

    def start(self) -> bool:
        if self.state != IDLE or not can_train(self.current_checks()):
            return False
        request = self.build_request()
        self.session.project.backbone = self.form.backbone_choice()
        self.session.set_setting("training", self.form.settings())
        self.session.mark_dirty()
        self.loss_chart.clear()
        self.accuracy_chart.clear()
        self.notices.clear()
        set_text(self.result_label, lambda: "")
        set_text(self.phase_label, lambda: self.tr("Starting…"))
        self.events_seen = 0
        self.notice_events = []
        self.state = RUNNING
        self.tracker = RunProgressTracker(automatic_choice=request.auto)
        self._show_progress()
        self.clock_timer.start()
        self._update_buttons()
        self.thread = start_job(training_job(request), self._on_event, self._on_success, self._on_failure, self)
        return True

    def cancel(self) -> None:
        if self.state == RUNNING and self.thread is not None:
            self.state = CANCELLING
            self.thread.cancel()
            set_text(self.phase_label, lambda: self.tr("Stopping…"))
            self._update_buttons()

    def _on_event(self, event) -> None:
        self.events_seen += 1
        self.tracker.feed(event)
        self._show_progress()
        if isinstance(event, ev.PhaseStarted):
            self.phase = event.phase
            set_text(self.phase_label, lambda phase=event.phase: phase_text(phase))
        elif isinstance(event, ev.RunProgress) and event.stage and event.stage != ev.Phase.TRAIN:
            set_text(self.phase_label, lambda stage=event.stage: phase_text(stage))
        elif isinstance(event, ev.TrainStep):
            self.phase = ev.Phase.TRAIN
            set_text(self.phase_label, lambda e=event: self.tr("Training: step {step} of {total}").format(
                step=e.step, total=e.total_steps))
            self._plot_point(event.step, event.loss, event.accuracy)
        elif isinstance(event, ev.Notice):
            self.notices.addItem(notice_text(event))
            self.notice_events.append(event)

    def _show_progress(self) -> None:
        """One bar for the whole run; it never goes back. Time so far and left are for the whole run too."""
        self.progress.setRange(0, 1000)
        self.progress.setValue(int(round(1000 * self.tracker.fraction)))
        if self.state == RUNNING:
            set_text(self.eta_label, lambda: time_line(self.tracker.elapsed, self.tracker.eta_seconds))

    def _plot_point(self, step, loss, accuracy) -> None:
        self.loss_chart.add_point("train", step, loss)
        self.accuracy_chart.add_point("train", step, accuracy)

    def _finish(self) -> None:
        self.state = IDLE
        self.thread = None
        self.phase = ""
        self.clock_timer.stop()
        set_text(self.eta_label, lambda: "")
        self._update_buttons()

    def _on_success(self, run: TrainedRun | None) -> None:
        self._finish()
        self.last_run = run
        if run is None:
            set_text(self.phase_label, lambda: self.tr("Training cancelled; nothing was saved."))
        else:
            self.tracker.finish()
            self._show_progress()
            took = self.tracker.elapsed
            set_text(self.phase_label, lambda: self.tr("Done in {time}.").format(time=duration_text(took)))
            set_text(self.result_label, lambda: self.result_text(run))
            self.session.tasksChanged.emit()
        self.message.emit(self.phase_label.text())
        self.trainingFinished.emit(run)

    def result_text(self, run: TrainedRun) -> str:
        """The one figure to trust: accuracy on pictures the task did not train on."""
        try:
            pack = read_task_pack(run.path)
            figure = check_figure(pack.metrics, pack.training)
        except VptError:
            figure = None
        saved = self.tr("Saved as task “{name}”.").format(name=run.path.stem)
        if figure is None:
            check = self.tr("It could not be checked on pictures it did not train on: take more pictures per "
                            "class.")
        elif figure.images is None:
            check = self.tr("Right on {accuracy:.0f} % of the pictures it did not train on.").format(
                accuracy=100 * figure.accuracy)
        else:
            check = self.tr("Right on {accuracy:.0f} % of {count} pictures it did not train on.").format(
                accuracy=100 * figure.accuracy, count=figure.images)
        return f"{saved} {check} " + self.tr("See the Evaluate page for details.")

    def _on_failure(self, text: str) -> None:
        self._finish()
        set_text(self.phase_label, lambda: self.tr("Training stopped."))
        set_text(self.result_label, lambda: "<span style='color:#b00020'>{}</span>".format(
            _escape(self.tr("Training could not finish: {error}").format(error=text))))
        self.message.emit(text)
        self.trainingFinished.emit(None)

    # -- earlier runs -------------------------------------------------------------
    def refresh_runs(self) -> None:
        self.runs.load(self.session.project.task_paths())

    def show_run(self, run: RunSummary) -> None:
        if self.state != IDLE:
            return
        self.loss_chart.clear()
        self.accuracy_chart.clear()
        for record in run.history:   # steps now; rounds over the pictures in older packs
            self._plot_point(record.get("step", record.get("epoch")), record.get("loss", record.get("train_loss")),
                             record.get("batch_accuracy", record.get("train_accuracy")))
        set_text(self.phase_label, lambda: self.tr("Curves of “{name}”").format(name=run.name))

    def shutdown(self) -> None:
        if self.thread is not None:
            self.thread.cancel()
            self.thread.wait(30000)


def _escape(text: str) -> str:
    import html

    return html.escape(text)

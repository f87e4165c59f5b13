"""Earlier training runs of the project side by side: settings, accuracy, time and size."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from vpt_core.errors import VptError
from vpt_core.packformat import read_task_pack

from .. import setting_names
from ..accuracy import check_figure, run_seconds, training_accuracy
from ..i18n import Retranslating


@dataclass
class RunSummary:
    path: Path
    name: str
    created: str = ""
    classes: list[str] = field(default_factory=list)
    prompt: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    size_bytes: int = 0
    problem: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def history(self) -> list[dict[str, Any]]:
        return list(self.training.get("history") or [])


def read_run(path: Path) -> RunSummary:
    """A task pack's description; a damaged pack becomes a row that says so instead of an error."""
    try:
        pack = read_task_pack(path)
    except VptError as error:
        return RunSummary(path, path.stem, problem=str(error))
    return RunSummary(path, pack.name or path.stem, pack.created, list(pack.classes), dict(pack.prompt_config),
                      dict(pack.training), dict(pack.metrics), path.stat().st_size, extra=dict(pack.extra))


def _percent(value) -> str:
    return "–" if value is None else f"{100 * float(value):.0f} %"


class RunsTable(Retranslating, QTableWidget):
    runSelected = Signal(object)     # RunSummary

    def __init__(self, parent: QWidget | None = None):
        super().__init__(0, 10, parent)
        self.runs: list[RunSummary] = []
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSortingEnabled(True)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)
        self.itemSelectionChanged.connect(self._selection_changed)
        self.retranslate()

    def retranslate(self) -> None:
        self.setHorizontalHeaderLabels([
            self.tr("Task"), self.tr("Made"), self.tr("Classes"), self.tr("Learned adjustments"), self.tr("Start values"),
            self.tr("Steps"), self.tr("Right on unseen pictures"),
            self.tr("On training pictures"), self.tr("Time"), self.tr("File size")])
        self.setToolTip(self.tr("The first accuracy is the one to trust: it is measured on pictures the task did "
                                "not learn from. On its own training pictures a task always looks better."))
        self.load([run.path for run in self.runs])

    def load(self, paths: list[Path]) -> None:
        self.runs = [read_run(p) for p in paths]
        self.setSortingEnabled(False)
        self.setRowCount(len(self.runs))
        for row, run in enumerate(self.runs):
            values = [run.name, run.problem] + [""] * 8 if run.problem else self.row_values(run)
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, row)
                self.setItem(row, column, item)
        self.setSortingEnabled(True)

    def row_values(self, run: RunSummary) -> list[str]:
        prompt = run.prompt
        prompts = setting_names.prompts_text(prompt.get("num_prompts", ""), prompt.get("depth", "")) if prompt else ""
        init = str(prompt.get("init", ""))
        return [run.name, run.created.replace("T", " ")[:16], ", ".join(run.classes), prompts,
                setting_names.short_init_names().get(init, init), _steps(run.metrics),
                self.check_text(run), _percent(training_accuracy(run.metrics)), self.time_text(run),
                f"{run.size_bytes / 1024:.0f} KB"]

    def check_text(self, run: RunSummary) -> str:
        figure = check_figure(run.metrics, run.training)
        if figure is None:
            return self.tr("not checked")
        if figure.images is None:
            return _percent(figure.accuracy)
        return self.tr("{accuracy} of {count}").format(accuracy=_percent(figure.accuracy), count=figure.images)

    def time_text(self, run: RunSummary) -> str:
        seconds, whole_run = run_seconds(run.extra, run.metrics)
        if seconds is None:
            return ""
        text = self.tr("{minutes} min {seconds} s").format(minutes=int(seconds // 60), seconds=int(seconds % 60)) \
            if seconds >= 60 else self.tr("{seconds} s").format(seconds=int(round(seconds)))
        return text if whole_run else self.tr("{time} (training only)").format(time=text)

    def selected_run(self) -> RunSummary | None:
        items = self.selectedItems()
        return self.runs[items[0].data(Qt.ItemDataRole.UserRole)] if items else None

    def _selection_changed(self) -> None:
        run = self.selected_run()
        if run is not None:
            self.runSelected.emit(run)


def _steps(metrics: dict) -> str:
    """Training steps (older packs counted rounds over the pictures instead)."""
    value = metrics.get("steps", metrics.get("epochs_run"))
    return "" if value is None else str(value)

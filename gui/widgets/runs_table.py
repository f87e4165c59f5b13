"""Earlier training runs of the project side by side: settings, accuracy, time and size."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from vpt_core.errors import VptError
from vpt_core.packformat import read_task_pack

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
                      dict(pack.training), dict(pack.metrics), path.stat().st_size)


def _percent(value) -> str:
    return "–" if value is None else f"{100 * float(value):.1f} %"


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
            self.tr("Task"), self.tr("Made"), self.tr("Classes"), self.tr("Prompts"), self.tr("Start values"),
            self.tr("Rounds"), self.tr("Training accuracy"), self.tr("Check accuracy"), self.tr("Training time"),
            self.tr("File size")])
        self.setToolTip(self.tr("Check accuracy is measured on pictures held back from training "
                                "(only when every class has at least 5)."))

    def load(self, paths: list[Path]) -> None:
        self.runs = [read_run(p) for p in paths]
        self.setSortingEnabled(False)
        self.setRowCount(len(self.runs))
        for row, run in enumerate(self.runs):
            seconds = run.metrics.get("train_seconds")
            values = [run.name, run.created.replace("T", " ")[:16], ", ".join(run.classes),
                      f"{run.prompt.get('num_prompts', '')} × {run.prompt.get('depth', '')}" if run.prompt else "",
                      str(run.prompt.get("init", "")), str(run.metrics.get("epochs_run", "")),
                      _percent(run.metrics.get("train_accuracy")), _percent(run.metrics.get("val_accuracy")),
                      "" if seconds is None else f"{float(seconds):.0f} s", f"{run.size_bytes / 1024:.0f} KB"]
            if run.problem:
                values = [run.name, run.problem] + [""] * 8
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, row)
                self.setItem(row, column, item)
        self.setSortingEnabled(True)

    def selected_run(self) -> RunSummary | None:
        items = self.selectedItems()
        return self.runs[items[0].data(Qt.ItemDataRole.UserRole)] if items else None

    def _selection_changed(self) -> None:
        run = self.selected_run()
        if run is not None:
            self.runSelected.emit(run)

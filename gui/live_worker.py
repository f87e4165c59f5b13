"""Runs a deploy bundle (export.runtime.Station, ONNX Runtime) on the newest frame, off the window's thread.

Only the newest frame is classified: when the model is slower than the camera,
frames are skipped rather than queued. Each result carries the frame it was
computed on, so the window shows a verdict only over its own picture. A task
switch is applied before the next frame; the backbone stays loaded, so switching
is instant.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QThread, Signal

from vpt_core.errors import VptError


@dataclass(frozen=True)
class LiveResult:
    task: str
    label: str
    confidence: float
    preprocess_ms: float
    inference_ms: float
    frame_number: int
    total_ms: float            # frame arrival to result, what the operator experiences
    uncertain: bool = False    # below the task's confidence threshold: a person should look
    frame: Any = None          # the camera frame it was computed on (gui.camera.Frame)
    run: int = 0               # which inspection run produced it (results of a stopped run are dropped)


class LiveWorker(QThread):
    ready = Signal(list, str, list)    # task names, current task, its classes
    result = Signal(object)            # LiveResult
    failed = Signal(str)
    taskChanged = Signal(str, list)    # task, its classes

    def __init__(self, bundle_dir: Path, backend: str = "auto", run: int = 0):
        super().__init__()
        self.run_number = run
        self.bundle_dir = Path(bundle_dir)
        self.backend = backend
        self._condition = threading.Condition()
        self._frame: Any = None
        self._pending_task: str | None = None
        self._stopping = False
        self.station = None

    def submit(self, frame) -> None:
        with self._condition:
            self._frame = frame            # replaces any frame not yet classified
            self._condition.notify()

    def switch_task(self, name: str) -> None:
        with self._condition:
            self._pending_task = name
            self._condition.notify()

    def stop(self) -> None:
        with self._condition:
            self._stopping = True
            self._condition.notify()
        self.wait(10000)

    def run(self) -> None:
        try:
            from export.runtime import Station

            self.station = Station(self.bundle_dir, backend=self.backend)
        except VptError as error:
            self.failed.emit(str(error))
            return
        except Exception as error:  # noqa: BLE001 - e.g. ONNX Runtime refusing the file; shown, not raised
            self.failed.emit(f"{type(error).__name__}: {error}")
            return
        self.ready.emit(list(self.station.task_names), self.station.current_task, list(self.station.classes))
        while True:
            with self._condition:
                while not self._stopping and self._frame is None and self._pending_task is None:
                    self._condition.wait()
                if self._stopping:
                    return
                frame, self._frame = self._frame, None
                task, self._pending_task = self._pending_task, None
            if task is not None and not self._apply_task(task):
                continue
            if frame is not None:
                self._classify(frame)

    def _apply_task(self, name: str) -> bool:
        try:
            self.station.set_task(name)
        except VptError as error:
            self.failed.emit(str(error))
            return False
        self.taskChanged.emit(self.station.current_task, list(self.station.classes))
        return True

    def _classify(self, frame) -> None:
        try:
            outcome = self.station.predict_rgb(frame.rgb)
        except VptError as error:
            self.failed.emit(str(error))
            return
        self.result.emit(LiveResult(self.station.current_task, str(outcome.label), float(outcome.confidence),
                                    float(outcome.preprocess_ms), float(outcome.inference_ms), frame.number,
                                    (time.perf_counter() - frame.timestamp) * 1000.0,
                                    bool(getattr(outcome, "uncertain", False)), frame, self.run_number))

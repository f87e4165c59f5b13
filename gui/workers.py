"""Run a long job (training, evaluation, export, import) in a worker thread and report through signals.

A job is a plain function ``job(emit, cancel) -> result``: it calls ``emit(event)``
as it goes and checks ``cancel`` (a ``threading.Event``). The worker turns that
into Qt signals, so jobs stay Qt-free and testable on their own. Progress-only
events are thinned to about 20 a second: fast steps must not flood the window.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Signal

from vpt_engine import events as ev
from vpt_core.errors import VptError

log = logging.getLogger("vpt.gui")
_THINNED = (ev.Progress, ev.TrainStep)
_MIN_INTERVAL_S = 0.05


class JobThread(QThread):
    event = Signal(object)
    succeeded = Signal(object)       # the job's return value (None when cancelled)
    failed = Signal(str)             # a message for the user; details go to the log file

    def __init__(self, job: Callable[[Callable[[Any], None], threading.Event], Any], parent: QObject | None = None):
        super().__init__(parent)
        self.job = job
        self.cancel_flag = threading.Event()
        self._last_emit: dict[type, float] = {}

    def cancel(self) -> None:
        self.cancel_flag.set()

    def _emit(self, item: Any) -> None:
        if isinstance(item, _THINNED):
            now = time.perf_counter()
            last_of_phase = getattr(item, "done", None) == getattr(item, "total", 0) or \
                getattr(item, "step", None) == getattr(item, "total_steps", 0)
            if not last_of_phase and now - self._last_emit.get(type(item), 0.0) < _MIN_INTERVAL_S:
                return
            self._last_emit[type(item)] = now
        self.event.emit(item)

    def run(self) -> None:
        try:
            result = self.job(self._emit, self.cancel_flag)
        except VptError as error:
            self.failed.emit(str(error))
        except MemoryError:
            log.exception("out of memory in a background job")
            self.failed.emit("the computer ran out of memory; try fewer or smaller images")
        except Exception as error:  # noqa: BLE001 - reported to the user, details logged
            log.exception("background job failed")
            self.failed.emit(f"unexpected problem: {type(error).__name__}: {error}")
        else:
            self.succeeded.emit(result)


def start_job(job, on_event=None, on_success=None, on_failure=None, parent: QObject | None = None) -> JobThread:
    """Create, connect and start a JobThread; the thread deletes itself when done."""
    thread = JobThread(job, parent)
    if on_event:
        thread.event.connect(on_event)
    if on_success:
        thread.succeeded.connect(on_success)
    if on_failure:
        thread.failed.connect(on_failure)
    thread.start()
    return thread

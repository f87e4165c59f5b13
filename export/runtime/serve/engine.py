"""Engine runs one at a time; requests queued meanwhile share the next run.

There is no inference thread: a request's own worker thread runs the engine
when it is free, taking along whatever else is queued (up to ``max_batch``,
oldest first); requests that arrive while it runs wait, and the next of them
to find the engine free runs the next batch. So

* a lone request costs no hand-over to another thread (on a loaded 2-core
  machine every hand-over can cost milliseconds of scheduling);
* concurrent requests are merged into one run without any waiting window;
* runs never overlap: a CPU engine already uses every core for one run, and a
  TensorRT engine must not be run from two threads at once (the CUDA runtime's
  primary context is shared by all threads, so which thread runs it does not matter).

Images of different tasks share a run safely: under contract 2 each image
carries its own task's prompts and its own head is applied to its own row.

How many to merge depends on the device. On a GPU a batch of 8 costs little
more than one picture. On a CPU it does not pay: ViT-Ti/16 on ONNX Runtime
(2 cores of the shared development VM, busy with other jobs) took 156 ms per
picture in batches of 8 against 135 ms one at a time, so on a CPU the default
is 1 (``benchmarks/bench_serve.py`` compares both).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from typing import Callable, Iterator, Mapping

import numpy as np

from ..station import PreparedImage, Station, StationResult
from .errors import Unavailable

log = logging.getLogger("vpt.serve")
GPU_BATCH = 8


def auto_max_batch(station: Station) -> int:
    """1 when the backbone runs on ONNX Runtime's CPU provider alone, else ``GPU_BATCH``."""
    providers = getattr(station.runner, "providers", None)
    if station.backend == "onnxruntime" and providers is not None and set(providers) <= {"CPUExecutionProvider"}:
        return 1
    return GPU_BATCH


class _Pending:
    __slots__ = ("prepared", "result", "error", "done")

    def __init__(self, prepared: PreparedImage):
        self.prepared = prepared
        self.result: StationResult | None = None
        self.error: BaseException | None = None
        self.done = False


class InferenceEngine:
    def __init__(self, station: Station, max_batch: int = 1,
                 on_batch: Callable[[int, float], None] | None = None):
        self.station = station
        self.max_batch = max_batch
        self.on_batch = on_batch or (lambda size, seconds: None)
        self._queue: deque[_Pending] = deque()
        self._cond = threading.Condition()
        self._running = False
        self._closed = False
        self.batches = 0
        self.images = 0

    def predict(self, prepared: PreparedImage, timeout: float = 120.0) -> StationResult:
        """The result for one prepared image; runs the engine on this thread when it is free."""
        item = _Pending(prepared)
        deadline = time.monotonic() + timeout
        with self._cond:
            self._check_open()
            self._queue.append(item)
        while True:
            batch = self._wait_for_turn(item, deadline)
            if batch is None:
                break
            self._run_batch(batch)
        if item.error is not None:
            raise item.error
        return item.result

    def _wait_for_turn(self, item: _Pending, deadline: float) -> list[_Pending] | None:
        """None once ``item`` is done; else the batch this thread must run now (the engine is then ours)."""
        with self._cond:
            while not item.done:
                if not self._running:
                    self._running = True
                    return [self._queue.popleft() for _ in range(min(self.max_batch, len(self._queue)))]
                remaining = deadline - time.monotonic()
                if self._closed or remaining <= 0:
                    if item in self._queue:
                        self._queue.remove(item)
                    raise Unavailable("the station is shutting down" if self._closed else
                                      "the engine did not get to this picture in time")
                self._cond.wait(remaining)
            return None

    def _run_batch(self, batch: list[_Pending]) -> None:
        started = time.perf_counter()
        results: list = [None] * len(batch)
        failure: BaseException | None = None
        try:
            results = self.station.predict_prepared([item.prepared for item in batch])
        except BaseException as error:  # every request of the run gets the error; the engine is freed below
            failure = error
            log.error("engine run of %d images failed: %s", len(batch), error)
        finally:
            with self._cond:
                for item, result in zip(batch, results):
                    item.result, item.error, item.done = result, failure, True
                if failure is None:
                    self.batches += 1
                    self.images += len(batch)
                self._running = False
                self._cond.notify_all()
        if failure is None:
            self.on_batch(len(batch), time.perf_counter() - started)
        elif not isinstance(failure, Exception):
            raise failure   # KeyboardInterrupt and the like still stop this thread

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """The engine for the caller alone (a bundle change's smoke test), between two runs."""
        with self._cond:
            while self._running:
                self._cond.wait()
            self._running = True
        try:
            yield
        finally:
            with self._cond:
                self._running = False
                self._cond.notify_all()

    def _check_open(self) -> None:
        if self._closed:
            raise Unavailable("the station is shutting down")

    def close(self, timeout: float = 30.0) -> None:
        """No new pictures; those waiting get 503; a run in progress finishes (the runner may close after)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            while self._running and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())

    def locked_runner(self) -> "LockedRunner":
        return LockedRunner(self)


class LockedRunner:
    """The station's runner, run only between the engine's own runs (for bundle smoke tests)."""

    def __init__(self, engine: InferenceEngine):
        self._engine = engine
        self._runner = engine.station.runner
        self.backend = self._runner.backend
        self.description = self._runner.description

    def infer(self, feed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        with self._engine.exclusive():
            return self._runner.infer(feed)

    def limits(self) -> dict[str, tuple[int, int | None]]:
        return self._runner.limits()

    def close(self) -> None:
        """The station owns the runner; closing this view closes nothing."""

"""One thread runs the backbone; requests queued meanwhile share its next run.

Why one thread and a queue rather than a pool of threads each calling the
runner: a CPU engine already uses every core for one run (two concurrent runs
only fight over them), a TensorRT engine must not be run from two threads at
once, and merging queued requests into one batch costs a lone request
nothing (no waiting window: the thread takes only what is already queued).
Images of different tasks share a run safely: under contract 2 each image
carries its own task's prompts and its own head is applied to its own row.

How many to merge depends on the device. On a GPU a batch of 8 costs little
more than one picture. On a CPU it does not pay: ViT-Ti/16 on ONNX Runtime
(2 cores of the shared development VM, busy with other jobs) took 156 ms per
picture in batches of 8 against 135 ms one at a time, so on a CPU the default
is 1 and the queue only serialises runs (``benchmarks/bench_serve.py`` compares both).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future
from typing import Callable, Mapping, Sequence

import numpy as np

from ..station import PreparedImage, Station, StationResult
from .errors import Unavailable

log = logging.getLogger("vpt.serve")
_STOP = object()


GPU_BATCH = 8


def auto_max_batch(station: Station) -> int:
    """1 when the backbone runs on ONNX Runtime's CPU provider alone, else ``GPU_BATCH``."""
    providers = getattr(station.runner, "providers", None)
    if station.backend == "onnxruntime" and providers is not None and set(providers) <= {"CPUExecutionProvider"}:
        return 1
    return GPU_BATCH


class InferenceEngine:
    def __init__(self, station: Station, max_batch: int = 8,
                 on_batch: Callable[[int, float], None] | None = None):
        self.station = station
        self.max_batch = max_batch
        self.on_batch = on_batch or (lambda size, seconds: None)
        self.lock = threading.Lock()   # held for every engine run, ours or a bundle change's smoke test
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="vpt-inference", daemon=True)
        self.batches = 0
        self.images = 0

    def start(self) -> None:
        self._thread.start()

    def submit(self, prepared: PreparedImage) -> Future:
        """Queue one prepared image; the future gives its StationResult (or the engine's error)."""
        if self._closed:
            raise Unavailable("the station is shutting down")
        future: Future = Future()
        self._queue.put((prepared, future))
        return future

    def predict(self, prepared: PreparedImage, timeout: float = 120.0) -> StationResult:
        return self.submit(prepared).result(timeout)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            if item is _STOP:
                break
            batch = [item]
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                batch.append(item)
            self._run_batch(batch)
        self._fail_queued()

    def _run_batch(self, batch: Sequence[tuple[PreparedImage, Future]]) -> None:
        # A request whose client went away was cancelled: it takes no place in the run.
        live = [(prepared, future) for prepared, future in batch if future.set_running_or_notify_cancel()]
        if not live:
            return
        started = time.perf_counter()
        try:
            with self.lock:
                results = self.station.predict_prepared([prepared for prepared, _ in live])
        except Exception as error:  # the engine failed: every request of the run gets the error
            log.error("engine run of %d images failed: %s", len(live), error)
            for _, future in live:
                future.set_exception(error)
            return
        self.batches += 1
        self.images += len(live)
        for (_, future), result in zip(live, results):
            future.set_result(result)
        self.on_batch(len(live), time.perf_counter() - started)

    def _fail_queued(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not _STOP and item[1].set_running_or_notify_cancel():
                item[1].set_exception(Unavailable("the station is shutting down"))

    def close(self, timeout: float = 10.0) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        if self._thread.is_alive():
            self._thread.join(timeout)

    def locked_runner(self) -> "LockedRunner":
        return LockedRunner(self)


class LockedRunner:
    """The station's runner, run only while no engine run is in progress (for bundle smoke tests)."""

    def __init__(self, engine: InferenceEngine):
        self._engine = engine
        self._runner = engine.station.runner
        self.backend = self._runner.backend
        self.description = self._runner.description

    def infer(self, feed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        with self._engine.lock:
            return self._runner.infer(feed)

    def limits(self) -> dict[str, tuple[int, int | None]]:
        return self._runner.limits()

    def close(self) -> None:
        """The station owns the runner; closing this view closes nothing."""

"""The inspection-station API: one backbone loaded once, tasks switched in microseconds.

    station = Station("bundle/")             # ONNX Runtime, or a TensorRT engine if one fits
    station.set_task("surface")              # no reload: swaps prepared arrays
    result = station.predict_rgb(rgb)        # uint8 HxWx3 -> StationResult
    results = station.predict_mixed([(rgb1, "surface"), (rgb2, "variant")])   # one engine run, two tasks

Every task's prompts and head are prepared as read-only float32 arrays when the
station opens, so ``set_task`` only changes which ones the next frame is fed
with, and images of different tasks can share one batch. Imports neither torch nor Qt.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from vpt_core.contract import FEATURES_OUTPUT, TaskTensors
from vpt_core.errors import BundleError
from vpt_core.metrics import softmax
from vpt_core.preprocess import PreprocessSpec

from .bundle import Bundle, BundleTask
from .runners import Runner, open_runner


@dataclass(frozen=True)
class StationResult:
    label: str
    index: int
    confidence: float
    probabilities: np.ndarray
    preprocess_ms: float
    inference_ms: float
    uncertain: bool = False     # confidence below the task's calibrated threshold: route the part to a person
    task: str = ""

    def to_dict(self, classes: Sequence[str] | None = None) -> dict[str, Any]:
        document: dict[str, Any] = {"task": self.task, "label": self.label, "index": self.index,
                                    "confidence": self.confidence, "uncertain": self.uncertain,
                                    "preprocess_ms": self.preprocess_ms, "inference_ms": self.inference_ms}
        if classes is not None:
            document["probabilities"] = {name: float(p) for name, p in zip(classes, self.probabilities)}
        else:
            document["probabilities"] = [float(p) for p in self.probabilities]
        return document


@dataclass(frozen=True)
class _PreparedTask:
    name: str
    classes: tuple[str, ...]
    tensors: TaskTensors = field(repr=False)
    spec: PreprocessSpec = field(repr=False)
    min_confidence: float = 0.0


class Station:
    def __init__(self, bundle_dir: str | os.PathLike, backend: str = "auto", providers: Sequence[Any] | None = None,
                 *, threads: int | None = None, int8_cpu: bool = False):
        self.bundle = Bundle.open(bundle_dir)
        if not self.bundle.tasks:
            raise BundleError(f"{bundle_dir}: the bundle has no tasks; add one with 'vpt bundle add-task'")
        self._int8_tasks = set(self.bundle.int8_cpu_tasks) if int8_cpu else None
        self.runner: Runner
        self.runner, self.notes = open_runner(self.bundle, backend, providers, threads, int8_cpu)
        self._tasks = {name: self._prepare(task) for name, task in self.bundle.tasks.items()}
        self._current: _PreparedTask | None = None
        self._select_first_usable_task()

    def _select_first_usable_task(self) -> None:
        problem = None
        for name in self.task_names:
            try:
                self.set_task(name)
                return
            except BundleError as error:
                problem = problem or error
        raise problem

    @staticmethod
    def _prepare(task: BundleTask) -> _PreparedTask:
        return _PreparedTask(task.name, tuple(task.pack.classes), task.tensors, task.pack.preprocess_spec,
                             task.pack.min_confidence)

    # -- tasks -------------------------------------------------------------
    @property
    def task_names(self) -> list[str]:
        return list(self._tasks)

    @property
    def current_task(self) -> str:
        return self._current.name

    @property
    def classes(self) -> list[str]:
        return list(self._current.classes)

    @property
    def backend(self) -> str:
        return self.runner.backend

    @property
    def description(self) -> str:
        return self.runner.description

    def set_task(self, name: str) -> None:
        """Switch task: no file is read and nothing is reloaded."""
        self._current = self._task(name)

    def _task(self, name: str) -> _PreparedTask:
        task = self._tasks.get(name)
        if task is None:
            raise BundleError(f"no task {name!r} in this bundle; tasks: {', '.join(self._tasks)}")
        if self._int8_tasks is not None and name not in self._int8_tasks:
            raise BundleError(f"task {name!r} was not checked against the INT8 CPU model; run 'vpt bundle "
                              f"quantize-cpu {self.bundle.root} --task {name} --images DIR' first")
        return task

    # -- prediction --------------------------------------------------------
    def predict_rgb(self, rgb: np.ndarray) -> StationResult:
        return self.predict_batch([rgb])[0]

    def predict_batch(self, images: Sequence[np.ndarray]) -> list[StationResult]:
        """Classify uint8 ``HxWx3`` RGB images with the current task.

        ``preprocess_ms`` is per image; ``inference_ms`` is the batch's run time
        shared equally among its images.
        """
        task = self._current
        return self._predict([(image, task) for image in images])

    def predict_mixed(self, items: Sequence[tuple[np.ndarray, str]]) -> list[StationResult]:
        """Classify ``(rgb, task name)`` pairs; images of different tasks share engine runs."""
        return self._predict([(image, self._task(name)) for image, name in items])

    def _predict(self, items: Sequence[tuple[np.ndarray, _PreparedTask]]) -> list[StationResult]:
        if len(items) == 0:
            return []
        results = []
        max_batch = self.runner.limits().get("batch", (1, None))[1] or len(items)
        for start in range(0, len(items), max_batch):
            results += self._run_chunk(items[start:start + max_batch])
        return results

    def _run_chunk(self, items: Sequence[tuple[np.ndarray, _PreparedTask]]) -> list[StationResult]:
        started = time.perf_counter()
        batch = np.stack([task.spec(image) for image, task in items]).astype(np.float32, copy=False)
        tasks = [task for _, task in items]
        single = all(task is tasks[0] for task in tasks)
        feed = self.bundle.contract.feed(batch, tasks[0].tensors if single else [t.tensors for t in tasks])
        preprocessed = time.perf_counter()
        features = self.runner.infer(feed)[FEATURES_OUTPUT]
        finished = time.perf_counter()
        preprocess_ms = (preprocessed - started) * 1000 / len(items)
        inference_ms = (finished - preprocessed) * 1000 / len(items)
        results = []
        for row, task in zip(features, tasks):
            probabilities = softmax(task.tensors.logits(row[None].astype(np.float64)))[0]
            best = int(probabilities.argmax())
            confidence = float(probabilities[best])
            results.append(StationResult(task.classes[best], best, confidence, probabilities.astype(np.float32),
                                         preprocess_ms, inference_ms, confidence < task.min_confidence, task.name))
        return results

    def close(self) -> None:
        self.runner.close()

    def __enter__(self) -> "Station":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

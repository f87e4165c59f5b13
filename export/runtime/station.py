"""The inspection-station API: one backbone loaded once, tasks switched in microseconds.

    station = Station("bundle/")             # ONNX Runtime, or a TensorRT engine if one fits
    station.set_task("surface")              # no reload: swaps three prepared arrays
    result = station.predict_rgb(rgb)        # uint8 HxWx3 -> StationResult

Every task's prompts and head are prepared as read-only float32 arrays when the
station opens, so ``set_task`` only changes which ones the next frame is fed
with. Imports neither torch nor Qt.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from vpt_core.metrics import softmax
from vpt_core.preprocess import PreprocessSpec

from vpt_core.contract import IMAGE_INPUT, task_feed
from vpt_core.errors import BundleError
from .bundle import Bundle
from .runners import Runner, open_runner


@dataclass(frozen=True)
class StationResult:
    label: str
    index: int
    confidence: float
    probabilities: np.ndarray
    preprocess_ms: float
    inference_ms: float

    def to_dict(self, classes: Sequence[str] | None = None) -> dict[str, Any]:
        document: dict[str, Any] = {"label": self.label, "index": self.index, "confidence": self.confidence,
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
    feed: dict[str, np.ndarray] = field(repr=False)
    spec: PreprocessSpec = field(repr=False)


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

    def _prepare(self, task) -> _PreparedTask:
        pack = task.pack
        spec = pack.preprocess_spec
        if tuple(spec.input_size) != self.bundle.contract.image_shape:
            raise BundleError(f"{task.path}: preprocesses to {list(spec.input_size)}, the bundle's images are "
                              f"{list(self.bundle.contract.image_shape)}")
        return _PreparedTask(task.name, tuple(pack.classes), task_feed(pack.prompts, pack.head_weight,
                                                                      pack.head_bias), spec)

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
        task = self._tasks.get(name)
        if task is None:
            raise BundleError(f"no task {name!r} in this bundle; tasks: {', '.join(self._tasks)}")
        if self._int8_tasks is not None and name not in self._int8_tasks:
            raise BundleError(f"task {name!r} was not checked against the INT8 CPU model; run 'vpt bundle "
                              f"quantize-cpu {self.bundle.root} --task {name} --images DIR' first")
        low, high = self.runner.limits().get("classes", (2, None))
        if high is not None and not low <= len(task.classes) <= high:
            raise BundleError(f"task {name!r} has {len(task.classes)} classes; this engine takes {low} to {high}. "
                              f"Rebuild it with 'vpt deploy build-engine {self.bundle.root} --max-classes "
                              f"{len(task.classes)}'")
        self._current = task

    # -- prediction --------------------------------------------------------
    def predict_rgb(self, rgb: np.ndarray) -> StationResult:
        return self.predict_batch([rgb])[0]

    def predict_batch(self, images: Sequence[np.ndarray]) -> list[StationResult]:
        """Classify uint8 ``HxWx3`` RGB images with the current task.

        ``preprocess_ms`` is per image; ``inference_ms`` is the batch's run time
        shared equally among its images.
        """
        if len(images) == 0:
            return []
        task = self._current
        results = []
        max_batch = self.runner.limits().get("batch", (1, None))[1] or len(images)
        for start in range(0, len(images), max_batch):
            results += self._run_chunk(task, images[start:start + max_batch])
        return results

    def _run_chunk(self, task: _PreparedTask, images: Sequence[np.ndarray]) -> list[StationResult]:
        started = time.perf_counter()
        batch = np.stack([task.spec(image) for image in images]).astype(np.float32, copy=False)
        preprocessed = time.perf_counter()
        logits = self.runner.infer({IMAGE_INPUT: batch, **task.feed})["logits"]
        finished = time.perf_counter()
        preprocess_ms = (preprocessed - started) * 1000 / len(images)
        inference_ms = (finished - preprocessed) * 1000 / len(images)
        probabilities = softmax(logits.astype(np.float64))
        results = []
        for row in probabilities:
            best = int(row.argmax())
            results.append(StationResult(task.classes[best], best, float(row[best]), row.astype(np.float32),
                                         preprocess_ms, inference_ms))
        return results

    def close(self) -> None:
        self.runner.close()

    def __enter__(self) -> "Station":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

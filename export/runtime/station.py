"""The inspection-station API: one backbone loaded once, tasks switched in microseconds.

    station = Station("bundle/")             # ONNX Runtime, or a TensorRT engine if one fits
    station.set_task("surface")              # no reload: swaps prepared arrays
    result = station.predict_rgb(rgb)        # uint8 HxWx3 -> StationResult
    results = station.predict_mixed([(rgb1, "surface"), (rgb2, "variant")])   # one engine run, two tasks
    station.reload_tasks()                   # tasks added/replaced/removed in the bundle; backbone kept

Every task's prompts and head are prepared as read-only float32 arrays when the
station opens, so ``set_task`` only changes which ones the next frame is fed
with, and images of different tasks can share one batch. Imports neither torch nor Qt.

Threads: the task table is replaced as a whole (never changed in place), so a
prediction that has picked its task keeps using that version even while
``reload_tasks`` runs. ``prepare`` (preprocessing) may run on any thread;
ONNX Runtime sessions may be run from several threads, a TensorRT engine may
not, so a server runs the engine from one thread (``vpt serve`` does).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import numpy as np

from vpt_core.contract import FEATURES_OUTPUT, TaskTensors
from vpt_core.manifest import read_manifest
from vpt_core.errors import BundleError, TaskPackError
from vpt_core.metrics import softmax
from vpt_core.preprocess import PreprocessSpec

from .bundle import Bundle, BundleTask
from .runners import Runner, open_runner
from .trt_sidecar import engine_task_scope


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
    task_sha256: str = ""       # the pack that produced the answer, as the bundle's manifest records it

    def to_dict(self, classes: Sequence[str] | None = None) -> dict[str, Any]:
        document: dict[str, Any] = {"task": self.task, "task_sha256": self.task_sha256, "label": self.label,
                                    "index": self.index,
                                    "confidence": self.confidence, "uncertain": self.uncertain,
                                    "preprocess_ms": self.preprocess_ms, "inference_ms": self.inference_ms}
        if classes is not None:
            document["probabilities"] = {name: float(p) for name, p in zip(classes, self.probabilities)}
        else:
            document["probabilities"] = [float(p) for p in self.probabilities]
        return document


@dataclass(frozen=True)
class StationTask:
    """One task ready to run: read-only arrays, preprocessing, threshold, and the pack it came from."""

    name: str
    classes: tuple[str, ...]
    tensors: TaskTensors = field(repr=False)
    spec: PreprocessSpec = field(repr=False)
    min_confidence: float = 0.0
    sha256: str = ""
    source: BundleTask | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class PreparedImage:
    """An image preprocessed for one task, ready for an engine run (any thread may prepare one)."""

    tensor: np.ndarray = field(repr=False)
    task: StationTask
    preprocess_ms: float


@dataclass(frozen=True)
class TaskReload:
    """What ``reload_tasks`` found changed in the bundle."""

    added: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    current: str = ""

    @property
    def changed(self) -> bool:
        return bool(self.added or self.replaced or self.removed)


class Station:
    def __init__(self, bundle_dir: str | os.PathLike | Bundle, backend: str = "auto",
                 providers: Sequence[Any] | None = None, *, threads: int | None = None, int8_cpu: bool = False):
        """``bundle_dir`` may be a Bundle already opened (and checked) by the caller."""
        self.bundle = bundle_dir if isinstance(bundle_dir, Bundle) else Bundle.open(bundle_dir)
        if not self.bundle.tasks:
            raise BundleError(f"{self.bundle.root}: the bundle has no tasks; add one with 'vpt bundle add-task'")
        self._int8_cpu = int8_cpu
        self._int8_tasks = set(self.bundle.int8_cpu_tasks) if int8_cpu else None
        self.runner: Runner
        self.runner, self.notes = open_runner(self.bundle, backend, providers, threads, int8_cpu)
        self.notes += self.bundle.describe_problems()
        self._engine_tasks, scope_notes = engine_task_scope(getattr(self.runner, "sidecar", None), self.bundle.tasks)
        self.notes += scope_notes
        self._lock = threading.RLock()   # serialises changes of the task table, never predictions
        self._tasks: dict[str, StationTask] = {name: self._prepare(task) for name, task in self.bundle.tasks.items()}
        self._current: StationTask | None = None
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
    def _prepare(task: BundleTask) -> StationTask:
        return StationTask(task.name, tuple(task.pack.classes), task.tensors, task.pack.preprocess_spec,
                           task.pack.min_confidence, str(task.entry.get("sha256", "")), task)

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

    @property
    def tasks(self) -> dict[str, StationTask]:
        """The task table now in force (a snapshot: reloads replace it, never change it)."""
        return self._tasks

    @property
    def current(self) -> StationTask:
        return self._current

    def set_task(self, name: str) -> None:
        """Switch task: no file is read and nothing is reloaded."""
        with self._lock:
            self._current = self.task(name)

    def task(self, name: str) -> StationTask:
        """The prepared task ``name``, or BundleError listing the tasks there are (or why it was left out)."""
        tasks = self._tasks
        task = tasks.get(name)
        if task is None and name in self.bundle.problems:
            raise BundleError(f"task {name!r} cannot be used: {self.bundle.problems[name]}")
        if task is None:
            raise BundleError(f"no task {name!r} in this bundle; tasks: {', '.join(tasks)}")
        if self._engine_tasks is not None and name not in self._engine_tasks:
            raise BundleError(f"task {name!r} is not one the INT8 engine {self.runner.sidecar.engine_file} was "
                              f"calibrated for; use --backend onnxruntime, or rebuild the engine calibrated on "
                              f"every task: vpt deploy build-engine {self.bundle.root} --int8 --calib-dir DIR")
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
        return self._predict([(image, self.task(name)) for image, name in items])

    def prepare(self, rgb: np.ndarray, task: str | StationTask | None = None) -> PreparedImage:
        """Preprocess ``rgb`` for ``task`` (a name, a task already looked up, or None: the current task)."""
        if not isinstance(task, StationTask):
            task = self._current if task is None else self.task(task)
        return self._prepare_image(rgb, task)

    @staticmethod
    def _prepare_image(rgb: np.ndarray, task: StationTask) -> PreparedImage:
        started = time.perf_counter()
        tensor = task.spec(rgb)
        return PreparedImage(tensor, task, (time.perf_counter() - started) * 1000)

    def predict_prepared(self, items: Sequence[PreparedImage]) -> list[StationResult]:
        """One engine run per chunk of prepared images (chunks: the runner's batch limit), tasks mixed."""
        results: list[StationResult] = []
        max_batch = self.runner.limits().get("batch", (1, None))[1] or max(1, len(items))
        for start in range(0, len(items), max_batch):
            results += self._run_chunk(items[start:start + max_batch])
        return results

    def _predict(self, items: Sequence[tuple[np.ndarray, StationTask]]) -> list[StationResult]:
        return self.predict_prepared([self._prepare_image(image, task) for image, task in items])

    def _run_chunk(self, items: Sequence[PreparedImage]) -> list[StationResult]:
        batch = np.stack([item.tensor for item in items]).astype(np.float32, copy=False)
        tasks = [item.task for item in items]
        single = all(task is tasks[0] for task in tasks)
        feed = self.bundle.contract.feed(batch, tasks[0].tensors if single else [t.tensors for t in tasks])
        started = time.perf_counter()
        features = self.runner.infer(feed)[FEATURES_OUTPUT]
        inference_ms = (time.perf_counter() - started) * 1000 / len(items)
        results = []
        for row, item in zip(features, items):
            task = item.task
            probabilities = softmax(task.tensors.logits(row[None].astype(np.float64)))[0]
            best = int(probabilities.argmax())
            confidence = float(probabilities[best])
            results.append(StationResult(task.classes[best], best, confidence, probabilities.astype(np.float32),
                                         item.preprocess_ms, inference_ms, confidence < task.min_confidence,
                                         task.name, task.sha256))
        return results

    # -- bundle changes ---------------------------------------------------------------
    def reload_tasks(self) -> TaskReload:
        """Pick up tasks added, replaced, removed or rolled back in the bundle; the backbone session stays.

        Tasks whose pack (sha256) is unchanged keep their prepared arrays, so a
        runner's device copies of them stay valid. The current task stays current
        (in its new version if it was replaced); if it was removed, the first
        usable task becomes current. A bundle that now names another backbone is
        refused: that needs a new Station.
        """
        with self._lock:
            named = str(read_manifest(self.bundle.root)["backbone"].get("sha256"))
            if named != self.bundle.backbone_sha256:
                raise BundleError(f"{self.bundle.root}: the manifest now names another backbone (sha256 "
                                  f"{named[:12]}..., running {self.bundle.backbone_sha256[:12]}...); restart the "
                                  "station to load it")
            bundle = self._reopen_bundle()
            if not bundle.tasks:
                raise BundleError(f"{bundle.root}: the bundle has no tasks any more")
            old, tasks = self._tasks, {}
            for name, task in bundle.tasks.items():
                kept = old.get(name)
                if kept is not None and kept.sha256 == task.entry.get("sha256"):
                    tasks[name] = replace(kept, source=task)   # same arrays, the manifest entry of now
                else:
                    tasks[name] = self._prepare(task)
            current = self._current.name if self._current is not None else ""
            self.bundle = bundle
            if self._int8_cpu:
                self._int8_tasks = set(bundle.int8_cpu_tasks)
            self._tasks = tasks
            if current in tasks:
                self._current = tasks[current]
            else:
                self._select_first_usable_task()
            return TaskReload(added=tuple(n for n in tasks if n not in old),
                              replaced=tuple(n for n in tasks if n in old and tasks[n].sha256 != old[n].sha256),
                              removed=tuple(n for n in old if n not in tasks), current=self._current.name)

    def _reopen_bundle(self, attempts: int = 3) -> Bundle:
        # Readers take no lock: a change committed while we read may delete a pack the manifest we read
        # still named. Reading again then finds the newer manifest and its files.
        # Bundle.open leaves out a task whose pack it cannot read instead of failing: that too may be such a
        # race, so a bundle with a task left out is read again before it is taken as it is.
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                bundle = Bundle.open(self.bundle.root, known_backbone_sha256=self.bundle.backbone_sha256)
            except (BundleError, TaskPackError):
                if last:
                    raise
            else:
                if not bundle.problems or last:
                    return bundle
            time.sleep(0.05)
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.runner.close()

    def __enter__(self) -> "Station":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

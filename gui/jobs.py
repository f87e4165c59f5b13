"""The app's long jobs as plain functions ``job(emit, cancel)`` (Qt-free; run by gui.workers).

Heavy modules (torch, the exporter) are imported inside the jobs, in the worker
thread, so the window opens fast and stays responsive.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from vpt_engine import events as ev
from vpt_engine.prompts import PromptConfig
from vpt_engine.train_config import TrainConfig
from vpt_core.errors import TrainingCancelled, VptError

from .project_files import ImportResult, import_images
from .run_progress import LOADING_BACKBONE   # a phase of our own, before the engine's


def import_engine_libraries() -> None:
    """Import torch and timm now, before the window exists. Loading their native libraries holds Python's
    lock for up to half a second (measured: torch 0.47 s, timm 0.18 s on two cores); inside a training job
    that froze the window mid-run, at start-up it only delays the window."""
    import timm  # noqa: F401
    import torch  # noqa: F401


_backbone_lock = threading.Lock()
_backbone_cache: dict[str, Any] = {}


def cached_backbone(config_dict: dict[str, Any]):
    """Load a backbone once per app session (the most recent one is kept: they can be large)."""
    from vpt_engine.backbone import BackboneConfig, load_backbone

    key = json.dumps(config_dict, sort_keys=True)
    with _backbone_lock:
        if key not in _backbone_cache:
            _backbone_cache.clear()
            _backbone_cache[key] = load_backbone(BackboneConfig.from_dict(config_dict))
        return _backbone_cache[key]


@contextlib.contextmanager
def leave_a_core_for_the_window():
    """Torch would take every core; on a small PC that makes the window stutter. Restored afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(max(1, min(before, (os.cpu_count() or 2) - 1)))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def project_index(images_dir: Path, classes: list[str]):
    """The engine's folder index for exactly ``classes`` (other folders in the project are ignored)."""
    from vpt_engine.dataset import ImageFolderIndex
    from vpt_core.images import is_image_file

    files = []
    for label, name in enumerate(classes):
        folder = Path(images_dir) / name
        if folder.is_dir():
            files += [(p, label) for p in sorted(folder.iterdir()) if p.is_file() and is_image_file(p)]
    return ImageFolderIndex(Path(images_dir), list(classes), files)


def _loading_progress(emit, cancel: threading.Event) -> Callable[[int, int], None]:
    def report(done: int, total: int) -> None:
        if cancel.is_set():
            raise TrainingCancelled("cancelled while reading images")
        emit(ev.Progress(ev.Phase.LOADING, done, total))
    return report


# -- training --------------------------------------------------------------
@dataclass
class TrainRequest:
    images_dir: Path
    classes: list[str]
    backbone: dict[str, Any]
    task_path: Path
    num_prompts: int = PromptConfig().num_prompts
    depth: str = PromptConfig().depth.value
    init: str = PromptConfig().init.value
    steps: int | None = TrainConfig().steps    # None: the engine's budget
    learning_rate: float = TrainConfig().learning_rate
    batch_size: int = TrainConfig().batch_size
    auto: bool = False                    # let the engine choose prompt count and initialisation
    settings: dict[str, Any] = field(default_factory=dict)   # as shown in the app, stored in the pack


@dataclass
class TrainedRun:
    path: Path
    metrics: dict[str, Any]
    history: list[dict[str, Any]]
    auto_report: dict[str, Any] | None


def check_fraction(counts: dict[str, int]) -> float:
    """Set a fifth aside for the honest check only when every class can spare pictures for it."""
    return 0.2 if counts and min(counts.values()) >= 5 else 0.0


def training_job(request: TrainRequest):
    def job(emit, cancel: threading.Event) -> TrainedRun | None:
        with leave_a_core_for_the_window():
            return _train(request, emit, cancel)
    return job


def _train(request: TrainRequest, emit, cancel: threading.Event) -> TrainedRun | None:
    from vpt_engine.autoselect import train_task
    from vpt_engine.dataset import load_images
    from vpt_engine.prompts import PromptConfig
    from vpt_engine.taskpack import save_task

    started = time.perf_counter()
    emit(ev.PhaseStarted(LOADING_BACKBONE, 0))
    backbone = cached_backbone(request.backbone)
    index = project_index(request.images_dir, request.classes)
    emit(ev.PhaseStarted(ev.Phase.LOADING, len(index.files)))
    try:
        data = load_images(index, backbone.preprocess, on_progress=_loading_progress(emit, cancel))
    except TrainingCancelled:
        return None
    prompt_config = PromptConfig(num_prompts=request.num_prompts, depth=request.depth, init=request.init)
    train_config = TrainConfig(steps=request.steps, learning_rate=request.learning_rate,
                               batch_size=request.batch_size, check_fraction=check_fraction(data.counts()))
    auto = None
    if request.auto:
        from vpt_engine.autoselect import AutoSelectConfig

        auto = AutoSelectConfig(choose_init=True, choose_prompts=True, time_budget_s=None)
    for event in train_task(backbone, data, prompt_config, train_config, auto, cancel):
        if isinstance(event, ev.Cancelled):
            return None
        if isinstance(event, ev.Finished):
            result = event.result
            # The pictures it was given (so Evaluate can tell new ones apart) and the whole run's time.
            extra = {"app": {"settings": request.settings,
                             "training_files": [f"{p.parent.name}/{p.name}" for p in data.paths],
                             "run_seconds": round(time.perf_counter() - started, 1)}}
            if result.auto_report:
                extra["auto_selection"] = result.auto_report
            path = save_task(result, backbone, request.task_path, name=request.task_path.stem, extra=extra)
            return TrainedRun(path, dict(result.metrics), list(result.history), result.auto_report)
        emit(event)
    return None


# -- evaluation ------------------------------------------------------------
@dataclass
class EvaluationOutcome:
    task_path: Path
    report: Any                      # vpt_core.metrics.ClassificationReport
    paths: list[Path]                # image of each report row
    skipped: list[str]
    ignored_classes: list[str]       # project classes the task does not know


def evaluation_job(task_path: Path, images_dir: Path, project_classes: list[str]):
    def job(emit, cancel: threading.Event) -> EvaluationOutcome | None:
        from vpt_engine.dataset import load_images
        from vpt_engine.inference import evaluate
        from vpt_core.packformat import read_task_pack
        from vpt_engine.taskpack import backbone_config_for, load_task

        emit(ev.PhaseStarted(LOADING_BACKBONE, 0))
        pack = read_task_pack(task_path)
        backbone = cached_backbone(backbone_config_for(pack).to_dict())
        task = load_task(task_path, backbone=backbone)
        index = project_index(images_dir, pack.classes)
        emit(ev.PhaseStarted(ev.Phase.LOADING, len(index.files)))
        try:
            data = load_images(index, backbone.preprocess, require_every_class=False,
                               on_progress=_loading_progress(emit, cancel))
        except TrainingCancelled:
            return None
        emit(ev.PhaseStarted(ev.Phase.EVAL, len(data)))
        report = evaluate(task, data)
        return EvaluationOutcome(Path(task_path), report, list(data.paths), [reason for _, reason in data.skipped],
                                 [c for c in project_classes if c not in pack.classes])
    return job


# -- export ----------------------------------------------------------------
@dataclass
class ExportOutcome:
    bundle_dir: Path
    report: Any                      # export.bundle_builder.ExportReport


@dataclass(frozen=True)
class ExportProgress:
    message: str
    done: int = 0
    total: int = 0


class ExportCancelled(VptError):
    """Raised from the exporter's progress callback to stop it; it then removes its staging folder."""


def export_job(task_paths: list[Path], bundle_dir: Path, parity_images: list[Path]):
    """The bundle, or None when cancelled (the exporter writes into a staging folder: nothing is left behind)."""
    def job(emit, cancel: threading.Event) -> ExportOutcome | None:
        from export.bundle_builder import export_bundle

        def on_progress(stage: str, fraction: float) -> None:
            if cancel.is_set() and fraction < 1.0:   # at 1.0 the bundle is already in place: keep it
                raise ExportCancelled("export cancelled")
            emit(ExportProgress(str(stage), int(round(100 * float(fraction))), 100))

        try:
            report = export_bundle([str(p) for p in task_paths], str(bundle_dir), parity=True,
                                   parity_images=[str(p) for p in parity_images] or None, on_progress=on_progress)
        except ExportCancelled:
            return None
        return ExportOutcome(Path(bundle_dir), report)   # complete, even if Cancel came after the last step
    return job


# -- import ----------------------------------------------------------------
def import_job(groups: list[tuple[list[Path], Path]]):
    """Copy each group of pictures into its class folder; one result for all (progress over all of them)."""
    def job(emit, cancel: threading.Event) -> ImportResult:
        total, done_before, merged = sum(len(paths) for paths, _ in groups), 0, ImportResult()
        for paths, folder in groups:
            result = import_images(paths, folder, should_stop=cancel.is_set,
                                   on_progress=lambda d, t, base=done_before: emit(ev.Progress("import", base + d,
                                                                                                total)))
            merged.added += result.added
            merged.skipped += result.skipped
            done_before += len(paths)
            if cancel.is_set():
                break
        return merged
    return job

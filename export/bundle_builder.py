"""Build deploy bundles from task packs, and add tasks to them later.

``export_bundle`` (needs torch) rebuilds the backbone the packs were trained
on, exports it once with per-image prompts as inputs, checks the graph, proves
parity with PyTorch for every task and for a batch mixing all of them, and only
then installs the finished bundle: a new folder appears with one rename; an
existing bundle (``overwrite``) is changed in place through its manifest, the
one commit point of ``export.runtime.bundle_edit``, so a kill at any instant
leaves the old bundle or the new one, never neither.

A bundle has a fixed number of prompt slots (by default the most prompts any of
its tasks has, and at least ``DEFAULT_PROMPT_SLOTS``); tasks with fewer prompts,
or none, leave the rest masked. Tasks must share the backbone and the prompt
depth (deep or shallow).

``add_task`` is the station-side ``bundle_edit.add_task`` plus, on request, a
PyTorch parity check.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from vpt_core import faults
from vpt_core.atomicio import atomic_write_bytes
from vpt_core.contract import BundleContract
from vpt_core.errors import DiskWriteError, ExportError, IncompatibleTaskError, TaskPackError
from vpt_core.manifest import (BACKBONE_NAME, MANIFEST_NAME, TASKS_DIR, make_shareable, new_manifest, sha256_file,
                               task_entry, write_manifest)
from vpt_core.packformat import PACK_SUFFIX, TaskPackData, read_task_pack

from .runtime import bundle_edit
from .runtime.bundle_edit import change_bundle, check_task_name, write_bundle_texts

ProgressCallback = Callable[[str, float], None]
DEFAULT_PROMPT_SLOTS = 10   # room for tasks added later with the default prompt count


@dataclass
class ExportReport:
    bundle_dir: Path
    backbone_bytes: int
    task_bytes: dict[str, int]
    parity: dict[str, dict[str, Any]]
    graph: dict[str, Any]
    parity_images: str = ""
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    mixed_parity: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"bundle": str(self.bundle_dir), "backbone_bytes": self.backbone_bytes,
                "task_bytes": dict(self.task_bytes), "parity": dict(self.parity), "mixed_parity": self.mixed_parity,
                "graph": dict(self.graph), "parity_images": self.parity_images, "seconds": round(self.seconds, 2),
                "notes": list(self.notes)}


@dataclass(frozen=True)
class ParitySettings:
    enabled: bool = True
    images: str | os.PathLike | Sequence[str] | None = None   # a folder or files; None: the tasks' own images
    tolerance: float | None = None


@dataclass
class _ExportJob:
    """Everything one export works with, built once and passed whole."""

    packs: list[tuple[Path, TaskPackData]]
    backbone: Any
    contract: BundleContract
    parity: ParitySettings
    progress: ProgressCallback


def export_bundle(task_paths: Sequence[str | os.PathLike], out_dir: str | os.PathLike, weights: str | None = None,
                  parity: bool = True, parity_images: str | os.PathLike | Sequence[str] | None = None,
                  on_progress: ProgressCallback | None = None, *, overwrite: bool = False,
                  tolerance: float | None = None, prompt_slots: int | None = None) -> ExportReport:
    """Export ``task_paths`` into a bundle at ``out_dir``; see the module docstring."""
    started = time.perf_counter()
    progress = on_progress or (lambda stage, fraction: None)
    out_dir = Path(out_dir)
    _check_destination(out_dir, overwrite)
    packs = _read_packs(task_paths)
    progress("loading backbone", 0.05)
    from vpt_engine.backbone import load_backbone
    from vpt_engine.taskpack import backbone_config_for

    backbone = load_backbone(backbone_config_for(packs[0][1], weights))
    for path, pack in packs:
        pack.check_compatible(backbone.fingerprint, source=str(path))
    job = _ExportJob(packs, backbone, bundle_contract(backbone, packs, prompt_slots),
                     ParitySettings(parity, parity_images, tolerance), progress)
    bundle_edit.remove_abandoned_staging(out_dir)
    with bundle_edit.staging_folder(out_dir) as staging:
        report = _build_into(staging, job)
        _install(staging, out_dir)
    report.bundle_dir = out_dir
    report.seconds = time.perf_counter() - started
    progress("done", 1.0)
    return report


def bundle_contract(backbone, packs: Sequence[tuple[Path, TaskPackData]], prompt_slots: int | None) -> BundleContract:
    most = max(pack.prompt_shape[1] for _, pack in packs)
    if prompt_slots is None:
        prompt_slots = max(most, DEFAULT_PROMPT_SLOTS)
    elif not isinstance(prompt_slots, int) or isinstance(prompt_slots, bool) or prompt_slots < max(most, 1):
        raise ExportError(f"--prompt-slots must be a whole number of at least {max(most, 1)} (the most prompts a "
                          f"task here has), got {prompt_slots!r}")
    fingerprint = backbone.fingerprint
    return BundleContract.for_backbone(backbone.preprocess.input_size, packs[0][1].prompt_shape[0], prompt_slots,
                                       fingerprint.embed_dim, fingerprint.num_patches, fingerprint.num_prefix_tokens,
                                       depth=backbone.depth)


def _build_into(root: Path, job: _ExportJob) -> ExportReport:
    import torch

    from .onnx_export import EXPORT_OPSET, EXPORTER, export_backbone_onnx

    job.progress("exporting backbone.onnx", 0.15)
    graph = export_backbone_onnx(job.backbone.model, job.contract, root / BACKBONE_NAME)
    results, mixed, image_source, notes = {}, None, "", []
    if job.parity.enabled:
        results, mixed, image_source, notes = _run_parity(root, job)
    else:
        notes.append("parity check skipped on request")
    job.progress("writing bundle", 0.9)
    backbone_entry = {"file": BACKBONE_NAME, "sha256": sha256_file(root / BACKBONE_NAME),
                      "size_bytes": (root / BACKBONE_NAME).stat().st_size, "opset": graph.opset,
                      "fingerprint": job.backbone.fingerprint.to_dict(), "graph": graph.to_dict(),
                      "fp32_nodes": graph.fp32_node_names}
    manifest = new_manifest(backbone=backbone_entry, contract=job.contract.to_dict(),
                            preprocess=job.backbone.preprocess.to_dict(),
                            export_info={"exporter": EXPORTER, "opset": EXPORT_OPSET, "torch_version": torch.__version__,
                                         "parity_images": image_source, "mixed_task_parity": mixed})
    for path, pack in job.packs:
        target = root / TASKS_DIR / f"{pack.name}{PACK_SUFFIX}"
        atomic_write_bytes(target, Path(path).read_bytes())
        manifest["tasks"].append(task_entry(pack.name, target, root, pack.classes, results.get(pack.name)))
    write_bundle_texts(root, manifest)
    write_manifest(root, manifest)
    for path in root.rglob("*"):
        make_shareable(path)
    return ExportReport(bundle_dir=root, backbone_bytes=backbone_entry["size_bytes"],
                        task_bytes={entry["name"]: entry["size_bytes"] for entry in manifest["tasks"]},
                        parity=results, graph=graph.to_dict(), parity_images=image_source, notes=notes,
                        mixed_parity=mixed)


def _run_parity(root: Path, job: _ExportJob):
    from .parity import DEFAULT_TOLERANCE, collect_parity_images, compare_mixed, compare_task, raise_on_failures
    from .runtime.runners import OnnxRuntimeRunner

    tolerance = job.parity.tolerance or DEFAULT_TOLERANCE
    source = job.parity.images if job.parity.images is not None else _training_folder(job.packs)
    images = collect_parity_images(source)
    runner = OnnxRuntimeRunner(root / BACKBONE_NAME, job.contract, ["CPUExecutionProvider"])
    tasks, results = [], []
    for index, (path, pack) in enumerate(job.packs):
        job.progress(f"parity: {pack.name}", 0.3 + 0.5 * index / len(job.packs))
        tasks.append(_parity_task(path, pack, job.contract, backbone=job.backbone))
        results.append(compare_task(tasks[-1], runner, job.contract, images, tolerance))
    mixed = None
    if len(tasks) > 1:
        job.progress("parity: all tasks in one batch", 0.85)
        mixed = compare_mixed(tasks, runner, job.contract, images, tolerance)
    runner.close()
    raise_on_failures(results + ([mixed] if mixed else []))
    notes = [f"skipped unreadable parity image: {reason}" for reason in images.skipped]
    if not images.real:
        notes.append("parity used synthetic images; pass parity_images (a folder of real images) to check on those")
    return {r.task: r.to_dict() for r in results}, mixed.to_dict() if mixed else None, images.source, notes


def _parity_task(path, pack, contract, backbone=None, weights=None):
    from vpt_engine.taskpack import load_task

    from .parity import ParityTask

    task = load_task(path, backbone=backbone, weights=weights)
    return ParityTask(pack.name, task.model, pack, pack.bundle_tensors(contract, str(path)))


def _training_folder(packs) -> str | None:
    """The first task's own training images, when they are still where the pack says."""
    for _, pack in packs:
        folder = (pack.training.get("data") or {}).get("data_dir")
        if folder and Path(folder).is_dir():
            return folder
    return None


def _read_packs(task_paths: Sequence[str | os.PathLike]) -> list[tuple[Path, TaskPackData]]:
    if not task_paths:
        raise ExportError("no task packs given; pass at least one TASK.vptask")
    packs = [(Path(path), read_task_pack(path)) for path in task_paths]
    names: dict[str, Path] = {}
    first_path, first = packs[0]
    for path, pack in packs:
        try:
            check_task_name(pack.name, str(path))
        except Exception as error:
            raise TaskPackError(str(error)) from error
        if pack.name in names:
            raise ExportError(f"two packs are named {pack.name!r} ({names[pack.name]} and {path}); "
                              "task names must be unique in a bundle")
        names[pack.name] = path
        problems = first.backbone.differences(pack.backbone)
        if pack.prompt_shape[0] != first.prompt_shape[0]:
            problems.append(f"prompt layers {pack.prompt_shape[0]} vs {first.prompt_shape[0]} (deep and shallow "
                            "tasks need separate bundles)")
        if problems:
            raise IncompatibleTaskError(f"{path} cannot share a bundle with {first_path}: " + "; ".join(problems))
    return packs


def _check_destination(out_dir: Path, overwrite: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"{out_dir} exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not (out_dir / MANIFEST_NAME).is_file():
            raise ExportError(f"{out_dir} is not empty and not a bundle; choose an empty or new folder")
        if not overwrite:
            raise ExportError(f"{out_dir} already holds a bundle; add tasks with 'vpt bundle add-task' or "
                              "export with --overwrite to replace it")


def _install(staging: Path, out_dir: Path) -> None:
    """A new folder: one rename. An existing bundle: files moved in under unused names, then one manifest commit."""
    if not (out_dir / MANIFEST_NAME).is_file():
        try:
            faults.step("move", out_dir)
            os.replace(staging, out_dir)   # replaces an empty folder too (checked empty before the export)
        except OSError as error:
            raise DiskWriteError(f"cannot move the bundle into {out_dir}: {error.strerror or error}") from error
        return
    from vpt_core.manifest import read_manifest

    manifest = read_manifest(staging)
    with change_bundle(out_dir) as change:
        backbone = manifest["backbone"]
        backbone["file"] = _moved(change, staging, backbone["file"])
        for entry in manifest["tasks"]:
            entry["file"] = _moved(change, staging, entry["file"])
        change.manifest.clear()
        change.manifest.update(manifest)


def _moved(change: bundle_edit.BundleChange, staging: Path, relative: str) -> str:
    return change.adopt(staging / relative, relative).relative_to(change.root).as_posix()


# -- adding a task ------------------------------------------------------------------------
def add_task(bundle_dir: str | os.PathLike, pack_path: str | os.PathLike, *, replace: bool = False,
             parity: bool = False, weights: str | None = None,
             parity_images: str | os.PathLike | Sequence[str] | None = None,
             tolerance: float | None = None) -> dict[str, Any]:
    """Add a task pack to a bundle (see ``bundle_edit.add_task``); ``parity=True`` also compares with PyTorch."""
    check = _parity_check(pack_path, weights, ParitySettings(True, parity_images, tolerance)) if parity else None
    return bundle_edit.add_task(bundle_dir, pack_path, replace=replace, parity=check)


def _parity_check(pack_path, weights, settings: ParitySettings):
    def check(pack: TaskPackData, change: bundle_edit.BundleChange) -> dict[str, Any]:
        from .parity import DEFAULT_TOLERANCE, collect_parity_images, compare_task, raise_on_failures
        from .runtime.runners import OnnxRuntimeRunner

        task = _parity_task(pack_path, pack, change.contract, weights=weights)
        runner = OnnxRuntimeRunner(change.root / change.manifest["backbone"]["file"], change.contract,
                                   ["CPUExecutionProvider"])
        try:
            result = compare_task(task, runner, change.contract, collect_parity_images(settings.images),
                                  settings.tolerance or DEFAULT_TOLERANCE)
        finally:
            runner.close()
        raise_on_failures([result])
        return result.to_dict()

    return check

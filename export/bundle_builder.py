"""Build deploy bundles from task packs, and add tasks to them later.

``export_bundle`` (needs torch) rebuilds the backbone the packs were trained
on, exports it once with prompts and head as inputs, checks the graph, proves
parity with PyTorch for every task, and only then moves the finished bundle
into place (a failed export leaves nothing behind). ``add_task`` copies a
compatible pack in and updates the manifest; ``backbone.onnx`` is not touched.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from vpt_core.atomicio import atomic_write_bytes, atomic_write_text
from vpt_core.errors import TaskPackError
from vpt_core.packformat import PACK_SUFFIX, TaskPackData, read_task_pack

from .bundle_scripts import build_engine_script, readme_text
from vpt_core.contract import BundleContract
from vpt_core.errors import BundleError, DiskWriteError, ExportError, IncompatibleTaskError
from vpt_core.manifest import (BACKBONE_NAME, BUILD_SCRIPT_NAME, MANIFEST_NAME, README_NAME, TASKS_DIR, make_shareable,
                       new_manifest, read_manifest, sha256_file, task_entry, write_manifest)

ProgressCallback = Callable[[str, float], None]


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

    def to_dict(self) -> dict[str, Any]:
        return {"bundle": str(self.bundle_dir), "backbone_bytes": self.backbone_bytes,
                "task_bytes": dict(self.task_bytes), "parity": dict(self.parity), "graph": dict(self.graph),
                "parity_images": self.parity_images, "seconds": round(self.seconds, 2), "notes": list(self.notes)}


def export_bundle(task_paths: Sequence[str | os.PathLike], out_dir: str | os.PathLike, weights: str | None = None,
                  parity: bool = True, parity_images: str | os.PathLike | Sequence[str] | None = None,
                  on_progress: ProgressCallback | None = None, *, overwrite: bool = False,
                  tolerance: float | None = None) -> ExportReport:
    """Export ``task_paths`` into a new bundle at ``out_dir``; see the module docstring."""
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
        pack.check_compatible(backbone.fingerprint, packs[0][1].prompt_shape, source=str(path))
    contract = BundleContract.for_task(backbone.preprocess.input_size, packs[0][1].prompt_shape,
                                       backbone.fingerprint.num_patches, backbone.fingerprint.num_prefix_tokens)
    staging = _make_staging_dir(out_dir)
    try:
        report = _build_into(staging, packs, backbone, contract, parity, parity_images, tolerance, progress)
        _move_into_place(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    report.bundle_dir = out_dir
    report.seconds = time.perf_counter() - started
    progress("done", 1.0)
    return report


def _build_into(root: Path, packs, backbone, contract, parity, parity_images, tolerance, progress) -> ExportReport:
    import torch

    from .onnx_export import EXPORT_OPSET, EXPORTER, export_backbone_onnx

    progress("exporting backbone.onnx", 0.15)
    graph = export_backbone_onnx(backbone.model, contract, root / BACKBONE_NAME)
    results, image_source, notes = {}, "", []
    if parity:
        results, image_source, notes = _run_parity(root, packs, backbone, contract, parity_images, tolerance, progress)
    else:
        notes.append("parity check skipped on request")
    progress("writing bundle", 0.9)
    backbone_entry = {"file": BACKBONE_NAME, "sha256": sha256_file(root / BACKBONE_NAME),
                      "size_bytes": (root / BACKBONE_NAME).stat().st_size, "opset": graph.opset,
                      "fingerprint": backbone.fingerprint.to_dict(), "graph": graph.to_dict(),
                      "fp32_nodes": graph.fp32_node_names}
    manifest = new_manifest(backbone=backbone_entry, contract=contract.to_dict(),
                            preprocess=backbone.preprocess.to_dict(),
                            export_info={"exporter": EXPORTER, "opset": EXPORT_OPSET, "torch_version": torch.__version__,
                                         "parity_images": image_source})
    for path, pack in packs:
        target = root / TASKS_DIR / f"{pack.name}{PACK_SUFFIX}"
        atomic_write_bytes(target, Path(path).read_bytes())
        manifest["tasks"].append(task_entry(pack.name, target, root, pack.classes, results.get(pack.name)))
    _write_bundle_texts(root, manifest, contract)
    write_manifest(root, manifest)
    for path in root.rglob("*"):
        make_shareable(path)
    return ExportReport(bundle_dir=root, backbone_bytes=backbone_entry["size_bytes"],
                        task_bytes={entry["name"]: entry["size_bytes"] for entry in manifest["tasks"]},
                        parity=results, graph=graph.to_dict(), parity_images=image_source, notes=notes)


def _run_parity(root, packs, backbone, contract, parity_images, tolerance, progress):
    from vpt_engine.taskpack import load_task

    from .parity import DEFAULT_TOLERANCE, collect_parity_images, compare_task, raise_on_failures
    from .runtime.runners import OnnxRuntimeRunner

    images = collect_parity_images(parity_images if parity_images is not None else _training_folder(packs))
    runner = OnnxRuntimeRunner(root / BACKBONE_NAME, contract, ["CPUExecutionProvider"])
    results = []
    for index, (path, pack) in enumerate(packs):
        progress(f"parity: {pack.name}", 0.3 + 0.6 * index / len(packs))
        task = load_task(path, backbone=backbone)
        results.append(compare_task(pack.name, task.model, pack, runner, images, tolerance or DEFAULT_TOLERANCE))
    runner.close()
    raise_on_failures(results)
    notes = [f"skipped unreadable parity image: {reason}" for reason in images.skipped]
    if not images.real:
        notes.append("parity used synthetic images; pass parity_images (a folder of real images) to check on those")
    return {r.task: r.to_dict() for r in results}, images.source, notes


def _training_folder(packs) -> str | None:
    """The first task's own training images, when they are still where the pack says."""
    for _, pack in packs:
        folder = (pack.training.get("data") or {}).get("data_dir")
        if folder and Path(folder).is_dir():
            return folder
    return None


def _write_bundle_texts(root: Path, manifest: dict[str, Any], contract: BundleContract) -> None:
    class_counts = [len(entry["classes"]) for entry in manifest["tasks"]]
    script = root / BUILD_SCRIPT_NAME
    atomic_write_text(script, build_engine_script(contract, manifest["backbone"]["fp32_nodes"], class_counts))
    script.chmod(0o755)
    atomic_write_text(root / README_NAME, readme_text(manifest))


def _read_packs(task_paths: Sequence[str | os.PathLike]) -> list[tuple[Path, TaskPackData]]:
    if not task_paths:
        raise ExportError("no task packs given; pass at least one TASK.vptask")
    packs = [(Path(path), read_task_pack(path)) for path in task_paths]
    names: dict[str, Path] = {}
    first_path, first = packs[0]
    for path, pack in packs:
        _check_task_name(pack.name, path)
        if pack.name in names:
            raise ExportError(f"two packs are named {pack.name!r} ({names[pack.name]} and {path}); "
                              "task names must be unique in a bundle")
        names[pack.name] = path
        problems = first.backbone.differences(pack.backbone)
        if pack.prompt_shape != first.prompt_shape:
            problems.append(f"prompt shape {list(pack.prompt_shape)} vs {list(first.prompt_shape)}")
        if problems:
            raise IncompatibleTaskError(f"{path} cannot share a bundle with {first_path}: " + "; ".join(problems))
    return packs


def _check_task_name(name: str, path: Path) -> None:
    if not name or name.startswith(".") or any(ch in name for ch in '/\\:*?"<>|') or name != name.strip():
        raise TaskPackError(f"{path}: task name {name!r} cannot be used as a file name in the bundle")


def _check_destination(out_dir: Path, overwrite: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"{out_dir} exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not (out_dir / MANIFEST_NAME).is_file():
            raise ExportError(f"{out_dir} is not empty and not a bundle; choose an empty or new folder")
        if not overwrite:
            raise ExportError(f"{out_dir} already holds a bundle; add tasks with 'vpt bundle add-task' or "
                              "export with --overwrite to replace it")


def _make_staging_dir(out_dir: Path) -> Path:
    """A hidden sibling of ``out_dir`` (same file system, so the final move is a rename)."""
    parent = out_dir.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".partial", dir=parent))
        staging.chmod(0o755)  # mkdtemp makes it private; a bundle is meant to be copied and shared
    except OSError as error:
        raise DiskWriteError(f"cannot write into {parent}: {error.strerror or error}") from error
    return staging


def _move_into_place(staging: Path, out_dir: Path) -> None:
    """Swap the finished bundle in with renames, so the folder is never half written."""
    old = None
    try:
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
            os.replace(out_dir, old)
        os.replace(staging, out_dir)
    except OSError as error:
        if old is not None and not out_dir.exists():
            os.replace(old, out_dir)
        raise DiskWriteError(f"cannot move the bundle into {out_dir}: {error.strerror or error}") from error
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# -- adding a task ------------------------------------------------------------------------
def add_task(bundle_dir: str | os.PathLike, pack_path: str | os.PathLike, *, replace: bool = False,
             parity: bool = False, weights: str | None = None,
             parity_images: str | os.PathLike | Sequence[str] | None = None,
             tolerance: float | None = None) -> dict[str, Any]:
    """Copy a compatible pack into the bundle and list it in the manifest; returns its manifest entry.

    Refuses a pack for another backbone or prompt shape. Always checks the
    pack runs through the bundle's ONNX model (ONNX Runtime, finite logits);
    ``parity=True`` also compares with PyTorch (needs torch and the weights).
    """
    root = Path(bundle_dir)
    manifest = read_manifest(root)
    contract = BundleContract.from_dict(manifest["contract"])
    pack = read_task_pack(pack_path)
    _check_task_name(pack.name, Path(pack_path))
    from vpt_core.packformat import BackboneFingerprint

    pack.check_compatible(BackboneFingerprint.from_dict(manifest["backbone"]["fingerprint"]),
                          contract.prompt_shape, source=str(pack_path))
    existing = [entry for entry in manifest["tasks"] if entry["name"] == pack.name]
    if existing and not replace:
        raise BundleError(f"the bundle already has a task {pack.name!r}; pass --replace to update it")
    if sha256_file(root / BACKBONE_NAME) != manifest["backbone"]["sha256"]:
        raise BundleError(f"{root / BACKBONE_NAME}: sha256 differs from the manifest; export the bundle again")
    _smoke_test(root, contract, pack, pack_path)
    parity_result = _add_task_parity(root, contract, manifest, pack, pack_path, weights, parity_images,
                                     tolerance) if parity else None
    target = root / TASKS_DIR / f"{pack.name}{PACK_SUFFIX}"
    atomic_write_bytes(target, Path(pack_path).read_bytes())
    entry = task_entry(pack.name, target, root, pack.classes, parity_result)
    manifest["tasks"] = [e for e in manifest["tasks"] if e["name"] != pack.name] + [entry]
    atomic_write_text(root / README_NAME, readme_text(manifest))
    write_manifest(root, manifest)
    for path in (target, root / README_NAME, root / MANIFEST_NAME):
        make_shareable(path)
    return entry


def _smoke_test(root: Path, contract: BundleContract, pack: TaskPackData, source) -> None:
    """The pack's tensors must go through the bundle's graph and give finite logits of the right shape."""
    import numpy as np

    from vpt_core.contract import IMAGE_INPUT, task_feed
    from .runtime.runners import OnnxRuntimeRunner

    runner = OnnxRuntimeRunner(root / BACKBONE_NAME, contract, ["CPUExecutionProvider"])
    images = np.zeros((1, *contract.image_shape), dtype=np.float32)
    logits = runner.infer({IMAGE_INPUT: images, **task_feed(pack.prompts, pack.head_weight, pack.head_bias)})["logits"]
    runner.close()
    if logits.shape != (1, pack.num_classes) or not np.all(np.isfinite(logits)):
        raise BundleError(f"{source}: the bundle's model gives unusable logits for this pack ({logits.shape})")


def _add_task_parity(root, contract, manifest, pack, pack_path, weights, parity_images, tolerance):
    from vpt_engine.taskpack import load_task

    from .parity import DEFAULT_TOLERANCE, collect_parity_images, compare_task, raise_on_failures
    from .runtime.runners import OnnxRuntimeRunner

    task = load_task(pack_path, weights=weights)
    if task.backbone.fingerprint.weights_sha256 != manifest["backbone"]["fingerprint"]["weights_sha256"]:
        raise IncompatibleTaskError(f"{pack_path}: the weights found for it differ from the bundle's backbone")
    runner = OnnxRuntimeRunner(root / BACKBONE_NAME, contract, ["CPUExecutionProvider"])
    result = compare_task(pack.name, task.model, pack, runner, collect_parity_images(parity_images),
                          tolerance or DEFAULT_TOLERANCE)
    runner.close()
    raise_on_failures([result])
    return result.to_dict()

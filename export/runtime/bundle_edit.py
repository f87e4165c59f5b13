"""Changing a bundle in place, safely: add, replace, remove and roll back tasks (torch-free).

One rule makes every change crash-safe: **``manifest.json`` is the only commit
point.** A change first writes any new file under a name no manifest refers to
(``tasks/<name>.vptask``, or ``tasks/<name>.<sha12>.vptask`` when that is
taken), then replaces the manifest atomically, and only then deletes files the
new manifest no longer refers to. Files a manifest refers to are never
rewritten. So a process killed at any instant leaves the old manifest (with
every file it names) or the new one (with every file it names); leftovers of an
interrupted change are unreferenced files, removed by the next change.

Writers hold an exclusive lock on ``BUNDLE/.vpt-lock`` for the whole change, so
two commands (or a command and ``vpt serve``) never interleave. Readers need no
lock: they read the manifest, then the files it names, which stay put.

Every change first finishes whatever a killed one left behind
(:func:`finish_interrupted_changes`): unreferenced files are removed,
``build_engine.sh`` and ``README.txt`` are brought in line with the manifest,
and abandoned export staging folders beside the bundle (see
:func:`staging_folder`) are deleted. ``tests/test_fault_injection.py`` kills
real commands at every file-system step (``vpt_core.faults``) to keep this true.

A replaced task keeps its earlier versions (``KEEP_VERSIONS``) in its manifest
entry, so ``rollback_task`` can restore one.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from vpt_core import faults
from vpt_core.atomicio import atomic_write_bytes, atomic_write_text
from vpt_core.contract import FEATURES_OUTPUT, BundleContract, TaskTensors
from vpt_core.errors import BundleError, DiskWriteError
from vpt_core.manifest import (BACKBONE_NAME, BUILD_SCRIPT_NAME, INT8_CPU_NAME, README_NAME,
                               TASKS_DIR, make_shareable, read_manifest, sha256_file, task_entry, write_manifest)
from vpt_core.schema import task_name_problem
from vpt_core.packformat import PACK_SUFFIX, BackboneFingerprint, TaskPackData, read_task_pack, read_task_pack_bytes

from .bundle import check_preprocessing
from .bundle_texts import build_engine_script, readme_text

LOCK_NAME = ".vpt-lock"
KEEP_VERSIONS = 5


def check_task_name(name: Any, source: str = "task") -> str:
    if not isinstance(name, str) or task_name_problem(name):
        raise BundleError(f"{source}: task name {name!r} is not a plain name (letters, digits, '_', '-', '.'; "
                          "at most 64 characters; no path)")
    return name


@contextlib.contextmanager
def bundle_lock(root: str | os.PathLike) -> Iterator[None]:
    """Exclusive lock for a change to the bundle at ``root`` (waits for another writer to finish)."""
    path = Path(root) / LOCK_NAME
    try:
        handle = open(path, "a+")
    except OSError as error:
        raise DiskWriteError(f"cannot lock {path}: {error.strerror or error}") from error
    with handle:
        try:
            import fcntl
        except ImportError:  # not POSIX: one writer at a time is then the user's job
            yield
            return
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@dataclass
class BundleChange:
    """A change in progress: the manifest to commit, and the files written for it so far."""

    root: Path
    manifest: dict[str, Any]
    written: list[Path] = field(default_factory=list)

    @property
    def contract(self) -> BundleContract:
        return BundleContract.from_dict(self.manifest["contract"])

    @property
    def task_entries(self) -> list[dict[str, Any]]:
        return self.manifest["tasks"]

    def entry(self, name: str) -> dict[str, Any] | None:
        return next((entry for entry in self.task_entries if entry["name"] == name), None)

    def new_file(self, folder: str, stem: str, suffix: str, data: bytes) -> Path:
        """Write ``data`` under a name no manifest refers to (or find it already there); returns its path."""
        target, present = self._unused_name(self.root / folder / f"{stem}{suffix}", _sha256(data))
        if present:
            return target
        atomic_write_bytes(target, data)
        return self._written(target)

    def adopt(self, finished: Path, name: str) -> Path:
        """Move a finished file (written beside the bundle's files) under an unused name like ``name``."""
        target, present = self._unused_name(self.root / name, sha256_file(finished))
        if present:
            return target
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            faults.step("move", target)
            os.replace(finished, target)
        except OSError as error:
            raise DiskWriteError(f"cannot move {finished.name} into {self.root}: {error.strerror or error}") from error
        return self._written(target)

    @staticmethod
    def _unused_name(preferred: Path, digest: str) -> tuple[Path, bool]:
        """A free name for content ``digest``, or a file that already holds exactly that content (True).

        Existing files are never written over: one the manifest names may be read at this moment.
        """
        candidates = [preferred, preferred.with_name(f"{preferred.stem}.{digest[:12]}{preferred.suffix}")]
        candidates += [preferred.with_name(f"{preferred.stem}.{digest[:12]}-{n}{preferred.suffix}")
                       for n in range(2, 100)]
        for candidate in candidates:
            if not candidate.exists():
                return candidate, False
            if candidate.is_file() and sha256_file(candidate) == digest:
                return candidate, True
        raise BundleError(f"{preferred.parent}: no free file name for {preferred.name}; remove stray files there")

    def _written(self, path: Path) -> Path:
        make_shareable(path)
        self.written.append(path)
        return path


@contextlib.contextmanager
def change_bundle(root: str | os.PathLike) -> Iterator[BundleChange]:
    """Lock, read the manifest, let the caller change it, then commit (manifest replace) and clean up.

    An exception inside the block commits nothing; files written for the change are removed.
    """
    root = Path(root)
    with bundle_lock(root):
        manifest = read_manifest(root)
        finish_interrupted_changes(root, manifest)
        change = BundleChange(root, manifest)
        try:
            yield change
        except BaseException:
            for path in change.written:
                path.unlink(missing_ok=True)
            raise
        commit(change)


def commit(change: BundleChange) -> None:
    write_manifest(change.root, change.manifest)   # the commit point
    write_bundle_texts(change.root, change.manifest)
    remove_unreferenced_files(change.root, change.manifest)


def finish_interrupted_changes(root: Path, manifest: dict[str, Any]) -> list[Path]:
    """What a killed change left behind: garbage files, texts out of date, abandoned export staging folders.

    Returns what was removed or rewritten.
    """
    return (remove_unreferenced_files(root, manifest) + write_bundle_texts(root, manifest)
            + remove_abandoned_staging(root))


def tidy_bundle(root: str | os.PathLike) -> list[Path]:
    """``vpt bundle tidy``: finish what an interrupted change left, without changing the bundle itself."""
    root = Path(root)
    with bundle_lock(root):
        return finish_interrupted_changes(root, read_manifest(root))


def write_bundle_texts(root: Path, manifest: dict[str, Any]) -> list[Path]:
    """``build_engine.sh`` and ``README.txt`` are derived from the manifest (rewritten when they differ)."""
    backbone = manifest["backbone"]
    script = build_engine_script(BundleContract.from_dict(manifest["contract"]), backbone.get("fp32_nodes", []),
                                 backbone.get("file", BACKBONE_NAME), onnx_sha256=backbone["sha256"])
    rewritten = []
    for name, text in ((BUILD_SCRIPT_NAME, script), (README_NAME, readme_text(manifest))):
        path = root / name
        if not _holds(path, text):
            atomic_write_text(path, text)
            rewritten.append(path)
        make_shareable(path)
    return rewritten


def _holds(path: Path, text: str) -> bool:
    try:
        return path.read_text(encoding="utf-8") == text
    except (OSError, UnicodeDecodeError):
        return False


def referenced_files(manifest: dict[str, Any]) -> set[str]:
    files = {manifest["backbone"].get("file", BACKBONE_NAME)}
    if manifest.get("int8_cpu"):
        files.add(manifest["int8_cpu"].get("file", INT8_CPU_NAME))
    for entry in manifest["tasks"]:
        files.add(entry["file"])
        files.update(version["file"] for version in entry.get("versions", []))
    return files


def remove_unreferenced_files(root: Path, manifest: dict[str, Any]) -> list[Path]:
    """Task packs and backbone models the manifest no longer names (older versions, interrupted changes)."""
    keep = referenced_files(manifest)
    candidates = list((root / TASKS_DIR).glob(f"*{PACK_SUFFIX}")) + list(root.glob("backbone*.onnx"))
    candidates += list((root / TASKS_DIR).glob(".*.tmp")) + list(root.glob(".*.tmp"))
    removed = []
    for path in candidates:
        if path.relative_to(root).as_posix() not in keep:
            with contextlib.suppress(OSError):
                faults.step("remove", path)
                path.unlink()
                removed.append(path)
    return removed


# -- export staging: a new bundle is built in a hidden sibling folder, then moved in -----------
STAGING_SUFFIX = ".partial"


@contextlib.contextmanager
def staging_folder(out_dir: Path) -> Iterator[Path]:
    """A hidden sibling of ``out_dir`` (same file system, so moving files in is a rename), removed at the end.

    The folder stays locked while its process lives, so a later command can tell an abandoned one (its
    process was killed) from one being built now, and deletes only the abandoned ones.
    """
    parent = out_dir.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        faults.step("create", parent / f".{out_dir.name}.*{STAGING_SUFFIX}")
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=STAGING_SUFFIX, dir=parent))
        staging.chmod(0o755)  # mkdtemp makes it private; a bundle is meant to be copied and shared
    except OSError as error:
        raise DiskWriteError(f"cannot write into {parent}: {error.strerror or error}") from error
    with _folder_lock(staging, wait=True):
        try:
            yield staging
        finally:
            if staging.exists():
                faults.step("remove", staging)
                shutil.rmtree(staging, ignore_errors=True)


def remove_abandoned_staging(out_dir: Path) -> list[Path]:
    """Staging folders of ``out_dir`` whose export was killed (no process holds their lock any more)."""
    removed = []
    parent = out_dir.resolve().parent
    for folder in parent.glob(f".{glob.escape(out_dir.name)}.*{STAGING_SUFFIX}"):
        if not folder.is_dir() or folder.is_symlink():
            continue
        with _folder_lock(folder, wait=False) as locked:
            if locked:
                faults.step("remove", folder)
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
    return removed


@contextlib.contextmanager
def _folder_lock(folder: Path, wait: bool) -> Iterator[bool]:
    """An exclusive flock on the folder itself; yields whether it was obtained (never on non-POSIX systems)."""
    try:
        import fcntl
    except ImportError:
        yield wait
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except OSError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


# -- tasks ---------------------------------------------------------------------------------------
def validate_pack(pack: TaskPackData, change: BundleChange, source: str) -> TaskTensors:
    """Everything a pack declares, checked against the bundle; the task's prepared tensors."""
    check_task_name(pack.name, source)
    pack.check_compatible(BackboneFingerprint.from_dict(change.manifest["backbone"]["fingerprint"]), source=source)
    check_preprocessing(pack, change.contract, source)
    return pack.bundle_tensors(change.contract, source)


def smoke_test(change: BundleChange, tensors: TaskTensors, source: str, runner=None) -> None:
    """The task must go through the bundle's graph and give finite logits of the right shape."""
    contract = change.contract
    own = runner is None
    if own:
        from .runners import OnnxRuntimeRunner

        runner = OnnxRuntimeRunner(change.root / change.manifest["backbone"].get("file", BACKBONE_NAME), contract,
                                   ["CPUExecutionProvider"])
    try:
        images = np.zeros((1, *contract.image_shape), dtype=np.float32)
        logits = tensors.logits(runner.infer(contract.feed(images, tensors))[FEATURES_OUTPUT])
    finally:
        if own:
            runner.close()
    if logits.shape != (1, tensors.num_classes) or not np.all(np.isfinite(logits)):
        raise BundleError(f"{source}: the bundle's model gives unusable logits for this task ({logits.shape})")


def add_task_bytes(root: str | os.PathLike, data: bytes, source: str, *, replace: bool = False,
                   parity: Callable[[TaskPackData, BundleChange], dict[str, Any] | None] | None = None,
                   runner=None) -> dict[str, Any]:
    """Add (or with ``replace`` update) the task pack ``data``; returns its new manifest entry.

    Validated exactly as a bundle's own tasks are; ``runner`` (an open runner of
    this bundle) is used for the smoke test instead of loading the backbone again.
    ``parity`` may add a PyTorch comparison (the export layer provides it).
    """
    pack = read_task_pack_bytes(data, source)
    with change_bundle(root) as change:
        tensors = validate_pack(pack, change, source)
        current = change.entry(pack.name)
        if current is not None and not replace:
            raise BundleError(f"the bundle already has a task {pack.name!r}; pass --replace to update it")
        _check_backbone_unchanged(change)
        smoke_test(change, tensors, source, runner)
        parity_result = parity(pack, change) if parity else None
        target = change.new_file(TASKS_DIR, pack.name, PACK_SUFFIX, data)
        entry = task_entry(pack.name, target, change.root, pack.classes, parity_result)
        if current is not None:
            entry["versions"] = ([_version_of(current)] + current.get("versions", []))[:KEEP_VERSIONS]
            change.task_entries[change.task_entries.index(current)] = entry
        else:
            change.task_entries.append(entry)
    return entry


def add_task(root: str | os.PathLike, pack_path: str | os.PathLike, **options) -> dict[str, Any]:
    path = Path(pack_path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise BundleError(f"{path}: cannot read the task pack ({error.strerror or error})") from error
    return add_task_bytes(root, data, str(path), **options)


def remove_task(root: str | os.PathLike, name: str) -> dict[str, Any]:
    """Take a task out of the bundle (not the last one); returns its former entry."""
    with change_bundle(root) as change:
        entry = _existing(change, name)
        if len(change.task_entries) == 1:
            raise BundleError(f"{name!r} is the bundle's only task; a bundle keeps at least one")
        change.task_entries.remove(entry)
    return entry


def rollback_task(root: str | os.PathLike, name: str, runner=None) -> dict[str, Any]:
    """Serve the task's previous version again; the current one becomes the newest earlier version."""
    with change_bundle(root) as change:
        entry = _existing(change, name)
        versions = entry.get("versions", [])
        if not versions:
            raise BundleError(f"task {name!r} has no earlier version to roll back to")
        previous = versions[0]
        path = change.root / previous["file"]
        if not path.is_file() or sha256_file(path) != previous["sha256"]:
            raise BundleError(f"{path}: the earlier version of {name!r} is missing or damaged; cannot roll back")
        validate_pack(read_task_pack(path), change, str(path))
        restored = {**{k: v for k, v in previous.items()}, "name": name, "restored": True,
                    "versions": [_version_of(entry)] + versions[1:]}
        change.task_entries[change.task_entries.index(entry)] = restored
    return restored


def _existing(change: BundleChange, name: str) -> dict[str, Any]:
    entry = change.entry(name)
    if entry is None:
        known = ", ".join(e["name"] for e in change.task_entries) or "none"
        raise BundleError(f"no task {name!r} in {change.root}; tasks: {known}")
    return entry


def _version_of(entry: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in entry.items() if key not in ("versions", "name")}


def _check_backbone_unchanged(change: BundleChange) -> None:
    path = change.root / change.manifest["backbone"].get("file", BACKBONE_NAME)
    if not path.is_file() or sha256_file(path) != change.manifest["backbone"]["sha256"]:
        raise BundleError(f"{path}: missing, or sha256 differs from the manifest; export the bundle again")


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()

"""Open a deploy bundle: manifest, contract and task packs, with numpy only.

One damaged or unsuitable task does not take the others down: it is left out
and named in :attr:`Bundle.problems`; opening fails only when the backbone is
unusable or no task is left.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vpt_core.contract import BundleContract, TaskTensors
from vpt_core.errors import BundleError, ConfigError, TaskPackError
from vpt_core.packformat import BackboneFingerprint, TaskPackData, read_task_pack
from vpt_core.preprocess import PreprocessSpec
from vpt_core.manifest import BACKBONE_NAME, ENGINES_DIR, INT8_CPU_NAME, read_manifest, sha256_file


@dataclass
class BundleTask:
    name: str
    path: Path
    pack: TaskPackData
    entry: dict[str, Any]
    tensors: TaskTensors     # the pack's prompts and head, prepared for the bundle's contract

    @property
    def classes(self) -> list[str]:
        return list(self.pack.classes)

    @property
    def size_bytes(self) -> int:
        return self.path.stat().st_size


@dataclass
class Bundle:
    root: Path
    manifest: dict[str, Any]
    contract: BundleContract
    tasks: dict[str, BundleTask]
    problems: dict[str, str] = field(default_factory=dict)   # task name -> why it cannot be used

    @classmethod
    def open(cls, root: str | os.PathLike, verify: bool = True, *,
             known_backbone_sha256: str | None = None) -> "Bundle":
        """Read the manifest and every task pack; with ``verify``, check sha256 of backbone and packs.

        ``known_backbone_sha256``: the backbone a running station already checked. When the manifest still
        names it, the file is not hashed again (bundle changes never rewrite it), so re-reading a bundle
        for its tasks costs only the task packs.
        """
        root = Path(root)
        manifest = read_manifest(root)
        contract = BundleContract.from_dict(manifest["contract"])
        bundle = cls(root=root, manifest=manifest, contract=contract, tasks={})
        if not bundle.backbone_path.is_file():
            raise BundleError(f"{root}: {bundle.backbone_path.name} is missing")
        if verify and bundle.backbone_sha256 != known_backbone_sha256:
            bundle.verify_backbone()
        for entry in manifest["tasks"]:
            try:
                bundle.tasks[entry["name"]] = bundle._open_task(entry, verify)
            except (BundleError, TaskPackError, ConfigError) as error:
                bundle.problems[entry["name"]] = str(error)
        if manifest["tasks"] and not bundle.tasks:
            raise BundleError(f"{root}: no task of the bundle can be used: " + "; ".join(bundle.problems.values()))
        return bundle

    def _open_task(self, entry: dict[str, Any], verify: bool) -> BundleTask:
        path = self.root / entry["file"]
        if not path.is_file():
            raise BundleError(f"{path}: task {entry['name']!r} is missing its pack; add it again with "
                              "'vpt bundle add-task --replace'")
        if verify and sha256_file(path) != entry.get("sha256"):
            raise BundleError(f"{path}: changed after it was added to the bundle (sha256 differs from the "
                              "manifest); add it again with 'vpt bundle add-task'")
        try:
            pack = read_task_pack(path)
        except TaskPackError as error:
            raise BundleError(f"task {entry['name']!r}: {error}") from error
        pack.check_compatible(self.fingerprint, source=str(path))
        check_preprocessing(pack, self.contract, str(path))
        tensors = pack.bundle_tensors(self.contract, str(path))
        return BundleTask(name=entry["name"], path=path, pack=pack, entry=entry, tensors=tensors)

    # -- what is where -----------------------------------------------------------
    @property
    def backbone_path(self) -> Path:
        return self.root / self.manifest["backbone"].get("file", BACKBONE_NAME)

    @property
    def backbone_sha256(self) -> str:
        return str(self.manifest["backbone"]["sha256"])

    @property
    def engines_dir(self) -> Path:
        return self.root / ENGINES_DIR

    @property
    def int8_cpu_path(self) -> Path | None:
        entry = self.manifest.get("int8_cpu")
        return self.root / entry.get("file", INT8_CPU_NAME) if entry else None

    @property
    def int8_cpu_tasks(self) -> dict[str, Any]:
        """Tasks whose INT8 agreement with fp32 was checked and passed, with the figures."""
        entry = self.manifest.get("int8_cpu") or {}
        return dict(entry.get("agreement", {}))

    @property
    def fingerprint(self) -> BackboneFingerprint:
        return BackboneFingerprint.from_dict(self.manifest["backbone"]["fingerprint"])

    @property
    def preprocess(self) -> PreprocessSpec:
        return PreprocessSpec.from_dict(self.manifest["preprocess"])

    @property
    def task_names(self) -> list[str]:
        return list(self.tasks)

    def task(self, name: str) -> BundleTask:
        if name in self.problems:
            raise BundleError(f"task {name!r} cannot be used: {self.problems[name]}")
        if name not in self.tasks:
            raise BundleError(f"no task {name!r} in {self.root}; tasks: {', '.join(self.tasks) or 'none'}")
        return self.tasks[name]

    def describe_problems(self) -> list[str]:
        """One line per task left out, for notes on a terminal or in a log."""
        return [f"task {name!r} left out: {reason}" for name, reason in self.problems.items()]

    def verify_backbone(self) -> None:
        if sha256_file(self.backbone_path) != self.backbone_sha256:
            raise BundleError(f"{self.backbone_path}: sha256 differs from the manifest; the backbone was changed or "
                              "damaged after export. Export the bundle again")


def check_preprocessing(pack: TaskPackData, contract: BundleContract, source: str) -> None:
    """A task must preprocess to exactly the images the bundle's backbone takes."""
    size = tuple(pack.preprocess_spec.input_size)
    if size != contract.image_shape:
        raise BundleError(f"{source}: preprocesses to images of {list(size)}, but the bundle's backbone takes "
                          f"{list(contract.image_shape)}")

"""The deploy bundle's layout and ``manifest.json``. Torch-free.

A bundle is a folder::

    backbone.onnx              the frozen backbone; each image's prompts are inputs
    backbone.int8-cpu.onnx     optional: weights quantised to INT8 for CPU stations
    tasks/<name>.vptask        one task pack per task
    manifest.json              what is here: contract, sha256 of every file, parity figures
    build_engine.sh            trtexec build for a Jetson
    README.txt                 what to do with it
    engines/                   created on the station: TensorRT engines and their sidecars

``manifest.json`` is written last, so a folder without it is not a bundle.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from . import __version__
from .atomicio import atomic_write_json

from .errors import BundleError
from .schema import MANIFEST, check_document

FORMAT_NAME = "vpt-bundle"
FORMAT_VERSION = 2   # 2: input contract 2 (per-image prompts, heads outside the graph)
MANIFEST_NAME = "manifest.json"
BACKBONE_NAME = "backbone.onnx"
INT8_CPU_NAME = "backbone.int8-cpu.onnx"
TASKS_DIR = "tasks"
ENGINES_DIR = "engines"
BUILD_SCRIPT_NAME = "build_engine.sh"
README_NAME = "README.txt"


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def new_manifest(*, backbone: dict[str, Any], contract: dict[str, Any], preprocess: dict[str, Any],
                 export_info: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "created": now_iso(),
        "library": {"name": "vpt-toolkit", "version": __version__},
        "backbone": backbone,
        "contract": contract,
        "preprocess": preprocess,
        "export": export_info,
        "tasks": [],
        "int8_cpu": None,
    }


def task_entry(name: str, file: Path, root: Path, classes: list[str], parity: dict[str, Any] | None) -> dict[str, Any]:
    return {"name": name, "file": file.relative_to(root).as_posix(), "sha256": sha256_file(file),
            "size_bytes": file.stat().st_size, "classes": list(classes), "parity": parity, "added": now_iso()}


def read_manifest(root: str | os.PathLike) -> dict[str, Any]:
    root = Path(root)
    path = root / MANIFEST_NAME
    if not root.is_dir():
        raise BundleError(f"{root}: bundle folder not found")
    if not path.is_file():
        raise BundleError(f"{root}: not a deploy bundle (no {MANIFEST_NAME}); create one with 'vpt export'")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BundleError(f"{path}: damaged manifest ({error})") from error
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        raise BundleError(f"{path}: not a vpt bundle manifest")
    version = document.get("format_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
        raise BundleError(f"{path}: written by a newer version (format {version}); please upgrade vpt-toolkit")
    return check_document(document, MANIFEST, str(path), BundleError)


def write_manifest(root: str | os.PathLike, document: dict[str, Any]) -> Path:
    document["updated"] = now_iso()
    path = atomic_write_json(Path(root) / MANIFEST_NAME, document)
    make_shareable(path)
    return path


def make_shareable(path: str | os.PathLike) -> None:
    """Atomic writes create private files; a bundle is copied to stations and read by other users."""
    path = Path(path)
    executable = path.is_dir() or path.name == BUILD_SCRIPT_NAME
    path.chmod(0o755 if executable else 0o644)

"""A project on disk: ``project.json`` plus ``images/<class>/``, ``tasks/``, ``exports/`` and ``trash/``.

Qt-free, so it can be tested and reused without a window. The image folders are
the truth about which images exist (nothing to keep in sync, nothing to corrupt);
``project.json`` holds class order and colours, the backbone and last settings.

Safety rules (from labelme): every write is atomic; a damaged ``project.json``
is reported and never overwritten unless the user explicitly asks to rebuild,
and then the damaged file is kept beside it.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from vpt_core.atomicio import atomic_write_json
from vpt_core.errors import VptError
from vpt_core.images import is_image_file
from vpt_core.schema import PLAIN_NAME_MAX, PROJECT, SchemaError, check_document, plain_name_problem

from .project_files import (capture_file_name, clean_stale_temporaries, move_file, unique_path,
                            write_frame_png)

PROJECT_FILE = "project.json"
FORMAT_NAME = "vpt-project"
FORMAT_VERSION = 1
# Distinct, colour-blind-friendly colours (Okabe-Ito, then Tableau) for class chips.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#4E79A7",
           "#F28E2B", "#59A14F", "#E15759", "#B07AA1")


class ProjectError(VptError):
    """A project folder cannot be created, opened or changed."""


class DamagedProjectError(ProjectError):
    """``project.json`` exists but cannot be read; it is left exactly as it is."""

    def __init__(self, path: Path, detail: str):
        super().__init__(f"{path}: the project file is damaged ({detail}). It has not been changed.")
        self.path = path
        self.detail = detail


@dataclass
class ClassInfo:
    name: str
    colour: str


@dataclass
class Project:
    root: Path
    name: str
    classes: list[ClassInfo] = field(default_factory=list)
    backbone: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)   # last training / source choices
    created: str = ""

    # -- folders ----------------------------------------------------------
    @property
    def project_file(self) -> Path:
        return self.root / PROJECT_FILE

    @property
    def images_dir(self) -> Path:
        return self.root / "images"

    @property
    def tasks_dir(self) -> Path:
        return self.root / "tasks"

    @property
    def exports_dir(self) -> Path:
        return self.root / "exports"

    @property
    def trash_dir(self) -> Path:
        return self.root / "trash"

    def class_dir(self, name: str) -> Path:
        return self.images_dir / name

    # -- create / open / save ---------------------------------------------
    @classmethod
    def create(cls, root: str | os.PathLike, name: str = "", backbone: dict[str, Any] | None = None,
               classes: Iterable[str] = ()) -> "Project":
        """A new project in an empty (or new) folder; existing class folders under images/ are adopted."""
        root = Path(root)
        if (root / PROJECT_FILE).exists():
            raise ProjectError(f"{root} already holds a project; open it instead")
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ProjectError(f"cannot create the project folder {root}: {error.strerror or error}") from error
        project = cls(root=root, name=name or root.name, backbone=dict(backbone or {}),
                      created=_dt.datetime.now().isoformat(timespec="seconds"))
        project._make_folders()
        for class_name in classes:
            project.add_class(class_name)
        project._adopt_class_folders()
        project.save()
        return project

    @classmethod
    def open(cls, root: str | os.PathLike) -> "Project":
        root = Path(root)
        path = root / PROJECT_FILE
        if not path.is_file():
            raise ProjectError(f"{root} is not a project folder (no {PROJECT_FILE})")
        document = _read_document(path)
        project = cls(root=root, name=str(document.get("name") or root.name),
                      classes=[ClassInfo(c["name"], c.get("colour") or PALETTE[i % len(PALETTE)])
                               for i, c in enumerate(document["classes"])],
                      backbone=dict(document.get("backbone") or {}), settings=dict(document.get("settings") or {}),
                      created=str(document.get("created", "")))
        project._make_folders()
        changed = project._adopt_class_folders()
        for info in project.classes:
            clean_stale_temporaries(project.class_dir(info.name))
        if changed:
            project.save()
        return project

    @classmethod
    def rebuild(cls, root: str | os.PathLike) -> "Project":
        """Set a damaged project.json aside (renamed, never deleted) and start a new one from the image folders."""
        root = Path(root)
        damaged = root / PROJECT_FILE
        if damaged.exists():
            stamp = time.strftime("%Y%m%d-%H%M%S")
            kept = unique_path(root / f"project.damaged-{stamp}.json")
            os.replace(damaged, kept)
        return cls.create(root)

    def to_document(self) -> dict[str, Any]:
        return {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "name": self.name, "created": self.created,
                "classes": [{"name": c.name, "colour": c.colour} for c in self.classes],
                "backbone": self.backbone, "settings": self.settings}

    def save(self) -> None:
        """Atomic: a crash leaves the previous project.json or the new one, never half of one."""
        if self.project_file.exists():
            _read_document(self.project_file)  # refuse to replace a file that became damaged meanwhile
        atomic_write_json(self.project_file, self.to_document())

    def _make_folders(self) -> None:
        for folder in (self.images_dir, self.tasks_dir, self.exports_dir):
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise ProjectError(f"cannot create {folder}: {error.strerror or error}") from error

    def _adopt_class_folders(self) -> bool:
        """Class folders copied in by hand become classes; listed classes get their folder back.

        A folder whose name could not be a class name (or differs from one only in case) is left alone,
        so project.json never receives a name it would refuse on the next load.
        """
        changed = False
        known = {c.name.casefold() for c in self.classes}
        for folder in sorted(p for p in self.images_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
            if folder.name.casefold() not in known and not plain_name_problem(folder.name):
                self.classes.append(ClassInfo(folder.name, self._next_colour()))
                known.add(folder.name.casefold())
                changed = True
        for info in self.classes:
            self.class_dir(info.name).mkdir(exist_ok=True)
        return changed

    # -- classes ----------------------------------------------------------
    @property
    def class_names(self) -> list[str]:
        return [c.name for c in self.classes]

    def class_info(self, name: str) -> ClassInfo:
        for info in self.classes:
            if info.name == name:
                return info
        raise ProjectError(f"there is no class named {name!r}")

    def check_class_name(self, name: str, ignore: str | None = None) -> str:
        """The cleaned name, or a ProjectError saying why it cannot be a class (it becomes a folder name)."""
        cleaned = name.strip()
        if not cleaned:
            raise ProjectError("a class needs a name")
        # The wording below is what gui/error_texts.py recognises to show these messages translated.
        if len(cleaned) > PLAIN_NAME_MAX:
            raise ProjectError(f"the class name {cleaned[:20]!r}... is too long ({PLAIN_NAME_MAX} characters at most)")
        if plain_name_problem(cleaned):
            raise ProjectError(f"{cleaned!r} cannot be a class name: avoid / \\ : * ? \" < > |, control characters "
                               "and a leading dot")
        for existing in self.class_names:
            if existing != ignore and existing.casefold() == cleaned.casefold():
                raise ProjectError(f"there is already a class named {existing!r}")
        return cleaned

    def add_class(self, name: str, colour: str | None = None, position: int | None = None) -> ClassInfo:
        name = self.check_class_name(name)
        info = ClassInfo(name, colour or self._next_colour())
        self.class_dir(name).mkdir(parents=True, exist_ok=True)
        self.classes.insert(len(self.classes) if position is None else position, info)
        return info

    def rename_class(self, old: str, new: str) -> str:
        info = self.class_info(old)
        new = self.check_class_name(new, ignore=old)
        if new != old:
            target = self.class_dir(new)
            if target.exists() and old.casefold() != new.casefold():
                raise ProjectError(f"a folder named {new!r} is already in {self.images_dir}")
            os.replace(self.class_dir(old), target)
            info.name = new
        return new

    def remove_class(self, name: str) -> tuple[int, Path]:
        """Move the class folder to the trash; returns (its position, where it went) for undo."""
        info = self.class_info(name)
        position = self.classes.index(info)
        trashed = self._trash_slot() / name
        trashed.parent.mkdir(parents=True, exist_ok=True)
        source = self.class_dir(name)
        if source.exists():
            shutil.move(str(source), str(trashed))
        else:
            trashed.mkdir()
        self.classes.remove(info)
        return position, trashed

    def restore_class(self, info: ClassInfo, position: int, trashed: Path) -> None:
        self.check_class_name(info.name)
        if trashed.exists():
            shutil.move(str(trashed), str(self.class_dir(info.name)))
        self.class_dir(info.name).mkdir(parents=True, exist_ok=True)
        self.classes.insert(min(position, len(self.classes)), info)

    def _next_colour(self) -> str:
        used = {c.colour for c in self.classes}
        for colour in PALETTE:
            if colour not in used:
                return colour
        return PALETTE[len(self.classes) % len(PALETTE)]

    # -- images -----------------------------------------------------------
    def image_paths(self, name: str) -> list[Path]:
        folder = self.class_dir(name)
        try:
            entries = [Path(e.path) for e in os.scandir(folder) if e.is_file() and is_image_file(e.name)]
        except FileNotFoundError:
            return []
        return sorted(entries)

    def image_counts(self) -> dict[str, int]:
        return {name: len(self.image_paths(name)) for name in self.class_names}

    def write_frame(self, class_name: str, rgb) -> Path:
        """Save one captured frame (atomic: a power cut loses at most this frame)."""
        self.class_info(class_name)
        return write_frame_png(self.class_dir(class_name) / capture_file_name(), rgb)

    def move_images(self, paths: Iterable[Path], target_class: str) -> list[tuple[Path, Path]]:
        """Returns (old, new) pairs of the images actually moved (for undo)."""
        self.class_info(target_class)
        folder = self.class_dir(target_class)
        return [(Path(p), move_file(p, folder)) for p in paths if Path(p).parent != folder and Path(p).exists()]

    def trash_images(self, paths: Iterable[Path]) -> list[tuple[Path, Path]]:
        """Move images into the project trash; returns (original, trashed) pairs for undo."""
        slot = self._trash_slot()
        moved = []
        for path in map(Path, paths):
            if path.exists():
                moved.append((path, move_file(path, slot / path.parent.name)))
        return moved

    @staticmethod
    def move_back(pairs: Iterable[tuple[Path, Path]]) -> None:
        """Undo a move: each pair is (where it was, where it is)."""
        for original, current in pairs:
            if current.exists():
                original.parent.mkdir(parents=True, exist_ok=True)
                os.replace(current, unique_path(original))

    def empty_trash(self) -> None:
        if self.trash_dir.exists():
            shutil.rmtree(self.trash_dir)

    def _trash_slot(self) -> Path:
        """A fresh folder per deletion so names never collide."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        return unique_path(self.trash_dir / stamp)

    # -- tasks and exports ------------------------------------------------
    def task_paths(self) -> list[Path]:
        return sorted(self.tasks_dir.glob("*.vptask"), key=lambda p: p.stat().st_mtime)

    def new_task_path(self, name: str) -> Path:
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in name.strip()) or "task"
        return unique_path(self.tasks_dir / f"{safe}.vptask")

    def new_export_dir(self) -> Path:
        return unique_path(self.exports_dir / time.strftime("bundle-%Y%m%d-%H%M%S"))


def check_project_folder(folder: str | os.PathLike) -> None:
    """One-line ProjectError if ``folder`` holds a project.json that cannot be opened (before any window opens)."""
    path = Path(folder) / PROJECT_FILE
    if path.is_file():
        _read_document(path)


def _read_document(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise DamagedProjectError(path, f"not text: {error.reason}") from error
    except OSError as error:
        raise ProjectError(f"cannot read {path}: {error.strerror or error}") from error
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise DamagedProjectError(path, f"line {error.lineno}, column {error.colno}: {error.msg}") from error
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        raise DamagedProjectError(path, "not a vpt project file")
    version = document.get("format_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
        raise ProjectError(f"{path} was written by a newer version of the app; please update it")
    try:
        # Class names become folder names under images/: a name like '../../x' must never reach the disk.
        return check_document(document, PROJECT, "project.json")
    except SchemaError as error:
        raise DamagedProjectError(path, str(error).removeprefix("project.json: ")) from error

"""File operations behind a project: capture writes, imports, moves (Qt-free)."""

from __future__ import annotations

import itertools
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import cv2
import numpy as np
from PIL import Image

from vpt_core.atomicio import atomic_path, atomic_write_bytes
from vpt_core.errors import DiskWriteError, ImageReadError
from vpt_core.images import is_image_file

_counter = itertools.count()
# Fast PNG (level 1): lossless, so defects are not blurred, and quick enough for burst capture.
_PNG_OPTIONS = [cv2.IMWRITE_PNG_COMPRESSION, 1]


def capture_file_name(suffix: str = ".png") -> str:
    now = time.time()
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return f"img_{stamp}-{int(now * 1000) % 1000:03d}-{next(_counter) % 10000:04d}{suffix}"


def unique_path(path: Path) -> Path:
    """``path`` itself if free, else ``name-2.ext``, ``name-3.ext``, ..."""
    path = Path(path)
    if not path.exists():
        return path
    for number in itertools.count(2):
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
        if not candidate.exists():
            return candidate
    raise AssertionError("unreachable")


def write_frame_png(path: Path, rgb: np.ndarray) -> Path:
    ok, encoded = cv2.imencode(".png", np.ascontiguousarray(rgb[:, :, ::-1]), _PNG_OPTIONS)
    if not ok:
        raise ImageReadError(f"could not encode the frame for {path}")
    return atomic_write_bytes(unique_path(path), encoded.tobytes())


def move_file(path: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = unique_path(folder / Path(path).name)
    try:
        os.replace(path, target)
    except OSError:  # another file system: copy then remove
        shutil.move(str(path), str(target))
    return target


def clean_stale_temporaries(folder: Path, older_than_s: float = 60.0) -> None:
    """Remove ``.name.xxx.tmp`` files a crash left behind mid-write (they are never complete images)."""
    if not folder.is_dir():
        return
    now = time.time()
    for entry in folder.glob(".*.tmp"):
        try:
            if now - entry.stat().st_mtime > older_than_s:
                entry.unlink()
        except OSError:
            pass


def image_problem(path: Path) -> str | None:
    """None if ``path`` looks like a readable image (header check only, so import stays quick)."""
    if not is_image_file(path):
        return f"{path.name}: not an image file type"
    try:
        with Image.open(path) as image:
            image.verify()
    except Exception as error:  # PIL raises many types for damaged files
        return f"{path.name}: not a readable image ({error})"
    return None


def expand_image_paths(items: Iterable[str | os.PathLike]) -> list[Path]:
    """Files as given, folders searched recursively; hidden files skipped."""
    found: list[Path] = []
    for item in map(Path, items):
        if item.is_dir():
            found += sorted(p for p in item.rglob("*") if p.is_file() and not p.name.startswith("."))
        elif item.exists():
            found.append(item)
    return found


@dataclass
class ImportResult:
    added: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)   # one reason per file, naming it


def import_images(paths: Iterable[Path], folder: Path, on_progress: Callable[[int, int], None] | None = None,
                  should_stop: Callable[[], bool] = lambda: False) -> ImportResult:
    """Copy readable images into ``folder`` atomically; unreadable ones are listed, not copied."""
    paths = list(paths)
    result = ImportResult()
    for done, path in enumerate(paths, start=1):
        if should_stop():
            break
        problem = image_problem(path)
        if problem:
            result.skipped.append(problem)
        else:
            target = unique_path(folder / path.name)
            try:
                with atomic_path(target) as tmp:
                    shutil.copyfile(path, tmp)
            except DiskWriteError:
                raise
            except OSError as error:
                result.skipped.append(f"{path.name}: {error.strerror or error}")
                continue
            result.added.append(target)
        if on_progress:
            on_progress(done, len(paths))
    return result

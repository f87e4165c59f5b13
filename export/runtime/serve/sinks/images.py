"""``--save-images DIR``: keep the pictures that matter, for review and retraining, within a retention limit.

Layout: ``DIR/<task>/<label>/<time>-<id>.<ext>`` (one folder per class, as
``vpt train`` reads them) and, for uncertain results, ``DIR/<task>/_uncertain/
<time>-<id>-<label>.<ext>``; beside each picture a ``.json`` with its result.
Uploaded pictures are kept byte for byte; camera frames are written as PNG.
Every file is written atomically. The oldest pictures are deleted when more
than ``max_files`` or ``max_bytes`` are kept. A full disk is reported (health,
metrics) and retried; inspection goes on.
"""

from __future__ import annotations

import datetime as _dt
import errno
import io
import os
import re
from collections import deque
from pathlib import Path

from vpt_core.atomicio import atomic_write_bytes, atomic_write_json
from vpt_core.errors import DiskWriteError
from vpt_core.imagefiles import list_images

from .base import QueuedSink, SinkEvent

UNCERTAIN_FOLDER = "_uncertain"
_UNSAFE = re.compile(r"[^\w.-]+")


def safe_name(text: str) -> str:
    """A class or task name as one path component (class names may hold any character)."""
    cleaned = _UNSAFE.sub("_", str(text)).strip("._") or "_"
    return cleaned[:80]


class ImageArchive(QueuedSink):
    kind = "images"

    def __init__(self, folder: Path, classes: frozenset[str], uncertain: bool, max_files: int, max_bytes: int,
                 capacity: int = 64):
        super().__init__(str(folder), capacity, first_retry_s=1.0, max_retry_s=30.0)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DiskWriteError(f"--save-images {folder}: cannot create the folder "
                                 f"({error.strerror or error})") from error
        if not os.access(folder, os.W_OK):
            raise DiskWriteError(f"--save-images {folder}: the folder is not writable")
        self.folder, self.classes, self.uncertain = folder, classes, uncertain
        self.max_files, self.max_bytes = max_files, max_bytes
        self.disk_full = False
        self.deleted = 0
        self._kept: deque[tuple[Path, int]] = deque(self._existing_pictures())
        self._kept_bytes = sum(size for _, size in self._kept)
        self._enforce_retention()

    def wants(self, event: SinkEvent) -> bool:
        if event.image is None and event.rgb is None:
            return False
        record = event.record
        if not self.classes and not self.uncertain:
            return True
        return (self.uncertain and bool(record.get("uncertain"))) or record.get("label") in self.classes

    def deliver(self, event: SinkEvent) -> None:
        data, suffix = (event.image, event.image_suffix) if event.image is not None else (_png(event.rgb), ".png")
        path = self._path_for(event.record, suffix or ".img")
        try:
            atomic_write_bytes(path, data)
            atomic_write_json(path.with_suffix(".json"), event.record)
        except DiskWriteError as error:
            self.disk_full = "disk is full" in str(error)
            path.unlink(missing_ok=True)
            raise
        self.disk_full = False
        self._kept.append((path, len(data)))
        self._kept_bytes += len(data)
        self._enforce_retention()

    def _path_for(self, record: dict, suffix: str) -> Path:
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")[:-3]
        stem = f"{stamp}-{int(record.get('id', 0)):09d}"
        task_folder = self.folder / safe_name(record.get("task", "task"))
        if self.uncertain and record.get("uncertain"):
            return task_folder / UNCERTAIN_FOLDER / f"{stem}-{safe_name(record.get('label', ''))}{suffix}"
        return task_folder / safe_name(record.get("label", "unknown")) / f"{stem}{suffix}"

    def _existing_pictures(self) -> list[tuple[Path, int]]:
        """Pictures kept by earlier runs, oldest first (names start with the time)."""
        found = []
        for path in list_images(self.folder):
            try:
                found.append((path.name, path, path.stat().st_size))
            except OSError:
                continue
        return [(path, size) for _, path, size in sorted(found)]

    def _enforce_retention(self) -> None:
        while self._kept and (len(self._kept) > self.max_files or self._kept_bytes > self.max_bytes):
            path, size = self._kept.popleft()
            self._kept_bytes -= size
            for doomed in (path, path.with_suffix(".json")):
                try:
                    doomed.unlink(missing_ok=True)
                except OSError as error:
                    if error.errno != errno.ENOENT:
                        self._note_failure(f"cannot delete {doomed}: {error.strerror or error}")
            self.deleted += 1

    def status(self) -> dict:
        return {**super().status(), "disk_full": self.disk_full, "kept_files": len(self._kept),
                "kept_bytes": self._kept_bytes, "deleted_for_retention": self.deleted}


def _png(rgb) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()

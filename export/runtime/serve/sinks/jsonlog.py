"""``--log DIR``: one JSON line per result, files rotated by size, never more than a set total on disk.

The file being written is ``results.jsonl``; when the next line would take it
past ``file_bytes`` it is renamed ``results-<UTC time>-<n>.jsonl`` (complete,
never written again) and the oldest of those are deleted while the folder
holds more than ``total_bytes``. Each line is one ``write`` on a file opened
for appending; a write that fails half-way (disk full) is cut back off, so a
reader never finds half a line followed by more lines.
"""

from __future__ import annotations

import datetime as _dt
import errno
import json
import os
from pathlib import Path

from vpt_core.errors import DiskWriteError

from .base import QueuedSink, SinkEvent

CURRENT_NAME = "results.jsonl"
ROTATED_GLOB = "results-*.jsonl"


class JsonLinesLog(QueuedSink):
    kind = "log"

    def __init__(self, folder: Path, file_bytes: int, total_bytes: int, capacity: int = 10_000):
        super().__init__(str(folder), capacity, first_retry_s=0.5, max_retry_s=10.0)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DiskWriteError(f"--log {folder}: cannot create the folder ({error.strerror or error})") from error
        if not os.access(folder, os.W_OK):
            raise DiskWriteError(f"--log {folder}: the folder is not writable")
        self.folder, self.file_bytes, self.total_bytes = folder, file_bytes, total_bytes
        self.current = folder / CURRENT_NAME
        self.rotations = 0
        self.disk_full = False

    def deliver(self, event: SinkEvent) -> None:
        line = (json.dumps(event.record, ensure_ascii=False) + "\n").encode("utf-8")
        size = self.current.stat().st_size if self.current.exists() else 0
        if size and size + len(line) > self.file_bytes:
            self._rotate()
        try:
            self._append(line)
        except OSError as error:
            self.disk_full = error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
            raise DiskWriteError(f"cannot write {self.current}: "
                                 f"{'the disk is full' if self.disk_full else error.strerror or error}") from error
        self.disk_full = False

    def _append(self, line: bytes) -> None:
        fd = os.open(self.current, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            start = os.fstat(fd).st_size
            try:
                self._write_all(fd, line)
            except OSError:
                os.ftruncate(fd, start)   # no half line stays behind
                raise
        finally:
            os.close(fd)

    @staticmethod
    def _write_all(fd: int, data: bytes) -> None:
        written = 0
        while written < len(data):
            written += os.write(fd, data[written:])

    def _rotate(self) -> None:
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
        self.rotations += 1
        target = self.folder / f"results-{stamp}-{self.rotations:06d}.jsonl"
        os.replace(self.current, target)
        self._enforce_total()

    def _enforce_total(self) -> None:
        rotated = sorted(self.folder.glob(ROTATED_GLOB))   # names start with the UTC time: oldest first
        total = sum(p.stat().st_size for p in rotated)
        total += self.current.stat().st_size if self.current.exists() else 0
        for path in rotated:
            if total + self.file_bytes <= self.total_bytes:   # room for the file being written to fill up
                break
            total -= path.stat().st_size
            path.unlink(missing_ok=True)

    def status(self) -> dict:
        return {**super().status(), "disk_full": self.disk_full}

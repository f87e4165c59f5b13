"""Finished benchmark cells on disk: one JSON file per cell, written atomically.

A run that is interrupted loses at most the cell it was working on; the next run
with the same ``--out`` folder skips every cell already on disk. Each cell
records a digest of everything that decides its number (data, backbone weights,
training settings, method settings); a cell whose digest differs from what the
current run would compute is refused rather than silently mixed in.

Several processes may share one folder (one per CPU core): a worker claims a
cell by creating ``<cell>.claim`` exclusively; claims of processes that have
died are taken over.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from pathlib import Path
from typing import Any, Iterator

from vpt_core.atomicio import atomic_write_json
from vpt_core.errors import ConfigError

CELL_SUFFIX = ".json"
CLAIM_SUFFIX = ".claim"


def digest(document: Any) -> str:
    text = json.dumps(document, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class CellStore:
    def __init__(self, out_dir: str | os.PathLike):
        self.root = Path(out_dir)
        self.cells_dir = self.root / "cells"
        self.cells_dir.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        return self.cells_dir / f"{key}{CELL_SUFFIX}"

    def load(self, key: str, expected_digest: str) -> dict[str, Any] | None:
        """The finished cell, None if not done yet; an error if it was made with other settings."""
        path = self.path(key)
        if not path.is_file():
            return None
        cell = read_cell(path)
        if cell.get("digest") != expected_digest:
            raise ConfigError(
                f"{path} was measured with other settings (data, backbone, training or method) than this run; "
                "use another --out folder, or delete that file to measure it again")
        return cell

    def save(self, cell: dict[str, Any]) -> Path:
        path = atomic_write_json(self.path(cell["key"]), cell)
        self.release(cell["key"])
        return path

    def claim(self, key: str) -> bool:
        """True if this process may work on ``key`` (no live process has claimed it)."""
        claim = self.cells_dir / f"{key}{CLAIM_SUFFIX}"
        for _ in range(2):
            try:
                fd = os.open(claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                if _claim_is_alive(claim):
                    return False
                claim.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as handle:
                handle.write(f"{socket.gethostname()} {os.getpid()}\n")
            return True
        return False

    def release(self, key: str) -> None:
        (self.cells_dir / f"{key}{CLAIM_SUFFIX}").unlink(missing_ok=True)

    def all_cells(self) -> Iterator[dict[str, Any]]:
        for path in sorted(self.cells_dir.glob(f"*{CELL_SUFFIX}")):
            yield read_cell(path)


def read_cell(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ConfigError(f"{path}: unreadable benchmark cell ({error}); delete it to measure it again") from error


def _claim_is_alive(claim: Path) -> bool:
    try:
        host, pid = claim.read_text().split()
    except (OSError, ValueError):
        return False    # half-written or gone: treat as stale
    if host != socket.gethostname():
        return True     # cannot check another machine's processes; respect the claim
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

"""Atomic file writes: write to a temporary file beside the target, then replace.

A reader (or a power cut) sees either the old file or the new one, never half of
one. Torch-free on purpose: the station runtime and the GUI use it too.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

from . import faults
from .errors import DiskWriteError

_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def _describe_os_error(path: Path, error: OSError) -> str:
    if error.errno in _DISK_FULL:
        return f"cannot write {path}: the disk is full"
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"cannot write {path}: permission denied or read-only location"
    return f"cannot write {path}: {error.strerror or error}"


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success it replaces ``path``.

    For libraries that insist on writing to a path themselves (safetensors, onnx).
    On any error the temporary file is removed and the target is left untouched.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        faults.step("create", target)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
    except OSError as error:
        raise DiskWriteError(_describe_os_error(target, error)) from error
    tmp = Path(tmp_name)
    try:
        yield tmp
        _fsync_file(tmp)
        os.chmod(tmp, _mode_for(target))
        faults.step("replace", target)
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise DiskWriteError(_describe_os_error(target, error)) from error
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            handle.write(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, document: Any) -> Path:
    return atomic_write_text(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def _mode_for(target: Path) -> int:
    """Keep a replaced file's permissions; a new file gets what open() would give (mkstemp makes it 0600)."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    # os.umask can only be read by setting it, which races with other threads; Linux shows it here.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not possible on every platform (Windows).
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

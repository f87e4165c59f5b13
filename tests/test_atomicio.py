"""Atomic writes: all or nothing, permissions like a normal write, clear disk-full errors."""

from __future__ import annotations

import errno
import os

import pytest

from vpt_core.atomicio import atomic_path, atomic_write_json, atomic_write_text
from vpt_core.errors import DiskWriteError


def test_new_file_gets_umask_permissions_and_replaced_file_keeps_its_own(tmp_path):
    old = os.umask(0o022)
    try:
        path = atomic_write_text(tmp_path / "a.txt", "one")
        assert path.stat().st_mode & 0o777 == 0o644
        path.chmod(0o600)
        atomic_write_text(path, "two")
        assert path.read_text() == "two" and path.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)


def test_error_while_writing_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    path = atomic_write_json(tmp_path / "doc.json", {"v": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(path) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash mid-write")
    assert path.read_text().strip().endswith("}") and '"v": 1' in path.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.json"]


def test_disk_full_is_a_clear_error_naming_the_file(tmp_path, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(DiskWriteError, match=r"report.json: the disk is full"):
        atomic_write_json(tmp_path / "report.json", {})
    assert list(tmp_path.iterdir()) == []

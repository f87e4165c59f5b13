"""Finding image files for parity, calibration, quantisation checks and image-folder sources. Torch-free.

A link that leads nowhere (its target is gone) or in a circle is skipped and
named, like an unreadable image; a link to a folder is not followed (it could
lead back up the tree) and is named too.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from .errors import VptError
from .images import is_image_file


def list_images(folder: str | os.PathLike, skipped: list[str] | None = None, recursive: bool = True) -> list[Path]:
    """Every image file under ``folder`` (class sub-folders included unless not ``recursive``), sorted.

    Links that cannot be used are left out; with ``skipped``, one reason naming each is appended to it.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise VptError(f"image folder not found: {folder}")
    found: list[Path] = []
    reasons: list[str] = []
    for directory, subfolders, files in os.walk(folder):   # os.walk does not follow links to folders
        here = Path(directory)
        if not recursive:
            subfolders.clear()
        for name in subfolders:
            if (here / name).is_symlink():
                reasons.append(f"{here / name}: a link to a folder; not followed")
        for name in sorted(files):
            path = here / name
            if not is_image_file(name):
                continue
            problem = link_problem(path)
            if problem:
                reasons.append(f"{path}: {problem}")
            elif path.is_file():
                found.append(path)
    if skipped is not None:
        skipped.extend(sorted(reasons))
    return sorted(found)


def link_problem(path: Path) -> str | None:
    """Why a link at ``path`` cannot be read ("a broken link", "a link loop"), or None."""
    if not path.is_symlink():
        return None
    try:
        os.stat(path)
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "a link that loops back on itself; skipped"
        return f"a broken link (its target {os.readlink(path)!r} is missing); skipped"
    return None

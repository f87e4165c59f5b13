"""Finding image files for parity, calibration and quantisation checks. Torch-free."""

from __future__ import annotations

import os
from pathlib import Path

from .images import is_image_file

from .errors import VptError

def list_images(folder: str | os.PathLike) -> list[Path]:
    """Every image file under ``folder`` (class sub-folders included), sorted."""
    folder = Path(folder)
    if not folder.is_dir():
        raise VptError(f"image folder not found: {folder}")
    return sorted(p for p in folder.rglob("*") if p.is_file() and is_image_file(p))

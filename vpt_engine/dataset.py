"""Image-folder datasets: one sub-folder per class.

Scanning is cheap; decoding happens once, into memory, already resized to the
backbone's evaluation scale (few-shot sets are small). Unreadable files are
skipped and reported by name; a class left without images is an error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from vpt_core.errors import DatasetError, ImageReadError
from vpt_core.imagefiles import list_images
from vpt_core.images import read_image_rgb
from vpt_core.preprocess import PreprocessSpec


@dataclass
class ImageFolderIndex:
    root: Path
    classes: list[str]
    files: list[tuple[Path, int]]
    skipped: list[str] = field(default_factory=list)   # links left out, each with the reason

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(self.classes, 0)
        for _, label in self.files:
            counts[self.classes[label]] += 1
        return counts


@dataclass
class LoadedImages:
    """Decoded images after ``PreprocessSpec.resize``: evaluation only has to crop and normalise."""

    classes: list[str]
    images: list[np.ndarray]
    labels: np.ndarray
    paths: list[Path]
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    root: Path | None = None  # the folder the images came from, when there is one

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, indices: Sequence[int]) -> "LoadedImages":
        return LoadedImages(self.classes, [self.images[i] for i in indices], self.labels[list(indices)],
                            [self.paths[i] for i in indices], root=self.root)

    def counts(self) -> dict[str, int]:
        return {name: int((self.labels == label).sum()) for label, name in enumerate(self.classes)}


def scan_image_folder(root: str | os.PathLike, classes: Sequence[str] | None = None) -> ImageFolderIndex:
    """List ``root/<class>/*`` images. ``classes`` fixes names and order (e.g. from a task pack)."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"dataset folder not found: {root}")
    folders = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    _refuse_linked_class_folders(root, folders)
    if classes is None:
        classes = folders
        if len(classes) < 2:
            raise DatasetError(f"{root}: needs at least two class folders (one folder per class), found {folders}")
    else:
        unknown = sorted(set(folders) - set(classes))
        if unknown:
            raise DatasetError(f"{root}: folders {unknown} are not classes of this task ({list(classes)})")
    files, skipped = [], []
    for label, name in enumerate(classes):
        folder = root / name
        if folder.is_dir():
            files += [(path, label) for path in list_images(folder, skipped)]
    return ImageFolderIndex(root, list(classes), files, skipped)


def _refuse_linked_class_folders(root: Path, folders: Sequence[str]) -> None:
    """A class folder that is a link into the data folder (or the data folder itself) would hold other classes'
    pictures; a link elsewhere is fine (a class kept on another disk)."""
    resolved_root = root.resolve()
    for name in folders:
        folder = root / name
        if not folder.is_symlink():
            continue
        target = folder.resolve()
        if target == resolved_root or resolved_root in target.parents or target in resolved_root.parents:
            raise DatasetError(f"{folder}: the class folder is a link to {target}, inside (or above) the data "
                               "folder; it would mix other classes' pictures into it")


def load_images(index: ImageFolderIndex, spec: PreprocessSpec, *, require_every_class: bool = True,
                on_progress: Callable[[int, int], None] | None = None) -> LoadedImages:
    """Decode every file; unreadable ones are skipped and listed in ``skipped``."""
    images, labels, paths, skipped = [], [], [], []
    for count, (path, label) in enumerate(index.files, start=1):
        try:
            images.append(spec.resize(read_image_rgb(path)))
            labels.append(label)
            paths.append(path)
        except ImageReadError as error:
            skipped.append((path, str(error)))
        if on_progress:
            on_progress(count, len(index.files))
    skipped += [(Path(reason.split(": ", 1)[0]), reason) for reason in index.skipped]
    loaded = LoadedImages(index.classes, images, np.asarray(labels, dtype=np.int64), paths, skipped, index.root)
    empty = [name for name, n in loaded.counts().items() if n == 0]
    if require_every_class and empty:
        detail = f" ({len(skipped)} unreadable files skipped)" if skipped else ""
        raise DatasetError(f"{index.root}: no usable images in class folder(s) {', '.join(empty)}{detail}")
    if not images:
        raise DatasetError(f"{index.root}: no usable images found")
    return loaded


def eval_batches(images: Iterable[np.ndarray], spec: PreprocessSpec, batch_size: int):
    """Yield float32 NCHW batches of centre-cropped, normalised images (already ``spec.resize``d)."""
    batch = []
    for image in images:
        batch.append(spec.normalize(spec.crop(image)))
        if len(batch) == batch_size:
            yield np.stack(batch)
            batch = []
    if batch:
        yield np.stack(batch)

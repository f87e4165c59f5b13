"""Frame sources for preview and capture (Qt-free): cameras, video files, streams, image folders.

``read()`` returns an RGB uint8 frame, or raises :class:`SourceLost` when the
source stopped delivering (unplugged camera, dropped stream, deleted folder);
the preview thread then shows that and keeps trying to reopen it.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from vpt_engine.errors import VptError
from vpt_engine.images import frame_to_rgb, is_image_file

CAMERA, VIDEO, STREAM, FOLDER = "camera", "video", "stream", "folder"
KINDS = (CAMERA, VIDEO, STREAM, FOLDER)
RESOLUTIONS = ((640, 480), (1280, 720), (1920, 1080))
DEFAULT_FOLDER_FPS = 30.0


class SourceLost(VptError):
    """The source cannot deliver frames right now."""


@dataclass(frozen=True)
class SourceSpec:
    kind: str
    target: str                      # camera index as text, file path, URL or folder
    width: int | None = None         # requested resolution; None keeps the source's own
    height: int | None = None
    fps: float | None = None         # playback rate for folders and video files

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise VptError(f"unknown source kind {self.kind!r}; choose one of {', '.join(KINDS)}")
        if self.kind == CAMERA and not str(self.target).isdigit():
            raise VptError(f"a camera is chosen by its number (0, 1, ...), got {self.target!r}")
        if not str(self.target).strip():
            raise VptError("choose a camera, file, address or folder first")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> "SourceSpec":
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in document.items() if k in known})


class FolderSource:
    """A folder of images played in a loop as if it were a camera."""

    def __init__(self, spec: SourceSpec):
        self.spec = spec
        self.folder = Path(spec.target)
        self.files: list[Path] = []
        self.position = 0
        self.frame_interval = 1.0 / (spec.fps or DEFAULT_FOLDER_FPS)

    def open(self) -> None:
        if not self.folder.is_dir():
            raise SourceLost(f"folder not found: {self.folder}")
        self.files = sorted(Path(e.path) for e in os.scandir(self.folder) if e.is_file() and is_image_file(e.name))
        if not self.files:
            raise SourceLost(f"no images in {self.folder}")

    def read(self) -> np.ndarray:
        # Skip unreadable files, but a whole folder of them (or a vanished folder) is a lost source.
        for _ in range(len(self.files)):
            path = self.files[self.position % len(self.files)]
            self.position += 1
            frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if frame is not None:
                return _resize(frame_to_rgb(frame), self.spec)
        raise SourceLost(f"cannot read images from {self.folder}")

    def close(self) -> None:
        self.files = []


class OpenCvSource:
    """Camera by index, video file (looped) or network stream through ``cv2.VideoCapture``."""

    def __init__(self, spec: SourceSpec):
        self.spec = spec
        self.capture: cv2.VideoCapture | None = None
        self.frame_interval = 0.0

    def open(self) -> None:
        spec = self.spec
        if spec.kind == VIDEO and not Path(spec.target).is_file():
            raise SourceLost(f"video file not found: {spec.target}")
        target: Any = int(spec.target) if spec.kind == CAMERA else spec.target
        capture = cv2.VideoCapture(target)
        if not capture.isOpened():
            capture.release()
            raise SourceLost(f"cannot open {describe(spec)}")
        if spec.kind == CAMERA and spec.width and spec.height:
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, spec.width)
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, spec.height)
        if spec.kind == VIDEO:
            # A file would otherwise play as fast as it decodes; pace it at its own rate.
            rate = spec.fps or capture.get(cv2.CAP_PROP_FPS) or 25.0
            self.frame_interval = 1.0 / min(max(rate, 1.0), 120.0)
        self.capture = capture

    def read(self) -> np.ndarray:
        if self.capture is None:
            raise SourceLost("not open")
        ok, frame = self.capture.read()
        if not ok and self.spec.kind == VIDEO:  # end of file: loop
            self.capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self.capture.read()
        if not ok or frame is None:
            raise SourceLost(f"{describe(self.spec)} stopped sending pictures")
        rgb = frame_to_rgb(frame)
        return rgb if self.spec.kind == CAMERA else _resize(rgb, self.spec)

    def close(self) -> None:
        if self.capture is not None:
            self.capture.release()
            self.capture = None


def open_source(spec: SourceSpec):
    """An unopened source object for ``spec`` (call ``open()`` in the thread that reads it)."""
    return FolderSource(spec) if spec.kind == FOLDER else OpenCvSource(spec)


def describe(spec: SourceSpec) -> str:
    if spec.kind == CAMERA:
        return f"camera {spec.target}"
    return str(spec.target)


def list_cameras(max_index: int = 5) -> list[int]:
    """Indices OpenCV can open now. Slow on some systems: call it off the UI thread."""
    found = []
    for index in range(max_index):
        capture = cv2.VideoCapture(index)
        try:
            if capture.isOpened():
                found.append(index)
        finally:
            capture.release()
    return found


def _resize(rgb: np.ndarray, spec: SourceSpec) -> np.ndarray:
    if spec.width and spec.height and (rgb.shape[1], rgb.shape[0]) != (spec.width, spec.height):
        return cv2.resize(rgb, (spec.width, spec.height), interpolation=cv2.INTER_AREA)
    return rgb


class Pacer:
    """Sleep so frames come at most every ``interval`` seconds (0: as fast as the source gives them)."""

    def __init__(self, interval: float):
        self.interval = interval
        self.next_time = time.perf_counter()

    def delay(self) -> float:
        """Seconds to wait before delivering the next frame."""
        if self.interval <= 0:
            return 0.0
        now = time.perf_counter()
        target = self.next_time if self.next_time >= now - self.interval else now  # never race to catch up
        self.next_time = target + self.interval
        return max(0.0, target - now)

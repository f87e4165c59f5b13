"""Where station frames come from: an image folder, a video file, a camera or a network stream.

Each source yields RGB frames and keeps count of what went wrong. An
unreadable image or frame is skipped and counted, never fatal. A camera or
stream that stops delivering is reopened with growing pauses (backoff), each
attempt reported through ``on_event``; only when it stays away for
``max_retries`` attempts does the source give up with :class:`CameraLostError`.
OpenCV is imported only for videos, cameras and streams.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from vpt_engine.errors import ImageReadError
from vpt_engine.images import frame_to_rgb, read_image_rgb

from ..errors import CameraLostError, VptError
from ..imagefiles import list_images

EventCallback = Callable[[str], None]
MAX_REASONS_KEPT = 20


@dataclass
class Frame:
    index: int
    name: str
    rgb: np.ndarray = field(repr=False)


@dataclass
class SourceStats:
    frames: int = 0
    skipped: int = 0
    reconnects: int = 0
    reasons: list[str] = field(default_factory=list)

    def skip(self, reason: str) -> None:
        self.skipped += 1
        if len(self.reasons) < MAX_REASONS_KEPT:
            self.reasons.append(reason)

    def to_dict(self) -> dict[str, Any]:
        return {"frames": self.frames, "skipped": self.skipped, "reconnects": self.reconnects,
                "skipped_reasons": list(self.reasons)}


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 10
    first_delay_s: float = 0.5
    max_delay_s: float = 10.0
    failed_reads_before_reconnect: int = 3

    def delay(self, attempt: int) -> float:
        return min(self.max_delay_s, self.first_delay_s * 2 ** (attempt - 1))


class ImageFolderSource:
    def __init__(self, folder: str | os.PathLike, on_event: EventCallback | None = None):
        self.folder = Path(folder)
        self.paths = list_images(folder)
        self.stats = SourceStats()
        self.on_event = on_event or (lambda message: None)
        self.description = f"image folder {self.folder} ({len(self.paths)} images)"

    def __iter__(self) -> Iterator[Frame]:
        for path in self.paths:
            try:
                rgb = read_image_rgb(path)
            except ImageReadError as error:
                self.stats.skip(str(error))
                self.on_event(f"skipped: {error}")
                continue
            self.stats.frames += 1
            yield Frame(self.stats.frames - 1, str(path), rgb)


class CaptureSource:
    """A video file, camera index or stream URL through an OpenCV-like capture object.

    ``open_capture`` (default ``cv2.VideoCapture``) and ``sleep`` are injectable
    so the retry logic can be exercised without hardware.
    """

    def __init__(self, target: int | str, live: bool, on_event: EventCallback | None = None,
                 retry: RetryPolicy = RetryPolicy(), open_capture: Callable[[Any], Any] | None = None,
                 sleep: Callable[[float], None] | None = None):
        self.target, self.live, self.retry = target, live, retry
        self.sleep = sleep or _wait
        self.on_event = on_event or (lambda message: None)
        self.open_capture = open_capture or _opencv_capture
        self.stats = SourceStats()
        kind = "camera" if isinstance(target, int) else ("stream" if live else "video")
        self.description = f"{kind} {target}"
        self._capture = None

    def __iter__(self) -> Iterator[Frame]:
        self._capture = self._open_first()
        failed_reads = 0
        try:
            while True:
                ok, frame = self._capture.read()
                if ok and frame is not None:
                    failed_reads = 0
                    converted = self._convert(frame)
                    if converted is not None:
                        self.stats.frames += 1
                        yield Frame(self.stats.frames - 1, f"frame {self.stats.frames - 1}", converted)
                    continue
                failed_reads += 1
                if not self.live:
                    if self._video_finished(failed_reads):
                        return
                    self.stats.skip(f"{self.description}: unreadable frame")
                    continue
                if failed_reads >= self.retry.failed_reads_before_reconnect:
                    self._reconnect()
                    failed_reads = 0
        finally:
            self._release()

    def _convert(self, frame) -> np.ndarray | None:
        try:
            return frame_to_rgb(frame)
        except ImageReadError as error:
            self.stats.skip(f"{self.description}: {error}")
            self.on_event(f"skipped a frame: {error}")
            return None

    def _open_first(self):
        capture = self.open_capture(self.target)
        if _is_open(capture):
            return capture
        if not self.live:
            raise VptError(f"cannot open video {self.target} (missing file or unsupported codec)")
        self.on_event(f"{self.description} is not available yet")
        return self._reopen_with_backoff(capture, "could not be opened")

    def _reconnect(self) -> None:
        self.on_event(f"{self.description} stopped delivering frames after {self.stats.frames} frames; reconnecting")
        self._capture = self._reopen_with_backoff(self._capture, "was lost")
        self.stats.reconnects += 1
        self.on_event(f"{self.description} is back (reconnect {self.stats.reconnects})")

    def _reopen_with_backoff(self, capture, what: str):
        for attempt in range(1, self.retry.max_retries + 1):
            _release_quietly(capture)
            delay = self.retry.delay(attempt)
            self.on_event(f"{self.description}: retry {attempt}/{self.retry.max_retries} in {delay:.1f} s")
            self.sleep(delay)
            capture = self.open_capture(self.target)
            if _is_open(capture):
                return capture
        _release_quietly(capture)
        raise CameraLostError(f"{self.description} {what} and did not come back after {self.retry.max_retries} "
                              f"retries ({self.stats.frames} frames read, {self.stats.reconnects} earlier reconnects)")

    def _video_finished(self, failed_reads: int) -> bool:
        """A failed read ends a video at its end; earlier, a few bad frames are skipped."""
        position, total = _capture_position(self._capture)
        return total <= 0 or position >= total or failed_reads > self.retry.failed_reads_before_reconnect

    def _release(self) -> None:
        _release_quietly(self._capture)
        self._capture = None


def open_source(text: str, on_event: EventCallback | None = None, retry: RetryPolicy = RetryPolicy()):
    """IMAGE_DIR, VIDEO_FILE, CAMERA_INDEX (digits) or a stream URL (rtsp://, http://, ...)."""
    if text.isdigit():
        return CaptureSource(int(text), live=True, on_event=on_event, retry=retry)
    if "://" in text:
        return CaptureSource(text, live=True, on_event=on_event, retry=retry)
    path = Path(text)
    if path.is_dir():
        return ImageFolderSource(path, on_event)
    if path.is_file():
        return CaptureSource(str(path), live=False, on_event=on_event, retry=retry)
    raise VptError(f"source {text!r} is not an image folder, a video file, a camera index or a stream URL")


def _wait(seconds: float) -> None:
    time.sleep(seconds)


def _opencv_capture(target):
    import cv2

    return cv2.VideoCapture(target)


def _is_open(capture) -> bool:
    return capture is not None and bool(capture.isOpened())


def _release_quietly(capture) -> None:
    if capture is not None:
        try:
            capture.release()
        except Exception:  # a capture that died may fail to release; nothing to do about it
            pass


def _capture_position(capture) -> tuple[float, float]:
    try:
        import cv2

        return capture.get(cv2.CAP_PROP_POS_FRAMES), capture.get(cv2.CAP_PROP_FRAME_COUNT)
    except Exception:  # fakes and some backends know neither
        return 0.0, 0.0

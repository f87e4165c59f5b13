"""Where frames come from: a camera index, a video file, an RTSP/HTTP stream or an image folder.

One stack for every reader of frames: the app's preview, ``vpt infer`` and
``vpt serve``. A :class:`SourceSpec` says what to open; a :class:`FrameStream`
yields :class:`Frame` objects from it and handles what goes wrong on a line:

* an unreadable image or frame is skipped and counted (with its reason), never fatal;
* a camera or stream that stops delivering is reopened with growing pauses
  (back-off); each attempt is reported through ``on_event`` and the state through
  ``on_state``; after ``RetryPolicy.max_retries`` attempts (``None``: never give
  up) the stream ends with :class:`CameraLostError`;
* a folder or video played once ends the stream at its end; played in a loop
  (the app's "folder as a camera") it starts again, and a folder that vanishes
  is treated like a lost camera.

OpenCV is imported only when a video, camera or stream is opened.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from .errors import CameraLostError, ConfigError, ImageReadError, VptError
from .imagefiles import list_images
from .images import frame_to_rgb, is_image_file, read_image_rgb

CAMERA, VIDEO, STREAM, FOLDER = "camera", "video", "stream", "folder"
KINDS = (CAMERA, VIDEO, STREAM, FOLDER)
DEFAULT_FOLDER_FPS = 30.0
MAX_REASONS_KEPT = 20
# Stream states reported through ``on_state``.
CONNECTING, RUNNING, LOST, ENDED = "connecting", "running", "lost", "ended"

EventCallback = Callable[[str], None]
StateCallback = Callable[[str, str], None]


class SourceLost(VptError):
    """The source cannot deliver frames right now (it may come back)."""


@dataclass(frozen=True)
class SourceSpec:
    kind: str
    target: str                      # camera index as text, file path, URL or folder
    width: int | None = None         # wanted frame size; None keeps the source's own
    height: int | None = None
    fps: float | None = None         # pace for folders and videos; None: the video's own rate / 30 for folders
    loop: bool = False               # play folders and videos again from the start at their end

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise VptError(f"unknown source kind {self.kind!r}; choose one of {', '.join(KINDS)}")
        if not str(self.target).strip():
            raise VptError("choose a camera, file, address or folder first")
        if self.kind == CAMERA and not str(self.target).isdigit():
            raise VptError(f"a camera is chosen by its number (0, 1, ...), got {self.target!r}")
        for name in ("width", "height"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise VptError(f"source {name} must be a positive whole number, got {value!r}")
        if self.fps is not None and not 0 < self.fps <= 1000:
            raise VptError(f"source fps must be in (0, 1000], got {self.fps!r}")

    @classmethod
    def parse(cls, text: str, *, loop: bool = False, fps: float | None = None) -> "SourceSpec":
        """IMAGE_DIR, VIDEO_FILE, CAMERA_INDEX (digits) or a stream URL (rtsp://, http://, ...)."""
        text = (text or "").strip()
        if not text:
            raise VptError("the source is empty: give an image folder, a video file, a camera number or a "
                           "stream URL")
        if text.isdigit():
            return cls(CAMERA, text, fps=fps)
        if "://" in text:
            return cls(STREAM, text, fps=fps)
        path = Path(text)
        if path.is_dir() or (path.is_file() and is_image_file(path)):   # one picture: a folder of one
            return cls(FOLDER, text, fps=fps, loop=loop)
        if path.is_file():
            return cls(VIDEO, text, fps=fps, loop=loop)
        raise VptError(f"source {text!r} is not an image folder, a video file, a camera index or a stream URL")

    @property
    def live(self) -> bool:
        """Cameras and streams: frames keep coming, and a silence means the source was lost."""
        return self.kind in (CAMERA, STREAM)

    def describe(self) -> str:
        names = {CAMERA: "camera", STREAM: "stream", VIDEO: "video", FOLDER: "image folder"}
        if self.kind == FOLDER and Path(self.target).is_file():
            return f"image {self.target}"
        return f"{names[self.kind]} {self.target}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> "SourceSpec":
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in document.items() if k in known})


@dataclass(frozen=True)
class Frame:
    index: int                       # 0, 1, 2, ... over the whole stream, reconnects included
    name: str                        # file name for folders, "frame N" otherwise
    rgb: np.ndarray = field(repr=False)
    timestamp: float = 0.0           # time.monotonic() when it was read


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
    max_retries: int | None = 10         # None: keep trying (the app's preview, a service)
    first_delay_s: float = 0.5
    max_delay_s: float = 10.0
    failed_reads_before_reconnect: int = 3

    def __post_init__(self) -> None:
        if self.max_retries is not None and (not isinstance(self.max_retries, int) or self.max_retries < 0):
            raise ConfigError(f"max retries must be a whole number of at least 0, got {self.max_retries!r}")
        if not 0 <= self.first_delay_s <= self.max_delay_s:
            raise ConfigError(f"retry delays must satisfy 0 <= first ({self.first_delay_s}) <= max "
                              f"({self.max_delay_s})")
        if self.failed_reads_before_reconnect < 1:
            raise ConfigError("failed_reads_before_reconnect must be at least 1")

    def delay(self, attempt: int) -> float:
        return min(self.max_delay_s, self.first_delay_s * 2 ** (attempt - 1))

    def gives_up_after(self, attempt: int) -> bool:
        return self.max_retries is not None and attempt > self.max_retries


# -- readers: open, read one frame, close ------------------------------------------------------
class _FolderReader:
    """Images of a folder in name order; ``read`` gives None at the end."""

    def __init__(self, spec: SourceSpec, skip: Callable[[str], None]):
        self.spec, self.skip = spec, skip
        self.folder = Path(spec.target)
        self.files: list[Path] = []
        self.position = 0
        self.native_interval = 1.0 / DEFAULT_FOLDER_FPS
        self._named_links = False

    def open(self) -> None:
        if self.folder.is_file():
            self.files, self.position = [self.folder], 0
            return
        if not self.folder.is_dir():
            raise SourceLost(f"folder not found: {self.folder}")
        unusable: list[str] = []
        self.files = list_images(self.folder, unusable, recursive=False)
        if not self._named_links:   # once, not again at every pass of a looping folder
            self._named_links = True
            for reason in unusable:
                self.skip(reason)
        self.position = 0
        if not self.files:
            raise SourceLost(f"no images in {self.folder}")

    def read(self) -> tuple[str, np.ndarray] | None:
        unreadable = 0
        while unreadable < len(self.files):
            if self.position >= len(self.files):
                if not self.spec.loop:
                    return None
                self.position = 0
            path = self.files[self.position]
            self.position += 1
            try:
                return path.name, read_image_rgb(path)
            except ImageReadError as error:
                unreadable += 1
                self.skip(str(error))
        # A whole folder of unreadable files (or one that vanished) is a lost source.
        raise SourceLost(f"cannot read images from {self.folder}")

    def close(self) -> None:
        self.files = []


class _CaptureReader:
    """A camera, video file or stream through ``cv2.VideoCapture`` (or an injected stand-in)."""

    def __init__(self, spec: SourceSpec, open_capture: Callable[[Any], Any]):
        self.spec, self.open_capture = spec, open_capture
        self.capture = None
        self.native_interval = 0.0

    def open(self) -> None:
        spec = self.spec
        if spec.kind == VIDEO and not Path(spec.target).is_file():
            raise SourceLost(f"video file not found: {spec.target}")
        capture = self.open_capture(int(spec.target) if spec.kind == CAMERA else spec.target)
        if capture is None or not capture.isOpened():
            _release_quietly(capture)
            what = "cannot open video" if spec.kind == VIDEO else "cannot open"
            detail = " (missing file or unsupported codec)" if spec.kind == VIDEO else ""
            raise SourceLost(f"{what} {spec.target if spec.kind == VIDEO else spec.describe()}{detail}")
        if spec.kind == CAMERA and spec.width and spec.height:
            _set_property(capture, "CAP_PROP_FRAME_WIDTH", spec.width)
            _set_property(capture, "CAP_PROP_FRAME_HEIGHT", spec.height)
        if spec.kind == VIDEO:
            rate = _get_property(capture, "CAP_PROP_FPS") or 25.0
            self.native_interval = 1.0 / min(max(rate, 1.0), 120.0)
        self.capture = capture

    def read(self) -> tuple[bool, Any]:
        return self.capture.read()

    def at_end(self) -> bool:
        """Whether a failed read of a video happened at its end (not a damaged frame in the middle)."""
        position = _get_property(self.capture, "CAP_PROP_POS_FRAMES")
        total = _get_property(self.capture, "CAP_PROP_FRAME_COUNT")
        return total <= 0 or position >= total

    def rewind(self) -> None:
        _set_property(self.capture, "CAP_PROP_POS_FRAMES", 0)

    def close(self) -> None:
        _release_quietly(self.capture)
        self.capture = None


# -- the stream: retries, back-off, pacing, counting -----------------------------------------
class FrameStream:
    """Frames of ``spec`` with the failure handling described in the module docstring.

    ``stop`` (a ``threading.Event``) ends the stream promptly, also during a
    back-off pause. ``pace`` spaces frames of folders and videos at ``spec.fps``
    (or their own rate); live sources always come as fast as they deliver.
    ``open_capture`` and ``sleep`` are injectable so the retry logic can be
    exercised without hardware.
    """

    def __init__(self, spec: SourceSpec, *, retry: RetryPolicy = RetryPolicy(), pace: bool = False,
                 on_event: EventCallback | None = None, on_state: StateCallback | None = None,
                 stop: threading.Event | None = None, open_capture: Callable[[Any], Any] | None = None,
                 sleep: Callable[[float], Any] | None = None):
        self.spec, self.retry, self.pace = spec, retry, pace
        self.on_event = on_event or (lambda message: None)
        self.on_state = on_state or (lambda state, detail: None)
        self.stop = stop or threading.Event()
        self.sleep = sleep or (lambda seconds: _wait(self.stop, seconds))
        self.stats = SourceStats()
        self.state = CONNECTING
        self.description = spec.describe()
        if spec.kind == FOLDER:
            self._reader: Any = _FolderReader(spec, self._skip)
        else:
            self._reader = _CaptureReader(spec, open_capture or _opencv_capture)

    # -- public ------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Frame]:
        try:
            if not self._open_first():
                return
            pacer = Pacer(self._interval())
            while not self.stop.is_set():
                frame = self._next_frame()
                if frame is None:
                    self._set_state(ENDED, self.description)
                    return
                wait = pacer.delay()
                if wait and self.sleep(wait) is True:
                    return
                yield frame
        finally:
            self._reader.close()

    # -- opening and reconnecting ------------------------------------------------------------------
    def _open_first(self) -> bool:
        self._set_state(CONNECTING, self.description)
        try:
            self._reader.open()
        except SourceLost as error:
            if not (self.spec.live or self.spec.loop):
                raise VptError(str(error)) from None   # a one-shot folder or video that is not there
            self.on_event(f"{self.description} is not available yet ({error})")
            if not self._reopen_with_backoff(str(error), "could not be opened"):
                return False
        else:
            self._set_state(RUNNING, self.description)
        return True

    def _reconnect(self, reason: str) -> bool:
        self.on_event(f"{self.description} stopped delivering frames after {self.stats.frames} frames; reconnecting")
        if not self._reopen_with_backoff(reason, "was lost"):
            return False
        self.stats.reconnects += 1
        self.on_event(f"{self.description} is back (reconnect {self.stats.reconnects})")
        return True

    def _reopen_with_backoff(self, reason: str, what: str) -> bool:
        """True once reopened; False if stopped meanwhile; CameraLostError when retries run out."""
        self._set_state(LOST, reason)
        attempt = 1
        while not self.retry.gives_up_after(attempt):
            self._reader.close()
            delay = self.retry.delay(attempt)
            limit = "" if self.retry.max_retries is None else f"/{self.retry.max_retries}"
            self.on_event(f"{self.description}: retry {attempt}{limit} in {delay:.1f} s")
            if self.sleep(delay) is True or self.stop.is_set():
                return False
            try:
                self._reader.open()
            except SourceLost as error:
                self._set_state(LOST, str(error))
                attempt += 1
                continue
            self._set_state(RUNNING, self.description)
            return True
        self._reader.close()
        raise CameraLostError(f"{self.description} {what} and did not come back after {self.retry.max_retries} "
                              f"retries ({self.stats.frames} frames read, {self.stats.reconnects} earlier reconnects)")

    # -- reading -------------------------------------------------------------------------------------
    def _next_frame(self) -> Frame | None:
        if isinstance(self._reader, _FolderReader):
            return self._next_from_folder()
        return self._next_from_capture()

    def _next_from_folder(self) -> Frame | None:
        while not self.stop.is_set():
            try:
                item = self._reader.read()
            except SourceLost as error:
                if not self.spec.loop or not self._reconnect(str(error)):
                    return None
                continue
            return None if item is None else self._deliver(item[0], item[1])
        return None

    def _next_from_capture(self) -> Frame | None:
        failed_reads = 0
        while not self.stop.is_set():
            ok, raw = self._reader.read()
            if ok and raw is not None:
                failed_reads = 0
                try:
                    rgb = frame_to_rgb(raw)
                except ImageReadError as error:
                    self._skip(f"{self.description}: {error}")
                    continue
                return self._deliver(f"frame {self.stats.frames}", rgb)
            failed_reads += 1
            if self.spec.kind == VIDEO:
                if self._reader.at_end() or failed_reads > self.retry.failed_reads_before_reconnect:
                    if not self.spec.loop:
                        return None
                    self._reader.rewind()
                    continue
                self._skip(f"{self.description}: unreadable frame")
                continue
            if failed_reads >= self.retry.failed_reads_before_reconnect:
                if not self._reconnect(f"{self.description} stopped sending pictures"):
                    return None
                failed_reads = 0
        return None

    def _deliver(self, name: str, rgb: np.ndarray) -> Frame:
        frame = Frame(self.stats.frames, name, _resized(rgb, self.spec), time.monotonic())
        self.stats.frames += 1
        return frame

    def _skip(self, reason: str) -> None:
        self.stats.skip(reason)
        self.on_event(f"skipped: {reason}")

    def _interval(self) -> float:
        if self.spec.live:
            return 0.0
        if self.spec.fps:
            return 1.0 / self.spec.fps
        return self._reader.native_interval if self.pace else 0.0

    def _set_state(self, state: str, detail: str) -> None:
        self.state = state
        self.on_state(state, detail)


class Pacer:
    """Frames at most every ``interval`` seconds (0: as fast as the source gives them)."""

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


def list_cameras(max_index: int = 5) -> list[int]:
    """Indices OpenCV can open now. Slow on some systems: call it off any UI thread."""
    found = []
    for index in range(max_index):
        capture = _opencv_capture(index)
        try:
            if capture.isOpened():
                found.append(index)
        finally:
            _release_quietly(capture)
    return found


def _wait(stop: threading.Event, seconds: float) -> bool:
    """Pause; True when ``stop`` was set meanwhile."""
    return stop.wait(seconds)


def _opencv_capture(target):
    import cv2

    return cv2.VideoCapture(target)


def _resized(rgb: np.ndarray, spec: SourceSpec) -> np.ndarray:
    """Folders and videos are scaled to the wanted size; a camera was asked for it when opened."""
    if spec.kind != CAMERA and spec.width and spec.height and (rgb.shape[1], rgb.shape[0]) != (spec.width, spec.height):
        import cv2

        return cv2.resize(rgb, (spec.width, spec.height), interpolation=cv2.INTER_AREA)
    return rgb


def _release_quietly(capture) -> None:
    if capture is not None:
        try:
            capture.release()
        except Exception:  # a capture that died may fail to release; nothing to do about it
            pass


def _get_property(capture, name: str) -> float:
    try:
        import cv2

        return float(capture.get(getattr(cv2, name)))
    except Exception:  # stand-ins and some backends know no properties
        return 0.0


def _set_property(capture, name: str, value: float) -> None:
    try:
        import cv2

        capture.set(getattr(cv2, name), value)
    except Exception:  # a backend that cannot set it keeps its own value
        pass

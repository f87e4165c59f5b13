"""The current frame source, read in a background thread and shared by the Capture and Live pages.

The reading thread never waits for the window: it keeps only the newest frame
and sends at most two frames ahead of what the window has drawn, so a busy
window drops frames instead of queueing them (no growing lag, no memory creep).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, replace

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal
from PySide6.QtGui import QImage

from vpt_core.errors import VptError
from vpt_core.frames import CONNECTING, LOST, RUNNING, FrameStream, RetryPolicy, SourceSpec

OFF = "off"
_RETRY = RetryPolicy(max_retries=None, first_delay_s=0.5, max_delay_s=5.0, failed_reads_before_reconnect=1)
_MAX_FRAMES_AHEAD = 2
_abandoned: list[QThread] = []   # threads stuck in a blocking open; kept alive until they return


@dataclass(frozen=True)
class Frame:
    rgb: np.ndarray     # HxWx3 uint8, what gets saved and classified
    image: QImage       # the same pixels for drawing
    number: int
    timestamp: float


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """Copy pixels into a QImage that owns its memory.

    Not ``QImage(buffer, ...)``: wrapping a numpy buffer crashed PySide6 6.12
    (a reference-count error) when done at camera rates from a thread.
    """
    height, width = rgb.shape[:2]
    image = QImage(width, height, QImage.Format.Format_RGB888)
    stride = image.bytesPerLine()
    target = np.frombuffer(image.bits(), np.uint8, count=stride * height).reshape(height, stride)
    target[:, :3 * width] = np.asarray(rgb, np.uint8).reshape(height, 3 * width)
    return image


class PreviewThread(QThread):
    frameReady = Signal(object)
    lost = Signal(str)
    connected = Signal()

    def __init__(self, spec: SourceSpec, parent: QObject | None = None):
        super().__init__(parent)
        self.spec = spec
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._ahead = 0

    def stop(self) -> None:
        self._stop.set()

    def frame_consumed(self) -> None:
        with self._lock:
            self._ahead = max(0, self._ahead - 1)

    def run(self) -> None:
        # The app plays folders and videos in a loop, paced like a camera, and never gives up on a source.
        stream = FrameStream(replace(self.spec, loop=True), retry=_RETRY, pace=True, stop=self._stop,
                             on_state=self._on_state)
        try:
            for frame in stream:
                with self._lock:
                    if self._ahead >= _MAX_FRAMES_AHEAD:
                        continue
                    self._ahead += 1
                self.frameReady.emit(Frame(frame.rgb, rgb_to_qimage(frame.rgb), frame.index + 1,
                                           time.perf_counter()))
        except VptError as error:   # only a source that cannot work at all (retries never run out here)
            self.lost.emit(str(error))

    def _on_state(self, state: str, detail: str) -> None:
        if state == RUNNING:
            self.connected.emit()
        elif state == LOST:
            self.lost.emit(detail)


class CameraController(QObject):
    """Starts and stops the preview thread; re-emits its frames and state to any page."""

    frameArrived = Signal(object)        # Frame
    stateChanged = Signal(str, str)      # state, detail (e.g. why it was lost)
    fpsChanged = Signal(float)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread: PreviewThread | None = None
        self._latest: Frame | None = None
        self._times: deque[float] = deque(maxlen=120)
        self.state, self.detail = OFF, ""
        self.spec: SourceSpec | None = None

    @property
    def latest_frame(self) -> Frame | None:
        return self._latest

    @property
    def fps(self) -> float:
        """Frames shown per second over the last second."""
        now = time.perf_counter()
        recent = [t for t in self._times if now - t <= 1.0]
        if len(recent) < 2:
            return 0.0
        return (len(recent) - 1) / max(1e-6, recent[-1] - recent[0])

    def start(self, spec: SourceSpec) -> None:
        self.stop()
        self.spec = spec
        thread = PreviewThread(spec)
        thread.frameReady.connect(self._on_frame)
        thread.lost.connect(self._on_lost)
        thread.connected.connect(self._on_connected)
        self._thread = thread
        self._set_state(CONNECTING, spec.describe())
        thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        thread.frameReady.disconnect(self._on_frame)
        thread.stop()
        if not thread.wait(3000):
            _abandoned.append(thread)   # blocked inside OpenCV; let it finish on its own
            thread.finished.connect(lambda: _abandoned.remove(thread) if thread in _abandoned else None)
        self._latest = None
        self._times.clear()
        self._set_state(OFF, "")

    def _on_frame(self, frame: Frame) -> None:
        if self._thread is not None:
            self._thread.frame_consumed()
        self._latest = frame
        self._times.append(time.perf_counter())
        self.frameArrived.emit(frame)
        if frame.number % 10 == 0:
            self.fpsChanged.emit(self.fps)

    def _on_connected(self) -> None:
        if self.sender() is self._thread and self.spec is not None:
            self._set_state(RUNNING, self.spec.describe())

    def _on_lost(self, detail: str) -> None:
        if self.sender() is self._thread:
            self._latest = None
            self._set_state(LOST, detail)

    def _set_state(self, state: str, detail: str) -> None:
        if (state, detail) != (self.state, self.detail):
            self.state, self.detail = state, detail
            self.stateChanged.emit(state, detail)

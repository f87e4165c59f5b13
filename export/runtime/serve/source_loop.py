"""``--source``: frames inspected continuously with the current task, from the one frame-source stack.

The stream never gives up on a lost camera (a service should see it come
back), but once it has been lost for longer than the retry window,
``/v1/health`` answers 503 so the line notices. States and their times come
from ``FrameStream``'s ``on_state`` callback.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from vpt_core.errors import VptError
from vpt_core.frames import CONNECTING, LOST, RUNNING, Frame, FrameStream, RetryPolicy, SourceSpec

log = logging.getLogger("vpt.serve")
FAILED = "failed"


def retry_policy(window_s: float) -> RetryPolicy:
    """Keep trying for ever, pausing at most half the window so a camera that is back is seen within it."""
    longest = max(0.05, min(10.0, window_s / 2))
    return RetryPolicy(max_retries=None, first_delay_s=min(0.5, longest), max_delay_s=longest)


class SourceLoop:
    def __init__(self, spec: SourceSpec, retry_window_s: float, handle_frame: Callable[[Frame], None],
                 open_capture: Callable[[Any], Any] | None = None):
        self.spec, self.retry_window_s, self.handle_frame = spec, retry_window_s, handle_frame
        self._stop = threading.Event()
        # pace: a folder plays at 30 frames/s and a video at its own rate (or --source-fps), like a camera,
        # instead of as fast as the engine goes (which would starve HTTP requests)
        self.stream = FrameStream(spec, retry=retry_policy(retry_window_s), stop=self._stop, pace=True,
                                  on_event=lambda message: log.info("source: %s", message),
                                  on_state=self._on_state, open_capture=open_capture)
        self.state, self.detail = CONNECTING, spec.describe()
        self._since = time.monotonic()
        self.failed_frames = 0
        self._thread = threading.Thread(target=self._run, name="vpt-source", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            for frame in self.stream:
                try:
                    self.handle_frame(frame)
                except VptError as error:   # no usable task, shutting down: counted, the stream goes on
                    self._frame_failed(frame, str(error))
                except Exception as error:
                    self._frame_failed(frame, f"{type(error).__name__}: {error}")
        except VptError as error:
            self._on_state(FAILED, str(error))
            log.error("source %s: %s", self.spec.describe(), error)
        except Exception as error:  # never silent: health reports the source as failed
            self._on_state(FAILED, f"{type(error).__name__}: {error}")
            log.exception("source %s stopped", self.spec.describe())

    def _frame_failed(self, frame: Frame, reason: str) -> None:
        self.failed_frames += 1
        if self.failed_frames <= 5 or self.failed_frames % 100 == 0:
            log.warning("source: frame %d not inspected (%s); %d so far", frame.index, reason, self.failed_frames)

    def _on_state(self, state: str, detail: str) -> None:
        if state != self.state:
            self._since = time.monotonic()
            if state == LOST:
                log.warning("source %s lost: %s", self.spec.describe(), detail)
            elif state == RUNNING and self.state == LOST:
                log.info("source %s is back", self.spec.describe())
        self.state, self.detail = state, detail

    @property
    def lost_for_s(self) -> float:
        return time.monotonic() - self._since if self.state in (LOST, FAILED) else 0.0

    @property
    def lost(self) -> bool:
        """Lost for longer than the retry window (health answers 503)."""
        return self.lost_for_s > self.retry_window_s

    def status(self) -> dict[str, Any]:
        stats = self.stream.stats
        return {"source": self.spec.describe(), "state": self.state, "detail": self.detail,
                "state_for_s": round(time.monotonic() - self._since, 2), "lost_for_s": round(self.lost_for_s, 2),
                "retry_window_s": self.retry_window_s, "lost": self.lost, "frames": stats.frames,
                "skipped": stats.skipped, "failed": self.failed_frames, "reconnects": stats.reconnects}

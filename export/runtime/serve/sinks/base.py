"""A sink's bounded queue and thread: results leave the station without ever holding inspection up.

``offer`` never blocks and never raises: a full queue drops its oldest result
(the newest say most about the line now) and counts it. The sink's thread
takes the oldest queued result and delivers it; a failure is retried with
growing pauses, unless the sink says retrying is pointless (``Permanent``:
counted as failed and dropped). So at most ``capacity`` results wait, plus the
one being delivered, and every result is either delivered or counted as
dropped. Every count is reported on ``/metrics`` and ``/v1/health``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

log = logging.getLogger("vpt.serve")


@dataclass(frozen=True)
class SinkEvent:
    record: dict[str, Any]
    image: bytes | None = None        # the picture as uploaded (kept as is)
    image_suffix: str = ""
    rgb: np.ndarray | None = None     # a camera frame (encoded only if a sink keeps it)


class Permanent(Exception):
    """Delivering this result can never succeed (for example a webhook answering 400): drop it."""


class QueuedSink:
    kind = "sink"

    def __init__(self, target: str, capacity: int, first_retry_s: float = 0.5, max_retry_s: float = 30.0):
        self.target = target
        self.capacity = capacity
        self.first_retry_s, self.max_retry_s = first_retry_s, max_retry_s
        self._queue: deque[SinkEvent] = deque()
        self._in_flight: SinkEvent | None = None   # taken from the queue, not yet delivered
        self._cond = threading.Condition()
        self._stopping = False
        self._deadline = float("inf")
        self._thread = threading.Thread(target=self._run_safely, name=f"vpt-sink-{self.kind}", daemon=True)
        self.accepted = self.delivered = self.dropped = self.failures = 0
        self.last_error = ""
        self._last_error_time = 0.0
        self._failing = False

    # -- the inspection side -------------------------------------------------------------
    def wants(self, event: SinkEvent) -> bool:
        return True

    def offer(self, event: SinkEvent) -> None:
        try:
            if not self.wants(event):
                return
            with self._cond:
                if self._stopping:
                    self.dropped += 1
                    return
                if len(self._queue) >= self.capacity:
                    self._queue.popleft()
                    self.dropped += 1
                self._queue.append(event)
                self.accepted += 1
                self._cond.notify()
        except Exception as error:  # a sink's own bug must not reach the inspection loop
            with self._cond:
                self.dropped += 1
            self._note_failure(f"could not queue a result: {error}")

    # -- life ----------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 3.0) -> None:
        """Deliver what is queued for at most ``timeout`` seconds; what is left is counted as dropped."""
        with self._cond:
            self._stopping = True
            self._deadline = time.monotonic() + timeout
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout + 2.0)
        self._close()
        left = self._abandoned()
        with self._cond:
            left += len(self._queue) + (self._in_flight is not None)
            self._queue.clear()
            self._in_flight = None
            self.dropped += left
        if left:
            log.warning("%s %s: %d results not delivered at shutdown", self.kind, self.target, left)

    def _close(self) -> None:
        """Release connections or files (after the thread ended)."""

    def _abandoned(self) -> int:
        """Results handed on but not confirmed when the sink stopped (MQTT's in-flight messages)."""
        return 0

    # -- the sink's thread ---------------------------------------------------------------
    def _run_safely(self) -> None:
        try:
            self._run()
        except Exception as error:  # never silent: the sink is dead, health says so
            self._note_failure(f"the sink stopped: {error}")
            log.exception("%s %s stopped", self.kind, self.target)

    def _run(self) -> None:
        while (event := self._next()) is not None:
            if not self._deliver_until_done(event):
                return   # stopping: stop() counts the result in flight as dropped
            with self._cond:
                self._in_flight = None

    def _deliver_until_done(self, event: SinkEvent) -> bool:
        """Deliver, retrying failures with growing pauses; False when the sink stops first."""
        delay = self.first_retry_s
        while True:
            try:
                self.deliver(event)
            except Permanent as error:
                with self._cond:   # offer() counts drops too, from another thread
                    self.dropped += 1
                self._note_failure(str(error))
                return True
            except Exception as error:
                self._note_failure(str(error) or type(error).__name__)
                if self._pause(delay):
                    return False
                delay = min(self.max_retry_s, delay * 2)
            else:
                self.delivered += 1
                self._note_success()
                return True

    def _next(self) -> SinkEvent | None:
        """The oldest queued result, now in flight; None when stopping (and drained, or past the deadline)."""
        with self._cond:
            while not self._queue:
                if self._stopping:
                    return None
                self._cond.wait()
            if self._stopping and time.monotonic() > self._deadline:
                return None
            self._in_flight = self._queue.popleft()
            return self._in_flight

    def _pause(self, seconds: float) -> bool:
        """Wait before a retry; True when the sink is stopping (then nothing more is retried)."""
        with self._cond:
            if self._stopping:
                return True
            self._cond.wait(seconds)
            return self._stopping

    def deliver(self, event: SinkEvent) -> None:
        raise NotImplementedError

    # -- reporting -----------------------------------------------------------------------
    def _note_failure(self, message: str) -> None:
        self.failures += 1
        if not self._failing or message != self.last_error:
            log.warning("%s %s: %s", self.kind, self.target, message)
        self.last_error, self._last_error_time, self._failing = message, time.monotonic(), True

    def _note_success(self) -> None:
        if self._failing:
            log.info("%s %s: delivering again", self.kind, self.target)
        self._failing = False

    @property
    def healthy(self) -> bool:
        return not self._failing and self._thread.is_alive()

    def status(self) -> dict[str, Any]:
        with self._cond:
            queued = len(self._queue) + (self._in_flight is not None)
        document = {"kind": self.kind, "target": self.target, "healthy": self.healthy, "queued": queued,
                    "capacity": self.capacity, "accepted": self.accepted, "delivered": self.delivered,
                    "dropped": self.dropped, "failures": self.failures, "last_error": self.last_error or None}
        if self._last_error_time:
            document["last_error_age_s"] = round(time.monotonic() - self._last_error_time, 1)
        return document

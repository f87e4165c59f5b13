"""Result records and the ring buffer behind ``GET /v1/results`` and the live stream.

Every result gets the next id (1, 2, 3, ...), so a client that asks for
``since=N`` gets each result exactly once, and can tell from ``oldest_id``
whether results it never saw have already left the ring.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import itertools
import threading
from collections import deque
from typing import Any, Sequence

from ..station import StationResult


def result_record(result: StationResult, classes: Sequence[str], origin: str, **extra: Any) -> dict[str, Any]:
    """The JSON document of one result (without its id, given by the ring)."""
    return {"time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds"), "origin": origin,
            "task": result.task, "task_sha256": result.task_sha256, "label": result.label, "index": result.index,
            "confidence": result.confidence, "uncertain": bool(result.uncertain),
            "probabilities": {name: float(p) for name, p in zip(classes, result.probabilities)},
            "preprocess_ms": result.preprocess_ms, "inference_ms": result.inference_ms, **extra}


class ResultRing:
    """The latest ``capacity`` results, in id order; appended from any thread, awaited from the event loop."""

    def __init__(self, capacity: int):
        self._items: deque[dict[str, Any]] = deque(maxlen=capacity)
        self._next_id = 1
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self.closed = False

    def append(self, record: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            record = {"id": self._next_id, **record}
            self._next_id += 1
            self._items.append(record)
            waiters = list(self._waiters)
        self._wake(waiters)
        return record

    @property
    def last_id(self) -> int:
        return self._next_id - 1

    @property
    def oldest_id(self) -> int:
        with self._lock:
            return self._items[0]["id"] if self._items else self._next_id

    def since(self, after_id: int, limit: int = 100) -> list[dict[str, Any]]:
        with self._lock:
            if not self._items:
                return []
            skip = max(0, after_id - self._items[0]["id"] + 1)
            return list(itertools.islice(self._items, skip, skip + limit))

    async def wait_newer(self, after_id: int, timeout: float) -> bool:
        """Wait until a result newer than ``after_id`` exists (True), the timeout passes or the ring closes."""
        if self.last_id > after_id:
            return True
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiters.add(waiter)
        try:
            if self.last_id > after_id or self.closed:
                return self.last_id > after_id
            try:
                await asyncio.wait_for(waiter[1].wait(), timeout)
            except asyncio.TimeoutError:
                pass
            return self.last_id > after_id
        finally:
            with self._lock:
                self._waiters.discard(waiter)

    def close(self) -> None:
        """Wake every waiting stream so it can end (the service is stopping)."""
        self.closed = True
        with self._lock:
            waiters = list(self._waiters)
        self._wake(waiters)

    @staticmethod
    def _wake(waiters) -> None:
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that loop has closed: its stream is gone
                pass

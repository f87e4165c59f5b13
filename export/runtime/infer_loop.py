"""The loop behind ``vpt infer``: frames in, one line (or JSON object) per frame out, then a summary."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, TextIO

import numpy as np

from .station import Station


@dataclass
class InferenceSummary:
    task: str
    source: str
    backend: str
    latencies_ms: list[float] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    stopped_by: str = "end of source"

    def to_dict(self) -> dict[str, Any]:
        latencies = np.asarray(self.latencies_ms) if self.latencies_ms else np.zeros(1)
        return {"summary": True, "task": self.task, "source": self.source, "backend": self.backend,
                **self.stats, "stopped_by": self.stopped_by,
                "latency_ms": {"mean": float(latencies.mean()), "p50": float(np.percentile(latencies, 50)),
                               "p95": float(np.percentile(latencies, 95)), "max": float(latencies.max())}}

    def describe(self) -> str:
        d = self.to_dict()
        return (f"{d['frames']} frames ({d['skipped']} skipped, {d['reconnects']} reconnects) from {self.source}; "
                f"latency mean {d['latency_ms']['mean']:.1f} ms, p95 {d['latency_ms']['p95']:.1f} ms; "
                f"{self.stopped_by}")


def new_summary(station: Station, source) -> InferenceSummary:
    return InferenceSummary(station.current_task, source.description, station.description)


def run_inference(station: Station, source, out: TextIO, as_json: bool = False, max_frames: int | None = None,
                  summary: InferenceSummary | None = None,
                  clock: Callable[[], float] = time.perf_counter) -> InferenceSummary:
    """Classify every frame of ``source`` with the station's current task, printing as it goes.

    Pass ``summary`` to keep the figures when the source fails (a camera that
    does not come back): they are filled in before the error propagates.
    """
    summary = summary or new_summary(station, source)
    frames = iter(source)
    try:
        while max_frames is None or len(summary.latencies_ms) < max_frames:
            waited = clock()
            frame = next(frames, None)
            if frame is None:
                break
            started = clock()
            result = station.predict_rgb(frame.rgb)
            latency = (clock() - started) * 1000
            summary.latencies_ms.append(latency)
            _emit(out, as_json, frame, result, latency, (started - waited) * 1000, station.classes)
        else:
            summary.stopped_by = f"--max-frames {max_frames}"
    except BaseException as error:
        summary.stopped_by = f"stopped: {error}" if str(error) else f"stopped: {type(error).__name__}"
        raise
    finally:
        summary.stats = source.stats.to_dict()
        close = getattr(frames, "close", None)
        if close:
            close()
    return summary


def _emit(out: TextIO, as_json: bool, frame, result, latency_ms: float, wait_ms: float, classes) -> None:
    if as_json:
        document = {"frame": frame.index, "name": frame.name, **result.to_dict(classes),
                    "latency_ms": latency_ms, "wait_ms": wait_ms}
        out.write(json.dumps(document, ensure_ascii=False) + "\n")
    else:
        out.write(f"{frame.name}\t{result.label}\t{result.confidence:.4f}\t{latency_ms:.1f} ms\n")
    out.flush()

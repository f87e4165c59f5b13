"""The station service without its HTTP skin: tasks, predictions, bundle changes, results, health.

``app.py`` maps HTTP onto these methods; tests and benchmarks can drive them
directly. Methods raise ``ServiceError`` subclasses carrying their HTTP status.
"""

from __future__ import annotations

import io
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from vpt_core import __version__
from vpt_core.errors import BundleError, DiskWriteError, TaskPackError, VptError
from vpt_core.frames import Frame, SourceSpec
from vpt_core.manifest import MANIFEST_NAME
from vpt_core.packformat import read_task_pack_bytes

from .. import bundle_edit
from ..bundle import Bundle
from ..station import Station, StationResult, StationTask
from .decoding import decode_image
from .engine import InferenceEngine, auto_max_batch
from .errors import BadRequest, Conflict, NotFound, ServiceError, Unavailable, Unprocessable
from .metrics import ServiceMetrics
from .options import ServeOptions
from .results import ResultRing, result_record
from .sinks import QueuedSink, SinkEvent, build_sinks
from .source_loop import SourceLoop

log = logging.getLogger("vpt.serve")
INSUFFICIENT_STORAGE = 507


class StationService:
    def __init__(self, options: ServeOptions, bundle: Bundle | None = None, *,
                 sinks: list[QueuedSink] | None = None, open_capture: Callable[[Any], Any] | None = None):
        self.options = options
        self.root = Path(options.bundle)
        self._bundle = bundle
        self.started = time.monotonic()
        self.station: Station | None = None
        self.engine: InferenceEngine | None = None
        self.load_error: str | None = None
        self.closing = False
        self.reload_problem: str | None = None
        self.ring = ResultRing(options.results_kept)
        self.sinks = build_sinks(options) if sinks is None else sinks
        self.metrics = ServiceMetrics(self.metrics_state)
        self.change_lock = threading.Lock()   # one bundle change (and its reload) at a time
        self._manifest_signature: tuple | None = None
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self.source = None
        if options.source:
            spec = SourceSpec.parse(options.source, loop=options.source_loop, fps=options.source_fps)
            self.source = SourceLoop(spec, options.source_retry_window_s, self._inspect_frame, open_capture)

    # -- life ------------------------------------------------------------------------------
    def load(self) -> None:
        """Load the backbone (the slow part), then start the engine, sinks, source and bundle watcher."""
        options = self.options
        station = Station(self._bundle or self.root, backend=options.backend, threads=options.threads)
        for note in station.notes:
            log.info("note: %s", note)
        if options.task:
            station.set_task(options.task)
        self.engine = InferenceEngine(station, options.max_batch or auto_max_batch(station),
                                      on_batch=self._count_batch)
        self._warm_up(station)
        self._manifest_signature = manifest_signature(self.root)
        for sink in self.sinks:
            sink.start()
        self.station = station   # from here on requests are served
        if self.source is not None:
            self.source.start()
        if options.watch_interval_s > 0:
            self._watcher = threading.Thread(target=self._watch_bundle, name="vpt-bundle-watch", daemon=True)
            self._watcher.start()
        log.info("ready: %s; task %s of %s", station.description, station.current_task, ", ".join(station.task_names))

    def _warm_up(self, station: Station) -> None:
        """The first part on the line should not wait for decoder imports and the engine's first allocations."""
        picture = np.full((64, 64, 3), 128, np.uint8)
        for encoded in (_encoded(picture, "JPEG"), _encoded(picture, "PNG")):
            decode_image(encoded, self.options.max_pixels)
        self.engine.predict(station.prepare(picture))

    def close(self) -> None:
        """Stop taking work, finish what is queued, deliver what the sinks hold (briefly), release all."""
        if self.closing:
            return
        self.closing = True
        self._stop.set()
        if self.source is not None:
            self.source.stop()
        if self._watcher is not None:
            self._watcher.join(5)
        if self.engine is not None:
            self.engine.close()
        self.ring.close()
        for sink in self.sinks:
            sink.stop()
        if self.station is not None:
            self.station.close()

    def require_station(self) -> Station:
        station = self.station
        if self.closing:
            raise Unavailable("the station is shutting down")
        if station is None:
            raise Unavailable(self.load_error or "the backbone is still loading; try again in a moment")
        return station

    # -- tasks -----------------------------------------------------------------------------
    def find_task(self, name: str | None) -> StationTask:
        """The task a request asks for (None: the current one); 404 naming the known tasks."""
        station = self.require_station()
        if name is None:
            return station.current
        tasks = station.tasks
        if name not in tasks:
            raise NotFound(f"no task {name!r} in this bundle; tasks: {', '.join(tasks)}", known_tasks=list(tasks))
        try:
            return station.task(name)
        except BundleError as error:   # present but not usable here (INT8 model not checked for it)
            raise Conflict(str(error)) from error

    def describe_tasks(self) -> dict[str, Any]:
        station = self.require_station()
        current = station.current_task
        return {"current": current,
                "tasks": [describe_task(task, task.name == current) for task in station.tasks.values()]}

    def switch_task(self, name: str) -> dict[str, Any]:
        task = self.find_task(name)
        self.require_station().set_task(task.name)
        self.metrics.task_changes.labels("switch").inc()
        return describe_task(self.require_station().current, True)

    def add_task(self, data: bytes, replace: bool = False) -> dict[str, Any]:
        station = self.require_station()
        if not data:
            raise BadRequest("the body is empty: send the .vptask file's bytes")
        with self.change_lock:
            try:
                name = read_task_pack_bytes(data, "uploaded task pack").name
            except TaskPackError as error:
                raise Unprocessable(str(error)) from error
            exists = name in station.tasks
            if exists and not replace:
                raise Conflict(f"the bundle already has a task {name!r}; send it with ?replace=true to replace it "
                               "(the version now served is kept for rollback)")
            with _as_service_errors():
                bundle_edit.add_task_bytes(self.root, data, f"uploaded task pack {name!r}", replace=replace,
                                           runner=self.engine.locked_runner())
            self._reload_after_change("replace" if exists else "add")
        return describe_task(station.tasks[name], name == station.current_task)

    def remove_task(self, name: str) -> dict[str, Any]:
        station = self.require_station()
        with self.change_lock:
            tasks = station.tasks
            if name not in tasks:
                raise NotFound(f"no task {name!r} in this bundle; tasks: {', '.join(tasks)}", known_tasks=list(tasks))
            if len(tasks) == 1:
                raise Conflict(f"{name!r} is the bundle's only task; a bundle keeps at least one")
            if name == station.current_task:
                raise Conflict(f"{name!r} is the current task; switch to another one first (PUT /v1/task)")
            with _as_service_errors():
                bundle_edit.remove_task(self.root, name)
            self._reload_after_change("remove")
        return {"removed": name, "tasks": station.task_names, "current": station.current_task}

    def rollback_task(self, name: str) -> dict[str, Any]:
        station = self.require_station()
        with self.change_lock:
            task = self.find_task(name)
            if task.source is not None and not task.source.entry.get("versions"):
                raise Conflict(f"task {name!r} has no earlier version to roll back to")
            with _as_service_errors():
                bundle_edit.rollback_task(self.root, name)
            self._reload_after_change("rollback")
        return describe_task(station.tasks[name], name == station.current_task)

    def _reload_after_change(self, kind: str) -> None:
        try:
            changes = self.require_station().reload_tasks()
        except VptError as error:
            self.reload_problem = f"the bundle changed but its tasks could not be loaded: {error}"
            log.error("%s", self.reload_problem)
            raise Unavailable(self.reload_problem) from error
        self.reload_problem = None
        self._manifest_signature = manifest_signature(self.root)
        self.metrics.task_changes.labels(kind).inc()
        log.info("bundle %s: added %s, replaced %s, removed %s", kind, list(changes.added), list(changes.replaced),
                 list(changes.removed))

    def _watch_bundle(self) -> None:
        """Tasks changed by another command (``vpt bundle add-task``) are served without a restart too."""
        while not self._stop.wait(self.options.watch_interval_s):
            signature = manifest_signature(self.root)
            if signature is None or signature == self._manifest_signature:
                continue
            with self.change_lock:
                if signature == self._manifest_signature or self.closing:
                    continue
                try:
                    changes = self.require_station().reload_tasks()
                except VptError as error:
                    self.reload_problem = f"the bundle changed on disk but could not be loaded: {error}"
                    log.error("%s; still serving the tasks loaded before", self.reload_problem)
                else:
                    self.reload_problem = None
                    if changes.changed:
                        self.metrics.task_changes.labels("reload").inc()
                        log.info("bundle changed on disk: added %s, replaced %s, removed %s",
                                 list(changes.added), list(changes.replaced), list(changes.removed))
                self._manifest_signature = signature

    # -- predictions -----------------------------------------------------------------------
    def predict_upload(self, data: bytes, task_name: str | None, arrived: float) -> dict[str, Any]:
        """Decode, preprocess and classify one uploaded picture, on the calling (worker) thread."""
        station = self.require_station()
        task = self.find_task(task_name)
        started = time.perf_counter()
        decoded = decode_image(data, self.options.max_pixels)
        decode_ms = (time.perf_counter() - started) * 1000
        prepared = station.prepare(decoded.rgb, task)
        result = self.engine.predict(prepared)
        latency_s = time.perf_counter() - arrived
        return self.publish(result, task, "request", latency_s,
                            SinkEvent({}, image=data, image_suffix=decoded.suffix),
                            decode_ms=decode_ms, latency_ms=latency_s * 1000)

    def _inspect_frame(self, frame: Frame) -> None:
        station = self.require_station()
        prepared = station.prepare(frame.rgb)
        result = self.engine.predict(prepared)
        latency_s = time.monotonic() - frame.timestamp
        self.publish(result, prepared.task, "source", latency_s, SinkEvent({}, rgb=frame.rgb),
                     frame=frame.index, name=frame.name, source=self.source.spec.describe(),
                     latency_ms=latency_s * 1000)

    def publish(self, result: StationResult, task: StationTask, origin: str, latency_s: float,
                pictures: SinkEvent, **extra: Any) -> dict[str, Any]:
        """Number the result, count it, and offer it to every sink (never blocks)."""
        record = self.ring.append(result_record(result, task.classes, origin, **extra))
        self.metrics.results.labels(task.name, result.label, origin).inc()
        if result.uncertain:
            self.metrics.uncertain.labels(task.name).inc()
        self.metrics.latency.labels(origin).observe(latency_s)
        event = SinkEvent(record, pictures.image, pictures.image_suffix, pictures.rgb)
        for sink in self.sinks:
            sink.offer(event)
        return record

    def _count_batch(self, size: int, seconds: float) -> None:
        self.metrics.batch_size.observe(size)

    # -- health ----------------------------------------------------------------------------
    def health(self) -> tuple[int, dict[str, Any]]:
        """(HTTP status, document): 503 while not serving or the camera is lost past its retry window."""
        station = None if self.closing else self.station
        document: dict[str, Any] = {"status": "ok", "task": None, "backend": None, "backbone_sha256": None,
                                    "uptime_s": round(time.monotonic() - self.started, 3), "version": __version__}
        unavailable, problems = [], []
        if station is None:
            unavailable.append("the station is shutting down" if self.closing else
                               self.load_error or "the backbone is still loading")
        else:
            document.update(task=station.current_task, backend=station.backend, description=station.description,
                            backbone_sha256=station.bundle.backbone_sha256, tasks=station.task_names,
                            max_batch=self.engine.max_batch if self.engine is not None else None)
        if self.source is not None:
            document["source"] = source = self.source.status()
            if source["lost"]:
                unavailable.append(f"{source['source']} has been lost for {source['lost_for_s']:.1f} s, longer than "
                                   f"its retry window of {source['retry_window_s']:g} s ({source['detail']})")
        document["sinks"] = [sink.status() for sink in self.sinks]
        problems += [f"{s['kind']} {s['target']}: {s['last_error'] or 'not working'}" for s in document["sinks"]
                     if not s["healthy"]]
        problems += [f"{s['kind']} {s['target']}: the disk is full" for s in document["sinks"] if s.get("disk_full")]
        if self.reload_problem:
            problems.append(self.reload_problem)
        document["problems"] = unavailable + problems
        if unavailable:
            document["status"] = "unavailable"
            return 503, document
        if problems:
            document["status"] = "degraded"   # still inspecting: a sink or a reload needs attention
        return 200, document

    def metrics_state(self) -> dict[str, Any]:
        station = self.station
        return {"ready": station is not None and not self.closing,
                "uptime_s": time.monotonic() - self.started,
                "tasks": len(station.tasks) if station is not None else 0,
                "source": self.source.status() if self.source is not None else None,
                "sinks": [sink.status() for sink in self.sinks]}


def describe_task(task: StationTask, current: bool) -> dict[str, Any]:
    """What ``GET /v1/tasks`` says about one task."""
    entry = task.source.entry if task.source is not None else {}
    pack = task.source.pack if task.source is not None else None
    return {"name": task.name, "current": current, "classes": list(task.classes),
            "prompt_shape": list(pack.prompt_shape) if pack is not None else None,
            "prompts": task.tensors.num_prompts, "image_fit": task.spec.image_fit,
            "input_size": list(task.spec.input_size), "sha256": task.sha256,
            "size_bytes": entry.get("size_bytes"), "added": entry.get("added"),
            "restored": bool(entry.get("restored", False)), "min_confidence": task.min_confidence,
            "versions": [{"sha256": version.get("sha256"), "added": version.get("added"),
                          "size_bytes": version.get("size_bytes")} for version in entry.get("versions", [])]}


def _encoded(rgb: np.ndarray, image_format: str) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format=image_format)
    return buffer.getvalue()


def manifest_signature(root: Path) -> tuple | None:
    """Changes whenever the manifest is replaced (every bundle change replaces it)."""
    try:
        info = os.stat(root / MANIFEST_NAME)
    except OSError:
        return None
    return info.st_ino, info.st_mtime_ns, info.st_size


class _as_service_errors:
    """Bundle errors as HTTP answers: refused input 422, a full disk 507."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, error, trace) -> bool:
        if error is None or isinstance(error, ServiceError):
            return False
        if isinstance(error, DiskWriteError):
            raise ServiceError(str(error), INSUFFICIENT_STORAGE) from error
        if isinstance(error, (BundleError, TaskPackError)):
            raise Unprocessable(str(error)) from error
        return False

"""``GET /metrics``: Prometheus text format (prometheus-client), one registry per service.

Counted as they happen: results per task and label, uncertain results, latency,
engine batch sizes, HTTP errors, task changes. Read when scraped (from the
objects that own them): frames, skipped frames and reconnects of the source,
whether the camera is up, and each sink's queue, deliveries, drops, failures
and full disk.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0)
BATCH_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16, 32)


class ServiceMetrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self, read_state: Callable[[], dict[str, Any]]):
        self.registry = CollectorRegistry()
        self.results = Counter("vpt_results", "Results, by task, label and origin (request or source)",
                               ["task", "label", "origin"], registry=self.registry)
        self.uncertain = Counter("vpt_uncertain_results", "Results below the task's confidence threshold",
                                 ["task"], registry=self.registry)
        self.latency = Histogram("vpt_predict_latency_seconds", "From a picture's arrival to its answer",
                                 ["origin"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.batch_size = Histogram("vpt_engine_batch_size", "Pictures per engine run", buckets=BATCH_BUCKETS,
                                    registry=self.registry)
        self.http_errors = Counter("vpt_http_errors", "Requests answered with an error, by status", ["status"],
                                   registry=self.registry)
        self.task_changes = Counter("vpt_task_changes", "Bundle changes served without a restart, by kind",
                                    ["kind"], registry=self.registry)
        self.registry.register(_StateCollector(read_state))

    def text(self) -> bytes:
        return generate_latest(self.registry)


class _StateCollector:
    """Figures owned by the source loop and the sinks, read at scrape time."""

    def __init__(self, read_state: Callable[[], dict[str, Any]]):
        self.read_state = read_state

    def describe(self) -> Iterable:
        return []   # names are only known once state is read; no duplicate-name check needed

    def collect(self) -> Iterable:
        state = self.read_state()
        yield _gauge("vpt_up", "1 while the backbone is loaded and serving", state.get("ready", False))
        yield _gauge("vpt_uptime_seconds", "Seconds since the service started", state.get("uptime_s", 0.0))
        yield _gauge("vpt_tasks", "Tasks in the bundle", state.get("tasks", 0))
        source = state.get("source")
        if source is not None:
            yield _counter("vpt_source_frames", "Frames read from the source", source["frames"])
            yield _counter("vpt_source_dropped_frames", "Frames skipped (unreadable, or failed inference)",
                           source["skipped"] + source.get("failed", 0))
            yield _counter("vpt_source_reconnects", "Times the camera or stream came back after a loss",
                           source["reconnects"])
            yield _gauge("vpt_source_up", "1 while the source delivers frames", source["state"] == "running")
            yield _gauge("vpt_source_lost_seconds", "Seconds the source has been lost (0 when up)",
                         source["lost_for_s"])
        sinks = state.get("sinks", [])
        for name, kind, help_text, key in (
                ("vpt_sink_queued", "gauge", "Results waiting in the sink's queue", "queued"),
                ("vpt_sink_delivered", "counter", "Results the sink delivered", "delivered"),
                ("vpt_sink_dropped", "counter", "Results the sink lost (queue overflow, refused, shutdown)",
                 "dropped"),
                ("vpt_sink_failures", "counter", "Failed delivery attempts", "failures")):
            family = (GaugeMetricFamily if kind == "gauge" else CounterMetricFamily)(name, help_text,
                                                                                   labels=["sink", "target"])
            for sink in sinks:
                family.add_metric([sink["kind"], sink["target"]], sink[key])
            yield family
        disk = GaugeMetricFamily("vpt_sink_disk_full", "1 while the sink's disk is full", labels=["sink", "target"])
        connected = GaugeMetricFamily("vpt_sink_connected", "1 while the sink is connected (MQTT)",
                                      labels=["sink", "target"])
        for sink in sinks:
            if "disk_full" in sink:
                disk.add_metric([sink["kind"], sink["target"]], float(sink["disk_full"]))
            if "connected" in sink:
                connected.add_metric([sink["kind"], sink["target"]], float(sink["connected"]))
        yield disk
        yield connected


def _gauge(name: str, help_text: str, value) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, help_text, value=float(value))


def _counter(name: str, help_text: str, value) -> CounterMetricFamily:
    return CounterMetricFamily(name, help_text, value=float(value))

"""Result sinks of ``vpt serve``: JSON-lines log, kept pictures, webhook; none may ever hold inspection up."""

from __future__ import annotations

import errno
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="vpt serve needs the station extra (pip install 'vpt-toolkit[station]')")
pytest.importorskip("httpx", reason="the serve tests need httpx (the test extra)")

from vpt_core.errors import DiskWriteError  # noqa: E402
from export.runtime.bundle_edit import add_task  # noqa: E402
from export.runtime.serve.options import SaveImagesOptions  # noqa: E402
from export.runtime.serve.sinks import QueuedSink, SinkEvent  # noqa: E402
from export.runtime.serve.sinks.images import ImageArchive  # noqa: E402
from export.runtime.serve.sinks.jsonlog import JsonLinesLog  # noqa: E402
from export.runtime.serve.sinks.webhook import WebhookPoster  # noqa: E402
from serve_support import (png_bytes, random_rgb, running_service, serve_options, wait_until,  # noqa: E402
                           with_rejection)
from test_export_support import copy_bundle, make_pack, shared_bundle  # noqa: E402


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    return shared_bundle(tmp_path_factory)


@pytest.fixture
def bundle(shared, tmp_path):
    return copy_bundle(shared["bundle"], tmp_path / "bundle")


def record(index: int, **fields) -> dict:
    return {"id": index, "task": "surface", "label": "surface_1", "uncertain": False, "confidence": 0.9,
            "pad": "x" * 60, **fields}


def read_lines(folder: Path) -> list[dict]:
    lines = []
    for path in sorted(folder.glob("results-*.jsonl")) + [folder / "results.jsonl"]:
        if path.exists():
            lines += [json.loads(line) for line in path.read_text().splitlines()]
    return lines


def disk_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.iterdir())


# -- the JSON-lines log ---------------------------------------------------------------------------------
def test_the_log_rotates_by_size_and_keeps_under_its_total(tmp_path):
    sink = JsonLinesLog(tmp_path / "log", file_bytes=1000, total_bytes=3000)
    sink.start()
    for index in range(1, 201):
        sink.offer(SinkEvent(record(index)))
    wait_until(lambda: sink.delivered == 200, 20, what="200 lines")
    sink.stop()
    kept = read_lines(tmp_path / "log")
    ids = [line["id"] for line in kept]
    assert disk_size(tmp_path / "log") <= 3000
    assert ids == list(range(ids[0], 201)) and len(ids) >= 10   # the newest, complete and in order
    assert len(list((tmp_path / "log").glob("results-*.jsonl"))) >= 1
    assert all(path.stat().st_size <= 1000 for path in (tmp_path / "log").iterdir())
    assert sink.status()["dropped"] == 0


def test_a_full_disk_leaves_no_half_line_and_is_retried(tmp_path):
    sink = JsonLinesLog(tmp_path / "log", file_bytes=10_000, total_bytes=100_000)
    sink.first_retry_s = 0.05
    real_write = sink._write_all
    disk = {"full": True}

    def write_half_then_fail(fd, data):
        if disk["full"]:
            real_write(fd, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(fd, data)

    sink._write_all = write_half_then_fail
    sink.start()
    sink.offer(SinkEvent(record(1)))
    wait_until(lambda: sink.failures >= 2, 10, what="failed writes")
    status = sink.status()
    assert status["disk_full"] and "the disk is full" in status["last_error"] and not status["healthy"]
    assert (tmp_path / "log" / "results.jsonl").read_bytes() == b""
    disk["full"] = False
    wait_until(lambda: sink.delivered == 1, 10, what="the retried line")
    sink.stop()
    assert read_lines(tmp_path / "log") == [record(1)] and not sink.status()["disk_full"]


def test_every_result_of_the_service_reaches_the_log_with_its_pack(bundle, tmp_path):
    with running_service(serve_options(bundle, log_dir=tmp_path / "log")) as running:
        answers = [running.predict(random_rgb(i), task=("surface", "variant")[i % 2]).json() for i in range(6)]
        wait_until(lambda: running.service.sinks[0].delivered == 6, 10, what="six log lines")
    logged = read_lines(tmp_path / "log")
    assert [line["id"] for line in logged] == [answer["id"] for answer in answers]
    assert [line["task_sha256"] for line in logged] == [answer["task_sha256"] for answer in answers]
    assert logged[0]["probabilities"] == answers[0]["probabilities"]


# -- kept pictures ----------------------------------------------------------------------------------
def picture_event(index: int, label: str, uncertain: bool = False) -> SinkEvent:
    return SinkEvent(record(index, label=label, uncertain=uncertain), image=png_bytes(random_rgb(index, 8, 8)),
                     image_suffix=".png")


def test_pictures_are_kept_by_class_and_uncertainty_within_the_retention_limit(tmp_path):
    folder = tmp_path / "kept"
    sink = ImageArchive(folder, frozenset({"crack"}), uncertain=True, max_files=3, max_bytes=10 ** 9)
    sink.start()
    events = [picture_event(1, "crack"), picture_event(2, "ok"), picture_event(3, "ok", uncertain=True),
              picture_event(4, "crack"), picture_event(5, "crack"), picture_event(6, "crack")]
    for event in events:
        sink.offer(event)
    wait_until(lambda: sink.delivered == 5, 10, what="five pictures")
    sink.stop()
    pictures = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.png"))
    sidecars = sorted(folder.rglob("*.json"))
    assert sink.accepted == 5                              # 'ok' and certain: not kept
    assert len(pictures) == 3 and len(sidecars) == 3       # the oldest two deleted for retention
    assert all(p.startswith("surface/crack/") for p in pictures)
    assert [json.loads(p.read_text())["id"] for p in sorted(sidecars)] == [4, 5, 6]
    assert (folder / "surface" / "crack" / pictures[0].split("/")[-1]).read_bytes() == events[3].image
    assert sink.status()["deleted_for_retention"] == 2

    again = ImageArchive(folder, frozenset(), uncertain=False, max_files=2, max_bytes=10 ** 9)
    assert again.status()["kept_files"] == 2               # earlier pictures count after a restart


def test_uncertain_pictures_go_to_their_own_folder(bundle, tmp_path):
    add_task(bundle, with_rejection(make_pack(tmp_path / "strict.vptask", "strict", 3, seed=4), 0.999999))
    save = SaveImagesOptions(tmp_path / "kept", uncertain=True)
    with running_service(serve_options(bundle, save_images=save)) as running:
        uploaded = png_bytes(random_rgb(7))
        answer = running.post("/v1/predict", params={"task": "strict"}, content=uploaded).json()
        running.predict(random_rgb(8), task="surface")      # certain: not kept
        wait_until(lambda: running.service.sinks[0].delivered == 1, 10, what="the uncertain picture")
    kept = list((tmp_path / "kept" / "strict" / "_uncertain").glob("*.png"))
    assert len(kept) == 1 and kept[0].read_bytes() == uploaded
    assert kept[0].stem.endswith(f"-{answer['label']}")
    assert json.loads(kept[0].with_suffix(".json").read_text())["id"] == answer["id"]
    assert list((tmp_path / "kept").glob("surface")) == []


def test_a_full_disk_is_reported_and_never_stops_inspection(bundle, tmp_path, monkeypatch):
    import export.runtime.serve.sinks.images as images

    def full(path, data):
        raise DiskWriteError(f"cannot write {path}: the disk is full")

    monkeypatch.setattr(images, "atomic_write_bytes", full)
    save = SaveImagesOptions(tmp_path / "kept")
    with running_service(serve_options(bundle, save_images=save)) as running:
        sink = running.service.sinks[0]
        sink.first_retry_s = 0.05
        answers = [running.predict(random_rgb(i)) for i in range(3)]
        wait_until(lambda: sink.failures >= 1, 10, what="a failed write")
        health = running.get("/v1/health")
        metrics = running.get("/metrics").text
        monkeypatch.undo()
        wait_until(lambda: sink.delivered >= 1, 20, what="writes to succeed again")
        recovered = running.get("/v1/health").json()
    assert all(answer.status_code == 200 for answer in answers)
    assert health.status_code == 200 and health.json()["status"] == "degraded"
    assert any("the disk is full" in problem for problem in health.json()["problems"])
    assert f'vpt_sink_disk_full{{sink="images",target="{tmp_path / "kept"}"}} 1.0' in metrics
    assert recovered["sinks"][0]["disk_full"] is False


# -- a sink that hangs, the webhook -----------------------------------------------------------------------
class HangingSink(QueuedSink):
    kind = "hanging"

    def __init__(self, capacity: int):
        super().__init__("nowhere", capacity)
        self.release = threading.Event()

    def deliver(self, event):
        self.release.wait(30)


def test_a_hanging_sink_never_holds_inspection_up_and_counts_what_it_loses(bundle):
    hanging = HangingSink(capacity=4)
    with running_service(serve_options(bundle), sinks=[hanging]) as running:
        started = time.perf_counter()
        answers = [running.predict(random_rgb(i)) for i in range(20)]
        elapsed = time.perf_counter() - started
        status = running.get("/v1/health").json()["sinks"][0]
        metrics = running.get("/metrics").text
        hanging.release.set()
    assert all(answer.status_code == 200 for answer in answers) and elapsed < 20
    assert status["accepted"] == 20 and status["dropped"] == 15 and status["queued"] == 5   # 4 queued + 1 in flight
    assert 'vpt_sink_dropped_total{sink="hanging",target="nowhere"} 15.0' in metrics


class Receiver:
    """A webhook receiver on loopback answering from a script of status codes (then 200)."""

    def __init__(self, statuses: list[int]):
        self.statuses, self.received, self.lock = list(statuses), [], threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    if status == 200:
                        receiver.received.append(json.loads(body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_the_webhook_retries_failures_and_drops_what_can_never_be_taken(tmp_path):
    receiver = Receiver([503, 503, 200, 400])
    sink = WebhookPoster(receiver.url, capacity=100, first_retry_s=0.02, max_retry_s=0.1)
    try:
        sink.start()
        for index in range(1, 5):
            sink.offer(SinkEvent(record(index)))
        wait_until(lambda: sink.delivered + sink.dropped == 4, 10, what="four results handled")
        sink.stop()
    finally:
        receiver.close()
    assert [r["id"] for r in receiver.received] == [1, 3, 4]   # 1 after two 503s; 2 refused with 400
    assert sink.delivered == 3 and sink.dropped == 1 and sink.failures == 3
    assert "400" in sink.last_error and "result 2 dropped" in sink.last_error


def test_the_webhook_buffer_is_bounded_while_the_receiver_is_down(tmp_path):
    receiver = Receiver([503] * 10_000)
    sink = WebhookPoster(receiver.url, capacity=3, first_retry_s=0.02, max_retry_s=0.05)
    try:
        sink.start()
        for index in range(1, 11):
            sink.offer(SinkEvent(record(index)))
        wait_until(lambda: sink.failures >= 2, 10, what="failing deliveries")
        with receiver.lock:
            receiver.statuses.clear()   # the receiver is back
        wait_until(lambda: sink.delivered + sink.dropped == 10, 10, what="every result accounted for")
        sink.stop()
    finally:
        receiver.close()
    ids = [r["id"] for r in receiver.received]
    assert sink.dropped >= 6 and sink.delivered == len(ids) == 10 - sink.dropped
    assert ids == sorted(ids) and ids[-3:] == [8, 9, 10]   # the newest are kept

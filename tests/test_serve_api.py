"""``vpt serve``'s HTTP API against a real server on 127.0.0.1, with a real HTTP client (httpx)."""

from __future__ import annotations

import json
import struct
import threading
import zlib

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="vpt serve needs the station extra (pip install 'vpt-toolkit[station]')")
httpx = pytest.importorskip("httpx", reason="the serve tests need httpx (the test extra)")

from vpt_core.errors import ConfigError  # noqa: E402
from vpt_core.manifest import read_manifest, sha256_file  # noqa: E402
from export.runtime import Station  # noqa: E402
from serve_support import (png_bytes, random_rgb, running_service, serve_options, wait_until,  # noqa: E402
                           with_rejection)
from test_export_support import copy_bundle, make_pack, shared_bundle  # noqa: E402


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    return shared_bundle(tmp_path_factory)


@pytest.fixture(scope="module")
def reference(shared):
    """The same bundle in-process: what every HTTP answer must agree with."""
    station = Station(shared["bundle"])
    yield station
    station.close()


@pytest.fixture
def bundle(shared, tmp_path):
    return copy_bundle(shared["bundle"], tmp_path / "bundle")


def alone(station: Station, rgb: np.ndarray, task: str):
    return station.predict_mixed([(rgb, task)])[0]


def manifest_sha(bundle, name: str) -> str:
    return next(entry["sha256"] for entry in read_manifest(bundle)["tasks"] if entry["name"] == name)


# -- health, tasks, predictions ---------------------------------------------------------------------
def test_health_names_task_backend_and_backbone(bundle):
    with running_service(serve_options(bundle)) as running:
        answer = running.get("/v1/health")
        assert answer.status_code == 200
        health = answer.json()
        assert health["status"] == "ok" and health["task"] == "surface" and health["backend"] == "onnxruntime"
        assert health["backbone_sha256"] == sha256_file(bundle / "backbone.onnx")
        assert health["uptime_s"] > 0 and health["problems"] == []


def test_tasks_list_classes_prompt_shape_fit_and_pack_sha256(bundle):
    with running_service(serve_options(bundle)) as running:
        document = running.get("/v1/tasks").json()
    assert document["current"] == "surface"
    tasks = {task["name"]: task for task in document["tasks"]}
    assert list(tasks) == ["surface", "variant"]
    assert tasks["surface"]["classes"] == [f"surface_{i}" for i in range(4)] and tasks["surface"]["current"]
    assert tasks["variant"]["prompt_shape"] == [2, 2, 48] and tasks["variant"]["prompts"] == 2
    assert tasks["variant"]["image_fit"] == "crop" and tasks["variant"]["versions"] == []
    assert tasks["variant"]["sha256"] == sha256_file(bundle / "tasks" / "variant.vptask")


def test_predict_raw_bytes_and_multipart_answer_like_the_station(bundle, reference):
    rgb = random_rgb(1)
    with running_service(serve_options(bundle)) as running:
        raw = running.predict(rgb)
        multipart = running.post("/v1/predict", files={"image": ("part.png", png_bytes(rgb), "image/png")})
    expected = alone(reference, rgb, "surface")
    for answer in (raw, multipart):
        assert answer.status_code == 200, answer.text
        result = answer.json()
        assert result["task"] == "surface" and result["label"] == expected.label
        assert result["task_sha256"] == manifest_sha(bundle, "surface")
        np.testing.assert_allclose(list(result["probabilities"].values()), expected.probabilities, atol=1e-5)
        assert list(result["probabilities"]) == [f"surface_{i}" for i in range(4)]
        assert result["confidence"] == pytest.approx(max(result["probabilities"].values()))
        assert result["uncertain"] is False and result["inference_ms"] > 0 and result["preprocess_ms"] > 0
    assert multipart.json()["id"] == raw.json()["id"] + 1


def test_a_request_may_name_its_task_without_switching(bundle, reference):
    rgb = random_rgb(2)
    with running_service(serve_options(bundle)) as running:
        answer = running.predict(rgb, task="variant").json()
        assert running.get("/v1/health").json()["task"] == "surface"
        unknown = running.predict(rgb, task="welds")
    assert answer["task"] == "variant" and answer["label"] == alone(reference, rgb, "variant").label
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "no task 'welds' in this bundle; tasks: surface, variant",
                              "known_tasks": ["surface", "variant"]}


def test_switching_task_answers_with_the_task_in_force(bundle, reference):
    rgb = random_rgb(3)
    with running_service(serve_options(bundle)) as running:
        switched = running.put("/v1/task", json={"name": "variant"})
        after = running.predict(rgb).json()
        unknown = running.put("/v1/task", json={"name": "nope"})
        no_name = running.put("/v1/task", json={"task": "variant"})
        still = running.get("/v1/health").json()["task"]
    assert switched.status_code == 200 and switched.json()["name"] == "variant" and switched.json()["current"]
    assert after["task"] == "variant" and after["label"] == alone(reference, rgb, "variant").label
    assert unknown.status_code == 404 and unknown.json()["known_tasks"] == ["surface", "variant"]
    assert no_name.status_code == 422 and "name" in no_name.json()["error"]
    assert still == "variant"


def test_an_uncertain_result_says_so(shared, tmp_path):
    """A pack whose calibrated threshold no answer can reach: every result is uncertain."""
    bundle = copy_bundle(shared["bundle"], tmp_path / "bundle")
    from export.runtime.bundle_edit import add_task

    add_task(bundle, with_rejection(make_pack(tmp_path / "strict.vptask", "strict", 3, seed=4), 0.999999))
    with running_service(serve_options(bundle)) as running:
        answer = running.predict(random_rgb(4), task="strict").json()
        metrics = running.get("/metrics").text
    assert answer["uncertain"] is True and answer["confidence"] < 0.999999
    assert 'vpt_uncertain_results_total{task="strict"} 1.0' in metrics


# -- bundle changes --------------------------------------------------------------------------------
def test_a_task_added_over_http_is_served_at_once_without_loading_the_backbone(bundle, tmp_path, monkeypatch):
    from export.runtime.runners import OnnxRuntimeRunner

    pack = make_pack(tmp_path / "welds.vptask", "welds", 3, seed=5)
    with running_service(serve_options(bundle)) as running:
        runner = running.service.station.runner

        def no_new_session(*args, **kwargs):
            raise AssertionError("a bundle change must not open another backbone session")

        monkeypatch.setattr(OnnxRuntimeRunner, "__init__", no_new_session)
        added = running.post("/v1/tasks", content=pack.read_bytes())
        answer = running.predict(random_rgb(5), task="welds")
        listed = [task["name"] for task in running.get("/v1/tasks").json()["tasks"]]
        assert running.service.station.runner is runner
    assert added.status_code == 201, added.text
    assert added.json()["name"] == "welds" and added.json()["sha256"] == sha256_file(pack)
    assert answer.status_code == 200 and answer.json()["label"].startswith("welds_")
    assert answer.json()["task_sha256"] == sha256_file(pack)
    assert listed == ["surface", "variant", "welds"]
    assert manifest_sha(bundle, "welds") == sha256_file(pack)
    monkeypatch.undo()
    with Station(bundle) as station:   # what was committed opens on its own
        assert station.task_names == ["surface", "variant", "welds"]


def test_replace_keeps_the_old_version_and_rollback_restores_it(bundle, tmp_path):
    rgb = random_rgb(6)
    new_pack = make_pack(tmp_path / "variant.vptask", "variant", 3, seed=9, num_prompts=2)
    old_sha = manifest_sha(bundle, "variant")
    with running_service(serve_options(bundle)) as running:
        before = running.predict(rgb, task="variant").json()
        refused = running.post("/v1/tasks", content=new_pack.read_bytes())
        replaced = running.post("/v1/tasks", params={"replace": "true"},
                                files={"task": ("variant.vptask", new_pack.read_bytes())})
        after = running.predict(rgb, task="variant").json()
        rolled = running.post("/v1/tasks/variant/rollback")
        restored = running.predict(rgb, task="variant").json()
        no_earlier = running.post("/v1/tasks/surface/rollback")
    assert refused.status_code == 409 and "?replace=true" in refused.json()["error"]
    assert replaced.status_code == 201, replaced.text
    assert replaced.json()["sha256"] == sha256_file(new_pack) and replaced.json()["versions"][0]["sha256"] == old_sha
    assert after["task_sha256"] == sha256_file(new_pack) and before["task_sha256"] == old_sha
    assert after["probabilities"] != before["probabilities"]
    assert rolled.status_code == 200 and rolled.json()["sha256"] == old_sha and rolled.json()["restored"]
    assert rolled.json()["versions"][0]["sha256"] == sha256_file(new_pack)
    assert restored["task_sha256"] == old_sha
    np.testing.assert_allclose(list(restored["probabilities"].values()), list(before["probabilities"].values()),
                               atol=1e-6)
    assert no_earlier.status_code == 409 and "no earlier version" in no_earlier.json()["error"]


def test_refused_task_packs_are_4xx_with_the_reason(bundle, tmp_path):
    other = make_pack(tmp_path / "other.vptask", "other", 2, seed=3,
                      fingerprint_overrides={"weights_sha256": "0" * 64})
    with running_service(serve_options(bundle)) as running:
        wrong_backbone = running.post("/v1/tasks", content=other.read_bytes())
        garbage = running.post("/v1/tasks", content=b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")
        empty = running.post("/v1/tasks", content=b"")
        listed = [task["name"] for task in running.get("/v1/tasks").json()["tasks"]]
    assert wrong_backbone.status_code == 422 and "weights differ" in wrong_backbone.json()["error"]
    assert garbage.status_code == 422 and "not a task pack" in garbage.json()["error"]
    assert empty.status_code == 400 and "empty" in empty.json()["error"]
    assert listed == ["surface", "variant"]


def test_delete_removes_a_task_but_never_the_current_or_the_last(bundle):
    with running_service(serve_options(bundle)) as running:
        current = running.delete("/v1/tasks/surface")
        unknown = running.delete("/v1/tasks/welds")
        removed = running.delete("/v1/tasks/variant")
        gone = running.predict(random_rgb(7), task="variant")
        last = running.delete("/v1/tasks/surface")
    assert current.status_code == 409 and "current task" in current.json()["error"]
    assert unknown.status_code == 404
    assert removed.status_code == 200 and removed.json()["tasks"] == ["surface"]
    assert gone.status_code == 404 and gone.json()["known_tasks"] == ["surface"]
    assert last.status_code == 409 and "only task" in last.json()["error"]
    assert [entry["name"] for entry in read_manifest(bundle)["tasks"]] == ["surface"]
    assert not (bundle / "tasks" / "variant.vptask").exists()


def test_a_change_made_by_another_command_is_picked_up(bundle, tmp_path):
    from export.runtime.bundle_edit import add_task

    with running_service(serve_options(bundle, watch_interval_s=0.1)) as running:
        add_task(bundle, make_pack(tmp_path / "holes.vptask", "holes", 2, seed=8))
        wait_until(lambda: "holes" in running.service.station.tasks, 10, what="the watcher to reload")
        assert running.predict(random_rgb(8), task="holes").json()["label"].startswith("holes_")


# -- bad input -----------------------------------------------------------------------------------
def huge_png_header(width: int, height: int) -> bytes:
    """A valid PNG header claiming an enormous picture, with almost no data (a decompression bomb's shape)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + \
        chunk(b"IEND", b"")


@pytest.mark.parametrize("body, headers, status, words", [
    (b"", {}, 400, "body is empty"),
    (b"hello, not a picture", {"Content-Type": "image/jpeg"}, 415, "not a JPEG, PNG"),
    (b"GIF89a" + b"\0" * 40, {}, 415, "not a JPEG, PNG"),
    ("truncated", {}, 400, "damaged or truncated"),
    (huge_png_header(30_000, 30_000), {}, 413, "900000000 pixels"),
    (huge_png_header(100_000, 100_000), {}, 413, "too large"),
    (b"--xyz\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.png\"\r\n\r\nabc\r\n--xyz--\r\n",
     {"Content-Type": "multipart/form-data; boundary=xyz"}, 400, "no field 'image' (fields: photo)"),
    (b"--xyz\r\nbroken", {"Content-Type": "multipart/form-data; boundary=xyz"}, 400, ""),
])
def test_malformed_bodies_are_4xx_with_a_message(bundle, body, headers, status, words):
    if body == "truncated":
        body = png_bytes(random_rgb(9, 64, 64))[:300]
    with running_service(serve_options(bundle)) as running:
        answer = running.post("/v1/predict", content=body, headers=headers)
        assert running.get("/v1/health").status_code == 200   # and the station still works
    assert answer.status_code == status, answer.text
    message = answer.json()["error"]
    assert words in message and "Traceback" not in message and "\n" not in message


def test_uploads_over_the_limit_are_413_with_or_without_a_length(bundle):
    limit = 64 * 1024
    big = png_bytes(random_rgb(10, 400, 400))
    assert len(big) > limit
    with running_service(serve_options(bundle, max_upload_bytes=limit)) as running:
        declared = running.post("/v1/predict", content=big)
        chunked = running.post("/v1/predict", content=iter([big[i:i + 8192] for i in range(0, len(big), 8192)]))
        task_upload = running.post("/v1/tasks", content=iter([b"\0" * (limit + 1)]))
        small = running.predict(random_rgb(11))
    for answer in (declared, chunked, task_upload):
        assert answer.status_code == 413 and f"({limit} bytes, --max-upload-mb)" in answer.json()["error"]
    assert small.status_code == 200


def test_an_unexpected_error_is_a_json_500_without_a_traceback(bundle, monkeypatch):
    import logging

    logged: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = logged.append
    logging.getLogger("vpt.serve").addHandler(handler)
    try:
        with running_service(serve_options(bundle)) as running:
            def broken(*args, **kwargs):
                raise RuntimeError("something nobody expected")

            monkeypatch.setattr(running.service, "describe_tasks", broken)
            answer = running.get("/v1/tasks")
            health = running.get("/v1/health")
    finally:
        logging.getLogger("vpt.serve").removeHandler(handler)
    assert answer.status_code == 500
    assert answer.json() == {"error": "internal error (RuntimeError); the station's log has the details"}
    assert health.status_code == 200
    # The station's own log has the whole story, traceback included.
    failure = [record for record in logged if "GET /v1/tasks failed" in record.getMessage()]
    assert failure and failure[0].exc_info and "something nobody expected" in failure[0].getMessage()


# -- security -----------------------------------------------------------------------------------
def test_a_token_is_required_when_one_is_configured(bundle):
    token = "s3cret-token-0123456789abcdef"
    with running_service(serve_options(bundle, token=token)) as running:
        base = running.url
        missing = httpx.get(f"{base}/v1/health")
        wrong = httpx.get(f"{base}/v1/health", headers={"Authorization": "Bearer s3cret-token-0123456789abcdeX"})
        other_scheme = httpx.get(f"{base}/v1/tasks", headers={"Authorization": f"Basic {token}"})
        right = httpx.get(f"{base}/v1/health", headers={"Authorization": f"Bearer {token}"})
        predict = httpx.post(f"{base}/v1/predict", content=png_bytes(random_rgb(12)))
        docs = httpx.get(f"{base}/openapi.json")
    for answer in (missing, wrong, other_scheme, predict):
        assert answer.status_code == 401 and "bearer token" in answer.json()["error"]
        assert answer.headers["www-authenticate"].startswith("Bearer")
    assert right.status_code == 200
    assert docs.status_code == 200 and "/v1/predict" in docs.json()["paths"]


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "station.example"])
def test_listening_beyond_loopback_needs_a_token(bundle, host):
    with pytest.raises(ConfigError, match=f"refusing to listen on {host}: .* give --token-file FILE"):
        serve_options(bundle, host=host)
    serve_options(bundle, host=host, token="x" * 32)   # accepted with one


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_loopback_needs_no_token(bundle, host):
    serve_options(bundle, host=host)


def test_the_command_refuses_in_one_line(bundle, tmp_path):
    import subprocess
    import sys

    def run(*args):
        return subprocess.run([sys.executable, "-m", "vpt_core.cli", "serve", str(bundle), *args],
                              capture_output=True, text=True, timeout=60)

    short = tmp_path / "short.token"
    short.write_text("abc\n")
    open_host = run("--host", "0.0.0.0")
    short_token = run("--host", "0.0.0.0", "--token-file", str(short))
    no_file = run("--token-file", str(tmp_path / "missing.token"))
    bad_task = run("--task", "welds", "--port", "0")
    for done, words in ((open_host, "refusing to listen on 0.0.0.0"), (short_token, "at least 16 characters"),
                        (no_file, "missing.token: cannot read it"), (bad_task, "--task 'welds': no such task")):
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("vpt serve: error: ") and words in lines[0], done.stderr


# -- results, metrics, concurrency -----------------------------------------------------------------
def test_results_since_an_id_and_the_live_stream(bundle):
    with running_service(serve_options(bundle, results_kept=5)) as running:
        ids = [running.predict(random_rgb(20 + i)).json()["id"] for i in range(3)]
        since = running.get("/v1/results", params={"since": ids[0]}).json()
        received: list[dict] = []

        def listen():
            with httpx.stream("GET", f"{running.url}/v1/results/stream", timeout=20) as stream:
                for line in stream.iter_lines():
                    if line.startswith("data: "):
                        received.append(json.loads(line[6:]))
                        if len(received) == 2:
                            return

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        wait_until(lambda: running.service.ring._waiters, 10, what="the stream to subscribe")
        streamed = [running.predict(random_rgb(30 + i), task="variant").json()["id"] for i in range(2)]
        listener.join(20)
        for i in range(4):
            running.predict(random_rgb(40 + i))
        evicted = running.get("/v1/results", params={"since": 0}).json()
    assert ids == [1, 2, 3]
    assert [r["id"] for r in since["results"]] == [2, 3] and since["last_id"] == 3 and since["missed"] == 0
    assert [r["id"] for r in received] == streamed and all(r["task"] == "variant" for r in received)
    assert evicted["oldest_id"] == 5 and evicted["missed"] == 4 and [r["id"] for r in evicted["results"]] == \
        [5, 6, 7, 8, 9]


def test_metrics_count_results_per_task_and_label(bundle):
    with running_service(serve_options(bundle)) as first, running_service(serve_options(bundle)) as second:
        labels = [first.predict(random_rgb(50 + i), task=task).json()
                  for i, task in enumerate(["surface", "variant", "variant"])]
        first.post("/v1/predict", content=b"junk")
        text = first.get("/metrics").text
        other = second.get("/metrics").text
    counts: dict[tuple[str, str], int] = {}
    for result in labels:
        counts[(result["task"], result["label"])] = counts.get((result["task"], result["label"]), 0) + 1
    for (task, label), count in counts.items():
        assert f'vpt_results_total{{label="{label}",origin="request",task="{task}"}} {count:.1f}' in text
    assert 'vpt_http_errors_total{status="415"} 1.0' in text
    assert "vpt_predict_latency_seconds_count{origin=\"request\"} 3.0" in text
    assert "vpt_up 1.0" in text and "vpt_tasks 2.0" in text
    assert "vpt_results_total{" not in other   # each service has its own registry


def test_concurrent_requests_for_two_tasks_never_mix(bundle, reference):
    images = [random_rgb(100 + i, 30 + i, 50) for i in range(8)]
    jobs = [(index % len(images), "surface" if (index + worker) % 2 else "variant")
            for worker in range(4) for index in range(12)]
    answers: list[tuple[int, str, dict]] = []
    errors: list[str] = []
    lock = threading.Lock()

    with running_service(serve_options(bundle, max_batch=8)) as running:
        engine = running.service.engine
        runs_before, pictures_before = engine.batches, engine.images   # the start-up warm-up ran one

        def worker(my_jobs):
            with httpx.Client(base_url=running.url, timeout=60) as client:
                for image_index, task in my_jobs:
                    answer = client.post("/v1/predict", params={"task": task}, content=png_bytes(images[image_index]))
                    with lock:
                        if answer.status_code != 200:
                            errors.append(answer.text)
                        else:
                            answers.append((image_index, task, answer.json()))

        threads = [threading.Thread(target=worker, args=(jobs[w::4],)) for w in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        runs, pictures = engine.batches - runs_before, engine.images - pictures_before
    assert errors == [] and len(answers) == len(jobs)
    for image_index, task, result in answers:
        expected = alone(reference, images[image_index], task)
        assert result["task"] == task and result["label"] == expected.label
        assert list(result["probabilities"]) == list(reference.task(task).classes)
        np.testing.assert_allclose(list(result["probabilities"].values()), expected.probabilities, atol=1e-5)
    assert pictures == len(jobs) and runs <= pictures


def test_live_streams_end_at_once_when_the_service_stops(bundle):
    import time

    ended = threading.Event()
    with running_service(serve_options(bundle)) as running:
        def listen():
            with httpx.stream("GET", f"{running.url}/v1/results/stream", timeout=20) as stream:
                for _ in stream.iter_lines():
                    pass
            ended.set()

        threading.Thread(target=listen, daemon=True).start()
        wait_until(lambda: running.service.ring._waiters, 10, what="the stream to subscribe")
        stopping = time.monotonic()
    assert ended.wait(5)
    assert time.monotonic() - stopping < 2.5   # not the 3 s uvicorn would give open connections

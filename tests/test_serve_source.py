"""``vpt serve --source``: continuous inspection, and health when the camera goes away and comes back."""

from __future__ import annotations

import shutil

import pytest

pytest.importorskip("fastapi", reason="vpt serve needs the station extra (pip install 'vpt-toolkit[station]')")
pytest.importorskip("httpx", reason="the serve tests need httpx (the test extra)")

from serve_support import running_service, serve_options, wait_until  # noqa: E402
from test_export_support import copy_bundle, shared_bundle, write_mixed_images  # noqa: E402


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    return shared_bundle(tmp_path_factory)


@pytest.fixture
def bundle(shared, tmp_path):
    return copy_bundle(shared["bundle"], tmp_path / "bundle")


def source_results(running, since=0):
    return [r for r in running.get("/v1/results", params={"since": since, "limit": 1000}).json()["results"]
            if r["origin"] == "source"]


def test_frames_are_inspected_with_the_current_task(bundle, tmp_path):
    frames = tmp_path / "camera"
    write_mixed_images(frames, count_per_kind=1)
    options = serve_options(bundle, source=str(frames), source_loop=True, source_fps=20)
    with running_service(options) as running:
        first = wait_until(lambda: source_results(running), 20, what="frames from the folder")
        running.put("/v1/task", json={"name": "variant"})
        last_id = running.get("/v1/results").json()["last_id"]
        later = wait_until(lambda: source_results(running, since=last_id + 1), 20, what="frames after the switch")
        status = running.get("/v1/health").json()["source"]
        metrics = running.get("/metrics").text
    assert first[0]["task"] == "surface" and first[0]["label"].startswith("surface_")
    assert first[0]["source"] == f"image folder {frames}" and first[0]["name"].endswith((".png", ".jpg"))
    assert first[0]["task_sha256"] and isinstance(first[0]["frame"], int)
    assert all(r["task"] == "variant" for r in later)
    assert status["state"] == "running" and status["frames"] >= 2 and not status["lost"]
    assert "vpt_source_up 1.0" in metrics and "vpt_source_frames_total" in metrics


def test_health_is_503_once_the_camera_is_lost_past_its_window_and_200_when_it_is_back(bundle, tmp_path):
    frames = tmp_path / "camera"
    write_mixed_images(frames, count_per_kind=1)
    window = 0.8
    options = serve_options(bundle, source=str(frames), source_loop=True, source_fps=20,
                            source_retry_window_s=window)
    with running_service(options) as running:
        wait_until(lambda: source_results(running), 20, what="frames from the folder")
        assert running.get("/v1/health").status_code == 200
        shutil.rmtree(frames)
        lost = wait_until(lambda: (a := running.get("/v1/health")).status_code == 503 and a, 20,
                          what="health to say 503")
        metrics = running.get("/metrics").text
        still_answers = running.post("/v1/predict", content=(tmp_path / "bundle" / "README.txt").read_bytes())
        write_mixed_images(frames, count_per_kind=1)
        wait_until(lambda: running.get("/v1/health").status_code == 200, 20, what="health to recover")
        back = running.get("/v1/health").json()
    problem = lost.json()["problems"][0]
    assert lost.json()["status"] == "unavailable" and lost.json()["source"]["lost"]
    assert f"image folder {frames} has been lost for" in problem and f"retry window of {window:g} s" in problem
    assert lost.json()["source"]["lost_for_s"] >= window   # rounded to 0.01 s in the document
    assert "vpt_source_up 0.0" in metrics
    assert still_answers.status_code == 415    # HTTP predictions do not depend on the camera
    assert back["status"] == "ok" and back["source"]["state"] == "running" and back["source"]["reconnects"] >= 1


def test_a_lost_camera_within_its_window_is_not_yet_unhealthy(bundle, tmp_path):
    frames = tmp_path / "camera"
    write_mixed_images(frames, count_per_kind=1)
    options = serve_options(bundle, source=str(frames), source_loop=True, source_fps=20,
                            source_retry_window_s=60.0)
    with running_service(options) as running:
        wait_until(lambda: source_results(running), 20, what="frames from the folder")
        shutil.rmtree(frames)
        wait_until(lambda: running.get("/v1/health").json()["source"]["state"] == "lost", 20,
                   what="the source to be lost")
        health = running.get("/v1/health")
    assert health.status_code == 200 and health.json()["source"]["lost"] is False


def test_a_missing_source_is_refused_before_starting(bundle, tmp_path):
    from vpt_core.errors import VptError
    from export.runtime.serve.service import StationService

    with pytest.raises(VptError, match="is not an image folder, a video file, a camera index or a stream URL"):
        StationService(serve_options(bundle, source=str(tmp_path / "nowhere")))

"""``vpt infer`` and its frame sources: folders, videos, cameras that disappear, unreadable frames."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout

import numpy as np
import pytest

from vpt_core.errors import CameraLostError, VptError
from vpt_core.frames import CAMERA, STREAM, FrameStream, RetryPolicy, SourceSpec
from test_export_support import shared_bundle, write_mixed_images
from vpt_core.cli import main


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    return shared_bundle(tmp_path_factory)


class FakeCamera:
    """A capture that plays a script: "f" a good frame, "x" a failed read, "g" a frame OpenCV cannot convert."""

    def __init__(self, script: str):
        self.script = list(script)
        self.released = False

    def isOpened(self):
        return True

    def read(self):
        step = self.script.pop(0) if self.script else "x"
        if step == "f":
            return True, np.full((24, 32, 3), 100, np.uint8)
        if step == "g":
            return True, np.zeros((24, 32, 3), np.float64)
        return False, None

    def release(self):
        self.released = True


class Closed(FakeCamera):
    def __init__(self):
        super().__init__("")

    def isOpened(self):
        return False


def camera_factory(*captures):
    """open_capture that hands out the given captures in order (then closed ones)."""
    queue = list(captures)
    opened = []

    def open_capture(target):
        capture = queue.pop(0) if queue else Closed()
        opened.append(capture)
        return capture

    open_capture.opened = opened
    return open_capture


def test_image_folder_skips_and_counts_unreadable_files(tmp_path):
    write_mixed_images(tmp_path, count_per_kind=1)
    (tmp_path / "broken.png").write_bytes(b"not a png")
    events = []
    source = FrameStream(SourceSpec.parse(str(tmp_path)), on_event=events.append)
    frames = list(source)
    assert len(frames) == 5 and source.stats.frames == 5 and source.stats.skipped == 1
    assert "broken.png" in source.stats.reasons[0] and "broken.png" in events[0]
    assert all(frame.rgb.dtype == np.uint8 and frame.rgb.shape[2] == 3 for frame in frames)


def test_lost_camera_is_retried_with_backoff_and_reported():
    sleeps, events = [], []
    open_capture = camera_factory(FakeCamera("ffxxx"), Closed(), Closed(), FakeCamera("fff"))
    source = FrameStream(SourceSpec(CAMERA, "0"), on_event=events.append, open_capture=open_capture, sleep=sleeps.append,
                           retry=RetryPolicy(max_retries=5, first_delay_s=0.5, max_delay_s=10))
    frames = []
    for frame in source:
        frames.append(frame)
        if len(frames) == 5:
            break
    assert len(frames) == 5 and source.stats.reconnects == 1
    assert sleeps == [0.5, 1.0, 2.0]
    assert any("stopped delivering frames after 2 frames" in e for e in events)
    assert any("is back (reconnect 1)" in e for e in events)
    assert open_capture.opened[0].released  # the dead capture was released before reopening


def test_camera_that_never_returns_gives_up_with_the_figures():
    sleeps = []
    source = FrameStream(SourceSpec(CAMERA, "2"), open_capture=camera_factory(FakeCamera("fx")), sleep=sleeps.append,
                         retry=RetryPolicy(max_retries=4, first_delay_s=1.0, max_delay_s=3.0,
                                           failed_reads_before_reconnect=1))
    with pytest.raises(CameraLostError, match="camera 2 was lost and did not come back after 4 retries "
                                              "\\(1 frames read"):
        list(source)
    assert sleeps == [1.0, 2.0, 3.0, 3.0]  # doubling, capped


def test_camera_absent_at_start_is_waited_for():
    sleeps = []
    source = FrameStream(SourceSpec(CAMERA, "0"), open_capture=camera_factory(Closed(), FakeCamera("f")),
                         sleep=sleeps.append)
    assert next(iter(source)).index == 0 and sleeps == [0.5]


def test_unconvertible_frames_are_skipped_not_fatal():
    source = FrameStream(SourceSpec(STREAM, "rtsp://cam/1"), open_capture=camera_factory(FakeCamera("fgf")),
                         sleep=lambda s: None)
    frames = []
    for frame in source:
        frames.append(frame)
        if len(frames) == 2:
            break
    assert source.stats.skipped == 1 and "unsupported frame type float64" in source.stats.reasons[0]


def test_video_file_is_read_to_the_end(tmp_path):
    import cv2

    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for index in range(7):
        writer.write(np.full((48, 64, 3), index * 30, np.uint8))
    writer.release()
    source = FrameStream(SourceSpec.parse(str(path)))
    frames = list(source)
    assert len(frames) == 7 and source.stats.skipped == 0 and frames[0].rgb.shape == (48, 64, 3)


def test_source_kinds_are_recognised(tmp_path):
    assert SourceSpec.parse("0").describe() == "camera 0"
    assert SourceSpec.parse("rtsp://10.0.0.5/stream").describe() == "stream rtsp://10.0.0.5/stream"
    with pytest.raises(VptError, match="'nowhere' is not an image folder, a video file"):
        SourceSpec.parse("nowhere")
    with pytest.raises(VptError, match="the source is empty"):
        SourceSpec.parse("  ")
    (tmp_path / "bad.mp4").write_bytes(b"no video here")
    with pytest.raises(VptError, match="cannot open video"):
        list(FrameStream(SourceSpec.parse(str(tmp_path / "bad.mp4"))))


def test_vpt_infer_prints_json_lines_and_a_summary(shared, tmp_path, capsys):
    write_mixed_images(tmp_path / "frames", count_per_kind=1)
    (tmp_path / "frames" / "zz_corrupt.jpg").write_bytes(b"\xff\xd8 broken")
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["infer", str(shared["bundle"]), "--task", "variant", "--source", str(tmp_path / "frames"),
                     "--json"])
    assert code == 0
    *frames, summary = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(frames) == 5 and {f["label"] for f in frames} <= {"variant_0", "variant_1", "variant_2"}
    assert all(f["latency_ms"] > 0 and set(f["probabilities"]) == {"variant_0", "variant_1", "variant_2"}
               for f in frames)
    assert summary["frames"] == 5 and summary["skipped"] == 1 and summary["task"] == "variant"
    assert "zz_corrupt.jpg" in capsys.readouterr().err


def test_vpt_infer_text_output_and_max_frames(shared, tmp_path):
    write_mixed_images(tmp_path / "frames", count_per_kind=2)
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["infer", str(shared["bundle"]), "--task", "surface", "--source", str(tmp_path / "frames"),
                     "--max-frames", "4"])
    lines = out.getvalue().splitlines()
    assert code == 0 and len(lines) == 4
    name, label, confidence, latency = lines[0].split("\t")
    assert label.startswith("surface_") and 0 < float(confidence) <= 1 and latency.endswith(" ms")


def test_vpt_infer_reports_a_lost_camera_in_one_line_after_the_summary(shared, monkeypatch, capsys):
    monkeypatch.setattr("vpt_core.frames._opencv_capture", camera_factory(FakeCamera("ffx")))
    waits = []
    monkeypatch.setattr("vpt_core.frames._wait", lambda stop, seconds: waits.append(seconds))
    code = main(["infer", str(shared["bundle"]), "--task", "surface", "--source", "3", "--json",
                 "--max-retries", "2"])
    captured = capsys.readouterr()
    *frames, summary = [json.loads(line) for line in captured.out.splitlines()]
    assert code == 2 and len(frames) == 2 and waits == [0.5, 1.0]
    assert summary["frames"] == 2 and summary["stopped_by"].startswith("stopped: camera 3 was lost")
    last = captured.err.strip().splitlines()[-1]
    assert last.startswith("vpt infer: error: camera 3 was lost and did not come back after 2 retries")


def test_vpt_infer_unknown_task_is_one_line(shared, capsys):
    assert main(["infer", str(shared["bundle"]), "--task", "welds", "--source", "0"]) == 2
    assert "no task 'welds'" in capsys.readouterr().err

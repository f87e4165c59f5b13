"""Preview frame rate of a 640x480 image-folder camera in the app's preview (goal: 25 fps or more on 2 cores).

    python benchmarks/bench_gui_preview.py [--seconds 10]

Frames are read and converted in the preview thread and drawn by the same
PreviewView the Capture page uses; "shown" counts frames that reached the
window. Two runs: the folder played at 30 fps (as a camera would deliver) and
unthrottled (how fast the pipeline could go). Runs offscreen unless a display is set.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from _common import machine_description, qt_platform_description

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def make_frames(folder: Path, count: int) -> Path:
    import cv2

    from vpt_engine.synthetic import generate_parts

    for index, sample in enumerate(generate_parts(count, seed=3)):   # 480x640 by default
        cv2.imwrite(str(folder / f"frame_{index:03d}.png"), sample.image)
    return folder


def measure(frames: Path, fps: float, seconds: float) -> dict:
    from PySide6.QtWidgets import QApplication

    from gui.camera import RUNNING, CameraController
    from vpt_core.frames import FOLDER, SourceSpec
    from gui.widgets.preview_view import PreviewView

    app = QApplication.instance() or QApplication([])
    view = PreviewView()
    view.resize(960, 720)
    view.show()
    camera = CameraController()
    camera.frameArrived.connect(view.show_frame)
    camera.stateChanged.connect(view.set_state)
    camera.start(SourceSpec(FOLDER, str(frames), fps=fps))
    deadline = time.perf_counter() + 10
    while camera.state != RUNNING and time.perf_counter() < deadline:
        app.processEvents()
    start_count, started = view.frames_shown, time.perf_counter()
    paint_times = []
    while time.perf_counter() - started < seconds:
        before = time.perf_counter()
        app.processEvents()                       # delivers frames and paints the view
        paint_times.append(time.perf_counter() - before)
        time.sleep(0.001)
    shown = view.frames_shown - start_count
    elapsed = time.perf_counter() - started
    camera.stop()
    view.close()
    return {"target_fps": fps, "shown_fps": shown / elapsed, "frames": shown,
            "longest_event_pass_ms": 1000 * max(paint_times)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    print(f"machine: {machine_description()}; Qt platform {qt_platform_description()}, "
          f"Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as scratch:
        frames = make_frames(Path(scratch), 30)
        for fps in (30.0, 1000.0):
            result = measure(frames, fps, args.seconds)
            label = "camera at 30 fps" if fps == 30 else "unthrottled     "
            print(f"640x480 folder camera, {label}: {result['shown_fps']:.1f} fps shown "
                  f"({result['frames']} frames in {args.seconds:.0f} s), longest UI pass "
                  f"{result['longest_event_pass_ms']:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

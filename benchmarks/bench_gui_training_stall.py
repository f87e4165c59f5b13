"""Longest event-loop stall of the window while training runs (goal: under 100 ms).

    python benchmarks/bench_gui_training_stall.py [--steps 15] [--auto]

A QTimer beats every 10 ms on the window's thread; a stall is how late a beat
arrives. Training runs exactly as from the Train page (worker thread, engine
event generator turned into signals) on the demo project: synthetic parts and
the embedded model, with the demo's folder camera playing in the preview.
The first run also loads the backbone in the worker thread (included on purpose); torch and timm are
imported before the window exists, as ``vpt gui`` does (their native libraries hold Python's lock).
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
os.environ.setdefault("VPT_GUI_NO_DIALOGS", "1")

BEAT_MS = 10


class Heartbeat:
    def __init__(self):
        from PySide6.QtCore import QTimer

        self.late_ms: list[float] = []
        self.last = time.perf_counter()
        self.timer = QTimer(interval=BEAT_MS)
        self.timer.timeout.connect(self.beat)

    def beat(self) -> None:
        now = time.perf_counter()
        self.late_ms.append(max(0.0, (now - self.last) * 1000 - BEAT_MS))
        self.last = now

    def start(self) -> None:
        self.late_ms.clear()
        self.last = time.perf_counter()
        self.timer.start()


def run(steps: int, auto: bool, project_dir: Path, settings: Path) -> dict:
    from gui.app import build_window, make_application
    from gui.demo import prepare_demo
    from gui.jobs import import_engine_libraries
    from gui.settings import AppSettings

    app = make_application()
    import_engine_libraries()                   # as `vpt gui` does before its window exists
    window = build_window("en", AppSettings(settings))
    project, camera = prepare_demo(project_dir)
    window.set_project(project)
    window.resize(1280, 860)
    window.show()
    window.start_demo_camera(camera)            # the preview keeps drawing while training, as in real use
    page = window.pages["train"]
    window.show_page("train")
    page.form.steps_spin.setValue(steps)
    page.form.auto_box.setChecked(auto)
    heartbeat = Heartbeat()
    heartbeat.start()
    started = time.perf_counter()
    assert page.start(), "training did not start"
    while page.state != "idle":
        app.processEvents()
        time.sleep(0.001)
    seconds = time.perf_counter() - started
    heartbeat.timer.stop()
    window.close_project()
    late = sorted(heartbeat.late_ms)
    return {"seconds": seconds, "beats": len(late), "max_ms": late[-1], "p99_ms": late[int(0.99 * (len(late) - 1))],
            "events": page.events_seen, "run": page.last_run}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--auto", action="store_true", help="let the engine choose prompt settings first (slower)")
    args = parser.parse_args()
    print(f"machine: {machine_description()}; Qt platform {qt_platform_description()}, "
          f"Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as scratch:
        for label in ("first run (loads the backbone in the worker)", "second run (backbone cached)"):
            result = run(args.steps, args.auto, Path(scratch) / "demo", Path(scratch) / "settings.ini")
            print(f"{label}: {args.steps} steps on 40 demo images in {result['seconds']:.1f} s; "
                  f"longest UI stall {result['max_ms']:.1f} ms, 99th percentile {result['p99_ms']:.1f} ms "
                  f"over {result['beats']} beats of {BEAT_MS} ms; {result['events']} training events shown")
    return 0


if __name__ == "__main__":
    sys.exit(main())

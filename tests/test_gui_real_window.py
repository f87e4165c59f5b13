"""The app in a real X window (Xvfb, Qt's xcb platform, not offscreen): demo, training, export, live, screenshots.

`vpt gui --demo --screenshot DIR` on a 1280 x 720 X screen must produce every page, in both languages, no larger
than the screen, with the window on the screen after the project opens. .ci/run installs Xvfb, the X libraries
and a Japanese font so this runs in CI; elsewhere it is skipped with the reason.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

pytest.importorskip("PySide6")
from PIL import Image  # noqa: E402

from conftest import REPO_ROOT  # noqa: E402
from gui.system_libraries import missing_xcb_packages  # noqa: E402

SCREEN = (1280, 720)
PAGES = ("capture", "train", "evaluate", "export", "live")

pytestmark = pytest.mark.slow


@pytest.fixture
def x_display():
    """A fresh Xvfb display of 1280 x 720; Xvfb picks a free display number itself (-displayfd)."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (Debian/Ubuntu: apt-get install xvfb; .ci/run installs it)")
    missing = missing_xcb_packages()
    if missing:
        pytest.skip(f"Qt's xcb platform needs: apt-get install {' '.join(missing)} (.ci/run installs them)")
    read_end, write_end = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24",
                               "-nolisten", "tcp"], pass_fds=(write_end,), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        number = pipe.readline().strip()
    if not number:
        server.kill()
        pytest.fail("Xvfb did not start")
    yield f":{number}"
    server.terminate()
    server.wait(10)


def test_demo_trains_exports_and_goes_live_in_a_real_window_that_fits_1280x720(x_display, tmp_path):
    out = tmp_path / "shots"
    env = {**os.environ, "DISPLAY": x_display, "QT_QPA_PLATFORM": "xcb", "VPT_GUI_NO_DIALOGS": "1",
           "VPT_GUI_SETTINGS": str(tmp_path / "settings.ini"), "VPT_GUI_LOG_DIR": str(tmp_path / "logs"),
           "VPT_SCREENSHOT_EPOCHS": "1", "VPT_SCREENSHOT_PER_CLASS": "4", "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-c", "import sys; from vpt_core.cli import main; sys.exit(main(sys.argv[1:]))",
               "gui", "--demo", "--screenshot", str(out)]            # exactly `vpt gui --demo --screenshot DIR`
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stderr[-3000:]

    record = json.loads((out / "screenshots.json").read_text(encoding="utf-8"))
    assert record["trained"] and record["exported"] and record["live_result"], record
    assert record["screen"][2:] == list(SCREEN)
    x, y, width, height = record["after_open"]                        # opening the project kept it on screen
    assert x >= 0 and y >= 0 and x + width <= SCREEN[0] and y + height <= SCREEN[1], record["after_open"]
    expected = {f"{number:02d}-{key}-{language}.png" for number, key in enumerate(PAGES, start=1)
                for language in ("en", "ja")}
    assert {page["file"] for page in record["pages"]} == expected
    for page in record["pages"]:
        with Image.open(out / page["file"]) as picture:
            assert picture.size[0] <= SCREEN[0] and picture.size[1] <= SCREEN[1], page
            colours = picture.convert("L").getextrema()
            assert colours[1] - colours[0] > 50, f"{page['file']} looks blank"
        x, y, width, height = page["window"]
        assert x >= 0 and y >= 0 and x + width <= SCREEN[0] and y + height <= SCREEN[1], page

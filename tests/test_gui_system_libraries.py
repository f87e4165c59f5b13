"""Missing X11 libraries are named as Debian/Ubuntu packages in one line, before Qt aborts."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import REPO_ROOT
from gui.system_libraries import (XCB_LIBRARIES, _loadable, check_window_libraries, missing_xcb_packages,
                                  uses_xcb)
from vpt_core.errors import VptError


def test_xcb_is_detected_from_the_environment():
    assert uses_xcb({"QT_QPA_PLATFORM": "xcb"}, "linux")
    assert uses_xcb({"DISPLAY": ":0"}, "linux")
    assert not uses_xcb({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert not uses_xcb({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert not uses_xcb({}, "linux")
    assert not uses_xcb({"QT_QPA_PLATFORM": "xcb"}, "win32")


def test_missing_libraries_are_named_as_packages_in_one_line():
    absent = {"libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"}
    assert missing_xcb_packages(lambda name: name not in absent) == ["libxcb-cursor0", "libxcb-icccm4",
                                                                     "libxcb-keysyms1"]
    with pytest.raises(VptError) as raised:
        check_window_libraries({"QT_QPA_PLATFORM": "xcb"}, "linux", lambda name: name not in absent)
    message = str(raised.value)
    assert "\n" not in message and message.endswith("sudo apt-get install libxcb-cursor0 libxcb-icccm4 "
                                                    "libxcb-keysyms1")
    check_window_libraries({"QT_QPA_PLATFORM": "offscreen"}, "linux", lambda name: False)   # no window: no check


def test_the_loader_really_loads_libraries():
    assert _loadable("libc.so.6")
    assert not _loadable("libvpt-does-not-exist.so.7")
    assert len({package for _, package in XCB_LIBRARIES}) == len(XCB_LIBRARIES)


def test_vpt_gui_prints_one_line_and_exits_when_a_library_is_missing(tmp_path):
    code = ("import sys, gui.system_libraries as s\n"
            "s.XCB_LIBRARIES = s.XCB_LIBRARIES + (('libvpt-does-not-exist.so.7', 'libvpt-missing7'),)\n"
            "from vpt_core.cli import main\n"
            "sys.exit(main(['gui', sys.argv[1]]))\n")
    env = {"PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "xcb", "DISPLAY": ":99", "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "project")], capture_output=True, text=True,
                            cwd=REPO_ROOT, env=env, timeout=120)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].endswith("libvpt-missing7"), result.stderr


def test_ci_installs_every_library_the_real_window_needs():
    script = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for package in [package for _, package in XCB_LIBRARIES] + ["xvfb", "fonts-noto-cjk"]:
        assert f" {package}" in script, package
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for package in ("libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "fonts-noto-cjk"):
        assert package in readme

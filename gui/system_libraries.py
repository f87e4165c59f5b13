"""Say which system packages a real X11 window needs, before Qt fails with "no platform plugin".

Qt's xcb platform plugin (the one used under X11) links against a dozen small
X libraries that a minimal Linux install lacks. When one is missing, Qt prints
a long message about plugins that names none of them and aborts. This module
tries to load each library first and, if some are missing, says in one line
which Debian/Ubuntu packages to install. Qt-free, so it runs before Qt loads.
"""

from __future__ import annotations

import ctypes
import os
import sys
from typing import Callable

from vpt_core.errors import VptError

# Libraries the xcb plugin of PySide6 6.6-6.11 links against (from ldd of libqxcb.so), with the
# Debian/Ubuntu package that provides each.
XCB_LIBRARIES = (
    ("libxcb.so.1", "libxcb1"),
    ("libX11-xcb.so.1", "libx11-xcb1"),
    ("libxcb-cursor.so.0", "libxcb-cursor0"),
    ("libxcb-icccm.so.4", "libxcb-icccm4"),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
    ("libxcb-image.so.0", "libxcb-image0"),
    ("libxcb-render-util.so.0", "libxcb-render-util0"),
    ("libxcb-shape.so.0", "libxcb-shape0"),
    ("libxcb-randr.so.0", "libxcb-randr0"),
    ("libxcb-xfixes.so.0", "libxcb-xfixes0"),
    ("libxcb-sync.so.1", "libxcb-sync1"),
    ("libxcb-shm.so.0", "libxcb-shm0"),
    ("libxcb-xkb.so.1", "libxcb-xkb1"),
    ("libxcb-util.so.1", "libxcb-util1"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
    ("libxkbcommon.so.0", "libxkbcommon0"),
    ("libfontconfig.so.1", "libfontconfig1"),
    ("libEGL.so.1", "libegl1"),
    ("libGL.so.1", "libgl1"),
)


def _loadable(name: str) -> bool:
    try:
        ctypes.CDLL(name)
    except OSError:
        return False
    return True


def uses_xcb(environ=os.environ, platform: str = sys.platform) -> bool:
    """Whether Qt will open an X11 (xcb) window: chosen explicitly, or by default on a Linux X display."""
    if not platform.startswith("linux"):
        return False
    chosen = environ.get("QT_QPA_PLATFORM", "").split(":")[0].split(";")[0].strip()
    if chosen:
        return chosen == "xcb"
    return bool(environ.get("DISPLAY")) and not environ.get("WAYLAND_DISPLAY")


def missing_xcb_packages(loadable: Callable[[str], bool] = _loadable) -> list[str]:
    """Debian/Ubuntu packages whose libraries cannot be loaded, in a fixed order."""
    return [package for library, package in XCB_LIBRARIES if not loadable(library)]


def install_hint(packages: list[str]) -> str:
    return ("the desktop app cannot open a window: system libraries are missing; install them with: "
            f"sudo apt-get install {' '.join(packages)}")


def check_window_libraries(environ=os.environ, platform: str = sys.platform,
                           loadable: Callable[[str], bool] = _loadable) -> None:
    """Raise a one-line VptError naming the packages when an X11 window cannot work."""
    if not uses_xcb(environ, platform):
        return
    missing = missing_xcb_packages(loadable)
    if missing:
        raise VptError(install_hint(missing))

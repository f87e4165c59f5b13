"""Crash testing: kill this process at the N-th file-system step of a command.

Every step that changes what is on disk for a bundle or a task pack (creating a
temporary file, renaming it into place, moving a file in, deleting one) calls
:func:`step` first. Two environment variables, read once at import, drive it:

* ``VPT_FAULT_KILL_AT=N`` -- the N-th step (counting from 1) sends SIGKILL to
  this process before the step happens: a real, uncatchable kill, exactly like
  a power cut for every file the kernel had already been handed.
* ``VPT_FAULT_LOG=FILE`` -- each step appends ``N<TAB>what<TAB>path`` to FILE,
  so a test can count the steps of a command and loop over all of them.

Unset (the normal case), :func:`step` returns after one comparison. The
fault-injection tests (``tests/test_fault_injection.py``) kill ``vpt bundle
add-task --replace`` and ``vpt export --overwrite`` at every step and check that
the bundle still loads and serves.
"""

from __future__ import annotations

import os
import signal

_KILL_AT = int(os.environ.get("VPT_FAULT_KILL_AT", "0") or 0)
_LOG = os.environ.get("VPT_FAULT_LOG", "")
_ACTIVE = bool(_KILL_AT or _LOG)
_count = 0


def step(what: str, path: object = "") -> None:
    """A file-system change is about to happen (``what``: create, replace, move, remove, ...)."""
    if not _ACTIVE:
        return
    global _count
    _count += 1
    if _LOG:
        with open(_LOG, "a", encoding="utf-8") as log:
            log.write(f"{_count}\t{what}\t{path}\n")
    if _count == _KILL_AT:
        os.kill(os.getpid(), signal.SIGKILL)

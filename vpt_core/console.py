"""Terminal output shared by every command: JSON on stdout, progress and messages on stderr."""

from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO


def print_json(document: Any, stream: TextIO | None = None) -> None:
    stream = stream or sys.stdout
    stream.write(json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n")
    stream.flush()


def say(message: str, quiet: bool = False) -> None:
    """Human-readable progress goes to stderr so stdout stays clean for --json."""
    if not quiet:
        print(message, file=sys.stderr, flush=True)


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class ProgressBar:
    """A one-line bar on a terminal; occasional plain lines when stderr is a file or pipe."""

    def __init__(self, stream: TextIO | None = None, width: int = 30, quiet: bool = False):
        self.stream, self.width, self.quiet = stream or sys.stderr, width, quiet
        self.interactive = self.stream.isatty()
        self._last_plain = 0.0
        self._open = False

    def update(self, fraction: float, text: str) -> None:
        if self.quiet:
            return
        fraction = min(1.0, max(0.0, fraction))
        if self.interactive:
            filled = int(self.width * fraction)
            bar = "#" * filled + "." * (self.width - filled)
            self.stream.write(f"\r[{bar}] {fraction * 100:5.1f}% {text}\033[K")
            self.stream.flush()
            self._open = True
        elif time.monotonic() - self._last_plain > 5 or fraction >= 1.0:
            self._last_plain = time.monotonic()
            self.stream.write(f"{fraction * 100:5.1f}% {text}\n")
            self.stream.flush()

    def line(self, text: str) -> None:
        if self.quiet:
            return
        self.close()
        self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False

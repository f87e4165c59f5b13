"""The ``vpt`` command: one parser, sub-commands contributed by the packages that own them.

Each package declares a ``register(commands)`` function under the ``vpt.commands``
entry-point group (see ``pyproject.toml``), so this core module names no layer
above it. Registration modules import nothing heavy; each handler imports what it
needs, so ``vpt infer`` runs on a station without torch and ``vpt --help`` is
instant. Errors meant for the user (VptError) print one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import entry_points
from typing import Sequence

from . import __version__
from .errors import VptError

ENTRY_POINT_GROUP = "vpt.commands"
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


def command_registrars() -> list:
    """``register`` functions of every installed command module, in entry-point name order."""
    found = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda point: point.name)
    if not found:
        raise VptError(f"no vpt commands are installed (entry-point group {ENTRY_POINT_GROUP!r} is empty); "
                       "install the package with pip install -e .")
    return [point.load() for point in found]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vpt", description="Visual prompt tuning for inspection: train small task packs on one frozen "
                                "Vision Transformer and deploy them to inspection stations.")
    parser.add_argument("--version", action="version", version=f"vpt-toolkit {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for register in command_registrars():
        register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
    except VptError as error:
        print(f"vpt: error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USER_ERROR
    try:
        return int(args.handler(args) or 0)
    except VptError as error:
        print(f"vpt {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print(f"vpt {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

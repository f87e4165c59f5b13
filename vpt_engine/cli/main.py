"""The ``vpt`` command: one parser, sub-commands registered by each package.

Registration modules import nothing heavy; each handler imports what it needs,
so ``vpt infer`` runs on a station without torch and ``vpt --help`` is instant.
Errors meant for the user (VptError) print one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from .. import __version__
from ..errors import VptError

COMMAND_MODULES = (
    "vpt_engine.cli.engine_commands",
    "vpt_engine.cli.bench_commands",
    "export.cli",
    "gui.cli",
    "vpt_engine.cli.demo_command",
)

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vpt", description="Visual prompt tuning for inspection: train small task packs on one frozen "
                                "Vision Transformer and deploy them to inspection stations.")
    parser.add_argument("--version", action="version", version=f"vpt-toolkit {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
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

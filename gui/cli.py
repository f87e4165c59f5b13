"""``vpt gui``: the desktop app. Registration imports nothing heavy; Qt loads in the handler."""

from __future__ import annotations

import argparse


def register(commands) -> None:
    parser = commands.add_parser(
        "gui", help="open the desktop app (capture, label, train, evaluate, export, live)",
        description="Open the desktop app. With PROJECT_DIR, open that project (a new, empty folder becomes a "
                    "new project).")
    parser.add_argument("project_dir", nargs="?", metavar="PROJECT_DIR")
    parser.add_argument("--demo", action="store_true",
                        help="open the demo project (made on first use; in PROJECT_DIR if given) with a folder of "
                             "synthetic parts playing as the camera")
    parser.add_argument("--screenshot", metavar="DIR",
                        help="render each page to DIR/*.png and exit (no window is shown)")
    parser.add_argument("--lang", choices=("en", "ja"),
                        help="language (default: the one chosen last time, else the system's)")
    parser.set_defaults(handler=run_gui)


def run_gui(args: argparse.Namespace) -> int:
    if args.project_dir:  # a damaged project.json is one line on the terminal, before any window opens
        from pathlib import Path

        from .project import check_project_folder

        check_project_folder(Path(args.project_dir).expanduser())
    try:
        from .app import run
    except ImportError as error:
        from vpt_core.errors import VptError

        raise VptError(f"the desktop app needs PySide6: pip install 'vpt-toolkit[gui]' ({error})") from error
    return run(project_dir=args.project_dir, demo=args.demo, screenshot_dir=args.screenshot, language=args.lang)

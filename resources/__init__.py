"""Data files for the app: icons and translations (``translations/vpt_ja.ts`` and ``.qm``)."""

from pathlib import Path

RESOURCES_DIR = Path(__file__).resolve().parent

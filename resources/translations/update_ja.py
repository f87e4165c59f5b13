"""Refresh the Japanese catalogue: collect strings (lupdate), fill in translations, compile (lrelease).

Run after changing any text in gui/:

    python resources/translations/update_ja.py

``vpt_ja.ts`` is the translators' file (Qt Linguist opens it); ``JAPANESE``
(in ``japanese.py`` beside this file) seeds it, so a string added in the code and here is translated in one go.
A string missing here stays "unfinished" in the .ts and the test suite says so.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from japanese import JAPANESE   # the table; this file is the tool around it

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
TS_FILE = HERE / "vpt_ja.ts"
QM_FILE = HERE / "vpt_ja.qm"


def gui_sources() -> list[str]:
    return sorted(str(p) for p in (REPO / "gui").rglob("*.py"))


def run_tool(name: str, *args: str) -> None:
    tool = shutil.which(name) or str(Path(sys.executable).parent / name)
    subprocess.run([tool, *args], check=True)


def collect() -> None:
    """Update the .ts from the code; obsolete strings are dropped, existing translations kept."""
    run_tool("pyside6-lupdate", *gui_sources(), "-ts", str(TS_FILE), "-target-language", "ja_JP", "-no-obsolete",
             "-locations", "none", "-silent")


def fill() -> list[str]:
    """Write JAPANESE into every message still unfinished; return the sources left untranslated."""
    tree = ET.parse(TS_FILE)
    missing = []
    for message in tree.getroot().iter("message"):
        source = message.findtext("source")
        translation = message.find("translation")
        if source in JAPANESE:
            translation.text = JAPANESE[source]
            translation.attrib.pop("type", None)
        elif translation.get("type") == "unfinished" or not translation.text:
            missing.append(source)
    ET.indent(tree)
    with open(TS_FILE, "wb") as handle:
        handle.write(b'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n')
        tree.write(handle, encoding="utf-8", xml_declaration=False)
        handle.write(b"\n")
    return missing


def compile_catalogue() -> None:
    run_tool("pyside6-lrelease", "-silent", str(TS_FILE), "-qm", str(QM_FILE))


def main() -> int:
    collect()
    missing = fill()
    compile_catalogue()
    for source in missing:
        print(f"untranslated: {source!r}")
    print(f"{TS_FILE.name}: {len(JAPANESE)} known translations, {len(missing)} missing; wrote {QM_FILE.name}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
